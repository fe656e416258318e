//! Etags guard every update and delete; lists page through every row once.

use super::*;

async fn every_update_bumps_the_etag_and_stale_etags_are_refused(server: &common::TestServer) {
    let a = server.tenant("Salon Version").await;
    let mut c = server.tenants();

    // Branch.
    let old = a.branch.clone();
    let rename = |name: &str, etag: &str| pb::Branch {
        id: old.id.clone(),
        display_name: name.into(),
        etag: etag.into(),
        ..Default::default()
    };
    let v2 = update_branch(&mut c, &a.admin, rename("B2", &old.etag), &["display_name"]).await.expect("update");
    assert_ne!(v2.etag, old.etag);
    let v3 = update_branch(&mut c, &a.admin, rename("B3", &v2.etag), &["display_name"]).await.expect("update");
    assert!(v3.etag != v2.etag && v3.etag != old.etag, "each update returns a new etag");
    etag_mismatch(update_branch(&mut c, &a.admin, rename("Stale", &v2.etag), &["display_name"]).await);
    etag_mismatch(delete_branch(&mut c, &a.admin, &old.id, &old.etag).await);
    assert_eq!(get_branch(&mut c, &a.reader, &old.id).await.expect("get"), v3, "stale calls change nothing");

    // Staff.
    let old = a.staff.clone();
    let rename = |name: &str, etag: &str| pb::Staff {
        id: old.id.clone(),
        display_name: name.into(),
        etag: etag.into(),
        ..Default::default()
    };
    let v2 = update_staff(&mut c, &a.admin, rename("S2", &old.etag), &["display_name"]).await.expect("update");
    assert_ne!(v2.etag, old.etag);
    let v3 = update_staff(&mut c, &a.admin, rename("S3", &v2.etag), &["display_name"]).await.expect("update");
    assert!(v3.etag != v2.etag && v3.etag != old.etag, "each update returns a new etag");
    etag_mismatch(update_staff(&mut c, &a.admin, rename("Stale", &old.etag), &["display_name"]).await);
    etag_mismatch(delete_staff(&mut c, &a.admin, &old.id, &v2.etag).await);
    assert_eq!(get_staff(&mut c, &a.reader, &old.id).await.expect("get"), v3, "stale calls change nothing");

    // Service.
    let old = a.service.clone();
    let rename = |name: &str, etag: &str| pb::Service {
        id: old.id.clone(),
        display_name: name.into(),
        etag: etag.into(),
        ..Default::default()
    };
    let v2 = update_service(&mut c, &a.admin, rename("V2", &old.etag), &["display_name"]).await.expect("update");
    assert_ne!(v2.etag, old.etag);
    let v3 = update_service(&mut c, &a.admin, rename("V3", &v2.etag), &["display_name"]).await.expect("update");
    assert!(v3.etag != v2.etag && v3.etag != old.etag, "each update returns a new etag");
    etag_mismatch(update_service(&mut c, &a.admin, rename("Stale", &old.etag), &["display_name"]).await);
    etag_mismatch(delete_service(&mut c, &a.admin, &old.id, &v2.etag).await);
    assert_eq!(get_service(&mut c, &a.reader, &old.id).await.expect("get"), v3, "stale calls change nothing");
    assert_eq!(
        get_staff(&mut c, &a.reader, &a.staff.id).await.expect("get").service_ids,
        vec![old.id.clone()],
        "a refused DeleteService leaves the staff's offer alone"
    );

    // Deletes with the current etag work.
    let staff = get_staff(&mut c, &a.reader, &a.staff.id).await.expect("get");
    delete_staff(&mut c, &a.admin, &staff.id, &staff.etag).await.expect("delete staff with current etag");
    let branch = get_branch(&mut c, &a.reader, &a.branch.id).await.expect("get");
    delete_branch(&mut c, &a.admin, &branch.id, &branch.etag).await.expect("delete branch with current etag");
    let service = get_service(&mut c, &a.reader, &a.service.id).await.expect("get");
    delete_service(&mut c, &a.admin, &service.id, &service.etag).await.expect("delete service with current etag");
}

async fn page_size_zero_means_fifty(server: &common::TestServer) {
    let a = server.tenant("Salon Viele").await;
    let mut c = server.tenants();
    for i in 0..50 {
        create_service(&mut c, &a.admin, "", service_input(&format!("Service {i}"), 30)).await.expect("create");
    }
    let all = services(&mut c, &a.reader).await;
    assert_eq!(all.len(), 51);
    let first = c
        .list_services(authed(pb::ListServicesRequest { page_size: 0, page_token: String::new() }, &a.reader))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(first.services.len(), 50, "page_size 0 means 50");
    assert!(!first.next_page_token.is_empty());
    let second = c
        .list_services(authed(pb::ListServicesRequest { page_size: 0, page_token: first.next_page_token }, &a.reader))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(second.services.len(), 1);
    assert!(second.next_page_token.is_empty());
    let walked: Vec<String> = first.services.iter().chain(second.services.iter()).map(|s| s.id.clone()).collect();
    assert_eq!(walked, ids(&all, |s| &s.id));

    // Sizes above the maximum are capped, not refused.
    let capped = c
        .list_services(authed(pb::ListServicesRequest { page_size: 10_000, page_token: String::new() }, &a.reader))
        .await
        .expect("a large page_size is capped")
        .into_inner();
    assert_eq!(capped.services.len(), 51);
}

