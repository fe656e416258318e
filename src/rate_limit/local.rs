//! The in-process limiter (governor): decides alone when no Redis is
//! configured, and stands in for the shared one while Redis is unreachable.
//! Its buckets are this replica's own, so during an outage each replica
//! admits a full quota.
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter};

use super::{Limit, TenantQuotas, Verdict};
use crate::config::Quota;
use crate::domain::ids::{ApiKeyId, TenantId};

/// How many decisions pass between sweeps of idle keys, so a stream of
/// distinct keys cannot grow the maps without bound.
const SWEEP_EVERY: u64 = 4096;

pub(super) struct LocalLimiter {
    per_key: DefaultKeyedRateLimiter<ApiKeyId>,
    per_tenant: DefaultKeyedRateLimiter<TenantId>,
    /// Tenants with their own quota each get a bucket of that quota.
    overridden_tenants: HashMap<TenantId, DefaultDirectRateLimiter>,
    decisions: AtomicU64,
}

impl LocalLimiter {
    pub(super) fn new(per_key: Quota, tenants: &TenantQuotas) -> Self {
        let overridden_tenants = tenants
            .overrides()
            .map(|(tenant, quota)| (tenant, governor::RateLimiter::direct(governor_quota(quota))))
            .collect();
        Self {
            per_key: governor::RateLimiter::keyed(governor_quota(per_key)),
            per_tenant: governor::RateLimiter::keyed(governor_quota(tenants.default_quota())),
            overridden_tenants,
            decisions: AtomicU64::new(0),
        }
    }

    /// Admits the call if both the key's and the tenant's bucket allow it.
    ///
    /// Unlike the Redis script this is not one atomic step over both
    /// buckets: the key is checked first, so a key's own rejected calls do
    /// not eat into its tenant's quota; a call the tenant then refuses has
    /// still used one of the key's cells.
    pub(super) fn check(&self, key: ApiKeyId, tenant: Option<TenantId>) -> Verdict {
        if self.decisions.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        let now = self.per_key.clock().now();
        if let Err(not_until) = self.per_key.check_key(&key) {
            return Verdict::Denied { limit: Limit::ApiKey, retry_after: not_until.wait_time_from(now) };
        }
        let Some(tenant) = tenant else {
            return Verdict::Allowed;
        };
        let tenant_decision = match self.overridden_tenants.get(&tenant) {
            Some(bucket) => bucket.check(),
            None => self.per_tenant.check_key(&tenant),
        };
        match tenant_decision {
            Ok(()) => Verdict::Allowed,
            Err(not_until) => Verdict::Denied { limit: Limit::Tenant, retry_after: not_until.wait_time_from(now) },
        }
    }

    /// Forgets buckets that are full again (their state equals a fresh one).
    fn sweep(&self) {
        self.per_key.retain_recent();
        self.per_key.shrink_to_fit();
        self.per_tenant.retain_recent();
        self.per_tenant.shrink_to_fit();
    }
}

/// governor needs non-zero rates; a zero in the config is read as 1.
fn governor_quota(quota: Quota) -> governor::Quota {
    let per_second = NonZeroU32::new(quota.per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN);
    governor::Quota::per_second(per_second).allow_burst(burst)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;

    fn quota(per_second: u32, burst: u32) -> Quota {
        Quota { per_second, burst }
    }

    fn admitted(limiter: &LocalLimiter, key: ApiKeyId, tenant: Option<TenantId>, calls: usize) -> usize {
        (0..calls).filter(|_| limiter.check(key, tenant) == Verdict::Allowed).count()
    }

    #[test]
    fn a_key_gets_its_burst_then_waits_one_emission_interval() {
        let tenants = TenantQuotas::new(quota(1000, 1000), &BTreeMap::new());
        let limiter = LocalLimiter::new(quota(2, 3), &tenants);
        let key = ApiKeyId::generate();
        assert_eq!(admitted(&limiter, key, None, 10), 3);
        match limiter.check(key, None) {
            Verdict::Denied { limit: Limit::ApiKey, retry_after } => {
                assert!(retry_after <= Duration::from_millis(500) && retry_after > Duration::from_millis(400));
            }
            other => panic!("expected an api_key denial, got {other:?}"),
        }
    }

    #[test]
    fn keys_of_one_tenant_share_the_tenant_quota() {
        let tenants = TenantQuotas::new(quota(1, 4), &BTreeMap::new());
        let limiter = LocalLimiter::new(quota(1000, 1000), &tenants);
        let tenant = Some(TenantId::generate());
        let (first, second) = (ApiKeyId::generate(), ApiKeyId::generate());
        assert_eq!(admitted(&limiter, first, tenant, 3), 3);
        assert_eq!(admitted(&limiter, second, tenant, 3), 1);
        assert!(matches!(limiter.check(second, tenant), Verdict::Denied { limit: Limit::Tenant, .. }));
        // Another tenant is untouched.
        assert_eq!(admitted(&limiter, second, Some(TenantId::generate()), 4), 4);
    }

    #[test]
    fn a_tenant_override_replaces_the_default_tenant_quota() {
        let big = TenantId::generate();
        let overrides = BTreeMap::from([(big.to_string(), quota(1, 7))]);
        let tenants = TenantQuotas::new(quota(1, 2), &overrides);
        let limiter = LocalLimiter::new(quota(1000, 1000), &tenants);
        assert_eq!(admitted(&limiter, ApiKeyId::generate(), Some(big), 20), 7);
        assert_eq!(admitted(&limiter, ApiKeyId::generate(), Some(TenantId::generate()), 20), 2);
    }

    #[test]
    fn a_key_rejected_by_its_own_limit_does_not_use_the_tenant_quota() {
        let tenants = TenantQuotas::new(quota(1, 3), &BTreeMap::new());
        let limiter = LocalLimiter::new(quota(1, 1), &tenants);
        let tenant = Some(TenantId::generate());
        let noisy = ApiKeyId::generate();
        assert_eq!(admitted(&limiter, noisy, tenant, 50), 1);
        assert_eq!(admitted(&limiter, ApiKeyId::generate(), tenant, 1), 1);
        assert_eq!(admitted(&limiter, ApiKeyId::generate(), tenant, 1), 1);
    }

    #[test]
    fn zero_quotas_are_read_as_one() {
        let tenants = TenantQuotas::new(quota(0, 0), &BTreeMap::new());
        let limiter = LocalLimiter::new(quota(0, 0), &tenants);
        assert_eq!(admitted(&limiter, ApiKeyId::generate(), Some(TenantId::generate()), 5), 1);
    }
}
