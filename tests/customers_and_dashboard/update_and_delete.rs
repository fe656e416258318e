//! Updating and deleting customers: masks, etags, reuse of a deleted number,
//! open appointments.

use super::*;

async fn update_customer_changes_masked_fields_and_checks_the_etag(server: &TestServer) {
    let t = server.tenant("Update").await;
    let mut c = server.appointments();
    let anna = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna").await;
    let bert = create_customer(&mut c, &t.agent, "0170 1234567", "Bert").await;

    let update = |customer: pb::Customer, paths: &[&str], region: &str| pb::UpdateCustomerRequest {
        customer: Some(customer),
        update_mask: mask(paths),
        region_code: region.into(),
    };
    // Only the masked field changes, although email is sent too.
    let renamed = c
        .update_customer(authed(
            update(
                pb::Customer {
                    display_name: "Anna Schmidt".into(),
                    email: "ignored@example.com".into(),
                    ..anna.clone()
                },
                &["display_name"],
                "",
            ),
            &t.agent,
        ))
        .await
        .expect("rename")
        .into_inner()
        .customer
        .expect("customer");
    assert_eq!(renamed.display_name, "Anna Schmidt");
    assert_eq!(renamed.email, "");
    assert_ne!(renamed.etag, anna.etag);

    // The old etag is stale now.
    let status = expect_code(
        c.update_customer(authed(
            update(pb::Customer { notes: "VIP".into(), ..anna.clone() }, &["notes"], ""),
            &t.agent,
        ))
        .await,
        Code::Aborted,
    );
    assert_eq!(reason(&status), "ETAG_MISMATCH");

    // A new number in national notation of a named region; email and notes together.
    let changed = c
        .update_customer(authed(
            update(
                pb::Customer {
                    phone_number: "0152 76543210".into(),
                    email: "anna@example.com".into(),
                    notes: "prefers mornings".into(),
                    ..renamed.clone()
                },
                &["phone_number", "email", "notes"],
                "DE",
            ),
            &t.agent,
        ))
        .await
        .expect("change number")
        .into_inner()
        .customer
        .expect("customer");
    assert_eq!(changed.phone_number, "+4915276543210");
    assert_eq!(changed.email, "anna@example.com");
    assert_eq!(changed.notes, "prefers mornings");
    assert_eq!(changed.display_name, "Anna Schmidt");
    let got = c.get_customer(authed(pb::GetCustomerRequest { id: anna.id.clone() }, &t.reader)).await.expect("get");
    assert_eq!(got.into_inner().customer.expect("customer"), changed);

    // Bert's number is taken; the error names Bert.
    let status = expect_code(
        c.update_customer(authed(
            update(
                pb::Customer { phone_number: "+49 170 1234567".into(), etag: String::new(), ..changed.clone() },
                &["phone_number"],
                "",
            ),
            &t.agent,
        ))
        .await,
        Code::AlreadyExists,
    );
    assert_eq!(reason(&status), "RESOURCE_EXISTS");
    assert_eq!(error_metadata(&status)["customer_id"], bert.id);

    // Keeping one's own number (in another spelling) is no conflict.
    c.update_customer(authed(
        update(
            pb::Customer { phone_number: "+49 152 76543210".into(), etag: String::new(), ..changed.clone() },
            &["phone_number"],
            "",
        ),
        &t.agent,
    ))
    .await
    .expect("same number");

    // Masks: required, and only the four fields.
    let status =
        expect_code(c.update_customer(authed(update(changed.clone(), &[], ""), &t.agent)).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["update_mask"]);
    let status = expect_code(
        c.update_customer(authed(update(changed.clone(), &["id"], ""), &t.agent)).await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["update_mask"]);
    // Bad values are reported together.
    let status = expect_code(
        c.update_customer(authed(
            update(
                pb::Customer {
                    phone_number: "12".into(),
                    email: "nope".into(),
                    etag: String::new(),
                    ..changed.clone()
                },
                &["phone_number", "email"],
                "",
            ),
            &t.agent,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(sorted(violated_fields(&status)), vec!["customer.email", "customer.phone_number"]);
    let unknown = pb::Customer { id: Uuid::now_v7().to_string(), etag: String::new(), ..changed.clone() };
    expect_code(c.update_customer(authed(update(unknown, &["notes"], ""), &t.agent)).await, Code::NotFound);
}

async fn deleted_customer_is_gone_and_its_number_can_be_reused(server: &TestServer) {
    let t = server.tenant("Delete").await;
    let mut c = server.appointments();
    let anna = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna").await;

    let stale = expect_code(
        c.delete_customer(authed(pb::DeleteCustomerRequest { id: anna.id.clone(), etag: "\"99\"".into() }, &t.admin))
            .await,
        Code::Aborted,
    );
    assert_eq!(reason(&stale), "ETAG_MISMATCH");
    c.delete_customer(authed(pb::DeleteCustomerRequest { id: anna.id.clone(), etag: anna.etag.clone() }, &t.admin))
        .await
        .expect("delete");

    let status = expect_code(
        c.get_customer(authed(pb::GetCustomerRequest { id: anna.id.clone() }, &t.reader)).await,
        Code::NotFound,
    );
    assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    expect_code(
        c.delete_customer(authed(pb::DeleteCustomerRequest { id: anna.id.clone(), etag: String::new() }, &t.admin))
            .await,
        Code::NotFound,
    );
    expect_code(find(&mut c, &t.reader, SPELLINGS[1], "").await.map(tonic::Response::new), Code::NotFound);
    let listed = c.list_customers(authed(pb::ListCustomersRequest::default(), &t.reader)).await.expect("list");
    assert!(listed.into_inner().customers.is_empty());

    let again = create_customer(&mut c, &t.agent, SPELLINGS[2], "Anna again").await;
    assert_ne!(again.id, anna.id);
    assert_eq!(again.phone_number, NUMBER);
}

async fn customers_with_open_appointments_cannot_be_deleted(server: &TestServer) {
    let t = server.tenant("Open appointments").await;
    let mut c = server.appointments();
    let busy = create_customer(&mut c, &t.agent, SPELLINGS[0], "Busy").await;
    let done = create_customer(&mut c, &t.agent, "0170 1234567", "Done").await;
    let now = Utc::now();
    let busy_booking = Booking { branch_id: &t.branch.id, staff_id: &t.staff.id, customer_id: &busy.id };
    insert_appointment(server, &t, &busy_booking, now + Duration::days(2), 45, "confirmed").await;
    let done_booking = Booking { branch_id: &t.branch.id, staff_id: &t.staff.id, customer_id: &done.id };
    insert_appointment(server, &t, &done_booking, now - Duration::days(2), 45, "confirmed").await;
    insert_appointment(server, &t, &done_booking, now + Duration::days(2), 45, "cancelled").await;

    let status = expect_code(
        c.delete_customer(authed(pb::DeleteCustomerRequest { id: busy.id.clone(), etag: String::new() }, &t.admin))
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&status), "FAILED_PRECONDITION");
    c.get_customer(authed(pb::GetCustomerRequest { id: busy.id.clone() }, &t.reader)).await.expect("still there");

    // Ended and cancelled appointments do not hold a customer back.
    c.delete_customer(authed(pb::DeleteCustomerRequest { id: done.id.clone(), etag: String::new() }, &t.admin))
        .await
        .expect("delete");
}

on_both_databases!(
    update_customer_changes_masked_fields_and_checks_the_etag,
    deleted_customer_is_gone_and_its_number_can_be_reused,
    customers_with_open_appointments_cannot_be_deleted,
);
