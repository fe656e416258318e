//! API keys at the door: the key a request presents, checked against its
//! stored row (cached for a few seconds), its scope against the method's
//! permission, and the tenant it acts on.
use std::net::IpAddr;
use std::time::Duration;

use http::HeaderMap;

use super::caller::{CallBinding, Caller};
use super::failed_attempts::FailedAttempts;
use crate::domain::api_key;
use crate::domain::ids::{ApiKeyId, TenantId};
use crate::domain::scope::{Permission, Scope};
use crate::error::{Error, Result};
use crate::store::entities::api_key::Model as ApiKeyRow;
use crate::store::{Store, api_keys, tenants};

/// Metadata naming the tenant a platform-admin key acts on.
pub const TENANT_HEADER: &str = "x-askpro-tenant-id";

/// Stored API-key rows by id, reused for a few seconds so a busy key costs
/// no database round trip per call. The secret is still verified against
/// the hash on every call; only the row is cached. A revocation clears the
/// entry in this process at once and reaches other replicas within the TTL
/// (`api_key_cache_secs`). Unknown ids are remembered as unknown for the same
/// time (a separate, bounded cache, so made-up keys cannot push real rows
/// out): the same made-up key sent again costs no lookup. Key ids are random
/// and new keys never were looked up, so a key just issued is never
/// mistaken for an unknown one.
#[derive(Clone)]
pub struct ApiKeyCache {
    rows: moka::sync::Cache<ApiKeyId, ApiKeyRow>,
    unknown: moka::sync::Cache<ApiKeyId, ()>,
    /// Keys whose use this process recorded within the last minute.
    uses_recorded: moka::sync::Cache<ApiKeyId, ()>,
}

/// How often one server records a key's use, at most.
const USE_RECORDED_EVERY: Duration = Duration::from_secs(60);

impl ApiKeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            rows: moka::sync::Cache::builder().max_capacity(100_000).time_to_live(ttl).build(),
            unknown: moka::sync::Cache::builder().max_capacity(100_000).time_to_live(ttl).build(),
            uses_recorded: moka::sync::Cache::builder().max_capacity(100_000).time_to_live(USE_RECORDED_EVERY).build(),
        }
    }

    /// Records that a key was used (its `last_use_time`), at most once a
    /// minute per key, in the background: the call never waits for it, and a
    /// failure only delays the record.
    fn record_use(&self, store: &Store, id: ApiKeyId) {
        if !self.uses_recorded.entry(id).or_insert(()).is_fresh() {
            return;
        }
        let store = store.clone();
        tokio::spawn(async move {
            let recorded = async {
                let tx = store.platform().await?;
                api_keys::record_use(&tx, id, crate::store::now()).await?;
                tx.commit().await
            };
            if let Err(err) = recorded.await {
                tracing::debug!(error = %err, "could not record an API key's use");
            }
        });
    }

    /// Forgets a key (after a revocation).
    pub fn invalidate(&self, id: ApiKeyId) {
        self.rows.invalidate(&id);
        self.unknown.invalidate(&id);
    }

    /// The row, if this process holds it (no database).
    fn cached(&self, id: ApiKeyId) -> Option<ApiKeyRow> {
        let row = self.rows.get(&id);
        if row.is_some() {
            metrics::counter!(crate::metrics::CACHE_HITS_TOTAL, "cache" => "api_key").increment(1);
        }
        row
    }

    /// The row from the database, unless the id is known to be unknown (then
    /// None without a lookup). The flag says whether the database was read.
    async fn load(&self, store: &Store, id: ApiKeyId) -> Result<(Option<ApiKeyRow>, bool)> {
        if self.unknown.contains_key(&id) {
            metrics::counter!(crate::metrics::CACHE_HITS_TOTAL, "cache" => "api_key_unknown").increment(1);
            return Ok((None, false));
        }
        metrics::counter!(crate::metrics::CACHE_MISSES_TOTAL, "cache" => "api_key").increment(1);
        let tx = store.platform_read().await?;
        let row = api_keys::find_for_authentication(&tx, id).await?;
        tx.commit().await?;
        match &row {
            Some(row) => self.rows.insert(id, row.clone()),
            None => self.unknown.insert(id, ()),
        }
        Ok((row, true))
    }
}

/// Where a request comes from, and what its address may still cost.
#[derive(Clone, Copy)]
pub struct Door<'a> {
    pub attempts: &'a FailedAttempts,
    pub address: Option<IpAddr>,
}

/// Resolves the headers to a caller allowed to use `permission`.
///
/// A key this process has not verified lately costs a database lookup: an
/// address over its failed attempts (`FailedAttempts`) gets
/// RESOURCE_EXHAUSTED instead of one, and a lookup that ends in a refusal
/// counts as a failed attempt. A missing or malformed key, a made-up key
/// already known to be unknown, or a wrong secret for a cached key cost
/// nothing and do not count.
pub async fn authenticate(
    store: &Store,
    keys: &ApiKeyCache,
    door: Door<'_>,
    headers: &HeaderMap,
    path: &str,
    permission: Permission,
) -> Result<Caller> {
    let raw = presented_key(headers)?;
    let invalid = || Error::Unauthenticated {
        reason: "API_KEY_INVALID",
        message: "the API key is not valid (malformed, unknown, revoked or expired)",
    };
    let presented = api_key::parse(raw).ok_or_else(invalid)?;
    let key_id = presented.id;
    let (row, looked_up) = match keys.cached(key_id) {
        Some(row) => (Some(row), false),
        None => {
            door.attempts.admit(door.address)?;
            keys.load(store, key_id).await?
        }
    };
    let usable = row.filter(|row| {
        presented.matches(&row.secret_hash)
            && row.revoke_time.is_none()
            && row.expire_time.is_none_or(|at| at > chrono::Utc::now())
    });
    let Some(row) = usable else {
        if looked_up {
            door.attempts.record(door.address);
        }
        return Err(invalid());
    };
    let scope: Scope = row.scope.parse().map_err(|_| invalid())?;
    let call = match (scope, &row.call_phone, &row.call_id) {
        (Scope::Call, Some(phone), Some(call_id)) => {
            if !super::permissions::open_to_calls(path) {
                return Err(Error::PermissionDenied {
                    reason: "CALL_SCOPE",
                    message: "a call credential may not call this method; the agent's own key may".into(),
                });
            }
            Some(CallBinding { phone: phone.clone(), call_id: call_id.clone() })
        }
        (Scope::Call, _, _) => return Err(invalid()),
        _ if !scope.grants(permission) => {
            return Err(Error::ScopeInsufficient { needed: permission.least_scope(), held: scope });
        }
        _ => None,
    };
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
    keys.record_use(store, key_id);
    Ok(Caller { key_id, scope, tenant, call })
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
            Ok(TenantId::parse(TENANT_HEADER, text.trim()).map(Some)?)
        }
    }
}
