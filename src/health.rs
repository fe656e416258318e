//! Dependency health: the database (and Redis, when configured) checked every
//! `health_check_interval_secs`, published to gRPC health, the
//! `askpro_dependency_up` gauge and `GET /health`.
//!
//! Only the database decides SERVING / NOT_SERVING: without it no call can
//! succeed. Redis down only degrades the server (rate limits fall back
//! in-process); pulling every replica out of the load balancer for it would
//! turn a degraded service into an outage.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, DbErr, RuntimeErr};
use secrecy::ExposeSecret;
use serde::Serialize;
use tokio::time::{Instant, MissedTickBehavior, timeout};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::config::Config;
use crate::proto::SERVICE_NAMES;
use crate::store::Store;

/// A check never takes longer than this, whatever the interval: a probe that
/// hangs on a dead database must still report it as down promptly.
const MAX_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

const DATABASE: &str = "database";
const REDIS: &str = "redis";

/// Checks dependencies in the background and keeps the last result. Cheap to
/// clone; all clones share one state.
#[derive(Clone)]
pub struct HealthMonitor {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    redis: Option<RedisProbe>,
    reporter: HealthReporter,
    interval: Duration,
    check_timeout: Duration,
    components: Mutex<BTreeMap<&'static str, ComponentState>>,
    /// Serializes updates of the gRPC statuses, so a check finishing after
    /// `drain` cannot flip the server back to SERVING.
    published: tokio::sync::Mutex<Option<ServingStatus>>,
    draining: AtomicBool,
}

impl HealthMonitor {
    /// Nothing is checked yet (components are "unknown"): call
    /// [`check_now`](Self::check_now) before serving so the first status is
    /// measured, not assumed. Redis is not contacted here, so a down Redis
    /// never delays start.
    pub fn new(store: &Store, config: &Config, reporter: HealthReporter) -> Self {
        let interval = Duration::from_secs(config.health_check_interval_secs.max(1));
        let redis = config.redis_url.as_ref().map(|url| RedisProbe::new(url.expose_secret()));
        let mut components = BTreeMap::from([(DATABASE, ComponentState::default())]);
        if redis.is_some() {
            components.insert(REDIS, ComponentState::default());
        }
        let inner = Inner {
            store: store.clone(),
            redis,
            reporter,
            interval,
            check_timeout: interval.min(MAX_CHECK_TIMEOUT),
            components: Mutex::new(components),
            published: tokio::sync::Mutex::new(None),
            draining: AtomicBool::new(false),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Checks every dependency once (concurrently, each bounded by the check
    /// timeout) and publishes the result.
    pub async fn check_now(&self) {
        let inner = &self.inner;
        let redis = async {
            match &inner.redis {
                Some(probe) => Some(timed(inner.check_timeout, probe.ping()).await),
                None => None,
            }
        };
        let (database, redis) = tokio::join!(timed(inner.check_timeout, ping_database(&inner.store)), redis);
        self.record(DATABASE, database);
        if let Some(redis) = redis {
            self.record(REDIS, redis);
        }
        let wanted = if database.error.is_none() { ServingStatus::Serving } else { ServingStatus::NotServing };
        self.publish(wanted).await;
    }

    /// Checks every `health_check_interval_secs` until draining starts.
    /// The first check comes one interval from now (`check_now` did the one
    /// at start).
    pub async fn run_periodically(self) {
        let interval = self.inner.interval;
        let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if self.is_draining() {
                return;
            }
            self.check_now().await;
        }
    }

    /// Shutdown has begun: reports NOT_SERVING for good, whatever the
    /// dependencies say, so load balancers stop sending new calls.
    pub async fn drain(&self) {
        let mut published = self.inner.published.lock().await;
        self.inner.draining.store(true, Ordering::SeqCst);
        set_all(&self.inner.reporter, ServingStatus::NotServing).await;
        *published = Some(ServingStatus::NotServing);
    }

    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::SeqCst)
    }

