//! Listing and finding customers: pages by name, queries, other tenants,
//! upcoming appointments.

use super::*;

async fn list_customers_pages_by_name_and_filters_by_query(server: &TestServer) {
    let t = server.tenant("Listing").await;
    let mut c = server.appointments();
    // Created out of name order; names differ in case.
    let dora = create_customer(&mut c, &t.agent, "0151 11100004", "Dora").await;
    let bert = create_customer(&mut c, &t.agent, "0151 11100002", "bert Braun").await;
    let anna = create_customer(&mut c, &t.agent, "0151 11100001", "Anna Schmidt").await;
    let carla = create_customer(&mut c, &t.agent, "0170 2220003", "carla Abel-Zorn").await;

    let mut ids = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = c
            .list_customers(authed(
                pb::ListCustomersRequest { query: String::new(), page_size: 3, page_token: token.clone() },
                &t.reader,
            ))
            .await
            .expect("page")
            .into_inner();
        pages += 1;
        ids.extend(page.customers.into_iter().map(|c| c.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(pages, 2);
    assert_eq!(
        ids,
        vec![anna.id.clone(), bert.id.clone(), carla.id.clone(), dora.id.clone()],
        "case-insensitive name order"
    );

    assert_eq!(list_ids(&mut c, &t.reader, "AN").await.expect("name"), vec![anna.id.clone()]);
    assert_eq!(list_ids(&mut c, &t.reader, "braun").await.expect("second word"), vec![bert.id.clone()]);
    assert_eq!(list_ids(&mut c, &t.reader, "zorn").await.expect("after a hyphen"), vec![carla.id.clone()]);
    assert_eq!(list_ids(&mut c, &t.reader, "chmidt").await.expect("not a prefix"), Vec::<String>::new());
    assert_eq!(list_ids(&mut c, &t.reader, "%").await.expect("wildcards are literal"), Vec::<String>::new());
    let by_number = vec![anna.id.clone(), bert.id.clone(), dora.id.clone()];
    assert_eq!(list_ids(&mut c, &t.reader, "0151 111").await.expect("national"), by_number);
    assert_eq!(list_ids(&mut c, &t.reader, "+49 (151) 111").await.expect("international"), by_number);
    assert_eq!(list_ids(&mut c, &t.reader, "0049151-111").await.expect("international prefix"), by_number);
    assert_eq!(list_ids(&mut c, &t.reader, "0151 11100002").await.expect("whole number"), vec![bert.id.clone()]);
    assert_eq!(list_ids(&mut c, &t.reader, "0170").await.expect("other prefix"), vec![carla.id.clone()]);

    // A filtered listing pages too, and its token is bound to its query.
    let first = c
        .list_customers(authed(
            pb::ListCustomersRequest { query: "0151".into(), page_size: 2, page_token: String::new() },
            &t.reader,
        ))
        .await
        .expect("filtered page")
        .into_inner();
    assert_eq!(first.customers.len(), 2);
    let rest = c
        .list_customers(authed(
            pb::ListCustomersRequest { query: "0151".into(), page_size: 2, page_token: first.next_page_token.clone() },
            &t.reader,
        ))
        .await
        .expect("next filtered page")
        .into_inner();
    assert_eq!(rest.customers.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![dora.id.clone()]);
    assert!(rest.next_page_token.is_empty());
    let status = expect_code(
        c.list_customers(authed(
            pb::ListCustomersRequest { query: "0170".into(), page_size: 2, page_token: first.next_page_token.clone() },
            &t.reader,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["page_token"]);
    let status = expect_code(
        list_ids(&mut c, &t.reader, &"a".repeat(101)).await.map(tonic::Response::new),
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["query"]);
    let status = expect_code(
        c.list_customers(authed(pb::ListCustomersRequest { page_size: -1, ..Default::default() }, &t.reader)).await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["page_size"]);
}

async fn another_tenants_customers_are_not_found(server: &TestServer) {
    let mine = server.tenant("Mine").await;
    let theirs = server.tenant("Theirs").await;
    let mut c = server.appointments();
    let foreign = create_customer(&mut c, &theirs.agent, SPELLINGS[0], "Foreign").await;

    let get = expect_code(
        c.get_customer(authed(pb::GetCustomerRequest { id: foreign.id.clone() }, &mine.admin)).await,
        Code::NotFound,
    );
    assert_eq!(reason(&get), "RESOURCE_NOT_FOUND");
    expect_code(
        c.update_customer(authed(
            pb::UpdateCustomerRequest {
                customer: Some(pb::Customer { notes: "mine now".into(), ..foreign.clone() }),
                update_mask: mask(&["notes"]),
                region_code: String::new(),
            },
            &mine.admin,
        ))
        .await,
        Code::NotFound,
    );
    expect_code(
        c.delete_customer(authed(
            pb::DeleteCustomerRequest { id: foreign.id.clone(), etag: String::new() },
            &mine.admin,
        ))
        .await,
        Code::NotFound,
    );
    for spelling in SPELLINGS {
        expect_code(find(&mut c, &mine.reader, spelling, "").await.map(tonic::Response::new), Code::NotFound);
    }
    // Their branch is unknown here, even with a number only they have.
    expect_code(
        find(&mut c, &mine.reader, SPELLINGS[0], &theirs.branch.id).await.map(tonic::Response::new),
        Code::NotFound,
    );
    let listed = c.list_customers(authed(pb::ListCustomersRequest::default(), &mine.reader)).await.expect("list");
    assert!(listed.into_inner().customers.is_empty());

    // The same number is free in my tenant, and theirs is untouched.
    let own = create_customer(&mut c, &mine.agent, SPELLINGS[1], "Own").await;
    assert_ne!(own.id, foreign.id);
    let still = c
        .get_customer(authed(pb::GetCustomerRequest { id: foreign.id.clone() }, &theirs.reader))
        .await
        .expect("theirs");
    assert_eq!(still.into_inner().customer.expect("customer"), foreign);
    let found = find(&mut c, &mine.reader, SPELLINGS[2], "").await.expect("own");
    assert_eq!(found.customer.expect("customer").id, own.id);
    expect_code(
        stats(&mut c, &mine.reader, (2026, 6, 1), pb::StatsPeriod::Day, &theirs.branch.id)
            .await
            .map(tonic::Response::new),
        Code::NotFound,
    );
}

async fn find_by_phone_lists_at_most_ten_upcoming_open_appointments(server: &TestServer) {
    let t = server.tenant("Upcoming").await;
    let mut c = server.appointments();
    let anna = create_customer(&mut c, &t.agent, SPELLINGS[0], "Anna").await;
    let bert = create_customer(&mut c, &t.agent, "0170 1234567", "Bert").await;
    let for_anna = Booking { branch_id: &t.branch.id, staff_id: &t.staff.id, customer_id: &anna.id };
    let for_bert = Booking { branch_id: &t.branch.id, staff_id: &t.staff.id, customer_id: &bert.id };
    let now = Utc::now();

    // Not upcoming: ended, cancelled, completed, or somebody else's.
    insert_appointment(server, &t, &for_anna, now - Duration::hours(3), 60, "confirmed").await;
    insert_appointment(server, &t, &for_anna, now + Duration::hours(1), 60, "cancelled").await;
    insert_appointment(server, &t, &for_anna, now - Duration::hours(2), 30, "completed").await;
    insert_appointment(server, &t, &for_bert, now + Duration::hours(1), 60, "confirmed").await;
    // Upcoming: one under way, then eleven ahead, inserted latest first.
    let running = insert_appointment(server, &t, &for_anna, now - Duration::minutes(30), 60, "confirmed").await;
    let mut ahead = Vec::new();
    for day in (1..=11).rev() {
        let status = if day % 2 == 0 { "pending" } else { "confirmed" };
        ahead.push((day, insert_appointment(server, &t, &for_anna, now + Duration::days(day), 45, status).await));
    }
    ahead.sort();

    let found = find(&mut c, &t.reader, SPELLINGS[1], &t.branch.id).await.expect("found");
    assert_eq!(found.customer.expect("customer").id, anna.id);
    let ids: Vec<String> = found.upcoming_appointments.iter().map(|a| a.id.clone()).collect();
    let mut expected = vec![running.to_string()];
    expected.extend(ahead.iter().take(9).map(|(_, id)| id.to_string()));
    assert_eq!(ids, expected, "the one under way, then by start time, at most ten");
    assert!(found.upcoming_appointments.iter().all(|a| a.customer_id == anna.id));
    assert_eq!(found.upcoming_appointments[2].status, pb::AppointmentStatus::Pending as i32);
}

/// Renaming the last customer of a page before the next page is read moves
/// neither the listing's position nor makes it skip anyone: the token keeps
/// the name it was issued at.
async fn list_customers_paging_survives_a_rename_between_pages(server: &TestServer) {
    let t = server.tenant("Umbenannt").await;
    let mut c = server.appointments();
    let anna = create_customer(&mut c, &t.agent, "0151 11100011", "Anna").await;
    let berta = create_customer(&mut c, &t.agent, "0151 11100012", "Berta").await;
    let carla = create_customer(&mut c, &t.agent, "0151 11100013", "Carla").await;
    let page = |token: String| pb::ListCustomersRequest { query: String::new(), page_size: 1, page_token: token };

    let first = c.list_customers(authed(page(String::new()), &t.reader)).await.expect("page 1").into_inner();
    assert_eq!(first.customers.iter().map(|c| &c.id).collect::<Vec<_>>(), [&anna.id]);
    // Anna becomes Zora: by her new name she sorts after everyone.
    c.update_customer(authed(
        pb::UpdateCustomerRequest {
            customer: Some(pb::Customer { display_name: "Zora".into(), ..anna.clone() }),
            update_mask: mask(&["display_name"]),
            region_code: String::new(),
        },
        &t.agent,
    ))
    .await
    .expect("rename");

    let mut seen = Vec::new();
    let mut token = first.next_page_token;
    while !token.is_empty() {
        let next = c.list_customers(authed(page(token), &t.reader)).await.expect("next page").into_inner();
        seen.extend(next.customers.into_iter().map(|c| c.id));
        token = next.next_page_token;
        assert!(seen.len() <= 3, "the listing ends: {seen:?}");
    }
    // The rest of the listing, from where page 1 left off ("anna"): the
    // others in name order, then Anna under her new name, none skipped.
    assert_eq!(seen, [berta.id.clone(), carla.id.clone(), anna.id.clone()]);
}

on_both_databases!(
    list_customers_pages_by_name_and_filters_by_query,
    list_customers_paging_survives_a_rename_between_pages,
    another_tenants_customers_are_not_found,
    find_by_phone_lists_at_most_ten_upcoming_open_appointments,
);
