//! Standard Webhooks bodies shaped as AskPro sends them: `{type, timestamp, data}`.
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::PayloadError;
use super::fields::{Fields, parse_json};
use super::retell::CallEvent;

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
