//! Standard Webhooks senders posting AskPro-shaped call.started / call.ended /
//! call.analyzed: recorded as calls like Retell's. Ids in `data` link only
//! when they name a live row of this tenant; without a known customer id the
//! caller is found by fromNumber. Other types are IGNORED.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Outcome;
use crate::domain::webhook::InboundProvider;
use crate::error::{Error, Result};
use crate::operations::calls::{self, CallFacts};
use crate::store::{TenantTx, appointments, branches, customers};
use crate::webhooks::payload::StandardEvent;

pub(super) async fn apply(tx: &TenantTx, event: &StandardEvent, at: DateTime<Utc>) -> Result<Outcome> {
    let (event, call) = match event {
        StandardEvent::Call { event, call, .. } => (*event, call),
        StandardEvent::Other { event_type, .. } => {
            return Ok(Outcome::ignored(format!("type {event_type} is not used")));
        }
    };
    let branch_id = match uuid(call.branch_id.as_deref()) {
        Some(id) if branches::exists(tx, id).await? => Some(id),
        _ => None,
    };
    let customer_id = match uuid(call.customer_id.as_deref()) {
        Some(id) => found(customers::get(tx, id).await)?.map(|c| c.id),
        None => None,
    };
    let appointment_id = match uuid(call.appointment_id.as_deref()) {
        Some(id) => found(appointments::get(tx, id).await)?.map(|a| a.id),
        None => None,
    };
    let (customer_id, from_number) = match customer_id {
        Some(id) => (Some(id), call.from_number.clone()),
        None => {
            let parties = calls::parties(tx, call.from_number.as_deref(), None).await?;
            (parties.customer_id, parties.from_number)
        }
    };
    let facts = CallFacts {
        provider: InboundProvider::StandardWebhooks,
        event,
        provider_call_id: call.call_id.clone(),
        branch_id,
        customer_id,
        appointment_id,
        from_number,
        to_number: None,
        start_time: call.start_time,
        end_time: call.end_time,
        analysis: call.analysis.clone(),
    };
    Ok(Outcome::recorded(calls::record(tx, facts, at).await?))
}

fn uuid(text: Option<&str>) -> Option<Uuid> {
    text.and_then(|t| Uuid::try_parse(t).ok())
}

/// NOT_FOUND as absence; other errors stay errors.
fn found<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(row) => Ok(Some(row)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}
