//! The outbox of outbound webhook events. An event is recorded in the same
//! transaction as the change it reports, together with one pending delivery
//! per subscription that wants it, so a change is never reported without
//! having happened, nor happens without being reported.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait};
use uuid::Uuid;

use super::entities::{delivery, outbox_event};
use super::{PlatformTx, Scoped, TenantTx, all_set, deliveries, now, subscriptions};
use crate::domain::ids::{SubscriptionId, WebhookEventId};
use crate::domain::webhook::{DeliveryState, EventType};
use crate::error::Result;

/// Records an event: `payload` is the JSON body receivers get, `request_id`
/// the correlation id of the request that caused it (empty if none). Every
/// active subscription of the tenant whose event_types is empty or names
/// the type gets a delivery due now. Returns the event id (the webhook-id).
/// The rows are written with the transaction's commit (nothing reads them
/// back before; see `store::at_commit`).
pub async fn record(tx: &TenantTx, event_type: EventType, payload: &str, request_id: &str) -> Result<WebhookEventId> {
    let event = insert(tx, event_type, payload, request_id);
    for subscription_id in subscriptions::wanting(tx, event_type).await? {
        deliveries::schedule(tx, event.id, subscription_id, event_type.as_str(), event.occur_time);
    }
    Ok(WebhookEventId(event.id))
}

/// Records a webhook.test event for one subscription only, whatever its
/// event_types and state (SendTestEvent). Its delivery is due now; the worker
/// attempts it once, without retries.
pub async fn record_test(tx: &TenantTx, subscription_id: SubscriptionId, request_id: &str) -> Result<WebhookEventId> {
    let sub = subscriptions::get(tx, subscription_id).await?;
    let id = Uuid::now_v7();
    let at = now();
    let payload = serde_json::json!({
        "type": EventType::WebhookTest.as_str(),
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": {
            "subscriptionId": sub.id.to_string(),
            "message": "This is a test event sent by AskPro.",
        },
    });
    let event = outbox_event::Model {
        tenant_id: tx.tenant().0,
        id,
        event_type: EventType::WebhookTest.as_str().into(),
        payload: payload.to_string(),
        request_id: request_id.to_owned(),
        occur_time: at,
    };
    let insert = outbox_event::Entity::insert(all_set::<outbox_event::ActiveModel, _>(event));
    tx.write_at_commit(insert.build(tx.conn().get_database_backend()));
    deliveries::schedule(tx, id, sub.id, EventType::WebhookTest.as_str(), at);
    Ok(WebhookEventId(id))
}

/// One recorded event.
pub async fn get(tx: &TenantTx, id: WebhookEventId) -> Result<Option<outbox_event::Model>> {
    Ok(outbox_event::Entity::find_by_id((tx.tenant().0, id.0)).one(tx.conn()).await?)
}

fn insert(tx: &TenantTx, event_type: EventType, payload: &str, request_id: &str) -> outbox_event::Model {
    let row = outbox_event::Model {
        tenant_id: tx.tenant().0,
        id: Uuid::now_v7(),
        event_type: event_type.as_str().into(),
        payload: payload.to_owned(),
        request_id: request_id.to_owned(),
        occur_time: now(),
    };
    let insert = outbox_event::Entity::insert(all_set::<outbox_event::ActiveModel, _>(row.clone()));
    tx.write_at_commit(insert.build(tx.conn().get_database_backend()));
    row
}

/// Deletes, over all tenants, the events that occurred before `before` and
/// have no pending delivery, with their deliveries and attempts (the foreign
/// keys cascade). An event still being delivered is kept however old it is.
pub async fn purge_finished_everywhere(tx: &PlatformTx, before: DateTime<Utc>) -> Result<u64> {
    let pending = Query::select()
        .expr(Expr::val(1))
        .from(delivery::Entity)
        .and_where(
            Expr::col((delivery::Entity, delivery::Column::TenantId))
                .equals((outbox_event::Entity, outbox_event::Column::TenantId)),
        )
        .and_where(
            Expr::col((delivery::Entity, delivery::Column::EventId))
                .equals((outbox_event::Entity, outbox_event::Column::Id)),
        )
        .and_where(Expr::col((delivery::Entity, delivery::Column::State)).eq(DeliveryState::Pending.as_str()))
        .to_owned();
    let deleted = outbox_event::Entity::delete_many()
        .filter(outbox_event::Column::OccurTime.lt(before))
        .filter(Expr::exists(pending).not())
        .exec(tx.conn())
        .await?;
    Ok(deleted.rows_affected)
}
