//! Outbound webhook subscriptions and their signing secrets. Deleting is
//! soft; disabling or deleting dead-letters the deliveries still pending, so
//! nothing queued before is sent afterwards (test events excepted: see
//! `outbox::record_test`).
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement};
use uuid::Uuid;

use super::entities::subscription;
use secrecy::SecretString;

use super::{TenantTx, all_set, check_etag, deliveries, now, secrets_at_rest};
use crate::domain::ids::SubscriptionId;
use crate::domain::page::PageRequest;
use crate::domain::webhook::{EventType, PREVIOUS_SECRET_VALIDITY, SubscriptionState};
use crate::error::{Error, Result};
use crate::secrets::SecretBox;

#[derive(Clone)]
pub struct NewSubscription {
    pub url: String,
    /// Empty means all types.
    pub event_types: Vec<EventType>,
    pub description: String,
    pub state: SubscriptionState,
}

#[derive(Clone, Default)]
pub struct SubscriptionChanges {
    pub url: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    pub description: Option<String>,
    pub state: Option<SubscriptionState>,
}

/// The reason recorded when an administrator disables a subscription.
const DISABLED_BY_ADMIN: &str = "disabled by an administrator";

pub async fn create(tx: &TenantTx, new: NewSubscription, secret: &str) -> Result<subscription::Model> {
    // The active subscriptions are part of the cached configuration.
    tx.config_changed();
    let at = now();
    let id = Uuid::now_v7();
    let secret = tx.secrets().seal(&secrets_at_rest::subscription(tx.tenant().0, id), secret);
    let row = subscription::Model {
        tenant_id: tx.tenant().0,
        id,
        url: new.url,
        event_types: encode_types(&new.event_types),
        description: new.description,
        state: new.state.as_str().to_owned(),
        disabled_reason: if new.state == SubscriptionState::Disabled {
            DISABLED_BY_ADMIN.into()
        } else {
            String::new()
        },
        secret,
        previous_secret: None,
        previous_secret_expire_time: None,
        revision: 1,
        create_time: at,
        update_time: at,
        delete_time: None,
    };
    subscription::Entity::insert(all_set::<subscription::ActiveModel, _>(row.clone()))
        .exec_without_returning(tx.conn())
        .await?;
    Ok(row)
}

/// A live (not deleted) subscription of the tenant.
pub async fn get(tx: &TenantTx, id: SubscriptionId) -> Result<subscription::Model> {
    subscription::Entity::find_by_id((tx.tenant().0, id.0))
        .filter(subscription::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "subscription" })
}

/// Live subscriptions, oldest first.
pub async fn list(tx: &TenantTx, page: &PageRequest) -> Result<Vec<subscription::Model>> {
    let mut query = subscription::Entity::find()
        .filter(subscription::Column::TenantId.eq(tx.tenant().0))
        .filter(subscription::Column::DeleteTime.is_null());
    if let Some(after) = page.after {
        query = query.filter(subscription::Column::Id.gt(after));
    }
    Ok(query.order_by_asc(subscription::Column::Id).limit(page.fetch_limit()).all(tx.conn()).await?)
}

/// The tenant's active subscriptions that want `event_type` (an empty
/// event_types list wants every type).
/// The ids of the active subscriptions that want `event_type`.
///
/// From the cached tenant configuration when this replica has it, which
/// saves the booking a round trip: the transaction's commit then checks
/// that the tenant's subscriptions are still the version the cache read (a
/// change through another replica may not have reached this one yet, nor,
/// for an instant after its commit, through this one) and otherwise fails
/// with a retryable conflict, after which the retry reads them here. So an
/// event always goes to the subscriptions that exist when it commits.
pub async fn wanting(tx: &TenantTx, event_type: EventType) -> Result<Vec<Uuid>> {
    let subscriptions = match tx.caches().config.get(&tx.tenant()) {
        Some(config) => {
            refuse_commit_if_changed(tx, config.subscriptions.version);
            config.subscriptions.clone()
        }
        None => active_subscriptions(tx).await?,
    };
    Ok(subscriptions
        .active
        .iter()
        .filter(|(_, types)| types.is_empty() || types.iter().any(|t| t == event_type.as_str()))
        .map(|(id, _)| *id)
        .collect())
}

