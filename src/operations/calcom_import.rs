//! Importing from Cal.com what AskPro books by (ImportFromCalcom, and the
//! periodic job): linked event types become services, the account's default
//! schedule becomes the linked staff's working hours and date overrides.
//!
//! Cal.com is read first, outside any transaction; then one tenant
//! transaction compares and writes only what differs, so a second run with
//! nothing changed in Cal.com reports nothing and writes nothing.
use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use uuid::Uuid;

use crate::calcom::{CalcomClient, CalcomError, Connection, wire};
use crate::domain::ids::{ServiceId, StaffId, TenantId};
use crate::domain::slots::WeeklyInterval;
use crate::error::{Error, Result};
use crate::store::entities::{calcom_staff_link, service};
use crate::store::services::{self, NewService, ServiceChanges, ServiceTimings};
use crate::store::time_off::{self, TimeOffKind};
use crate::store::{Store, TenantTx, calcom, now, staff, working_hours};

/// What kind of change an import made (the contract's ImportChangeKind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    ServiceCreated,
    ServiceUpdated,
    ServiceOffered,
    WorkingHoursReplaced,
    DateOverrideSet,
    Skipped,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub subject_id: Option<Uuid>,
    pub description: String,
}

impl Change {
    fn new(kind: ChangeKind, subject_id: Option<Uuid>, description: impl Into<String>) -> Self {
        Self { kind, subject_id, description: description.into() }
    }
}

/// AskPro's bounds of service timings (as CreateService checks them).
const DURATION: (i32, i32) = (5, 24 * 60);
const BUFFER: (i32, i32) = (0, 4 * 60);
const NOTICE: (i32, i32) = (0, 30 * 24 * 60);
const STEP: (i32, i32) = (5, 4 * 60);
/// A new service's booking horizon (Cal.com's booking window is not imported).
const DEFAULT_HORIZON: i32 = 60 * 24 * 60;
const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Date overrides are imported this far ahead.
const OVERRIDE_DAYS_AHEAD: i64 = 366;

/// What was read from Cal.com for one import.
#[derive(Clone)]
struct FromCalcom {
    links: Vec<calcom_staff_link::Model>,
    account_user_id: i64,
    account_email: String,
    event_types: Vec<Result<wire::EventType, i64>>,
    schedule: Option<wire::Schedule>,
}

/// Runs one import for `tenant`; the changes in the order they were made.
pub async fn import(store: &Store, client: &CalcomClient, tenant: TenantId) -> Result<Vec<Change>> {
    let (row, links) = store
        .read_with(tenant, async |tx| {
            let row = calcom::connection(tx).await?.ok_or(Error::NotFound { resource: "Cal.com connection" })?;
            Ok((row, calcom::links(tx).await?))
        })
        .await?;
    let connection = Connection::new(tenant, &row.base_url, calcom::api_key(store.secrets(), &row)?);
    let wanted: BTreeSet<i64> = links.iter().map(|l| l.event_type_id).collect();
    let mut event_types = Vec::new();
    for id in wanted {
        match client.event_type_for_import(&connection, id).await {
            Ok(event_type) => event_types.push(Ok(event_type)),
            Err(CalcomError::NotFound { .. }) => event_types.push(Err(id)),
            Err(err) => return Err(err.into()),
        }
    }
    let schedules = client.schedules(&connection).await?;
    let schedule = schedules.iter().find(|s| s.is_default).or(schedules.first()).cloned();
    let read = FromCalcom {
        links,
        account_user_id: row.account_user_id,
        account_email: row.account_email,
        event_types,
        schedule,
    };
    let changes = store.write_with(tenant, async |tx| apply(tx, &read).await).await?;
    if !changes.is_empty() {
        tracing::info!(%tenant, changes = changes.len(), "Cal.com import changed AskPro");
    }
    Ok(changes)
}

