//! CreateCallCredential: a short-lived key bound to one call and its caller
//! (see `api::call_scope` for what it may touch).
use secrecy::ExposeSecret;
use tonic::Request;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::convert::timestamp;
use crate::domain::api_key;
use crate::domain::ids::BranchId;
use crate::domain::phone::PhoneNumber;
use crate::domain::validate::Violations;
use crate::error::{Error, Result};
use crate::operations::holds::validate_hold_key;
use crate::proto::appointment::v1 as pb;
use crate::store::{api_keys, now};

const DEFAULT_TTL_SECONDS: i64 = 30 * 60;
const MAX_TTL_SECONDS: i64 = 4 * 3600;

pub async fn create(
    state: &AppState,
    request: Request<pb::CreateCallCredentialRequest>,
) -> Result<pb::CreateCallCredentialResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let mut v = Violations::new();
    validate_hold_key(&mut v, "call_id", &req.call_id);
    let ttl = match &req.ttl {
        None => DEFAULT_TTL_SECONDS,
        Some(d) if d.seconds <= 0 || d.seconds > MAX_TTL_SECONDS || d.nanos != 0 => {
            v.add("ttl", "must be whole seconds, more than 0 and at most 4 hours");
            DEFAULT_TTL_SECONDS
        }
        Some(d) => d.seconds,
    };
    let branch = if req.branch_id.is_empty() { None } else { v.take_err(BranchId::parse("branch_id", &req.branch_id)) };
    v.finish()?;
    let region = super::customers::caller_region(&*state.store.tenant_config(tenant).await?, branch)?;
    if req.phone_number.trim().is_empty() {
        return Err(Error::invalid("phone_number", "is required"));
    }
    let number = PhoneNumber::parse(&req.phone_number, &region).map_err(|e| Error::invalid("phone_number", e))?;
    let expire_time = now() + chrono::Duration::seconds(ttl);
    let issued = api_key::issue();
    state
        .store
        .write_with(tenant, async |tx| {
            api_keys::create_call(tx, &issued, number.as_str(), &req.call_id, expire_time).await.map(|_| ())
        })
        .await?;
    tracing::info!(%tenant, call_id = %req.call_id, phone = %number.masked(), "call credential created");
    Ok(pb::CreateCallCredentialResponse {
        credential: issued.full_key.expose_secret().to_owned(),
        phone_number: number.as_str().to_owned(),
        expire_time: Some(timestamp(expire_time)),
    })
}
