//! The edge of the server against a real server: correlation ids,
//! deadlines (DEADLINE_EXCEEDED, no partial write, PostgreSQL's
//! statement_timeout), load shedding, message size, connection age, and the
//! Prometheus endpoint.
mod common;

use std::time::{Duration, Instant};

use askpro::proto::tenant::v1 as pb;
use askpro::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use common::{Backend, TestServer, authed, reason};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, TransactionTrait};
use tonic::{Code, Request, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A gRPC client that leaves deadlines to the server, as a browser does:
/// hyper's HTTP/2 client without tonic's client-side timeout, so the test
/// sees the server's own answer to an expired `grpc-timeout`.
type RawClient = Client<HttpConnector, tonic::body::Body>;

fn raw_tenants(server: &TestServer) -> TenantServiceClient<RawClient> {
    let client = Client::builder(TokioExecutor::new()).http2_only(true).build_http();
    let origin = format!("http://{}", server.addr).parse().expect("origin");
    TenantServiceClient::with_origin(client, origin)
}

/// A request with `grpc-timeout` set by hand (tonic's `set_timeout` would
/// also arm a client-side timer).
fn with_grpc_timeout<T>(mut request: Request<T>, value: &'static str) -> Request<T> {
    request.metadata_mut().insert("grpc-timeout", value.parse().expect("ascii"));
    request
}

fn rename(branch: &pb::Branch, name: &str) -> pb::UpdateBranchRequest {
    pb::UpdateBranchRequest {
        branch: Some(pb::Branch { id: branch.id.clone(), display_name: name.into(), ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["display_name".into()] }),
    }
}

async fn branch_name(server: &TestServer, key: &str, id: &str) -> String {
    let request = authed(pb::GetBranchRequest { id: id.into() }, key);
    server.tenants().get_branch(request).await.expect("get branch").into_inner().branch.expect("branch").display_name
}

/// A write lock held outside the call under test: on PostgreSQL a row lock
/// on the branch from another connection; on SQLite, where one process is
/// the only writer, the store's write gate (as a concurrent write call
/// would hold it).
enum OutsideLock {
    Row { db: DatabaseConnection, txn: sea_orm::DatabaseTransaction },
    WriteGate(Box<askpro::store::TenantTx>),
}

impl OutsideLock {
    async fn take(server: &TestServer, tenant_id: &str, branch_id: &str) -> Self {
        match server.backend() {
            Backend::Postgres => {
                let db = Database::connect(server.db.url()).await.expect("connect");
                let txn = db.begin().await.expect("begin");
                // As the owner, not subject to row-level security.
                let lock = format!("SELECT id FROM branches WHERE id = '{branch_id}' FOR UPDATE");
                txn.execute_unprepared(&lock).await.expect("lock the branch row");
                OutsideLock::Row { db, txn }
            }
            Backend::Sqlite => {
                let tenant = askpro::domain::ids::TenantId::parse("tenant", tenant_id).expect("tenant id");
                OutsideLock::WriteGate(Box::new(server.state.store.write(tenant).await.expect("write transaction")))
            }
        }
    }

    async fn release(self) {
        match self {
            OutsideLock::Row { db, txn } => {
                txn.rollback().await.expect("rollback");
                db.close().await.expect("close");
            }
            OutsideLock::WriteGate(tx) => drop(tx),
        }
    }
}

// ---------------------------------------------------------------------------
// Correlation ids

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_when_valid_and_generated_otherwise() {
    let server = TestServer::start(Backend::Sqlite).await.expect("sqlite");
    let tenant = server.tenant("Salon Korrelation").await;
    let mut client = server.tenants();

    let mut request = authed(pb::ListBranchesRequest::default(), &tenant.reader);
    request.metadata_mut().insert("x-request-id", "call-4711.a:b_c".parse().unwrap());
    let response = client.list_branches(request).await.expect("list");
    assert_eq!(response.metadata().get("x-request-id").unwrap(), "call-4711.a:b_c");

    for bad in ["has space", "quote\"", &"x".repeat(129)] {
        let mut request = authed(pb::ListBranchesRequest::default(), &tenant.reader);
        request.metadata_mut().insert("x-request-id", bad.parse().unwrap());
        let response = client.list_branches(request).await.expect("list");
        let id = response.metadata().get("x-request-id").expect("an id").to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{bad:?} is replaced by a generated id, got {id:?}");
    }

    // Errors carry the id too, generated when none was sent.
    let missing = authed(pb::GetBranchRequest { id: uuid::Uuid::now_v7().to_string() }, &tenant.reader);
    let status = client.get_branch(missing).await.expect_err("no such branch");
    assert_eq!(status.code(), Code::NotFound);
    let id = status.metadata().get("x-request-id").expect("an id on errors").to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let unauthenticated = client.list_branches(Request::new(pb::ListBranchesRequest::default())).await.unwrap_err();
    assert!(unauthenticated.metadata().get("x-request-id").is_some(), "rejected calls carry an id");
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Deadlines

async fn impossible_deadline_is_deadline_exceeded_and_writes_nothing(server: &TestServer) {
    let tenant = server.tenant("Salon Eilig").await;
    let mut raw = raw_tenants(server);
    for timeout in ["1n", "1u", "1m", "2m", "3m"] {
        let create = pb::CreateBranchRequest {
            request_id: String::new(),
            branch: Some(pb::Branch {
                display_name: format!("Filiale {timeout}"),
                time_zone: "Europe/Berlin".into(),
                ..Default::default()
            }),
        };
        let status = raw
            .create_branch(with_grpc_timeout(authed(create, &tenant.admin), timeout))
            .await
            .expect_err("no call fits in that deadline");
        assert_eq!(status.code(), Code::DeadlineExceeded, "grpc-timeout {timeout}: {status:?}");
        assert_eq!(reason(&status), "DEADLINE_EXCEEDED");
    }
    let branches = server
        .tenants()
        .list_branches(authed(pb::ListBranchesRequest::default(), &tenant.reader))
        .await
        .expect("list")
        .into_inner()
        .branches;
    assert_eq!(branches.len(), 1, "only the fixture's branch exists: {branches:?}");
}

async fn a_deadline_cuts_a_blocked_write_and_leaves_nothing_behind(server: &TestServer) {
    let tenant = server.tenant("Salon Gesperrt").await;
    let lock = OutsideLock::take(server, &tenant.id, &tenant.branch.id).await;
    let started = Instant::now();
    let update = with_grpc_timeout(authed(rename(&tenant.branch, "Neuer Name"), &tenant.admin), "400m");
    let status = raw_tenants(server).update_branch(update).await.expect_err("the write is blocked");
    let took = started.elapsed();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(took < Duration::from_secs(3), "answered after {took:?}, not at the deadline");

    if server.backend() == Backend::Postgres {
        // statement_timeout (SET LOCAL from the deadline) cancelled the
        // statement in the database too; without it the UPDATE would wait
        // for the lock as long as the lock is held.
        let admin = Database::connect(server.db.url()).await.expect("connect");
        let mut waiting = i64::MAX;
        for _ in 0..40 {
            let row = admin
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT count(*) AS n FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                ))
                .await
                .expect("query")
                .expect("a row");
            waiting = row.try_get("", "n").expect("count");
            if waiting == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(waiting, 0, "a statement of the expired call still waits for the lock");
        admin.close().await.ok();
    }
    lock.release().await;
    // Give a statement that might still be on its way a moment to land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(branch_name(server, &tenant.reader, &tenant.branch.id).await, tenant.branch.display_name);
    // The server is fine afterwards: the same write with time to spare works.
    server.tenants().update_branch(authed(rename(&tenant.branch, "Neuer Name"), &tenant.admin)).await.expect("update");
    assert_eq!(branch_name(server, &tenant.reader, &tenant.branch.id).await, "Neuer Name");
}

/// A deadline that passes while COMMIT is in flight never answers
/// DEADLINE_EXCEEDED (which promises nothing was written): the commit runs to
/// its end, and the caller gets the result or, when the transport's own timer
/// at the deadline cuts the reply, CANCELLED; a retry with the same
/// request_id then returns the booking. PostgreSQL: triggers make the insert
/// take 0.1 s and the COMMIT 0.2 s, so a 250 ms deadline passes mid-commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_passing_during_commit_is_not_deadline_exceeded() {
    use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
    let Some(server) = TestServer::start(Backend::Postgres).await else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the commit-past-the-deadline test");
        return;
    };
    let salon = common::salon::Salon::open(&server, "Salon Spät").await;
    let admin = Database::connect(server.db.url()).await.expect("connect");
    for sql in [
        "CREATE FUNCTION test_slow(seconds float8) RETURNS void LANGUAGE sql AS $$ SELECT pg_sleep(seconds) $$",
        "CREATE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM test_slow(0.1); RETURN NEW; END $$",
        "CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM test_slow(0.2); RETURN NULL; END $$",
        "CREATE TRIGGER test_slow_insert BEFORE INSERT ON appointments FOR EACH ROW EXECUTE FUNCTION test_slow_insert()",
        "CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT ON appointments DEFERRABLE INITIALLY DEFERRED \
         FOR EACH ROW EXECUTE FUNCTION test_slow_commit()",
    ] {
        admin.execute_unprepared(sql).await.expect(sql);
    }
    let client = Client::builder(TokioExecutor::new()).http2_only(true).build_http();
    let origin = format!("http://{}", server.addr).parse().expect("origin");
    let mut raw = AppointmentServiceClient::with_origin(client, origin);
    let start = common::time::BookingDay::berlin().at(10, 0);
    let mut booking = salon.explicit(salon.service(), salon.staff(), start, "0151 23456789");
    booking.call_id = "call-late-commit".into();
    let started = Instant::now();
    let answer = raw.create_appointment(with_grpc_timeout(authed(booking.clone(), salon.agent()), "250m")).await;
    let took = started.elapsed();
    if let Err(status) = &answer {
        assert_ne!(status.code(), Code::DeadlineExceeded, "the booking was committed: {status:?} after {took:?}");
    }
    // The commit ran to its end whatever the caller heard.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let booked = salon.list(Default::default()).await;
    assert_eq!(booked.len(), 1, "one appointment");
    assert_eq!(booked[0].call_id, "call-late-commit");
    // A retry with the same request id returns that booking.
    let retried = salon.create(booking).await.appointment.expect("appointment");
    assert_eq!(retried.id, booked[0].id);
    admin.close().await.ok();
    server.stop().await;
}

