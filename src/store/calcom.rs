//! A tenant's Cal.com connection, its staff links, and the sync queue: one
//! row per appointment whose Cal.com copy must follow AskPro (a
//! transactional outbox, written in the change's own transaction).
//!
//! The worker reconciles rather than replays: a row says "make Cal.com agree
//! with this appointment as it is now", so many changes before an attempt
//! cost one attempt, and an attempt cut short is simply made again.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use super::entities::{
    calcom_connection as connection, calcom_event_type as event_type, calcom_staff_link as link, calcom_sync as sync,
};
use secrecy::SecretString;

use super::{PlatformTx, Scoped, TenantTx, all_set, now, secrets_at_rest};
use crate::domain::page::PageRequest;
use crate::error::{Error, Result};
use crate::secrets::SecretBox;

type Instant = DateTime<Utc>;

/// Where an appointment's Cal.com copy stands, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    Pending,
    Synced,
    DeadLettered,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Pending => "pending",
            SyncState::Synced => "synced",
            SyncState::DeadLettered => "dead_lettered",
        }
    }

    pub fn from_stored(text: &str) -> Self {
        match text {
            "synced" => SyncState::Synced,
            "dead_lettered" => SyncState::DeadLettered,
            _ => SyncState::Pending,
        }
    }
}

// ---- the connection ---------------------------------------------------------

/// The connection's Cal.com API key, opened (it is stored sealed, see
/// `crate::secrets`).
pub fn api_key(secrets: &SecretBox, row: &connection::Model) -> Result<SecretString> {
    secrets.open(&secrets_at_rest::calcom_connection(row.tenant_id), &row.api_key)
}

/// The tenant's connection, if any.
pub async fn connection(tx: &TenantTx) -> Result<Option<connection::Model>> {
    Ok(connection::Entity::find_by_id(tx.tenant().0).one(tx.conn()).await?)
}

/// The tenant's staff links, ordered by staff id.
pub async fn links(tx: &TenantTx) -> Result<Vec<link::Model>> {
    Ok(link::Entity::find()
        .filter(link::Column::TenantId.eq(tx.tenant().0))
        .order_by_asc(link::Column::StaffId)
        .all(tx.conn())
        .await?)
}

/// Creates or replaces the connection and all its links. Links are part of
/// the booking configuration (cached), so the configuration is marked changed.
pub async fn save(tx: &TenantTx, mut row: connection::Model, links: Vec<link::Model>) -> Result<()> {
    let tenant = tx.tenant().0;
    // `row` carries the key in plain text; only its sealed form is stored.
    row.api_key = tx.secrets().seal(&secrets_at_rest::calcom_connection(tenant), &row.api_key);
    link::Entity::delete_many().filter(link::Column::TenantId.eq(tenant)).exec(tx.conn()).await?;
    let upsert = connection::Entity::insert(all_set::<connection::ActiveModel, _>(row)).on_conflict(
        OnConflict::column(connection::Column::TenantId)
            .update_columns([
                connection::Column::BaseUrl,
                connection::Column::ApiKey,
                connection::Column::AccountUserId,
                connection::Column::AccountUsername,
                connection::Column::AccountEmail,
                connection::Column::AccountTimeZone,
                connection::Column::UpdateTime,
            ])
            .to_owned(),
    );
    upsert.exec_without_returning(tx.conn()).await?;
    if !links.is_empty() {
        link::Entity::insert_many(links.into_iter().map(all_set::<link::ActiveModel, _>))
            .exec_without_returning(tx.conn())
            .await?;
    }
    tx.config_changed();
    Ok(())
}

