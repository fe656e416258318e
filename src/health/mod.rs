//! Health for load balancers and Kubernetes.
//!
//! Readiness: the database (and Redis, when configured) is checked every
//! `health_check_interval_secs` over a connection of the check's own
//! (`probes`), and published to gRPC health for `""`, `"readiness"` and every
//! AskPro service, to the `askpro_dependency_up` gauge and to `GET /health`
//! (also `GET /readyz`). Only the database decides SERVING / NOT_SERVING:
//! without it no call can succeed. Redis down only degrades the server (rate
//! limits fall back in-process); pulling every replica out of the load
//! balancer for it would turn a degraded service into an outage. Shutdown
//! (`drain`) makes readiness NOT_SERVING for good.
//!
//! Cal.com: while any tenant connection's circuit breaker is open (or
//! half-open), `GET /health` lists the component `"calcom"` as `"degraded"`
//! (the server is then degraded, never down: one tenant's broken Cal.com
//! must not take every tenant's bookings out of the load balancer), and the
//! gRPC health service `CALCOM` is NOT_SERVING.
//!
//! Liveness: gRPC health for `"liveness"` (and `GET /livez`) is SERVING for
//! as long as the process answers, whatever its dependencies do and also
//! while it drains: restarting pods does not bring a database back.
mod probes;
mod report;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::time::{Instant, MissedTickBehavior};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::config::Config;
use crate::proto::SERVICE_NAMES;
use probes::{Check, DatabaseProbe, RedisProbe, timed};
use report::ComponentState;
pub use report::{ComponentReport, ComponentStatus, HealthReport, OverallStatus};

/// The gRPC health service name that says only "the process works"
/// (Kubernetes' liveness probe).
pub const LIVENESS: &str = "liveness";
/// The gRPC health service name of readiness; `""` reports the same.
pub const READINESS: &str = "readiness";

/// A check never takes longer than this, whatever the interval: a probe that
/// hangs on a dead database must still report it as down promptly.
const MAX_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

const DATABASE: &str = "database";
const REDIS: &str = "redis";
const CALCOM_COMPONENT: &str = "calcom";
/// The gRPC health service name of the Cal.com integration: SERVING while
/// every tenant connection's circuit breaker is closed.
pub const CALCOM: &str = "askpro.integration.v1.Calcom";

/// Checks dependencies in the background and keeps the last result. Cheap to
/// clone; all clones share one state.
#[derive(Clone)]
pub struct HealthMonitor {
    inner: Arc<Inner>,
}

struct Inner {
    database: DatabaseProbe,
    redis: Option<RedisProbe>,
    reporter: HealthReporter,
    interval: Duration,
    check_timeout: Duration,
    components: Mutex<BTreeMap<&'static str, ComponentState>>,
    /// Serializes updates of the gRPC statuses, so a check finishing after
    /// `drain` cannot flip the server back to SERVING.
    published: tokio::sync::Mutex<Option<ServingStatus>>,
    draining: AtomicBool,
    /// Whether "liveness" was published (on the first check, before serving).
    alive: AtomicBool,
    /// The Cal.com circuit breakers, once `watch_calcom` was called.
    calcom: std::sync::OnceLock<Arc<crate::calcom::Breakers>>,
}

