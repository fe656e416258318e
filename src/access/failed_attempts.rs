//! Failed attempts per client address: requests that prove nothing but cost
//! a database lookup or a body read (an API key read and then refused, an
//! unknown webhook token, a bad webhook signature), so each client address
//! may fail only so often (`unauthenticated_limit_per_address`, a GCRA
//! quota). Failures that cost nothing (no key, a malformed one, a made-up key
//! already known to be unknown) do not count. An address over it is refused before any lookup until its
//! quota refills; its calls with a key whose row is cached (verified
//! without the database) still pass, so a busy client behind the same NAT
//! keeps working while a key-guessing neighbour is held off.
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::DefaultKeyedRateLimiter;
use governor::clock::Clock;

use crate::config::Quota;
use crate::error::{Error, Result};

/// How many failures pass between sweeps of idle addresses, so a stream of
/// distinct addresses cannot grow the map without bound.
const SWEEP_EVERY: u64 = 4096;

pub struct FailedAttempts {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses whose failures ran over the quota, until when.
    refused_until: moka::sync::Cache<IpAddr, Instant>,
    recorded: AtomicU64,
}

impl FailedAttempts {
    pub fn new(quota: Quota) -> Self {
        let per_second = NonZeroU32::new(quota.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN);
        let quota = governor::Quota::per_second(per_second).allow_burst(burst);
        Self {
            failures: governor::RateLimiter::keyed(quota),
            refused_until: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            recorded: AtomicU64::new(0),
        }
    }

    /// Ok when `address` may cost a lookup now; RESOURCE_EXHAUSTED
    /// (RATE_LIMITED, limit "client_address") with the wait otherwise.
    pub fn admit(&self, address: Option<IpAddr>) -> Result<()> {
        let Some(address) = address else { return Ok(()) };
        match self.refused_until.get(&address) {
            Some(until) if until > Instant::now() => {
                metrics::counter!(crate::metrics::UNAUTHENTICATED_REFUSED_TOTAL).increment(1);
                Err(Error::RateLimited { limit: "client_address", retry_after: until - Instant::now() })
            }
            _ => Ok(()),
        }
    }

    /// Counts one failure of `address`; over the quota, the address is
    /// refused until its quota allows the next failure.
    pub fn record(&self, address: Option<IpAddr>) {
        let Some(address) = address else { return };
        if self.recorded.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.failures.retain_recent();
            self.failures.shrink_to_fit();
        }
        if let Err(not_until) = self.failures.check_key(&address) {
            let wait = not_until.wait_time_from(self.failures.clock().now());
            self.refused_until.insert(address, Instant::now() + wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_over_its_failures_is_refused_until_the_quota_refills() {
        let attempts = FailedAttempts::new(Quota { per_second: 1, burst: 2 });
        let noisy = Some("203.0.113.5".parse().unwrap());
        let quiet = Some("198.51.100.7".parse().unwrap());
        attempts.record(noisy);
        attempts.record(noisy);
        assert!(attempts.admit(noisy).is_ok(), "within the burst");
        attempts.record(noisy);
        let Err(Error::RateLimited { limit, retry_after }) = attempts.admit(noisy) else {
            panic!("the third failure in a burst of two is refused next");
        };
        assert_eq!(limit, "client_address");
        assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1), "{retry_after:?}");
        assert!(attempts.admit(quiet).is_ok(), "other addresses are not affected");
        assert!(attempts.admit(None).is_ok(), "no address, no limit");
    }
}
