//! Retries on UNAVAILABLE only, with capped exponential backoff and full
//! jitter. Every other code (ALREADY_EXISTS above all: the booking may have
//! happened) is returned to the caller on the first attempt.
use std::future::Future;
use std::time::Duration;

use tonic::{Code, Status};

/// How often and how patiently a call is retried on UNAVAILABLE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// The backoff ceiling before the first retry; doubles per retry.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 4, initial_backoff: Duration::from_millis(100), max_backoff: Duration::from_secs(2) }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The wait before retry number `retry` (1-based): a uniformly random
    /// duration up to the exponential ceiling, or the server's RetryInfo delay
    /// when it asks for longer (capped at `max_backoff`).
    fn backoff(&self, retry: u32, server_delay: Option<Duration>) -> Duration {
        let ceiling = self.initial_backoff.saturating_mul(1 << retry.saturating_sub(1).min(16)).min(self.max_backoff);
        let jittered = ceiling.mul_f64(rand::random::<f64>());
        match server_delay {
            Some(delay) => jittered.max(delay.min(self.max_backoff)),
            None => jittered,
        }
    }

    /// Runs `attempt` until it succeeds, fails with a code other than
    /// UNAVAILABLE, or `max_attempts` is used up.
    pub(crate) async fn run<T, F, Fut>(&self, mut attempt: F) -> Result<T, Status>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        let mut tries = 1;
        loop {
            match attempt().await {
                Err(status) if status.code() == Code::Unavailable && tries < self.max_attempts.max(1) => {
                    let server_delay = {
                        use tonic_types::StatusExt;
                        status.get_details_retry_info().and_then(|info| info.retry_delay)
                    };
                    tokio::time::sleep(self.backoff(tries, server_delay)).await;
                    tries += 1;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_the_exponential_ceiling_and_the_cap() {
        let policy = RetryPolicy::default();
        for retry in 1..10 {
            let ceiling = (policy.initial_backoff * 2u32.pow(retry - 1)).min(policy.max_backoff);
            assert!(policy.backoff(retry, None) <= ceiling);
        }
        assert!(policy.backoff(1, Some(Duration::from_secs(1))) >= Duration::from_secs(1));
        assert!(policy.backoff(1, Some(Duration::from_secs(60))) <= policy.max_backoff);
    }
}
