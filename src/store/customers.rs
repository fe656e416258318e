//! Customers of a tenant, identified by their E.164 phone number (unique
//! among the tenant's live customers), and the customer-side reads of
//! appointments (upcoming ones, and the check before a delete).
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::caches::customers::phone_key;
use super::caches::days::day_of;
use super::entities::{appointment, customer};
use super::{TenantTx, all_set, check_etag, is_unique_violation, now};
use crate::domain::appointment::Status;
use crate::domain::page::PageRequest;
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct NewCustomer {
    /// E.164.
    pub phone_number: String,
    pub display_name: String,
    pub email: String,
    pub notes: String,
}

#[derive(Clone, Debug, Default)]
pub struct CustomerChanges {
    pub phone_number: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
}

/// What ListCustomers matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerQuery {
    All,
    /// A prefix of the E.164 number ("+49151").
    PhonePrefix(String),
    /// A lower-case prefix of the display name or of any word in it.
    NamePrefix(String),
}

pub async fn create(tx: &TenantTx, new: NewCustomer) -> Result<customer::Model> {
    let at = now();
    tx.changed(|c| {
        c.phones.insert(phone_key(&new.phone_number));
        c.customer_days.insert(day_of(at.timestamp()))
    });
    let row = customer::Model {
        tenant_id: tx.tenant().0,
        id: Uuid::now_v7(),
        phone_number: new.phone_number,
        display_name: new.display_name,
        email: new.email,
        notes: new.notes,
        revision: 1,
        create_time: at,
        update_time: at,
        delete_time: None,
    };
    customer::Entity::insert(all_set::<customer::ActiveModel, _>(row.clone()))
        .exec_without_returning(tx.conn())
        .await
        .map_err(|err| {
            if is_unique_violation(&err) {
                Error::AlreadyExists { resource: "customer", detail: "a customer with this phone number exists".into() }
            } else {
                err.into()
            }
        })?;
    Ok(row)
}

/// Creates a customer whose number no live customer has; otherwise
/// `CustomerExists` names the one who has it (CreateCustomer).
pub async fn create_unique(tx: &TenantTx, new: NewCustomer) -> Result<customer::Model> {
    if let Some(existing) = find_by_phone(tx, &new.phone_number).await? {
        return Err(Error::CustomerExists { customer_id: existing.id.to_string() });
    }
    match create(tx, new).await {
        // A concurrent create committed first; the retried transaction finds
        // it above and reports its id.
        Err(Error::AlreadyExists { .. }) => Err(Error::Conflict),
        other => other,
    }
}

/// The live customer with this E.164 number, if any.
pub async fn find_by_phone(tx: &TenantTx, phone_number: &str) -> Result<Option<customer::Model>> {
    Ok(customer::Entity::find()
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::PhoneNumber.eq(phone_number))
        .filter(customer::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?)
}

/// Finds the customer by phone number, or creates one. An existing
/// customer's empty name and e-mail are filled in; nothing is overwritten.
/// Returns the customer and whether it was created.
pub async fn find_or_create(tx: &TenantTx, new: NewCustomer) -> Result<(customer::Model, bool)> {
    match find_by_phone(tx, &new.phone_number).await? {
        // A concurrent call may create the same customer first; retrying the
        // transaction then finds it.
        None => match create(tx, new).await {
            Ok(created) => Ok((created, true)),
            Err(Error::AlreadyExists { .. }) => Err(Error::Conflict),
            Err(other) => Err(other),
        },
        Some(existing) => {
            let fill_name = existing.display_name.is_empty() && !new.display_name.is_empty();
            let fill_email = existing.email.is_empty() && !new.email.is_empty();
            if !fill_name && !fill_email {
                return Ok((existing, false));
            }
            let changes = CustomerChanges {
                display_name: fill_name.then_some(new.display_name),
                email: fill_email.then_some(new.email),
                ..Default::default()
            };
            Ok((update(tx, existing.id, changes, "").await?, false))
        }
    }
}

pub async fn get(tx: &TenantTx, id: Uuid) -> Result<customer::Model> {
    live(tx, id).one(tx.conn()).await?.ok_or(Error::NotFound { resource: "customer" })
}

/// A live customer a booking names, locked until the transaction ends.
/// With `delete` taking the row exclusively before it looks for upcoming
/// appointments, a deletion and a booking of one customer cannot interleave
/// on PostgreSQL: whichever comes second sees the other's result (a deleted
/// customer, or an appointment that blocks the deletion). `exclusive` also
/// makes two bookings of the customer run one after the other (see
/// `lock_for_new_appointment`); otherwise the lock is shared. SQLite
/// serializes write transactions already and ignores row locks.
pub async fn get_for_booking(tx: &TenantTx, id: Uuid, exclusive: bool) -> Result<customer::Model> {
    let select = live(tx, id);
    let select = if exclusive { select.lock(sea_orm::sea_query::LockType::NoKeyUpdate) } else { select.lock_shared() };
    select.one(tx.conn()).await?.ok_or(Error::NotFound { resource: "customer" })
}