/// `grpc-timeout: 99999999H` (over 11,000 years) is legal: the call gets the
/// server's maximum deadline and works, on PostgreSQL too (the remaining time
/// becomes statement_timeout).
async fn a_deadline_of_years_is_capped_and_the_call_works(server: &TestServer) {
    let tenant = server.tenant("Salon Geduldig").await;
    let request = with_grpc_timeout(authed(pb::ListBranchesRequest::default(), &tenant.reader), "99999999H");
    let branches = raw_tenants(server).list_branches(request).await.expect("a long deadline is fine");
    assert_eq!(branches.into_inner().branches.len(), 1);
}

/// A blocked write under a caller's deadline of years ends at the server's
/// maximum (here one second), rolled back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_maximum_bounds_a_longer_deadline() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(server) = TestServer::start_with(backend, |c| c.max_deadline_secs = 1).await else {
            common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the deadline cap test on PostgreSQL");
            continue;
        };
        let tenant = server.tenant("Salon Gedeckelt").await;
        let lock = OutsideLock::take(&server, &tenant.id, &tenant.branch.id).await;
        let started = Instant::now();
        let update = with_grpc_timeout(authed(rename(&tenant.branch, "Neuer Name"), &tenant.admin), "99999999H");
        let status = raw_tenants(&server).update_branch(update).await.expect_err("the write is blocked");
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "cut at the maximum: {:?}", started.elapsed());
        lock.release().await;
        server.stop().await;
    }
}