impl HealthMonitor {
    /// Nothing is checked yet (components are "unknown"): call
    /// [`check_now`](Self::check_now) before serving so the first status is
    /// measured, not assumed. Redis is not contacted here, so a down Redis
    /// never delays start.
    pub fn new(config: &Config, reporter: HealthReporter) -> Self {
        let interval = Duration::from_secs(config.health_check_interval_secs.max(1));
        let check_timeout = interval.min(MAX_CHECK_TIMEOUT);
        let redis = config.redis_url.as_ref().map(|url| RedisProbe::new(url.expose_secret()));
        let mut components = BTreeMap::from([(DATABASE, ComponentState::default())]);
        if redis.is_some() {
            components.insert(REDIS, ComponentState::default());
        }
        let inner = Inner {
            database: DatabaseProbe::new(config.database_url.clone(), check_timeout),
            redis,
            reporter,
            interval,
            check_timeout,
            components: Mutex::new(components),
            published: tokio::sync::Mutex::new(None),
            draining: AtomicBool::new(false),
            alive: AtomicBool::new(false),
            calcom: std::sync::OnceLock::new(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Checks every dependency once (concurrently, each bounded by the check
    /// timeout) and publishes the result.
    pub async fn check_now(&self) {
        let inner = &self.inner;
        if !inner.alive.swap(true, Ordering::SeqCst) {
            inner.reporter.set_service_status(LIVENESS, ServingStatus::Serving).await;
        }
        let redis = async {
            match &inner.redis {
                Some(probe) => Some(timed(inner.check_timeout, probe.ping()).await),
                None => None,
            }
        };
        let (database, redis) = tokio::join!(timed(inner.check_timeout, inner.database.ping()), redis);
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

    /// Reports the Cal.com breakers (in `report` and as the gRPC health
    /// service `CALCOM`) until the returned task is aborted.
    pub fn watch_calcom(&self, breakers: Arc<crate::calcom::Breakers>) -> tokio::task::JoinHandle<()> {
        let mut not_closed = breakers.watch_not_closed();
        let _ = self.inner.calcom.set(breakers);
        let reporter = self.inner.reporter.clone();
        tokio::spawn(async move {
            loop {
                let status = if *not_closed.borrow_and_update() == 0 {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                };
                reporter.set_service_status(CALCOM, status).await;
                if not_closed.changed().await.is_err() {
                    return;
                }
            }
        })
    }

    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::SeqCst)
    }

    /// The last result of every check; no dependency is contacted.
    pub fn report(&self) -> HealthReport {
        let components = self.inner.components.lock().unwrap_or_else(PoisonError::into_inner);
        let mut components: BTreeMap<_, _> = components.iter().map(|(name, state)| (*name, state.report())).collect();
        if let Some(calcom) = self.inner.calcom.get().and_then(|b| calcom_report(b)) {
            components.insert(CALCOM_COMPONENT, calcom);
        }
        let is_up = |name| components.get(name).is_some_and(|c: &ComponentReport| c.status.is_up());
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

/// The "calcom" component: listed once a tenant's connection was used on
/// this replica; degraded while any breaker is not closed.
fn calcom_report(breakers: &crate::calcom::Breakers) -> Option<ComponentReport> {
    let (closed, open, half_open) = breakers.counts();
    if closed + open + half_open == 0 {
        return None;
    }
    let failing = open + half_open;
    Some(ComponentReport {
        status: if failing == 0 { ComponentStatus::Up } else { ComponentStatus::Degraded },
        latency_ms: None,
        checked_at: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        consecutive_failures: u32::try_from(failing).unwrap_or(u32::MAX),
        last_error: (failing > 0).then_some("circuit_open"),
    })
}

/// Readiness: the server (""), "readiness" and every AskPro service share
/// one status: they all stand or fall with the database. Liveness is not
/// among them.
async fn set_all(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    reporter.set_service_status(READINESS, status).await;
    for name in SERVICE_NAMES {
        reporter.set_service_status(name, status).await;
    }
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
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("h.db").display());
        fixture_on(&url, redis_url, dir)
    }

    fn fixture_on(database_url: &str, redis_url: Option<&str>, dir: tempfile::TempDir) -> Fixture {
        let config = Config {
            database_url: SecretString::from(database_url.to_owned()),
            redis_url: redis_url.map(|url| SecretString::from(url.to_owned())),
            health_check_interval_secs: 1,
            ..Config::default()
        };
        let reporter = HealthReporter::new();
        let service = HealthService::from_health_reporter(reporter.clone());
        Fixture { monitor: HealthMonitor::new(&config, reporter), service, _dir: dir }
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
        chrono::DateTime::parse_from_rfc3339(checked_at).expect("RFC 3339");
        for name in ["", READINESS, LIVENESS].into_iter().chain(SERVICE_NAMES) {
            assert_eq!(grpc_status(&f.service, name).await, health_check_response::ServingStatus::Serving, "{name:?}");
        }
    }

    /// A database that does not answer takes readiness away, never liveness:
    /// Kubernetes must not restart every pod for an outage they cannot fix.
    #[tokio::test]
    async fn an_unreachable_database_fails_readiness_but_not_liveness() {
        let url = format!("postgres://postgres:secret@127.0.0.1:{}/askpro", closed_port().await);
        let f = fixture_on(&url, None, tempfile::tempdir().expect("folder"));
        f.monitor.check_now().await;
        let report = f.monitor.report();
        assert_eq!(report.status, OverallStatus::NotServing);
        assert_eq!(report.components[DATABASE].status, ComponentStatus::Down);
        assert_eq!(report.components[DATABASE].last_error, Some("connection"));
        for name in ["", READINESS].into_iter().chain(SERVICE_NAMES) {
            assert_eq!(
                grpc_status(&f.service, name).await,
                health_check_response::ServingStatus::NotServing,
                "{name:?}"
            );
        }
        assert_eq!(grpc_status(&f.service, LIVENESS).await, health_check_response::ServingStatus::Serving);
        let json = serde_json::to_string(&report).expect("serializes");
        assert!(!json.contains("secret") && !json.contains("127.0.0.1"), "no URL in the report: {json}");
    }

    #[test]
    fn a_slow_answer_is_reported_but_counts_as_up() {
        let check = |millis| ComponentState {
            last: Some(Check { error: None, latency: Duration::from_millis(millis), checked_at: chrono::Utc::now() }),
            ..ComponentState::default()
        };
        assert_eq!(check(3).report().status, ComponentStatus::Up);
        let slow = check(900).report().status;
        assert_eq!(slow, ComponentStatus::Slow);
        assert!(slow.is_up());
        assert!(!ComponentStatus::Down.is_up() && !ComponentStatus::Unknown.is_up());
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
        for name in ["", READINESS].into_iter().chain(SERVICE_NAMES) {
            assert_eq!(grpc_status(&f.service, name).await, health_check_response::ServingStatus::NotServing);
        }
        assert_eq!(
            grpc_status(&f.service, LIVENESS).await,
            health_check_response::ServingStatus::Serving,
            "a draining process is alive"
        );
    }

    #[test]
    fn the_json_field_names_are_stable() {
        let state = ComponentState {
            last: Some(Check {
                error: Some("timeout"),
                latency: Duration::from_micros(1500),
                checked_at: chrono::Utc::now(),
            }),
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
