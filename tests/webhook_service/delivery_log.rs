//! Deliveries: test events, recorded events, redelivery, listing, and the
//! worker's claims and attempts.

use super::*;

async fn test_event_is_one_pending_delivery_to_that_subscription_only(server: &TestServer) {
    let tenant = server.tenant("Salon Test").await;
    let only_customers =
        create_subscription(server, &tenant.admin, subscription("https://a.example.com/", &["customer.created"]))
            .await
            .subscription
            .unwrap();
    let other = create_subscription(server, &tenant.admin, subscription("https://b.example.com/", &[]))
        .await
        .subscription
        .unwrap();

    let event_id = send_test_event(server, &tenant.admin, &only_customers.id).await;
    let listed = deliveries_of(server, &tenant.admin, &only_customers.id).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let delivery = &listed[0];
    assert_eq!(delivery.event_id, event_id);
    assert_eq!(delivery.subscription_id, only_customers.id);
    assert_eq!(delivery.event_type, "webhook.test");
    assert_eq!(delivery.status, pb::DeliveryStatus::Pending as i32);
    assert_eq!(delivery.attempt, 1);
    assert_eq!(delivery.http_status, 0);
    assert!(delivery.latency.is_none(), "no latency while pending");
    assert!(delivery.next_attempt_time.is_none());
    assert!(delivery.attempt_time.is_some());
    assert!(deliveries_of(server, &tenant.admin, &other.id).await.is_empty(), "the test goes to one subscription");

    // The outbox holds the body the worker will send.
    let tx = server.state.store.read(tenant.tenant_id()).await.unwrap();
    let event = outbox::get(&tx, askpro::domain::ids::WebhookEventId::parse("id", &event_id).unwrap())
        .await
        .unwrap()
        .expect("outbox event");
    tx.commit().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
    assert_eq!(body["type"], "webhook.test");
    assert!(body["timestamp"].is_string());

    // Also to a DISABLED subscription.
    let mut c = server.webhooks();
    c.update_subscription(authed(
        pb::UpdateSubscriptionRequest {
            subscription: Some(pb::Subscription {
                id: other.id.clone(),
                state: pb::SubscriptionState::Disabled as i32,
                ..Default::default()
            }),
            update_mask: mask(&["state"]),
        },
        &tenant.admin,
    ))
    .await
    .expect("disable");
    send_test_event(server, &tenant.admin, &other.id).await;
    let listed = deliveries_of(server, &tenant.admin, &other.id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, pb::DeliveryStatus::Pending as i32);

    // Idempotent by request_id; unknown subscription is NOT_FOUND.
    let request = pb::SendTestEventRequest { request_id: request_id(), subscription_id: other.id.clone() };
    let first = c.send_test_event(authed(request.clone(), &tenant.admin)).await.unwrap().into_inner();
    let again = c.send_test_event(authed(request, &tenant.admin)).await.unwrap().into_inner();
    assert_eq!(first, again);
    assert_eq!(deliveries_of(server, &tenant.admin, &other.id).await.len(), 2);
    let unknown = c
        .send_test_event(authed(
            pb::SendTestEventRequest { request_id: request_id(), subscription_id: uuid::Uuid::now_v7().to_string() },
            &tenant.admin,
        ))
        .await;
    expect_code(unknown, Code::NotFound);
}