on_both_databases!(
    a_deadline_of_years_is_capped_and_the_call_works,
    impossible_deadline_is_deadline_exceeded_and_writes_nothing,
    a_deadline_cuts_a_blocked_write_and_leaves_nothing_behind,
);

// ---------------------------------------------------------------------------
// Server limits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_the_concurrency_limit_are_shed_but_health_probes_are_not() {
    let server = TestServer::start_with(Backend::Sqlite, |c| c.max_concurrent_calls = 1).await.expect("sqlite");
    let tenant = server.tenant("Salon Voll").await;
    let lock = OutsideLock::take(&server, &tenant.id, &tenant.branch.id).await;
    let blocked = {
        let mut client = server.tenants();
        let request = authed(rename(&tenant.branch, "Später"), &tenant.admin);
        tokio::spawn(async move { client.update_branch(request).await })
    };
    // Wait until the blocked call holds the one slot.
    let mut shed: Option<Status> = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let attempt = server.tenants().list_branches(authed(pb::ListBranchesRequest::default(), &tenant.reader)).await;
        if let Err(status) = attempt {
            shed = Some(status);
            break;
        }
    }
    let shed = shed.expect("a second call is shed while the first holds the only slot");
    assert_eq!(shed.code(), Code::Unavailable, "{shed:?}");
    assert_eq!(reason(&shed), "OVERLOADED");
    let details = tonic_types::StatusExt::get_error_details(&shed);
    assert!(details.retry_info().and_then(|r| r.retry_delay).is_some(), "RetryInfo says when to retry");

    let health = HealthClient::new(server.channel.clone())
        .check(HealthCheckRequest { service: String::new() })
        .await
        .expect("health probes are never shed")
        .into_inner();
    assert_eq!(health.status(), ServingStatus::Serving);

    lock.release().await;
    blocked.await.expect("task").expect("the blocked call completes once the lock is gone");
    server.tenants().list_branches(authed(pb::ListBranchesRequest::default(), &tenant.reader)).await.expect("served");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_messages_get_a_clear_status_and_change_nothing() {
    const LIMIT: usize = 64 * 1024;
    let server = TestServer::start_with(Backend::Sqlite, |c| c.max_message_bytes = LIMIT).await.expect("sqlite");
    let tenant = server.tenant("Salon Groß").await;
    let create = pb::CreateBranchRequest {
        request_id: String::new(),
        branch: Some(pb::Branch {
            display_name: "x".repeat(LIMIT + 1),
            time_zone: "Europe/Berlin".into(),
            ..Default::default()
        }),
    };
    let status = server.tenants().create_branch(authed(create, &tenant.admin)).await.expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(status.message().contains(&format!("the limit is: {LIMIT} bytes")), "{}", status.message());
    let branches = server
        .tenants()
        .list_branches(authed(pb::ListBranchesRequest::default(), &tenant.reader))
        .await
        .expect("list")
        .into_inner()
        .branches;
    assert_eq!(branches.len(), 1, "nothing was created");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_closed_at_their_maximum_age() {
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.max_connection_age_secs = 1;
        c.max_connection_age_grace_secs = 1;
    })
    .await
    .expect("sqlite");
    let tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let (_client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    let started = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(10), connection).await;
    assert!(ended.is_ok(), "the server did not close the connection within 10 s");
    let age = started.elapsed();
    assert!(age >= Duration::from_millis(500), "closed after {age:?}, before its age");
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Transport edges: what a client that is not tonic may send

