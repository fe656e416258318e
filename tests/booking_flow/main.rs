//! The booking core over gRPC: free slots, holds, appointments and their
//! life cycle, tenant isolation of all of it, and the change stream. Every
//! test runs against a real server on SQLite and (with
//! ASKPRO_TEST_DATABASE_URL) on PostgreSQL.

mod appointments;
mod caches;
mod call_credentials;
#[path = "../common/mod.rs"]
mod common;
mod customer_overlap;
mod hold_limits;
mod holds;
mod isolation;
mod request_text;
mod reschedule;
mod slots;
mod voice_agent;
mod watch;

use std::time::Duration;

use askpro::proto::appointment::v1 as ap;
use askpro::proto::availability::v1 as av;
use askpro::proto::tenant::v1 as tn;
use common::salon::{OPEN_HOURS, Salon};
use common::time::{BERLIN, BookingDay, HOUR, MIN, pts, secs, time_range, zone};
use common::{authed, error_metadata, expect_code, expect_reason, minutes, reason, request_id, violated_fields};
use jiff::tz::TimeZone;
use tonic::{Code, Status};
use uuid::Uuid;

/// Whole seconds from `from` to `to` (timestamps with sub-second parts).
fn elapsed(from: &Option<prost_types::Timestamp>, to: &Option<prost_types::Timestamp>) -> f64 {
    let (a, b) = (from.as_ref().unwrap(), to.as_ref().unwrap());
    (b.seconds - a.seconds) as f64 + f64::from(b.nanos - a.nanos) / 1e9
}

/// RFC 3339 with the offset of `zone` at that instant (written independently
/// of the server's formatter).
fn wall(zone: &TimeZone, seconds: i64) -> String {
    let ts = jiff::Timestamp::from_second(seconds).unwrap();
    let offset = zone.to_offset(ts).seconds();
    let dt = zone.to_datetime(ts);
    let sign = if offset < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        offset.abs() / 3600,
        offset.abs() % 3600 / 60
    )
}

fn starts(slots: &[av::Slot]) -> Vec<i64> {
    slots.iter().map(|s| secs(&s.start_time)).collect()
}

fn ids(appointments: &[ap::Appointment]) -> Vec<String> {
    appointments.iter().map(|a| a.id.clone()).collect()
}

/// Free starts of a 45-minute slot on the 15-minute grid between 08:00 and 20:00
/// of `day`, except those whose own window overlaps one of `busy`.
fn expected_free(day: &BookingDay, duration: i64, before: i64, after: i64, busy: &[(i64, i64)]) -> Vec<i64> {
    let (open, close) = (day.at(8, 0), day.at(20, 0));
    (0..)
        .map(|n| open + n * 15 * MIN)
        .take_while(|s| s + duration * MIN <= close)
        .filter(|&s| busy.iter().all(|&(b0, b1)| !(s - before * MIN < b1 && s + (duration + after) * MIN > b0)))
        .collect()
}
