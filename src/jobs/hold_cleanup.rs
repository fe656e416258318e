//! Deletes holds that ended (expired, released or converted) more than an
//! hour ago, and their claims. Correctness never waits for it: an expired
//! hold blocks nothing from the moment it expires. Deleting is idempotent, so
//! several replicas running it at once only repeat each other's work.
use std::time::Duration;

use crate::error::Result;
use crate::store::{Store, holds, now};

/// How long an ended hold stays readable (GetHold) before it is removed.
pub const KEEP_ENDED_FOR: chrono::Duration = chrono::Duration::hours(1);
const EVERY: Duration = Duration::from_secs(60);

/// One pass; returns how many rows were removed.
pub async fn run_once(store: &Store) -> Result<u64> {
    let tx = store.platform().await?;
    let removed = holds::purge_ended_everywhere(&tx, now() - KEEP_ENDED_FOR).await?;
    tx.commit().await?;
    Ok(removed)
}

/// Runs forever, once a minute; errors are logged and the next pass retries.
pub async fn run_periodically(store: Store) {
    let mut ticker = tokio::time::interval(EVERY);
    loop {
        ticker.tick().await;
        match run_once(&store).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed ended holds"),
            Err(err) => tracing::warn!(error = %err, "hold clean-up failed; retrying next minute"),
        }
    }
}
