//! GetWorkingHours, SetWorkingHours, and the wall-clock rules date overrides
//! share with them: how intervals are validated, stored and encoded, and when
//! an appointment lies outside a day's hours.
use chrono::{DateTime, Utc};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};
use tonic::Request;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::convert::timestamp;
use crate::domain::ids::StaffId;
use crate::domain::validate::Violations;
use crate::error::{Error, Result};
use crate::proto::availability::v1 as pb;
use crate::proto::r#type::v1 as types;
use crate::store::working_hours::{self, WeeklyInterval};
use crate::store::{appointments, now, staff};

const MAX_INTERVALS_PER_DAY: usize = 10;
const MINUTES_PER_DAY: i32 = 24 * 60;
/// Appointments are hours long; this only bounds the walk over local dates.
const MAX_APPOINTMENT_DAYS: usize = 31;

pub async fn get(
    state: &AppState,
    request: Request<pb::GetWorkingHoursRequest>,
) -> Result<pb::GetWorkingHoursResponse> {
    let tenant = tenant_of(&request)?;
    let staff_id = StaffId::parse("staff_id", &request.get_ref().staff_id)?;
    let tx = state.store.read(tenant).await?;
    let staff = staff::zone(&tx, staff_id.0).await?;
    let week = working_hours::of_staff(&tx, staff_id.0).await?;
    tx.commit().await?;
    Ok(pb::GetWorkingHoursResponse { working_hours: Some(message(staff_id, &week, staff.update_time)) })
}

pub async fn set(
    state: &AppState,
    request: Request<pb::SetWorkingHoursRequest>,
) -> Result<pb::SetWorkingHoursResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let mut v = Violations::new();
    let staff_id = v.take_err(StaffId::parse("staff_id", &req.staff_id));
    let week = week(&mut v, &req.days);
    v.finish()?;
    let staff_id = staff_id.ok_or_else(|| Error::Internal("validated staff_id missing".into()))?;
    let (staff, upcoming, at) = state
        .store
        .write_with(tenant, async |tx| {
            let at = now();
            // Touching the staff row locks it first, so the etag check and the
            // replacement cannot interleave with another SetWorkingHours.
            let staff = staff::touch(tx, staff_id.0, at).await?;
            if !req.etag.is_empty() && req.etag != etag(&working_hours::of_staff(tx, staff_id.0).await?) {
                return Err(Error::EtagMismatch);
            }
            working_hours::replace(tx, staff_id.0, &week).await?;
            let upcoming = appointments::upcoming_of_staff(tx, staff_id.0, at, None).await?;
            Ok((staff, upcoming, at))
        })
        .await?;
    let zone = time_zone(&staff.time_zone)?;
    let conflicting_appointment_ids = upcoming
        .into_iter()
        .filter(|&(_, start, end)| leaves_hours(&zone, start, end, |date| Some(weekday_hours(&week, date))))
        .map(|(id, _, _)| id.to_string())
        .collect();
    Ok(pb::SetWorkingHoursResponse { working_hours: Some(message(staff_id, &week, at)), conflicting_appointment_ids })
}

/// The week as stored: every interval of every listed day, sorted by day and
/// start. Records each bad field of `days`.
fn week(v: &mut Violations, days: &[pb::DayHours]) -> Vec<WeeklyInterval> {
    let mut listed_at: [Option<usize>; 8] = [None; 8];
    let mut out = Vec::new();
    for (index, day) in v.at_most("days", days, 7).iter().enumerate() {
        let field = format!("days[{index}]");
        let intervals = intervals(v, &field, &day.intervals);
        let day_of_week = match day.day_of_week {
            0 => {
                v.add(format!("{field}.day_of_week"), "is required");
                continue;
            }
            d @ 1..=7 => d as usize,
            _ => {
                v.add(format!("{field}.day_of_week"), "is not a day of the week");
                continue;
            }
        };
        if let Some(first) = listed_at[day_of_week] {
            v.add(format!("{field}.day_of_week"), format!("is listed twice (also in days[{first}])"));
            continue;
        }
        listed_at[day_of_week] = Some(index);
        out.extend(intervals.into_iter().map(|(start_minute, end_minute)| WeeklyInterval {
            day_of_week: day_of_week as i16,
            start_minute,
            end_minute,
        }));
    }
    out.sort_by_key(|i| (i.day_of_week, i.start_minute));
    out
}

