//! Staff: references to branches and services, the service set, listing by
//! branch, deletion.

use super::*;

async fn create_staff_rejects_unknown_and_malformed_references(server: &common::TestServer) {
    let a = server.tenant("Salon Personal").await;
    let mut c = server.tenants();
    let before = staff_of(&mut c, &a.admin, "").await;
    let unknown = uuid::Uuid::now_v7().to_string();

    let status = invalid(
        create_staff(&mut c, &a.admin, "", staff_input(&a.branch.id, "Carl", &[&unknown])).await,
        &["staff.service_ids[0]"],
    );
    assert_eq!(description_of(&status, "staff.service_ids[0]"), "no such service");
    invalid(
        create_staff(&mut c, &a.admin, "", staff_input(&a.branch.id, "Carl", &["x"])).await,
        &["staff.service_ids[0]"],
    );
    invalid(
        create_staff(&mut c, &a.admin, "", staff_input(&a.branch.id, "Carl", &[&a.service.id, &unknown])).await,
        &["staff.service_ids[1]"],
    );
    invalid(create_staff(&mut c, &a.admin, "", staff_input(&unknown, "Carl", &[])).await, &["staff.branch_id"]);
    invalid(create_staff(&mut c, &a.admin, "", staff_input("x", "Carl", &[])).await, &["staff.branch_id"]);
    invalid(
        create_staff(&mut c, &a.admin, "", staff_input("", "", &[])).await,
        &["staff.branch_id", "staff.display_name"],
    );
    invalid(
        create_staff(
            &mut c,
            &a.admin,
            "",
            pb::Staff { email: "not-an-email".into(), ..staff_input(&a.branch.id, "Carl", &[]) },
        )
        .await,
        &["staff.email"],
    );
    assert_eq!(staff_of(&mut c, &a.admin, "").await, before, "a rejected create must not write");

    // Malformed ids on reads and writes are INVALID_ARGUMENT, not NOT_FOUND.
    invalid(get_staff(&mut c, &a.reader, "x").await, &["id"]);
    invalid(get_branch(&mut c, &a.reader, "x").await, &["id"]);
    invalid(get_service(&mut c, &a.reader, "x").await, &["id"]);
    invalid(delete_staff(&mut c, &a.admin, "x", "").await, &["id"]);
    let input = pb::Staff { id: "x".into(), display_name: "Carl".into(), ..Default::default() };
    invalid(update_staff(&mut c, &a.admin, input, &["display_name"]).await, &["staff.id"]);
    not_found(get_staff(&mut c, &a.reader, &unknown).await);
}

async fn update_staff_replaces_the_service_set(server: &common::TestServer) {
    let a = server.tenant("Salon Angebot").await;
    let mut c = server.tenants();
    let s2 = create_service(&mut c, &a.admin, "", service_input("Waschen", 15)).await.expect("service");
    let s3 = create_service(&mut c, &a.admin, "", service_input("Föhnen", 20)).await.expect("service");

    let input = pb::Staff {
        id: a.staff.id.clone(),
        display_name: "Ignored".into(),
        service_ids: strings(&[&s3.id, &s2.id, &s3.id, &s2.id]),
        etag: a.staff.etag.clone(),
        ..Default::default()
    };
    let updated = update_staff(&mut c, &a.admin, input, &["service_ids"]).await.expect("update");
    let mut expected = strings(&[&s2.id, &s3.id]);
    expected.sort();
    assert_eq!(updated.service_ids, expected, "the set is replaced, sorted and without duplicates");
    assert_eq!(updated.display_name, "Anna", "display_name was not in the mask");
    assert_eq!(updated.branch_id, a.staff.branch_id);
    assert_ne!(updated.etag, a.staff.etag);
    assert_eq!(get_staff(&mut c, &a.reader, &a.staff.id).await.expect("get"), updated);

    // An unknown service is a field violation and changes nothing.
    let input = pb::Staff {
        id: a.staff.id.clone(),
        service_ids: strings(&[&s2.id, &uuid::Uuid::now_v7().to_string()]),
        ..Default::default()
    };
    invalid(update_staff(&mut c, &a.admin, input, &["service_ids"]).await, &["staff.service_ids[1]"]);
    assert_eq!(get_staff(&mut c, &a.reader, &a.staff.id).await.expect("get"), updated, "nothing changed");

    // Other fields; an empty list clears the offer.
    let branch2 = create_branch(&mut c, &a.admin, "", branch_input("Zweigstelle", &[])).await.expect("branch");
    let input = pb::Staff {
        id: a.staff.id.clone(),
        branch_id: branch2.id.clone(),
        display_name: "Anna Berger".into(),
        email: "anna@example.com".into(),
        ..Default::default()
    };
    let moved = update_staff(&mut c, &a.admin, input, &["branch_id", "display_name", "email", "service_ids"])
        .await
        .expect("update");
    assert_eq!(moved.branch_id, branch2.id);
    assert_eq!(moved.display_name, "Anna Berger");
    assert_eq!(moved.email, "anna@example.com");
    assert!(moved.service_ids.is_empty());
    assert_ne!(moved.etag, updated.etag);

    let input = pb::Staff { id: a.staff.id.clone(), display_name: "X".into(), ..Default::default() };
    invalid(update_staff(&mut c, &a.admin, input.clone(), &[]).await, &["update_mask"]);
    invalid(update_staff(&mut c, &a.admin, input.clone(), &["etag"]).await, &["update_mask"]);
    assert_eq!(get_staff(&mut c, &a.reader, &a.staff.id).await.expect("get"), moved, "nothing changed");
}