async fn apply(tx: &TenantTx, read: &FromCalcom) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    for event_type in &read.event_types {
        match event_type {
            Ok(event_type) => import_event_type(tx, read, event_type, &mut changes).await?,
            Err(id) => changes.push(Change::new(
                ChangeKind::Skipped,
                None,
                format!(
                    "event type {id} no longer exists in Cal.com (its staff links stay; fix them with ConnectCalcom)"
                ),
            )),
        }
    }
    match &read.schedule {
        Some(schedule) => {
            for staff_id in calcom::staff_of_account(tx, read.account_user_id, &read.account_email).await? {
                import_schedule(tx, staff_id, schedule, &mut changes).await?;
            }
        }
        None => changes.push(Change::new(ChangeKind::Skipped, None, "the Cal.com account has no schedule")),
    }
    Ok(changes)
}

/// The service the event type stands for: created, or updated to agree;
/// then offered by every staff member linked to it.
async fn import_event_type(
    tx: &TenantTx,
    read: &FromCalcom,
    event_type: &wire::EventType,
    changes: &mut Vec<Change>,
) -> Result<()> {
    let (wanted, clamped) = timings(event_type);
    for what in clamped {
        changes.push(Change::new(ChangeKind::Skipped, None, format!("event type {}: {what}", event_type.id)));
    }
    let name = truncated(
        if event_type.title.trim().is_empty() { "Cal.com event" } else { event_type.title.trim() },
        MAX_NAME_CHARS,
    );
    let description = truncated(event_type.description.as_deref().unwrap_or_default(), MAX_DESCRIPTION_CHARS);
    let existing = match calcom::service_of_event_type(tx, event_type.id).await? {
        Some(id) => match services::get(tx, ServiceId(id)).await {
            Ok(row) => Some(row),
            Err(Error::NotFound { .. }) => None,
            Err(err) => return Err(err),
        },
        None => None,
    };
    let service_id = match existing {
        Some(current) => {
            let (update, differences) = differences(&current, &name, &description, &wanted);
            if !differences.is_empty() {
                services::update(tx, ServiceId(current.id), update, "").await?;
                let text = format!("{}: {}", current.display_name, differences.join(", "));
                changes.push(Change::new(ChangeKind::ServiceUpdated, Some(current.id), text));
            }
            current.id
        }
        None => {
            let created =
                services::create(tx, NewService { display_name: name.clone(), description, timings: wanted }).await?;
            calcom::map_event_type(tx, event_type.id, created.id).await?;
            let text = format!("{name}: created from Cal.com event type {}", event_type.id);
            changes.push(Change::new(ChangeKind::ServiceCreated, Some(created.id), text));
            created.id
        }
    };
    for link in read.links.iter().filter(|l| l.event_type_id == event_type.id) {
        let member = staff::get(tx, StaffId(link.staff_id)).await?;
        if member.service_ids.contains(&service_id) {
            continue;
        }
        let mut offered = member.service_ids.clone();
        offered.push(service_id);
        let update = staff::StaffChanges { service_ids: Some(offered), ..Default::default() };
        staff::update(tx, StaffId(link.staff_id), update, "").await?;
        let text = format!("{} now offers {name}", member.row.display_name);
        changes.push(Change::new(ChangeKind::ServiceOffered, Some(link.staff_id), text));
    }
    Ok(())
}

/// The event type's timings within AskPro's bounds, and what had to be
/// clamped to get there.
fn timings(event_type: &wire::EventType) -> (ServiceTimings, Vec<String>) {
    let mut clamped = Vec::new();
    let mut within = |what: &str, value: i32, (low, high): (i32, i32)| {
        let kept = value.clamp(low, high);
        if kept != value {
            clamped.push(format!("{what} {value} min is outside AskPro's {low}-{high} min; {kept} min is used"));
        }
        kept
    };
    let duration = within("length", event_type.length_in_minutes, DURATION);
    let timings = ServiceTimings {
        duration,
        buffer_before: within("buffer before", event_type.before_event_buffer.unwrap_or(0), BUFFER),
        buffer_after: within("buffer after", event_type.after_event_buffer.unwrap_or(0), BUFFER),
        minimum_notice: within("minimum notice", event_type.minimum_booking_notice.unwrap_or(0), NOTICE),
        booking_horizon: DEFAULT_HORIZON,
        // Cal.com offers a slot every event length unless an interval is set.
        slot_step: within("slot interval", event_type.slot_interval.unwrap_or(duration), STEP),
    };
    (timings, clamped)
}

