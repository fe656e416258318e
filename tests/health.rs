//! Health tells the truth: gRPC health and `GET /health` follow the database
//! (through a TCP proxy the test can cut and restore) without a restart, and
//! a down Redis degrades the server without taking it out of service.
//! Liveness stays SERVING through a database outage and a drain; a saturated
//! request pool is not a down database; SIGTERM first reports NOT_SERVING and
//! keeps serving for the configured delay.
mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use askpro::config::Config;
use askpro::server;
use common::{Backend, TestDb};
use secrecy::SecretString;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long a status change may take to show: a few check intervals (1 s)
/// plus a check timeout.
const SETTLE: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_stops_serving_while_the_database_is_unreachable_and_recovers_without_restart() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the database outage test");
        return;
    };
    let mut proxy = DatabaseProxy::start(host_and_port(db.url())).await;
    let server = HealthServer::start(fast_checks(&with_host(db.url(), &proxy.addr.to_string()))).await;
    let service = server::SERVICE_NAMES[0];

    assert_eq!(server.grpc_status("").await, ServingStatus::Serving);
    assert_eq!(server.grpc_status(service).await, ServingStatus::Serving);
    let (code, body) = server.http_health().await;
    assert_eq!((code, body["status"].as_str()), (200, Some("serving")), "{body}");

    proxy.cut().await;
    wait_until("NOT_SERVING while the database is unreachable", || async {
        server.grpc_status("").await == ServingStatus::NotServing
            && server.grpc_status(service).await == ServingStatus::NotServing
    })
    .await;
    let started = Instant::now();
    let (code, body) = server.http_health().await;
    assert!(started.elapsed() < Duration::from_millis(500), "/health must not wait on the database");
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["status"], "not_serving");
    let database = &body["components"]["database"];
    assert_eq!(database["status"], "down", "{body}");
    assert!(database["consecutive_failures"].as_u64() >= Some(1), "{body}");
    assert!(database["last_error"].is_string(), "{body}");
    // Readiness is gone; liveness is not: restarting the pod would not help.
    assert_eq!(server.grpc_status("readiness").await, ServingStatus::NotServing);
    assert_eq!(server.grpc_status("liveness").await, ServingStatus::Serving);
    assert_eq!(server.http_get("/readyz").await.0, 503);
    let (code, body) = server.http_get("/livez").await;
    assert_eq!((code, body["status"].as_str()), (200, Some("alive")), "{body}");

    proxy.restore().await;
    wait_until("SERVING again once the database is back", || async {
        server.grpc_status("").await == ServingStatus::Serving
            && server.grpc_status(service).await == ServingStatus::Serving
    })
    .await;
    let (code, body) = server.http_health().await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "serving");
    assert_eq!(body["components"]["database"]["status"], "up");
    assert_eq!(body["components"]["database"]["consecutive_failures"], 0);

    server.stop().await;
    drop(db);
}

/// Every connection of the request pool busy (here both, held by
/// transactions) is load, not an outage: the check has its own connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_request_pool_does_not_read_as_a_down_database() {
    use sea_orm::TransactionTrait;
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::create(backend).await else {
            common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the saturated-pool health test on PostgreSQL");
            continue;
        };
        // Three: PostgreSQL's migrations need one besides their lock's, and
        // its change listeners keep connections of their own.
        let server = HealthServer::start(Config { database_max_connections: 3, ..fast_checks(db.url()) }).await;
        let pool = server.state.store.connection();
        let mut holders = Vec::new();
        while let Ok(held) = tokio::time::timeout(Duration::from_millis(500), pool.begin()).await {
            holders.push(held.expect("a connection"));
        }
        assert!(!holders.is_empty() && holders.len() <= 3, "{backend:?}: held {}", holders.len());
        // Three check intervals (each check times out after 1 s).
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(server.grpc_status("").await, ServingStatus::Serving, "{backend:?}");
        let (code, body) = server.http_health().await;
        assert_eq!(code, 200, "{backend:?}: {body}");
        assert_eq!(body["components"]["database"]["consecutive_failures"], 0, "{backend:?}: {body}");
        for holder in holders {
            holder.rollback().await.expect("rollback");
        }
        server.stop().await;
    }
}