/// Takes the customer's row exclusively until the transaction ends, so two
/// bookings of one customer run one after the other on PostgreSQL and the
/// second sees the first's appointment (a tenant refusing overlapping
/// appointments of one customer checks after this). SQLite serializes write
/// transactions already.
pub async fn lock_for_new_appointment(tx: &TenantTx, id: Uuid) -> Result<()> {
    use sea_orm::QuerySelect;
    let locked: Option<Uuid> = customer::Entity::find()
        .select_only()
        .column(customer::Column::Id)
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::Id.eq(id))
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
        .into_tuple()
        .one(tx.conn())
        .await?;
    locked.map(drop).ok_or(Error::NotFound { resource: "customer" })
}

fn live(tx: &TenantTx, id: Uuid) -> sea_orm::Select<customer::Entity> {
    customer::Entity::find_by_id((tx.tenant().0, id)).filter(customer::Column::DeleteTime.is_null())
}

/// One page of live customers ordered by lower-case display name, then id.
/// The page token carries the last row's sort key as the database computed
/// it (`sort_key_of`; SQL's lower() and Rust's differ beyond ASCII), so a
/// rename between two requests neither repeats nor skips rows.
/// A customer's sort key for `list`: the lower-case display name, as the
/// database lowers it. Deleted rows are never removed, so the row is there.
pub async fn sort_key_of(tx: &TenantTx, id: Uuid) -> Result<String> {
    let key: Option<String> = customer::Entity::find()
        .select_only()
        .column_as(Expr::expr(Func::lower(Expr::col(customer::Column::DisplayName))), "sort_key")
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::Id.eq(id))
        .into_tuple()
        .one(tx.conn())
        .await?;
    key.ok_or_else(|| Error::invalid("page_token", "is not a token issued for this list"))
}

pub async fn list(tx: &TenantTx, page: &PageRequest, query: &CustomerQuery) -> Result<Vec<customer::Model>> {
    let sort_key = || Expr::expr(Func::lower(Expr::col(customer::Column::DisplayName)));
    let mut select = customer::Entity::find()
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::DeleteTime.is_null());
    match query {
        CustomerQuery::All => {}
        CustomerQuery::PhonePrefix(prefix) => {
            select = select.filter(Expr::col(customer::Column::PhoneNumber).like(prefix_pattern("", prefix)));
        }
        CustomerQuery::NamePrefix(prefix) => {
            // Words are separated by spaces or hyphens ("Müller-Lüdenscheidt").
            select = select.filter(
                Condition::any()
                    .add(sort_key().like(prefix_pattern("", prefix)))
                    .add(sort_key().like(prefix_pattern("% ", prefix)))
                    .add(sort_key().like(prefix_pattern("%-", prefix))),
            );
        }
    }
    let position = match (page.after_text_key(), page.after) {
        (Some((key, after)), _) => Some((key.to_owned(), after)),
        // A token issued before tokens carried the name: the row's name now.
        (None, Some(after)) => Some((sort_key_of(tx, after).await?, after)),
        (None, None) => None,
    };
    if let Some((key, after)) = position {
        select = select.filter(
            Condition::any()
                .add(sort_key().gt(key.clone()))
                .add(sort_key().eq(key).and(Expr::col(customer::Column::Id).gt(after))),
        );
    }
    Ok(select
        .order_by_asc(sort_key())
        .order_by_asc(customer::Column::Id)
        .limit(page.fetch_limit())
        .all(tx.conn())
        .await?)
}

/// A LIKE pattern: `lead` (raw pattern text), then `prefix` literally, then
/// anything. `\` escapes the prefix's own wildcards.
fn prefix_pattern(lead: &str, prefix: &str) -> LikeExpr {
    let mut pattern = String::from(lead);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('\\')
}

pub async fn update(tx: &TenantTx, id: Uuid, changes: CustomerChanges, expected_etag: &str) -> Result<customer::Model> {
    let current = get(tx, id).await?;
    check_etag(expected_etag, current.revision)?;
    let mut next = current.clone();
    if let Some(v) = changes.phone_number {
        if v != current.phone_number
            && let Some(owner) = find_by_phone(tx, &v).await?
        {
            return Err(Error::CustomerExists { customer_id: owner.id.to_string() });
        }
        next.phone_number = v;
    }
    if let Some(v) = changes.display_name {
        next.display_name = v;
    }
    if let Some(v) = changes.email {
        next.email = v;
    }
    if let Some(v) = changes.notes {
        next.notes = v;
    }
    next.revision += 1;
    next.update_time = now();
    save_revision(tx, &current, next.clone()).await?;
    Ok(next)
}

