//! One circuit breaker per tenant connection to Cal.com (per replica).
//!
//! Written here rather than taken from a crate: the breaker's state must be
//! readable (API, /metrics, health), an open period must honour Cal.com's
//! Retry-After, and only outages may count (a refused key or request says
//! nothing about Cal.com's health). The crates looked at (failsafe) expose
//! none of that; the state machine is forty lines.
//!
//! Closed: calls go through; `failure_threshold` outages in a row open it.
//! Open: no call for `open_for` (or longer when Cal.com asked); then
//! half-open: one trial call at a time; its success closes the breaker, an
//! outage reopens it.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::CalcomError;
use crate::domain::ids::TenantId;

/// The breaker states, as the API and metrics name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed,
    Open,
    HalfOpen,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Breaker {
    Closed {
        outages: u32,
    },
    Open {
        until: Instant,
    },
    /// `trial_since`: when the trial call was let through.
    HalfOpen {
        trial_since: Instant,
    },
}

impl Breaker {
    fn state(&self, now: Instant) -> State {
        match self {
            Breaker::Closed { .. } => State::Closed,
            Breaker::Open { until } if now < *until => State::Open,
            Breaker::Open { .. } | Breaker::HalfOpen { .. } => State::HalfOpen,
        }
    }
}

/// Every tenant's breaker on this replica.
pub struct Breakers {
    failure_threshold: u32,
    open_for: Duration,
    breakers: Mutex<HashMap<TenantId, Breaker>>,
    /// How many breakers are not closed; health watches it.
    not_closed: watch::Sender<usize>,
}

impl Breakers {
    pub fn new(failure_threshold: u32, open_for: Duration) -> Self {
        Self {
            failure_threshold: failure_threshold.max(1),
            open_for: open_for.max(Duration::from_millis(100)),
            breakers: Mutex::default(),
            not_closed: watch::Sender::new(0),
        }
    }

    /// Lets a call through, or says how long the breaker stays open.
    pub fn permit(&self, tenant: TenantId) -> Result<(), CalcomError> {
        let now = Instant::now();
        let mut breakers = self.lock();
        let breaker = breakers.entry(tenant).or_insert(Breaker::Closed { outages: 0 });
        let result = match *breaker {
            Breaker::Closed { .. } => Ok(()),
            Breaker::Open { until } if now < until => Err(CalcomError::CircuitOpen { retry_after: until - now }),
            Breaker::Open { .. } => {
                *breaker = Breaker::HalfOpen { trial_since: now };
                Ok(())
            }
            // A trial that never reported (its caller was dropped) does not
            // hold the breaker forever.
            Breaker::HalfOpen { trial_since } if now.duration_since(trial_since) > self.open_for => {
                *breaker = Breaker::HalfOpen { trial_since: now };
                Ok(())
            }
            Breaker::HalfOpen { .. } => Err(CalcomError::CircuitOpen { retry_after: self.open_for }),
        };
        self.publish(&breakers, now);
        result
    }

    /// Records how a permitted call ended.
    pub fn record(&self, tenant: TenantId, outcome: Result<(), &CalcomError>) {
        let now = Instant::now();
        let mut breakers = self.lock();
        let breaker = breakers.entry(tenant).or_insert(Breaker::Closed { outages: 0 });
        let before = breaker.state(now);
        *breaker = match (outcome, *breaker) {
            (Err(err), current) if err.is_outage() => {
                let outages = match current {
                    Breaker::Closed { outages } => outages + 1,
                    _ => self.failure_threshold,
                };
                if outages >= self.failure_threshold {
                    let open_for = err.retry_after().map_or(self.open_for, |asked| asked.max(self.open_for));
                    Breaker::Open { until: now + open_for }
                } else {
                    Breaker::Closed { outages }
                }
            }
            // Cal.com answered: it is up, whatever it said.
            _ => Breaker::Closed { outages: 0 },
        };
        let after = breaker.state(now);
        if before != after {
            tracing::info!(%tenant, from = before.as_str(), to = after.as_str(), "Cal.com circuit breaker changed");
            metrics::counter!(crate::metrics::CALCOM_BREAKER_TRANSITIONS_TOTAL, "to" => after.as_str()).increment(1);
        }
        self.publish(&breakers, now);
    }