/// SIGTERM (here the shutdown future): readiness NOT_SERVING at once,
/// liveness still SERVING, new connections still served for the delay, then
/// the listener closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_reports_not_serving_first_and_keeps_serving_for_the_delay() {
    const DELAY: Duration = Duration::from_secs(2);
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite always runs");
    let server = HealthServer::start(Config { shutdown_delay_secs: DELAY.as_secs(), ..fast_checks(db.url()) }).await;
    assert_eq!(server.grpc_status("").await, ServingStatus::Serving);
    let signalled = Instant::now();
    let HealthServer { addr, health, shutdown, task, .. } = server;
    let _ = shutdown.send(());
    let status = |service: &'static str| {
        let mut health = health.clone();
        async move {
            let response = health.check(HealthCheckRequest { service: service.into() }).await.expect("answers");
            ServingStatus::try_from(response.into_inner().status).expect("known status")
        }
    };
    wait_until("readiness NOT_SERVING right after the signal", || async {
        status("").await == ServingStatus::NotServing && status("readiness").await == ServingStatus::NotServing
    })
    .await;
    assert_eq!(status("liveness").await, ServingStatus::Serving);
    assert!(signalled.elapsed() < DELAY, "the status changed before the delay ended");
    // A new connection is still accepted and answered during the delay.
    let (code, body) = http_get(addr, "/readyz").await;
    assert_eq!((code, body["status"].as_str(), body["draining"].as_bool()), (503, Some("not_serving"), Some(true)));
    task.await.expect("server task").expect("server stops cleanly");
    assert!(signalled.elapsed() >= DELAY, "the listener stayed open for the delay: {:?}", signalled.elapsed());
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed after the drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_keeps_the_server_serving_and_reports_degraded() {
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite always runs");
    let mut config = fast_checks(db.url());
    config.redis_url = Some(SecretString::from(format!("redis://:hunter2@127.0.0.1:{}/", closed_port().await)));
    let server = HealthServer::start(config).await;

    assert_eq!(server.grpc_status("").await, ServingStatus::Serving);
    assert_eq!(server.grpc_status(server::SERVICE_NAMES[0]).await, ServingStatus::Serving);
    let (code, body) = server.http_health().await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["components"]["database"]["status"], "up");
    assert_eq!(body["components"]["redis"]["status"], "down", "{body}");
    assert!(body["components"]["redis"]["last_error"].is_string(), "{body}");
    assert!(!body.to_string().contains("hunter2"), "the Redis password must not reach /health: {body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reachable_redis_is_reported_up() {
    let Some(redis_url) = std::env::var("ASKPRO_TEST_REDIS_URL").ok().filter(|u| !u.is_empty()) else {
        common::say_skipped("set ASKPRO_TEST_REDIS_URL to check that a reachable Redis is reported up");
        return;
    };
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite always runs");
    let mut config = fast_checks(db.url());
    config.redis_url = Some(SecretString::from(redis_url));
    let server = HealthServer::start(config).await;

    let (code, body) = server.http_health().await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "serving", "{body}");
    assert_eq!(body["components"]["redis"]["status"], "up");
    assert_eq!(body["components"]["redis"]["consecutive_failures"], 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_json_reports_the_sqlite_database_up_with_its_last_check() {
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite always runs");
    let server = HealthServer::start(fast_checks(db.url())).await;

    let (code, body) = server.http_health().await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "serving");
    assert_eq!(body["draining"], false);
    let components = body["components"].as_object().expect("components object");
    assert_eq!(components.keys().collect::<Vec<_>>(), ["database"], "redis is listed only when configured");
    let database = &components["database"];
    assert_eq!(database["status"], "up");
    assert!(database["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{body}");
    let checked_at = database["checked_at"].as_str().expect("checked_at");
    chrono::DateTime::parse_from_rfc3339(checked_at).expect("checked_at is RFC 3339");
    assert_eq!(database["consecutive_failures"], 0);
    assert!(database["last_error"].is_null());
    server.stop().await;
}

/// A config that checks health every second.
fn fast_checks(database_url: &str) -> Config {
    Config { health_check_interval_secs: 1, ..common::test_config(database_url) }
}

/// A server of its own (not `common::TestServer`): these tests need their own
/// config and no fixtures.
struct HealthServer {
    addr: SocketAddr,
    state: askpro::api::AppState,
    health: HealthClient<tonic::transport::Channel>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<askpro::error::Result<()>>,
}

impl HealthServer {
    async fn start(config: Config) -> Self {
        let state = server::prepare(config).await.expect("server prepares");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(state.clone(), listener, async move {
            let _ = signal.await;
        }));
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        Self { addr, state, health: HealthClient::new(channel), shutdown, task }
    }

    async fn grpc_status(&self, service: &str) -> ServingStatus {
        let request = HealthCheckRequest { service: service.into() };
        let response = self.health.clone().check(request).await.expect("health check answers").into_inner();
        ServingStatus::try_from(response.status).expect("known status")
    }

    /// `GET /health` over plain HTTP/1.1: the status code and the JSON body.
    async fn http_health(&self) -> (u16, Value) {
        self.http_get("/health").await
    }

    async fn http_get(&self, path: &str) -> (u16, Value) {
        http_get(self.addr, path).await
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// `GET path` over plain HTTP/1.1 on a new connection: the status code and
/// the JSON body.
async fn http_get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        std::io::Result::Ok(String::from_utf8(raw).expect("UTF-8 response"))
    };
    let response = tokio::time::timeout(Duration::from_secs(5), exchange).await.expect("answers").expect("io");
    let (head, body) = response.split_once("\r\n\r\n").expect("head and body");
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("status code");
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.into() };
    (code, serde_json::from_str(&body).unwrap_or_else(|e| panic!("JSON body ({e}): {body}")))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// Polls `condition` until it holds, failing the test after `SETTLE`.
