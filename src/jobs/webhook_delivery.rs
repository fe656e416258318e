//! The outbound webhook worker: claims due deliveries, POSTs them, records
//! each attempt and schedules the next one.
//!
//! Safe in every replica at once: a claim is a lease on the delivery row
//! (PostgreSQL: FOR UPDATE SKIP LOCKED, so workers never wait for each other
//! or take the same row). The POST runs outside any transaction. A worker
//! that dies mid-POST leaves its lease behind; when the lease runs out,
//! another worker (or this one after a restart) sends the event again:
//! delivery is at least once, and receivers deduplicate by webhook-id.
//!
//! Fair to every tenant: each POST runs in its own task, so a pass never
//! waits for the slowest destination; at most `webhook_max_in_flight` POSTs
//! run at once, and at most `webhook_max_in_flight_per_destination` to one
//! subscription. A destination at its cap is left out of the next claims, so
//! a receiver that hangs (each attempt then takes the full timeout) holds a
//! few slots, and every other tenant's events go out meanwhile.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

use chrono::Utc;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::domain::ids::{SubscriptionId, TenantId};
use crate::domain::webhook::{EventType, SubscriptionState};
use crate::error::{Error, Result};
use crate::store::deliveries::{self, AttemptOutcome, AttemptResult, DueDelivery};
use crate::store::{Store, retry, subscriptions};
use crate::webhooks::sender::{Outcome, Outgoing, Sender};
use crate::webhooks::sign::SigningKey;

/// How often the worker looks for due deliveries when the last pass found none.
const POLL: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct Worker {
    store: Store,
    sender: Sender,
    schedule: Vec<Duration>,
    lease: Duration,
    /// One permit per POST in flight.
    in_flight: Arc<Semaphore>,
    /// POSTs in flight per subscription.
    per_destination: Arc<Mutex<HashMap<Uuid, usize>>>,
    max_per_destination: usize,
    /// Wakes the loop when a POST finishes (a slot is free again).
    finished: Arc<Notify>,
}

impl Worker {
    pub fn new(store: Store, config: &Config) -> Self {
        let timeout = config.webhook_attempt_timeout();
        Self {
            store,
            sender: Sender::with_timeout(config.webhook_allow_http_loopback, timeout),
            schedule: config.webhook_retry_schedule_secs.iter().map(|s| Duration::from_secs(*s)).collect(),
            // Longer than any attempt can take, so a live worker's lease
            // never runs out under it.
            lease: timeout * 2 + Duration::from_secs(1),
            in_flight: Arc::new(Semaphore::new(config.webhook_max_in_flight.max(1))),
            per_destination: Arc::default(),
            max_per_destination: config.webhook_max_in_flight_per_destination.max(1),
            finished: Arc::new(Notify::new()),
        }
    }

