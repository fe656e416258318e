//! Conversions between webhook rows and protobuf messages. No secret is
//! ever copied into a message here.
use crate::convert::timestamp;
use crate::domain::webhook::{AttemptStatus, InboundEventStatus, InboundProvider, SubscriptionState};
use crate::proto::webhook::v1 as pb;
use crate::store::entities::{delivery_attempt, inbound_endpoint, inbound_event, subscription};
use crate::store::{etag, inbound_endpoints, subscriptions};

pub fn subscription(row: subscription::Model) -> pb::Subscription {
    let state = match SubscriptionState::from_stored(&row.state) {
        SubscriptionState::Active => pb::SubscriptionState::Active,
        SubscriptionState::Disabled => pb::SubscriptionState::Disabled,
    };
    pb::Subscription {
        id: row.id.to_string(),
        event_types: subscriptions::event_types(&row),
        url: row.url,
        description: row.description,
        state: state as i32,
        disabled_reason: row.disabled_reason,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: etag(row.revision),
    }
}

pub fn delivery(row: delivery_attempt::Model) -> pb::Delivery {
    let status = AttemptStatus::from_stored(&row.status);
    let pending = status == Some(AttemptStatus::Pending);
    pb::Delivery {
        id: row.id.to_string(),
        subscription_id: row.subscription_id.to_string(),
        event_id: row.event_id.to_string(),
        event_type: row.event_type,
        attempt: row.attempt_number,
        status: status.map(delivery_status).unwrap_or(pb::DeliveryStatus::Unspecified) as i32,
        http_status: row.http_status.unwrap_or(0),
        latency: (!pending).then(|| micros(row.latency_micros)),
        error: row.error,
        attempt_time: Some(timestamp(row.attempt_time)),
        next_attempt_time: if status == Some(AttemptStatus::Failed) {
            row.next_attempt_time.map(timestamp)
        } else {
            None
        },
    }
}

pub fn delivery_status(status: AttemptStatus) -> pb::DeliveryStatus {
    match status {
        AttemptStatus::Pending => pb::DeliveryStatus::Pending,
        AttemptStatus::Succeeded => pb::DeliveryStatus::Succeeded,
        AttemptStatus::Failed => pb::DeliveryStatus::Failed,
        AttemptStatus::DeadLettered => pb::DeliveryStatus::DeadLettered,
    }
}

pub fn inbound_endpoint(row: inbound_endpoint::Model) -> pb::InboundEndpoint {
    pb::InboundEndpoint {
        id: row.id.to_string(),
        provider: provider(&row.provider) as i32,
        path: inbound_endpoints::path_of(&row),
        display_name: row.display_name,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        etag: etag(row.revision),
    }
}

pub fn inbound_event(row: inbound_event::Model) -> pb::InboundEvent {
    let status = match InboundEventStatus::from_stored(&row.status) {
        Some(InboundEventStatus::Processed) => pb::InboundEventStatus::Processed,
        Some(InboundEventStatus::Rejected) => pb::InboundEventStatus::Rejected,
        Some(InboundEventStatus::Ignored) => pb::InboundEventStatus::Ignored,
        None => pb::InboundEventStatus::Unspecified,
    };
    let id_text = |id: Option<uuid::Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    pb::InboundEvent {
        id: row.id.to_string(),
        endpoint_id: row.endpoint_id.to_string(),
        provider: provider(&row.provider) as i32,
        event_key: row.event_key,
        event_type: row.event_type,
        status: status as i32,
        rejection_reason: row.rejection_reason,
        receive_time: Some(timestamp(row.receive_time)),
        appointment_id: id_text(row.appointment_id),
        call_id: id_text(row.call_id),
        customer_id: id_text(row.customer_id),
    }
}

/// A request's provider; `None` for UNSPECIFIED or an unknown value.
pub fn provider_from(value: i32) -> Option<InboundProvider> {
    match pb::InboundProvider::try_from(value) {
        Ok(pb::InboundProvider::Calcom) => Some(InboundProvider::Calcom),
        Ok(pb::InboundProvider::Retell) => Some(InboundProvider::Retell),
        Ok(pb::InboundProvider::StandardWebhooks) => Some(InboundProvider::StandardWebhooks),
        _ => None,
    }
}

fn provider(stored: &str) -> pb::InboundProvider {
    match InboundProvider::from_stored(stored) {
        Some(InboundProvider::Calcom) => pb::InboundProvider::Calcom,
        Some(InboundProvider::Retell) => pb::InboundProvider::Retell,
        Some(InboundProvider::StandardWebhooks) => pb::InboundProvider::StandardWebhooks,
        None => pb::InboundProvider::Unspecified,
    }
}

fn micros(value: i64) -> prost_types::Duration {
    prost_types::Duration { seconds: value / 1_000_000, nanos: ((value % 1_000_000) * 1_000) as i32 }
}