async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + SETTLE;
    while !condition().await {
        assert!(Instant::now() < deadline, "not within {SETTLE:?}: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A port nothing listens on: bound, then released.
async fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("address").port()
}

/// A TCP forwarder in front of PostgreSQL. Cutting it closes its port and
/// every forwarded connection, as a database host going away would;
/// restoring listens on the same port again.
struct DatabaseProxy {
    addr: SocketAddr,
    upstream: String,
    forwarding: Option<JoinHandle<()>>,
}

impl DatabaseProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let forwarding = Some(tokio::spawn(forward(listener, upstream.clone())));
        Self { addr, upstream, forwarding }
    }

    async fn cut(&mut self) {
        if let Some(forwarding) = self.forwarding.take() {
            forwarding.abort();
            // Once the task is gone, so are its listener and connections.
            let _ = forwarding.await;
        }
    }

    async fn restore(&mut self) {
        let socket = TcpSocket::new_v4().expect("socket");
        // The cut connections linger in TIME_WAIT on this port.
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket.bind(self.addr).expect("bind the proxy's port again");
        let listener = socket.listen(128).expect("listen");
        self.forwarding = Some(tokio::spawn(forward(listener, self.upstream.clone())));
    }
}

async fn forward(listener: TcpListener, upstream: String) {
    // Dropping the set (when this task is aborted) aborts every connection.
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut client, _)) = listener.accept().await else { continue };
        let upstream = upstream.clone();
        connections.spawn(async move {
            if let Ok(mut server) = TcpStream::connect(&upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
        while connections.try_join_next().is_some() {}
    }
}

/// `host:port` of a PostgreSQL URL (port 5432 when absent).
fn host_and_port(url: &str) -> String {
    let (_, authority, _) = split_authority(url);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.rsplit_once(':').is_some_and(|(_, port)| !port.contains(']')) {
        host.into()
    } else {
        format!("{host}:5432")
    }
}

/// The URL with its host and port replaced, credentials kept.
fn with_host(url: &str, host_and_port: &str) -> String {
    let (scheme, authority, rest) = split_authority(url);
    let credentials = authority.rsplit_once('@').map_or(String::new(), |(user, _)| format!("{user}@"));
    format!("{scheme}{credentials}{host_and_port}{rest}")
}

/// (`postgres://`, `user@host:port`, `/db?query`).
fn split_authority(url: &str) -> (&str, &str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..].find(['/', '?']).map_or(url.len(), |i| after_scheme + i);
    (&url[..after_scheme], &url[after_scheme..end], &url[end..])
}
