//! Rate limits on every authenticated call, per API key and per tenant (GCRA).
//!
//! With a Redis URL the limits are shared by all replicas (`gcra_redis`);
//! without one, or while Redis is unreachable or slow, this process decides
//! alone (`local`). A call is never failed because Redis is down.
mod gcra_redis;
mod local;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::time::Instant;

use crate::config::{Config, Quota};
use crate::domain::ids::{ApiKeyId, TenantId};
use crate::error::{Error, Result};
use crate::metrics::{RATE_LIMIT_FALLBACK_TOTAL, RATE_LIMIT_REJECTIONS_TOTAL};
use gcra_redis::SharedGcra;
use local::LocalLimiter;

/// Prefix of every Redis key the limiter writes.
pub const DEFAULT_KEY_PREFIX: &str = "askpro:rl:";

/// After a Redis failure the in-process limiter decides alone this long, so
/// an outage does not add the Redis timeout to every call.
const REDIS_BACKOFF: Duration = Duration::from_secs(1);

/// How long the first connection may take before Redis counts as down.
const FIRST_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Which limit refused a call; the `limit` label of the rejection metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Limit {
    ApiKey,
    Tenant,
}

impl Limit {
    fn as_str(self) -> &'static str {
        match self {
            Limit::ApiKey => "api_key",
            Limit::Tenant => "tenant",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    Denied { limit: Limit, retry_after: Duration },
}

/// The tenant quota, with the per-tenant replacements from the config.
pub(crate) struct TenantQuotas {
    default: Quota,
    overrides: HashMap<TenantId, Quota>,
}

impl TenantQuotas {
    pub(crate) fn new(default: Quota, overrides: &BTreeMap<String, Quota>) -> Self {
        let overrides = overrides
            .iter()
            .filter_map(|(tenant, quota)| match TenantId::parse("rate_limit_tenant_overrides", tenant) {
                Ok(tenant) => Some((tenant, *quota)),
                Err(_) => {
                    tracing::warn!(tenant = %tenant, "ignoring a rate-limit override: the key is not a tenant UUID");
                    None
                }
            })
            .collect();
        Self { default, overrides }
    }

    pub(crate) fn default_quota(&self) -> Quota {
        self.default
    }

    pub(crate) fn overrides(&self) -> impl Iterator<Item = (TenantId, Quota)> + '_ {
        self.overrides.iter().map(|(tenant, quota)| (*tenant, *quota))
    }

    fn of(&self, tenant: TenantId) -> Quota {
        self.overrides.get(&tenant).copied().unwrap_or(self.default)
    }
}

/// The server's rate limiter; cloning shares its state.
#[derive(Clone)]
pub struct RateLimiter {
    /// `None` when rate limiting is disabled.
    limits: Option<Arc<Limits>>,
}

struct Limits {
    per_key: Quota,
    tenants: TenantQuotas,
    local: LocalLimiter,
    shared: Option<SharedBackend>,
    redis_timeout: Duration,
}

struct SharedBackend {
    gcra: SharedGcra,
    health: Arc<RedisHealth>,
}

impl RateLimiter {
    /// Never waits for Redis: the connection is made in the background.
    /// Must run inside a tokio runtime.
    pub async fn new(config: &Config) -> Self {
        Self::with_key_prefix(config, DEFAULT_KEY_PREFIX).await
    }

    /// Like `new`, with the Redis keys under `key_prefix` (tests use a unique
    /// one each so they do not share buckets).
    pub async fn with_key_prefix(config: &Config, key_prefix: &str) -> Self {
        if !config.rate_limit_enabled {
            return Self { limits: None };
        }
        let tenants = TenantQuotas::new(config.rate_limit_per_tenant, &config.rate_limit_tenant_overrides);
        let local = LocalLimiter::new(config.rate_limit_per_key, &tenants);
        let shared = config.redis_url.as_ref().and_then(|url| {
            match SharedGcra::connect_lazily(url.expose_secret(), key_prefix.to_owned()) {
                Ok(gcra) => Some(SharedBackend::start(gcra)),
                Err(err) => {
                    // The error may quote the URL, which may carry a password.
                    tracing::error!(error_kind = ?err.kind(), "redis_url is not usable; rate limits are per replica");
                    None
                }
            }
        });
        let limits = Limits {
            per_key: config.rate_limit_per_key,
            tenants,
            local,
            shared,
            redis_timeout: config.redis_timeout(),
        };
        Self { limits: Some(Arc::new(limits)) }
    }

    /// Whether calls are limited at all.
    pub fn is_enabled(&self) -> bool {
        self.limits.is_some()
    }

    /// Whether the limits are shared by replicas through Redis (when it is
    /// reachable) rather than kept per process.
    pub fn uses_redis(&self) -> bool {
        self.limits.as_ref().is_some_and(|limits| limits.shared.is_some())
    }

    /// Admits or refuses one call of `key`, acting on `tenant` (a platform
    /// key with no tenant is limited per key only).
    pub async fn check(&self, key: ApiKeyId, tenant: Option<TenantId>) -> Result<()> {
        let Some(limits) = &self.limits else {
            return Ok(());
        };
        match limits.decide(key, tenant).await {
            Verdict::Allowed => Ok(()),
            Verdict::Denied { limit, retry_after } => {
                metrics::counter!(RATE_LIMIT_REJECTIONS_TOTAL, "limit" => limit.as_str()).increment(1);
                Err(Error::RateLimited { limit: limit.as_str(), retry_after })
            }
        }
    }
}

