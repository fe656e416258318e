//! API-key authentication and authorization as a tower layer.
//!
//! For every AskPro method it reads the key from `authorization: Bearer ...`
//! or `x-api-key`, verifies it against the stored hash, checks the method's
//! permission (`api::permissions`), resolves the tenant, and puts a `Caller`
//! into the request extensions. Everything else (health, reflection, plain
//! HTTP routes) passes untouched: Kubernetes probes send no metadata.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderMap, Request, Response};
use tower::{Layer, Service};

use crate::api::context::Caller;
use crate::api::permissions;
use crate::domain::api_key;
use crate::domain::ids::TenantId;
use crate::domain::scope::{Permission, Scope};
use crate::error::{Error, Result};
use crate::store::{Store, api_keys, tenants};

/// Metadata naming the tenant a platform-admin key acts on.
pub const TENANT_HEADER: &str = "x-askpro-tenant-id";

#[derive(Clone)]
pub struct AuthLayer {
    store: Store,
}

impl AuthLayer {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth { inner, store: self.store.clone() }
    }
}

#[derive(Clone)]
pub struct Auth<S> {
    inner: S,
    store: Store,
}

impl<S, B, RB> Service<Request<B>> for Auth<S>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    RB: Default + Send,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call (tower's
        // usual swap so poll_ready's promise holds).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let store = self.store.clone();
        Box::pin(async move {
            let path = request.uri().path();
            if !path.starts_with("/askpro.") {
                return inner.call(request).await;
            }
            // Fail closed: an AskPro path without a permission entry never
            // reaches a handler.
            let Some(permission) = permissions::required(path) else {
                let unknown = Error::NotImplemented("no such AskPro method");
                return Ok(tonic::Status::from(unknown).into_http());
            };
            match authenticate(&store, request.headers(), permission).await {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                    inner.call(request).await
                }
                Err(err) => Ok(tonic::Status::from(err).into_http()),
            }
        })
    }
}

/// Resolves the headers to a caller allowed to use `permission`.
pub async fn authenticate(store: &Store, headers: &HeaderMap, permission: Permission) -> Result<Caller> {
    let raw = presented_key(headers)?;
    let invalid = || Error::Unauthenticated {
        reason: "API_KEY_INVALID",
        message: "the API key is not valid (malformed, unknown, revoked or expired)",
    };
    let presented = api_key::parse(raw).ok_or_else(invalid)?;
    let key_id = presented.id;
    let tx = store.platform_read().await?;
    let row = api_keys::find_for_authentication(&tx, key_id).await?;
    tx.commit().await?;
    let row = row.ok_or_else(invalid)?;
    if !presented.matches(&row.secret_hash) || row.revoke_time.is_some() {
        return Err(invalid());
    }
    if row.expire_time.is_some_and(|at| at <= chrono::Utc::now()) {
        return Err(invalid());
    }
    let scope: Scope = row.scope.parse().map_err(|_| invalid())?;
    if !scope.grants(permission) {
        return Err(Error::PermissionDenied {
            reason: "SCOPE_INSUFFICIENT",
            message: format!("an API key with scope {scope} may not call this method"),
        });
    }
    let named = named_tenant(headers)?;
    let tenant = match (row.tenant_id, named) {
        (Some(own), None) => Some(TenantId(own)),
        (Some(own), Some(named)) if named.0 == own => Some(TenantId(own)),
        (Some(_), Some(_)) => {
            return Err(Error::PermissionDenied {
                reason: "SCOPE_INSUFFICIENT",
                message: format!("only platform-admin keys may name a tenant in {TENANT_HEADER}"),
            });
        }
        (None, Some(named)) => {
            let tx = store.platform_read().await?;
            let exists = tenants::exists(&tx, named.0).await?;
            tx.commit().await?;
            if !exists {
                return Err(Error::NotFound { resource: "tenant" });
            }
            Some(named)
        }
        (None, None) => None,
    };
    Ok(Caller { key_id, scope, tenant })
}

fn presented_key(headers: &HeaderMap) -> Result<&str> {
    let missing = || Error::Unauthenticated {
        reason: "API_KEY_MISSING",
        message: "an API key is required: send `authorization: Bearer <key>` or `x-api-key: <key>`",
    };
    // A Bearer token wins; another scheme (say, Basic auth added by a proxy)
    // does not hide an x-api-key.
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if let Some(token) = bearer {
        return Ok(token);
    }
    match headers.get("x-api-key") {
        Some(value) => value.to_str().map(str::trim).map_err(|_| missing()),
        None => Err(missing()),
    }
}

fn named_tenant(headers: &HeaderMap) -> Result<Option<TenantId>> {
    match headers.get(TENANT_HEADER) {
        None => Ok(None),
        Some(value) => {
            let text = value.to_str().map_err(|_| Error::invalid(TENANT_HEADER, "must be a UUID"))?;
            TenantId::parse(TENANT_HEADER, text.trim()).map(Some)
        }
    }
}
