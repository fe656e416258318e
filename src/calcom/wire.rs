//! Cal.com API v2 bodies, as its OpenAPI document and source describe them
//! (docs/calcom-v2-wire.md). Only the fields AskPro reads or sends; unknown
//! fields are ignored, optional ones default, so a Cal.com release that adds
//! fields breaks nothing.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `cal-api-version` of the event-type endpoints.
pub const EVENT_TYPES_VERSION: &str = "2024-06-14";
/// `cal-api-version` of the schedule endpoints.
pub const SCHEDULES_VERSION: &str = "2024-06-11";
/// `cal-api-version` of the booking endpoints.
pub const BOOKINGS_VERSION: &str = "2024-08-13";

/// The metadata key naming the AskPro appointment a booking copies: how a
/// retry finds a booking an earlier attempt made, and how the inbound mirror
/// recognises AskPro's own bookings in Cal.com's webhooks (whose parser,
/// built also into the fuzz crate, defines it).
pub use crate::webhooks::payload::APPOINTMENT_METADATA_KEY;

/// Every success body: `{"status": "success", "data": ...}`.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub status: String,
    pub data: T,
}

/// Every error body: `{"status": "error", "timestamp", "path", "error": {code, message, details}}`.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error: ErrorDetail,
}

#[derive(Debug, Default, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    /// A string, or (validation errors) sometimes a list of strings.
    #[serde(default)]
    pub message: serde_json::Value,
}

/// GET /v2/me.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub email: String,
    #[serde(default)]
    pub time_zone: String,
}

/// GET /v2/event-types/{id}. The timing fields are optional in the newest
/// document (absent means Cal.com's default: none, or the length for the
/// slot interval).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventType {
    pub id: i64,
    pub length_in_minutes: i32,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub slot_interval: Option<i32>,
    #[serde(default)]
    pub minimum_booking_notice: Option<i32>,
    #[serde(default)]
    pub before_event_buffer: Option<i32>,
    #[serde(default)]
    pub after_event_buffer: Option<i32>,
}

/// GET /v2/schedules: one schedule of the key's user. Times are "HH:MM" in
/// the schedule's own time zone.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    pub id: i64,
    #[serde(default)]
    pub name: String,
    pub time_zone: String,
    #[serde(default)]
    pub availability: Vec<Availability>,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub overrides: Vec<Override>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    /// "Monday" .. "Sunday".
    pub days: Vec<String>,
    pub start_time: String,
    pub end_time: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Override {
    /// "YYYY-MM-DD".
    pub date: String,
    pub start_time: String,
    pub end_time: String,
}

/// POST /v2/bookings.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBooking {
    /// UTC, RFC 3339.
    pub start: DateTime<Utc>,
    pub event_type_id: i64,
    /// Only when it differs from the event type's own length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_in_minutes: Option<i64>,
    pub attendee: Attendee,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    pub name: String,
    /// IANA zone of the attendee (the branch's).
    pub time_zone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// E.164.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

/// POST /v2/bookings/{uid}/cancel.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelBooking {
    pub cancellation_reason: String,
}

/// POST /v2/bookings/{uid}/reschedule.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RescheduleBooking {
    pub start: DateTime<Utc>,
    pub rescheduling_reason: String,
}

/// A booking as the booking endpoints answer it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub uid: String,
    /// "accepted", "pending", "cancelled", "rejected".
    #[serde(default)]
    pub status: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Set on a booking that a reschedule replaced.
    #[serde(default)]
    pub rescheduled_to_uid: Option<String>,
}

impl Booking {
    /// The AskPro appointment this booking copies, from its metadata.
    pub fn appointment_id(&self) -> Option<uuid::Uuid> {
        self.metadata.get(APPOINTMENT_METADATA_KEY)?.as_str()?.parse().ok()
    }

    pub fn is_cancelled(&self) -> bool {
        self.status.eq_ignore_ascii_case("cancelled")
    }
}
