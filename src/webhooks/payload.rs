//! Typed reading of authentic inbound webhook bodies (Cal.com, Retell, and
//! AskPro-shaped Standard Webhooks) and the inbox's event key for each.
//!
//! Unknown fields are ignored; the fields AskPro uses are checked for presence
//! and type. Fields are read from a `serde_json::Value` rather than through
//! derived `Deserialize` so that an error names the exact path
//! ("payload.attendees[0].email") and never quotes a value from the body, which
//! may be personal data: a `PayloadError`'s text goes into the inbox as the
//! rejection reason and into logs.
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::verify::Verified;

/// Bodies larger than this are answered 413 before verification or parsing.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Longest provider value (event type, booking uid, call id) put into an
/// event key or event type; longer ones are left out (see `identify`).
const MAX_KEY_PART_LEN: usize = 128;

/// Why an authentic body cannot be used. The text is safe to store and log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("body is not valid JSON (line {line}, column {column})")]
    Json { line: usize, column: usize },
    #[error("missing field {0}")]
    MissingField(String),
    #[error("field {field} must be {expected}")]
    InvalidField { field: String, expected: &'static str },
}

// ---------------------------------------------------------------------------
// Event identity (dedup key), for every authentic body, parseable or not.

/// The inbox's deduplication key and the provider's event type of a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventIdentity {
    /// Unique per endpoint; see `InboundProvider` in the webhook contract.
    pub key: String,
    /// E.g. "BOOKING_CREATED", "call_ended", "call.ended"; empty if the body has none.
    pub event_type: String,
}

/// The event key and type of an authentic body. It never fails, so that a
/// malformed body can still be stored once as REJECTED and its retries
/// recognised as duplicates:
/// - Cal.com: "<triggerEvent>:<payload.uid>:<sha256 of the body, hex>", with
///   an empty part where the body has no such string.
/// - Retell: "<event>:<call.call_id>"; without a call id (call_inbound, or a
///   malformed body) "<event>:sha256:<sha256 of the body, hex>".
/// - Standard Webhooks: the signed webhook-id.
pub fn identify(verified: &Verified, body: &[u8]) -> EventIdentity {
    let json: Option<Value> = if body.len() <= MAX_BODY_BYTES { serde_json::from_slice(body).ok() } else { None };
    let part = |path: &[&str]| key_part(json.as_ref(), path);
    match verified {
        Verified::CalCom => {
            let trigger = part(&["triggerEvent"]);
            let uid = part(&["payload", "uid"]);
            EventIdentity { key: format!("{trigger}:{uid}:{}", sha256_hex(body)), event_type: trigger.to_owned() }
        }
        Verified::Retell { .. } => {
            let event = part(&["event"]);
            let key = match part(&["call", "call_id"]) {
                "" => format!("{event}:sha256:{}", sha256_hex(body)),
                call_id => format!("{event}:{call_id}"),
            };
            EventIdentity { key, event_type: event.to_owned() }
        }
        Verified::StandardWebhooks { id, .. } => {
            EventIdentity { key: id.clone(), event_type: part(&["type"]).to_owned() }
        }
    }
}

/// The string at `path`, or "" if absent, not a string, or too long to be a key part.
fn key_part<'a>(json: Option<&'a Value>, path: &[&str]) -> &'a str {
    let found = json.and_then(|root| path.iter().try_fold(root, |value, key| value.get(key)));
    match found.and_then(Value::as_str) {
        Some(text) if text.len() <= MAX_KEY_PART_LEN => text,
        _ => "",
    }
}

fn sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

// ---------------------------------------------------------------------------
// Cal.com

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
    };
    Ok(CalComEvent::Booking { trigger, created_at, booking })
}

// ---------------------------------------------------------------------------
// Retell

/// The call lifecycle events AskPro records, from Retell or AskPro-shaped senders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallEvent {
    Started,
    Ended,
    Analyzed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallDirection {
    Inbound,
    Outbound,
}

/// A Retell webhook: `{event, call}` or `{event: "call_inbound", call_inbound}`.
#[derive(Clone, Debug, PartialEq)]
pub enum RetellEvent {
    /// call_started, call_ended, call_analyzed.
    Call { event: CallEvent, call: RetellCall },
    /// The inbound-call webhook, sent before the call is answered.
    Inbound(RetellInboundCall),
    /// Any other event (transcript_updated, transfer_*, ...): ignored.
    Other { event: String },
}

