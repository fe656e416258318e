//! Free slots: where a service fits in a staff member's open time.
//!
//! Open time is the weekly hours of the branch's local time (a date override
//! replaces a day's hours), minus absences. A candidate start is a local
//! wall-clock time on the slot-step grid (minutes since local midnight that
//! are multiples of the step), converted with the IANA database: a wall time
//! in a spring-forward gap does not exist and yields no slot; a wall time in a
//! fall-back fold exists twice and yields one slot per real instant. Interval
//! boundaries resolve like RFC 9557 "compatible" (a gap moves forward, a fold
//! takes the earlier instant), so a 09:00-17:00 day lasts 8 real hours unless
//! a change falls inside it. A shift is the real time between its two
//! boundaries, and every grid instant inside it is offered, also one whose
//! wall time lies before the shift's start wall time: staff working
//! 02:30-03:30 on a fall-back day work from 02:30 summer time to 03:30 winter
//! time, two real hours, so the second 02:00 (winter time) is offered too.
//!
//! Appointments and live holds are given as their buffered ranges
//! `[start - buffer_before, end + buffer_after)`; a new slot conflicts when its
//! own buffered range overlaps one. That is exactly "B blocks
//! [B.start - B.before - new.after, B.end + B.after + new.before)".
//! All instants are Unix seconds.
use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use uuid::Uuid;

mod local_clock;
mod not_offered;
pub use local_clock::LocalDays;
use local_clock::{SteadyClock, boundary, clock_change_minutes, wall_time_instants};
pub use not_offered::{NotOffered, why_not_offered};

/// One weekly interval: ISO day of week (1 = Monday), minutes after local
/// midnight, end exclusive (1440 = the end of the day).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeeklyInterval {
    pub day_of_week: i16,
    pub start_minute: i32,
    pub end_minute: i32,
}

/// A service's timing rules, in minutes.
#[derive(Clone, Copy, Debug)]
pub struct ServiceRules {
    pub duration: i64,
    pub buffer_before: i64,
    pub buffer_after: i64,
    pub minimum_notice: i64,
    pub booking_horizon: i64,
    pub slot_step: i64,
}

impl ServiceRules {
    /// The buffered range a booking of this service starting at `start` blocks.
    pub fn blocked_range(&self, start: i64) -> (i64, i64) {
        (start - self.buffer_before * 60, start + (self.duration + self.buffer_after) * 60)
    }
}

/// Everything that decides one staff member's availability.
#[derive(Clone, Debug, Default)]
pub struct StaffCalendar {
    pub staff_id: Uuid,
    pub weekly: Vec<WeeklyInterval>,
    /// Days whose hours replace the weekly ones (empty: closed that day).
    pub overrides: HashMap<Date, Vec<(i32, i32)>>,
    /// Absences: real-time ranges removed from open time.
    pub absences: Vec<(i64, i64)>,
    /// Buffered ranges of active appointments and live holds.
    pub busy: Vec<(i64, i64)>,
}

/// A free slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub start: i64,
    pub staff_id: Uuid,
    pub end: i64,
}

/// The question: which slots start in `[from, to)`, seen at `now`.
#[derive(Clone, Debug)]
pub struct SlotQuery {
    pub time_zone: TimeZone,
    pub from: i64,
    pub to: i64,
    pub now: i64,
    pub rules: ServiceRules,
}

