//! Idempotency records are kept `idempotency_retention_hours` (72 by
//! default): long enough for any client's retries, not forever (they hold
//! the first answers of create calls, with the personal data in them).
//! Deleted hourly; several replicas doing it at once only repeat each other.
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::store::{Store, idempotency, now};

const EVERY: Duration = Duration::from_secs(3600);

/// One pass: removes the records made before `before`; returns how many.
pub async fn run_once(store: &Store, before: DateTime<Utc>) -> Result<u64> {
    let tx = store.platform().await?;
    let purged = idempotency::purge_everywhere(&tx, before).await?;
    tx.commit().await?;
    Ok(purged)
}

/// Runs forever, hourly, keeping `hours` hours (at least one).
pub async fn run_periodically(store: Store, hours: u32) {
    let keep = chrono::Duration::hours(i64::from(hours.max(1)));
    let mut ticker = tokio::time::interval(EVERY);
    loop {
        ticker.tick().await;
        match run_once(&store, now() - keep).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(records = purged, "removed idempotency records past their retention"),
            Err(err) => tracing::warn!(error = %err, "idempotency retention pass failed; retrying next hour"),
        }
    }
}