impl Limits {
    async fn decide(&self, key: ApiKeyId, tenant: Option<TenantId>) -> Verdict {
        let Some(shared) = &self.shared else {
            return self.local.check(key, tenant);
        };
        if shared.health.should_try() {
            let bound = crate::deadline::bounded(self.redis_timeout);
            let with_quota = tenant.map(|tenant| (tenant, self.tenants.of(tenant)));
            match tokio::time::timeout(bound, shared.gcra.check(key, self.per_key, with_quota)).await {
                Ok(Ok(verdict)) => {
                    shared.health.record_success();
                    return verdict;
                }
                Ok(Err(err)) => shared.health.record_failure(&format!("{:?}", err.kind())),
                // Cut short by the call's own deadline: not Redis' fault.
                Err(_) if bound < self.redis_timeout => {}
                Err(_) => shared.health.record_failure("timeout"),
            }
        }
        metrics::counter!(RATE_LIMIT_FALLBACK_TOTAL).increment(1);
        self.local.check(key, tenant)
    }
}

impl SharedBackend {
    /// Connects in the background, so that a Redis down at start is known
    /// before the first calls wait on it.
    fn start(gcra: SharedGcra) -> Self {
        let health = Arc::new(RedisHealth::new());
        let (probe, probe_health) = (gcra.clone(), health.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(FIRST_CONNECT_TIMEOUT, probe.ping()).await {
                Ok(Ok(())) => tracing::info!("rate limits are shared through Redis"),
                Ok(Err(err)) => probe_health.record_failure(&format!("{:?}", err.kind())),
                Err(_) => probe_health.record_failure("connect timeout"),
            }
        });
        Self { gcra, health }
    }
}

/// Whether Redis is in use, and when to try it again after a failure. Logs
/// each transition into and out of the fallback once.
struct RedisHealth {
    epoch: Instant,
    /// While degraded: milliseconds since `epoch` before which Redis is not tried.
    retry_at_ms: AtomicU64,
    degraded: AtomicBool,
}

impl RedisHealth {
    fn new() -> Self {
        Self { epoch: Instant::now(), retry_at_ms: AtomicU64::new(0), degraded: AtomicBool::new(false) }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// While degraded, one call per back-off period probes Redis; the
    /// others decide in process without waiting.
    fn should_try(&self) -> bool {
        if !self.degraded.load(Ordering::Acquire) {
            return true;
        }
        let now = self.now_ms();
        let retry_at = self.retry_at_ms.load(Ordering::Acquire);
        now >= retry_at
            && self
                .retry_at_ms
                .compare_exchange(retry_at, now + REDIS_BACKOFF.as_millis() as u64, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    fn record_failure(&self, cause: &str) {
        self.retry_at_ms.store(self.now_ms() + REDIS_BACKOFF.as_millis() as u64, Ordering::Release);
        if !self.degraded.swap(true, Ordering::AcqRel) {
            tracing::warn!(cause, "Redis is unreachable or slow; rate limits fall back to this replica's own");
        }
    }

    fn record_success(&self) {
        if self.degraded.swap(false, Ordering::AcqRel) {
            tracing::warn!("Redis is reachable again; rate limits are shared by all replicas");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(per_key: Quota) -> Config {
        Config { rate_limit_per_key: per_key, redis_url: None, ..Config::default() }
    }

    #[tokio::test]
    async fn disabled_limits_admit_everything() {
        let limiter =
            RateLimiter::new(&Config { rate_limit_enabled: false, ..config(Quota { per_second: 1, burst: 1 }) }).await;
        assert!(!limiter.is_enabled());
        let key = ApiKeyId::generate();
        for _ in 0..100 {
            limiter.check(key, Some(TenantId::generate())).await.expect("disabled limits admit");
        }
    }

    #[tokio::test]
    async fn a_refused_call_names_the_limit_and_when_to_retry() {
        let limiter = RateLimiter::new(&config(Quota { per_second: 1, burst: 2 })).await;
        assert!(!limiter.uses_redis());
        let key = ApiKeyId::generate();
        limiter.check(key, None).await.expect("first call of the burst");
        limiter.check(key, None).await.expect("second call of the burst");
        match limiter.check(key, None).await {
            Err(Error::RateLimited { limit: "api_key", retry_after }) => {
                assert!(retry_after > Duration::from_millis(900) && retry_after <= Duration::from_secs(1));
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_malformed_override_is_ignored_not_fatal() {
        let overrides = BTreeMap::from([("not-a-uuid".to_owned(), Quota { per_second: 1, burst: 1 })]);
        let quotas = TenantQuotas::new(Quota { per_second: 5, burst: 5 }, &overrides);
        assert_eq!(quotas.overrides().count(), 0);
    }

    #[test]
    fn after_a_failure_redis_is_skipped_for_the_back_off_then_probed_once() {
        let health = RedisHealth::new();
        assert!(health.should_try());
        health.record_failure("test");
        assert!(!health.should_try(), "within the back-off Redis is skipped");
        health.retry_at_ms.store(0, Ordering::Release);
        assert!(health.should_try(), "after the back-off one call probes");
        assert!(!health.should_try(), "while that probe runs, others do not");
        health.record_success();
        assert!(health.should_try() && health.should_try());
    }
}