async fn recorded_events_reach_active_subscriptions_that_want_them(server: &TestServer) {
    let tenant = server.tenant("Salon Fanout").await;
    let all = create_subscription(server, &tenant.admin, subscription("https://all.example.com/", &[])).await;
    let wants =
        create_subscription(server, &tenant.admin, subscription("https://a.example.com/", &["appointment.created"]))
            .await;
    let other =
        create_subscription(server, &tenant.admin, subscription("https://c.example.com/", &["customer.created"])).await;
    let mut disabled_sub = subscription("https://d.example.com/", &[]);
    disabled_sub.state = pb::SubscriptionState::Disabled as i32;
    let disabled = create_subscription(server, &tenant.admin, disabled_sub).await;
    let deleted = create_subscription(server, &tenant.admin, subscription("https://e.example.com/", &[])).await;
    let deleted_id = deleted.subscription.unwrap().id;
    server
        .webhooks()
        .delete_subscription(authed(
            pb::DeleteSubscriptionRequest { id: deleted_id.clone(), etag: String::new() },
            &tenant.admin,
        ))
        .await
        .unwrap();
    // Another tenant's subscription never sees this tenant's events.
    let stranger = server.tenant("Salon Stranger").await;
    let foreign = create_subscription(server, &stranger.admin, subscription("https://f.example.com/", &[])).await;

    let tx = server.state.store.write(tenant.tenant_id()).await.unwrap();
    let event_id =
        outbox::record(&tx, EventType::AppointmentCreated, r#"{"type":"appointment.created"}"#, "req-1").await.unwrap();
    tx.commit().await.unwrap();

    for (sub, expected) in [(&all, 1), (&wants, 1), (&other, 0), (&disabled, 0)] {
        let id = &sub.subscription.as_ref().unwrap().id;
        let listed = deliveries_of(server, &tenant.admin, id).await;
        assert_eq!(listed.len(), expected, "{}", sub.subscription.as_ref().unwrap().url);
        if let Some(d) = listed.first() {
            assert_eq!(d.event_id, event_id.to_string());
            assert_eq!(d.event_type, "appointment.created");
        }
    }
    let foreign_id = foreign.subscription.unwrap().id;
    assert!(deliveries_of(server, &stranger.admin, &foreign_id).await.is_empty());
    let tx = server.state.store.read(tenant.tenant_id()).await.unwrap();
    assert!(
        deliveries::find(&tx, uuid::Uuid::parse_str(&deleted_id).unwrap(), event_id.0).await.unwrap().is_none(),
        "a deleted subscription gets nothing"
    );
    tx.commit().await.unwrap();
}

async fn redeliver_follows_the_contract(server: &TestServer) {
    let tenant = server.tenant("Salon Redeliver").await;
    let mut c = server.webhooks();
    let sub = create_subscription(server, &tenant.admin, subscription("https://example.com/hooks", &[]))
        .await
        .subscription
        .unwrap();
    let event_id = send_test_event(server, &tenant.admin, &sub.id).await;
    let pending = deliveries_of(server, &tenant.admin, &sub.id).await.remove(0);
    let redeliver = |request_id: String, event_id: &str| pb::RedeliverEventRequest {
        request_id,
        subscription_id: sub.id.clone(),
        event_id: event_id.into(),
    };

    // A pending attempt is moved to now, not doubled.
    let moved = c.redeliver_event(authed(redeliver(request_id(), &event_id), &tenant.admin)).await.unwrap();
    let moved = moved.into_inner().delivery.unwrap();
    assert_eq!(moved.id, pending.id);
    assert_eq!(moved.status, pb::DeliveryStatus::Pending as i32);
    assert_eq!(deliveries_of(server, &tenant.admin, &sub.id).await.len(), 1);

    // The worker's outcome: a test event is attempted once, then dead-lettered.
    let tenant_key = tenant.tenant_id();
    let tx = server.state.store.write(tenant_key).await.unwrap();
    let delivery =
        deliveries::find(&tx, uuid::Uuid::parse_str(&sub.id).unwrap(), uuid::Uuid::parse_str(&event_id).unwrap())
            .await
            .unwrap()
            .expect("delivery row");
    deliveries::record_outcome(
        &tx,
        delivery.id,
        AttemptOutcome {
            result: AttemptResult::DeadLettered,
            http_status: Some(500),
            latency: std::time::Duration::from_millis(42),
            error: "HTTP 500".into(),
            attempt_time: askpro::store::now(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let listed = deliveries_of(server, &tenant.admin, &sub.id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, pending.id, "the pending attempt became the outcome");
    assert_eq!(listed[0].status, pb::DeliveryStatus::DeadLettered as i32);
    assert_eq!(listed[0].http_status, 500);
    assert_eq!(listed[0].latency.as_ref().map(|d| d.nanos), Some(42_000_000));
    assert_eq!(listed[0].error, "HTTP 500");

    // Redelivering a finished event schedules attempt 2, due now.
    let request = redeliver(request_id(), &event_id);
    let second = c.redeliver_event(authed(request.clone(), &tenant.admin)).await.unwrap().into_inner();
    let second_attempt = second.delivery.clone().unwrap();
    assert_eq!(second_attempt.attempt, 2, "redeliveries continue the count");
    assert_eq!(second_attempt.status, pb::DeliveryStatus::Pending as i32);
    assert_ne!(second_attempt.id, pending.id);
    let retry = c.redeliver_event(authed(request, &tenant.admin)).await.unwrap().into_inner();
    assert_eq!(retry, second, "idempotent by request_id");
    let listed = deliveries_of(server, &tenant.admin, &sub.id).await;
    assert_eq!(listed.iter().map(|d| d.attempt).collect::<Vec<_>>(), vec![2, 1], "newest first");

    // Unknown event, unknown subscription: NOT_FOUND.
    let unknown =
        c.redeliver_event(authed(redeliver(request_id(), &uuid::Uuid::now_v7().to_string()), &tenant.admin)).await;
    expect_code(unknown, Code::NotFound);

    // Disabling dead-letters what is pending; redelivery to a disabled subscription is FAILED_PRECONDITION.
    c.update_subscription(authed(
        pb::UpdateSubscriptionRequest {
            subscription: Some(pb::Subscription {
                id: sub.id.clone(),
                state: pb::SubscriptionState::Disabled as i32,
                ..Default::default()
            }),
            update_mask: mask(&["state"]),
        },
        &tenant.admin,
    ))
    .await
    .unwrap();
    let listed = deliveries_of(server, &tenant.admin, &sub.id).await;
    assert_eq!(listed[0].status, pb::DeliveryStatus::DeadLettered as i32);
    assert!(!listed[0].error.is_empty());
    let refused = c.redeliver_event(authed(redeliver(request_id(), &event_id), &tenant.admin)).await;
    assert_eq!(reason(&expect_code(refused, Code::FailedPrecondition)), "FAILED_PRECONDITION");
}

async fn list_deliveries_filters_and_pages(server: &TestServer) {
    let tenant = server.tenant("Salon Log").await;
    let mut c = server.webhooks();
    let sub = create_subscription(server, &tenant.admin, subscription("https://example.com/hooks", &[]))
        .await
        .subscription
        .unwrap();
    let mut events = Vec::new();
    for _ in 0..3 {
        events.push(send_test_event(server, &tenant.admin, &sub.id).await);
    }
    let list =
        |event_id: &str, status: pb::DeliveryStatus, page_size: i32, page_token: &str| pb::ListDeliveriesRequest {
            subscription_id: sub.id.clone(),
            event_id: event_id.into(),
            status: status as i32,
            page_size,
            page_token: page_token.into(),
        };
    let one = c
        .list_deliveries(authed(list(&events[1], pb::DeliveryStatus::Unspecified, 0, ""), &tenant.admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.deliveries.len(), 1);
    assert_eq!(one.deliveries[0].event_id, events[1]);
    let none = c
        .list_deliveries(authed(list("", pb::DeliveryStatus::Succeeded, 0, ""), &tenant.admin))
        .await
        .unwrap()
        .into_inner();
    assert!(none.deliveries.is_empty());

    // Newest first, one per page, every attempt exactly once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_deliveries(authed(list("", pb::DeliveryStatus::Pending, 1, &token), &tenant.admin))
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.deliveries.into_iter().map(|d| d.event_id));
        if page.next_page_token.is_empty() {
            break;
        }
        // The token binds the filter.
        let other_filter = c
            .list_deliveries(authed(list("", pb::DeliveryStatus::Failed, 1, &page.next_page_token), &tenant.admin))
            .await;
        assert_eq!(violated_fields(&expect_code(other_filter, Code::InvalidArgument)), vec!["page_token"]);
        token = page.next_page_token;
    }
    events.reverse();
    assert_eq!(seen, events);

    let unknown = c
        .list_deliveries(authed(
            pb::ListDeliveriesRequest { subscription_id: uuid::Uuid::now_v7().to_string(), ..Default::default() },
            &tenant.admin,
        ))
        .await;
    expect_code(unknown, Code::NotFound);
    let negative = c.list_deliveries(authed(list("", pb::DeliveryStatus::Unspecified, -1, ""), &tenant.admin)).await;
    assert_eq!(violated_fields(&expect_code(negative, Code::InvalidArgument)), vec!["page_size"]);
}

/// What the delivery worker will rely on: claims lease a due delivery once,
/// a failure keeps its row and schedules the next attempt as a pending row,
/// and a redelivery restarts the retry schedule.
async fn worker_claims_and_records_attempts(server: &TestServer) {
    let tenant = server.tenant("Salon Worker").await;
    let sub = create_subscription(server, &tenant.admin, subscription("https://example.com/hooks", &[]))
        .await
        .subscription
        .unwrap();
    let tx = server.state.store.write(tenant.tenant_id()).await.unwrap();
    let event_id =
        outbox::record(&tx, EventType::CustomerCreated, r#"{"type":"customer.created"}"#, "req-7").await.unwrap();
    tx.commit().await.unwrap();

    let lease = std::time::Duration::from_secs(60);
    let platform = server.state.store.platform().await.unwrap();
    let claimed = deliveries::claim_due(&platform, lease, 10, &[], |_| true).await.unwrap();
    platform.commit().await.unwrap();
    let due = claimed.iter().find(|d| d.event.id == event_id.0).expect("the new event is due at once");
    assert_eq!(due.subscription.id.to_string(), sub.id);
    assert_eq!(due.event.request_id, "req-7");
    assert_eq!((due.attempt_number(), due.schedule_position()), (1, 0));
    let platform = server.state.store.platform().await.unwrap();
    let again = deliveries::claim_due(&platform, lease, 10, &[], |_| true).await.unwrap();
    platform.commit().await.unwrap();
    assert!(again.iter().all(|d| d.event.id != event_id.0), "a leased delivery is not claimed twice");

    let next_attempt_time = askpro::store::now() + chrono::TimeDelta::seconds(5);
    let tx = server.state.store.write(tenant.tenant_id()).await.unwrap();
    let outcome = AttemptOutcome {
        result: AttemptResult::Failed { next_attempt_time },
        http_status: None,
        latency: std::time::Duration::from_secs(15),
        error: "timeout after 15s".into(),
        attempt_time: askpro::store::now(),
    };
    deliveries::record_outcome(&tx, due.delivery.id, outcome).await.unwrap();
    tx.commit().await.unwrap();
    let listed = deliveries_of(server, &tenant.admin, &sub.id).await;
    let shape: Vec<(i32, i32)> = listed.iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(shape, vec![(2, pb::DeliveryStatus::Pending as i32), (1, pb::DeliveryStatus::Failed as i32)]);
    assert_eq!(listed[1].next_attempt_time.as_ref().map(|t| t.seconds), Some(next_attempt_time.timestamp()));
    assert_eq!(listed[1].http_status, 0);
    assert_eq!(listed[0].attempt_time.as_ref().map(|t| t.seconds), Some(next_attempt_time.timestamp()));

    // Not due yet; a redelivery moves attempt 2 to now and restarts the schedule there.
    server
        .webhooks()
        .redeliver_event(authed(
            pb::RedeliverEventRequest {
                request_id: request_id(),
                subscription_id: sub.id.clone(),
                event_id: event_id.to_string(),
            },
            &tenant.admin,
        ))
        .await
        .unwrap();
    let platform = server.state.store.platform().await.unwrap();
    let claimed = deliveries::claim_due(&platform, lease, 10, &[], |_| true).await.unwrap();
    platform.commit().await.unwrap();
    let due = claimed.iter().find(|d| d.event.id == event_id.0).expect("due after the redelivery");
    assert_eq!((due.attempt_number(), due.schedule_position()), (2, 0));
}

/// An event goes to every subscription that exists when it commits, also
/// one this replica's cached configuration has not heard of yet (written
/// through another replica, whose notification is still on its way): the
/// commit finds the tenant's subscriptions changed and the transaction runs
/// again, reading them afresh.
async fn an_event_reaches_a_subscription_the_cache_has_not_seen(server: &TestServer) {
    use sea_orm::EntityTrait;
    let tenant = server.tenant("Salon Unseen").await;
    let first = create_subscription(server, &tenant.admin, subscription("https://a.example.com/", &[]))
        .await
        .subscription
        .unwrap();
    let store = &server.state.store;
    let waiting = std::time::Instant::now();
    while !store.caches().is_active() {
        assert!(waiting.elapsed() < std::time::Duration::from_secs(3), "the caches never came into use");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // This replica also hears its own notification of the first
    // subscription, which forgets the configuration whenever it arrives:
    // read it until it stays cached.
    let cached = loop {
        let cached = store.tenant_config(tenant.tenant_id()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if store.caches().config.get(&tenant.tenant_id()).is_some() {
            break cached;
        }
        assert!(waiting.elapsed() < std::time::Duration::from_secs(5), "the configuration never stayed cached");
    };
    assert_eq!(cached.subscriptions.active.len(), 1, "the cache holds the first subscription");
    // The second one is written past this replica's change tracking, as
    // another replica's would arrive: a copy of the first with its own id.
    let first_id = uuid::Uuid::parse_str(&first.id).unwrap();
    let mut row = askpro::store::entities::subscription::Entity::find_by_id((tenant.tenant_id().0, first_id))
        .one(store.connection())
        .await
        .unwrap()
        .unwrap();
    row.id = uuid::Uuid::now_v7();
    row.url = "https://b.example.com/".into();
    let second_id = row.id.to_string();
    askpro::store::entities::subscription::Entity::insert(askpro::store::all_set::<
        askpro::store::entities::subscription::ActiveModel,
        _,
    >(row))
    .exec_without_returning(store.connection())
    .await
    .unwrap();
    let still_cached = store.caches().config.get(&tenant.tenant_id()).expect("the configuration is still cached");
    assert_eq!(still_cached.subscriptions.active.len(), 1, "the cache has not heard of the second one");

    let event_id = store
        .write_with(tenant.tenant_id(), async |tx| {
            outbox::record(tx, EventType::AppointmentCreated, r#"{"type":"appointment.created"}"#, "req-unseen").await
        })
        .await
        .unwrap();
    for id in [&first.id, &second_id] {
        let listed = deliveries_of(server, &tenant.admin, id).await;
        assert_eq!(listed.len(), 1, "subscription {id} gets the event");
        assert_eq!(listed[0].event_id, event_id.to_string());
    }
}

/// A replica with `webhook_delivery_enabled = false` only fills the outbox:
/// its due deliveries stay pending for a replica with the worker on.
async fn a_replica_without_the_worker_leaves_deliveries_pending(server: &TestServer) {
    let tenant = server.tenant("Salon No Worker").await;
    let sub = create_subscription(server, &tenant.admin, subscription("https://example.com/hooks", &[]))
        .await
        .subscription
        .unwrap();
    send_test_event(server, &tenant.admin, &sub.id).await;
    // Three of the worker's polls.
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let listed = deliveries_of(server, &tenant.admin, &sub.id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, pb::DeliveryStatus::Pending as i32, "nobody attempted it: {listed:?}");
}

/// These tests look at pending deliveries and play the worker's part
/// themselves: the server's own worker stays off, so it cannot attempt a
/// delivery first.
fn without_the_delivery_worker(config: &mut askpro::config::Config) {
    config.webhook_delivery_enabled = false;
}

on_both_databases_with!(without_the_delivery_worker;
    test_event_is_one_pending_delivery_to_that_subscription_only,
    recorded_events_reach_active_subscriptions_that_want_them,
    redeliver_follows_the_contract,
    list_deliveries_filters_and_pages,
    worker_claims_and_records_attempts,
    a_replica_without_the_worker_leaves_deliveries_pending,
    an_event_reaches_a_subscription_the_cache_has_not_seen,
);
