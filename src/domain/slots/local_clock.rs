//! Local wall-clock time of a zone for the slot engine: the local dates a
//! range touches, wall times as real instants (gaps and folds, "compatible"
//! boundaries), and the steady clock of a day without a clock change.
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};

/// The local dates of a zone that can hold an instant of `[from, to)`, each
/// with its steady clock (`None` near a clock change): worked out once for
/// every staff member a question covers.
pub struct LocalDays {
    pub(super) time_zone: TimeZone,
    pub(super) from: i64,
    pub(super) to: i64,
    pub(super) days: Vec<(Date, Option<SteadyClock>)>,
}

impl LocalDays {
    pub fn new(time_zone: &TimeZone, from: i64, to: i64) -> Self {
        let days = local_dates(time_zone, from, to).into_iter().map(|date| (date, steady_clock(time_zone, date)));
        Self { time_zone: time_zone.clone(), from, to, days: days.collect() }
    }
}

/// How far the clock jumps on `date` (0 on almost every day), in minutes.
pub(super) fn clock_change_minutes(tz: &TimeZone, date: Date) -> i32 {
    match (boundary(tz, date, 0), boundary(tz, date, 1440)) {
        (Some(start), Some(end)) => ((end - start - 86_400).abs() / 60) as i32,
        _ => 0,
    }
}

/// Local dates that can hold a slot starting in `[from, to)`.
pub(super) fn local_dates(tz: &TimeZone, from: i64, to: i64) -> Vec<Date> {
    let date_of = |s: i64| tz.to_datetime(Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)).date();
    let (first, last) = (date_of(from), date_of(to));
    let mut dates = Vec::new();
    let mut date = first;
    while date <= last {
        dates.push(date);
        match date.checked_add(1.day()) {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    dates
}

/// A wall time as one real instant, "compatible" resolution; 1440 is the
/// next day's midnight.
pub(super) fn boundary(tz: &TimeZone, date: Date, minute: i32) -> Option<i64> {
    let (date, minute) = if minute >= 1440 { (date.tomorrow().ok()?, minute - 1440) } else { (date, minute) };
    let dt = wall_time(date, minute)?;
    tz.to_ambiguous_timestamp(dt).compatible().ok().map(|t| t.as_second())
}

/// Every real instant at which the wall clock shows `minute` on `date`:
/// none in a gap, two in a fold.
pub(super) fn wall_time_instants(tz: &TimeZone, date: Date, minute: i32) -> [Option<i64>; 2] {
    let Some(dt) = wall_time(date, minute) else { return [None, None] };
    let at = |offset: jiff::tz::Offset| offset.to_timestamp(dt).ok().map(|t| t.as_second());
    match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => [at(offset), None],
        AmbiguousOffset::Gap { .. } => [None, None],
        AmbiguousOffset::Fold { before, after } => [at(before), at(after)],
    }
}

/// A local day on which the clock keeps one offset: each wall time is one
/// instant, found by subtraction. (A time-zone lookup per candidate slot was
/// the slot list's largest cost, measured with perf under `askpro bench`.)
#[derive(Clone, Copy)]
pub(super) struct SteadyClock {
    /// The day's midnight read as if it were UTC.
    civil_midnight: i64,
    offset_seconds: i64,
}

impl SteadyClock {
    pub(super) fn instant(self, minute: i32) -> i64 {
        self.civil_midnight - self.offset_seconds + i64::from(minute) * 60
    }
}

/// The day's clock, when no transition of the zone falls within two days of
/// it either side (offsets are within ±26 hours, so every instant of the day
/// lies inside that window); `None` near a clock change, where each wall time
/// is looked up.
pub(super) fn steady_clock(tz: &TimeZone, date: Date) -> Option<SteadyClock> {
    const DAY: i64 = 86_400;
    let civil_midnight = jiff::tz::Offset::UTC.to_timestamp(wall_time(date, 0)?).ok()?.as_second();
    let window_start = Timestamp::from_second(civil_midnight - 2 * DAY).ok()?;
    let next_change = tz.following(window_start).next().map(|change| change.timestamp().as_second());
    if next_change.is_some_and(|at| at < civil_midnight + 3 * DAY) {
        return None;
    }
    let offset_seconds = i64::from(tz.to_offset(window_start).seconds());
    Some(SteadyClock { civil_midnight, offset_seconds })
}

pub(super) fn wall_time(date: Date, minute: i32) -> Option<DateTime> {
    if !(0..1440).contains(&minute) {
        return None;
    }
    Some(date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0))
}
