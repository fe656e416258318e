//! Loads what the slot engine needs for some staff over a time window:
//! weekly hours (from the tenant's configuration), date overrides,
//! absences, and the busy ranges of live appointments and holds.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{TenantConfig, TenantTx, slot_claims, time_off};
use crate::domain::slots::StaffCalendar;
use crate::error::Result;

/// Calendars of `staff_ids` for slots starting in `[from, to)`. The window is
/// widened by a day each side: local days and buffers reach past it.
pub async fn load(
    tx: &TenantTx,
    config: &TenantConfig,
    staff_ids: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<StaffCalendar>> {
    let mut calendars = load_schedules(tx, config, staff_ids, from, to).await?;
    let (wide_from, wide_to) = (from - Duration::days(1), to + Duration::days(1));
    for (staff, start, end) in slot_claims::busy(tx, staff_ids, wide_from, wide_to, now).await? {
        if let Ok(index) = calendars.binary_search_by_key(&staff, |c| c.staff_id) {
            calendars[index].busy.push((start.timestamp(), end.timestamp()));
        }
    }
    Ok(calendars)
}

/// The calendars without their busy time: when a staff member works, not
/// whom they see. Enough to tell whether a start is on the schedule (a
/// booking's claim then decides whether it is free). Sorted by staff id.
pub async fn load_schedules(
    tx: &TenantTx,
    config: &TenantConfig,
    staff_ids: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<StaffCalendar>> {
    let (wide_from, wide_to) = (from - Duration::days(1), to + Duration::days(1));
    let mut calendars: HashMap<Uuid, StaffCalendar> =
        staff_ids.iter().map(|&id| (id, StaffCalendar { staff_id: id, ..Default::default() })).collect();
    for (staff, calendar) in &mut calendars {
        calendar.weekly = config.weekly_hours(*staff).to_vec();
    }
    // Local dates around the window, in any zone: a day either side covers every offset.
    let first = date_of(wide_from - Duration::days(1));
    let last = date_of(wide_to + Duration::days(1));
    for (staff, date, intervals) in time_off::overrides(tx, staff_ids, first, last).await? {
        if let Some(calendar) = calendars.get_mut(&staff) {
            calendar.overrides.insert(date, intervals);
        }
    }
    for (staff, start, end) in time_off::absences(tx, staff_ids, wide_from, wide_to).await? {
        if let Some(calendar) = calendars.get_mut(&staff) {
            calendar.absences.push((start.timestamp(), end.timestamp()));
        }
    }
    let mut out: Vec<StaffCalendar> = calendars.into_values().collect();
    out.sort_by_key(|c| c.staff_id);
    Ok(out)
}

/// The UTC calendar date of an instant (the window is widened around it).
fn date_of(at: DateTime<Utc>) -> jiff::civil::Date {
    use chrono::Datelike;
    jiff::civil::Date::new(at.year() as i16, at.month() as i8, at.day() as i8).unwrap_or_default()
}
