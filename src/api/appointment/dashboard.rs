//! GetDashboardStats: appointment counts, no-show rate, utilization and new
//! customers for a local day, ISO week or calendar month.
//!
//! The period is cut at local midnights of the branch's (or tenant's) time
//! zone, so a DST week is 167 or 169 real hours; each staff member's working
//! hours are read in their own branch's zone.
use chrono::{DateTime, Utc};
use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use tonic::Request;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::convert::timestamp;
use crate::domain::appointment::Status;
use crate::domain::ids::BranchId;
use crate::domain::slots::{LocalDays, open_seconds};
use crate::domain::validate::Violations;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;
use crate::proto::r#type::v1 as types;
use crate::store::dashboard::{self, StatusTotal};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Period {
    Day,
    Week,
    Month,
}

pub async fn stats(
    state: &AppState,
    request: Request<pb::GetDashboardStatsRequest>,
) -> Result<pb::GetDashboardStatsResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let mut v = Violations::new();
    let date = v.take("date", local_date(req.date.as_ref()));
    let period = v.take("period", period(req.period));
    let branch_id =
        if req.branch_id.is_empty() { None } else { v.take_err(BranchId::parse("branch_id", &req.branch_id)) };
    v.finish()?;
    let (Some(date), Some(period)) = (date, period) else {
        return Err(Error::internal("validated fields are missing"));
    };

    let config = state.store.tenant_config(tenant).await?;
    let zone_name = match branch_id {
        // An unknown (or another tenant's) branch is NOT_FOUND.
        Some(id) => config.branch(id.0)?.time_zone.clone(),
        None => config.time_zone.clone(),
    };
    let zone = time_zone(&zone_name)?;
    let (from, to) = period_range(&zone, date, period)?;
    let (from_utc, to_utc) = (utc(from)?, utc(to)?);
    let branch = branch_id.map(|b| b.0);
    let period_totals = dashboard::period_totals(&state.store, tenant, from_utc, to_utc, branch).await?;
    let totals = period_totals.by_status;
    let new_customers = period_totals.new_customers;
    let staff = dashboard::staff_hours(&state.store, tenant, &config, branch, from_utc, to_utc).await?;

    // Staff of one branch share its zone: its local days are worked out once.
    let mut zones: Vec<(&str, LocalDays)> = Vec::new();
    let mut open = 0;
    for member in &staff {
        let days = match zones.iter().position(|(name, _)| *name == member.time_zone) {
            Some(index) => &zones[index].1,
            None => {
                zones.push((&member.time_zone, LocalDays::new(&time_zone(&member.time_zone)?, from, to)));
                &zones[zones.len() - 1].1
            }
        };
        open += open_seconds(days, &member.calendar);
    }
    let counts = counts(&totals);
    let booked: i64 = totals.iter().filter(|t| t.status != Status::Cancelled.as_str()).map(|t| t.booked_seconds).sum();
    Ok(pb::GetDashboardStatsResponse {
        range: Some(types::TimeRange { start_time: Some(timestamp(from_utc)), end_time: Some(timestamp(to_utc)) }),
        no_show_rate: ratio(i64::from(counts.no_show), i64::from(counts.completed) + i64::from(counts.no_show)),
        // Not capped: booking outside working hours shows as more than 1.
        utilization: ratio(booked, open),
        new_customers: i32::try_from(new_customers).unwrap_or(i32::MAX),
        appointment_counts: Some(counts),
        time_zone: zone_name,
    })
}

fn local_date(date: Option<&types::LocalDate>) -> std::result::Result<Date, &'static str> {
    let Some(d) = date else { return Err("is required") };
    let valid = (1..=9999).contains(&d.year) && (1..=12).contains(&d.month) && (1..=31).contains(&d.day);
    valid.then(|| Date::new(d.year as i16, d.month as i8, d.day as i8).ok()).flatten().ok_or("is not a calendar date")
}

/// The contract reads an unset period as DAY.
fn period(value: i32) -> std::result::Result<Period, &'static str> {
    match pb::StatsPeriod::try_from(value) {
        Ok(pb::StatsPeriod::Unspecified | pb::StatsPeriod::Day) => Ok(Period::Day),
        Ok(pb::StatsPeriod::Week) => Ok(Period::Week),
        Ok(pb::StatsPeriod::Month) => Ok(Period::Month),
        Err(_) => Err("must be DAY, WEEK or MONTH"),
    }
}

