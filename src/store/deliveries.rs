//! Deliveries of outbox events to subscriptions, and their attempts.
//!
//! A `deliveries` row is one event for one subscription (what the worker
//! claims); each of its `delivery_attempts` rows is one attempt, what
//! ListDeliveries shows. A pending delivery always has exactly one attempt
//! row in status pending, the attempt it waits for: its attempt_time is when
//! it is due, and the worker turns that row into the outcome
//! (`record_outcome`), adding the next pending row if a retry follows.
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use super::entities::{delivery, delivery_attempt as attempt, outbox_event, subscription};
use super::{PlatformTx, Scoped, TenantTx, all_set, now};
use crate::domain::ids::{SubscriptionId, WebhookEventId};
use crate::domain::page::PageRequest;
use crate::domain::webhook::{AttemptStatus, DeliveryState, SubscriptionState};
use crate::error::{Error, Result};

type Instant = chrono::DateTime<chrono::Utc>;

/// Filters of ListDeliveries (combined with AND).
#[derive(Clone, Default)]
pub struct AttemptFilter {
    pub event_id: Option<WebhookEventId>,
    pub status: Option<AttemptStatus>,
}

/// Schedules the first attempt of `event_id` to `subscription_id` at `at`,
/// written with the transaction's commit, like the event.
pub(super) fn schedule(tx: &TenantTx, event_id: Uuid, subscription_id: Uuid, event_type: &str, at: Instant) {
    let row = delivery::Model {
        tenant_id: tx.tenant().0,
        id: Uuid::now_v7(),
        event_id,
        subscription_id,
        state: DeliveryState::Pending.as_str().into(),
        attempt_count: 0,
        schedule_start_attempt: 1,
        next_attempt_time: Some(at),
        lease_until: None,
        create_time: at,
        update_time: at,
    };
    let backend = tx.conn().get_database_backend();
    tx.write_at_commit(delivery::Entity::insert(all_set::<delivery::ActiveModel, _>(row.clone())).build(backend));
    let attempt = new_attempt(tx, &row, event_type, 1, at);
    tx.write_at_commit(attempt::Entity::insert(all_set::<attempt::ActiveModel, _>(attempt)).build(backend));
}

/// Attempts of one subscription, newest first.
pub async fn list_attempts(
    tx: &TenantTx,
    subscription_id: SubscriptionId,
    filter: &AttemptFilter,
    page: &PageRequest,
) -> Result<Vec<attempt::Model>> {
    let mut query = attempt::Entity::find()
        .filter(attempt::Column::TenantId.eq(tx.tenant().0))
        .filter(attempt::Column::SubscriptionId.eq(subscription_id.0));
    if let Some(event_id) = filter.event_id {
        query = query.filter(attempt::Column::EventId.eq(event_id.0));
    }
    if let Some(status) = filter.status {
        query = query.filter(attempt::Column::Status.eq(status.as_str()));
    }
    if let Some(before) = page.after {
        query = query.filter(attempt::Column::Id.lt(before));
    }
    Ok(query.order_by_desc(attempt::Column::Id).limit(page.fetch_limit()).all(tx.conn()).await?)
}

/// The delivery of one event to one subscription, if the event was ever
/// meant for it.
pub async fn find(tx: &TenantTx, subscription_id: Uuid, event_id: Uuid) -> Result<Option<delivery::Model>> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::TenantId.eq(tx.tenant().0))
        .filter(delivery::Column::SubscriptionId.eq(subscription_id))
        .filter(delivery::Column::EventId.eq(event_id))
        .one(tx.conn())
        .await?)
}