/// Removes the connection and its links; pending syncs are dead-lettered.
pub async fn delete(tx: &TenantTx) -> Result<()> {
    let tenant = tx.tenant().0;
    let deleted = connection::Entity::delete_many().filter(connection::Column::TenantId.eq(tenant));
    link::Entity::delete_many().filter(link::Column::TenantId.eq(tenant)).exec(tx.conn()).await?;
    if deleted.exec(tx.conn()).await?.rows_affected == 0 {
        return Err(Error::NotFound { resource: "Cal.com connection" });
    }
    let at = now();
    sync::Entity::update_many()
        .col_expr(sync::Column::State, Expr::value(SyncState::DeadLettered.as_str()))
        .col_expr(sync::Column::LastError, Expr::value("the Cal.com connection was removed"))
        .col_expr(sync::Column::NextAttemptTime, Expr::value(Option::<Instant>::None))
        .col_expr(sync::Column::UpdateTime, Expr::value(at))
        .filter(sync::Column::TenantId.eq(tenant))
        .filter(sync::Column::State.eq(SyncState::Pending.as_str()))
        .exec(tx.conn())
        .await?;
    tx.config_changed();
    Ok(())
}

/// The staff linked to the Cal.com account a key belongs to (whose schedule
/// and bookings that key reads): by the link's user id, else by its e-mail
/// (the link's own, or the staff member's).
pub async fn staff_of_account(tx: &TenantTx, account_user_id: i64, account_email: &str) -> Result<Vec<Uuid>> {
    let mut ids = Vec::new();
    for link in links(tx).await? {
        let is_account = if link.calcom_user_id != 0 {
            link.calcom_user_id == account_user_id
        } else {
            let email = if link.calcom_email.is_empty() {
                super::staff::get(tx, crate::domain::ids::StaffId(link.staff_id)).await?.row.email
            } else {
                link.calcom_email
            };
            !email.is_empty() && email.eq_ignore_ascii_case(account_email)
        };
        if is_account {
            ids.push(link.staff_id);
        }
    }
    Ok(ids)
}

/// The connection of `tenant` for the worker (platform transaction).
pub async fn connection_of(tx: &PlatformTx, tenant: Uuid) -> Result<Option<(connection::Model, Vec<link::Model>)>> {
    let Some(row) = connection::Entity::find_by_id(tenant).one(tx.conn()).await? else { return Ok(None) };
    let links = link::Entity::find().filter(link::Column::TenantId.eq(tenant)).all(tx.conn()).await?;
    Ok(Some((row, links)))
}

/// The service an imported event type became, if it was imported.
pub async fn service_of_event_type(tx: &TenantTx, event_type_id: i64) -> Result<Option<Uuid>> {
    Ok(event_type::Entity::find_by_id((tx.tenant().0, event_type_id)).one(tx.conn()).await?.map(|row| row.service_id))
}

/// Records (or moves) the service an event type became.
pub async fn map_event_type(tx: &TenantTx, event_type_id: i64, service_id: Uuid) -> Result<()> {
    let row = event_type::Model { tenant_id: tx.tenant().0, event_type_id, service_id };
    event_type::Entity::insert(all_set::<event_type::ActiveModel, _>(row))
        .on_conflict(
            OnConflict::columns([event_type::Column::TenantId, event_type::Column::EventTypeId])
                .update_column(event_type::Column::ServiceId)
                .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

/// The tenants with a Cal.com connection (the periodic import).
pub async fn connected_tenants(tx: &PlatformTx) -> Result<Vec<Uuid>> {
    Ok(connection::Entity::find()
        .select_only()
        .column(connection::Column::TenantId)
        .into_tuple()
        .all(tx.conn())
        .await?)
}

// ---- the sync queue ---------------------------------------------------------

/// What Cal.com has of an appointment when it is first queued: a mirrored
/// booking's uid and start, nothing for an appointment made in AskPro.
#[derive(Clone, Debug, Default)]
pub struct KnownCopy {
    pub uid: String,
    pub start: Option<Instant>,
}

/// Queues the appointment's copy for an attempt now (written with the
/// transaction's commit). A queued row gets a new generation and a fresh
/// retry schedule; what Cal.com has stays as recorded.
pub fn queue(tx: &TenantTx, appointment_id: Uuid, known: KnownCopy, at: Instant) {
    let row = sync::Model {
        tenant_id: tx.tenant().0,
        appointment_id,
        state: SyncState::Pending.as_str().into(),
        generation: 1,
        calcom_uid: known.uid,
        synced_start: known.start,
        synced_cancelled: false,
        attempt_count: 0,
        next_attempt_time: Some(at),
        lease_until: None,
        last_error: String::new(),
        create_time: at,
        update_time: at,
    };
    let upsert = sync::Entity::insert(all_set::<sync::ActiveModel, _>(row)).on_conflict(
        OnConflict::columns([sync::Column::TenantId, sync::Column::AppointmentId])
            .value(sync::Column::State, SyncState::Pending.as_str())
            // Qualified: PostgreSQL sees both the row and EXCLUDED here.
            .value(sync::Column::Generation, Expr::col((sync::Entity, sync::Column::Generation)).add(1))
            .value(sync::Column::AttemptCount, 0)
            .value(sync::Column::NextAttemptTime, Some(at))
            .value(sync::Column::LastError, "")
            .value(sync::Column::UpdateTime, at)
            .to_owned(),
    );
    tx.write_at_commit(upsert.build(tx.conn().get_database_backend()));
}

/// One appointment's copy.
pub async fn get(tx: &TenantTx, appointment_id: Uuid) -> Result<sync::Model> {
    sync::Entity::find_by_id((tx.tenant().0, appointment_id))
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "Cal.com sync" })
}

