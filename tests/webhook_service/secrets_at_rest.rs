//! Secrets at rest: subscription signing secrets, inbound provider secrets
//! (a Retell API key here) and the Cal.com key are stored sealed, never in an
//! idempotency record, and survive a rotation of the key-encryption key;
//! plain text from before sealing is sealed when a server starts; idempotency
//! records are removed after their retention.

use askpro::secrets::SecretBox;
use askpro::store::entities::{idempotency_record, inbound_endpoint, subscription};
use askpro::store::secrets_at_rest::{Reseal, reseal};
use base64::Engine;
use sea_orm::EntityTrait;
use secrecy::{ExposeSecret, SecretString};

use super::*;

const RETELL_KEY: &str = "key_5d1f0e9c8b7a6f5e4d3c2b1a";

fn key_bytes(text: &str) -> [u8; 32] {
    base64::engine::general_purpose::STANDARD.decode(text).unwrap().try_into().unwrap()
}

const NEW_KEY: &str = "bmV3LWtleS1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyE=";

async fn retell_endpoint(server: &TestServer, admin: &str) -> pb::InboundEndpoint {
    let request = pb::CreateInboundEndpointRequest {
        request_id: request_id(),
        endpoint: Some(pb::InboundEndpoint {
            provider: pb::InboundProvider::Retell as i32,
            display_name: "Retell".into(),
            ..Default::default()
        }),
        secret: RETELL_KEY.into(),
    };
    server.webhooks().create_inbound_endpoint(authed(request, admin)).await.unwrap().into_inner().endpoint.unwrap()
}

/// The stored rows, read as the database owner (no row-level security).
async fn stored(server: &TestServer) -> (Vec<subscription::Model>, Vec<inbound_endpoint::Model>) {
    let db = server.state.store.connection();
    (subscription::Entity::find().all(db).await.unwrap(), inbound_endpoint::Entity::find().all(db).await.unwrap())
}

async fn secrets_are_sealed_and_never_kept_in_idempotency_records(server: &TestServer) {
    let tenant = server.tenant("Salon Sealed").await;
    let create = pb::CreateSubscriptionRequest {
        request_id: request_id(),
        subscription: Some(subscription("https://hooks.example.com/askpro", &[])),
    };
    let created =
        server.webhooks().create_subscription(authed(create.clone(), &tenant.admin)).await.unwrap().into_inner();
    assert!(created.secret.starts_with("whsec_"));
    let id = created.subscription.as_ref().unwrap().id.clone();
    // A retry answers the same subscription and its secret.
    let retried = server.webhooks().create_subscription(authed(create, &tenant.admin)).await.unwrap().into_inner();
    assert_eq!(retried, created);

    let rotate = pb::RotateSubscriptionSecretRequest { id: id.clone(), request_id: request_id() };
    let rotated = server.webhooks().rotate_subscription_secret(authed(rotate.clone(), &tenant.admin)).await.unwrap();
    let rotated = rotated.into_inner();
    assert_ne!(rotated.secret, created.secret);
    let again = server.webhooks().rotate_subscription_secret(authed(rotate, &tenant.admin)).await.unwrap().into_inner();
    assert_eq!(again.secret, rotated.secret, "a retry answers the current secret");
    retell_endpoint(server, &tenant.admin).await;

    let (subscriptions, endpoints) = stored(server).await;
    let row = subscriptions.iter().find(|s| s.id.to_string() == id).unwrap();
    for value in [Some(&row.secret), row.previous_secret.as_ref()].into_iter().flatten() {
        assert!(value.starts_with("sealed:v1:"), "sealed: {value}");
        assert!(!value.contains(&created.secret[6..]) && !value.contains(&rotated.secret[6..]));
    }
    let endpoint = endpoints.iter().find(|e| e.tenant_id.to_string() == tenant.id).unwrap();
    assert!(endpoint.secret.starts_with("sealed:v1:") && !endpoint.secret.contains("5d1f0e9c"), "{}", endpoint.secret);
    // The worker and the inbound route open them.
    let opened = subscriptions::signing_secrets(server.state.store.secrets(), row, chrono::Utc::now()).unwrap();
    let opened: Vec<&str> = opened.iter().map(|s| s.expose_secret()).collect();
    assert_eq!(opened, [rotated.secret.as_str(), created.secret.as_str()]);
    let key = inbound_endpoints::secret(server.state.store.secrets(), endpoint).unwrap();
    assert_eq!(key.expose_secret(), RETELL_KEY);

    let records = idempotency_record::Entity::find().all(server.state.store.connection()).await.unwrap();
    assert!(records.len() >= 3, "the creates and the rotation were recorded");
    for secret in [&created.secret, &rotated.secret] {
        assert!(records.iter().all(|r| !contains(&r.response, secret.as_bytes())), "no record holds {secret}");
    }
    assert!(records.iter().all(|r| !contains(&r.response, RETELL_KEY.as_bytes())));
}

