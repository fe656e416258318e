//! Recording a voice-agent call event (from Retell or an AskPro-shaped
//! Standard Webhooks sender): the call row, the end of the call's slot
//! holds, and the call.* event for subscribers, all in the caller's
//! transaction (the inbound webhook's, with its inbox row).
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::phone::PhoneNumber;
use crate::domain::validate::RegionCode;
use crate::domain::webhook::{EventType, InboundProvider};
use crate::error::Result;
use crate::operations::{events, holds};
use crate::store::calls::{self, CallStatus, CallUpdate};
use crate::store::entities::{branch, call};
use crate::store::{TenantTx, branches, customers};
use crate::webhooks::payload::CallEvent;

/// What one call event says.
pub struct CallFacts {
    pub provider: InboundProvider,
    pub event: CallEvent,
    pub provider_call_id: String,
    pub branch_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub appointment_id: Option<Uuid>,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub analysis: Option<Value>,
}

/// The branch called and the caller, as far as the numbers tell.
pub struct Parties {
    pub branch: Option<branch::Model>,
    pub customer_id: Option<Uuid>,
    pub customer: Option<crate::store::entities::customer::Model>,
    /// E.164 when it could be read, else as sent.
    pub from_number: Option<String>,
    pub to_number: Option<String>,
}

/// Finds the branch by the called number (read in the tenant's region) and
/// the live customer by the caller's number (read in that branch's region,
/// else the tenant's). Numbers that cannot be read link nothing.
pub async fn parties(tx: &TenantTx, from: Option<&str>, to: Option<&str>) -> Result<Parties> {
    let tenant_region = tenant_region(tx).await?;
    let to_e164 = to.and_then(|n| e164(n, &tenant_region));
    let branch = match &to_e164 {
        Some(number) => branches::find_by_phone_number(tx, number).await?,
        None => None,
    };
    let region = branch.as_ref().map_or(tenant_region.as_str(), |b| b.region_code.as_str());
    let from_e164 = from.and_then(|n| e164(n, region));
    let customer = match &from_e164 {
        Some(number) => customers::find_by_phone(tx, number).await?,
        None => None,
    };
    Ok(Parties {
        customer_id: customer.as_ref().map(|c| c.id),
        customer,
        branch,
        from_number: from_e164.or_else(|| from.map(str::to_owned)),
        to_number: to_e164.or_else(|| to.map(str::to_owned)),
    })
}

pub fn e164(number: &str, region: &str) -> Option<String> {
    let region = RegionCode::parse(region).ok()?;
    PhoneNumber::parse(number, &region).ok().map(|p| p.as_str().to_owned())
}

/// Upserts the call; when it is over (ended or analyzed, whichever arrives
/// first) its holds (hold_key = the provider's call id) are released.
pub async fn record(tx: &TenantTx, facts: CallFacts, at: DateTime<Utc>) -> Result<call::Model> {
    let (status, event_type) = match facts.event {
        CallEvent::Started => (CallStatus::Started, EventType::CallStarted),
        CallEvent::Ended => (CallStatus::Ended, EventType::CallEnded),
        CallEvent::Analyzed => (CallStatus::Analyzed, EventType::CallAnalyzed),
    };
    let (row, _) = calls::upsert(
        tx,
        CallUpdate {
            provider: facts.provider,
            provider_call_id: facts.provider_call_id.clone(),
            status,
            branch_id: facts.branch_id,
            customer_id: facts.customer_id,
            appointment_id: facts.appointment_id,
            from_number: facts.from_number,
            to_number: facts.to_number,
            start_time: facts.start_time,
            end_time: facts.end_time,
            analysis: facts.analysis.map(|a| a.to_string()),
        },
    )
    .await?;
    if status >= CallStatus::Ended {
        holds::release_all_of(tx, &facts.provider_call_id, at).await?;
        // The call's credentials end with it (other replicas' key caches
        // forget them within api_key_cache_secs).
        crate::store::api_keys::revoke_call(tx, &facts.provider_call_id).await?;
    }
    events::call(tx, event_type, call_json(&row, facts.event)).await?;
    Ok(row)
}

/// The call as the contract's call.* events carry it; callId is the voice
/// provider's call id (what appointments and holds know the call by).
fn call_json(row: &call::Model, event: CallEvent) -> Value {
    let id = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    let mut data = json!({
        "callId": row.provider_call_id,
        "branchId": id(row.branch_id),
        "customerId": id(row.customer_id),
        "appointmentId": id(row.appointment_id),
        "fromNumber": row.from_number,
        "startTime": instant_json(row.start_time),
        "endTime": instant_json(row.end_time),
    });
    if event == CallEvent::Analyzed {
        let analysis = row.analysis.as_deref().and_then(|a| serde_json::from_str::<Value>(a).ok());
        data["analysis"] = analysis.unwrap_or(Value::Null);
    }
    data
}

/// RFC 3339 in UTC, or JSON null.
fn instant_json(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)))
}

/// The tenant's region, for reading phone numbers when no branch is known.
pub async fn tenant_region(tx: &TenantTx) -> Result<String> {
    Ok(crate::store::tenants::get(tx).await?.region_code)
}