/// The `call` object of a Retell call event (Retell's call object, trimmed).
#[derive(Clone, Debug, PartialEq)]
pub struct RetellCall {
    pub call_id: String,
    pub agent_id: Option<String>,
    /// "phone_call" or "web_call".
    pub call_type: Option<String>,
    /// Absent for web calls.
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub direction: Option<CallDirection>,
    /// `start_timestamp` (ms); absent until the call has started.
    pub start_time: Option<DateTime<Utc>>,
    /// `end_timestamp` (ms); not before `start_time`.
    pub end_time: Option<DateTime<Utc>>,
    pub disconnection_reason: Option<String>,
    /// `call_analysis` as Retell sent it (an object).
    pub call_analysis: Option<Value>,
}

/// The `call_inbound` object of Retell's inbound-call webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetellInboundCall {
    pub agent_id: Option<String>,
    pub from_number: String,
    pub to_number: String,
}

/// Reads a Retell body.
pub fn parse_retell(body: &[u8]) -> Result<RetellEvent, PayloadError> {
    let json = parse_json(body)?;
    let root = Fields::root(&json)?;
    let event = root.string("event")?;
    let kind = match event {
        "call_started" => CallEvent::Started,
        "call_ended" => CallEvent::Ended,
        "call_analyzed" => CallEvent::Analyzed,
        "call_inbound" => {
            let i = root.object("call_inbound")?;
            return Ok(RetellEvent::Inbound(RetellInboundCall {
                agent_id: i.opt_string("agent_id")?.map(str::to_owned),
                from_number: i.string("from_number")?.to_owned(),
                to_number: i.string("to_number")?.to_owned(),
            }));
        }
        other => return Ok(RetellEvent::Other { event: other.to_owned() }),
    };
    let c = root.object("call")?;
    let start_time = c.opt_millis("start_timestamp")?;
    let end_time = c.opt_millis("end_timestamp")?;
    if let (Some(start), Some(end)) = (start_time, end_time)
        && end < start
    {
        return Err(c.invalid("end_timestamp", "not before call.start_timestamp"));
    }
    let direction = match c.opt_string("direction")? {
        None => None,
        Some("inbound") => Some(CallDirection::Inbound),
        Some("outbound") => Some(CallDirection::Outbound),
        Some(_) => return Err(c.invalid("direction", "\"inbound\" or \"outbound\"")),
    };
    let call = RetellCall {
        call_id: c.string("call_id")?.to_owned(),
        agent_id: c.opt_string("agent_id")?.map(str::to_owned),
        call_type: c.opt_string("call_type")?.map(str::to_owned),
        from_number: c.opt_string("from_number")?.map(str::to_owned),
        to_number: c.opt_string("to_number")?.map(str::to_owned),
        direction,
        start_time,
        end_time,
        disconnection_reason: c.opt_string("disconnection_reason")?.map(str::to_owned),
        call_analysis: c.opt_object_value("call_analysis")?,
    };
    Ok(RetellEvent::Call { event: kind, call })
}

// ---------------------------------------------------------------------------
// Standard Webhooks, shaped as AskPro sends them

/// A body shaped as AskPro's own deliveries: `{type, timestamp, data}`.
#[derive(Clone, Debug, PartialEq)]
pub enum StandardEvent {
    /// call.started, call.ended, call.analyzed.
    Call { event: CallEvent, timestamp: DateTime<Utc>, call: AskProCall },
    /// Any other type: ignored.
    Other { event_type: String, timestamp: DateTime<Utc> },
}

/// `data` of a call.* event (camelCase, proto3 JSON: empty values may be omitted).
#[derive(Clone, Debug, PartialEq)]
pub struct AskProCall {
    pub call_id: String,
    pub branch_id: Option<String>,
    pub customer_id: Option<String>,
    pub appointment_id: Option<String>,
    pub from_number: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    /// Not before `start_time`.
    pub end_time: Option<DateTime<Utc>>,
    /// call.analyzed: the analysis as the voice provider sent it (an object).
    pub analysis: Option<Value>,
}

