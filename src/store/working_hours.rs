//! Weekly working hours per staff member, in minutes after local midnight,
//! and what a schedule change needs besides: the staff member locked with
//! their branch's time zone, and their upcoming appointments it may conflict with.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::{appointment, branch, staff, working_hours};
use super::{TenantTx, all_set};
use crate::domain::appointment::Status;
use crate::error::{Error, Result};

pub use crate::domain::slots::WeeklyInterval;

/// A live staff member whose schedule the current transaction may change.
/// Only `lock_staff` and `touch_staff` make one, so holding it proves that
/// concurrent schedule changes of this staff member wait for this transaction.
#[derive(Clone, Debug)]
pub struct LockedStaff {
    pub id: Uuid,
    /// The IANA zone of the staff member's branch: working hours and date
    /// overrides are wall-clock times there.
    pub time_zone: String,
}

/// A live staff member of the tenant with their branch's time zone, for reads.
#[derive(Clone, Debug)]
pub struct StaffZone {
    pub id: Uuid,
    pub time_zone: String,
    pub update_time: DateTime<Utc>,
}

/// Replaces the whole week of `staff_id`.
pub async fn replace(tx: &TenantTx, staff_id: Uuid, intervals: &[WeeklyInterval]) -> Result<()> {
    working_hours::Entity::delete_many()
        .filter(working_hours::Column::TenantId.eq(tx.tenant().0))
        .filter(working_hours::Column::StaffId.eq(staff_id))
        .exec(tx.conn())
        .await?;
    if intervals.is_empty() {
        return Ok(());
    }
    let rows = intervals.iter().map(|i| {
        all_set::<working_hours::ActiveModel, _>(working_hours::Model {
            tenant_id: tx.tenant().0,
            staff_id,
            day_of_week: i.day_of_week,
            start_minute: i.start_minute,
            end_minute: i.end_minute,
        })
    });
    working_hours::Entity::insert_many(rows).exec_without_returning(tx.conn()).await?;
    Ok(())
}

/// The week of one staff member, ordered by day, then start.
pub async fn of_staff(tx: &TenantTx, staff_id: Uuid) -> Result<Vec<WeeklyInterval>> {
    Ok(of_staff_many(tx, &[staff_id]).await?.into_iter().map(|(_, interval)| interval).collect())
}

/// The weeks of several staff members in one query, ordered by staff, day, start.
pub async fn of_staff_many(tx: &TenantTx, staff_ids: &[Uuid]) -> Result<Vec<(Uuid, WeeklyInterval)>> {
    if staff_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(working_hours::Entity::find()
        .filter(working_hours::Column::TenantId.eq(tx.tenant().0))
        .filter(working_hours::Column::StaffId.is_in(staff_ids.iter().copied()))
        .order_by_asc(working_hours::Column::StaffId)
        .order_by_asc(working_hours::Column::DayOfWeek)
        .order_by_asc(working_hours::Column::StartMinute)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|r| {
            let interval =
                WeeklyInterval { day_of_week: r.day_of_week, start_minute: r.start_minute, end_minute: r.end_minute };
            (r.staff_id, interval)
        })
        .collect())
}

/// A live staff member with their branch's time zone; NOT_FOUND for an
/// unknown, deleted or foreign id.
pub async fn staff_zone(tx: &TenantTx, staff_id: Uuid) -> Result<StaffZone> {
    let row = staff::Entity::find_by_id((tx.tenant().0, staff_id))
        .filter(staff::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "staff" })?;
    let time_zone = branch_zone(tx, row.branch_id).await?;
    Ok(StaffZone { id: row.id, time_zone, update_time: row.update_time })
}

