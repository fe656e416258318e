//! CreateTimeOff, GetTimeOff, ListTimeOff, DeleteTimeOff: absences and date
//! overrides of one staff member, and the appointments a new one conflicts with.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use tonic::Request;
use uuid::Uuid;

use super::working_hours::{intervals, jiff_instant, leaves_hours, local_intervals, time_zone};
use crate::access::tenant_of;
use crate::api::AppState;
use crate::convert::{instant, timestamp};
use crate::domain::ids::StaffId;
use crate::domain::page::PageRequest;
use crate::domain::validate::{Violations, free_text};
use crate::error::{Error, Result};
use crate::operations::idempotency::{create_once, fingerprint, validate_request_id};
use crate::proto::availability::v1 as pb;
use crate::proto::availability::v1::time_off::Kind;
use crate::proto::r#type::v1 as types;
use crate::store::staff::{self, LockedStaff};
use crate::store::time_off::{self, TimeOff, TimeOffKind};
use crate::store::{TenantTx, appointments, now};

const MAX_REASON_CHARS: usize = 500;
const MAX_ABSENCE_DAYS: i64 = 366;

pub async fn create(state: &AppState, request: Request<pb::CreateTimeOffRequest>) -> Result<pb::CreateTimeOffResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    validate_request_id(&req.request_id)?;
    let input = req.time_off.clone().unwrap_or_default();
    let mut v = Violations::new();
    let staff_id = v.take_err(StaffId::parse("time_off.staff_id", &input.staff_id));
    let kind = kind(&mut v, input.kind.as_ref());
    let reason = v.take("time_off.reason", free_text(&input.reason, MAX_REASON_CHARS));
    v.finish()?;
    let (Some(staff_id), Some(kind), Some(reason)) = (staff_id, kind, reason) else {
        return Err(Error::Internal("validated time off fields missing".into()));
    };
    let fingerprint = fingerprint(&pb::CreateTimeOffRequest { request_id: String::new(), ..req.clone() });
    state
        .store
        .write_with(tenant, async |tx| {
            create_once(tx, "CreateTimeOff", &req.request_id, &fingerprint, async {
                let staff = staff::lock(tx, staff_id.0).await?;
                let entry = time_off::create(tx, &staff, kind.clone(), reason.clone()).await?;
                let conflicting_appointment_ids = conflicts(tx, &staff, &entry).await?;
                Ok(pb::CreateTimeOffResponse { time_off: Some(message(entry)), conflicting_appointment_ids })
            })
            .await
        })
        .await
}

pub async fn get(state: &AppState, request: Request<pb::GetTimeOffRequest>) -> Result<pb::GetTimeOffResponse> {
    let tenant = tenant_of(&request)?;
    let id = parse_id("id", &request.get_ref().id)?;
    let entry = state.store.read_with(tenant, async |tx| time_off::get(tx, id).await).await?;
    Ok(pb::GetTimeOffResponse { time_off: Some(message(entry)) })
}