async fn rotating_the_key_encryption_key_seals_everything_again(server: &TestServer) {
    let tenant = server.tenant("Salon Rotation").await;
    let created = create_subscription(server, &tenant.admin, subscription("https://hooks.example.com/r", &[])).await;
    retell_endpoint(server, &tenant.admin).await;

    // Every server gets the new key first and the old one after it; then the rotation.
    let both = server
        .second_replica_with(|c| {
            c.secrets_keys =
                vec![SecretString::from(NEW_KEY.to_owned()), SecretString::from(common::TEST_SECRETS_KEY.to_owned())]
        })
        .await;
    let sealed = reseal(&both.state.store, Reseal::NotCurrent).await.expect("rotation");
    assert!(sealed >= 2, "the subscription's secret and the endpoint's key: {sealed}");
    assert_eq!(reseal(&both.state.store, Reseal::NotCurrent).await.unwrap(), 0, "nothing left under the old key");
    both.stop().await;

    let only_new = SecretBox::new(&[key_bytes(NEW_KEY)]);
    let only_old = SecretBox::new(&[key_bytes(common::TEST_SECRETS_KEY)]);
    let (subscriptions, endpoints) = stored(server).await;
    let row = subscriptions.iter().find(|s| s.id.to_string() == created.subscription.as_ref().unwrap().id).unwrap();
    assert!(only_new.is_current(&row.secret));
    let opened = subscriptions::current_secret(&only_new, row).unwrap();
    assert_eq!(opened.expose_secret(), created.secret, "the new key alone opens it");
    assert!(subscriptions::current_secret(&only_old, row).is_err(), "the old key is no longer needed, nor able");
    let endpoint = endpoints.iter().find(|e| e.tenant_id.to_string() == tenant.id).unwrap();
    assert_eq!(inbound_endpoints::secret(&only_new, endpoint).unwrap().expose_secret(), RETELL_KEY);
}

async fn plain_text_from_before_sealing_is_sealed_when_a_server_starts(server: &TestServer) {
    let tenant = server.tenant("Salon Legacy").await;
    let created = create_subscription(server, &tenant.admin, subscription("https://hooks.example.com/l", &[])).await;
    let id: uuid::Uuid = created.subscription.as_ref().unwrap().id.parse().unwrap();
    // As a server before this change stored it.
    let db = server.state.store.connection();
    let mut legacy: subscription::ActiveModel =
        subscription::Entity::find_by_id((tenant.id.parse().unwrap(), id)).one(db).await.unwrap().unwrap().into();
    legacy.secret = sea_orm::Set(created.secret.clone());
    sea_orm::ActiveModelTrait::update(legacy, db).await.unwrap();

    let replica = server.second_replica().await;
    let (subscriptions, _) = stored(server).await;
    let row = subscriptions.iter().find(|s| s.id == id).unwrap();
    assert!(row.secret.starts_with("sealed:v1:"), "sealed at start");
    assert_eq!(
        subscriptions::current_secret(server.state.store.secrets(), row).unwrap().expose_secret(),
        created.secret
    );
    replica.stop().await;
}

async fn idempotency_records_are_removed_after_their_retention(server: &TestServer) {
    let tenant = server.tenant("Salon Retention").await;
    let create = pb::CreateSubscriptionRequest {
        request_id: request_id(),
        subscription: Some(subscription("https://hooks.example.com/keep", &[])),
    };
    let first =
        server.webhooks().create_subscription(authed(create.clone(), &tenant.admin)).await.unwrap().into_inner();
    let recent = chrono::Utc::now() - chrono::Duration::hours(1);
    assert_eq!(askpro::jobs::idempotency_retention::run_once(&server.state.store, recent).await.unwrap(), 0);
    let retried =
        server.webhooks().create_subscription(authed(create.clone(), &tenant.admin)).await.unwrap().into_inner();
    assert_eq!(retried.subscription, first.subscription, "within the retention a retry is answered from the record");

    let later = chrono::Utc::now() + chrono::Duration::seconds(1);
    assert!(askpro::jobs::idempotency_retention::run_once(&server.state.store, later).await.unwrap() >= 1);
    let anew = server.webhooks().create_subscription(authed(create, &tenant.admin)).await.unwrap().into_inner();
    assert_ne!(anew.subscription.unwrap().id, first.subscription.unwrap().id, "past the retention it creates anew");
}

on_both_databases!(
    secrets_are_sealed_and_never_kept_in_idempotency_records,
    rotating_the_key_encryption_key_seals_everything_again,
    plain_text_from_before_sealing_is_sealed_when_a_server_starts,
    idempotency_records_are_removed_after_their_retention,
);