/// RedeliverEvent: an attempt due now with the full retry schedule behind
/// it. A pending attempt is moved to now rather than doubled. `sub` is the
/// subscription as the caller read it in `tx`.
pub async fn redeliver(tx: &TenantTx, sub: &subscription::Model, event_id: WebhookEventId) -> Result<attempt::Model> {
    if SubscriptionState::from_stored(&sub.state) == SubscriptionState::Disabled {
        return Err(Error::FailedPrecondition {
            reason: "FAILED_PRECONDITION",
            message: "the subscription is disabled; set its state to ACTIVE first".into(),
        });
    }
    let current = find(tx, sub.id, event_id.0).await?.ok_or(Error::NotFound { resource: "event" })?;
    let at = now();
    let pending =
        if current.state == DeliveryState::Pending.as_str() { pending_attempt(tx, current.id).await? } else { None };
    let mut next = current.clone();
    next.state = DeliveryState::Pending.as_str().into();
    next.next_attempt_time = Some(at);
    next.update_time = at;
    let attempt = match pending {
        Some(mut row) => {
            attempt::Entity::update_many()
                .col_expr(attempt::Column::AttemptTime, Expr::value(at))
                .filter(attempt::Column::TenantId.eq(tx.tenant().0))
                .filter(attempt::Column::Id.eq(row.id))
                .exec(tx.conn())
                .await?;
            row.attempt_time = at;
            next.schedule_start_attempt = row.attempt_number;
            row
        }
        None => {
            let number = current.attempt_count + 1;
            next.schedule_start_attempt = number;
            next.lease_until = None;
            let event_type = event_type_of(tx, current.event_id).await?;
            insert_pending_attempt(tx, &current, &event_type, number, at).await?
        }
    };
    save(tx, next).await?;
    Ok(attempt)
}