/// The tenant's active subscriptions with the event types each wants
/// (empty: all), ordered by id, and the version they were read at.
#[derive(Clone, Debug, Default)]
pub struct ActiveSubscriptions {
    pub active: Vec<(Uuid, Vec<String>)>,
    pub version: SubscriptionsVersion,
}

/// A version of all of a tenant's subscription rows: their number and the
/// sum of their revisions. Every write adds a row (create) or raises a
/// revision (update, disable, delete, secret rotation), so any change moves it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubscriptionsVersion {
    rows: i64,
    revisions: i64,
}

/// Reads the tenant's subscriptions: the active ones, and the version of
/// all rows (deleted ones included).
pub(crate) async fn active_subscriptions(tx: &TenantTx) -> Result<ActiveSubscriptions> {
    let rows = subscription::Entity::find()
        .filter(subscription::Column::TenantId.eq(tx.tenant().0))
        .order_by_asc(subscription::Column::Id)
        .all(tx.conn())
        .await?;
    let version =
        SubscriptionsVersion { rows: rows.len() as i64, revisions: rows.iter().map(|row| row.revision).sum() };
    let active = rows
        .iter()
        .filter(|row| row.delete_time.is_none() && row.state == SubscriptionState::Active.as_str())
        .map(|row| (row.id, event_types(row)))
        .collect();
    Ok(ActiveSubscriptions { active, version })
}

/// Makes the commit fail with `Error::StaleConfig` (retried) unless the tenant's
/// subscriptions are still at `version` (see `wanting`). Written by hand:
/// two aggregates compared in one WHERE, a scalar the commit statement
/// carries.
fn refuse_commit_if_changed(tx: &TenantTx, version: SubscriptionsVersion) {
    let backend = tx.conn().get_database_backend();
    let tenant = tx.tenant().0;
    let (sql, values): (&str, Vec<sea_orm::Value>) = if backend == DbBackend::Postgres {
        (
            "SELECT $1::uuid WHERE (SELECT count(*) FROM subscriptions WHERE tenant_id = $1) <> $2 \
             OR (SELECT coalesce(sum(revision), 0) FROM subscriptions WHERE tenant_id = $1) <> $3",
            vec![tenant.into(), version.rows.into(), version.revisions.into()],
        )
    } else {
        (
            "SELECT ? WHERE (SELECT count(*) FROM subscriptions WHERE tenant_id = ?) <> ? \
             OR (SELECT coalesce(sum(revision), 0) FROM subscriptions WHERE tenant_id = ?) <> ?",
            vec![tenant.into(), tenant.into(), version.rows.into(), tenant.into(), version.revisions.into()],
        )
    };
    tx.check_at_commit(Statement::from_sql_and_values(backend, sql, values), |_| Error::StaleConfig);
}

pub async fn update(
    tx: &TenantTx,
    id: SubscriptionId,
    changes: SubscriptionChanges,
    expected_etag: &str,
) -> Result<subscription::Model> {
    let current = get(tx, id).await?;
    check_etag(expected_etag, current.revision)?;
    let mut next = current.clone();
    if let Some(url) = changes.url {
        next.url = url;
    }
    if let Some(types) = changes.event_types {
        next.event_types = encode_types(&types);
    }
    if let Some(description) = changes.description {
        next.description = description;
    }
    let was = SubscriptionState::from_stored(&current.state);
    match changes.state {
        Some(SubscriptionState::Active) => {
            next.state = SubscriptionState::Active.as_str().into();
            next.disabled_reason.clear();
        }
        Some(SubscriptionState::Disabled) if was == SubscriptionState::Active => {
            next.state = SubscriptionState::Disabled.as_str().into();
            next.disabled_reason = DISABLED_BY_ADMIN.into();
        }
        _ => {}
    }
    next.revision += 1;
    next.update_time = now();
    save_revision(tx, &current, next.clone()).await?;
    if was == SubscriptionState::Active && SubscriptionState::from_stored(&next.state) == SubscriptionState::Disabled {
        deliveries::dead_letter_pending(tx, current.id, "subscription disabled").await?;
    }
    Ok(next)
}