async fn list_staff_filters_by_branch_and_binds_tokens_to_the_filter(server: &common::TestServer) {
    let a = server.tenant("Salon Filter").await;
    let mut c = server.tenants();
    let branch2 = create_branch(&mut c, &a.admin, "", branch_input("Zweigstelle", &[])).await.expect("branch");
    let b1 = create_staff(&mut c, &a.admin, "", staff_input(&branch2.id, "Bea", &[])).await.expect("staff");
    let b2 = create_staff(&mut c, &a.admin, "", staff_input(&branch2.id, "Ben", &[])).await.expect("staff");

    assert_eq!(ids(&staff_of(&mut c, &a.reader, &branch2.id).await, |s| &s.id), vec![b1.id.clone(), b2.id.clone()]);
    assert_eq!(ids(&staff_of(&mut c, &a.reader, &a.branch.id).await, |s| &s.id), vec![a.staff.id.clone()]);
    assert_eq!(
        ids(&staff_of(&mut c, &a.reader, "").await, |s| &s.id),
        vec![a.staff.id.clone(), b1.id.clone(), b2.id.clone()]
    );
    invalid(
        c.list_staff(authed(pb::ListStaffRequest { branch_id: "x".into(), ..Default::default() }, &a.reader))
            .await
            .map(|r| r.into_inner()),
        &["branch_id"],
    );

    let first = c
        .list_staff(authed(
            pb::ListStaffRequest { page_size: 1, branch_id: branch2.id.clone(), ..Default::default() },
            &a.reader,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(ids(&first.staff, |s| &s.id), vec![b1.id.clone()]);
    assert!(!first.next_page_token.is_empty());
    for other_filter in [a.branch.id.clone(), String::new()] {
        let status = invalid(
            c.list_staff(authed(
                pb::ListStaffRequest {
                    page_size: 1,
                    page_token: first.next_page_token.clone(),
                    branch_id: other_filter,
                },
                &a.reader,
            ))
            .await
            .map(|r| r.into_inner()),
            &["page_token"],
        );
        assert_eq!(reason(&status), "INVALID_ARGUMENT");
    }
    let second = c
        .list_staff(authed(
            pb::ListStaffRequest {
                page_size: 1,
                page_token: first.next_page_token.clone(),
                branch_id: branch2.id.clone(),
            },
            &a.reader,
        ))
        .await
        .expect("the token works with its own filter")
        .into_inner();
    assert_eq!(ids(&second.staff, |s| &s.id), vec![b2.id.clone()]);
    assert!(second.next_page_token.is_empty(), "the last page has no token");
}

async fn deleted_staff_is_not_found(server: &common::TestServer) {
    let a = server.tenant("Salon Abschied").await;
    let mut c = server.tenants();
    delete_staff(&mut c, &a.admin, &a.staff.id, &a.staff.etag).await.expect("delete with the current etag");
    not_found(get_staff(&mut c, &a.reader, &a.staff.id).await);
    assert!(staff_of(&mut c, &a.reader, "").await.is_empty(), "a deleted staff member vanishes from ListStaff");
    assert!(staff_of(&mut c, &a.reader, &a.branch.id).await.is_empty());
    not_found(delete_staff(&mut c, &a.admin, &a.staff.id, "").await);
    let input = pb::Staff { id: a.staff.id.clone(), display_name: "Zombie".into(), ..Default::default() };
    not_found(update_staff(&mut c, &a.admin, input, &["display_name"]).await);
    // The service and branch are untouched.
    assert_eq!(get_service(&mut c, &a.reader, &a.service.id).await.expect("service"), a.service);
    assert_eq!(get_branch(&mut c, &a.reader, &a.branch.id).await.expect("branch"), a.branch);
}

async fn create_staff_reports_unknown_services_with_other_bad_fields(server: &common::TestServer) {
    let a = server.tenant("Salon Alles").await;
    let mut c = server.tenants();
    let before = staff_of(&mut c, &a.admin, "").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let input = pb::Staff { email: "not-an-email".into(), ..staff_input(&a.branch.id, "", &[&unknown]) };
    let status = refused(create_staff(&mut c, &a.admin, "", input).await, Code::InvalidArgument);
    assert_eq!(
        sorted(violated_fields(&status)),
        fields(&["staff.display_name", "staff.email", "staff.service_ids[0]"]),
        "BUG (src/api/tenant/staff.rs create/update + src/store/staff.rs check_references): the contract \
         promises one field violation per bad field, but unknown branch/service ids are only checked inside \
         the transaction after the other violations were already returned, so they are not reported together \
         with other bad fields: {status:?}"
    );
    assert_eq!(staff_of(&mut c, &a.admin, "").await, before, "a rejected create must not write");
}

on_both_databases!(
    create_staff_rejects_unknown_and_malformed_references,
    update_staff_replaces_the_service_set,
    list_staff_filters_by_branch_and_binds_tokens_to_the_filter,
    deleted_staff_is_not_found,
    create_staff_reports_unknown_services_with_other_bad_fields,
);