/// Copies, newest appointment first.
pub async fn list(tx: &TenantTx, state: Option<SyncState>, page: &PageRequest) -> Result<Vec<sync::Model>> {
    let mut query = sync::Entity::find().filter(sync::Column::TenantId.eq(tx.tenant().0));
    if let Some(state) = state {
        query = query.filter(sync::Column::State.eq(state.as_str()));
    }
    if let Some(before) = page.after {
        query = query.filter(sync::Column::AppointmentId.lt(before));
    }
    Ok(query.order_by_desc(sync::Column::AppointmentId).limit(page.fetch_limit()).all(tx.conn()).await?)
}

/// RetryCalcomSync: a dead-lettered or pending copy is due now with a fresh
/// schedule; a synced one is returned as it is.
pub async fn retry_now(tx: &TenantTx, appointment_id: Uuid) -> Result<sync::Model> {
    let mut row = get(tx, appointment_id).await?;
    if SyncState::from_stored(&row.state) == SyncState::Synced {
        return Ok(row);
    }
    let at = now();
    row.state = SyncState::Pending.as_str().into();
    row.generation += 1;
    row.attempt_count = 0;
    row.next_attempt_time = Some(at);
    row.update_time = at;
    sync::Entity::update(all_set::<sync::ActiveModel, _>(row.clone())).exec(tx.conn()).await?;
    Ok(row)
}

/// (pending, dead-lettered) copies of the tenant.
pub async fn counts(tx: &TenantTx) -> Result<(u64, u64)> {
    let count = async |state: SyncState| -> Result<u64> {
        Ok(sync::Entity::find()
            .filter(sync::Column::TenantId.eq(tx.tenant().0))
            .filter(sync::Column::State.eq(state.as_str()))
            .count(tx.conn())
            .await?)
    };
    Ok((count(SyncState::Pending).await?, count(SyncState::DeadLettered).await?))
}

/// The appointment whose Cal.com copy is booking `uid` (AskPro made it).
pub async fn appointment_with_uid(tx: &TenantTx, uid: &str) -> Result<Option<Uuid>> {
    if uid.is_empty() {
        return Ok(None);
    }
    Ok(sync::Entity::find()
        .filter(sync::Column::TenantId.eq(tx.tenant().0))
        .filter(sync::Column::CalcomUid.eq(uid))
        .one(tx.conn())
        .await?
        .map(|row| row.appointment_id))
}

