//! Loads what the slot engine needs for some staff over a time window:
//! weekly hours (from the tenant's configuration), date overrides,
//! absences, and the busy ranges of live appointments and holds; time off
//! and busy time come from the caches (`caches::calendar`) where they hold
//! the window, and from the database otherwise.
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::caches::calendar::{Claim, StaffBusy, StaffTimeOff, Window};
use super::{Store, TenantConfig, TenantTx, slot_claims, time_off};
use crate::domain::ids::TenantId;
use crate::domain::slots::StaffCalendar;
use crate::error::Result;

/// Calendars of `staff_ids` for slots starting in `[from, to)`, sorted by
/// staff id. The window is widened by a day each side: local days and
/// buffers reach past it.
pub async fn load(
    store: &Store,
    tenant: TenantId,
    config: &TenantConfig,
    staff_ids: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<StaffCalendar>> {
    let wide = widened(from, to);
    let parts = fetch(Source::Store(store, tenant), staff_ids, &wide, now, true).await?;
    Ok(assemble(config, staff_ids, &wide, &parts, now))
}

/// The calendars without their busy time: when a staff member works, not
/// whom they see. Enough to tell whether a start is on the schedule (a
/// booking's claim then decides whether it is free). Read within `tx` where
/// the cache does not hold it. Sorted by staff id.
pub async fn load_schedules(
    tx: &TenantTx,
    config: &TenantConfig,
    staff_ids: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<StaffCalendar>> {
    let wide = widened(from, to);
    let parts = fetch(Source::Tx(tx), staff_ids, &wide, now, false).await?;
    Ok(assemble(config, staff_ids, &wide, &parts, now))
}

/// The calendars without busy time over exactly `window` (absences
/// overlapping it, overrides dated within `window.dates()`): the open time
/// the dashboard measures utilization against.
pub async fn schedules(
    store: &Store,
    tenant: TenantId,
    config: &TenantConfig,
    staff_ids: &[Uuid],
    window: Window,
    now: DateTime<Utc>,
) -> Result<Vec<StaffCalendar>> {
    let parts = fetch(Source::Store(store, tenant), staff_ids, &window, now, false).await?;
    Ok(assemble(config, staff_ids, &window, &parts, now))
}

fn widened(from: DateTime<Utc>, to: DateTime<Utc>) -> Window {
    Window { from: from - Duration::days(1), to: to + Duration::days(1) }
}

/// Where what the cache lacks is read: a transaction of its own, or the
/// caller's (a booking validating inside its write transaction).
#[derive(Clone, Copy)]
enum Source<'a> {
    Store(&'a Store, TenantId),
    Tx(&'a TenantTx),
}

#[derive(Default)]
struct Parts {
    time_off: HashMap<Uuid, Arc<StaffTimeOff>>,
    busy: HashMap<Uuid, Arc<StaffBusy>>,
}

/// Time off (and busy time, if `with_busy`) of every staff member, from the
/// cache where an entry holds `wide`; the rest read in one transaction over
/// the cache's window (kept for the next call) or, when the cache is off or
/// `wide` reaches past that window, over `wide` alone.
async fn fetch(
    source: Source<'_>,
    staff_ids: &[Uuid],
    wide: &Window,
    now: DateTime<Utc>,
    with_busy: bool,
) -> Result<Parts> {
    let (caches, tenant) = match source {
        Source::Store(store, tenant) => (store.caches().clone(), tenant),
        Source::Tx(tx) => (tx.caches().clone(), tx.tenant()),
    };
    let mut parts = Parts::default();
    let mut lacking_time_off = Vec::new();
    let mut lacking_busy = Vec::new();
    for &staff in staff_ids {
        match caches.time_off.get(&(tenant, staff)).filter(|entry| entry.window.contains(wide)) {
            Some(entry) => drop(parts.time_off.insert(staff, entry)),
            None => lacking_time_off.push(staff),
        }
        if with_busy {
            match caches.busy.get(&(tenant, staff)).filter(|entry| entry.window.contains(wide)) {
                Some(entry) => drop(parts.busy.insert(staff, entry)),
                None => lacking_busy.push(staff),
            }
        }
    }
    if lacking_time_off.is_empty() && lacking_busy.is_empty() {
        return Ok(parts);
    }
    let (time_off_window, keep_time_off) = window_to_read(Window::time_off_cached_at(now), wide, caches.is_active());
    let (busy_window, keep_busy) = window_to_read(Window::busy_cached_at(now), wide, caches.is_active());
    // Tickets before the read: a change committed after them voids the store.
    let time_off_tickets: Vec<_> = lacking_time_off.iter().map(|s| caches.time_off.ticket(&(tenant, *s))).collect();
    let busy_tickets: Vec<_> = lacking_busy.iter().map(|s| caches.busy.ticket(&(tenant, *s))).collect();
    let read = async |tx: &TenantTx| -> Result<_> {
        Ok((
            read_time_off(tx, &lacking_time_off, &time_off_window).await?,
            read_busy(tx, &lacking_busy, &busy_window).await?,
        ))
    };
    let (mut time_off, mut busy) = match source {
        Source::Store(store, tenant) => store.read_with(tenant, read).await?,
        Source::Tx(tx) => read(tx).await?,
    };
    // What a transaction read of rows it changed itself is not committed yet.
    let uncommitted = |staff: &Uuid| match source {
        Source::Tx(tx) => tx.has_changed_time_off_or_busy(*staff),
        Source::Store(..) => false,
    };
    for (staff, ticket) in lacking_time_off.iter().zip(time_off_tickets) {
        let empty = StaffTimeOff { window: time_off_window, ..Default::default() };
        let entry = Arc::new(time_off.remove(staff).unwrap_or(empty));
        if keep_time_off && !uncommitted(staff) {
            caches.time_off.store((tenant, *staff), entry.clone(), ticket);
        }
        parts.time_off.insert(*staff, entry);
    }
    for (staff, ticket) in lacking_busy.iter().zip(busy_tickets) {
        let entry = Arc::new(busy.remove(staff).unwrap_or(StaffBusy { window: busy_window, ..Default::default() }));
        if keep_busy && !uncommitted(staff) {
            caches.busy.store((tenant, *staff), entry.clone(), ticket);
        }
        parts.busy.insert(*staff, entry);
    }
    Ok(parts)
}

/// The window to read for a request over `wide`: the cache's, to keep the
/// entry, when the cache is in use and holds `wide`; else `wide` alone.
fn window_to_read(cached: Window, wide: &Window, active: bool) -> (Window, bool) {
    if active && cached.contains(wide) { (cached, true) } else { (*wide, false) }
}

async fn read_time_off(tx: &TenantTx, staff_ids: &[Uuid], window: &Window) -> Result<HashMap<Uuid, StaffTimeOff>> {
    let mut out: HashMap<Uuid, StaffTimeOff> = HashMap::new();
    if staff_ids.is_empty() {
        return Ok(out);
    }
    let empty = || StaffTimeOff { window: *window, ..Default::default() };
    let (first, last) = window.dates();
    for (staff, date, intervals) in time_off::overrides(tx, staff_ids, first, last).await? {
        out.entry(staff).or_insert_with(empty).overrides.push((date, intervals));
    }
    for (staff, start, end) in time_off::absences(tx, staff_ids, window.from, window.to).await? {
        out.entry(staff).or_insert_with(empty).absences.push((start.timestamp(), end.timestamp()));
    }
    Ok(out)
}

async fn read_busy(tx: &TenantTx, staff_ids: &[Uuid], window: &Window) -> Result<HashMap<Uuid, StaffBusy>> {
    let mut out: HashMap<Uuid, StaffBusy> = HashMap::new();
    for (staff, start, end, expires) in slot_claims::active_overlapping(tx, staff_ids, window.from, window.to).await? {
        let claim = Claim { start: start.timestamp(), end: end.timestamp(), expires: expires.map(|at| at.timestamp()) };
        out.entry(staff).or_insert_with(|| StaffBusy { window: *window, ..Default::default() }).claims.push(claim);
    }
    Ok(out)
}

fn assemble(
    config: &TenantConfig,
    staff_ids: &[Uuid],
    wide: &Window,
    parts: &Parts,
    now: DateTime<Utc>,
) -> Vec<StaffCalendar> {
    let mut out: Vec<StaffCalendar> = staff_ids
        .iter()
        .map(|&staff_id| {
            let mut calendar =
                StaffCalendar { staff_id, weekly: config.weekly_hours(staff_id).to_vec(), ..Default::default() };
            if let Some(time_off) = parts.time_off.get(&staff_id) {
                calendar.overrides = time_off.overrides_in(wide).cloned().collect();
                calendar.absences = time_off.absences_in(wide).collect();
            }
            if let Some(busy) = parts.busy.get(&staff_id) {
                calendar.busy = busy.busy_in(wide, now).collect();
            }
            calendar
        })
        .collect();
    out.sort_by_key(|c| c.staff_id);
    out.dedup_by_key(|c| c.staff_id);
    out
}
