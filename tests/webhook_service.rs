//! WebhookService keeps the promises of its proto comments: subscription URLs
//! are https to public hosts, event types come from the contract's list, a
//! signing secret is shown once (and again only to a retry with the same
//! request_id), rotation keeps the old secret signing for a day, test events
//! and redeliveries land in the delivery log, provider secrets are never
//! returned, and another tenant's ids are NOT_FOUND.
mod common;

use askpro::domain::ids::{InboundEndpointId, SubscriptionId, TenantId};
use askpro::domain::webhook::{EventType, InboundEventStatus, InboundProvider};
use askpro::proto::webhook::v1 as pb;
use askpro::proto::webhook::v1::webhook_service_client::WebhookServiceClient;
use askpro::store::deliveries::{AttemptOutcome, AttemptResult};
use askpro::store::inbound_events::NewInboundEvent;
use askpro::store::{calls, deliveries, inbound_endpoints, inbound_events, outbox, subscriptions};
use common::{TestServer, authed, expect_code, reason, violated_fields};
use prost::Message;
use prost_types::FieldMask;
use tonic::Code;
use tonic::transport::Channel;

type Client = WebhookServiceClient<Channel>;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn client(server: &TestServer) -> Client {
    WebhookServiceClient::new(server.channel.clone())
}

fn tenant_id(id: &str) -> TenantId {
    TenantId(uuid::Uuid::parse_str(id).expect("tenant id"))
}

fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn subscription(url: &str, event_types: &[&str]) -> pb::Subscription {
    pb::Subscription {
        url: url.into(),
        event_types: event_types.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    }
}

async fn create_subscription(server: &TestServer, key: &str, sub: pb::Subscription) -> pb::CreateSubscriptionResponse {
    client(server)
        .create_subscription(authed(
            pb::CreateSubscriptionRequest { request_id: request_id(), subscription: Some(sub) },
            key,
        ))
        .await
        .expect("create subscription")
        .into_inner()
}

async fn deliveries_of(server: &TestServer, key: &str, subscription_id: &str) -> Vec<pb::Delivery> {
    client(server)
        .list_deliveries(authed(
            pb::ListDeliveriesRequest { subscription_id: subscription_id.into(), ..Default::default() },
            key,
        ))
        .await
        .expect("list deliveries")
        .into_inner()
        .deliveries
}

async fn send_test_event(server: &TestServer, key: &str, subscription_id: &str) -> String {
    client(server)
        .send_test_event(authed(
            pb::SendTestEventRequest { request_id: request_id(), subscription_id: subscription_id.into() },
            key,
        ))
        .await
        .expect("send test event")
        .into_inner()
        .event_id
}

async fn create_endpoint(
    server: &TestServer,
    key: &str,
    provider: pb::InboundProvider,
    secret: &str,
) -> pb::InboundEndpoint {
    client(server)
        .create_inbound_endpoint(authed(
            pb::CreateInboundEndpointRequest {
                request_id: request_id(),
                endpoint: Some(pb::InboundEndpoint {
                    provider: provider as i32,
                    display_name: "Cal.com main account".into(),
                    ..Default::default()
                }),
                secret: secret.into(),
            },
            key,
        ))
        .await
        .expect("create inbound endpoint")
        .into_inner()
        .endpoint
        .expect("endpoint")
}

// ---------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------

