//! `GET /metrics`: the Prometheus text exposition on the main port. Gauges
//! that live elsewhere (the database pool, active holds) are read at scrape
//! time, so they are as fresh as the scrape.
use std::time::Duration;

use axum::extract::State;
use axum::response::IntoResponse;
use sea_orm::DbBackend;

use super::AppState;
use crate::metrics as names;
use crate::store::{deliveries, holds};

/// The longest a scrape waits for the counts from the database; a slow or
/// absent database leaves the gauges at their last values rather than
/// stalling Prometheus.
const COUNT_TIMEOUT: Duration = Duration::from_secs(1);

pub async fn scrape(State(state): State<AppState>) -> impl IntoResponse {
    record_pool(&state);
    match tokio::time::timeout(COUNT_TIMEOUT, counts(&state)).await {
        Ok(Ok((live_holds, outbox_depth))) => {
            metrics::gauge!(names::HOLDS_ACTIVE).set(live_holds as f64);
            metrics::gauge!(names::WEBHOOK_OUTBOX_DEPTH).set(outbox_depth as f64);
        }
        Ok(Err(err)) => tracing::debug!(error = %err, "database gauges not refreshed for this scrape"),
        Err(_) => tracing::debug!("database gauges not refreshed for this scrape: timed out"),
    }
    ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], crate::metrics::render())
}

fn record_pool(state: &AppState) {
    let db = state.store.connection();
    let (size, idle) = match state.store.backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    let idle = idle as f64;
    metrics::gauge!(names::DB_POOL_CONNECTIONS, "state" => "idle").set(idle);
    metrics::gauge!(names::DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(size) - idle);
    metrics::gauge!(names::DB_POOL_MAX_CONNECTIONS).set(f64::from(state.config.database_pool_size()));
}

/// Active holds and waiting webhook deliveries, over all tenants.
async fn counts(state: &AppState) -> crate::error::Result<(u64, u64)> {
    let tx = state.store.platform_read().await?;
    let live = holds::count_live(&tx, chrono::Utc::now()).await?;
    let waiting = deliveries::count_pending(&tx).await?;
    tx.commit().await?;
    Ok((live, waiting))
}