/// The live staff members of the tenant (or only `only`, if given) with
/// their branches' time zones, ordered by id.
pub async fn staff_zones(tx: &TenantTx, only: Option<Uuid>) -> Result<Vec<StaffZone>> {
    let mut query = staff::Entity::find()
        .filter(staff::Column::TenantId.eq(tx.tenant().0))
        .filter(staff::Column::DeleteTime.is_null());
    if let Some(id) = only {
        query = query.filter(staff::Column::Id.eq(id));
    }
    let rows = query.order_by_asc(staff::Column::Id).all(tx.conn()).await?;
    let mut branch_ids: Vec<Uuid> = rows.iter().map(|r| r.branch_id).collect();
    branch_ids.sort();
    branch_ids.dedup();
    // Deleted branches still name a zone: their staff's schedules keep meaning.
    let zones: std::collections::HashMap<Uuid, String> = branch::Entity::find()
        .select_only()
        .column(branch::Column::Id)
        .column(branch::Column::TimeZone)
        .filter(branch::Column::TenantId.eq(tx.tenant().0))
        .filter(branch::Column::Id.is_in(branch_ids))
        .into_tuple::<(Uuid, String)>()
        .all(tx.conn())
        .await?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|r| {
            let time_zone = zones.get(&r.branch_id).cloned().ok_or_else(|| missing_branch(r.branch_id))?;
            Ok(StaffZone { id: r.id, time_zone, update_time: r.update_time })
        })
        .collect()
}

/// Locks a live staff member's row until the transaction ends, so two
/// schedule changes of one staff member (an etag check and the write, or
/// "no override on that date yet" and the insert) cannot interleave. SQLite
/// needs no row lock: its write transactions are serialized already.
pub async fn lock_staff(tx: &TenantTx, staff_id: Uuid) -> Result<LockedStaff> {
    let row = staff::Entity::find_by_id((tx.tenant().0, staff_id))
        .filter(staff::Column::DeleteTime.is_null())
        .lock_exclusive()
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "staff" })?;
    let time_zone = branch_zone(tx, row.branch_id).await?;
    Ok(LockedStaff { id: row.id, time_zone })
}

/// Records that a staff member's working hours were set at `at`: their row's
/// update_time moves (the row is locked by the same statement), their
/// revision does not, so staff etags held by clients stay valid.
pub async fn touch_staff(tx: &TenantTx, staff_id: Uuid, at: DateTime<Utc>) -> Result<LockedStaff> {
    let result = staff::Entity::update_many()
        .col_expr(staff::Column::UpdateTime, Expr::value(at))
        .filter(staff::Column::TenantId.eq(tx.tenant().0))
        .filter(staff::Column::Id.eq(staff_id))
        .filter(staff::Column::DeleteTime.is_null())
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::NotFound { resource: "staff" });
    }
    lock_staff(tx, staff_id).await
}

/// The staff member's PENDING or CONFIRMED appointments that have not ended
/// by `now` (and, if `window` is given, overlap it), as (id, start, end)
/// ordered by start. Schedule changes report these as conflicts.
pub async fn upcoming_appointments(
    tx: &TenantTx,
    staff_id: Uuid,
    now: DateTime<Utc>,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)>> {
    let active = Status::ALL.into_iter().filter(|s| s.is_active()).map(|s| s.as_str());
    let mut query = appointment::Entity::find()
        .select_only()
        .column(appointment::Column::Id)
        .column(appointment::Column::StartTime)
        .column(appointment::Column::EndTime)
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::StaffId.eq(staff_id))
        .filter(appointment::Column::Status.is_in(active))
        .filter(appointment::Column::EndTime.gt(now));
    if let Some((from, to)) = window {
        query = query.filter(appointment::Column::StartTime.lt(to)).filter(appointment::Column::EndTime.gt(from));
    }
    Ok(query
        .order_by_asc(appointment::Column::StartTime)
        .order_by_asc(appointment::Column::Id)
        .into_tuple()
        .all(tx.conn())
        .await?)
}

async fn branch_zone(tx: &TenantTx, branch_id: Uuid) -> Result<String> {
    // Deleted branches still name a zone: their staff's schedules keep meaning.
    branch::Entity::find_by_id((tx.tenant().0, branch_id))
        .select_only()
        .column(branch::Column::TimeZone)
        .into_tuple::<String>()
        .one(tx.conn())
        .await?
        .ok_or_else(|| missing_branch(branch_id))
}

/// The foreign key from staff to branches makes this impossible short of a
/// corrupted database.
fn missing_branch(branch_id: Uuid) -> Error {
    Error::Internal(format!("staff references missing branch {branch_id}"))
}