/// Deletes the customer's personal data: the row stays (appointments refer
/// to it) but is marked deleted and its contact fields are blanked, which
/// also frees the phone number. Refused while the customer still has open
/// appointments.
pub async fn delete(tx: &TenantTx, id: Uuid, expected_etag: &str) -> Result<()> {
    // Exclusive until commit: see get_for_booking.
    let current =
        live(tx, id).lock_exclusive().one(tx.conn()).await?.ok_or(Error::NotFound { resource: "customer" })?;
    check_etag(expected_etag, current.revision)?;
    let at = now();
    if !upcoming_appointments(tx, id, at, 1).await?.is_empty() {
        return Err(Error::FailedPrecondition {
            reason: "FAILED_PRECONDITION",
            message: "the customer has pending or confirmed appointments that have not ended; cancel them first".into(),
        });
    }
    let next = customer::Model {
        phone_number: String::new(),
        display_name: String::new(),
        email: String::new(),
        notes: String::new(),
        revision: current.revision + 1,
        update_time: at,
        delete_time: Some(at),
        ..current.clone()
    };
    save_revision(tx, &current, next).await
}

/// Live customers, at most `limit` (a cache warm-up).
pub async fn all_live(tx: &TenantTx, limit: u64) -> Result<Vec<customer::Model>> {
    Ok(customer::Entity::find()
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::DeleteTime.is_null())
        .limit(limit)
        .all(tx.conn())
        .await?)
}

/// Every customer's PENDING or CONFIRMED appointments that have not ended at
/// `at`, by customer and start (a cache warm-up); served by
/// appointments_start_idx within a day before `at` and onwards.
pub async fn upcoming_of_all(tx: &TenantTx, at: DateTime<Utc>) -> Result<Vec<appointment::Model>> {
    let active = Status::ALL.into_iter().filter(|s| s.is_active()).map(Status::as_str);
    Ok(appointment::Entity::find()
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::Status.is_in(active))
        .filter(appointment::Column::EndTime.gt(at))
        .filter(appointment::Column::StartTime.gt(at - crate::domain::appointment::MAX_LENGTH))
        .order_by_asc(appointment::Column::CustomerId)
        .order_by_asc(appointment::Column::StartTime)
        .order_by_asc(appointment::Column::Id)
        .all(tx.conn())
        .await?)
}

/// The customer's PENDING or CONFIRMED appointments (in every branch) that
/// have not ended at `at`, by start time; served by appointments_customer_idx.
pub async fn upcoming_appointments(
    tx: &TenantTx,
    customer_id: Uuid,
    at: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<appointment::Model>> {
    let active = Status::ALL.into_iter().filter(|s| s.is_active()).map(Status::as_str);
    Ok(appointment::Entity::find()
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::CustomerId.eq(customer_id))
        .filter(appointment::Column::Status.is_in(active))
        .filter(appointment::Column::EndTime.gt(at))
        // Bounds the scan of the customer's history (see MAX_LENGTH).
        .filter(appointment::Column::StartTime.gt(at - crate::domain::appointment::MAX_LENGTH))
        .order_by_asc(appointment::Column::StartTime)
        .order_by_asc(appointment::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await?)
}

/// Customers created in `[from, to)` (the dashboard, when the caches are off).
pub async fn count_created(tx: &TenantTx, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<u64> {
    Ok(customer::Entity::find()
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::CreateTime.gte(from))
        .filter(customer::Column::CreateTime.lt(to))
        .count(tx.conn())
        .await?)
}

/// Customers created in `[from, to)` who have an appointment (any time, any
/// status) in `branch_id`: a branch's dashboard counts only its own customers.
pub async fn count_created_in_branch(
    tx: &TenantTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    branch_id: Uuid,
) -> Result<u64> {
    let in_branch = Query::select()
        .column(appointment::Column::CustomerId)
        .from(appointment::Entity)
        .and_where(Expr::col(appointment::Column::TenantId).eq(tx.tenant().0))
        .and_where(Expr::col(appointment::Column::BranchId).eq(branch_id))
        .to_owned();
    Ok(customer::Entity::find()
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::CreateTime.gte(from))
        .filter(customer::Column::CreateTime.lt(to))
        .filter(customer::Column::Id.in_subquery(in_branch))
        .count(tx.conn())
        .await?)
}

async fn save_revision(tx: &TenantTx, current: &customer::Model, next: customer::Model) -> Result<()> {
    tx.changed(|c| {
        c.customer_changed(current.id);
        c.phones.insert(phone_key(&current.phone_number));
        c.phones.insert(phone_key(&next.phone_number))
    });
    // A unique violation here means a concurrent write took the phone number
    // after `update` checked it; the retried transaction reports the owner.
    let result = customer::Entity::update_many()
        .set(all_set::<customer::ActiveModel, _>(next))
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::Id.eq(current.id))
        .filter(customer::Column::Revision.eq(current.revision))
        .exec(tx.conn())
        .await
        .map_err(|err| if is_unique_violation(&err) { Error::Conflict } else { err.into() })?;
    if result.rows_affected == 0 { Err(Error::Conflict) } else { Ok(()) }
}