/// Claims up to `limit` due copies of all tenants for `lease`, oldest due
/// first, counting the attempt. On PostgreSQL concurrent workers skip each
/// other's rows (FOR UPDATE SKIP LOCKED); SQLite has one writer. A worker
/// that dies leaves a lease that runs out; the row is claimed again.
pub async fn claim_due(tx: &PlatformTx, lease: std::time::Duration, limit: u64) -> Result<Vec<sync::Model>> {
    let at = now();
    let lease_until = at + chrono::TimeDelta::from_std(lease).map_err(Error::internal)?;
    let mut query = sync::Entity::find()
        .filter(sync::Column::State.eq(SyncState::Pending.as_str()))
        .filter(sync::Column::NextAttemptTime.lte(at))
        .filter(Condition::any().add(sync::Column::LeaseUntil.is_null()).add(sync::Column::LeaseUntil.lt(at)))
        .order_by_asc(sync::Column::NextAttemptTime)
        .limit(limit);
    if tx.conn().get_database_backend() == DbBackend::Postgres {
        query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut rows = query.all(tx.conn()).await?;
    for row in &mut rows {
        row.lease_until = Some(lease_until);
        row.attempt_count += 1;
        sync::Entity::update_many()
            .col_expr(sync::Column::LeaseUntil, Expr::value(Some(lease_until)))
            .col_expr(sync::Column::AttemptCount, Expr::value(row.attempt_count))
            .filter(sync::Column::TenantId.eq(row.tenant_id))
            .filter(sync::Column::AppointmentId.eq(row.appointment_id))
            .exec(tx.conn())
            .await?;
    }
    Ok(rows)
}

/// Copies waiting for an attempt, over all tenants (the metrics gauge).
pub async fn pending_everywhere(tx: &PlatformTx) -> Result<u64> {
    Ok(sync::Entity::find().filter(sync::Column::State.eq(SyncState::Pending.as_str())).count(tx.conn()).await?)
}

/// What Cal.com has after an attempt (recorded whatever the outcome).
#[derive(Clone, Debug)]
pub struct CopyFacts {
    pub uid: String,
    pub start: Option<Instant>,
    pub cancelled: bool,
}

/// How an attempt ended.
#[derive(Clone, Debug)]
pub enum AttemptEnd {
    /// Cal.com agrees with the appointment as the attempt read it.
    Synced,
    /// Try again at `next`; `counted`: false when no call was made (the
    /// circuit was open), so the attempt does not count.
    Retry {
        error: String,
        next: Instant,
        counted: bool,
    },
    DeadLettered {
        error: String,
    },
}

/// Records an attempt on the copy `claimed` (as claimed). What Cal.com has
/// is always kept; the state only when no change queued a newer generation
/// meanwhile (that one stays pending, due now).
pub async fn record(tx: &TenantTx, claimed: &sync::Model, facts: CopyFacts, end: AttemptEnd) -> Result<()> {
    let Some(mut row) = sync::Entity::find_by_id((tx.tenant().0, claimed.appointment_id)).one(tx.conn()).await? else {
        return Ok(());
    };
    let at = now();
    row.calcom_uid = facts.uid;
    row.synced_start = facts.start;
    row.synced_cancelled = facts.cancelled;
    row.lease_until = None;
    row.update_time = at;
    if row.generation == claimed.generation {
        match end {
            AttemptEnd::Synced => {
                row.state = SyncState::Synced.as_str().into();
                row.attempt_count = 0;
                row.next_attempt_time = None;
                row.last_error = String::new();
            }
            AttemptEnd::Retry { error, next, counted } => {
                row.next_attempt_time = Some(next);
                row.last_error = error;
                row.attempt_count = claimed.attempt_count - i32::from(!counted);
            }
            AttemptEnd::DeadLettered { error } => {
                row.state = SyncState::DeadLettered.as_str().into();
                row.next_attempt_time = None;
                row.last_error = error;
            }
        }
    }
    sync::Entity::update(all_set::<sync::ActiveModel, _>(row)).exec(tx.conn()).await?;
    Ok(())
}