    /// The last result of every check; no dependency is contacted.
    pub fn report(&self) -> HealthReport {
        let components = self.inner.components.lock().unwrap_or_else(PoisonError::into_inner);
        let components: BTreeMap<_, _> = components.iter().map(|(name, state)| (*name, state.report())).collect();
        let is_up = |name| components.get(name).is_some_and(|c: &ComponentReport| c.status == ComponentStatus::Up);
        let draining = self.is_draining();
        let status = if draining || !is_up(DATABASE) {
            OverallStatus::NotServing
        } else if components.keys().all(|name| is_up(name)) {
            OverallStatus::Serving
        } else {
            OverallStatus::Degraded
        };
        HealthReport { status, draining, components }
    }

    fn record(&self, name: &'static str, check: Check) {
        let up = check.error.is_none();
        metrics::gauge!(crate::metrics::DEPENDENCY_UP, "component" => name).set(if up { 1.0 } else { 0.0 });
        let mut components = self.inner.components.lock().unwrap_or_else(PoisonError::into_inner);
        let state = components.entry(name).or_default();
        let was_up = state.last.map(|last| last.error.is_none());
        // Log transitions only: a dependency down for an hour is one warning,
        // not one per interval.
        match (was_up, check.error) {
            (Some(true) | None, Some(error)) => tracing::warn!(component = name, error, "dependency is down"),
            (Some(false), None) => {
                tracing::info!(component = name, failed_checks = state.consecutive_failures, "dependency is back up")
            }
            _ => {}
        }
        state.consecutive_failures = if up { 0 } else { state.consecutive_failures.saturating_add(1) };
        state.last_error = check.error.or(state.last_error);
        state.last = Some(check);
    }

    async fn publish(&self, wanted: ServingStatus) {
        let mut published = self.inner.published.lock().await;
        if self.is_draining() || *published == Some(wanted) {
            return;
        }
        set_all(&self.inner.reporter, wanted).await;
        *published = Some(wanted);
    }
}

/// The server ("") and every AskPro service share one status: they all stand
/// or fall with the database.
async fn set_all(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for name in SERVICE_NAMES {
        reporter.set_service_status(name, status).await;
    }
}

/// One check's outcome. `error` is a short kind ("timeout", "connection", ...),
/// never a message: driver messages can carry host names or URLs.
#[derive(Clone, Copy, Debug)]
struct Check {
    error: Option<&'static str>,
    latency: Duration,
    checked_at: DateTime<Utc>,
}

async fn timed(limit: Duration, probe: impl Future<Output = Result<(), &'static str>>) -> Check {
    let started = Instant::now();
    let error = match timeout(limit, probe).await {
        Ok(result) => result.err(),
        Err(_) => Some("timeout"),
    };
    Check { error, latency: started.elapsed(), checked_at: Utc::now() }
}

/// The pool waits up to its acquire timeout (5 s) for a connection; the
/// caller's `timeout` cuts that short.
async fn ping_database(store: &Store) -> Result<(), &'static str> {
    store.connection().execute_unprepared("SELECT 1").await.map(drop).map_err(|e| database_error_kind(&e))
}

fn database_error_kind(err: &DbErr) -> &'static str {
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => "connection",
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => "connection",
            _ => "query",
        },
        _ => "query",
    }
}

/// PINGs Redis over one multiplexed connection, opened on first use and
/// dropped after any failure so the next check reconnects. (Not a
/// `ConnectionManager`: a health check wants Redis's state now, not after a
/// reconnect backoff.)
struct RedisProbe {
    /// `None` when the URL does not parse; reported as "invalid_url".
    client: Option<redis::Client>,
    connection: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
}

impl RedisProbe {
    fn new(url: &str) -> Self {
        Self { client: redis::Client::open(url).ok(), connection: tokio::sync::Mutex::new(None) }
    }

    async fn ping(&self) -> Result<(), &'static str> {
        let client = self.client.as_ref().ok_or("invalid_url")?;
        let mut slot = self.connection.lock().await;
        // Taken out of the slot: if this check fails or times out, it is not put back.
        let mut connection = match slot.take() {
            Some(connection) => connection,
            None => client.get_multiplexed_async_connection().await.map_err(|e| redis_error_kind(&e))?,
        };
        let _: String = redis::cmd("PING").query_async(&mut connection).await.map_err(|e| redis_error_kind(&e))?;
        *slot = Some(connection);
        Ok(())
    }
}

