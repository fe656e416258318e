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