    /// The tenant's breaker state now.
    pub fn state(&self, tenant: TenantId) -> State {
        let now = Instant::now();
        self.lock().get(&tenant).map_or(State::Closed, |b| b.state(now))
    }

    /// How many breakers are open or half-open, watched (health).
    pub fn watch_not_closed(&self) -> watch::Receiver<usize> {
        self.not_closed.subscribe()
    }

    /// Breakers by state now: (closed, open, half-open).
    pub fn counts(&self) -> (usize, usize, usize) {
        let now = Instant::now();
        let breakers = self.lock();
        Self::count(&breakers, now)
    }

    fn count(breakers: &HashMap<TenantId, Breaker>, now: Instant) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for breaker in breakers.values() {
            match breaker.state(now) {
                State::Closed => counts.0 += 1,
                State::Open => counts.1 += 1,
                State::HalfOpen => counts.2 += 1,
            }
        }
        counts
    }

    fn publish(&self, breakers: &HashMap<TenantId, Breaker>, now: Instant) {
        let (closed, open, half_open) = Self::count(breakers, now);
        for (state, count) in [(State::Closed, closed), (State::Open, open), (State::HalfOpen, half_open)] {
            metrics::gauge!(crate::metrics::CALCOM_BREAKERS, "state" => state.as_str()).set(count as f64);
        }
        self.not_closed.send_if_modified(|current| {
            let changed = *current != open + half_open;
            *current = open + half_open;
            changed
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Breaker>> {
        // A panic while holding the lock cannot leave a breaker half-written
        // (every update is one assignment), so a poisoned lock is still good.
        self.breakers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantId {
        TenantId(uuid::Uuid::now_v7())
    }

    const OPEN_FOR: Duration = Duration::from_millis(150);

    #[tokio::test]
    async fn opens_after_the_threshold_and_closes_after_a_good_trial() {
        let breakers = Breakers::new(3, OPEN_FOR);
        let t = tenant();
        for _ in 0..2 {
            breakers.permit(t).unwrap();
            breakers.record(t, Err(&CalcomError::Timeout));
        }
        assert_eq!(breakers.state(t), State::Closed);
        breakers.permit(t).unwrap();
        breakers.record(t, Err(&CalcomError::Server { status: 503 }));
        assert_eq!(breakers.state(t), State::Open);
        assert!(matches!(breakers.permit(t), Err(CalcomError::CircuitOpen { .. })));
        assert_eq!(*breakers.watch_not_closed().borrow(), 1);

        tokio::time::sleep(OPEN_FOR + Duration::from_millis(50)).await;
        assert_eq!(breakers.state(t), State::HalfOpen);
        breakers.permit(t).unwrap();
        // One trial at a time.
        assert!(breakers.permit(t).is_err());
        breakers.record(t, Ok(()));
        assert_eq!(breakers.state(t), State::Closed);
        assert_eq!(*breakers.watch_not_closed().borrow(), 0);
    }

    #[tokio::test]
    async fn a_failed_trial_reopens_and_retry_after_lengthens_the_open_period() {
        let breakers = Breakers::new(1, OPEN_FOR);
        let t = tenant();
        breakers.permit(t).unwrap();
        breakers.record(t, Err(&CalcomError::RateLimited { retry_after: Duration::from_millis(600) }));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(breakers.state(t), State::Open, "Cal.com asked for 600 ms");
        tokio::time::sleep(Duration::from_millis(400)).await;
        breakers.permit(t).unwrap();
        breakers.record(t, Err(&CalcomError::Timeout));
        assert_eq!(breakers.state(t), State::Open);
    }

    #[tokio::test]
    async fn refusals_are_not_outages_and_tenants_are_separate() {
        let breakers = Breakers::new(1, OPEN_FOR);
        let (a, b) = (tenant(), tenant());
        breakers.permit(a).unwrap();
        breakers.record(a, Err(&CalcomError::Auth { status: 401, message: "Invalid API Key".into() }));
        assert_eq!(breakers.state(a), State::Closed);
        breakers.record(b, Err(&CalcomError::Unreachable("connection refused".into())));
        assert_eq!((breakers.state(a), breakers.state(b)), (State::Closed, State::Open));
        assert_eq!(breakers.counts(), (1, 1, 0));
    }
}