/// Ordered by start, then id: an absence starts at its start_time, an
/// override at the first instant of its date in its staff member's zone.
/// The page token's key is that start in microseconds. Absences come from
/// one query in that order; overrides from one query per time zone, in
/// which date order is start order. The merged candidates are then exactly
/// the first page, without reading every entry of the tenant.
pub async fn list(state: &AppState, request: Request<pb::ListTimeOffRequest>) -> Result<pb::ListTimeOffResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let mut v = Violations::new();
    let staff_id = if req.staff_id.is_empty() { None } else { v.take_err(StaffId::parse("staff_id", &req.staff_id)) };
    // Stored instants have microseconds; widening the range to whole
    // microseconds keeps "overlaps" exact on both backends.
    let range = req
        .time_range
        .as_ref()
        .and_then(|r| time_range(&mut v, "time_range", r, None))
        .map(|(from, to)| (floor_micros(from), ceil_micros(to)));
    v.finish()?;
    let filter = format!(
        "time_off;staff={};range={:?}",
        req.staff_id,
        range.map(|(from, to)| (from.timestamp_micros(), to.timestamp_micros()))
    );
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, &filter)?;
    let after = match page.after_key() {
        Some((key, id)) => {
            let start = DateTime::from_timestamp_micros(key)
                .ok_or_else(|| Error::invalid("page_token", "is not a token issued for this list"))?;
            Some((start, id))
        }
        None => None,
    };

    let tx = state.store.read(tenant).await?;
    let staff = staff::zones(&tx, staff_id.map(|s| s.0)).await?;
    if staff_id.is_some() && staff.is_empty() {
        return Err(Error::NotFound { resource: "staff" });
    }
    let all_staff: Vec<Uuid> = staff.iter().map(|s| s.id).collect();
    let mut entries: Vec<(i64, TimeOff)> = time_off::list_absences(&tx, &all_staff, range, after, page.fetch_limit())
        .await?
        .into_iter()
        .map(|entry| (start_key(&entry, None), entry))
        .collect();
    let mut by_zone: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
    for member in &staff {
        by_zone.entry(member.time_zone.as_str()).or_default().push(member.id);
    }
    for (name, ids) in by_zone {
        let zone = time_zone(name)?;
        let (first, last) = match range {
            Some((from, to)) => (Some(local_date(&zone, from)?), Some(last_date_starting_before(&zone, to)?)),
            None => (None, None),
        };
        let after_date = after.map(|(start, id)| override_cursor(&zone, start, id)).transpose()?;
        for entry in time_off::list_overrides(&tx, &ids, first, last, after_date, page.fetch_limit()).await? {
            entries.push((start_key(&entry, Some(&zone)), entry));
        }
    }
    tx.commit().await?;

    entries.sort_by_key(|(key, entry)| (*key, entry.id));
    let next_page_token = if entries.len() as u64 > page.size {
        entries.truncate(page.size as usize);
        entries.last().map(|(key, entry)| page.token_for_key(*key, entry.id)).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(pb::ListTimeOffResponse { time_off: entries.into_iter().map(|(_, e)| message(e)).collect(), next_page_token })
}

pub async fn delete(state: &AppState, request: Request<pb::DeleteTimeOffRequest>) -> Result<pb::DeleteTimeOffResponse> {
    let tenant = tenant_of(&request)?;
    let id = parse_id("id", &request.get_ref().id)?;
    state
        .store
        .write_with(tenant, async |tx| {
            time_off::delete(tx, id).await?;
            Ok(())
        })
        .await?;
    Ok(pb::DeleteTimeOffResponse {})
}

/// The kind of a new entry, recording each bad field.
fn kind(v: &mut Violations, kind: Option<&Kind>) -> Option<TimeOffKind> {
    match kind {
        None => {
            v.add("time_off.kind", "exactly one of absence or date_override is required");
            None
        }
        Some(Kind::Absence(range)) => time_range(v, "time_off.absence", range, Some(MAX_ABSENCE_DAYS))
            .map(|(start, end)| TimeOffKind::Absence { start, end }),
        Some(Kind::DateOverride(date_override)) => {
            let date = v.take("time_off.date_override.date", local_date_field(date_override.date.as_ref()));
            let hours = intervals(v, "time_off.date_override", &date_override.intervals);
            date.map(|date| TimeOffKind::Override { date, intervals: hours })
        }
    }
}

/// A half-open range of real time, start before end, optionally bounded in length.
fn time_range(
    v: &mut Violations,
    owner: &str,
    range: &types::TimeRange,
    max_days: Option<i64>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = v.take(&format!("{owner}.start_time"), instant_field(range.start_time.as_ref()));
    let end = v.take(&format!("{owner}.end_time"), instant_field(range.end_time.as_ref()));
    let (start, end) = (start?, end?);
    if start >= end {
        v.add(format!("{owner}.end_time"), "must be after start_time");
        return None;
    }
    if let Some(days) = max_days
        && end - start > chrono::Duration::days(days)
    {
        v.add(format!("{owner}.end_time"), format!("must be at most {days} days after start_time"));
        return None;
    }
    Some((start, end))
}

/// A timestamp from the year 1 on that local time can still express: both
/// backends store and order such instants correctly.
fn instant_field(ts: Option<&prost_types::Timestamp>) -> std::result::Result<DateTime<Utc>, &'static str> {
    let at = instant(ts.ok_or("is required")?).ok_or("is not a valid timestamp")?;
    if at.year() >= 1 && jiff_instant(at).is_some() { Ok(at) } else { Err("is out of range") }
}

fn local_date_field(date: Option<&types::LocalDate>) -> std::result::Result<Date, &'static str> {
    let date = date.ok_or("is required")?;
    if !(1..=9999).contains(&date.year) {
        return Err("year must be 1 to 9999");
    }
    let (Ok(month), Ok(day)) = (i8::try_from(date.month), i8::try_from(date.day)) else {
        return Err("is not a valid calendar date");
    };
    Date::new(date.year as i16, month, day).map_err(|_| "is not a valid calendar date")
}

