//! Time off: absences (real-time ranges) and date overrides (a day's hours
//! replaced), per staff member. Time off of a deleted staff member is gone
//! for every reader, as the staff member is; the rows stay for the history.
use chrono::{DateTime, Utc};
use jiff::civil::Date;
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::{staff, time_off};
use super::staff::LockedStaff;
use super::{TenantTx, all_set, now};
use crate::error::{Error, Result};

/// What a time off entry does to availability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeOffKind {
    /// `[start, end)` of real time is unavailable.
    Absence { start: DateTime<Utc>, end: DateTime<Utc> },
    /// The local date's weekly hours are replaced by `intervals` (minutes
    /// after local midnight, sorted, not overlapping; empty: closed).
    Override { date: Date, intervals: Vec<(i32, i32)> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeOff {
    pub id: Uuid,
    pub staff_id: Uuid,
    pub kind: TimeOffKind,
    pub reason: String,
    pub create_time: DateTime<Utc>,
}

/// Creates a time off entry. A second override of one staff member and date
/// is ALREADY_EXISTS; the lock on the staff member makes "none yet, insert"
/// atomic (the table has no unique key over the date: absences share it).
/// Instants are kept to the microsecond, the precision both backends store.
pub async fn create(tx: &TenantTx, staff: &LockedStaff, kind: TimeOffKind, reason: String) -> Result<TimeOff> {
    tx.changed(|c| c.time_off.insert(staff.id));
    let kind = match kind {
        TimeOffKind::Absence { start, end } => TimeOffKind::Absence { start: to_micros(start), end: to_micros(end) },
        TimeOffKind::Override { date, intervals } => {
            if override_exists(tx, staff.id, date).await? {
                return Err(Error::AlreadyExists {
                    resource: "time off",
                    detail: format!("the staff member already has an override for {}", date_text(date)),
                });
            }
            TimeOffKind::Override { date, intervals }
        }
    };
    let entry = TimeOff { id: Uuid::now_v7(), staff_id: staff.id, kind, reason, create_time: now() };
    time_off::Entity::insert(all_set::<time_off::ActiveModel, _>(to_row(tx, &entry)?))
        .exec_without_returning(tx.conn())
        .await?;
    Ok(entry)
}

/// One entry; NOT_FOUND if unknown, foreign, or its staff member was deleted.
pub async fn get(tx: &TenantTx, id: Uuid) -> Result<TimeOff> {
    let row = time_off::Entity::find_by_id((tx.tenant().0, id))
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "time off" })?;
    let live_staff = staff::Entity::find()
        .filter(staff::Column::TenantId.eq(tx.tenant().0))
        .filter(staff::Column::Id.eq(row.staff_id))
        .filter(staff::Column::DeleteTime.is_null())
        .count(tx.conn())
        .await?;
    if live_staff == 0 {
        return Err(Error::NotFound { resource: "time off" });
    }
    from_row(row)
}