fn redis_error_kind(err: &redis::RedisError) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connection_refusal() {
        "connection_refused"
    } else if err.is_io_error() {
        "connection"
    } else if err.kind() == redis::ErrorKind::AuthenticationFailed {
        "authentication"
    } else {
        "response"
    }
}

#[derive(Clone, Debug, Default)]
struct ComponentState {
    last: Option<Check>,
    consecutive_failures: u32,
    last_error: Option<&'static str>,
}

impl ComponentState {
    fn report(&self) -> ComponentReport {
        let status = match self.last {
            None => ComponentStatus::Unknown,
            Some(Check { error: None, .. }) => ComponentStatus::Up,
            Some(_) => ComponentStatus::Down,
        };
        ComponentReport {
            status,
            // Rounded to microseconds: more digits are noise.
            latency_ms: self.last.map(|c| (c.latency.as_secs_f64() * 1e6).round() / 1e3),
            checked_at: self.last.map(|c| c.checked_at.to_rfc3339_opts(SecondsFormat::Millis, true)),
            consecutive_failures: self.consecutive_failures,
            last_error: self.last_error,
        }
    }
}

/// The body of `GET /health`. Field names and values are a contract (probes
/// and dashboards parse them); every field is always present.
///
/// - `status`: `"serving"` (every dependency up), `"degraded"` (database up,
///   Redis down: calls work, rate limits are per process) or `"not_serving"`
///   (database down or not yet checked, or draining). HTTP 200 for the first
///   two, 503 for the last.
/// - `draining`: `true` once shutdown has begun.
/// - `components`: `"database"` always, `"redis"` only when `redis_url` is
///   set; each a [`ComponentReport`].
#[derive(Clone, Debug, Serialize)]
pub struct HealthReport {
    pub status: OverallStatus,
    pub draining: bool,
    pub components: BTreeMap<&'static str, ComponentReport>,
}

