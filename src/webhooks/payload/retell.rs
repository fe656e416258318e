//! Retell (voice agent) webhooks: call lifecycle events and call_inbound.
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::PayloadError;
use super::fields::{Fields, parse_json};

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