/// One request over a fresh HTTP/2 connection with hand-made headers and
/// body: the HTTP status and the grpc-status/grpc-message, from the headers
/// (trailers-only answers) or the trailers.
async fn raw_h2(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Option<String>, String) {
    let tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let (client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    tokio::spawn(connection);
    let mut client = client.ready().await.expect("ready");
    let mut request = http::Request::builder().method("POST").uri(format!("http://{}{path}", server.addr));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let (response, mut send) = client.send_request(request.body(()).expect("request"), false).expect("send");
    send.send_data(body.into(), true).expect("body");
    let response = tokio::time::timeout(Duration::from_secs(10), response).await.expect("answered").expect("response");
    let status = response.status().as_u16();
    let header = |map: &http::HeaderMap, name: &str| map.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (mut grpc_status, mut message) =
        (header(response.headers(), "grpc-status"), header(response.headers(), "grpc-message").unwrap_or_default());
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        chunk.expect("data");
    }
    if let Some(trailers) = body.trailers().await.expect("trailers") {
        grpc_status = grpc_status.or(header(&trailers, "grpc-status"));
        message = header(&trailers, "grpc-message").unwrap_or(message);
    }
    (status, grpc_status, message)
}

/// A gRPC frame: no compression, the length, the bytes.
fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_transport_input_gets_a_precise_answer() {
    let server = TestServer::start(Backend::Sqlite).await.expect("sqlite");
    let tenant = server.tenant("Salon Roh").await;
    let bearer = format!("Bearer {}", tenant.reader);
    let grpc = |extra: &'static [(&'static str, &'static str)]| {
        let mut headers =
            vec![("content-type", "application/grpc"), ("te", "trailers"), ("authorization", bearer.as_str())];
        headers.extend_from_slice(extra);
        headers
    };
    let path = "/askpro.tenant.v1.TenantService/ListBranches";

    // A message cut short: field 2 (page_token) says 20 bytes, 3 follow.
    let (_, code, message) = raw_h2(&server, path, &grpc(&[]), frame(&[0x12, 20, b'a', b'b', b'c'])).await;
    assert_eq!(code.as_deref(), Some("3"), "INVALID_ARGUMENT for a truncated message: {message}");
    // A JSON document framed as a message is not protobuf either.
    let (_, code, message) = raw_h2(&server, path, &grpc(&[]), frame(br#"{"page_size": 10}"#)).await;
    assert_eq!(code.as_deref(), Some("3"), "INVALID_ARGUMENT for JSON: {message}");
    // A malformed grpc-timeout is refused, not ignored.
    let (_, code, message) = raw_h2(&server, path, &grpc(&[("grpc-timeout", "abc")]), frame(&[])).await;
    assert_eq!(code.as_deref(), Some("3"), "INVALID_ARGUMENT for grpc-timeout abc: {message}");
    assert!(message.contains("grpc-timeout"), "{message}");
    // Not gRPC at all: 415, as the gRPC over HTTP/2 spec asks.
    let plain = vec![("content-type", "text/plain"), ("authorization", bearer.as_str())];
    let (status, _, _) = raw_h2(&server, path, &plain, b"hello".to_vec()).await;
    assert_eq!(status, 415);
    // The well-formed call still works on the same server.
    let (status, code, message) = raw_h2(&server, path, &grpc(&[]), frame(&[])).await;
    assert_eq!((status, code.as_deref()), (200, Some("0")), "{message}");
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Metrics

fn sample<'a>(
    scrape: &'a prometheus_parse::Scrape,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a prometheus_parse::Sample> {
    scrape.samples.iter().find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
}

fn number(sample: &prometheus_parse::Sample) -> f64 {
    match &sample.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => *v,
        other => panic!("{}: not a number: {other:?}", sample.metric),
    }
}

