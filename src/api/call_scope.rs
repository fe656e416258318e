//! What a call credential may touch (see CreateCallCredential): only the
//! records of the caller it is bound to. A record of another caller answers
//! NOT_FOUND, exactly like a record that does not exist, so a caller who
//! talks the agent into asking learns nothing; a method or field a call may
//! not use at all is PERMISSION_DENIED (CALL_SCOPE). Every check here is a
//! no-op for other keys.
use uuid::Uuid;

use super::AppState;
use crate::access::CallBinding;
use crate::domain::ids::TenantId;
use crate::error::{Error, Result};
use crate::store::{appointments, caches, customers, now};

fn not_found(resource: &'static str) -> Error {
    Error::NotFound { resource }
}

/// Refuses a use a call credential may not make.
pub fn refuse(what: &str) -> Error {
    Error::PermissionDenied { reason: "CALL_SCOPE", message: format!("a call credential may not {what}") }
}

/// The number `e164` is the caller's.
pub fn ensure_phone(call: Option<&CallBinding>, e164: &str, resource: &'static str) -> Result<()> {
    match call {
        Some(call) if call.phone != e164 => Err(not_found(resource)),
        _ => Ok(()),
    }
}

/// Holds of a call are made under the call's id.
pub fn ensure_hold_key(call: Option<&CallBinding>, hold_key: &str) -> Result<()> {
    match call {
        Some(call) if call.call_id != hold_key => Err(refuse("hold under another hold_key than its call_id")),
        _ => Ok(()),
    }
}

/// The customer is the caller.
pub async fn ensure_customer(
    state: &AppState,
    tenant: TenantId,
    call: Option<&CallBinding>,
    customer_id: Uuid,
) -> Result<()> {
    let Some(call) = call else { return Ok(()) };
    let customer = state.store.read_with(tenant, async |tx| customers::get(tx, customer_id).await).await?;
    ensure_phone(Some(call), &customer.phone_number, "customer")
}

/// The appointment is the caller's.
pub async fn ensure_appointment(
    state: &AppState,
    tenant: TenantId,
    call: Option<&CallBinding>,
    appointment_id: Uuid,
) -> Result<()> {
    let Some(call) = call else { return Ok(()) };
    let phone = state
        .store
        .read_with(tenant, async |tx| {
            let appointment = appointments::get(tx, appointment_id).await?;
            Ok(customers::get(tx, appointment.customer_id).await?.phone_number)
        })
        .await?;
    ensure_phone(Some(call), &phone, "appointment")
}

/// The caller's customer id, if the caller is a customer yet.
pub async fn callers_customer(state: &AppState, tenant: TenantId, call: &CallBinding) -> Result<Option<Uuid>> {
    let found = caches::customers::find_by_phone(&state.store, tenant, &call.phone, now(), 1).await?;
    Ok(found.map(|view| view.customer.id))
}
