//! The outbound webhook worker: claims due deliveries, POSTs them, records
//! each attempt and schedules the next one.
//!
//! Safe in every replica at once: a claim is a lease on the delivery row
//! (PostgreSQL: FOR UPDATE SKIP LOCKED, so workers never wait for each other
//! or take the same row). The POST runs outside any transaction. A worker
//! that dies mid-POST leaves its lease behind; when the lease runs out,
//! another worker (or this one after a restart) sends the event again:
//! delivery is at least once, and receivers deduplicate by webhook-id.
use std::time::Duration;

use chrono::Utc;

use crate::config::Config;
use crate::domain::ids::{SubscriptionId, TenantId};
use crate::domain::webhook::{EventType, SubscriptionState};
use crate::error::Result;
use crate::store::deliveries::{self, AttemptOutcome, AttemptResult, DueDelivery};
use crate::store::{Store, retry, subscriptions};
use crate::webhooks::sender::{Outcome, Outgoing, Sender};
use crate::webhooks::sign::SigningKey;

/// Deliveries claimed per pass (and posted concurrently).
const BATCH: u64 = 16;
/// How often the worker looks for due deliveries when the last pass found none.
const POLL: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct Worker {
    store: Store,
    sender: Sender,
    schedule: Vec<Duration>,
    lease: Duration,
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
        }
    }

    /// Runs forever; errors (a database outage) are logged and retried.
    pub async fn run(self) {
        loop {
            match self.deliver_due().await {
                Ok(0) => tokio::time::sleep(POLL).await,
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "webhook delivery pass failed; retrying");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// One pass: claims what is due and delivers it; returns how many.
    pub async fn deliver_due(&self) -> Result<usize> {
        let due = retry(|| async {
            let tx = self.store.platform().await?;
            let due = deliveries::claim_due(&tx, self.lease, BATCH).await?;
            tx.commit().await?;
            Ok(due)
        })
        .await?;
        let count = due.len();
        let results = futures::future::join_all(due.iter().map(|d| self.deliver(d))).await;
        for err in results.into_iter().filter_map(Result::err) {
            // The lease runs out and the delivery is tried again.
            tracing::warn!(error = %err, "could not record a webhook attempt");
        }
        Ok(count)
    }

    async fn deliver(&self, due: &DueDelivery) -> Result<()> {
        let tenant = TenantId(due.delivery.tenant_id);
        let subscription = &due.subscription;
        let is_test = due.event.event_type == EventType::WebhookTest.as_str();
        let active = SubscriptionState::from_stored(&subscription.state) == SubscriptionState::Active
            && subscription.delete_time.is_none();
        let started = Utc::now();
        let (outcome, latency) = if active || is_test {
            let keys: Vec<SigningKey> = subscriptions::signing_secrets(subscription, started)
                .into_iter()
                .filter_map(|secret| SigningKey::from_secret(secret).ok())
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