/// The intervals of one day (`owner` is the field holding them, e.g.
/// "days[1]"): each start before its end, at most ten, none overlapping.
/// Returned sorted, with adjacent intervals joined, because "09:00-12:00 and
/// 12:00-13:00 act as one" must hold for the slot engine too, which fits a
/// slot into one interval.
pub(super) fn intervals(v: &mut Violations, owner: &str, list: &[types::LocalTimeInterval]) -> Vec<(i32, i32)> {
    if list.len() > MAX_INTERVALS_PER_DAY {
        v.add(format!("{owner}.intervals"), format!("must have at most {MAX_INTERVALS_PER_DAY} intervals a day"));
        return Vec::new();
    }
    let mut parsed: Vec<(i32, i32, usize)> = Vec::new();
    for (index, interval) in list.iter().enumerate() {
        let field = format!("{owner}.intervals[{index}]");
        let start = v.take(&format!("{field}.start_time"), minute_of_day(interval.start_time.as_ref(), false));
        let end = v.take(&format!("{field}.end_time"), minute_of_day(interval.end_time.as_ref(), true));
        if let (Some(start), Some(end)) = (start, end) {
            if start < end {
                parsed.push((start, end, index));
            } else {
                v.add(format!("{field}.end_time"), "must be after start_time");
            }
        }
    }
    parsed.sort();
    // Each interval is compared with the one reaching furthest so far, so an
    // interval inside a long one is caught even when others lie between.
    let mut furthest: Option<(i32, usize)> = None;
    for &(start, end, index) in &parsed {
        if let Some((reach, other)) = furthest
            && start < reach
        {
            v.add(format!("{owner}.intervals[{index}]"), format!("overlaps {owner}.intervals[{other}]"));
        }
        if furthest.is_none_or(|(reach, _)| end > reach) {
            furthest = Some((end, index));
        }
    }
    joined(parsed.into_iter().map(|(start, end, _)| (start, end)).collect())
}

/// A wall-clock time as minutes after midnight; 24:00 (1440) only as an end.
fn minute_of_day(time: Option<&types::LocalTime>, is_end: bool) -> std::result::Result<i32, &'static str> {
    let Some(time) = time else { return Err("is required") };
    match (time.hours, time.minutes) {
        (24, 0) if is_end => Ok(MINUTES_PER_DAY),
        (24, 0) => Err("24:00 is allowed only as an end_time"),
        (h @ 0..=23, m @ 0..=59) => Ok(h * 60 + m),
        _ => Err("hours must be 0 to 23 and minutes 0 to 59"),
    }
}

