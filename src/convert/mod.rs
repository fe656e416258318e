//! Storage rows as protobuf resources, and protobuf's time types as chrono's:
//! the one place each resource's wire form is decided, shared by the gRPC
//! adapters, the business operations and the change feed.
pub mod appointment;
pub mod availability;
pub mod tenant;
pub mod webhook;

use chrono::{DateTime, Utc};
use prost_types::{Duration, Timestamp};

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// A protobuf timestamp as an instant; `None` if out of range.
pub fn instant(ts: &Timestamp) -> Option<DateTime<Utc>> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return None;
    }
    DateTime::from_timestamp(ts.seconds, ts.nanos as u32)
}

pub fn minutes(value: i32) -> Duration {
    Duration { seconds: i64::from(value) * 60, nanos: 0 }
}
