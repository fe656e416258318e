//! Appointments and new customers per UTC day: every appointment that starts
//! on the day (whole rows, ordered by start and id), and when the customers
//! created on the day were created. ListAppointments over a range and the
//! dashboard's periods read the days they touch, so a booking invalidates
//! one day, not every list or period that contains it, and a month costs
//! thirty-two lookups instead of a scan.
use uuid::Uuid;

use crate::store::entities::appointment;

const SECONDS_PER_DAY: i64 = 86_400;

/// The UTC day number (days since 1970-01-01) of a Unix second.
pub fn day_of(second: i64) -> i64 {
    second.div_euclid(SECONDS_PER_DAY)
}

/// The UTC days `[from, to)` touches.
pub fn days_of(from: i64, to: i64) -> std::ops::RangeInclusive<i64> {
    day_of(from)..=day_of(to - 1)
}

/// The first Unix second of a UTC day.
pub fn start_of(day: i64) -> i64 {
    day * SECONDS_PER_DAY
}

/// Every appointment starting on one UTC day, ordered by (start, id), and
/// their totals per branch and status, added up once when the day is read:
/// a dashboard period adds the totals of the days it covers whole and looks
/// at single rows only on the days its edges cut.
#[derive(Debug, Default)]
pub struct DayAppointments {
    appointments: Vec<appointment::Model>,
    totals: Vec<DayTotal>,
}

/// The appointments of one branch and status on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayTotal {
    pub branch_id: Uuid,
    /// As stored ("pending", "no_show", ...).
    pub status: String,
    pub count: i64,
    /// Sum of `end_time - start_time`, in seconds.
    pub booked_seconds: i64,
}

impl DayAppointments {
    /// The day of `rows`, which all start on it (in any order).
    pub fn new(mut rows: Vec<appointment::Model>) -> Self {
        rows.sort_unstable_by_key(|row| (row.start_time, row.id));
        // Kept for as long as the day is cached: no spare capacity.
        rows.shrink_to_fit();
        let mut totals: Vec<DayTotal> = Vec::new();
        for row in &rows {
            let seconds = row.end_time.timestamp() - row.start_time.timestamp();
            match totals.iter_mut().find(|total| total.branch_id == row.branch_id && total.status == row.status) {
                Some(total) => {
                    total.count += 1;
                    total.booked_seconds += seconds;
                }
                None => totals.push(DayTotal {
                    branch_id: row.branch_id,
                    status: row.status.clone(),
                    count: 1,
                    booked_seconds: seconds,
                }),
            }
        }
        Self { appointments: rows, totals }
    }

    /// Ordered by (start, id).
    pub fn appointments(&self) -> &[appointment::Model] {
        &self.appointments
    }

    /// Per branch and status, in no particular order.
    pub fn totals(&self) -> &[DayTotal] {
        &self.totals
    }
}

/// The creation times (Unix seconds) of the customers created on one UTC day.
#[derive(Debug, Default)]
pub struct DayCustomers {
    pub created: Vec<i64>,
}

/// What an entry weighs against its cache's bound: its rows, at least one.
pub fn weight_of_appointments(day: &DayAppointments) -> u32 {
    u32::try_from(day.appointments.len() + day.totals.len()).unwrap_or(u32::MAX).max(1)
}

pub fn weight_of_customers(day: &DayCustomers) -> u32 {
    u32::try_from(day.created.len()).unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_and_ranges_are_half_open() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(-1), -1);
        assert_eq!(days_of(start_of(3), start_of(5)), 3..=4);
        assert_eq!(days_of(start_of(3) + 10, start_of(3) + 20), 3..=3);
    }
}