async fn negative_page_size_is_invalid(server: &common::TestServer) {
    let a = server.tenant("Salon Negativ").await;
    let mut c = server.tenants();
    let page_size = -1;
    invalid(
        c.list_tenants(authed(pb::ListTenantsRequest { page_size, ..Default::default() }, server.platform_key()))
            .await
            .map(|r| r.into_inner()),
        &["page_size"],
    );
    invalid(
        c.list_branches(authed(pb::ListBranchesRequest { page_size, ..Default::default() }, &a.reader))
            .await
            .map(|r| r.into_inner()),
        &["page_size"],
    );
    invalid(
        c.list_staff(authed(pb::ListStaffRequest { page_size, ..Default::default() }, &a.reader))
            .await
            .map(|r| r.into_inner()),
        &["page_size"],
    );
    invalid(
        c.list_services(authed(pb::ListServicesRequest { page_size, ..Default::default() }, &a.reader))
            .await
            .map(|r| r.into_inner()),
        &["page_size"],
    );
    invalid(
        c.list_api_keys(authed(pb::ListApiKeysRequest { page_size, ..Default::default() }, &a.admin))
            .await
            .map(|r| r.into_inner()),
        &["page_size"],
    );
}

async fn list_services_pages_in_creation_order(server: &common::TestServer) {
    let (_tenant, admin) = bare_tenant(server, "Salon Seiten", "DE").await;
    let mut c = server.tenants();
    let mut created = Vec::new();
    for name in ["Eins", "Zwei", "Drei", "Vier", "Fünf"] {
        created.push(create_service(&mut c, &admin, "", service_input(name, 30)).await.expect("create").id);
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_services(authed(pb::ListServicesRequest { page_size: 2, page_token: token.clone() }, &admin))
            .await
            .expect("list")
            .into_inner();
        sizes.push(page.services.len());
        seen.extend(page.services.into_iter().map(|s| s.id));
        if page.next_page_token.is_empty() {
            break;
        }
        assert!(sizes.len() < 10, "paging does not end");
        token = page.next_page_token;
    }
    assert_eq!(seen, created, "each service exactly once, in creation order");
    assert_eq!(sizes, vec![2, 2, 1], "the last page is short and has no token");

    // Exactly a multiple of the page size: the last full page has no token.
    let page = c
        .list_services(authed(pb::ListServicesRequest { page_size: 5, page_token: String::new() }, &admin))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(page.services.len(), 5);
    assert!(page.next_page_token.is_empty(), "no token when nothing follows");
}

async fn garbage_page_tokens_are_invalid(server: &common::TestServer) {
    let a = server.tenant("Salon Müll").await;
    let mut c = server.tenants();
    create_service(&mut c, &a.admin, "", service_input("Zweiter", 30)).await.expect("create");
    let services_token = c
        .list_services(authed(pb::ListServicesRequest { page_size: 1, page_token: String::new() }, &a.reader))
        .await
        .expect("list")
        .into_inner()
        .next_page_token;
    assert!(!services_token.is_empty());
    // Undecodable, decodable-but-not-a-token, and a token of another list.
    let forged = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"hello":"world"}"#)
    };
    for token in ["garbage!", "AAAA", forged.as_str(), services_token.as_str()] {
        invalid(
            c.list_branches(authed(pb::ListBranchesRequest { page_size: 1, page_token: token.into() }, &a.reader))
                .await
                .map(|r| r.into_inner()),
            &["page_token"],
        );
        invalid(
            c.list_staff(authed(
                pb::ListStaffRequest { page_size: 1, page_token: token.into(), ..Default::default() },
                &a.reader,
            ))
            .await
            .map(|r| r.into_inner()),
            &["page_token"],
        );
        invalid(
            c.list_tenants(authed(
                pb::ListTenantsRequest { page_size: 1, page_token: token.into() },
                server.platform_key(),
            ))
            .await
            .map(|r| r.into_inner()),
            &["page_token"],
        );
    }
    for token in ["garbage!", "AAAA", forged.as_str()] {
        invalid(
            c.list_services(authed(pb::ListServicesRequest { page_size: 1, page_token: token.into() }, &a.reader))
                .await
                .map(|r| r.into_inner()),
            &["page_token"],
        );
    }
}

on_both_databases!(
    every_update_bumps_the_etag_and_stale_etags_are_refused,
    page_size_zero_means_fifty,
    negative_page_size_is_invalid,
    list_services_pages_in_creation_order,
    garbage_page_tokens_are_invalid,
);
