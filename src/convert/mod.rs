//! Storage rows as protobuf resources, and protobuf's time types as chrono's:
//! the one place each resource's wire form is decided, shared by the gRPC
//! adapters, the business operations and the change feed.
pub mod appointment;
pub mod availability;
pub mod integration;
pub mod tenant;
pub mod webhook;

use chrono::{DateTime, Utc};
use prost_types::{Duration, Timestamp};

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// A protobuf timestamp as an instant; `None` if out of range.
pub fn instant(ts: &Timestamp) -> Option<DateTime<Utc>> {
    // google.protobuf.Timestamp's own range: 0001-01-01T00:00:00Z to
    // 9999-12-31T23:59:59.999999999Z, nanos in [0, 1e9). Every instant of a
    // request passes here, so none outside it reaches storage.
    const FIRST: i64 = -62_135_596_800;
    const LAST: i64 = 253_402_300_799;
    if !(0..1_000_000_000).contains(&ts.nanos) || !(FIRST..=LAST).contains(&ts.seconds) {
        return None;
    }
    DateTime::from_timestamp(ts.seconds, ts.nanos as u32)
}

pub fn minutes(value: i32) -> Duration {
    Duration { seconds: i64::from(value) * 60, nanos: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_outside_the_timestamp_range_are_refused() {
        let at = |seconds, nanos| instant(&Timestamp { seconds, nanos });
        assert!(at(0, 0).is_some());
        assert!(at(253_402_300_799, 999_999_999).is_some(), "the last instant of 9999");
        assert!(at(253_402_300_800, 0).is_none(), "year 10000");
        assert!(at(-62_135_596_801, 0).is_none(), "before year 1");
        assert!(at(10, -1).is_none(), "negative nanos");
        assert!(at(10, 1_000_000_000).is_none(), "a whole second of nanos");
    }
}
