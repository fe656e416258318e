//! The authenticated caller, put into each request by the auth layer.
use tonic::Request;

use crate::domain::ids::{ApiKeyId, TenantId};
use crate::domain::scope::Scope;
use crate::error::{Error, Result};

/// Who is calling: the key, its scope, and the tenant the call acts on (for a
/// platform-admin key, the tenant named in `x-askpro-tenant-id`, if any).
#[derive(Clone, Debug)]
pub struct Caller {
    pub key_id: ApiKeyId,
    pub scope: Scope,
    pub tenant: Option<TenantId>,
    /// Set for a call credential: the call it is bound to.
    pub call: Option<CallBinding>,
}

/// What a call credential is bound to: the caller's number (E.164) and the
/// call's id (its only hold key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallBinding {
    pub phone: String,
    pub call_id: String,
}

/// The call a request's credential is bound to, if it is a call credential.
pub fn call_of<T>(request: &Request<T>) -> Option<CallBinding> {
    request.extensions().get::<Caller>().and_then(|caller| caller.call.clone())
}

/// The caller of a request. The auth layer guarantees one on every AskPro
/// method; its absence means the server was wired without that layer.
pub fn caller<T>(request: &Request<T>) -> Result<&Caller> {
    request
        .extensions()
        .get::<Caller>()
        .ok_or_else(|| Error::Internal("request reached a handler without a caller".into()))
}

/// The tenant a tenant-scoped call acts on.
pub fn tenant_of<T>(request: &Request<T>) -> Result<TenantId> {
    let caller = caller(request)?;
    caller.tenant.ok_or_else(|| Error::FailedPrecondition {
        reason: "TENANT_REQUIRED",
        message: "platform-admin keys must name the tenant in the x-askpro-tenant-id metadata".into(),
    })
}
