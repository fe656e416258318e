//! WebhookService keeps the promises of its proto comments: subscription URLs
//! are https to public hosts, event types come from the contract's list, a
//! signing secret is shown once (and again only to a retry with the same
//! request_id), rotation keeps the old secret signing for a day, test events
//! and redeliveries land in the delivery log, provider secrets are never
//! returned, and another tenant's ids are NOT_FOUND.

#[path = "../common/mod.rs"]
mod common;
mod delivery_log;
mod inbound;
mod secrets_at_rest;
mod subscription_lifecycle;
mod tenancy;

use askpro::domain::ids::{InboundEndpointId, SubscriptionId};
use askpro::domain::webhook::{EventType, InboundEventStatus, InboundProvider};
use askpro::proto::webhook::v1 as pb;
use askpro::store::deliveries::{AttemptOutcome, AttemptResult};
use askpro::store::inbound_events::NewInboundEvent;
use askpro::store::{calls, deliveries, inbound_endpoints, inbound_events, outbox, subscriptions};
use common::{TestServer, authed, contains, expect_code, mask, reason, request_id, violated_fields};
use prost::Message;
use tonic::Code;

fn subscription(url: &str, event_types: &[&str]) -> pb::Subscription {
    pb::Subscription {
        url: url.into(),
        event_types: event_types.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    }
}

async fn create_subscription(server: &TestServer, key: &str, sub: pb::Subscription) -> pb::CreateSubscriptionResponse {
    server
        .webhooks()
        .create_subscription(authed(
            pb::CreateSubscriptionRequest { request_id: request_id(), subscription: Some(sub) },
            key,
        ))
        .await
        .expect("create subscription")
        .into_inner()
}

async fn deliveries_of(server: &TestServer, key: &str, subscription_id: &str) -> Vec<pb::Delivery> {
    server
        .webhooks()
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
    server
        .webhooks()
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
    server
        .webhooks()
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