/// The update that makes `current` agree (the booking horizon is AskPro's
/// own), and the differences in words.
fn differences(
    current: &service::Model,
    name: &str,
    description: &str,
    wanted: &ServiceTimings,
) -> (ServiceChanges, Vec<String>) {
    let mut update = ServiceChanges::default();
    let mut said = Vec::new();
    if current.display_name != name {
        said.push(format!("name {:?} -> {name:?}", current.display_name));
        update.display_name = Some(name.to_owned());
    }
    if current.description != description {
        said.push("description changed".to_owned());
        update.description = Some(description.to_owned());
    }
    let mut minutes = |what: &str, now: i32, wanted: i32, slot: &mut Option<i32>| {
        if now != wanted {
            said.push(format!("{what} {now} min -> {wanted} min"));
            *slot = Some(wanted);
        }
    };
    minutes("duration", current.duration_minutes, wanted.duration, &mut update.duration);
    minutes("buffer before", current.buffer_before_minutes, wanted.buffer_before, &mut update.buffer_before);
    minutes("buffer after", current.buffer_after_minutes, wanted.buffer_after, &mut update.buffer_after);
    minutes("minimum notice", current.minimum_notice_minutes, wanted.minimum_notice, &mut update.minimum_notice);
    minutes("slot step", current.slot_step_minutes, wanted.slot_step, &mut update.slot_step);
    (update, said)
}

/// The schedule as the staff member's weekly hours and date overrides.
async fn import_schedule(
    tx: &TenantTx,
    staff_id: Uuid,
    schedule: &wire::Schedule,
    changes: &mut Vec<Change>,
) -> Result<()> {
    let zone = staff::zone(tx, staff_id).await?;
    if zone.time_zone != schedule.time_zone {
        changes.push(Change::new(
            ChangeKind::Skipped,
            Some(staff_id),
            format!(
                "schedule {:?} is in {}, the staff member's branch in {}: not imported (working hours are wall-clock times of the branch)",
                schedule.name, schedule.time_zone, zone.time_zone
            ),
        ));
        return Ok(());
    }
    let week = match weekly(&schedule.availability) {
        Ok(week) => week,
        Err(why) => {
            changes.push(Change::new(
                ChangeKind::Skipped,
                Some(staff_id),
                format!("schedule {:?}: {why}", schedule.name),
            ));
            return Ok(());
        }
    };
    if working_hours::of_staff(tx, staff_id).await? != week {
        staff::touch(tx, staff_id, now()).await?;
        working_hours::replace(tx, staff_id, &week).await?;
        let text = format!("weekly hours from Cal.com schedule {:?} ({} intervals)", schedule.name, week.len());
        changes.push(Change::new(ChangeKind::WorkingHoursReplaced, Some(staff_id), text));
    }
    let tz = jiff::tz::TimeZone::get(&zone.time_zone)
        .map_err(|e| Error::Internal(format!("stored time zone {:?}: {e}", zone.time_zone)))?;
    let today = tz.to_datetime(jiff::Timestamp::now()).date();
    let last = today.checked_add(jiff::Span::new().days(OVERRIDE_DAYS_AHEAD)).unwrap_or(today);
    let mut by_date: BTreeMap<Date, Vec<(i32, i32)>> = BTreeMap::new();
    for entry in &schedule.overrides {
        let (Ok(date), Ok(start), Ok(end)) =
            (entry.date.parse::<Date>(), minute_of(&entry.start_time), minute_of(&entry.end_time))
        else {
            changes.push(Change::new(
                ChangeKind::Skipped,
                Some(staff_id),
                format!("override {:?} does not parse", entry.date),
            ));
            continue;
        };
        if date < today || date > last {
            continue;
        }
        let day = by_date.entry(date).or_default();
        if start < end {
            day.push((start, end));
        }
    }
    for (date, mut intervals) in by_date {
        intervals = merged(intervals);
        let existing = time_off::list_overrides(tx, &[staff_id], Some(date), Some(date), None, 10).await?;
        let same = existing.len() == 1
            && matches!(&existing[0].kind, TimeOffKind::Override { intervals: have, .. } if *have == intervals);
        if same {
            continue;
        }
        let locked = staff::lock(tx, staff_id).await?;
        for entry in existing {
            time_off::delete(tx, entry.id).await?;
        }
        let kind = TimeOffKind::Override { date, intervals: intervals.clone() };
        time_off::create(tx, &locked, kind, "Cal.com date override".into()).await?;
        let hours = if intervals.is_empty() { "closed".to_owned() } else { format!("{} interval(s)", intervals.len()) };
        changes.push(Change::new(ChangeKind::DateOverrideSet, Some(staff_id), format!("{date}: {hours}")));
    }
    Ok(())
}

