//! Creating customers: every spelling of a number is one customer, the
//! region reads national numbers, idempotency, validation, scopes.

use super::*;

async fn three_spellings_of_a_number_are_one_customer(server: &TestServer) {
    let t = server.tenant("Spellings").await;
    let mut c = server.appointments();
    let created = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna Schmidt").await;
    assert_eq!(created.phone_number, NUMBER, "stored in E.164 using the tenant's region DE");

    for (i, spelling) in SPELLINGS.iter().enumerate() {
        // Every spelling, also with the region named explicitly, is the same number.
        let region = if i == 1 { "de" } else { "" };
        let status = expect_code(
            c.create_customer(authed(
                pb::CreateCustomerRequest {
                    request_id: String::new(),
                    customer: Some(customer_input(spelling, "Someone Else")),
                    region_code: region.into(),
                },
                &t.agent,
            ))
            .await,
            Code::AlreadyExists,
        );
        assert_eq!(reason(&status), "RESOURCE_EXISTS", "{spelling}");
        assert_eq!(error_metadata(&status)["customer_id"], created.id, "{spelling}");
    }

    for spelling in SPELLINGS {
        for branch in ["", t.branch.id.as_str()] {
            let found = find(&mut c, &t.reader, spelling, branch).await.expect("found");
            assert_eq!(found.customer.expect("customer").id, created.id, "{spelling} via branch {branch:?}");
            assert!(found.upcoming_appointments.is_empty());
        }
    }

    let status =
        expect_code(find(&mut c, &t.reader, "0151 99999999", "").await.map(tonic::Response::new), Code::NotFound);
    assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    let status =
        expect_code(find(&mut c, &t.reader, "not a number", "").await.map(tonic::Response::new), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["phone_number"]);
    let status = expect_code(find(&mut c, &t.reader, "", "").await.map(tonic::Response::new), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["phone_number"]);
    let unknown_branch = Uuid::now_v7().to_string();
    expect_code(find(&mut c, &t.reader, SPELLINGS[0], &unknown_branch).await.map(tonic::Response::new), Code::NotFound);
}

async fn a_foreign_region_reads_national_numbers_in_that_region(server: &TestServer) {
    let t = server.tenant("Regions").await;
    let mut c = server.appointments();
    let customer = c
        .create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(customer_input("(201) 555-0123", "Sam")),
                region_code: "US".into(),
            },
            &t.agent,
        ))
        .await
        .expect("US number")
        .into_inner()
        .customer
        .expect("customer");
    assert_eq!(customer.phone_number, "+12015550123");
    let found = find(&mut c, &t.reader, "+1 201 555 0123", "").await.expect("found");
    assert_eq!(found.customer.expect("customer").id, customer.id);
}

async fn create_customer_is_idempotent_by_request_id(server: &TestServer) {
    let t = server.tenant("Idempotent").await;
    let mut c = server.appointments();
    let request = |name: &str| pb::CreateCustomerRequest {
        request_id: "create-anna-1".into(),
        customer: Some(customer_input(SPELLINGS[0], name)),
        region_code: String::new(),
    };
    let first = c.create_customer(authed(request("Anna"), &t.agent)).await.expect("first").into_inner();
    let retry = c.create_customer(authed(request("Anna"), &t.agent)).await.expect("retry").into_inner();
    assert_eq!(first, retry, "a retry returns the first response, not ALREADY_EXISTS");

    let status = expect_code(c.create_customer(authed(request("Bert"), &t.agent)).await, Code::InvalidArgument);
    assert_eq!(reason(&status), "REQUEST_ID_REUSED");

    let listed = c
        .list_customers(authed(pb::ListCustomersRequest::default(), &t.reader))
        .await
        .expect("list")
        .into_inner()
        .customers;
    assert_eq!(listed.len(), 1);
}

async fn create_customer_reports_every_bad_field_at_once(server: &TestServer) {
    let t = server.tenant("Validation").await;
    let mut c = server.appointments();
    let status = expect_code(
        c.create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(pb::Customer {
                    phone_number: "hello".into(),
                    display_name: "x".repeat(201),
                    email: "not-an-email".into(),
                    notes: "n".repeat(2001),
                    ..Default::default()
                }),
                region_code: String::new(),
            },
            &t.agent,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(reason(&status), "INVALID_ARGUMENT");
    assert_eq!(
        sorted(violated_fields(&status)),
        vec!["customer.display_name", "customer.email", "customer.notes", "customer.phone_number"]
    );

    let status = expect_code(
        c.create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: "bad id with spaces".into(),
                customer: Some(customer_input("", "")),
                region_code: "XX".into(),
            },
            &t.agent,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["request_id"]);

    let status = expect_code(
        c.create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(customer_input("", "")),
                region_code: "XX".into(),
            },
            &t.agent,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(sorted(violated_fields(&status)), vec!["customer.phone_number", "region_code"]);

    // An e-mail over the contract's 254 characters is refused too.
    let long_email = format!("{}@example.com", "a".repeat(250));
    let status = expect_code(
        c.create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(pb::Customer { email: long_email, ..customer_input(SPELLINGS[0], "") }),
                region_code: String::new(),
            },
            &t.agent,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["customer.email"]);

    // Nothing was written; a name is optional.
    let listed = c.list_customers(authed(pb::ListCustomersRequest::default(), &t.reader)).await.expect("list");
    assert!(listed.into_inner().customers.is_empty());
    let nameless = create_customer(&mut c, &t.agent, SPELLINGS[0], "").await;
    assert_eq!(nameless.display_name, "");
}

async fn reader_cannot_create_customers(server: &TestServer) {
    let t = server.tenant("Reader").await;
    let mut c = server.appointments();
    let status = expect_code(
        c.create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(customer_input(SPELLINGS[0], "Anna")),
                region_code: String::new(),
            },
            &t.reader,
        ))
        .await,
        Code::PermissionDenied,
    );
    assert_eq!(reason(&status), "SCOPE_INSUFFICIENT");
    let created = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna").await;
    let status = expect_code(
        c.delete_customer(authed(pb::DeleteCustomerRequest { id: created.id.clone(), etag: String::new() }, &t.agent))
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(reason(&status), "SCOPE_INSUFFICIENT", "deleting needs a tenant admin key");
    let got = c.get_customer(authed(pb::GetCustomerRequest { id: created.id.clone() }, &t.reader)).await;
    assert_eq!(got.expect("reader reads").into_inner().customer.expect("customer").id, created.id);
}

on_both_databases!(
    three_spellings_of_a_number_are_one_customer,
    a_foreign_region_reads_national_numbers_in_that_region,
    create_customer_is_idempotent_by_request_id,
    create_customer_reports_every_bad_field_at_once,
    reader_cannot_create_customers,
);