/// Active appointments the new entry makes unavailable: those overlapping an
/// absence, or those on an override's date not inside its new hours.
async fn conflicts(tx: &TenantTx, staff: &LockedStaff, entry: &TimeOff) -> Result<Vec<String>> {
    let at = now();
    let ids = match &entry.kind {
        TimeOffKind::Absence { start, end } => {
            appointments::upcoming_of_staff(tx, staff.id, at, Some((*start, *end))).await?
        }
        TimeOffKind::Override { date, intervals } => {
            let zone = time_zone(&staff.time_zone)?;
            // Every instant of the local date lies within two days of its
            // first; a date at the end of time has no appointments.
            let Some(day_start) = first_instant(&zone, *date) else { return Ok(Vec::new()) };
            let window = (day_start, day_start + chrono::Duration::days(2));
            appointments::upcoming_of_staff(tx, staff.id, at, Some(window))
                .await?
                .into_iter()
                .filter(|&(_, start, end)| leaves_hours(&zone, start, end, |d| (d == *date).then(|| intervals.clone())))
                .collect()
        }
    };
    Ok(ids.into_iter().map(|(id, _, _)| id.to_string()).collect())
}

/// The list order key of an entry: its start in microseconds.
fn start_key(entry: &TimeOff, zone: Option<&TimeZone>) -> i64 {
    match (&entry.kind, zone) {
        (TimeOffKind::Absence { start, .. }, _) => start.timestamp_micros(),
        (TimeOffKind::Override { date, .. }, Some(zone)) => {
            first_instant(zone, *date).map_or(i64::MAX, |t| t.timestamp_micros())
        }
        (TimeOffKind::Override { .. }, None) => i64::MAX,
    }
}

/// Where a zone's overrides continue after the list key (start, id). An
/// override starts exactly at `start` only if `start` is its date's first
/// instant; then the id decides, otherwise only later dates follow.
fn override_cursor(zone: &TimeZone, start: DateTime<Utc>, id: Uuid) -> Result<(Date, Uuid)> {
    let date = local_date(zone, start)?;
    let id = if first_instant(zone, date) == Some(start) { id } else { Uuid::max() };
    Ok((date, id))
}

/// The first instant of a local date ("compatible": a midnight in a gap
/// moves forward to the end of the gap); `None` past the end of time.
fn first_instant(zone: &TimeZone, date: Date) -> Option<DateTime<Utc>> {
    let ts = zone.to_ambiguous_timestamp(date.at(0, 0, 0, 0)).compatible().ok()?;
    DateTime::from_timestamp_micros(ts.as_microsecond())
}

fn local_date(zone: &TimeZone, at: DateTime<Utc>) -> Result<Date> {
    let ts = jiff_instant(at).ok_or_else(|| Error::invalid("time_range", "is out of range"))?;
    Ok(zone.to_datetime(ts).date())
}

/// The last local date whose first instant is before `to`.
fn last_date_starting_before(zone: &TimeZone, to: DateTime<Utc>) -> Result<Date> {
    let date = local_date(zone, to)?;
    match first_instant(zone, date) {
        Some(first) if first >= to => date.yesterday().map_err(Error::internal),
        _ => Ok(date),
    }
}

fn floor_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn ceil_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    let floor = floor_micros(at);
    if floor < at { floor + chrono::Duration::microseconds(1) } else { floor }
}

/// A time off id. There is no typed id for time off in `domain::ids` yet.
fn parse_id(field: &str, text: &str) -> Result<Uuid> {
    if text.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    Uuid::try_parse(text).map_err(|_| Error::invalid(field, "must be a UUID"))
}

fn message(entry: TimeOff) -> pb::TimeOff {
    let kind = match entry.kind {
        TimeOffKind::Absence { start, end } => {
            Kind::Absence(types::TimeRange { start_time: Some(timestamp(start)), end_time: Some(timestamp(end)) })
        }
        TimeOffKind::Override { date, intervals } => Kind::DateOverride(pb::DateOverride {
            date: Some(types::LocalDate {
                year: i32::from(date.year()),
                month: i32::from(date.month()),
                day: i32::from(date.day()),
            }),
            intervals: local_intervals(&intervals),
        }),
    };
    pb::TimeOff {
        id: entry.id.to_string(),
        staff_id: entry.staff_id.to_string(),
        kind: Some(kind),
        reason: entry.reason,
        create_time: Some(timestamp(entry.create_time)),
    }
}
