//! Subscriptions: https URLs to public hosts, event types from the contract,
//! a signing secret shown once, rotation keeping the old secret for a day.

use super::*;

async fn subscription_crud_round_trips(server: &TestServer) {
    let tenant = server.tenant("Salon Hooks").await;
    let mut c = server.webhooks();
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
        let mut c = server.webhooks();
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

    // Twenty bad event types: twenty violations, and a reply grpcio clients
    // accept (trailers under 16 KiB). Five hundred: one, "at most 32 entries".
    let twenty: Vec<String> = (0..20).map(|i| format!("no.such.event.{i}")).collect();
    let twenty: Vec<&str> = twenty.iter().map(String::as_str).collect();
    let status =
        expect_code(attempt(subscription("https://example.com/", &twenty), request_id()).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status).len(), 20);
    assert!(status.details().len() * 4 / 3 + status.message().len() < 16 * 1024, "{} bytes", status.details().len());
    let many: Vec<String> = (0..500).map(|i| format!("no.such.event.{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let status =
        expect_code(attempt(subscription("https://example.com/", &many), request_id()).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["subscription.event_types"]);
    assert!(status.message().contains("at most 32"), "{}", status.message());

    // request_id is required here.
    let status =
        expect_code(attempt(subscription("https://example.com/", &[]), String::new()).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["request_id"]);

    // Nothing was written.
    let listed = server
        .webhooks()
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
        let result = server
            .webhooks()
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
    let mut c = server.webhooks();
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
    let mut c = server.webhooks();
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
    let tx = store.read(tenant.tenant_id()).await.unwrap();
    let row = subscriptions::get(&tx, id).await.unwrap();
    tx.commit().await.unwrap();
    let signing = |row: &askpro::store::entities::subscription::Model, at| {
        let opened = subscriptions::signing_secrets(store.secrets(), row, at).unwrap();
        opened.iter().map(|s| secrecy::ExposeSecret::expose_secret(s).to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(signing(&row, chrono::Utc::now()), vec![rotated.secret.clone(), created.secret.clone()]);
    let after_a_day = chrono::Utc::now() + chrono::TimeDelta::hours(25);
    assert_eq!(signing(&row, after_a_day), vec![rotated.secret.clone()]);

    let third = c
        .rotate_subscription_secret(authed(
            pb::RotateSubscriptionSecretRequest { id: sub.id.clone(), request_id: request_id() },
            &tenant.admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let tx = store.read(tenant.tenant_id()).await.unwrap();
    let row = subscriptions::get(&tx, id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(signing(&row, chrono::Utc::now()), vec![third.secret.clone(), rotated.secret.clone()]);

    let unknown = c
        .rotate_subscription_secret(authed(
            pb::RotateSubscriptionSecretRequest { id: uuid::Uuid::now_v7().to_string(), request_id: request_id() },
            &tenant.admin,
        ))
        .await;
    expect_code(unknown, Code::NotFound);
}

on_both_databases!(
    subscription_crud_round_trips,
    subscription_validation_names_the_fields,
    secret_is_shown_once_and_a_retry_returns_the_same,
    rotation_keeps_the_previous_secret_for_a_day,
);