/// All free slots of `calendars` for `query`, ordered by start, then staff.
pub fn available_slots(query: &SlotQuery, calendars: &[StaffCalendar]) -> Vec<Slot> {
    let earliest = query.from.max(query.now + query.rules.minimum_notice * 60);
    let latest = query.to.min(query.now + query.rules.booking_horizon * 60 + 1);
    if earliest >= latest || query.rules.duration <= 0 || query.rules.slot_step <= 0 {
        return Vec::new();
    }
    let mut slots = Vec::new();
    let days = LocalDays::new(&query.time_zone, earliest, latest);
    for calendar in calendars {
        let taken = Taken::of(calendar);
        for &(date, steady) in &days.days {
            // On a day whose clock changes, wall times up to the change's size
            // outside the shift's own can fall inside its real time.
            let widen = if steady.is_some() { 0 } else { clock_change_minutes(&query.time_zone, date) };
            for (open_start, open_end, first_minute, last_minute) in
                open_intervals(&query.time_zone, calendar, date, steady)
            {
                let step = query.rules.slot_step as i32;
                let first_minute = (first_minute - widen).max(0);
                let last_minute = (last_minute + widen).min(1440);
                let mut minute = (first_minute + step - 1).div_euclid(step) * step;
                while minute < last_minute {
                    let instants = match steady {
                        Some(clock) => [Some(clock.instant(minute)), None],
                        None => wall_time_instants(&query.time_zone, date, minute),
                    };
                    for start in instants.into_iter().flatten() {
                        let end = start + query.rules.duration * 60;
                        let fits = start >= open_start && end <= open_end;
                        let wanted = start >= earliest && start < latest;
                        if fits && wanted && taken.is_free(&query.rules, start, end) {
                            slots.push(Slot { start, staff_id: calendar.staff_id, end });
                        }
                    }
                    minute += step;
                }
            }
        }
    }
    slots.sort();
    slots.dedup();
    slots
}

/// Seconds of open time (weekly hours or overrides, minus absences) of one
/// staff member within the `[from, to)` of `days`: the denominator of
/// utilization.
pub fn open_seconds(days: &LocalDays, calendar: &StaffCalendar) -> i64 {
    let absences = merged(&calendar.absences);
    let mut total = 0;
    for &(date, steady) in &days.days {
        for (start, end, _, _) in open_intervals(&days.time_zone, calendar, date, steady) {
            let (start, end) = (start.max(days.from), end.min(days.to));
            if start >= end {
                continue;
            }
            let absent: i64 = absences.iter().map(|&(a, b)| (b.min(end) - a.max(start)).max(0)).sum();
            total += (end - start - absent).max(0);
        }
    }
    total
}