impl HealthReport {
    pub fn http_status(&self) -> http::StatusCode {
        match self.status {
            OverallStatus::Serving | OverallStatus::Degraded => http::StatusCode::OK,
            OverallStatus::NotServing => http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverallStatus {
    Serving,
    Degraded,
    NotServing,
}

/// One dependency in [`HealthReport`]:
///
/// - `status`: `"up"`, `"down"` or `"unknown"` (not checked yet).
/// - `latency_ms`: how long the last check took, in milliseconds (a timed-out
///   check shows the timeout); `null` before the first check.
/// - `checked_at`: when the last check finished, RFC 3339 UTC; `null` before
///   the first check.
/// - `consecutive_failures`: failed checks since the last success.
/// - `last_error`: the kind of the most recent failure (`"timeout"`,
///   `"connection"`, `"connection_refused"`, `"query"`, `"authentication"`,
///   `"response"`, `"invalid_url"`), kept after recovery; `null` if none.
///   Never a message, URL or password.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentReport {
    pub status: ComponentStatus,
    pub latency_ms: Option<f64>,
    pub checked_at: Option<String>,
    pub consecutive_failures: u32,
    pub last_error: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Up,
    Down,
    Unknown,
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use tonic::Request;
    use tonic_health::pb::health_server::Health;
    use tonic_health::pb::{HealthCheckRequest, health_check_response};
    use tonic_health::server::HealthService;

    use super::*;

    struct Fixture {
        monitor: HealthMonitor,
        service: HealthService,
        _dir: tempfile::TempDir,
    }

    async fn fixture(redis_url: Option<&str>) -> Fixture {
        let dir = tempfile::tempdir().expect("temporary folder");
        let config = Config {
            database_url: SecretString::from(format!("sqlite://{}?mode=rwc", dir.path().join("h.db").display())),
            redis_url: redis_url.map(|url| SecretString::from(url.to_owned())),
            health_check_interval_secs: 1,
            ..Config::default()
        };
        let store = Store::connect(&config).await.expect("sqlite connects");
        let reporter = HealthReporter::new();
        let service = HealthService::from_health_reporter(reporter.clone());
        Fixture { monitor: HealthMonitor::new(&store, &config, reporter), service, _dir: dir }
    }

    async fn grpc_status(service: &HealthService, name: &str) -> health_check_response::ServingStatus {
        let request = Request::new(HealthCheckRequest { service: name.into() });
        let response = service.check(request).await.expect("known service").into_inner();
        health_check_response::ServingStatus::try_from(response.status).expect("known status")
    }

    /// A port nothing listens on: bound, then released.
    async fn closed_port() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("address").port()
    }

    #[tokio::test]
    async fn nothing_is_claimed_before_the_first_check() {
        let f = fixture(None).await;
        let report = f.monitor.report();
        assert_eq!(report.status, OverallStatus::NotServing);
        assert_eq!(report.components[DATABASE].status, ComponentStatus::Unknown);
        assert!(report.components[DATABASE].checked_at.is_none());
        assert!(!report.components.contains_key(REDIS), "redis is listed only when configured");
    }

    #[tokio::test]
    async fn a_reachable_database_makes_every_service_serving() {
        let f = fixture(None).await;
        f.monitor.check_now().await;
        let report = f.monitor.report();
        assert_eq!(report.status, OverallStatus::Serving);
        assert_eq!(report.http_status(), http::StatusCode::OK);
        let database = &report.components[DATABASE];
        assert_eq!(database.status, ComponentStatus::Up);
        assert_eq!(database.consecutive_failures, 0);
        assert!(database.latency_ms.is_some_and(|ms| ms >= 0.0));
        let checked_at = database.checked_at.as_deref().expect("checked");
        DateTime::parse_from_rfc3339(checked_at).expect("RFC 3339");
        for name in std::iter::once("").chain(SERVICE_NAMES) {
            assert_eq!(grpc_status(&f.service, name).await, health_check_response::ServingStatus::Serving, "{name:?}");
        }
    }

    #[tokio::test]
    async fn redis_down_degrades_without_leaving_serving_and_hides_the_password() {
        let url = format!("redis://:hunter2@127.0.0.1:{}/", closed_port().await);
        let f = fixture(Some(&url)).await;
        f.monitor.check_now().await;
        f.monitor.check_now().await;
        let report = f.monitor.report();
        assert_eq!(report.status, OverallStatus::Degraded);
        assert_eq!(report.http_status(), http::StatusCode::OK);
        let redis = &report.components[REDIS];
        assert_eq!(redis.status, ComponentStatus::Down);
        assert_eq!(redis.consecutive_failures, 2);
        assert!(redis.last_error.is_some());
        assert_eq!(grpc_status(&f.service, "").await, health_check_response::ServingStatus::Serving);
        let json = serde_json::to_string(&report).expect("serializes");
        assert!(!json.contains("hunter2") && !json.contains("127.0.0.1"), "no URL in the report: {json}");
    }

    #[tokio::test]
    async fn checks_after_drain_do_not_bring_the_server_back() {
        let f = fixture(None).await;
        f.monitor.check_now().await;
        f.monitor.drain().await;
        f.monitor.check_now().await;
        let report = f.monitor.report();
        assert!(report.draining);
        assert_eq!(report.status, OverallStatus::NotServing);
        assert_eq!(report.http_status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(report.components[DATABASE].status, ComponentStatus::Up, "the database itself is still up");
        for name in std::iter::once("").chain(SERVICE_NAMES) {
            assert_eq!(grpc_status(&f.service, name).await, health_check_response::ServingStatus::NotServing);
        }
    }

    #[test]
    fn the_json_field_names_are_stable() {
        let state = ComponentState {
            last: Some(Check { error: Some("timeout"), latency: Duration::from_micros(1500), checked_at: Utc::now() }),
            consecutive_failures: 3,
            last_error: Some("timeout"),
        };
        let report = HealthReport {
            status: OverallStatus::NotServing,
            draining: false,
            components: BTreeMap::from([(DATABASE, state.report())]),
        };
        let json = serde_json::to_value(&report).expect("serializes");
        assert_eq!(json["status"], "not_serving");
        let database = &json["components"]["database"];
        assert_eq!(database["status"], "down");
        assert_eq!(database["latency_ms"], 1.5);
        assert_eq!(database["consecutive_failures"], 3);
        assert_eq!(database["last_error"], "timeout");
        assert!(database["checked_at"].is_string());
    }
}