/// Dead-letters every pending delivery of a subscription (it was disabled
/// or deleted): no attempt follows, and the reason shows in ListDeliveries.
pub async fn dead_letter_pending(tx: &TenantTx, subscription_id: Uuid, reason: &str) -> Result<()> {
    let at = now();
    attempt::Entity::update_many()
        .col_expr(attempt::Column::Status, Expr::value(AttemptStatus::DeadLettered.as_str()))
        .col_expr(attempt::Column::Error, Expr::value(reason))
        .col_expr(attempt::Column::AttemptTime, Expr::value(at))
        .filter(attempt::Column::TenantId.eq(tx.tenant().0))
        .filter(attempt::Column::SubscriptionId.eq(subscription_id))
        .filter(attempt::Column::Status.eq(AttemptStatus::Pending.as_str()))
        .exec(tx.conn())
        .await?;
    delivery::Entity::update_many()
        .col_expr(delivery::Column::State, Expr::value(DeliveryState::DeadLettered.as_str()))
        .col_expr(delivery::Column::NextAttemptTime, Expr::value(Option::<Instant>::None))
        .col_expr(delivery::Column::LeaseUntil, Expr::value(Option::<Instant>::None))
        .col_expr(delivery::Column::UpdateTime, Expr::value(at))
        .filter(delivery::Column::TenantId.eq(tx.tenant().0))
        .filter(delivery::Column::SubscriptionId.eq(subscription_id))
        .filter(delivery::Column::State.eq(DeliveryState::Pending.as_str()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// A delivery the worker has claimed, with what it needs to POST it.
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub delivery: delivery::Model,
    pub event: outbox_event::Model,
    pub subscription: subscription::Model,
}

impl DueDelivery {
    /// The number of the attempt about to be made (1 for the first).
    pub fn attempt_number(&self) -> i32 {
        self.delivery.attempt_count + 1
    }

    /// The position in the retry schedule: 0 for the first attempt after
    /// the event (or a redelivery), 1 after one failure, and so on.
    pub fn schedule_position(&self) -> i32 {
        (self.attempt_number() - self.delivery.schedule_start_attempt).max(0)
    }
}

/// Claims up to `limit` due deliveries of all tenants for `lease`, oldest
/// due first, leaving out the subscriptions in `busy` (at their in-flight
/// cap) and every delivery `admit` refuses (which sees each candidate's
/// subscription, oldest first, and keeps a batch within the caps). A worker
/// that dies leaves a lease that runs out, and another worker claims the
/// delivery again. On PostgreSQL, concurrent workers skip each other's rows
/// (FOR UPDATE SKIP LOCKED); SQLite has one writer.
pub async fn claim_due(
    tx: &PlatformTx,
    lease: std::time::Duration,
    limit: u64,
    busy: &[Uuid],
    mut admit: impl FnMut(Uuid) -> bool,
) -> Result<Vec<DueDelivery>> {
    let at = now();
    let lease_until = at + chrono::TimeDelta::from_std(lease).map_err(Error::internal)?;
    let mut query = delivery::Entity::find()
        .filter(delivery::Column::State.eq(DeliveryState::Pending.as_str()))
        .filter(delivery::Column::NextAttemptTime.lte(at))
        .filter(Condition::any().add(delivery::Column::LeaseUntil.is_null()).add(delivery::Column::LeaseUntil.lt(at)))
        .order_by_asc(delivery::Column::NextAttemptTime)
        .limit(limit);
    if !busy.is_empty() {
        query = query.filter(delivery::Column::SubscriptionId.is_not_in(busy.iter().copied()));
    }
    if tx.conn().get_database_backend() == DbBackend::Postgres {
        query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = query.all(tx.conn()).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    // Rows not admitted are not leased: their lock ends with the transaction.
    for mut row in rows.into_iter().filter(|row| admit(row.subscription_id)) {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::LeaseUntil, Expr::value(Some(lease_until)))
            .filter(delivery::Column::TenantId.eq(row.tenant_id))
            .filter(delivery::Column::Id.eq(row.id))
            .exec(tx.conn())
            .await?;
        row.lease_until = Some(lease_until);
        let event = outbox_event::Entity::find_by_id((row.tenant_id, row.event_id)).one(tx.conn()).await?;
        let sub = subscription::Entity::find_by_id((row.tenant_id, row.subscription_id)).one(tx.conn()).await?;
        if let (Some(event), Some(subscription)) = (event, sub) {
            claimed.push(DueDelivery { delivery: row, event, subscription });
        }
    }
    Ok(claimed)
}

/// How one attempt ended.
#[derive(Clone, Debug)]
pub enum AttemptResult {
    Succeeded,
    /// Failed; the next attempt is due at this time.
    Failed {
        next_attempt_time: Instant,
    },
    /// Failed with no further attempt (retries exhausted, a test event, 410 Gone).
    DeadLettered,
}

/// The outcome of one POST, as the worker observed it.
#[derive(Clone, Debug)]
pub struct AttemptOutcome {
    pub result: AttemptResult,
    /// None when no response arrived (timeout, connection error).
    pub http_status: Option<i32>,
    pub latency: std::time::Duration,
    /// A short description of the failure, empty on success; never the secret.
    pub error: String,
    pub attempt_time: Instant,
}

/// Records the outcome of a claimed delivery's attempt (in the delivery's
/// tenant): the pending attempt row becomes the outcome, the delivery's
/// state and schedule follow, and a retry gets its own pending row. If the
/// delivery stopped being pending meanwhile (disabled, deleted), the
/// attempt is still recorded but nothing is rescheduled.
pub async fn record_outcome(tx: &TenantTx, delivery_id: Uuid, outcome: AttemptOutcome) -> Result<()> {
    let current = delivery::Entity::find_by_id((tx.tenant().0, delivery_id))
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "delivery" })?;
    let still_pending = current.state == DeliveryState::Pending.as_str();
    let result = match (&outcome.result, still_pending) {
        (AttemptResult::Failed { .. }, false) => AttemptResult::DeadLettered,
        (other, _) => other.clone(),
    };
    let (status, next_time) = match &result {
        AttemptResult::Succeeded => (AttemptStatus::Succeeded, None),
        AttemptResult::Failed { next_attempt_time } => (AttemptStatus::Failed, Some(*next_attempt_time)),
        AttemptResult::DeadLettered => (AttemptStatus::DeadLettered, None),
    };
    let number = current.attempt_count + 1;
    let event_type = event_type_of(tx, current.event_id).await?;
    let recorded = attempt::Model {
        tenant_id: tx.tenant().0,
        id: Uuid::now_v7(),
        delivery_id: current.id,
        event_id: current.event_id,
        subscription_id: current.subscription_id,
        event_type: event_type.clone(),
        attempt_number: number,
        status: status.as_str().into(),
        http_status: outcome.http_status,
        latency_micros: i64::try_from(outcome.latency.as_micros()).unwrap_or(i64::MAX),
        error: outcome.error,
        attempt_time: outcome.attempt_time,
        next_attempt_time: next_time,
    };
    match pending_attempt(tx, current.id).await? {
        Some(row) => {
            let updated = attempt::Model { id: row.id, attempt_number: row.attempt_number, ..recorded };
            attempt::Entity::update_many()
                .set(all_set::<attempt::ActiveModel, _>(updated))
                .filter(attempt::Column::TenantId.eq(tx.tenant().0))
                .filter(attempt::Column::Id.eq(row.id))
                .exec(tx.conn())
                .await?;
        }
        None => {
            attempt::Entity::insert(all_set::<attempt::ActiveModel, _>(recorded))
                .exec_without_returning(tx.conn())
                .await?;
        }
    }
    if !still_pending {
        return Ok(());
    }
    let mut next = current.clone();
    next.attempt_count = number;
    next.lease_until = None;
    next.update_time = now();
    next.next_attempt_time = next_time;
    next.state = match result {
        AttemptResult::Succeeded => DeliveryState::Succeeded,
        AttemptResult::Failed { .. } => DeliveryState::Pending,
        AttemptResult::DeadLettered => DeliveryState::DeadLettered,
    }
    .as_str()
    .into();
    save(tx, next).await?;
    if let Some(at) = next_time {
        insert_pending_attempt(tx, &current, &event_type, number + 1, at).await?;
    }
    Ok(())
}

