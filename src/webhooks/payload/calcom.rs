//! Cal.com webhooks: `{triggerEvent, createdAt, payload}`.
use chrono::{DateTime, Utc};

use super::PayloadError;
use super::fields::{Fields, parse_json};

/// The metadata key naming the AskPro appointment a Cal.com booking copies
/// (AskPro sets it on the bookings it makes; see `calcom::wire`).
pub const APPOINTMENT_METADATA_KEY: &str = "askproAppointmentId";

/// A Cal.com webhook: `{triggerEvent, createdAt, payload}`.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant, reason = "one short-lived value per request; a Box would buy nothing")]
pub enum CalComEvent {
    /// One of the booking triggers AskPro mirrors into appointments.
    Booking { trigger: BookingTrigger, created_at: DateTime<Utc>, booking: CalComBooking },
    /// Any other trigger (MEETING_ENDED, FORM_SUBMITTED, PING, ...): ignored.
    Other { trigger_event: String },
}

/// The Cal.com triggers that change an appointment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BookingTrigger {
    Created,
    Requested,
    Rescheduled,
    Cancelled,
}

impl BookingTrigger {
    /// The `triggerEvent` value on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            BookingTrigger::Created => "BOOKING_CREATED",
            BookingTrigger::Requested => "BOOKING_REQUESTED",
            BookingTrigger::Rescheduled => "BOOKING_RESCHEDULED",
            BookingTrigger::Cancelled => "BOOKING_CANCELLED",
        }
    }

    fn from_wire(text: &str) -> Option<Self> {
        [Self::Created, Self::Requested, Self::Rescheduled, Self::Cancelled].into_iter().find(|t| t.as_str() == text)
    }
}

/// The booking in a Cal.com booking webhook's `payload`.
#[derive(Clone, Debug, PartialEq)]
pub struct CalComBooking {
    /// The booking uid, AskPro's match key for the mirrored appointment.
    pub uid: String,
    pub title: Option<String>,
    pub start_time: DateTime<Utc>,
    /// Strictly after `start_time`.
    pub end_time: DateTime<Utc>,
    /// The booker first, then guests; never empty.
    pub attendees: Vec<CalComAttendee>,
    pub organizer: CalComOrganizer,
    pub event_type_id: Option<i64>,
    /// `rescheduleUid`: Cal.com versions differ on whether it names the old or the new booking.
    pub reschedule_uid: Option<String>,
    /// `fromReschedule`: the uid of the booking this one replaces.
    pub from_reschedule: Option<String>,
    pub cancellation_reason: Option<String>,
    /// E.g. "ACCEPTED", "PENDING", "CANCELLED".
    pub status: Option<String>,
    /// The AskPro appointment this booking copies (`metadata.askproAppointmentId`,
    /// set when AskPro made the booking), as sent: the webhook is AskPro's own echo.
    pub askpro_appointment_id: Option<String>,
}

impl CalComBooking {
    /// The uid of the booking a reschedule replaced: `fromReschedule`, else
    /// `rescheduleUid` when it differs from this booking's own uid.
    pub fn rescheduled_from(&self) -> Option<&str> {
        self.from_reschedule.as_deref().or_else(|| self.reschedule_uid.as_deref().filter(|uid| *uid != self.uid))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalComAttendee {
    pub name: String,
    pub email: String,
    /// IANA name as sent, e.g. "Europe/Berlin"; not validated here.
    pub time_zone: String,
    pub phone_number: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalComOrganizer {
    /// The Cal.com user id, when the payload carries it.
    pub id: Option<i64>,
    pub name: String,
    pub email: String,
    pub time_zone: String,
}

/// Reads a Cal.com body. Only booking triggers need a well-formed booking;
/// other triggers need no more than a `triggerEvent`.
pub fn parse_calcom(body: &[u8]) -> Result<CalComEvent, PayloadError> {
    let json = parse_json(body)?;
    let root = Fields::root(&json)?;
    let trigger_event = root.string("triggerEvent")?;
    let Some(trigger) = BookingTrigger::from_wire(trigger_event) else {
        return Ok(CalComEvent::Other { trigger_event: trigger_event.to_owned() });
    };
    let created_at = root.rfc3339("createdAt")?;
    let p = root.object("payload")?;
    let start_time = p.rfc3339("startTime")?;
    let end_time = p.rfc3339("endTime")?;
    if end_time <= start_time {
        return Err(p.invalid("endTime", "after payload.startTime"));
    }
    let attendees = p
        .objects("attendees")?
        .iter()
        .map(|a| {
            Ok(CalComAttendee {
                name: a.string_or_empty("name")?.to_owned(),
                email: a.string("email")?.to_owned(),
                time_zone: a.string("timeZone")?.to_owned(),
                phone_number: a.opt_string("phoneNumber")?.map(str::to_owned),
            })
        })
        .collect::<Result<Vec<_>, PayloadError>>()?;
    if attendees.is_empty() {
        return Err(p.invalid("attendees", "a non-empty array"));
    }
    let o = p.object("organizer")?;
    let organizer = CalComOrganizer {
        id: o.opt_i64("id")?,
        name: o.string_or_empty("name")?.to_owned(),
        email: o.string("email")?.to_owned(),
        time_zone: o.string("timeZone")?.to_owned(),
    };
    let booking = CalComBooking {
        uid: p.string("uid")?.to_owned(),
        title: p.opt_string("title")?.map(str::to_owned),
        start_time,
        end_time,
        attendees,
        organizer,
        event_type_id: p.opt_i64("eventTypeId")?,
        reschedule_uid: p.opt_string("rescheduleUid")?.map(str::to_owned),
        from_reschedule: p.opt_string("fromReschedule")?.map(str::to_owned),
        cancellation_reason: p.opt_string("cancellationReason")?.map(str::to_owned),
        status: p.opt_string("status")?.map(str::to_owned),
        askpro_appointment_id: p
            .get("metadata")
            .and_then(|m| m.get(APPOINTMENT_METADATA_KEY))
            .and_then(|id| id.as_str())
            .map(|id| id.chars().take(64).collect()),
    };
    Ok(CalComEvent::Booking { trigger, created_at, booking })
}
