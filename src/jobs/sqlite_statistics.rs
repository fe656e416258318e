//! Keeps SQLite's planner statistics fresh as data grows (see
//! `Store::refresh_statistics`). Does nothing on PostgreSQL.
use std::time::Duration;

use crate::store::Store;

const EVERY: Duration = Duration::from_secs(3600);

pub async fn run_periodically(store: Store) {
    let mut ticker = tokio::time::interval(EVERY);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        if let Err(err) = store.refresh_statistics().await {
            tracing::warn!(error = %err, "refreshing SQLite statistics failed; retrying next hour");
        }
    }
}