/// A zone name read back from storage, where it was validated on the way in.
fn time_zone(name: &str) -> Result<TimeZone> {
    TimeZone::get(name).map_err(|e| Error::Internal(format!("stored time zone {name:?}: {e}")))
}

/// Unix seconds of local midnight at the start of the period containing
/// `date` and of local midnight after its end. A midnight that a DST change
/// skips resolves forward ("compatible"), like working-hour boundaries.
fn period_range(zone: &TimeZone, date: Date, period: Period) -> Result<(i64, i64)> {
    let out_of_range = |_| Error::invalid("date", "is out of range");
    let first = match period {
        Period::Day => date,
        Period::Week => {
            date.checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days()).map_err(out_of_range)?
        }
        Period::Month => date.first_of_month(),
    };
    let length = match period {
        Period::Day => 1.day(),
        Period::Week => 7.days(),
        Period::Month => 1.month(),
    };
    let after_last = first.checked_add(length).map_err(out_of_range)?;
    let midnight = |day: Date| {
        zone.to_ambiguous_timestamp(day.at(0, 0, 0, 0)).compatible().map(|t| t.as_second()).map_err(out_of_range)
    };
    Ok((midnight(first)?, midnight(after_last)?))
}

fn utc(seconds: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0).ok_or_else(|| Error::invalid("date", "is out of range"))
}

fn counts(totals: &[StatusTotal]) -> pb::AppointmentCounts {
    let mut counts = pb::AppointmentCounts::default();
    for total in totals {
        let n = i32::try_from(total.count).unwrap_or(i32::MAX);
        match total.status.parse::<Status>() {
            Ok(Status::Pending) => counts.pending += n,
            Ok(Status::Confirmed) => counts.confirmed += n,
            Ok(Status::Cancelled) => counts.cancelled += n,
            Ok(Status::Completed) => counts.completed += n,
            Ok(Status::NoShow) => counts.no_show += n,
            // A status this build does not know is still an appointment.
            Err(_) => {}
        }
        counts.total = counts.total.saturating_add(n);
    }
    counts
}

fn ratio(numerator: i64, denominator: i64) -> f64 {
    if denominator <= 0 { 0.0 } else { numerator as f64 / denominator as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn instant(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_second()
    }

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn periods_run_from_local_midnight_to_local_midnight() {
        let day = period_range(&berlin(), date("2026-03-30"), Period::Day).unwrap();
        assert_eq!(day, (instant("2026-03-29T22:00:00Z"), instant("2026-03-30T22:00:00Z")));
        // The week of Wednesday 2026-03-25 holds the spring change: 167 hours.
        let week = period_range(&berlin(), date("2026-03-25"), Period::Week).unwrap();
        assert_eq!(week, (instant("2026-03-22T23:00:00Z"), instant("2026-03-29T22:00:00Z")));
        let month = period_range(&berlin(), date("2026-02-14"), Period::Month).unwrap();
        assert_eq!(month, (instant("2026-01-31T23:00:00Z"), instant("2026-02-28T23:00:00Z")));
        let december = period_range(&berlin(), date("2026-12-31"), Period::Month).unwrap();
        assert_eq!(december.1, instant("2026-12-31T23:00:00Z"));
    }

    #[test]
    fn a_sunday_belongs_to_the_week_before() {
        let week = period_range(&TimeZone::UTC, date("2026-03-29"), Period::Week).unwrap();
        assert_eq!(week.0, instant("2026-03-23T00:00:00Z"));
    }

    #[test]
    fn dates_must_exist() {
        let d = |year, month, day| types::LocalDate { year, month, day };
        assert!(local_date(Some(&d(2026, 2, 29))).is_err());
        assert!(local_date(Some(&d(2028, 2, 29))).is_ok());
        assert!(local_date(Some(&d(0, 1, 1))).is_err());
        assert!(local_date(Some(&d(2026, 13, 1))).is_err());
        assert!(local_date(None).is_err());
    }

    #[test]
    fn unset_period_is_a_day_and_unknown_is_refused() {
        assert_eq!(period(0).unwrap(), Period::Day);
        assert_eq!(period(3).unwrap(), Period::Month);
        assert!(period(9).is_err());
    }

    #[test]
    fn rates_are_zero_without_a_denominator() {
        assert_eq!(ratio(1, 0), 0.0);
        assert_eq!(ratio(1, 4), 0.25);
    }
}
