//! Prometheus metrics: the names every part of the server records under, and
//! the one process-wide recorder that `GET /metrics` renders.
//!
//! Labels stay bounded: `method` is a known gRPC path (anything else is
//! "unknown"), `code` a gRPC status name, `limit` "api_key" or "tenant".
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Calls finished, by `method` (gRPC path) and `code` (OK, NOT_FOUND, ...).
pub const REQUESTS_TOTAL: &str = "askpro_grpc_requests_total";
/// Call latency in seconds (to the response headers), by `method`.
pub const REQUEST_DURATION_SECONDS: &str = "askpro_grpc_request_duration_seconds";
/// Calls being served right now.
pub const REQUESTS_IN_FLIGHT: &str = "askpro_grpc_requests_in_flight";
/// Calls refused with RESOURCE_EXHAUSTED, by `limit` (api_key, tenant).
pub const RATE_LIMIT_REJECTIONS_TOTAL: &str = "askpro_rate_limit_rejections_total";
/// Rate-limit decisions made in-process because Redis was unreachable.
pub const RATE_LIMIT_FALLBACK_TOTAL: &str = "askpro_rate_limit_fallback_total";
/// Calls shed with UNAVAILABLE at the server's concurrency limit.
pub const LOAD_SHED_TOTAL: &str = "askpro_load_shed_total";
pub const UNAUTHENTICATED_REFUSED_TOTAL: &str = "askpro_unauthenticated_refused_total";
/// Database pool connections, by `state` (idle, in_use).
pub const DB_POOL_CONNECTIONS: &str = "askpro_db_pool_connections";
/// The database pool's configured maximum.
pub const DB_POOL_MAX_CONNECTIONS: &str = "askpro_db_pool_max_connections";
/// Cache lookups answered from the cache, by `cache`.
pub const CACHE_HITS_TOTAL: &str = "askpro_cache_hits_total";
/// Cache lookups that went to the database, by `cache`.
pub const CACHE_MISSES_TOTAL: &str = "askpro_cache_misses_total";
/// Entries a cache dropped to stay within its bound.
pub const CACHE_EVICTIONS_TOTAL: &str = "askpro_cache_evictions_total";
/// Entries a cache holds.
pub const CACHE_ENTRIES: &str = "askpro_cache_entries";
/// Holds not yet expired, converted or released, over all tenants.
pub const HOLDS_ACTIVE: &str = "askpro_holds_active";
/// 1 while a dependency answers its health check, 0 while not, by `component`
/// (database, redis).
pub const DEPENDENCY_UP: &str = "askpro_dependency_up";

/// Statements this process sent to the database (transaction control not
/// counted): a cost per call that does not depend on the machine's load.
pub const DB_STATEMENTS_TOTAL: &str = "askpro_db_statements_total";
/// Cache warm-ups finished (at start, or asked for by `askpro warm-caches`).
pub const CACHE_WARM_UPS_TOTAL: &str = "askpro_cache_warm_ups_total";
/// CPU time (user + system) of the server process, in seconds (the name every
/// Prometheus client library uses for it).
pub const PROCESS_CPU_SECONDS_TOTAL: &str = "process_cpu_seconds_total";
/// Resident memory of the server process, in bytes.
pub const PROCESS_RESIDENT_MEMORY_BYTES: &str = "process_resident_memory_bytes";

/// Webhook deliveries waiting for an attempt (due now or scheduled), over all tenants.
pub const WEBHOOK_OUTBOX_DEPTH: &str = "askpro_webhook_outbox_depth";
/// Webhook delivery attempts, by `outcome` (succeeded, failed, dead_lettered, gone).
pub const WEBHOOK_DELIVERIES_TOTAL: &str = "askpro_webhook_deliveries_total";
/// Calls to Cal.com, by `operation` and `outcome` (ok, or the error kind).
pub const CALCOM_CALLS_TOTAL: &str = "askpro_calcom_calls_total";
/// Cal.com circuit breakers on this replica, by `state` (closed, open, half_open).
pub const CALCOM_BREAKERS: &str = "askpro_calcom_breakers";
/// Cal.com circuit breaker changes, by the state changed `to`.
pub const CALCOM_BREAKER_TRANSITIONS_TOTAL: &str = "askpro_calcom_breaker_transitions_total";
/// Cal.com sync attempts, by `outcome` (synced, retry, dead_lettered, deferred).
pub const CALCOM_SYNCS_TOTAL: &str = "askpro_calcom_syncs_total";
/// Age in seconds of the Cal.com busy times the last slot list used.
pub const CALCOM_BUSY_AGE_SECONDS: &str = "askpro_calcom_busy_age_seconds";
/// Appointments waiting to be synced to Cal.com, over all tenants.
pub const CALCOM_SYNC_PENDING: &str = "askpro_calcom_sync_pending";