/// Reads an AskPro-shaped Standard Webhooks body.
pub fn parse_standard(body: &[u8]) -> Result<StandardEvent, PayloadError> {
    let json = parse_json(body)?;
    let root = Fields::root(&json)?;
    let event_type = root.string("type")?;
    let timestamp = root.rfc3339("timestamp")?;
    let event = match event_type {
        "call.started" => CallEvent::Started,
        "call.ended" => CallEvent::Ended,
        "call.analyzed" => CallEvent::Analyzed,
        other => return Ok(StandardEvent::Other { event_type: other.to_owned(), timestamp }),
    };
    let d = root.object("data")?;
    let start_time = d.opt_rfc3339("startTime")?;
    let end_time = d.opt_rfc3339("endTime")?;
    if let (Some(start), Some(end)) = (start_time, end_time)
        && end < start
    {
        return Err(d.invalid("endTime", "not before data.startTime"));
    }
    let call = AskProCall {
        call_id: d.string("callId")?.to_owned(),
        branch_id: d.opt_string("branchId")?.map(str::to_owned),
        customer_id: d.opt_string("customerId")?.map(str::to_owned),
        appointment_id: d.opt_string("appointmentId")?.map(str::to_owned),
        from_number: d.opt_string("fromNumber")?.map(str::to_owned),
        start_time,
        end_time,
        analysis: d.opt_object_value("analysis")?,
    };
    Ok(StandardEvent::Call { event, timestamp, call })
}

// ---------------------------------------------------------------------------
// Path-aware field access

fn parse_json(body: &[u8]) -> Result<Value, PayloadError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(PayloadError::TooLarge);
    }
    // serde_json stops at 128 levels of nesting with an error, never a stack overflow.
    serde_json::from_slice(body).map_err(|e| PayloadError::Json { line: e.line(), column: e.column() })
}