    /// Runs forever; errors (a database outage) are logged and retried.
    pub async fn run(self) {
        loop {
            match self.dispatch_due().await {
                Ok(0) => {
                    // Nothing to start: wait for a poll, or for a slot to free up.
                    tokio::select! {
                        () = tokio::time::sleep(POLL) => {}
                        () = self.finished.notified() => {}
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "webhook delivery pass failed; retrying");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// One pass: claims what is due and may go out now (free slots, no
    /// destination over its cap) and starts each POST in a task of its own.
    /// Returns how many it started.
    pub async fn dispatch_due(&self) -> Result<usize> {
        let free = self.in_flight.available_permits();
        if free == 0 {
            return Ok(0);
        }
        let (busy, in_flight) = {
            let counts = self.per_destination.lock().map_err(|_| Error::Internal("poisoned".into()))?;
            let busy: Vec<Uuid> =
                counts.iter().filter(|(_, n)| **n >= self.max_per_destination).map(|(id, _)| *id).collect();
            (busy, counts.clone())
        };
        let cap = self.max_per_destination;
        let due = retry(|| async {
            let tx = self.store.platform().await?;
            let mut picked: HashMap<Uuid, usize> = HashMap::new();
            let admit = |subscription_id: Uuid| {
                let taken = picked.entry(subscription_id).or_insert(0);
                let ok = in_flight.get(&subscription_id).copied().unwrap_or(0) + *taken < cap;
                *taken += usize::from(ok);
                ok
            };
            let due = deliveries::claim_due(&tx, self.lease, free as u64, &busy, admit).await?;
            tx.commit().await?;
            Ok(due)
        })
        .await?;
        let count = due.len();
        for delivery in due {
            let Ok(permit) = self.in_flight.clone().try_acquire_owned() else { break };
            let destination = delivery.subscription.id;
            self.count(destination, 1);
            let worker = self.clone();
            tokio::spawn(async move {
                if let Err(err) = worker.deliver(&delivery).await {
                    // The lease runs out and the delivery is tried again.
                    tracing::warn!(error = %err, "could not record a webhook attempt");
                }
                worker.count(destination, -1);
                drop(permit);
                worker.finished.notify_one();
            });
        }
        Ok(count)
    }

    /// Moves a destination's in-flight count by `by`.
    fn count(&self, destination: Uuid, by: isize) {
        if let Ok(mut counts) = self.per_destination.lock() {
            let n = counts.entry(destination).or_insert(0);
            *n = n.saturating_add_signed(by);
            if *n == 0 {
                counts.remove(&destination);
            }
        }
    }

    async fn deliver(&self, due: &DueDelivery) -> Result<()> {
        let tenant = TenantId(due.delivery.tenant_id);
        let subscription = &due.subscription;
        let is_test = due.event.event_type == EventType::WebhookTest.as_str();
        let active = SubscriptionState::from_stored(&subscription.state) == SubscriptionState::Active
            && subscription.delete_time.is_none();
        let started = Utc::now();
        let (outcome, latency) = if active || is_test {
            let keys: Vec<SigningKey> = subscriptions::signing_secrets(self.store.secrets(), subscription, started)?
                .iter()
                .filter_map(|secret| SigningKey::from_secret(secret.expose_secret()).ok())
                .collect();
            let event_id = due.event.id.to_string();
            let outgoing = Outgoing {
                url: &subscription.url,
                event_id: &event_id,
                body: due.event.payload.as_bytes(),
                keys: &keys,
                request_id: Some(due.event.request_id.as_str()).filter(|id| !id.is_empty()),
            };
            self.sender.post(&outgoing).await
        } else {
            let error = "the subscription is disabled or deleted".to_owned();
            (Outcome::Failed { status: None, error }, Duration::ZERO)
        };
        let position = usize::try_from(due.schedule_position()).unwrap_or(usize::MAX);
        let (result, label, http_status, error) = match &outcome {
            Outcome::Delivered { status } => (AttemptResult::Succeeded, "succeeded", Some(*status), String::new()),
            Outcome::Gone => (AttemptResult::DeadLettered, "gone", Some(410), "the receiver answered 410 Gone".into()),
            Outcome::Failed { status, error } => match self.schedule.get(position).filter(|_| active && !is_test) {
                Some(delay) => {
                    let next_attempt_time = started + with_jitter(*delay);
                    (AttemptResult::Failed { next_attempt_time }, "failed", *status, error.clone())
                }
                None => (AttemptResult::DeadLettered, "dead_lettered", *status, error.clone()),
            },
        };
        metrics::counter!(crate::metrics::WEBHOOK_DELIVERIES_TOTAL, "outcome" => label).increment(1);
        let attempt =
            AttemptOutcome { result, http_status: http_status.map(i32::from), latency, error, attempt_time: started };
        let gone = outcome == Outcome::Gone && !is_test;
        retry(|| async {
            let tx = self.store.write(tenant).await?;
            deliveries::record_outcome(&tx, due.delivery.id, attempt.clone()).await?;
            if gone {
                subscriptions::disable(&tx, SubscriptionId(subscription.id), "receiver answered 410 Gone").await?;
            }
            tx.commit().await
        })
        .await?;
        if gone {
            tracing::info!(subscription = %subscription.id, %tenant, "webhook subscription disabled: 410 Gone");
        }
        Ok(())
    }
}

/// `delay` plus up to 10% random jitter, so retries of many events that
/// failed together do not arrive together.
fn with_jitter(delay: Duration) -> chrono::TimeDelta {
    let jitter_ms = rand::random_range(0..=delay.as_millis() as u64 / 10);
    chrono::TimeDelta::from_std(delay + Duration::from_millis(jitter_ms)).unwrap_or(chrono::TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_adds_at_most_a_tenth() {
        for _ in 0..200 {
            let delayed = with_jitter(Duration::from_secs(300)).num_milliseconds();
            assert!((300_000..=330_000).contains(&delayed), "{delayed}");
        }
        assert_eq!(with_jitter(Duration::ZERO).num_milliseconds(), 0);
    }
}
