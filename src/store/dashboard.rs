//! The dashboard's reads: appointments per status with their booked time,
//! aggregated by the database, and the staff calendars that utilization is
//! measured against.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::entities::{appointment, branch, staff};
use super::{TenantTx, time_off, working_hours};
use crate::domain::slots::StaffCalendar;
use crate::error::{Error, Result};

/// Appointments of one status starting in a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusTotal {
    /// As stored ("pending", "no_show", ...).
    pub status: String,
    pub count: i64,
    /// Sum of `end_time - start_time`, in seconds.
    pub booked_seconds: i64,
}

/// A staff member's weekly hours and the time zone they are read in (their
/// branch's: a tenant-wide dashboard spans branches in several zones).
#[derive(Clone, Debug)]
pub struct StaffHours {
    pub calendar: StaffCalendar,
    pub time_zone: String,
}

/// Per status: how many appointments start in `[from, to)` (in `branch_id`,
/// if given) and how long they last. One GROUP BY query; no rows are loaded.
pub async fn totals_by_status(
    tx: &TenantTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    branch_id: Option<Uuid>,
) -> Result<Vec<StatusTotal>> {
    // Timestamps are timestamptz on PostgreSQL and RFC 3339 text on SQLite,
    // so the length of an appointment is spelled per backend.
    let seconds = match tx.conn().get_database_backend() {
        DbBackend::Postgres => "EXTRACT(EPOCH FROM (end_time - start_time))",
        _ => "(CAST(strftime('%s', end_time) AS INTEGER) - CAST(strftime('%s', start_time) AS INTEGER))",
    };
    let mut query = appointment::Entity::find()
        .select_only()
        .column(appointment::Column::Status)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "count")
        .column_as(Expr::cust(format!("CAST(COALESCE(SUM({seconds}), 0) AS BIGINT)")), "booked_seconds")
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::StartTime.gte(from))
        .filter(appointment::Column::StartTime.lt(to));
    if let Some(branch_id) = branch_id {
        query = query.filter(appointment::Column::BranchId.eq(branch_id));
    }
    let rows: Vec<(String, i64, i64)> = query.group_by(appointment::Column::Status).into_tuple().all(tx.conn()).await?;
    Ok(rows.into_iter().map(|(status, count, booked_seconds)| StatusTotal { status, count, booked_seconds }).collect())
}

/// Calendars of the live staff of `branch_id` (or of the whole tenant) for
/// measuring open time in `[from, to)`: weekly hours, date overrides and
/// absences, each with their branch's time zone.
pub async fn staff_hours(
    tx: &TenantTx,
    branch_id: Option<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<StaffHours>> {
    let mut query = staff::Entity::find()
        .select_only()
        .column(staff::Column::Id)
        .column(staff::Column::BranchId)
        .filter(staff::Column::TenantId.eq(tx.tenant().0))
        .filter(staff::Column::DeleteTime.is_null());
    if let Some(branch_id) = branch_id {
        query = query.filter(staff::Column::BranchId.eq(branch_id));
    }
    let members: Vec<(Uuid, Uuid)> = query.into_tuple().all(tx.conn()).await?;
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let zones: HashMap<Uuid, String> = branch::Entity::find()
        .select_only()
        .column(branch::Column::Id)
        .column(branch::Column::TimeZone)
        .filter(branch::Column::TenantId.eq(tx.tenant().0))
        .filter(branch::Column::Id.is_in(members.iter().map(|(_, b)| *b)))
        .into_tuple::<(Uuid, String)>()
        .all(tx.conn())
        .await?
        .into_iter()
        .collect();
    let ids: Vec<Uuid> = members.iter().map(|(s, _)| *s).collect();
    // One query for every staff member's week, not one per staff member.
    let mut calendars: HashMap<Uuid, StaffCalendar> =
        ids.iter().map(|&staff_id| (staff_id, StaffCalendar { staff_id, ..Default::default() })).collect();
    for (staff_id, interval) in working_hours::of_staff_many(tx, &ids).await? {
        if let Some(calendar) = calendars.get_mut(&staff_id) {
            calendar.weekly.push(interval);
        }
    }
    for (staff_id, start, end) in time_off::absences(tx, &ids, from, to).await? {
        if let Some(calendar) = calendars.get_mut(&staff_id) {
            calendar.absences.push((start.timestamp(), end.timestamp()));
        }
    }
    // Overrides are dated in each branch's own zone, which may be a day
    // ahead of or behind UTC; open time is clipped to the range anyway.
    let (first, last) = (utc_date(from, -1)?, utc_date(to, 1)?);
    for (staff_id, date, intervals) in time_off::overrides(tx, &ids, first, last).await? {
        if let Some(calendar) = calendars.get_mut(&staff_id) {
            calendar.overrides.insert(date, intervals);
        }
    }
    let mut out = Vec::with_capacity(members.len());
    for (staff_id, branch_id) in members {
        if let Some(calendar) = calendars.remove(&staff_id) {
            let time_zone = zones.get(&branch_id).cloned().unwrap_or_default();
            out.push(StaffHours { calendar, time_zone });
        }
    }
    Ok(out)
}

/// The UTC calendar date of `at`, shifted by `days`.
fn utc_date(at: DateTime<Utc>, days: i64) -> Result<Date> {
    let out_of_range = |e: jiff::Error| Error::Internal(format!("date out of range: {e}"));
    let timestamp = Timestamp::from_second(at.timestamp()).map_err(out_of_range)?;
    TimeZone::UTC.to_datetime(timestamp).date().checked_add(days.days()).map_err(out_of_range)
}