/// A JSON object and the path that led to it, for error messages.
struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn root(value: &'a Value) -> Result<Self, PayloadError> {
        match value {
            Value::Object(map) => Ok(Self { path: String::new(), map }),
            _ => Err(PayloadError::InvalidField { field: "(body)".to_owned(), expected: "a JSON object" }),
        }
    }

    fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    fn invalid(&self, key: &str, expected: &'static str) -> PayloadError {
        PayloadError::InvalidField { field: self.path_of(key), expected }
    }

    /// The value at `key`; JSON null counts as absent.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn required(&self, key: &str) -> Result<&'a Value, PayloadError> {
        self.get(key).ok_or_else(|| PayloadError::MissingField(self.path_of(key)))
    }

    /// A required, non-empty string.
    fn string(&self, key: &str) -> Result<&'a str, PayloadError> {
        match self.required(key)?.as_str() {
            Some(text) if !text.is_empty() => Ok(text),
            _ => Err(self.invalid(key, "a non-empty string")),
        }
    }

    /// A required string that may be empty (e.g. a name).
    fn string_or_empty(&self, key: &str) -> Result<&'a str, PayloadError> {
        self.required(key)?.as_str().ok_or_else(|| self.invalid(key, "a string"))
    }

    /// An optional string; absent, null and "" are all `None`.
    fn opt_string(&self, key: &str) -> Result<Option<&'a str>, PayloadError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.as_str()).filter(|t| !t.is_empty())),
            Some(_) => Err(self.invalid(key, "a string")),
        }
    }

    fn opt_i64(&self, key: &str) -> Result<Option<i64>, PayloadError> {
        self.get(key).map(|v| v.as_i64().ok_or_else(|| self.invalid(key, "an integer"))).transpose()
    }

    fn object(&self, key: &str) -> Result<Fields<'a>, PayloadError> {
        match self.required(key)? {
            Value::Object(map) => Ok(Fields { path: self.path_of(key), map }),
            _ => Err(self.invalid(key, "an object")),
        }
    }

    /// An optional object, kept as JSON.
    fn opt_object_value(&self, key: &str) -> Result<Option<Value>, PayloadError> {
        match self.get(key) {
            None => Ok(None),
            Some(value @ Value::Object(_)) => Ok(Some(value.clone())),
            Some(_) => Err(self.invalid(key, "an object")),
        }
    }

    /// A required array whose every element is an object.
    fn objects(&self, key: &str) -> Result<Vec<Fields<'a>>, PayloadError> {
        let Value::Array(items) = self.required(key)? else {
            return Err(self.invalid(key, "an array"));
        };
        let path = self.path_of(key);
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(map) => Ok(Fields { path: format!("{path}[{i}]"), map }),
                _ => Err(PayloadError::InvalidField { field: format!("{path}[{i}]"), expected: "an object" }),
            })
            .collect()
    }

    fn rfc3339(&self, key: &str) -> Result<DateTime<Utc>, PayloadError> {
        self.opt_rfc3339(key)?.ok_or_else(|| PayloadError::MissingField(self.path_of(key)))
    }

    fn opt_rfc3339(&self, key: &str) -> Result<Option<DateTime<Utc>>, PayloadError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        value
            .as_str()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|t| Some(t.with_timezone(&Utc)))
            .ok_or_else(|| self.invalid(key, "an RFC 3339 timestamp"))
    }

    /// Optional Unix milliseconds.
    fn opt_millis(&self, key: &str) -> Result<Option<DateTime<Utc>>, PayloadError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        value
            .as_i64()
            .filter(|ms| *ms >= 0)
            .and_then(DateTime::from_timestamp_millis)
            .map(Some)
            .ok_or_else(|| self.invalid(key, "Unix milliseconds"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bytes(value: &Value) -> Vec<u8> {
        serde_json::to_vec(value).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn missing(path: &str) -> PayloadError {
        PayloadError::MissingField(path.to_owned())
    }

    fn invalid(path: &str, expected: &'static str) -> PayloadError {
        PayloadError::InvalidField { field: path.to_owned(), expected }
    }

    /// Shaped after the example in Cal.com's webhook documentation
    /// (docs/developing/guides/automation/webhooks.mdx), with extra fields kept.
    fn calcom_created() -> Value {
        json!({
            "triggerEvent": "BOOKING_CREATED",
            "createdAt": "2023-05-24T09:30:00.538Z",
            "payload": {
                "type": "60min",
                "title": "60min between Pro Example and John Doe",
                "description": "",
                "startTime": "2023-05-25T09:30:00Z",
                "endTime": "2023-05-25T10:30:00Z",
                "organizer": {"id": 5, "name": "Pro Example", "email": "pro@example.com",
                              "username": "pro", "timeZone": "Asia/Kolkata", "language": {"locale": "en"}},
                "responses": {"name": {"label": "your_name", "value": "John Doe"}},
                "attendees": [{"email": "john.doe@example.com", "name": "John Doe",
                               "timeZone": "Asia/Kolkata", "phoneNumber": null, "language": {"locale": "en"}}],
                "location": "Calcom HQ",
                "eventTypeId": 7,
                "uid": "bFJeNb2uX8ANpT3JL5EfXw",
                "bookingId": 91,
                "metadata": {},
                "status": "ACCEPTED"
            }
        })
    }

    /// Shaped after Retell's call object (get-call API), as sent in webhooks.
    fn retell_ended() -> Value {
        json!({
            "event": "call_ended",
            "call": {
                "call_type": "phone_call",
                "from_number": "+4915112345678",
                "to_number": "+4930123456",
                "direction": "inbound",
                "call_id": "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6",
                "agent_id": "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD",
                "call_status": "ended",
                "metadata": {},
                "start_timestamp": 1714608475945_i64,
                "end_timestamp": 1714608491736_i64,
                "disconnection_reason": "user_hangup",
                "transcript": "Agent: hi how are you doing?\nUser: Doing pretty well."
            }
        })
    }

    fn askpro_analyzed() -> Value {
        json!({
            "type": "call.analyzed",
            "timestamp": "2026-11-02T10:15:00Z",
            "data": {
                "callId": "0190f3c2-0000-7000-8000-000000000001",
                "branchId": "0190f3c2-0000-7000-8000-000000000002",
                "fromNumber": "+4915112345678",
                "startTime": "2026-11-02T10:00:00Z",
                "endTime": "2026-11-02T10:05:00Z",
                "analysis": {"call_summary": "Booked a haircut.", "custom": [1, 2]}
            }
        })
    }

    #[test]
    fn calcom_booking_created_is_read_with_unknown_fields_ignored() {
        let CalComEvent::Booking { trigger, created_at, booking } = parse_calcom(&bytes(&calcom_created())).unwrap()
        else {
            panic!("not a booking")
        };
        assert_eq!(trigger, BookingTrigger::Created);
        assert_eq!(created_at, at("2023-05-24T09:30:00.538Z"));
        assert_eq!(booking.uid, "bFJeNb2uX8ANpT3JL5EfXw");
        assert_eq!(booking.title.as_deref(), Some("60min between Pro Example and John Doe"));
        assert_eq!((booking.start_time, booking.end_time), (at("2023-05-25T09:30:00Z"), at("2023-05-25T10:30:00Z")));
        assert_eq!(booking.attendees[0].email, "john.doe@example.com");
        assert_eq!(booking.attendees[0].phone_number, None);
        assert_eq!(booking.organizer.time_zone, "Asia/Kolkata");
        assert_eq!(booking.event_type_id, Some(7));
        assert_eq!(booking.status.as_deref(), Some("ACCEPTED"));
        assert_eq!(booking.rescheduled_from(), None);
    }

    #[test]
    fn calcom_reschedule_names_the_replaced_booking() {
        let mut body = calcom_created();
        body["triggerEvent"] = json!("BOOKING_RESCHEDULED");
        body["payload"]["rescheduleUid"] = json!("oldUid456");
        let CalComEvent::Booking { booking, .. } = parse_calcom(&bytes(&body)).unwrap() else { panic!() };
        assert_eq!(booking.rescheduled_from(), Some("oldUid456"));
        body["payload"]["rescheduleUid"] = json!("bFJeNb2uX8ANpT3JL5EfXw");
        let CalComEvent::Booking { booking, .. } = parse_calcom(&bytes(&body)).unwrap() else { panic!() };
        assert_eq!(booking.rescheduled_from(), None);
        body["payload"]["fromReschedule"] = json!("olderUid");
        let CalComEvent::Booking { booking, .. } = parse_calcom(&bytes(&body)).unwrap() else { panic!() };
        assert_eq!(booking.rescheduled_from(), Some("olderUid"));
    }

    #[test]
    fn calcom_other_triggers_need_only_a_trigger() {
        let body = br#"{"triggerEvent":"MEETING_ENDED","payload":{"whatever":true}}"#;
        assert_eq!(parse_calcom(body), Ok(CalComEvent::Other { trigger_event: "MEETING_ENDED".to_owned() }));
    }

    #[test]
    fn calcom_missing_or_mistyped_fields_are_named_by_path() {
        type Edit = fn(&mut Value);
        let cases: [(Edit, PayloadError); 10] = [
            (|b| b["payload"].as_object_mut().unwrap().remove("uid").map(drop).unwrap(), missing("payload.uid")),
            (|b| b["payload"]["uid"] = json!(""), invalid("payload.uid", "a non-empty string")),
            (|b| b["payload"]["startTime"] = json!("tomorrow"), invalid("payload.startTime", "an RFC 3339 timestamp")),
            (
                |b| b["payload"]["endTime"] = json!("2023-05-25T09:30:00Z"),
                invalid("payload.endTime", "after payload.startTime"),
            ),
            (|b| b["payload"]["attendees"] = json!([]), invalid("payload.attendees", "a non-empty array")),
            (|b| b["payload"]["attendees"][0]["email"] = json!(null), missing("payload.attendees[0].email")),
            (
                |b| b["payload"]["attendees"][0]["phoneNumber"] = json!(49),
                invalid("payload.attendees[0].phoneNumber", "a string"),
            ),
            (|b| b["payload"]["organizer"] = json!("pro@example.com"), invalid("payload.organizer", "an object")),
            (|b| b["payload"]["eventTypeId"] = json!("7"), invalid("payload.eventTypeId", "an integer")),
            (|b| b["createdAt"] = json!(null), missing("createdAt")),
        ];
        for (edit, expected) in cases {
            let mut body = calcom_created();
            edit(&mut body);
            assert_eq!(parse_calcom(&bytes(&body)), Err(expected));
        }
    }

    #[test]
    fn malformed_json_and_non_objects_are_rejected_without_quoting_the_body() {
        let err = parse_calcom(br#"{"triggerEvent": "BOOKING_CREATED", "payload": {"name": "Jane Secret"#).unwrap_err();
        assert!(matches!(err, PayloadError::Json { line: 1, .. }), "{err:?}");
        assert!(!err.to_string().contains("Jane"));
        assert_eq!(parse_retell(b"[1,2]"), Err(invalid("(body)", "a JSON object")));
        assert_eq!(parse_standard(b"\xff\xfe"), Err(PayloadError::Json { line: 1, column: 1 }));
        let err = parse_calcom(br#"{"triggerEvent": "BOOKING_CREATED", "createdAt": "Jane Secret"}"#).unwrap_err();
        assert!(!err.to_string().contains("Jane"), "{err}");
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(parse_retell(deep.as_bytes()), Err(PayloadError::Json { .. })));
    }

    #[test]
    fn bodies_over_one_mebibyte_are_refused() {
        let body = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(parse_calcom(&body), Err(PayloadError::TooLarge));
        assert_eq!(parse_retell(&body), Err(PayloadError::TooLarge));
        assert_eq!(parse_standard(&body), Err(PayloadError::TooLarge));
    }

    #[test]
    fn retell_call_ended_is_read() {
        let RetellEvent::Call { event, call } = parse_retell(&bytes(&retell_ended())).unwrap() else { panic!() };
        assert_eq!(event, CallEvent::Ended);
        assert_eq!(call.call_id, "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6");
        assert_eq!(call.from_number.as_deref(), Some("+4915112345678"));
        assert_eq!(call.direction, Some(CallDirection::Inbound));
        assert_eq!(call.start_time, DateTime::from_timestamp_millis(1_714_608_475_945));
        assert_eq!(call.end_time, DateTime::from_timestamp_millis(1_714_608_491_736));
        assert_eq!(call.disconnection_reason.as_deref(), Some("user_hangup"));
        assert_eq!(call.call_analysis, None);
    }

    #[test]
    fn retell_call_analyzed_keeps_the_analysis_and_web_calls_have_no_numbers() {
        let mut body = retell_ended();
        body["event"] = json!("call_analyzed");
        body["call"]["call_type"] = json!("web_call");
        body["call"].as_object_mut().unwrap().remove("from_number");
        body["call"].as_object_mut().unwrap().remove("direction");
        body["call"]["call_analysis"] = json!({"call_summary": "hi", "user_sentiment": "Positive"});
        let RetellEvent::Call { event, call } = parse_retell(&bytes(&body)).unwrap() else { panic!() };
        assert_eq!(event, CallEvent::Analyzed);
        assert_eq!((call.from_number, call.direction), (None, None));
        assert_eq!(call.call_analysis.unwrap()["user_sentiment"], "Positive");
    }

    #[test]
    fn retell_bad_fields_are_named_by_path() {
        type Edit = fn(&mut Value);
        let cases: [(Edit, PayloadError); 6] = [
            (|b| b["call"]["call_id"] = json!(null), missing("call.call_id")),
            (
                |b| b["call"]["start_timestamp"] = json!("1714608475945"),
                invalid("call.start_timestamp", "Unix milliseconds"),
            ),
            (|b| b["call"]["end_timestamp"] = json!(1.5), invalid("call.end_timestamp", "Unix milliseconds")),
            (
                |b| b["call"]["end_timestamp"] = json!(1),
                invalid("call.end_timestamp", "not before call.start_timestamp"),
            ),
            (|b| b["call"]["direction"] = json!("sideways"), invalid("call.direction", "\"inbound\" or \"outbound\"")),
            (|b| b["call"]["call_analysis"] = json!("good"), invalid("call.call_analysis", "an object")),
        ];
        for (edit, expected) in cases {
            let mut body = retell_ended();
            edit(&mut body);
            assert_eq!(parse_retell(&bytes(&body)), Err(expected));
        }
        assert_eq!(parse_retell(br#"{"event":"call_started"}"#), Err(missing("call")));
        assert_eq!(parse_retell(br#"{"call":{}}"#), Err(missing("event")));
    }

    #[test]
    fn retell_inbound_and_other_events() {
        let body = br#"{"event":"call_inbound","call_inbound":{"agent_id":"a1","from_number":"+4915112345678","to_number":"+4930123456"}}"#;
        let expected = RetellInboundCall {
            agent_id: Some("a1".to_owned()),
            from_number: "+4915112345678".to_owned(),
            to_number: "+4930123456".to_owned(),
        };
        assert_eq!(parse_retell(body), Ok(RetellEvent::Inbound(expected)));
        assert_eq!(
            parse_retell(br#"{"event":"call_inbound","call_inbound":{"to_number":"+4930123456"}}"#),
            Err(missing("call_inbound.from_number"))
        );
        assert_eq!(
            parse_retell(br#"{"event":"transcript_updated","call":"anything"}"#),
            Ok(RetellEvent::Other { event: "transcript_updated".to_owned() })
        );
    }

    #[test]
    fn askpro_call_analyzed_is_read() {
        let StandardEvent::Call { event, timestamp, call } = parse_standard(&bytes(&askpro_analyzed())).unwrap() else {
            panic!()
        };
        assert_eq!((event, timestamp), (CallEvent::Analyzed, at("2026-11-02T10:15:00Z")));
        assert_eq!(call.call_id, "0190f3c2-0000-7000-8000-000000000001");
        assert_eq!(call.customer_id, None);
        assert_eq!(call.end_time, Some(at("2026-11-02T10:05:00Z")));
        assert_eq!(call.analysis.unwrap()["call_summary"], "Booked a haircut.");
    }

    #[test]
    fn askpro_other_types_and_bad_fields() {
        let body = br#"{"type":"appointment.created","timestamp":"2026-11-02T10:15:00+01:00","data":{}}"#;
        let expected = StandardEvent::Other {
            event_type: "appointment.created".to_owned(),
            timestamp: at("2026-11-02T09:15:00Z"),
        };
        assert_eq!(parse_standard(body), Ok(expected));
        type Edit = fn(&mut Value);
        let cases: [(Edit, PayloadError); 4] = [
            (|b| b["timestamp"] = json!(1700000000), invalid("timestamp", "an RFC 3339 timestamp")),
            (|b| b["data"]["callId"] = json!(7), invalid("data.callId", "a non-empty string")),
            (
                |b| b["data"]["endTime"] = json!("2026-11-02T09:00:00Z"),
                invalid("data.endTime", "not before data.startTime"),
            ),
            (|b| b.as_object_mut().unwrap().remove("data").map(drop).unwrap(), missing("data")),
        ];
        for (edit, expected) in cases {
            let mut body = askpro_analyzed();
            edit(&mut body);
            assert_eq!(parse_standard(&bytes(&body)), Err(expected));
        }
    }

    #[test]
    fn calcom_event_key_is_trigger_uid_and_body_hash() {
        // sha256 of this body computed with Python's hashlib.
        let body = br#"{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"bFJeNb2uX8ANpT3JL5EfXw"}}"#;
        let id = identify(&Verified::CalCom, body);
        assert_eq!(
            id.key,
            "BOOKING_CREATED:bFJeNb2uX8ANpT3JL5EfXw:e22df6f668670217752e1e41de918d91405d4581ecafb2cce182675c9edc37ff"
        );
        assert_eq!(id.event_type, "BOOKING_CREATED");
        let changed = br#"{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"bFJeNb2uX8ANpT3JL5EfXw","x":1}}"#;
        assert_ne!(identify(&Verified::CalCom, changed).key, id.key);
        let garbage = identify(&Verified::CalCom, b"not json");
        assert_eq!(garbage.key, format!("::{}", hex::encode(Sha256::digest(b"not json"))));
        assert_eq!(garbage.event_type, "");
    }

    #[test]
    fn retell_event_key_is_event_and_call_id_with_a_hash_fallback() {
        let verified = Verified::Retell { timestamp: at("2024-05-02T00:00:00Z") };
        let id = identify(&verified, &bytes(&retell_ended()));
        assert_eq!(id.key, "call_ended:Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6");
        assert_eq!(id.event_type, "call_ended");
        let inbound = br#"{"event":"call_inbound","call_inbound":{"from_number":"+49"}}"#;
        let id = identify(&verified, inbound);
        assert_eq!(id.key, format!("call_inbound:sha256:{}", hex::encode(Sha256::digest(inbound))));
        let long_id =
            format!(r#"{{"event":"call_ended","call":{{"call_id":"{}"}}}}"#, "x".repeat(MAX_KEY_PART_LEN + 1));
        assert!(identify(&verified, long_id.as_bytes()).key.starts_with("call_ended:sha256:"));
    }

    #[test]
    fn standard_webhooks_event_key_is_the_webhook_id() {
        let verified = Verified::StandardWebhooks { id: "msg_1".to_owned(), timestamp: at("2026-11-02T10:15:00Z") };
        let id = identify(&verified, &bytes(&askpro_analyzed()));
        assert_eq!(id, EventIdentity { key: "msg_1".to_owned(), event_type: "call.analyzed".to_owned() });
        assert_eq!(identify(&verified, b"{").event_type, "");
    }
}