/// Disables a subscription on the server's own account (the receiver
/// answered 410 Gone) and dead-letters its pending deliveries. For the
/// delivery worker; a subscription already disabled or deleted is left alone.
pub async fn disable(tx: &TenantTx, id: SubscriptionId, reason: &str) -> Result<()> {
    let current = match get(tx, id).await {
        Ok(row) => row,
        Err(Error::NotFound { .. }) => return Ok(()),
        Err(err) => return Err(err),
    };
    if SubscriptionState::from_stored(&current.state) == SubscriptionState::Active {
        let mut next = current.clone();
        next.state = SubscriptionState::Disabled.as_str().into();
        next.disabled_reason = reason.to_owned();
        next.revision += 1;
        next.update_time = now();
        save_revision(tx, &current, next).await?;
    }
    deliveries::dead_letter_pending(tx, current.id, reason).await
}

/// Soft-deletes a subscription; its pending deliveries are dropped.
pub async fn delete(tx: &TenantTx, id: SubscriptionId, expected_etag: &str) -> Result<()> {
    let current = get(tx, id).await?;
    check_etag(expected_etag, current.revision)?;
    let mut next = current.clone();
    next.revision += 1;
    next.update_time = now();
    next.delete_time = Some(next.update_time);
    save_revision(tx, &current, next).await?;
    deliveries::dead_letter_pending(tx, current.id, "subscription deleted").await
}

/// Replaces the signing secret. The current one becomes the previous one and
/// signs for 24 more hours; a previous one still valid ends at once.
pub async fn rotate_secret(tx: &TenantTx, id: SubscriptionId, new_secret: &str) -> Result<subscription::Model> {
    let current = get(tx, id).await?;
    let mut next = current.clone();
    next.update_time = now();
    let sealed = tx.secrets().seal(&secrets_at_rest::subscription(current.tenant_id, current.id), new_secret);
    // Both columns are sealed for the row (not the column), so the current
    // value moves over as it is.
    next.previous_secret = Some(std::mem::replace(&mut next.secret, sealed));
    next.previous_secret_expire_time = Some(next.update_time + PREVIOUS_SECRET_VALIDITY);
    next.revision += 1;
    save_revision(tx, &current, next.clone()).await?;
    Ok(next)
}

/// The secrets that sign a delivery made at `at`, opened: the current one,
/// then the previous one while it is still valid.
pub fn signing_secrets(
    secrets: &SecretBox,
    row: &subscription::Model,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<SecretString>> {
    let place = secrets_at_rest::subscription(row.tenant_id, row.id);
    let mut opened = vec![secrets.open(&place, &row.secret)?];
    if let (Some(previous), Some(until)) = (&row.previous_secret, row.previous_secret_expire_time)
        && at < until
    {
        opened.push(secrets.open(&place, previous)?);
    }
    Ok(opened)
}

/// The current signing secret, opened (a CreateSubscription or
/// RotateSubscriptionSecret answer; idempotency records never keep it).
pub fn current_secret(secrets: &SecretBox, row: &subscription::Model) -> Result<SecretString> {
    secrets.open(&secrets_at_rest::subscription(row.tenant_id, row.id), &row.secret)
}

/// The stored event types of a subscription (empty: all).
pub fn event_types(row: &subscription::Model) -> Vec<String> {
    serde_json::from_str(&row.event_types).unwrap_or_default()
}

fn encode_types(types: &[EventType]) -> String {
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

/// Writes `next` only if nobody changed the row since `current` was read.
async fn save_revision(tx: &TenantTx, current: &subscription::Model, next: subscription::Model) -> Result<()> {
    tx.config_changed();
    let result = subscription::Entity::update_many()
        .set(all_set::<subscription::ActiveModel, _>(next))
        .filter(subscription::Column::TenantId.eq(tx.tenant().0))
        .filter(subscription::Column::Id.eq(current.id))
        .filter(subscription::Column::Revision.eq(current.revision))
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 { Err(Error::Conflict) } else { Ok(()) }
}
