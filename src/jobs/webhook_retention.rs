//! Keeps the webhook tables from growing without end: outbound events whose
//! deliveries are all finished, with their delivery logs, and inbound inbox
//! records are deleted once they are older than `webhook_retention_days`.
//! Deleting is idempotent, so several replicas running it at once only repeat
//! each other's work.
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::store::{Store, inbound_events, now, outbox};

const EVERY: Duration = Duration::from_secs(3600);

/// What one pass removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub outbound_events: u64,
    pub inbound_events: u64,
}

/// One pass: removes what is older than `before`.
pub async fn run_once(store: &Store, before: DateTime<Utc>) -> Result<Purged> {
    let tx = store.platform().await?;
    let purged = Purged {
        outbound_events: outbox::purge_finished_everywhere(&tx, before).await?,
        inbound_events: inbound_events::purge_everywhere(&tx, before).await?,
    };
    tx.commit().await?;
    Ok(purged)
}

/// Runs forever, hourly, keeping `days` days; zero days keeps everything.
pub async fn run_periodically(store: Store, days: u32) {
    if days == 0 {
        return;
    }
    let mut ticker = tokio::time::interval(EVERY);
    loop {
        ticker.tick().await;
        match run_once(&store, now() - chrono::Duration::days(i64::from(days))).await {
            Ok(Purged { outbound_events: 0, inbound_events: 0 }) => {}
            Ok(purged) => tracing::info!(
                outbound_events = purged.outbound_events,
                inbound_events = purged.inbound_events,
                "removed webhook events past their retention"
            ),
            Err(err) => tracing::warn!(error = %err, "webhook retention pass failed; retrying next hour"),
        }
    }
}