async fn pending_attempt(tx: &TenantTx, delivery_id: Uuid) -> Result<Option<attempt::Model>> {
    Ok(attempt::Entity::find()
        .filter(attempt::Column::TenantId.eq(tx.tenant().0))
        .filter(attempt::Column::DeliveryId.eq(delivery_id))
        .filter(attempt::Column::Status.eq(AttemptStatus::Pending.as_str()))
        .order_by_desc(attempt::Column::Id)
        .one(tx.conn())
        .await?)
}

async fn insert_pending_attempt(
    tx: &TenantTx,
    delivery: &delivery::Model,
    event_type: &str,
    number: i32,
    at: Instant,
) -> Result<attempt::Model> {
    let row = new_attempt(tx, delivery, event_type, number, at);
    attempt::Entity::insert(all_set::<attempt::ActiveModel, _>(row.clone())).exec_without_returning(tx.conn()).await?;
    Ok(row)
}

/// The attempt row of a delivery's next attempt, not made yet.
fn new_attempt(
    tx: &TenantTx,
    delivery: &delivery::Model,
    event_type: &str,
    number: i32,
    at: Instant,
) -> attempt::Model {
    attempt::Model {
        tenant_id: tx.tenant().0,
        id: Uuid::now_v7(),
        delivery_id: delivery.id,
        event_id: delivery.event_id,
        subscription_id: delivery.subscription_id,
        event_type: event_type.to_owned(),
        attempt_number: number,
        status: AttemptStatus::Pending.as_str().into(),
        http_status: None,
        latency_micros: 0,
        error: String::new(),
        attempt_time: at,
        next_attempt_time: None,
    }
}

async fn event_type_of(tx: &TenantTx, event_id: Uuid) -> Result<String> {
    outbox_event::Entity::find_by_id((tx.tenant().0, event_id))
        .one(tx.conn())
        .await?
        .map(|event| event.event_type)
        .ok_or(Error::NotFound { resource: "event" })
}

async fn save(tx: &TenantTx, row: delivery::Model) -> Result<()> {
    let (tenant_id, id) = (row.tenant_id, row.id);
    delivery::Entity::update_many()
        .set(all_set::<delivery::ActiveModel, _>(row))
        .filter(delivery::Column::TenantId.eq(tenant_id))
        .filter(delivery::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Deliveries waiting for an attempt, over all tenants (a metric).
pub async fn count_pending(tx: &PlatformTx) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(delivery::Entity::find()
        .filter(delivery::Column::State.eq(DeliveryState::Pending.as_str()))
        .count(tx.conn())
        .await?)
}