async fn scrape(server: &TestServer) -> prometheus_parse::Scrape {
    let response = common::http::get(server.addr, "/metrics").await;
    assert_eq!(response.status, 200);
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = String::from_utf8(response.body).expect("UTF-8");
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text format")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_calls_by_method_and_status_with_latency_histograms() {
    let server = TestServer::start(Backend::Sqlite).await.expect("sqlite");
    let tenant = server.tenant("Salon Messbar").await;
    // Methods no other test of this binary calls: the recorder is per
    // process and those tests run at the same time.
    const LIST: &str = "/askpro.tenant.v1.TenantService/ListServices";
    const GET: &str = "/askpro.tenant.v1.TenantService/GetService";
    let before = scrape(&server).await;
    let count = |s: &prometheus_parse::Scrape, method: &str, code: &str| {
        sample(s, "askpro_grpc_requests_total", &[("method", method), ("code", code)]).map_or(0.0, number)
    };
    for _ in 0..3 {
        server.tenants().list_services(authed(pb::ListServicesRequest::default(), &tenant.reader)).await.expect("list");
    }
    let missing = authed(pb::GetServiceRequest { id: uuid::Uuid::now_v7().to_string() }, &tenant.reader);
    server.tenants().get_service(missing).await.expect_err("not found");
    let after = scrape(&server).await;

    assert_eq!(count(&after, LIST, "OK") - count(&before, LIST, "OK"), 3.0);
    assert_eq!(count(&after, GET, "NOT_FOUND") - count(&before, GET, "NOT_FOUND"), 1.0);
    let histogram = sample(&after, "askpro_grpc_request_duration_seconds", &[("method", LIST)]).expect("histogram");
    let prometheus_parse::Value::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {histogram:?}");
    };
    let total = buckets.iter().find(|b| b.less_than.is_infinite()).expect("+Inf bucket").count;
    assert!(total >= 3.0, "{buckets:?}");
    assert!(buckets.windows(2).all(|w| w[0].count <= w[1].count), "buckets are cumulative: {buckets:?}");

    for (name, labels) in [
        ("askpro_grpc_requests_in_flight", &[][..]),
        ("askpro_db_pool_connections", &[("state", "idle")][..]),
        ("askpro_db_pool_connections", &[("state", "in_use")][..]),
        ("askpro_db_pool_max_connections", &[][..]),
        ("askpro_holds_active", &[][..]),
        ("askpro_cache_hits_total", &[("cache", "api_key")][..]),
        ("askpro_cache_misses_total", &[("cache", "api_key")][..]),
        ("askpro_dependency_up", &[("component", "database")][..]),
    ] {
        let found = sample(&after, name, labels).unwrap_or_else(|| panic!("{name} {labels:?} is missing"));
        assert!(number(found) >= 0.0, "{name}");
    }
    assert_eq!(number(sample(&after, "askpro_db_pool_max_connections", &[]).unwrap()), 5.0);
    assert_eq!(number(sample(&after, "askpro_dependency_up", &[("component", "database")]).unwrap()), 1.0);
    // The reader key was used four times in a row: cached after the first.
    let hits = |s: &prometheus_parse::Scrape| {
        sample(s, "askpro_cache_hits_total", &[("cache", "api_key")]).map_or(0.0, number)
    };
    assert!(hits(&after) - hits(&before) >= 3.0, "the API key is served from the cache");
    // The NOT_FOUND lookup read the database: the statement count moved.
    let statements = |s: &prometheus_parse::Scrape| {
        number(sample(s, "askpro_db_statements_total", &[]).expect("askpro_db_statements_total"))
    };
    assert!(statements(&after) > statements(&before), "statements are counted");
    if cfg!(target_os = "linux") {
        let cpu = |s: &prometheus_parse::Scrape| {
            number(sample(s, "process_cpu_seconds_total", &[]).expect("process_cpu_seconds_total"))
        };
        assert!(cpu(&after) >= cpu(&before) && cpu(&after) > 0.0);
        let rss = number(sample(&after, "process_resident_memory_bytes", &[]).expect("process_resident_memory_bytes"));
        assert!(rss > 1_000_000.0, "{rss}");
    }
    server.stop().await;
}
