//! Each staff member's time off and busy time (the claims of appointments
//! and holds) over a window of the coming weeks, as the slot engine reads
//! them. Time off changes rarely and is kept apart from busy time, which
//! every booking of the staff member changes: a booking's validation then
//! still finds the time off cached.
//!
//! An entry holds everything of its staff member that overlaps the window it
//! was loaded for; a read whose range lies inside that window is answered
//! from it exactly as the database would answer, and any other read goes to
//! the database.
use chrono::{DateTime, Duration, Utc};
use jiff::civil::Date;

/// How far back from its load a busy-time entry reaches: slot lists and
/// bookings start around now.
const BUSY_BEHIND: Duration = Duration::days(3);
/// How far ahead an entry reaches: the longest slot list (62 days), its
/// widening, the alternatives' week, and room for the entry's lifetime.
const AHEAD: Duration = Duration::days(100);
/// How far back a time-off entry reaches: the dashboard measures past
/// periods against working hours minus time off, and time off is a handful
/// of rows a year.
const TIME_OFF_BEHIND: Duration = Duration::days(400);

/// A range of real time, `[from, to)`, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    /// What a busy-time entry loaded at `now` covers.
    pub fn busy_cached_at(now: DateTime<Utc>) -> Self {
        Self { from: now - BUSY_BEHIND, to: now + AHEAD }
    }

    /// What a time-off entry loaded at `now` covers.
    pub fn time_off_cached_at(now: DateTime<Utc>) -> Self {
        Self { from: now - TIME_OFF_BEHIND, to: now + AHEAD }
    }

    pub fn contains(&self, other: &Window) -> bool {
        self.from <= other.from && other.to <= self.to
    }

    /// Local dates whose hours can touch the window, in any zone: a day
    /// either side covers every offset.
    pub fn dates(&self) -> (Date, Date) {
        (date_of(self.from - Duration::days(1)), date_of(self.to + Duration::days(1)))
    }
}

/// A staff member's absences and date overrides within `window`.
#[derive(Debug, Default)]
pub struct StaffTimeOff {
    pub window: Window,
    /// `[start, end)` in seconds, ordered by start.
    pub absences: Vec<(i64, i64)>,
    /// Dated within `window.dates()`, ordered by date.
    pub overrides: Vec<(Date, Vec<(i32, i32)>)>,
}

/// A staff member's active claims overlapping `window`.
#[derive(Debug, Default)]
pub struct StaffBusy {
    pub window: Window,
    /// `[block_start, block_end)` in seconds and, for holds, when the claim
    /// stops counting.
    pub claims: Vec<Claim>,
}

#[derive(Clone, Copy, Debug)]
pub struct Claim {
    pub start: i64,
    pub end: i64,
    pub expires: Option<i64>,
}

impl StaffTimeOff {
    /// Absences overlapping `window` (inside the entry's window).
    pub fn absences_in(&self, window: &Window) -> impl Iterator<Item = (i64, i64)> + '_ {
        let (from, to) = (window.from.timestamp(), window.to.timestamp());
        self.absences.iter().copied().filter(move |&(start, end)| start < to && end > from)
    }

    /// Overrides dated within `window.dates()`.
    pub fn overrides_in(&self, window: &Window) -> impl Iterator<Item = &(Date, Vec<(i32, i32)>)> + '_ {
        let (first, last) = window.dates();
        self.overrides.iter().filter(move |(date, _)| first <= *date && *date <= last)
    }
}

impl StaffBusy {
    /// Claims overlapping `window` that still count at `now`.
    pub fn busy_in(&self, window: &Window, now: DateTime<Utc>) -> impl Iterator<Item = (i64, i64)> + '_ {
        let (from, to, now) = (window.from.timestamp(), window.to.timestamp(), now.timestamp());
        self.claims
            .iter()
            .filter(move |c| c.start < to && c.end > from && c.expires.is_none_or(|at| at > now))
            .map(|c| (c.start, c.end))
    }
}

/// The UTC calendar date of an instant.
pub fn date_of(at: DateTime<Utc>) -> Date {
    use chrono::Datelike;
    Date::new(at.year() as i16, at.month() as i8, at.day() as i8).unwrap_or_default()
}