async fn subscription_crud_round_trips(server: &TestServer) {
    let tenant = server.tenant("Salon Hooks").await;
    let mut c = client(server);
    let created =
        create_subscription(server, &tenant.admin, subscription("https://example.com/hooks", &["appointment.created"]))
            .await;
    let sub = created.subscription.expect("subscription");
    assert_eq!(sub.state, pb::SubscriptionState::Active as i32, "unspecified state means ACTIVE");
    assert_eq!(sub.event_types, vec!["appointment.created"]);
    assert!(sub.disabled_reason.is_empty());
    assert!(!sub.etag.is_empty());

    let got = c
        .get_subscription(authed(pb::GetSubscriptionRequest { id: sub.id.clone() }, &tenant.admin))
        .await
        .expect("get")
        .into_inner()
        .subscription
        .expect("subscription");
    assert_eq!(got, sub);

    // Update url and event types; a stale etag is ABORTED.
    let updated = c
        .update_subscription(authed(
            pb::UpdateSubscriptionRequest {
                subscription: Some(pb::Subscription {
                    id: sub.id.clone(),
                    etag: sub.etag.clone(),
                    url: "https://hooks.example.org/askpro".into(),
                    event_types: vec![],
                    description: "ignored: not in the mask".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["url", "event_types"]),
            },
            &tenant.admin,
        ))
        .await
        .expect("update")
        .into_inner()
        .subscription
        .expect("subscription");
    assert_eq!(updated.url, "https://hooks.example.org/askpro");
    assert!(updated.event_types.is_empty(), "empty means all");
    assert!(updated.description.is_empty());
    assert_ne!(updated.etag, sub.etag);
    let stale = c
        .update_subscription(authed(
            pb::UpdateSubscriptionRequest {
                subscription: Some(pb::Subscription {
                    id: sub.id.clone(),
                    etag: sub.etag.clone(),
                    description: "x".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["description"]),
            },
            &tenant.admin,
        ))
        .await;
    assert_eq!(reason(&expect_code(stale, Code::Aborted)), "ETAG_MISMATCH");
    let bad_mask = c
        .update_subscription(authed(
            pb::UpdateSubscriptionRequest {
                subscription: Some(pb::Subscription { id: sub.id.clone(), ..Default::default() }),
                update_mask: mask(&["secret"]),
            },
            &tenant.admin,
        ))
        .await;
    assert_eq!(violated_fields(&expect_code(bad_mask, Code::InvalidArgument)), vec!["update_mask"]);

    // Disable, then re-enable: disabled_reason is set, then cleared.
    let set_state = |state: pb::SubscriptionState| pb::UpdateSubscriptionRequest {
        subscription: Some(pb::Subscription { id: sub.id.clone(), state: state as i32, ..Default::default() }),
        update_mask: mask(&["state"]),
    };
    let disabled = c
        .update_subscription(authed(set_state(pb::SubscriptionState::Disabled), &tenant.admin))
        .await
        .expect("disable")
        .into_inner()
        .subscription
        .expect("subscription");
    assert_eq!(disabled.state, pb::SubscriptionState::Disabled as i32);
    assert!(!disabled.disabled_reason.is_empty());
    let enabled = c
        .update_subscription(authed(set_state(pb::SubscriptionState::Active), &tenant.admin))
        .await
        .expect("enable")
        .into_inner()
        .subscription
        .expect("subscription");
    assert_eq!(enabled.state, pb::SubscriptionState::Active as i32);
    assert!(enabled.disabled_reason.is_empty());

    // Two more, listed oldest first across pages.
    let second = create_subscription(server, &tenant.admin, subscription("https://b.example.com/", &[])).await;
    let third = create_subscription(server, &tenant.admin, subscription("https://c.example.com/", &[])).await;
    let first_page = c
        .list_subscriptions(authed(
            pb::ListSubscriptionsRequest { page_size: 2, page_token: String::new() },
            &tenant.admin,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(first_page.subscriptions.len(), 2);
    assert_eq!(first_page.subscriptions[0].id, sub.id);
    let second_page = c
        .list_subscriptions(authed(
            pb::ListSubscriptionsRequest { page_size: 2, page_token: first_page.next_page_token.clone() },
            &tenant.admin,
        ))
        .await
        .expect("list page 2")
        .into_inner();
    assert_eq!(second_page.subscriptions.len(), 1);
    assert_eq!(second_page.subscriptions[0].id, third.subscription.as_ref().unwrap().id);
    assert!(second_page.next_page_token.is_empty());

    // Delete (soft): gone from get and list, with an etag check.
    let second_id = second.subscription.unwrap().id;
    let wrong_etag = c
        .delete_subscription(authed(
            pb::DeleteSubscriptionRequest { id: second_id.clone(), etag: "\"999\"".into() },
            &tenant.admin,
        ))
        .await;
    expect_code(wrong_etag, Code::Aborted);
    c.delete_subscription(authed(
        pb::DeleteSubscriptionRequest { id: second_id.clone(), etag: String::new() },
        &tenant.admin,
    ))
    .await
    .expect("delete");
    let gone = c.get_subscription(authed(pb::GetSubscriptionRequest { id: second_id.clone() }, &tenant.admin)).await;
    assert_eq!(reason(&expect_code(gone, Code::NotFound)), "RESOURCE_NOT_FOUND");
    let listed = c
        .list_subscriptions(authed(pb::ListSubscriptionsRequest::default(), &tenant.admin))
        .await
        .expect("list")
        .into_inner()
        .subscriptions;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|s| s.id != second_id));
}

async fn subscription_validation_names_the_fields(server: &TestServer) {
    let tenant = server.tenant("Salon Strict").await;
    let attempt = |sub: pb::Subscription, request_id: String| {
        let mut c = client(server);
        let key = tenant.admin.clone();
        async move {
            c.create_subscription(authed(pb::CreateSubscriptionRequest { request_id, subscription: Some(sub) }, &key))
                .await
        }
    };
    let refused_urls = [
        "http://example.com/hooks",
        "https://10.0.0.7/hooks",
        "https://192.168.1.20/",
        "https://172.16.5.5/",
        "https://100.64.1.1/",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/",
        "https://[fd12::1]/",
        "https://127.0.0.1/",
        "http://127.0.0.1:8080/",
        "https://localhost/",
        "not a url",
        "",
    ];
    for url in refused_urls {
        let status = expect_code(attempt(subscription(url, &[]), request_id()).await, Code::InvalidArgument);
        assert_eq!(violated_fields(&status), vec!["subscription.url"], "{url}");
        assert_eq!(reason(&status), "INVALID_ARGUMENT");
    }
    let too_long = format!("https://example.com/{}", "a".repeat(2040));
    let status = expect_code(attempt(subscription(&too_long, &[]), request_id()).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["subscription.url"]);

    // Every bad field at once; webhook.test cannot be subscribed to.
    let mut sub = subscription("ftp://example.com/", &["appointment.created", "appointment.deleted", "webhook.test"]);
    sub.description = "d".repeat(501);
    let status = expect_code(attempt(sub, request_id()).await, Code::InvalidArgument);
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "subscription.description",
            "subscription.event_types[1]",
            "subscription.event_types[2]",
            "subscription.url",
        ]
    );

    // request_id is required here.
    let status =
        expect_code(attempt(subscription("https://example.com/", &[]), String::new()).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["request_id"]);

    // Nothing was written.
    let listed = client(server)
        .list_subscriptions(authed(pb::ListSubscriptionsRequest::default(), &tenant.admin))
        .await
        .expect("list")
        .into_inner();
    assert!(listed.subscriptions.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_loopback_urls_need_the_server_setting() {
    let server = TestServer::start_with(common::Backend::Sqlite, |config| config.webhook_allow_http_loopback = true)
        .await
        .expect("sqlite always runs");
    let tenant = server.tenant("Salon Dev").await;
    for url in ["http://127.0.0.1:8080/hook", "http://localhost:9000/hook", "http://[::1]/hook"] {
        let created = create_subscription(&server, &tenant.admin, subscription(url, &[])).await;
        assert_eq!(created.subscription.unwrap().url, url);
    }
    // Loopback only: private addresses and plain http elsewhere stay refused.
    for url in ["http://10.0.0.1/", "http://example.com/", "https://192.168.0.1/"] {
        let result = client(&server)
            .create_subscription(authed(
                pb::CreateSubscriptionRequest { request_id: request_id(), subscription: Some(subscription(url, &[])) },
                &tenant.admin,
            ))
            .await;
        assert_eq!(violated_fields(&expect_code(result, Code::InvalidArgument)), vec!["subscription.url"], "{url}");
    }
    server.stop().await;
}

async fn secret_is_shown_once_and_a_retry_returns_the_same(server: &TestServer) {
    let tenant = server.tenant("Salon Secret").await;
    let mut c = client(server);
    let request = pb::CreateSubscriptionRequest {
        request_id: request_id(),
        subscription: Some(subscription("https://example.com/hooks", &[])),
    };
    let first = c.create_subscription(authed(request.clone(), &tenant.admin)).await.expect("create").into_inner();
    let key = first.secret.strip_prefix("whsec_").expect("whsec_ secret");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(key).expect("base64");
    assert_eq!(bytes.len(), 32);

    let retry = c.create_subscription(authed(request.clone(), &tenant.admin)).await.expect("retry").into_inner();
    assert_eq!(retry, first, "a retry with the same request_id returns the first response, secret included");

    let mut changed = request.clone();
    changed.subscription.as_mut().unwrap().url = "https://other.example.com/".into();
    let reused = c.create_subscription(authed(changed, &tenant.admin)).await;
    assert_eq!(reason(&expect_code(reused, Code::InvalidArgument)), "REQUEST_ID_REUSED");

    // Never again: not in Get, List, Update.
    let id = first.subscription.unwrap().id;
    let got = c.get_subscription(authed(pb::GetSubscriptionRequest { id: id.clone() }, &tenant.admin)).await.unwrap();
    assert!(!contains(&got.into_inner().encode_to_vec(), first.secret.as_bytes()));
    let listed = c.list_subscriptions(authed(pb::ListSubscriptionsRequest::default(), &tenant.admin)).await.unwrap();
    let listed = listed.into_inner();
    assert_eq!(listed.subscriptions.len(), 1, "the retry created nothing");
    assert!(!contains(&listed.encode_to_vec(), first.secret.as_bytes()));
    assert!(!contains(&listed.encode_to_vec(), key.as_bytes()));
}

async fn rotation_keeps_the_previous_secret_for_a_day(server: &TestServer) {
    let tenant = server.tenant("Salon Rotate").await;
    let mut c = client(server);
    let created = create_subscription(server, &tenant.admin, subscription("https://example.com/hooks", &[])).await;
    let sub = created.subscription.unwrap();
    let request = pb::RotateSubscriptionSecretRequest { id: sub.id.clone(), request_id: request_id() };
    let rotated = c.rotate_subscription_secret(authed(request.clone(), &tenant.admin)).await.unwrap().into_inner();
    assert!(rotated.secret.starts_with("whsec_"));
    assert_ne!(rotated.secret, created.secret);
    let expire = rotated.previous_secret_expire_time.expect("previous secret expiry").seconds;
    let in_a_day = chrono::Utc::now().timestamp() + 24 * 3600;
    assert!((expire - in_a_day).abs() < 60, "expires 24 hours from now");
    assert_ne!(rotated.subscription.as_ref().unwrap().etag, sub.etag);

    // A retry returns the same new secret and rotates nothing more.
    let again = c.rotate_subscription_secret(authed(request, &tenant.admin)).await.unwrap().into_inner();
    assert_eq!(again, rotated);

    // Both secrets sign now; a second rotation drops the oldest at once.
    let store = &server.state.store;
    let id = SubscriptionId::parse("id", &sub.id).unwrap();
    let tx = store.read(tenant_id(&tenant.id)).await.unwrap();
    let row = subscriptions::get(&tx, id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(subscriptions::signing_secrets(&row, chrono::Utc::now()), vec![&rotated.secret, &created.secret]);
    let after_a_day = chrono::Utc::now() + chrono::TimeDelta::hours(25);
    assert_eq!(subscriptions::signing_secrets(&row, after_a_day), vec![&rotated.secret]);

    let third = c
        .rotate_subscription_secret(authed(
            pb::RotateSubscriptionSecretRequest { id: sub.id.clone(), request_id: request_id() },
            &tenant.admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let tx = store.read(tenant_id(&tenant.id)).await.unwrap();
    let row = subscriptions::get(&tx, id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(subscriptions::signing_secrets(&row, chrono::Utc::now()), vec![&third.secret, &rotated.secret]);

    let unknown = c
        .rotate_subscription_secret(authed(
            pb::RotateSubscriptionSecretRequest { id: uuid::Uuid::now_v7().to_string(), request_id: request_id() },
            &tenant.admin,
        ))
        .await;
    expect_code(unknown, Code::NotFound);
}

// ---------------------------------------------------------------------------
// Deliveries
// ---------------------------------------------------------------------------

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
    let tx = server.state.store.read(tenant_id(&tenant.id)).await.unwrap();
    let event = outbox::get(&tx, askpro::domain::ids::WebhookEventId::parse("id", &event_id).unwrap())
        .await
        .unwrap()
        .expect("outbox event");
    tx.commit().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
    assert_eq!(body["type"], "webhook.test");
    assert!(body["timestamp"].is_string());

    // Also to a DISABLED subscription.
    let mut c = client(server);
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
    client(server)
        .delete_subscription(authed(
            pb::DeleteSubscriptionRequest { id: deleted_id.clone(), etag: String::new() },
            &tenant.admin,
        ))
        .await
        .unwrap();
    // Another tenant's subscription never sees this tenant's events.
    let stranger = server.tenant("Salon Stranger").await;
    let foreign = create_subscription(server, &stranger.admin, subscription("https://f.example.com/", &[])).await;

    let tx = server.state.store.write(tenant_id(&tenant.id)).await.unwrap();
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
    let tx = server.state.store.read(tenant_id(&tenant.id)).await.unwrap();
    assert!(
        deliveries::find(&tx, uuid::Uuid::parse_str(&deleted_id).unwrap(), event_id.0).await.unwrap().is_none(),
        "a deleted subscription gets nothing"
    );
    tx.commit().await.unwrap();
}

async fn redeliver_follows_the_contract(server: &TestServer) {
    let tenant = server.tenant("Salon Redeliver").await;
    let mut c = client(server);
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
    let tenant_key = tenant_id(&tenant.id);
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
    let mut c = client(server);
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
    let tx = server.state.store.write(tenant_id(&tenant.id)).await.unwrap();
    let event_id =
        outbox::record(&tx, EventType::CustomerCreated, r#"{"type":"customer.created"}"#, "req-7").await.unwrap();
    tx.commit().await.unwrap();

    let lease = std::time::Duration::from_secs(60);
    let platform = server.state.store.platform().await.unwrap();
    let claimed = deliveries::claim_due(&platform, lease, 10).await.unwrap();
    platform.commit().await.unwrap();
    let due = claimed.iter().find(|d| d.event.id == event_id.0).expect("the new event is due at once");
    assert_eq!(due.subscription.id.to_string(), sub.id);
    assert_eq!(due.event.request_id, "req-7");
    assert_eq!((due.attempt_number(), due.schedule_position()), (1, 0));
    let platform = server.state.store.platform().await.unwrap();
    let again = deliveries::claim_due(&platform, lease, 10).await.unwrap();
    platform.commit().await.unwrap();
    assert!(again.iter().all(|d| d.event.id != event_id.0), "a leased delivery is not claimed twice");

    let next_attempt_time = askpro::store::now() + chrono::TimeDelta::seconds(5);
    let tx = server.state.store.write(tenant_id(&tenant.id)).await.unwrap();
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
    client(server)
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
    let claimed = deliveries::claim_due(&platform, lease, 10).await.unwrap();
    platform.commit().await.unwrap();
    let due = claimed.iter().find(|d| d.event.id == event_id.0).expect("due after the redelivery");
    assert_eq!((due.attempt_number(), due.schedule_position()), (2, 0));
}

// ---------------------------------------------------------------------------
// Inbound endpoints and their inbox
// ---------------------------------------------------------------------------

async fn inbound_endpoint_crud_never_returns_the_secret(server: &TestServer) {
    let tenant = server.tenant("Salon Inbound").await;
    let mut c = client(server);
    let secret = "calcom-webhook-secret-7f3a9c";
    let request = pb::CreateInboundEndpointRequest {
        request_id: request_id(),
        endpoint: Some(pb::InboundEndpoint {
            provider: pb::InboundProvider::Calcom as i32,
            display_name: "Cal.com main account".into(),
            ..Default::default()
        }),
        secret: secret.into(),
    };
    let created = c.create_inbound_endpoint(authed(request.clone(), &tenant.admin)).await.unwrap().into_inner();
    assert!(!contains(&created.encode_to_vec(), secret.as_bytes()));
    let endpoint = created.endpoint.clone().unwrap();
    assert_eq!(endpoint.provider, pb::InboundProvider::Calcom as i32);
    let token = endpoint.path.strip_prefix("/webhooks/inbound/").expect("path prefix");
    assert!(token.len() >= 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let retry = c.create_inbound_endpoint(authed(request, &tenant.admin)).await.unwrap().into_inner();
    assert_eq!(retry, created, "idempotent: the same endpoint and path");

    // The inbound route finds it by its token across tenants, with its secret.
    let platform = server.state.store.platform_read().await.unwrap();
    let found = inbound_endpoints::find_by_path_token(&platform, token).await.unwrap().expect("found by token");
    platform.commit().await.unwrap();
    assert_eq!(found.tenant_id.to_string(), tenant.id);
    assert_eq!(found.secret, secret);
    assert!(!format!("{found:?}").contains(secret), "Debug output must not show the secret");

    let got = c
        .get_inbound_endpoint(authed(pb::GetInboundEndpointRequest { id: endpoint.id.clone() }, &tenant.admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.endpoint.as_ref(), Some(&endpoint));
    let listed = c
        .list_inbound_endpoints(authed(pb::ListInboundEndpointsRequest::default(), &tenant.admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.endpoints, vec![endpoint.clone()]);
    assert!(!contains(&listed.encode_to_vec(), secret.as_bytes()));

    // Rename; then replace only the secret (empty mask); the path stays.
    let renamed = c
        .update_inbound_endpoint(authed(
            pb::UpdateInboundEndpointRequest {
                endpoint: Some(pb::InboundEndpoint {
                    id: endpoint.id.clone(),
                    etag: endpoint.etag.clone(),
                    display_name: "Cal.com backup".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["display_name"]),
                secret: String::new(),
            },
            &tenant.admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .endpoint
        .unwrap();
    assert_eq!(renamed.display_name, "Cal.com backup");
    assert_eq!(renamed.path, endpoint.path);
    let new_secret = "rotated-by-calcom-55";
    let rekeyed = c
        .update_inbound_endpoint(authed(
            pb::UpdateInboundEndpointRequest {
                endpoint: Some(pb::InboundEndpoint { id: endpoint.id.clone(), ..Default::default() }),
                update_mask: None,
                secret: new_secret.into(),
            },
            &tenant.admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!contains(&rekeyed.encode_to_vec(), new_secret.as_bytes()));
    assert_ne!(rekeyed.endpoint.as_ref().unwrap().etag, renamed.etag);
    let platform = server.state.store.platform_read().await.unwrap();
    let found = inbound_endpoints::find_by_path_token(&platform, token).await.unwrap().unwrap();
    platform.commit().await.unwrap();
    assert_eq!(found.secret, new_secret, "the old secret stops verifying at once");

    let nothing = c
        .update_inbound_endpoint(authed(
            pb::UpdateInboundEndpointRequest {
                endpoint: Some(pb::InboundEndpoint { id: endpoint.id.clone(), ..Default::default() }),
                update_mask: None,
                secret: String::new(),
            },
            &tenant.admin,
        ))
        .await;
    assert_eq!(violated_fields(&expect_code(nothing, Code::InvalidArgument)), vec!["update_mask"]);
    let immutable = c
        .update_inbound_endpoint(authed(
            pb::UpdateInboundEndpointRequest {
                endpoint: Some(pb::InboundEndpoint { id: endpoint.id.clone(), ..Default::default() }),
                update_mask: mask(&["provider"]),
                secret: String::new(),
            },
            &tenant.admin,
        ))
        .await;
    assert_eq!(violated_fields(&expect_code(immutable, Code::InvalidArgument)), vec!["update_mask"]);

    // Delete: Get is NOT_FOUND and the path no longer resolves.
    c.delete_inbound_endpoint(authed(
        pb::DeleteInboundEndpointRequest { id: endpoint.id.clone(), etag: String::new() },
        &tenant.admin,
    ))
    .await
    .unwrap();
    let gone =
        c.get_inbound_endpoint(authed(pb::GetInboundEndpointRequest { id: endpoint.id.clone() }, &tenant.admin)).await;
    expect_code(gone, Code::NotFound);
    let platform = server.state.store.platform_read().await.unwrap();
    assert!(inbound_endpoints::find_by_path_token(&platform, token).await.unwrap().is_none());
    platform.commit().await.unwrap();
}

async fn inbound_endpoint_validation_never_echoes_the_secret(server: &TestServer) {
    let tenant = server.tenant("Salon Inbound Strict").await;
    let mut c = client(server);
    let create = |provider: pb::InboundProvider, display_name: String, secret: &str| pb::CreateInboundEndpointRequest {
        request_id: request_id(),
        endpoint: Some(pb::InboundEndpoint { provider: provider as i32, display_name, ..Default::default() }),
        secret: secret.into(),
    };
    let cases = [
        (create(pb::InboundProvider::Unspecified, String::new(), "s3cret-value"), vec!["endpoint.provider"]),
        (create(pb::InboundProvider::Calcom, String::new(), ""), vec!["secret"]),
        (create(pb::InboundProvider::Retell, String::new(), &"k".repeat(257)), vec!["secret"]),
        (create(pb::InboundProvider::StandardWebhooks, String::new(), "not-a-whsec-secret"), vec!["secret"]),
        (create(pb::InboundProvider::Calcom, "n".repeat(201), "s3cret-value"), vec!["endpoint.display_name"]),
    ];
    for (request, fields) in cases {
        let secret = request.secret.clone();
        let status =
            expect_code(c.create_inbound_endpoint(authed(request, &tenant.admin)).await, Code::InvalidArgument);
        assert_eq!(violated_fields(&status), fields);
        if !secret.is_empty() {
            assert!(!status.message().contains(&secret), "the error must not echo the secret");
            assert!(!contains(status.details(), secret.as_bytes()), "the details must not echo the secret");
        }
    }
    let ok = c
        .create_inbound_endpoint(authed(
            create(pb::InboundProvider::StandardWebhooks, String::new(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            &tenant.admin,
        ))
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

async fn inbox_deduplicates_and_lists_newest_first(server: &TestServer) {
    let tenant = server.tenant("Salon Inbox").await;
    let mut c = client(server);
    let endpoint = create_endpoint(server, &tenant.admin, pb::InboundProvider::Retell, "retell-key").await;
    let second = create_endpoint(server, &tenant.admin, pb::InboundProvider::Retell, "retell-key-2").await;
    let endpoint_id = InboundEndpointId::parse("id", &endpoint.id).unwrap();
    let second_id = InboundEndpointId::parse("id", &second.id).unwrap();
    let event = |endpoint_id, key: &str, status| NewInboundEvent {
        endpoint_id,
        provider: InboundProvider::Retell,
        event_key: key.into(),
        event_type: "call_ended".into(),
        status,
        rejection_reason: if status == InboundEventStatus::Processed { String::new() } else { "no effect".into() },
        appointment_id: None,
        call_id: None,
        customer_id: None,
    };
    let tx = server.state.store.write(tenant_id(&tenant.id)).await.unwrap();
    let (first, new) =
        inbound_events::insert_if_new(&tx, event(endpoint_id, "call_ended:c1", InboundEventStatus::Processed))
            .await
            .unwrap();
    assert!(new);
    let (again, new) =
        inbound_events::insert_if_new(&tx, event(endpoint_id, "call_ended:c1", InboundEventStatus::Ignored))
            .await
            .unwrap();
    assert!(!new, "a known key is not stored again");
    assert_eq!(again, first);
    inbound_events::insert_if_new(&tx, event(endpoint_id, "call_ended:c2", InboundEventStatus::Ignored)).await.unwrap();
    inbound_events::insert_if_new(&tx, event(second_id, "call_ended:c1", InboundEventStatus::Processed)).await.unwrap();
    tx.commit().await.unwrap();

    let list = |endpoint_id: &str, status: pb::InboundEventStatus| pb::ListInboundEventsRequest {
        endpoint_id: endpoint_id.into(),
        status: status as i32,
        ..Default::default()
    };
    let all = c
        .list_inbound_events(authed(list("", pb::InboundEventStatus::Unspecified), &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].id, first.id.to_string(), "newest first");
    let of_first = c
        .list_inbound_events(authed(list(&endpoint.id, pb::InboundEventStatus::Unspecified), &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(
        of_first.iter().map(|e| e.event_key.as_str()).collect::<Vec<_>>(),
        vec!["call_ended:c2", "call_ended:c1"]
    );
    let ignored = c
        .list_inbound_events(authed(list(&endpoint.id, pb::InboundEventStatus::Ignored), &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0].status, pb::InboundEventStatus::Ignored as i32);
    assert_eq!(ignored[0].provider, pb::InboundProvider::Retell as i32);
    assert_eq!(ignored[0].rejection_reason, "no effect");

    // A deleted endpoint's inbox stays listable; an unknown endpoint is NOT_FOUND.
    c.delete_inbound_endpoint(authed(
        pb::DeleteInboundEndpointRequest { id: endpoint.id.clone(), etag: String::new() },
        &tenant.admin,
    ))
    .await
    .unwrap();
    let still = c
        .list_inbound_events(authed(list(&endpoint.id, pb::InboundEventStatus::Unspecified), &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(still.len(), 2);
    let unknown = c
        .list_inbound_events(authed(
            list(&uuid::Uuid::now_v7().to_string(), pb::InboundEventStatus::Unspecified),
            &tenant.admin,
        ))
        .await;
    expect_code(unknown, Code::NotFound);
}

async fn calls_are_upserted_by_provider_call_id(server: &TestServer) {
    let tenant = server.tenant("Salon Calls").await;
    let update = |status, analysis: Option<&str>| calls::CallUpdate {
        provider: InboundProvider::Retell,
        provider_call_id: "call_123".into(),
        status,
        branch_id: None,
        customer_id: None,
        appointment_id: None,
        from_number: Some("+4930123456".into()),
        to_number: None,
        start_time: None,
        end_time: None,
        analysis: analysis.map(str::to_owned),
    };
    let tx = server.state.store.write(tenant_id(&tenant.id)).await.unwrap();
    let (ended, created) = calls::upsert(&tx, update(calls::CallStatus::Ended, None)).await.unwrap();
    assert!(created);
    // A late call_started does not move the status back.
    let (same, created) = calls::upsert(&tx, update(calls::CallStatus::Started, None)).await.unwrap();
    assert!(!created);
    assert_eq!(same.id, ended.id);
    assert_eq!(same.status, "ended");
    let (analyzed, _) = calls::upsert(&tx, update(calls::CallStatus::Analyzed, Some(r#"{"ok":true}"#))).await.unwrap();
    assert_eq!(analyzed.status, "analyzed");
    assert_eq!(analyzed.analysis.as_deref(), Some(r#"{"ok":true}"#));
    let found = calls::find(&tx, InboundProvider::Retell, "call_123").await.unwrap().expect("found");
    assert_eq!(found, analyzed);
    tx.commit().await.unwrap();
}

// ---------------------------------------------------------------------------
// Tenancy and scope
// ---------------------------------------------------------------------------

async fn another_tenants_ids_are_not_found(server: &TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let mut c = client(server);
    let sub =
        create_subscription(server, &a.admin, subscription("https://example.com/a", &[])).await.subscription.unwrap();
    let event_id = send_test_event(server, &a.admin, &sub.id).await;
    let endpoint = create_endpoint(server, &a.admin, pb::InboundProvider::Calcom, "secret-a").await;

    let mut statuses = vec![
        c.get_subscription(authed(pb::GetSubscriptionRequest { id: sub.id.clone() }, &b.admin)).await.map(|_| ()),
        c.update_subscription(authed(
            pb::UpdateSubscriptionRequest {
                subscription: Some(pb::Subscription {
                    id: sub.id.clone(),
                    description: "x".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["description"]),
            },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.delete_subscription(authed(
            pb::DeleteSubscriptionRequest { id: sub.id.clone(), etag: String::new() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.rotate_subscription_secret(authed(
            pb::RotateSubscriptionSecretRequest { id: sub.id.clone(), request_id: request_id() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.send_test_event(authed(
            pb::SendTestEventRequest { request_id: request_id(), subscription_id: sub.id.clone() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.list_deliveries(authed(
            pb::ListDeliveriesRequest { subscription_id: sub.id.clone(), ..Default::default() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.redeliver_event(authed(
            pb::RedeliverEventRequest {
                request_id: request_id(),
                subscription_id: sub.id.clone(),
                event_id: event_id.clone(),
            },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.get_inbound_endpoint(authed(pb::GetInboundEndpointRequest { id: endpoint.id.clone() }, &b.admin))
            .await
            .map(|_| ()),
        c.update_inbound_endpoint(authed(
            pb::UpdateInboundEndpointRequest {
                endpoint: Some(pb::InboundEndpoint { id: endpoint.id.clone(), ..Default::default() }),
                update_mask: None,
                secret: "stolen".into(),
            },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.delete_inbound_endpoint(authed(
            pb::DeleteInboundEndpointRequest { id: endpoint.id.clone(), etag: String::new() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.list_inbound_events(authed(
            pb::ListInboundEventsRequest { endpoint_id: endpoint.id.clone(), ..Default::default() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
    ];
    for (index, result) in statuses.drain(..).enumerate() {
        let status = result.expect_err(&format!("call {index} must fail"));
        assert_eq!(status.code(), Code::NotFound, "call {index}: {status:?}");
        assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    }
    // B's lists are empty; A's things are untouched.
    let listed = c.list_subscriptions(authed(pb::ListSubscriptionsRequest::default(), &b.admin)).await.unwrap();
    assert!(listed.into_inner().subscriptions.is_empty());
    let listed = c.list_inbound_endpoints(authed(pb::ListInboundEndpointsRequest::default(), &b.admin)).await.unwrap();
    assert!(listed.into_inner().endpoints.is_empty());
    let got = c.get_subscription(authed(pb::GetSubscriptionRequest { id: sub.id.clone() }, &a.admin)).await.unwrap();
    assert_eq!(got.into_inner().subscription.unwrap().etag, sub.etag);
    assert_eq!(deliveries_of(server, &a.admin, &sub.id).await.len(), 1);
}

async fn only_tenant_admins_manage_webhooks(server: &TestServer) {
    let tenant = server.tenant("Salon Scope").await;
    let mut c = client(server);
    for key in [&tenant.agent, &tenant.reader] {
        let listed = c.list_subscriptions(authed(pb::ListSubscriptionsRequest::default(), key)).await;
        assert_eq!(reason(&expect_code(listed, Code::PermissionDenied)), "SCOPE_INSUFFICIENT");
        let created = c
            .create_subscription(authed(
                pb::CreateSubscriptionRequest {
                    request_id: request_id(),
                    subscription: Some(subscription("https://example.com/", &[])),
                },
                key,
            ))
            .await;
        expect_code(created, Code::PermissionDenied);
        let events = c.list_inbound_events(authed(pb::ListInboundEventsRequest::default(), key)).await;
        expect_code(events, Code::PermissionDenied);
    }
}

on_both_databases!(
    subscription_crud_round_trips,
    subscription_validation_names_the_fields,
    secret_is_shown_once_and_a_retry_returns_the_same,
    rotation_keeps_the_previous_secret_for_a_day,
    test_event_is_one_pending_delivery_to_that_subscription_only,
    recorded_events_reach_active_subscriptions_that_want_them,
    redeliver_follows_the_contract,
    list_deliveries_filters_and_pages,
    worker_claims_and_records_attempts,
    inbound_endpoint_crud_never_returns_the_secret,
    inbound_endpoint_validation_never_echoes_the_secret,
    inbox_deduplicates_and_lists_newest_first,
    calls_are_upserted_by_provider_call_id,
    another_tenants_ids_are_not_found,
    only_tenant_admins_manage_webhooks,
);