/// Sorted intervals with touching neighbours joined into one.
fn joined(mut sorted: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    sorted.sort();
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(sorted.len());
    for (start, end) in sorted {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// A content hash of the week, quoted like every etag: hex of the first 8
/// bytes of SHA-256 over the sorted intervals. A hash rather than a counter
/// because the week has no row of its own to carry a revision; a client whose
/// etag names the week as it still is may overwrite it.
fn etag(week: &[WeeklyInterval]) -> String {
    let mut sorted = week.to_vec();
    sorted.sort_by_key(|i| (i.day_of_week, i.start_minute, i.end_minute));
    let mut hasher = Sha256::new();
    for i in &sorted {
        hasher.update(format!("{}:{}-{};", i.day_of_week, i.start_minute, i.end_minute));
    }
    format!("\"{}\"", hex::encode(&hasher.finalize()[..8]))
}

/// The WorkingHours message: listed days only, Monday to Sunday.
///
/// update_time is the staff row's update_time, which SetWorkingHours moves
/// (the week has no row of its own). It is unset when the week is empty: an
/// empty week reads as never set, and staff edits that move the time meanwhile
/// only make it later, never earlier, than the last set.
fn message(staff_id: StaffId, week: &[WeeklyInterval], update_time: DateTime<Utc>) -> pb::WorkingHours {
    let days = (1..=7)
        .filter_map(|day| {
            let hours: Vec<(i32, i32)> =
                week.iter().filter(|i| i.day_of_week == day).map(|i| (i.start_minute, i.end_minute)).collect();
            (!hours.is_empty())
                .then(|| pb::DayHours { day_of_week: i32::from(day), intervals: local_intervals(&joined(hours)) })
        })
        .collect();
    pb::WorkingHours {
        staff_id: staff_id.to_string(),
        days,
        etag: etag(week),
        update_time: (!week.is_empty()).then(|| timestamp(update_time)),
    }
}

pub(super) fn local_intervals(minutes: &[(i32, i32)]) -> Vec<types::LocalTimeInterval> {
    let time = |minute: i32| types::LocalTime { hours: minute / 60, minutes: minute % 60 };
    minutes
        .iter()
        .map(|&(start, end)| types::LocalTimeInterval { start_time: Some(time(start)), end_time: Some(time(end)) })
        .collect()
}

pub(super) fn time_zone(name: &str) -> Result<TimeZone> {
    TimeZone::get(name).map_err(|e| Error::Internal(format!("stored time zone {name:?} is invalid: {e}")))
}

/// The weekly hours of `date`'s day of the week, joined.
fn weekday_hours(week: &[WeeklyInterval], date: Date) -> Vec<(i32, i32)> {
    let day = i16::from(date.weekday().to_monday_one_offset());
    joined(week.iter().filter(|i| i.day_of_week == day).map(|i| (i.start_minute, i.end_minute)).collect())
}

/// Whether the appointment `[start, end)`, read as wall-clock time in `zone`,
/// leaves the hours of some local date it touches. `hours_on` gives a date's
/// hours (joined), or `None` for dates that are not in question.
///
/// A simplification the slot engine does not make: wall-clock minutes are
/// compared, so around a DST change an appointment is judged by the clock on
/// the wall, and one ending in a repeated hour is judged by its start.
pub(super) fn leaves_hours(
    zone: &TimeZone,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    hours_on: impl Fn(Date) -> Option<Vec<(i32, i32)>>,
) -> bool {
    local_segments(zone, start, end).into_iter().any(|(date, from, to)| match hours_on(date) {
        Some(hours) => !hours.iter().any(|&(open, close)| open <= from && to <= close && from < close),
        None => false,
    })
}

/// The local dates an appointment touches, each with the wall-clock minutes
/// it covers there; the end minute rounds up, the start down.
fn local_segments(zone: &TimeZone, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<(Date, i32, i32)> {
    let (Some(start), Some(end)) = (jiff_instant(start), jiff_instant(end)) else { return Vec::new() };
    let (start, end) = (zone.to_datetime(start), zone.to_datetime(end));
    let first_minute = i32::from(start.hour()) * 60 + i32::from(start.minute());
    let partial_minute = end.second() != 0 || end.subsec_nanosecond() != 0;
    let last_minute = i32::from(end.hour()) * 60 + i32::from(end.minute()) + i32::from(partial_minute);
    let mut segments = Vec::new();
    let mut date = start.date();
    for _ in 0..MAX_APPOINTMENT_DAYS {
        let from = if date == start.date() { first_minute } else { 0 };
        if date >= end.date() {
            // A repeated hour can put the local end before the local start.
            let to = if date == end.date() { last_minute.max(from) } else { from };
            // Ending at the next day's midnight touches that day not at all.
            if date == start.date() || to > 0 {
                segments.push((date, from, to));
            }
            break;
        }
        segments.push((date, from, MINUTES_PER_DAY));
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    segments
}

pub(super) fn jiff_instant(at: DateTime<Utc>) -> Option<Timestamp> {
    Timestamp::new(at.timestamp(), at.timestamp_subsec_nanos() as i32).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn intervals_are_validated_together_and_joined() {
        let time = |hours, minutes| Some(types::LocalTime { hours, minutes });
        let interval = |a, b| types::LocalTimeInterval { start_time: a, end_time: b };
        let mut v = Violations::new();
        let out = intervals(
            &mut v,
            "days[0]",
            &[
                interval(time(12, 0), time(13, 0)),
                interval(time(9, 0), time(12, 0)),
                interval(time(14, 0), time(24, 0)),
            ],
        );
        assert!(v.is_empty());
        assert_eq!(out, vec![(540, 780), (840, 1440)]);

        let mut v = Violations::new();
        intervals(
            &mut v,
            "d",
            &[
                interval(time(8, 0), time(18, 0)),
                interval(time(9, 0), time(10, 0)),
                interval(time(24, 0), time(24, 0)),
                interval(time(11, 0), time(10, 0)),
                interval(None, time(25, 0)),
            ],
        );
        let Err(crate::domain::error::Invalid(violations)) = v.finish() else { panic!("expected violations") };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "d.intervals[2].start_time",
                "d.intervals[3].end_time",
                "d.intervals[4].start_time",
                "d.intervals[4].end_time",
                "d.intervals[1]"
            ]
        );
    }

    #[test]
    fn appointments_are_judged_by_local_wall_clock() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let nine_to_five = |_| Some(vec![(540, 1020)]);
        // 2026-06-01 is a Monday; Berlin is UTC+2 in summer.
        assert!(!leaves_hours(&berlin, at("2026-06-01T07:00:00Z"), at("2026-06-01T07:45:00Z"), nine_to_five));
        assert!(leaves_hours(&berlin, at("2026-06-01T06:30:00Z"), at("2026-06-01T07:15:00Z"), nine_to_five));
        assert!(!leaves_hours(&berlin, at("2026-06-01T14:15:00Z"), at("2026-06-01T15:00:00Z"), nine_to_five));
        assert!(leaves_hours(&berlin, at("2026-06-01T14:15:00Z"), at("2026-06-01T15:00:30Z"), nine_to_five));
        // Across midnight: needs hours up to 24:00 and from 00:00.
        let around_the_clock = |_| Some(vec![(0, 1440)]);
        assert!(!leaves_hours(&berlin, at("2026-06-01T21:30:00Z"), at("2026-06-01T22:30:00Z"), around_the_clock));
        let late = |_| Some(vec![(1200, 1440)]);
        assert!(!leaves_hours(&berlin, at("2026-06-01T21:00:00Z"), at("2026-06-01T22:00:00Z"), late));
        assert!(leaves_hours(&berlin, at("2026-06-01T21:00:00Z"), at("2026-06-01T22:30:00Z"), late));
        // Dates not in question are not judged.
        let only_tuesday = |d: Date| (d.weekday() == jiff::civil::Weekday::Tuesday).then(Vec::new);
        assert!(!leaves_hours(&berlin, at("2026-06-01T07:00:00Z"), at("2026-06-01T07:45:00Z"), only_tuesday));
    }
}
