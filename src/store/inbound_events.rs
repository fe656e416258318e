//! The inbox of received provider events. One row per endpoint and event
//! key, written in the same transaction as the event's effect: a provider's
//! retry finds it and changes nothing.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::inbound_event;
use super::{PlatformTx, TenantTx, all_set, now};
use crate::domain::ids::InboundEndpointId;
use crate::domain::page::PageRequest;
use crate::domain::webhook::{InboundEventStatus, InboundProvider};
use crate::error::Result;

#[derive(Clone, Debug)]
pub struct NewInboundEvent {
    pub endpoint_id: InboundEndpointId,
    pub provider: InboundProvider,
    pub event_key: String,
    pub event_type: String,
    pub status: InboundEventStatus,
    /// Why it was rejected or ignored; empty when processed.
    pub rejection_reason: String,
    pub appointment_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
}

/// Filters of ListInboundEvents (combined with AND).
#[derive(Clone, Default)]
pub struct InboundEventFilter {
    pub endpoint_id: Option<InboundEndpointId>,
    pub status: Option<InboundEventStatus>,
}

/// The inbox entry of an event key on an endpoint, if it was received before.
pub async fn find(
    tx: &TenantTx,
    endpoint_id: InboundEndpointId,
    event_key: &str,
) -> Result<Option<inbound_event::Model>> {
    Ok(inbound_event::Entity::find()
        .filter(inbound_event::Column::TenantId.eq(tx.tenant().0))
        .filter(inbound_event::Column::EndpointId.eq(endpoint_id.0))
        .filter(inbound_event::Column::EventKey.eq(event_key))
        .one(tx.conn())
        .await?)
}

/// Stores the event unless its key is known on the endpoint. Returns the
/// inbox row and whether it is new; for a known key the stored row is
/// returned and nothing changes. Two concurrent first deliveries race on
/// the unique key: the loser's transaction fails as a conflict, and its
/// retry (`store::retry`) finds the winner's row.
pub async fn insert_if_new(tx: &TenantTx, new: NewInboundEvent) -> Result<(inbound_event::Model, bool)> {
    if let Some(existing) = find(tx, new.endpoint_id, &new.event_key).await? {
        return Ok((existing, false));
    }
    let row = inbound_event::Model {
        tenant_id: tx.tenant().0,
        id: Uuid::now_v7(),
        endpoint_id: new.endpoint_id.0,
        provider: new.provider.as_str().into(),
        event_key: new.event_key,
        event_type: new.event_type,
        status: new.status.as_str().into(),
        rejection_reason: new.rejection_reason,
        receive_time: now(),
        appointment_id: new.appointment_id,
        call_id: new.call_id,
        customer_id: new.customer_id,
    };
    inbound_event::Entity::insert(all_set::<inbound_event::ActiveModel, _>(row.clone()))
        .exec_without_returning(tx.conn())
        .await?;
    Ok((row, true))
}

/// Received events, newest first.
pub async fn list(tx: &TenantTx, filter: &InboundEventFilter, page: &PageRequest) -> Result<Vec<inbound_event::Model>> {
    let mut query = inbound_event::Entity::find().filter(inbound_event::Column::TenantId.eq(tx.tenant().0));
    if let Some(endpoint_id) = filter.endpoint_id {
        query = query.filter(inbound_event::Column::EndpointId.eq(endpoint_id.0));
    }
    if let Some(status) = filter.status {
        query = query.filter(inbound_event::Column::Status.eq(status.as_str()));
    }
    if let Some(before) = page.after {
        query = query.filter(inbound_event::Column::Id.lt(before));
    }
    Ok(query.order_by_desc(inbound_event::Column::Id).limit(page.fetch_limit()).all(tx.conn()).await?)
}

/// Deletes, over all tenants, the inbox records received before `before`.
/// Their deduplication goes with them: Retell and Standard Webhooks
/// signatures expire after five minutes, so replays of such old events are
/// refused anyway, but a Cal.com replay (its signature carries no time)
/// would be applied again. The retention is days, far beyond any provider's
/// retry window.
pub async fn purge_everywhere(tx: &PlatformTx, before: chrono::DateTime<chrono::Utc>) -> Result<u64> {
    let deleted = inbound_event::Entity::delete_many()
        .filter(inbound_event::Column::ReceiveTime.lt(before))
        .exec(tx.conn())
        .await?;
    Ok(deleted.rows_affected)
}