/// Sorted, non-overlapping union of ranges.
fn merged(ranges: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut sorted = ranges.to_vec();
    sorted.sort();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (a, b) in sorted {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// A staff member's absences and busy ranges, each merged into sorted,
/// disjoint ranges once per slot list, so each candidate is a binary search
/// instead of a scan of the staff member's every appointment (the scan was
/// the slot engine's largest cost under `askpro bench`).
struct Taken {
    absences: Vec<(i64, i64)>,
    busy: Vec<(i64, i64)>,
}

impl Taken {
    fn of(calendar: &StaffCalendar) -> Self {
        Self { absences: merged(&calendar.absences), busy: merged(&calendar.busy) }
    }

    /// Whether a booking of `[start, end)` is neither absent nor blocked
    /// (with the buffers of `rules`) by busy time.
    fn is_free(&self, rules: &ServiceRules, start: i64, end: i64) -> bool {
        let (blocked_start, blocked_end) = rules.blocked_range(start);
        !overlaps(&self.absences, start, end) && !overlaps(&self.busy, blocked_start, blocked_end)
    }
}

/// Whether any of `disjoint` (sorted, non-overlapping) overlaps the non-empty
/// `[start, end)`: the first range ending after `start` is the only candidate.
fn overlaps(disjoint: &[(i64, i64)], start: i64, end: i64) -> bool {
    let first = disjoint.partition_point(|&(_, range_end)| range_end <= start);
    disjoint.get(first).is_some_and(|&(range_start, _)| range_start < end)
}

fn is_free(calendar: &StaffCalendar, rules: &ServiceRules, start: i64, end: i64) -> bool {
    Taken::of(calendar).is_free(rules, start, end)
}

/// The day's open intervals as (real start, real end, first minute, last
/// minute); `steady`, the day's clock if it has one, saves the zone lookups.
fn open_intervals(
    tz: &TimeZone,
    calendar: &StaffCalendar,
    date: Date,
    steady: Option<SteadyClock>,
) -> Vec<(i64, i64, i32, i32)> {
    let minutes: Vec<(i32, i32)> = match calendar.overrides.get(&date) {
        Some(hours) => hours.clone(),
        None => {
            let day = i16::from(date.weekday().to_monday_one_offset());
            calendar.weekly.iter().filter(|i| i.day_of_week == day).map(|i| (i.start_minute, i.end_minute)).collect()
        }
    };
    minutes
        .into_iter()
        .filter_map(|(start, end)| match steady {
            // Midnight after the day (1440) too: no change within two days.
            Some(clock) => Some((clock.instant(start), clock.instant(end), start, end)),
            None => Some((boundary(tz, date, start)?, boundary(tz, date, end)?, start, end)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::local_clock::steady_clock;
    use super::*;
    use jiff::Timestamp;

    pub(super) fn rules(duration: i64, step: i64) -> ServiceRules {
        ServiceRules {
            duration,
            buffer_before: 0,
            buffer_after: 0,
            minimum_notice: 0,
            booking_horizon: 365 * 24 * 60,
            slot_step: step,
        }
    }

    /// "Now" for the tests: well before every date used, within the horizon.
    const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    pub(super) fn instant(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_second()
    }

    pub(super) fn every_day(start: i32, end: i32) -> Vec<WeeklyInterval> {
        (1..=7).map(|d| WeeklyInterval { day_of_week: d, start_minute: start, end_minute: end }).collect()
    }

    pub(super) fn query(zone: &str, from: &str, to: &str, rules: ServiceRules) -> SlotQuery {
        SlotQuery { time_zone: TimeZone::get(zone).unwrap(), from: instant(from), to: instant(to), now: NOW, rules }
    }

    pub(super) fn staff(weekly: Vec<WeeklyInterval>) -> StaffCalendar {
        StaffCalendar { staff_id: Uuid::from_u128(1), weekly, ..Default::default() }
    }

    pub(super) fn starts(slots: &[Slot]) -> Vec<String> {
        slots.iter().map(|s| Timestamp::from_second(s.start).unwrap().to_string()).collect()
    }

    #[test]
    fn spring_forward_skips_the_missing_hour() {
        // Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST.
        let q = query("Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-29T03:00:00Z", rules(30, 30));
        let slots = available_slots(&q, &[staff(every_day(60, 5 * 60))]);
        // Local 01:00, 01:30 (CET, UTC+1), then 03:00, 03:30, 04:00, 04:30 (CEST, UTC+2).
        assert_eq!(
            starts(&slots),
            vec![
                "2026-03-29T00:00:00Z",
                "2026-03-29T00:30:00Z",
                "2026-03-29T01:00:00Z",
                "2026-03-29T01:30:00Z",
                "2026-03-29T02:00:00Z",
                "2026-03-29T02:30:00Z"
            ]
        );
    }

    #[test]
    fn fall_back_offers_the_repeated_hour_once_per_instant() {
        // Berlin, 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:xx happens twice.
        let q = query("Europe/Berlin", "2026-10-24T22:00:00Z", "2026-10-25T03:00:00Z", rules(30, 30));
        let slots = available_slots(&q, &[staff(every_day(2 * 60, 3 * 60))]);
        // 02:00 CEST (00:00Z), 02:30 CEST, 02:00 CET (01:00Z), 02:30 CET; the interval
        // 02:00-03:00 resolves to 00:00Z-02:00Z, so all four fit.
        assert_eq!(
            starts(&slots),
            vec!["2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z"]
        );
    }

    /// Issue 11, item 7: a shift starting inside the repeated hour is the
    /// real time between its boundaries, and every grid instant in it is
    /// offered; before, 02:00 winter time was missing from 02:30-03:30.
    #[test]
    fn a_shift_starting_in_the_repeated_hour_offers_every_instant_inside_it() {
        let q = query("Europe/Berlin", "2026-10-24T22:00:00Z", "2026-10-25T04:00:00Z", rules(30, 30));
        let slots = available_slots(&q, &[staff(every_day(150, 210))]);
        // 02:30 CEST (00:30Z) to 03:30 CET (02:30Z): 02:30 CEST, 02:00 CET, 02:30 CET, 03:00 CET.
        assert_eq!(
            starts(&slots),
            vec!["2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:00:00Z"]
        );
        // Every offered start passes the explanation too.
        let calendar = staff(every_day(150, 210));
        for slot in &slots {
            assert_eq!(why_not_offered(&q, &calendar, slot.start), None);
        }
    }

    #[test]
    fn a_working_day_lasts_its_real_hours() {
        // 09:00-17:00 with 60-minute steps and durations: 8 slots on an ordinary
        // day, on the spring-forward day (change at 02:00, outside the day) and
        // in a zone without DST.
        for (zone, day) in [
            ("Europe/Berlin", "2026-03-29"),
            ("Europe/Berlin", "2026-10-25"),
            ("America/New_York", "2026-03-08"),
            ("America/New_York", "2026-11-01"),
            ("Asia/Tokyo", "2026-03-29"),
        ] {
            let tz = TimeZone::get(zone).unwrap();
            let date: Date = day.parse().unwrap();
            let from = tz.to_ambiguous_timestamp(date.at(0, 0, 0, 0)).compatible().unwrap().as_second();
            let q = SlotQuery { time_zone: tz, from, to: from + 86_400, now: NOW, rules: rules(60, 60) };
            let slots = available_slots(&q, &[staff(every_day(9 * 60, 17 * 60))]);
            assert_eq!(slots.len(), 8, "{zone} {day}");
            assert_eq!(slots.last().unwrap().end - slots[0].start, 8 * 3600, "{zone} {day}");
        }
    }

    #[test]
    fn a_change_inside_the_day_shortens_or_lengthens_it() {
        // New York, 2026-03-08: 02:00 -> 03:00. Hours 00:00-06:00 last 5 real hours.
        let q = query("America/New_York", "2026-03-08T05:00:00Z", "2026-03-08T12:00:00Z", rules(60, 60));
        let slots = available_slots(&q, &[staff(every_day(0, 6 * 60))]);
        assert_eq!(slots.len(), 5);
        // New York, 2026-11-01: 02:00 -> 01:00. Hours 00:00-06:00 last 7 real hours;
        // wall times 01:00 exists twice.
        let q = query("America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T12:00:00Z", rules(60, 60));
        let slots = available_slots(&q, &[staff(every_day(0, 6 * 60))]);
        assert_eq!(slots.len(), 7);
    }

    #[test]
    fn appointments_block_their_time_plus_both_buffers() {
        let mut r = rules(30, 15);
        r.buffer_before = 10;
        r.buffer_after = 5;
        let booked = instant("2026-06-01T10:00:00Z");
        // An existing booking 10:00-10:30 with its own buffers 10 before, 5 after.
        let mut calendar = staff(every_day(0, 1440));
        calendar.busy.push((booked - 600, booked + 35 * 60));
        let q = SlotQuery {
            time_zone: TimeZone::UTC,
            from: instant("2026-06-01T09:00:00Z"),
            to: instant("2026-06-01T12:00:00Z"),
            now: NOW,
            rules: r,
        };
        let slots = starts(&available_slots(&q, &[calendar]));
        // A new slot ending at S+30 needs S+30+5 <= 09:50, so S <= 09:15;
        // starting after needs S-10 >= 10:35, so S >= 10:45.
        assert!(slots.contains(&"2026-06-01T09:15:00Z".to_string()));
        assert!(!slots.contains(&"2026-06-01T09:30:00Z".to_string()));
        assert!(!slots.contains(&"2026-06-01T10:30:00Z".to_string()));
        assert!(slots.contains(&"2026-06-01T10:45:00Z".to_string()));
    }

    #[test]
    fn overrides_replace_a_day_and_absences_remove_time() {
        let mut calendar = staff(every_day(9 * 60, 12 * 60));
        let monday: Date = "2026-06-01".parse().unwrap();
        calendar.overrides.insert(monday, vec![(14 * 60, 15 * 60)]);
        calendar.absences.push((instant("2026-06-02T09:00:00Z"), instant("2026-06-02T11:00:00Z")));
        let q = query("UTC", "2026-06-01T00:00:00Z", "2026-06-03T00:00:00Z", rules(60, 60));
        assert_eq!(starts(&available_slots(&q, &[calendar])), vec!["2026-06-01T14:00:00Z", "2026-06-02T11:00:00Z"]);
    }

    #[test]
    fn notice_horizon_and_step_alignment_apply() {
        let mut r = rules(30, 20);
        r.minimum_notice = 60;
        r.booking_horizon = 3 * 60;
        let mut q = query("UTC", "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z", r);
        q.now = instant("2026-06-01T09:05:00Z");
        let slots = starts(&available_slots(&q, &[staff(every_day(9 * 60 + 10, 13 * 60))]));
        // The grid is 00, 20, 40 past each hour; notice makes 10:05 the earliest,
        // the horizon 12:05 the latest start.
        assert_eq!(
            slots,
            vec![
                "2026-06-01T10:20:00Z",
                "2026-06-01T10:40:00Z",
                "2026-06-01T11:00:00Z",
                "2026-06-01T11:20:00Z",
                "2026-06-01T11:40:00Z",
                "2026-06-01T12:00:00Z"
            ]
        );
    }

    #[test]
    fn open_time_counts_hours_minus_absences() {
        let mut calendar = staff(every_day(9 * 60, 17 * 60));
        calendar.absences.push((instant("2026-06-01T10:00:00Z"), instant("2026-06-01T12:00:00Z")));
        calendar.absences.push((instant("2026-06-01T11:00:00Z"), instant("2026-06-01T13:00:00Z")));
        let tz = TimeZone::UTC;
        let day = LocalDays::new(&tz, instant("2026-06-01T00:00:00Z"), instant("2026-06-02T00:00:00Z"));
        assert_eq!(open_seconds(&day, &calendar), 5 * 3600, "8 hours minus the 3 hours of overlapping absences");
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // A week with the spring change (Sunday 29 March 2026) and one without.
        let week = LocalDays::new(&berlin, instant("2026-03-23T00:00:00Z"), instant("2026-03-30T00:00:00Z"));
        assert_eq!(open_seconds(&week, &staff(every_day(9 * 60, 17 * 60))), 7 * 8 * 3600);
        let steady = LocalDays::new(&berlin, instant("2026-06-01T00:00:00Z"), instant("2026-06-08T00:00:00Z"));
        assert_eq!(open_seconds(&steady, &staff(every_day(9 * 60, 17 * 60))), 7 * 8 * 3600);
        // Midnight to midnight across the spring change: that day has 23 hours.
        let change = LocalDays::new(&berlin, instant("2026-03-28T23:00:00Z"), instant("2026-03-29T22:00:00Z"));
        assert_eq!(open_seconds(&change, &staff(every_day(0, 1440))), 23 * 3600);
    }

    #[test]
    fn a_range_overlaps_merged_ranges_exactly_when_it_overlaps_one_of_them() {
        let ranges = [(10, 20), (15, 30), (40, 40), (50, 60), (5, 8)];
        let disjoint = merged(&ranges);
        // Non-empty ranges: a booking lasts (duration > 0, checked first).
        for start in 0..70 {
            for end in start + 1..72 {
                let scanned = ranges.iter().any(|&(a, b)| start < b && end > a);
                assert_eq!(overlaps(&disjoint, start, end), scanned, "[{start}, {end})");
            }
        }
    }

    #[test]
    fn slots_are_ordered_by_time_then_staff() {
        let a =
            StaffCalendar { staff_id: Uuid::from_u128(2), weekly: every_day(9 * 60, 10 * 60), ..Default::default() };
        let b =
            StaffCalendar { staff_id: Uuid::from_u128(1), weekly: every_day(9 * 60, 10 * 60), ..Default::default() };
        let q = query("UTC", "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z", rules(30, 30));
        let slots = available_slots(&q, &[a, b]);
        let order: Vec<(i64, u128)> = slots.iter().map(|s| (s.start, s.staff_id.as_u128())).collect();
        let t = instant("2026-06-01T09:00:00Z");
        assert_eq!(order, vec![(t, 1), (t, 2), (t + 1800, 1), (t + 1800, 2)]);
    }

    #[test]
    fn a_steady_day_reads_every_wall_time_as_the_zone_lookup_does() {
        let mut steady_days = 0;
        for zone in ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"] {
            let tz = TimeZone::get(zone).unwrap();
            let mut date = jiff::civil::date(2026, 1, 1);
            while date.year() == 2026 {
                if let Some(clock) = steady_clock(&tz, date) {
                    steady_days += 1;
                    for minute in (0..1440).step_by(5) {
                        assert_eq!(
                            [Some(clock.instant(minute)), None],
                            wall_time_instants(&tz, date, minute),
                            "{zone} {date} {minute}"
                        );
                    }
                }
                date = date.tomorrow().unwrap();
            }
        }
        // Most days are steady; the ones near a clock change are not.
        assert!(steady_days > 5 * 365 - 4 * 10, "{steady_days}");
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert!(steady_clock(&berlin, jiff::civil::date(2026, 3, 29)).is_none());
        assert!(steady_clock(&berlin, jiff::civil::date(2026, 10, 25)).is_none());
    }
}
