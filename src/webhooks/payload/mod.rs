//! Typed reading of authentic inbound webhook bodies (Cal.com, Retell, and
//! AskPro-shaped Standard Webhooks) and the inbox's event key for each.
//!
//! Unknown fields are ignored; the fields AskPro uses are checked for presence
//! and type. Fields are read from a `serde_json::Value` rather than through
//! derived `Deserialize` so that an error names the exact path
//! ("payload.attendees[0].email") and never quotes a value from the body, which
//! may be personal data: a `PayloadError`'s text goes into the inbox as the
//! rejection reason and into logs.
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::verify::Verified;

mod calcom;
mod fields;
mod retell;
mod standard;

pub use calcom::*;
pub use retell::*;
pub use standard::*;

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

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

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
        let cases: [(Edit, PayloadError); 8] = [
            (|b| b["call"]["call_id"] = json!(null), missing("call.call_id")),
            (
                |b| b["call"]["call_id"] = json!("call\u{0}1"),
                invalid("call.call_id", "a string without control characters"),
            ),
            (
                |b| b["call"]["agent_id"] = json!("agent\u{1b}[0m"),
                invalid("call.agent_id", "a string without control characters"),
            ),
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
