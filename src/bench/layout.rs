//! Where the seeded appointments go, computed without touching the database.
//!
//! Every staff member works Monday to Saturday, 08:00 to 20:00 in the branch's
//! zone. Appointments are laid out day by day, backwards from day 29 ahead
//! into the past until the staff member's share is placed; within a day they
//! follow each other with their buffers and occasional gaps, so no two
//! buffered ranges of one staff member overlap (PostgreSQL's exclusion
//! constraint would refuse that) and availability still finds free slots.
//! Days 30 to 89 ahead stay empty: CreateAppointment books there.
use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::Rng;
use rand::rngs::StdRng;

use crate::domain::appointment::Status;

/// Working hours of every seeded staff member, minutes after local midnight.
pub const OPEN_MINUTE: i32 = 8 * 60;
pub const CLOSE_MINUTE: i32 = 20 * 60;
/// ISO weekdays worked (Monday = 1 .. Saturday = 6).
pub const WORK_DAYS: std::ops::RangeInclusive<i16> = 1..=6;
/// The last day (from today) that gets seeded appointments.
pub const LAST_SEEDED_DAY: i64 = 29;
/// Days `[FREE_FROM_DAY, FREE_UNTIL_DAY)` ahead are left empty for CreateAppointment.
pub const FREE_FROM_DAY: i64 = 30;
pub const FREE_UNTIL_DAY: i64 = 90;
/// Slot grid of every service, minutes (aligned to the local hour).
pub const SLOT_STEP: i32 = 15;
/// Booking horizon of every service: past FREE_UNTIL_DAY, so every free slot is bookable.
pub const HORIZON_DAYS: i32 = 120;
/// Chance that a gap of 30 minutes precedes an appointment.
const GAP_CHANCE: f64 = 0.2;

/// A seeded service's timings, in minutes, and how often it is booked.
#[derive(Clone, Copy, Debug)]
pub struct ServiceSpec {
    pub name: &'static str,
    pub duration: i32,
    pub buffer_before: i32,
    pub buffer_after: i32,
    /// Relative booking frequency.
    pub weight: u32,
}

/// The four services of the bench salon. The first has no buffers and a
/// duration of 30 minutes: CreateAppointment books it on a 30-minute grid,
/// so the precomputed free slots never block each other.
pub const SERVICES: [ServiceSpec; 4] = [
    ServiceSpec { name: "Herrenhaarschnitt", duration: 30, buffer_before: 0, buffer_after: 0, weight: 40 },
    ServiceSpec { name: "Damenhaarschnitt", duration: 60, buffer_before: 0, buffer_after: 10, weight: 30 },
    ServiceSpec { name: "Färben", duration: 90, buffer_before: 10, buffer_after: 15, weight: 10 },
    ServiceSpec { name: "Bartpflege", duration: 20, buffer_before: 0, buffer_after: 5, weight: 20 },
];
/// The service CreateAppointment books (see `SERVICES`).
pub const BOOKED_SERVICE: usize = 0;

/// One appointment to seed. Times are Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planned {
    pub staff: usize,
    pub service: usize,
    pub start: i64,
    pub end: i64,
    pub block_start: i64,
    pub block_end: i64,
    pub status: Status,
}