/// Cal.com's availability entries as AskPro's week: sorted by day and
/// start, overlapping intervals of a day merged.
fn weekly(availability: &[wire::Availability]) -> std::result::Result<Vec<WeeklyInterval>, String> {
    let mut days: BTreeMap<i16, Vec<(i32, i32)>> = BTreeMap::new();
    for entry in availability {
        let start = minute_of(&entry.start_time)?;
        let end = minute_of(&entry.end_time)?;
        if start >= end {
            return Err(format!("{}-{} ends before it starts", entry.start_time, entry.end_time));
        }
        for day in &entry.days {
            days.entry(day_number(day)?).or_default().push((start, end));
        }
    }
    Ok(days
        .into_iter()
        .flat_map(|(day, intervals)| {
            merged(intervals).into_iter().map(move |(start_minute, end_minute)| WeeklyInterval {
                day_of_week: day,
                start_minute,
                end_minute,
            })
        })
        .collect())
}

fn merged(mut intervals: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    intervals.sort_unstable();
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(intervals.len());
    for (start, end) in intervals {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// "HH:MM" as minutes after midnight; "23:59" as an end means the day's end.
fn minute_of(text: &str) -> std::result::Result<i32, String> {
    let parsed = text.split_once(':').and_then(|(h, m)| Some((h.parse::<i32>().ok()?, m.parse::<i32>().ok()?)));
    match parsed {
        Some((23, 59)) => Ok(24 * 60),
        Some((hours, minutes))
            if (0..=24).contains(&hours) && (0..60).contains(&minutes) && hours * 60 + minutes <= 1440 =>
        {
            Ok(hours * 60 + minutes)
        }
        _ => Err(format!("{text:?} is not a time of day (HH:MM)")),
    }
}

/// ISO day number (1 = Monday) of Cal.com's day name.
fn day_number(name: &str) -> std::result::Result<i16, String> {
    const NAMES: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
        .map(|i| i as i16 + 1)
        .ok_or_else(|| format!("{name:?} is not a day of the week"))
}

fn truncated(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn availability(days: &[&str], start: &str, end: &str) -> wire::Availability {
        wire::Availability {
            days: days.iter().map(|d| d.to_string()).collect(),
            start_time: start.into(),
            end_time: end.into(),
        }
    }

    #[test]
    fn a_schedule_becomes_a_sorted_merged_week() {
        let week = weekly(&[
            availability(&["Tuesday", "Monday"], "13:00", "17:00"),
            availability(&["Monday"], "09:00", "13:30"),
            availability(&["Sunday"], "10:00", "23:59"),
        ])
        .unwrap();
        let as_tuples: Vec<_> = week.iter().map(|w| (w.day_of_week, w.start_minute, w.end_minute)).collect();
        assert_eq!(as_tuples, vec![(1, 540, 1020), (2, 780, 1020), (7, 600, 1440)]);
        assert!(weekly(&[availability(&["Funday"], "09:00", "10:00")]).is_err());
        assert!(weekly(&[availability(&["Monday"], "10:00", "09:00")]).is_err());
        assert!(weekly(&[availability(&["Monday"], "9h", "10:00")]).is_err());
    }

    #[test]
    fn timings_are_clamped_to_askpro_bounds_and_say_so() {
        let event_type = wire::EventType {
            id: 7,
            length_in_minutes: 3,
            title: "Quick".into(),
            description: None,
            slot_interval: None,
            minimum_booking_notice: Some(120),
            before_event_buffer: Some(500),
            after_event_buffer: None,
        };
        let (t, clamped) = timings(&event_type);
        assert_eq!((t.duration, t.buffer_before, t.buffer_after, t.minimum_notice, t.slot_step), (5, 240, 0, 120, 5));
        assert_eq!(clamped.len(), 2, "{clamped:?}");
    }
}
