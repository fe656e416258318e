//! HoldSlot, GetHold, ExtendHold, ReleaseHold: adapters over
//! `operations::holds`.
use tonic::Request;

use crate::access::{call_of, caller, tenant_of};
use crate::api::{AppState, call_scope};
use crate::convert::availability::hold as to_proto;
use crate::error::Result;
use crate::operations::holds::{self, HoldRequest, parse_hold_id};
use crate::proto::availability::v1 as pb;
use crate::store::{self, now};

pub async fn hold(state: &AppState, request: Request<pb::HoldSlotRequest>) -> Result<pb::HoldSlotResponse> {
    let tenant = tenant_of(&request)?;
    let key_id = caller(&request)?.key_id;
    call_scope::ensure_hold_key(call_of(&request).as_ref(), &request.get_ref().hold_key)?;
    let req = HoldRequest::decode(request.into_inner(), key_id.0)?;
    holds::hold(&state.ops, tenant, req).await
}

pub async fn get(state: &AppState, request: Request<pb::GetHoldRequest>) -> Result<pb::GetHoldResponse> {
    let tenant = tenant_of(&request)?;
    let id = parse_hold_id(&request.get_ref().id)?;
    let row = state.store.read_with(tenant, async |tx| store::holds::get(tx, id).await).await?;
    if call_of(&request).is_some_and(|call| call.call_id != row.hold_key) {
        return Err(crate::error::Error::NotFound { resource: "hold" });
    }
    Ok(pb::GetHoldResponse { hold: Some(to_proto(row, now())) })
}

pub async fn extend(state: &AppState, request: Request<pb::ExtendHoldRequest>) -> Result<pb::ExtendHoldResponse> {
    let tenant = tenant_of(&request)?;
    call_scope::ensure_hold_key(call_of(&request).as_ref(), &request.get_ref().hold_key)?;
    let req = request.into_inner();
    let id = parse_hold_id(&req.id)?;
    let row = holds::extend(&state.ops, tenant, id, &req.hold_key, req.ttl.as_ref()).await?;
    Ok(pb::ExtendHoldResponse { hold: Some(to_proto(row, now())) })
}

pub async fn release(state: &AppState, request: Request<pb::ReleaseHoldRequest>) -> Result<pb::ReleaseHoldResponse> {
    let tenant = tenant_of(&request)?;
    call_scope::ensure_hold_key(call_of(&request).as_ref(), &request.get_ref().hold_key)?;
    let req = request.into_inner();
    let id = parse_hold_id(&req.id)?;
    let row = holds::release(&state.ops, tenant, id, &req.hold_key).await?;
    Ok(pb::ReleaseHoldResponse { hold: Some(to_proto(row, now())) })
}