/// Lays out `total` appointments over `staff` staff members (shares differ by
/// at most one). `today` is the local date of `now`.
pub fn plan_appointments(
    staff: usize,
    total: usize,
    tz: &TimeZone,
    today: Date,
    now: i64,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<Planned>> {
    let mut planned = Vec::with_capacity(total);
    for member in 0..staff {
        let share = total / staff + usize::from(member < total % staff);
        let mut placed = 0;
        let mut offset = LAST_SEEDED_DAY;
        while placed < share {
            let date = today.checked_add(offset.days())?;
            offset -= 1;
            if !WORK_DAYS.contains(&i16::from(date.weekday().to_monday_one_offset())) {
                continue;
            }
            let mut cursor = OPEN_MINUTE;
            while placed < share {
                if rng.random_bool(GAP_CHANCE) {
                    cursor += 30;
                }
                let service = pick_service(rng);
                let spec = SERVICES[service];
                let start = align_up(cursor + spec.buffer_before, SLOT_STEP);
                let end = start + spec.duration;
                if end > CLOSE_MINUTE {
                    break;
                }
                cursor = end + spec.buffer_after;
                let (start_at, end_at) = (instant(tz, date, start)?, instant(tz, date, end)?);
                planned.push(Planned {
                    staff: member,
                    service,
                    start: start_at,
                    end: end_at,
                    block_start: start_at - i64::from(spec.buffer_before) * 60,
                    block_end: end_at + i64::from(spec.buffer_after) * 60,
                    status: pick_status(rng, start_at, end_at, now),
                });
                placed += 1;
            }
        }
    }
    Ok(planned)
}

/// Every (staff index, start) of the booked service on a 30-minute grid in
/// the days left empty, in no particular order.
pub fn free_slots(staff: usize, tz: &TimeZone, today: Date) -> anyhow::Result<Vec<(usize, i64)>> {
    let duration = SERVICES[BOOKED_SERVICE].duration;
    let mut slots = Vec::new();
    for offset in FREE_FROM_DAY..FREE_UNTIL_DAY {
        let date = today.checked_add(offset.days())?;
        if !WORK_DAYS.contains(&i16::from(date.weekday().to_monday_one_offset())) {
            continue;
        }
        let mut minute = OPEN_MINUTE;
        while minute + duration <= CLOSE_MINUTE {
            let start = instant(tz, date, minute)?;
            slots.extend((0..staff).map(|member| (member, start)));
            minute += duration;
        }
    }
    Ok(slots)
}

/// A local wall time as a Unix second ("compatible" resolution; seeded hours
/// never fall into a DST gap in Europe/Berlin).
pub fn instant(tz: &TimeZone, date: Date, minute: i32) -> anyhow::Result<i64> {
    let (hour, minute) = (i8::try_from(minute / 60)?, i8::try_from(minute % 60)?);
    Ok(tz.to_ambiguous_timestamp(date.at(hour, minute, 0, 0)).compatible()?.as_second())
}

fn align_up(minute: i32, step: i32) -> i32 {
    (minute + step - 1).div_euclid(step) * step
}

fn pick_service(rng: &mut StdRng) -> usize {
    let total: u32 = SERVICES.iter().map(|s| s.weight).sum();
    let mut roll = rng.random_range(0..total);
    for (index, spec) in SERVICES.iter().enumerate() {
        if roll < spec.weight {
            return index;
        }
        roll -= spec.weight;
    }
    0
}

/// A plausible status: past appointments were mostly completed, some were
/// no-shows or cancelled, a few never closed out; upcoming ones are mostly
/// confirmed.
fn pick_status(rng: &mut StdRng, start: i64, end: i64, now: i64) -> Status {
    let roll = rng.random_range(0..100);
    if end <= now {
        match roll {
            0..78 => Status::Completed,
            78..85 => Status::NoShow,
            85..97 => Status::Cancelled,
            _ => Status::Confirmed,
        }
    } else if start <= now {
        Status::Confirmed
    } else {
        match roll {
            0..65 => Status::Confirmed,
            65..90 => Status::Pending,
            _ => Status::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").expect("zone")
    }

    #[test]
    fn appointments_of_one_staff_member_never_overlap_and_fit_the_day() {
        let tz = berlin();
        let today = Date::new(2026, 11, 24).expect("date");
        let now = instant(&tz, today, 12 * 60).expect("now");
        let mut rng = StdRng::seed_from_u64(7);
        let planned = plan_appointments(3, 3001, &tz, today, now, &mut rng).expect("plan");
        assert_eq!(planned.len(), 3001);
        for member in 0..3 {
            let mut mine: Vec<_> = planned.iter().filter(|p| p.staff == member).collect();
            assert!((1000..=1001).contains(&mine.len()));
            mine.sort_by_key(|p| p.block_start);
            for pair in mine.windows(2) {
                assert!(pair[0].block_end <= pair[1].block_start, "{:?} overlaps {:?}", pair[0], pair[1]);
            }
        }
        let last_free = instant(&tz, today.checked_add(FREE_FROM_DAY.days()).expect("date"), 0).expect("instant");
        assert!(planned.iter().all(|p| p.end <= last_free), "the free days stay empty");
        assert!(planned.iter().any(|p| p.start > now) && planned.iter().any(|p| p.end < now));
    }

    #[test]
    fn free_slots_are_distinct_and_lie_in_the_empty_days() {
        let tz = berlin();
        let today = Date::new(2026, 11, 24).expect("date");
        let slots = free_slots(2, &tz, today).expect("slots");
        let mut unique = slots.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), slots.len());
        // 60 days hold 51 or 52 working days of 24 half-hour slots each.
        assert!((2 * 24 * 51..=2 * 24 * 52).contains(&slots.len()), "{}", slots.len());
    }
}
