//! Loads what the slot engine needs for some staff over a time window:
//! weekly hours, date overrides, absences, and the busy ranges of live
//! appointments and holds.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{TenantTx, slot_claims, working_hours};
use crate::domain::slots::StaffCalendar;
use crate::error::Result;

/// Calendars of `staff_ids` for slots starting in `[from, to)`. The window is
/// widened by a day each side: local days and buffers reach past it.
pub async fn load(
    tx: &TenantTx,
    staff_ids: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<StaffCalendar>> {
    let (wide_from, wide_to) = (from - Duration::days(1), to + Duration::days(1));
    let mut calendars: HashMap<Uuid, StaffCalendar> =
        staff_ids.iter().map(|&id| (id, StaffCalendar { staff_id: id, ..Default::default() })).collect();
    for &id in staff_ids {
        if let Some(calendar) = calendars.get_mut(&id) {
            calendar.weekly = working_hours::of_staff(tx, id).await?;
        }
    }
    for (staff, start, end) in slot_claims::busy(tx, staff_ids, wide_from, wide_to, now).await? {
        if let Some(calendar) = calendars.get_mut(&staff) {
            calendar.busy.push((start.timestamp(), end.timestamp()));
        }
    }
    let mut out: Vec<StaffCalendar> = calendars.into_values().collect();
    out.sort_by_key(|c| c.staff_id);
    Ok(out)
}