/// Deletes an entry (hard: time off has no history worth keeping once gone).
pub async fn delete(tx: &TenantTx, id: Uuid) -> Result<()> {
    let entry = get(tx, id).await?;
    tx.changed(|c| c.time_off.insert(entry.staff_id));
    let result = time_off::Entity::delete_many()
        .filter(time_off::Column::TenantId.eq(tx.tenant().0))
        .filter(time_off::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 { Err(Error::NotFound { resource: "time off" }) } else { Ok(()) }
}

/// Absences of `staff_ids` overlapping `range` (if given), ordered by
/// (start, id) and continuing after `after`; at most `limit`.
pub async fn list_absences(
    tx: &TenantTx,
    staff_ids: &[Uuid],
    range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<TimeOff>> {
    if staff_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = scoped(tx, staff_ids).filter(time_off::Column::OverrideDate.is_null());
    if let Some((from, to)) = range {
        query = query.filter(time_off::Column::StartTime.lt(to)).filter(time_off::Column::EndTime.gt(from));
    }
    if let Some((start, id)) = after {
        query = query.filter(
            Condition::any()
                .add(time_off::Column::StartTime.gt(start))
                .add(Condition::all().add(time_off::Column::StartTime.eq(start)).add(time_off::Column::Id.gt(id))),
        );
    }
    let rows = query
        .order_by_asc(time_off::Column::StartTime)
        .order_by_asc(time_off::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await?;
    rows.into_iter().map(from_row).collect()
}

/// Overrides of `staff_ids` dated within `[first, last]` (each bound
/// optional), ordered by (date, id) and continuing after `after`; at most `limit`.
pub async fn list_overrides(
    tx: &TenantTx,
    staff_ids: &[Uuid],
    first: Option<Date>,
    last: Option<Date>,
    after: Option<(Date, Uuid)>,
    limit: u64,
) -> Result<Vec<TimeOff>> {
    if staff_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = scoped(tx, staff_ids).filter(time_off::Column::OverrideDate.is_not_null());
    // ISO dates of four-digit years order as text exactly as dates do.
    if let Some(first) = first {
        query = query.filter(time_off::Column::OverrideDate.gte(date_text(first)));
    }
    if let Some(last) = last {
        query = query.filter(time_off::Column::OverrideDate.lte(date_text(last)));
    }
    if let Some((date, id)) = after {
        let date = date_text(date);
        query = query.filter(
            Condition::any()
                .add(time_off::Column::OverrideDate.gt(date.clone()))
                .add(Condition::all().add(time_off::Column::OverrideDate.eq(date)).add(time_off::Column::Id.gt(id))),
        );
    }
    let rows = query
        .order_by_asc(time_off::Column::OverrideDate)
        .order_by_asc(time_off::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await?;
    rows.into_iter().map(from_row).collect()
}

/// For the slot engine: (staff, start, end) of the absences of `staff_ids`
/// overlapping `[from, to)`, ordered by staff, then start.
pub async fn absences(
    tx: &TenantTx,
    staff_ids: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)>> {
    if staff_ids.is_empty() {
        return Ok(Vec::new());
    }
    // The columns are nullable (overrides leave them empty); absences fill both.
    type Row = (Uuid, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let rows: Vec<Row> = scoped(tx, staff_ids)
        .select_only()
        .column(time_off::Column::StaffId)
        .column(time_off::Column::StartTime)
        .column(time_off::Column::EndTime)
        .filter(time_off::Column::OverrideDate.is_null())
        .filter(time_off::Column::StartTime.lt(to))
        .filter(time_off::Column::EndTime.gt(from))
        .order_by_asc(time_off::Column::StaffId)
        .order_by_asc(time_off::Column::StartTime)
        .into_tuple()
        .all(tx.conn())
        .await?;
    rows.into_iter()
        .map(|(staff_id, start, end)| match (start, end) {
            (Some(start), Some(end)) => Ok((staff_id, start, end)),
            _ => Err(Error::Internal("absence without start or end time".into())),
        })
        .collect()
}

/// For the slot engine: (staff, date, intervals) of the overrides of
/// `staff_ids` dated within `[first, last]`, ordered by staff, then date.
pub async fn overrides(
    tx: &TenantTx,
    staff_ids: &[Uuid],
    first: Date,
    last: Date,
) -> Result<Vec<(Uuid, Date, Vec<(i32, i32)>)>> {
    if staff_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, Option<String>, String)> = scoped(tx, staff_ids)
        .select_only()
        .column(time_off::Column::StaffId)
        .column(time_off::Column::OverrideDate)
        .column(time_off::Column::Intervals)
        .filter(time_off::Column::OverrideDate.gte(date_text(first)))
        .filter(time_off::Column::OverrideDate.lte(date_text(last)))
        .order_by_asc(time_off::Column::StaffId)
        .order_by_asc(time_off::Column::OverrideDate)
        .into_tuple()
        .all(tx.conn())
        .await?;
    rows.into_iter()
        .map(|(staff_id, date, intervals)| {
            let date = parse_date(date.as_deref().unwrap_or_default())?;
            Ok((staff_id, date, parse_intervals(&intervals)?))
        })
        .collect()
}

/// The override date as stored: ISO 8601, "2026-12-24".
pub fn date_text(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

fn scoped(tx: &TenantTx, staff_ids: &[Uuid]) -> sea_orm::Select<time_off::Entity> {
    time_off::Entity::find()
        .filter(time_off::Column::TenantId.eq(tx.tenant().0))
        .filter(time_off::Column::StaffId.is_in(staff_ids.iter().copied()))
}

async fn override_exists(tx: &TenantTx, staff_id: Uuid, date: Date) -> Result<bool> {
    let count = time_off::Entity::find()
        .filter(time_off::Column::TenantId.eq(tx.tenant().0))
        .filter(time_off::Column::StaffId.eq(staff_id))
        .filter(time_off::Column::OverrideDate.eq(date_text(date)))
        .count(tx.conn())
        .await?;
    Ok(count > 0)
}

fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn to_row(tx: &TenantTx, entry: &TimeOff) -> Result<time_off::Model> {
    let (start_time, end_time, override_date, intervals) = match &entry.kind {
        TimeOffKind::Absence { start, end } => (Some(*start), Some(*end), None, "[]".to_owned()),
        TimeOffKind::Override { date, intervals } => {
            (None, None, Some(date_text(*date)), serde_json::to_string(intervals).map_err(Error::internal)?)
        }
    };
    Ok(time_off::Model {
        tenant_id: tx.tenant().0,
        id: entry.id,
        staff_id: entry.staff_id,
        start_time,
        end_time,
        override_date,
        intervals,
        reason: entry.reason.clone(),
        create_time: entry.create_time,
    })
}

fn from_row(row: time_off::Model) -> Result<TimeOff> {
    let kind = match (row.start_time, row.end_time, row.override_date) {
        (Some(start), Some(end), None) => TimeOffKind::Absence { start, end },
        (None, None, Some(date)) => {
            TimeOffKind::Override { date: parse_date(&date)?, intervals: parse_intervals(&row.intervals)? }
        }
        _ => return Err(Error::Internal(format!("time off {} is neither an absence nor an override", row.id))),
    };
    Ok(TimeOff { id: row.id, staff_id: row.staff_id, kind, reason: row.reason, create_time: row.create_time })
}

fn parse_date(text: &str) -> Result<Date> {
    text.parse().map_err(|e| Error::Internal(format!("stored override date {text:?} is invalid: {e}")))
}

fn parse_intervals(text: &str) -> Result<Vec<(i32, i32)>> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored override intervals are invalid: {e}")))
}