/// Latency buckets in seconds: from sub-millisecond cache hits to calls that
/// run into a default deadline.
const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder, installed on first use. Several servers in
/// one process (tests) share it.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION_SECONDS.into()), &LATENCY_BUCKETS)
            .expect("latency buckets are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder installed first (a library's test) leaves ours
        // unregistered; /metrics then shows what it has.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
        }
        describe();
        handle
    })
}

/// The `# HELP` lines of the exposition.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(REQUESTS_TOTAL, "gRPC calls finished, by method and status code");
    describe_histogram!(REQUEST_DURATION_SECONDS, Unit::Seconds, "gRPC call latency to the response headers");
    describe_gauge!(REQUESTS_IN_FLIGHT, "gRPC calls being served");
    describe_counter!(RATE_LIMIT_REJECTIONS_TOTAL, "calls refused by a rate limit, by limit (api_key, tenant)");
    describe_counter!(RATE_LIMIT_FALLBACK_TOTAL, "rate-limit decisions made in-process because Redis was unreachable");
    describe_counter!(LOAD_SHED_TOTAL, "calls shed at the server's concurrency limit, by budget");
    describe_counter!(
        UNAUTHENTICATED_REFUSED_TOTAL,
        "requests refused before any lookup because their client address failed too often"
    );
    describe_gauge!(DB_POOL_CONNECTIONS, "database pool connections, by state (idle, in_use)");
    describe_gauge!(DB_POOL_MAX_CONNECTIONS, "the database pool's maximum size");
    describe_counter!(CACHE_HITS_TOTAL, "cache lookups answered from the cache, by cache");
    describe_counter!(CACHE_MISSES_TOTAL, "cache lookups that went to the database, by cache");
    describe_counter!(CACHE_EVICTIONS_TOTAL, "entries a cache dropped to stay within its bound, by cache");
    describe_gauge!(CACHE_ENTRIES, "entries a cache holds, by cache");
    describe_gauge!(HOLDS_ACTIVE, "holds not yet expired, booked or released, over all tenants");
    describe_gauge!(DEPENDENCY_UP, "1 while a dependency passes its health check, by component");
    describe_gauge!(WEBHOOK_OUTBOX_DEPTH, "webhook deliveries waiting for an attempt, over all tenants");
    describe_counter!(WEBHOOK_DELIVERIES_TOTAL, "webhook delivery attempts, by outcome");
    describe_counter!(CALCOM_CALLS_TOTAL, "calls to Cal.com, by operation and outcome");
    describe_gauge!(CALCOM_BREAKERS, "Cal.com circuit breakers on this replica, by state");
    describe_counter!(CALCOM_BREAKER_TRANSITIONS_TOTAL, "Cal.com circuit breaker changes, by new state");
    describe_counter!(CALCOM_SYNCS_TOTAL, "Cal.com sync attempts, by outcome");
    describe_gauge!(CALCOM_BUSY_AGE_SECONDS, "age of the Cal.com busy times the last slot list used");
    describe_gauge!(CALCOM_SYNC_PENDING, "appointments waiting to be synced to Cal.com, over all tenants");
    describe_counter!(DB_STATEMENTS_TOTAL, "statements sent to the database (BEGIN and COMMIT not counted)");
    describe_counter!(CACHE_WARM_UPS_TOTAL, "cache warm-ups finished");
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let handle = handle();
    metrics::counter!(DB_STATEMENTS_TOTAL).absolute(crate::store::statements_sent());
    handle.run_upkeep();
    let mut page = handle.render();
    append_process_usage(&mut page);
    page
}

/// The process's CPU seconds and resident bytes, read when the page is
/// rendered. Written as text: the recorder's counters hold whole numbers,
/// and CPU seconds are fractional.
fn append_process_usage(page: &mut String) {
    use std::fmt::Write;
    if !page.is_empty() && !page.ends_with('\n') {
        page.push('\n');
    }
    if let Some(cpu) = crate::process_usage::cpu_time() {
        let _ = write!(
            page,
            "# HELP {PROCESS_CPU_SECONDS_TOTAL} CPU time (user + system) of the process in seconds\n\
             # TYPE {PROCESS_CPU_SECONDS_TOTAL} counter\n{PROCESS_CPU_SECONDS_TOTAL} {}\n",
            cpu.as_secs_f64()
        );
    }
    if let Some(bytes) = crate::process_usage::resident_bytes() {
        let _ = write!(
            page,
            "# HELP {PROCESS_RESIDENT_MEMORY_BYTES} resident memory of the process in bytes\n\
             # TYPE {PROCESS_RESIDENT_MEMORY_BYTES} gauge\n{PROCESS_RESIDENT_MEMORY_BYTES} {bytes}\n"
        );
    }
}
