//! Outbound webhooks end to end: a change writes an event, the worker
//! delivers it signed, a receiver using the independent `standardwebhooks`
//! library verifies it; failed attempts are retried on the schedule and
//! logged; 410 Gone disables the subscription; a server killed in the middle
//! of a delivery delivers after its restart, losing nothing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common;
use askpro::proto::appointment::v1 as ap;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::tenant::v1 as tn;
use askpro::proto::webhook::v1 as wh;
use askpro::proto::webhook::v1::webhook_service_client::WebhookServiceClient;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::process::{Workdir, free_port};
use common::{Backend, TestServer, as_tenant, authed, create_named_key, create_tenant};
use tonic::transport::Channel;

const WAIT: Duration = Duration::from_secs(20);

/// Polls `check` every 50 ms until it returns Some, or panics after WAIT.
async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn subscribe(channel: Channel, admin: &str, url: &str) -> (wh::Subscription, String) {
    let request = wh::CreateSubscriptionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        subscription: Some(wh::Subscription { url: url.into(), ..Default::default() }),
    };
    let created = WebhookServiceClient::new(channel).create_subscription(authed(request, admin)).await;
    let created = created.expect("create subscription").into_inner();
    (created.subscription.expect("subscription"), created.secret)
}

async fn create_customer(channel: Channel, key: &str, phone: &str, request_id: &str) -> ap::Customer {
    let mut request = authed(
        ap::CreateCustomerRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            customer: Some(ap::Customer {
                phone_number: phone.into(),
                display_name: "Erika Mustermann".into(),
                ..Default::default()
            }),
            region_code: "DE".into(),
        },
        key,
    );
    request.metadata_mut().insert("x-request-id", request_id.parse().unwrap());
    let created = AppointmentServiceClient::new(channel).create_customer(request).await.expect("create customer");
    created.into_inner().customer.expect("customer")
}

async fn attempts(channel: Channel, admin: &str, subscription_id: &str) -> Vec<wh::Delivery> {
    let request = wh::ListDeliveriesRequest { subscription_id: subscription_id.into(), ..Default::default() };
    let listed = WebhookServiceClient::new(channel).list_deliveries(authed(request, admin)).await;
    listed.expect("list deliveries").into_inner().deliveries
}

/// The subscription's attempts, oldest first, once one has succeeded (the
/// worker records an attempt just after the receiver answered).
async fn attempts_until_success(channel: Channel, admin: &str, subscription_id: &str) -> Vec<wh::Delivery> {
    attempts_until(channel, admin, subscription_id, "a succeeded attempt", |logged| {
        logged.iter().any(|d| d.status() == wh::DeliveryStatus::Succeeded)
    })
    .await
}

/// The subscription's attempts, oldest first, once `logged` says they are
/// recorded: a receiver sees a request before the worker records its answer.
async fn attempts_until(
    channel: Channel,
    admin: &str,
    subscription_id: &str,
    what: &str,
    logged: impl Fn(&[wh::Delivery]) -> bool,
) -> Vec<wh::Delivery> {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut attempts = attempts(channel.clone(), admin, subscription_id).await;
        if logged(&attempts) {
            attempts.sort_by_key(|d| d.attempt);
            return attempts;
        }
        assert!(Instant::now() < deadline, "{what} not logged within {WAIT:?}: {attempts:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------
// A receiver built on the standardwebhooks reference library

/// The Python receiver (tests/support/standard_webhooks_receiver.py); killed on drop.
struct PythonReceiver {
    child: Child,
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl PythonReceiver {
    /// `None` (after saying so) when Python lacks the standardwebhooks package.
    async fn start(port: u16, secret: &str) -> Option<Self> {
        let probe = Command::new("python3").args(["-c", "import standardwebhooks"]).status();
        if !probe.is_ok_and(|s| s.success()) {
            common::say_skipped("pip install standardwebhooks to verify deliveries with the reference library");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("received.jsonl");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/standard_webhooks_receiver.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&out)
            .env("WEBHOOK_SECRET", secret)
            .stdin(Stdio::null())
            .spawn()
            .expect("start the Python receiver");
        let receiver = Self { child, out, _dir: dir };
        eventually("the Python receiver listens", || std::net::TcpStream::connect(("127.0.0.1", port)).ok()).await;
        Some(receiver)
    }

    fn received(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
    }
}

impl Drop for PythonReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn deliveries_verify_with_the_reference_library(server: &TestServer) {
    let tenant = server.tenant("Salon Zuverlässig").await;
    let port = free_port().port();
    let (subscription, secret) =
        subscribe(server.channel.clone(), &tenant.admin, &format!("http://127.0.0.1:{port}/hooks")).await;
    let Some(receiver) = PythonReceiver::start(port, &secret).await else { return };

    let customer = create_customer(server.channel.clone(), &tenant.agent, "0170 5550123", "hook-corr-1").await;
    let got = eventually("the receiver got the event", || receiver.received().into_iter().next()).await;
    assert_eq!(got["verified"], true, "the reference library rejected our signature: {got}");
    assert_eq!(got["request_id"], "hook-corr-1", "the correlation id travels with the event");
    let payload = &got["payload"];
    assert_eq!(payload["type"], "customer.created");
    assert_eq!(payload["data"]["id"], customer.id.as_str());
    assert_eq!(payload["data"]["phoneNumber"], "+491705550123");
    assert!(payload["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{payload}");

    let list = attempts_until_success(server.channel.clone(), &tenant.admin, &subscription.id).await;
    let delivered = list.iter().find(|d| d.status() == wh::DeliveryStatus::Succeeded).expect("a succeeded attempt");
    assert_eq!(delivered.event_type, "customer.created");
    assert_eq!(delivered.http_status, 204);
    assert_eq!(got["webhook_id"], delivered.event_id.as_str(), "webhook-id is the event id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_verify_with_the_reference_library_on_sqlite() {
    let server = TestServer::start_with(Backend::Sqlite, fast_retries).await.expect("sqlite");
    deliveries_verify_with_the_reference_library(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_verify_with_the_reference_library_on_postgres() {
    let Some(server) = TestServer::start_with(Backend::Postgres, fast_retries).await else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to deliver webhooks from PostgreSQL");
        return;
    };
    deliveries_verify_with_the_reference_library(&server).await;
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Retries and 410 Gone, with a receiver in this process

#[derive(Clone)]
struct Scripted {
    /// The status of each request in turn; the last one repeats.
    answers: Arc<Vec<StatusCode>>,
    seen: Arc<Mutex<Vec<HeaderMap>>>,
}

async fn scripted_receiver(answers: Vec<StatusCode>) -> (String, Scripted) {
    let scripted = Scripted { answers: Arc::new(answers), seen: Arc::default() };
    let app = axum::Router::new()
        .route(
            "/hook",
            post(|State(s): State<Scripted>, headers: HeaderMap| async move {
                let mut seen = s.seen.lock().unwrap();
                seen.push(headers);
                let n = seen.len().min(s.answers.len()) - 1;
                s.answers[n]
            }),
        )
        .with_state(scripted.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, scripted)
}

fn fast_retries(config: &mut askpro::config::Config) {
    config.webhook_allow_http_loopback = true;
    config.webhook_retry_schedule_secs = vec![1, 1, 1, 1];
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt() {
    let server = TestServer::start_with(Backend::Sqlite, fast_retries).await.expect("sqlite");
    let tenant = server.tenant("Salon Geduld").await;
    let error = StatusCode::SERVICE_UNAVAILABLE;
    let (url, receiver) = scripted_receiver(vec![error, error, error, StatusCode::OK]).await;
    let (subscription, _secret) = subscribe(server.channel.clone(), &tenant.admin, &url).await;
    create_customer(server.channel.clone(), &tenant.agent, "0170 5550124", "hook-corr-2").await;

    let ids = eventually("four attempts arrive", || {
        let seen = receiver.seen.lock().unwrap();
        (seen.len() >= 4).then(|| seen.iter().map(|h| h["webhook-id"].clone()).collect::<Vec<_>>())
    })
    .await;
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "every attempt carries the same webhook-id: {ids:?}");

    let logged = attempts_until_success(server.channel.clone(), &tenant.admin, &subscription.id).await;
    let statuses: Vec<_> = logged.iter().map(|d| (d.attempt, d.status(), d.http_status)).collect();
    assert_eq!(
        statuses,
        vec![
            (1, wh::DeliveryStatus::Failed, 503),
            (2, wh::DeliveryStatus::Failed, 503),
            (3, wh::DeliveryStatus::Failed, 503),
            (4, wh::DeliveryStatus::Succeeded, 200),
        ]
    );
    for failed in &logged[..3] {
        assert!(failed.error.contains("503"), "{failed:?}");
        assert!(failed.next_attempt_time.is_some(), "a failed attempt says when the next follows");
        assert!(failed.latency.is_some());
    }
    assert!(receiver.seen.lock().unwrap().len() == 4, "no attempt after the success");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_event_is_sent_once_and_outcomes_are_counted() {
    let server = TestServer::start_with(Backend::Sqlite, fast_retries).await.expect("sqlite");
    let tenant = server.tenant("Salon Probe").await;
    let (url, receiver) = scripted_receiver(vec![StatusCode::INTERNAL_SERVER_ERROR]).await;
    let (subscription, _secret) = subscribe(server.channel.clone(), &tenant.admin, &url).await;
    let before = common::http::get(server.addr, "/metrics").await;
    let count = |body: &[u8], outcome: &str| {
        let text = String::from_utf8_lossy(body).into_owned();
        let line = format!("askpro_webhook_deliveries_total{{outcome=\"{outcome}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&line)).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
    };
    let request = wh::SendTestEventRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        subscription_id: subscription.id.clone(),
    };
    WebhookServiceClient::new(server.channel.clone())
        .send_test_event(authed(request, &tenant.admin))
        .await
        .expect("send test event");
    eventually("the test event arrives", || (!receiver.seen.lock().unwrap().is_empty()).then_some(())).await;
    // A failed test event is not retried (the schedule here is one second).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(receiver.seen.lock().unwrap().len(), 1, "a test event is attempted once");
    let logged = attempts(server.channel.clone(), &tenant.admin, &subscription.id).await;
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].event_type, "webhook.test");
    assert_eq!(logged[0].status(), wh::DeliveryStatus::DeadLettered);
    let after = common::http::get(server.addr, "/metrics").await;
    assert!(count(&after.body, "dead_lettered") >= count(&before.body, "dead_lettered") + 1.0);
    let depth = String::from_utf8_lossy(&after.body).contains("askpro_webhook_outbox_depth ");
    assert!(depth, "the outbox depth gauge is exported");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_subscription() {
    let server = TestServer::start_with(Backend::Sqlite, fast_retries).await.expect("sqlite");
    let tenant = server.tenant("Salon Weg").await;
    let (url, receiver) = scripted_receiver(vec![StatusCode::GONE]).await;
    let (subscription, _secret) = subscribe(server.channel.clone(), &tenant.admin, &url).await;
    create_customer(server.channel.clone(), &tenant.agent, "0170 5550125", "hook-corr-3").await;
    let mut webhooks = WebhookServiceClient::new(server.channel.clone());
    let mut current = subscription.clone();
    for _ in 0..100 {
        let got = webhooks
            .get_subscription(authed(wh::GetSubscriptionRequest { id: subscription.id.clone() }, &tenant.admin))
            .await
            .expect("get");
        current = got.into_inner().subscription.expect("subscription");
        if current.state() == wh::SubscriptionState::Disabled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(current.state(), wh::SubscriptionState::Disabled);
    assert!(current.disabled_reason.contains("410"), "{:?}", current.disabled_reason);
    // Later changes are not sent to a disabled subscription.
    create_customer(server.channel.clone(), &tenant.agent, "0170 5550126", "hook-corr-4").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.seen.lock().unwrap().len(), 1);
    server.stop().await;
}

// ---------------------------------------------------------------------------
// A crash in the middle of a delivery

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_delivery_delivers_after_restart() {
    // The first POST hangs until the server is dead; later ones succeed.
    let (first_arrived, mut first_seen) = tokio::sync::mpsc::unbounded_channel::<()>();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let app = {
        let seen = seen.clone();
        axum::Router::new().route(
            "/hook",
            post(move |headers: HeaderMap| {
                let seen = seen.clone();
                let first_arrived = first_arrived.clone();
                async move {
                    let count = {
                        let mut seen = seen.lock().unwrap();
                        seen.push(headers["webhook-id"].to_str().unwrap().to_owned());
                        seen.len()
                    };
                    if count == 1 {
                        let _ = first_arrived.send(());
                        tokio::time::sleep(Duration::from_secs(60)).await;
                    }
                    StatusCode::OK
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let workdir = Workdir::new()
        .with_env("ASKPRO_WEBHOOK_ALLOW_HTTP_LOOPBACK", "true")
        // A short attempt timeout makes the dead worker's lease short (2 × 2 + 1 s).
        .with_env("ASKPRO_WEBHOOK_ATTEMPT_TIMEOUT_SECS", "2");
    let created = workdir.run(&["platform-key", "create"], "platform-key").await;
    assert!(created.status.success(), "{}", created.stderr);
    let platform = created.stdout.trim().to_owned();
    let mut first = workdir.serve(&[], "first").await;
    let channel = first.channel().await;
    let tenant = create_tenant(&mut first.tenants().await, &platform, "Salon Absturz").await;
    let as_platform = as_tenant(&platform, &tenant.id);
    let admin = create_named_key(&mut first.tenants().await, as_platform, tn::ApiKeyScope::TenantAdmin, "admin").await;
    let (subscription, _secret) = subscribe(channel.clone(), &admin, &url).await;
    let customer = create_customer(channel, &admin, "0170 5550127", "hook-corr-5").await;

    tokio::time::timeout(WAIT, first_seen.recv()).await.expect("the first attempt arrives");
    first.kill();

    let second = workdir.serve(&[], "second").await;
    let ids = eventually("the event arrives again after the restart", || {
        let seen = seen.lock().unwrap();
        (seen.len() >= 2).then(|| seen.clone())
    })
    .await;
    assert_eq!(ids[0], ids[1], "the same event (webhook-id) is delivered again");
    let logged = attempts_until_success(second.channel().await, &admin, &subscription.id).await;
    let delivered = logged.iter().find(|d| d.status() == wh::DeliveryStatus::Succeeded).expect("delivered");
    assert_eq!(delivered.event_type, "customer.created");
    assert_eq!(delivered.event_id, ids[0]);
    let received_customer = customer.id;
    assert!(!received_customer.is_empty());
}

// ---------------------------------------------------------------------------
// Retention

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_finished_events_and_keeps_those_still_being_delivered_sqlite() {
    retention_removes_finished_events_and_keeps_those_still_being_delivered(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_finished_events_and_keeps_those_still_being_delivered_postgres() {
    retention_removes_finished_events_and_keeps_those_still_being_delivered(Backend::Postgres).await;
}

async fn retention_removes_finished_events_and_keeps_those_still_being_delivered(backend: Backend) {
    // A failed attempt waits an hour for its retry: that delivery stays pending.
    let Some(server) = TestServer::start_with(backend, |config| {
        config.webhook_allow_http_loopback = true;
        config.webhook_retry_schedule_secs = vec![3600];
    })
    .await
    else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the retention test on PostgreSQL");
        return;
    };
    let tenant = server.tenant("Salon Aufgeraeumt").await;
    let (ok_url, ok_receiver) = scripted_receiver(vec![StatusCode::OK]).await;
    let (ok_sub, _) = subscribe(server.channel.clone(), &tenant.admin, &ok_url).await;
    create_customer(server.channel.clone(), &tenant.agent, "0170 5550201", "keep-1").await;
    eventually("the first event is delivered", || (!ok_receiver.seen.lock().unwrap().is_empty()).then_some(())).await;
    attempts_until_success(server.channel.clone(), &tenant.admin, &ok_sub.id).await;

    // The next event also goes to a receiver that fails: it is still being delivered.
    let (failing_url, failing_receiver) = scripted_receiver(vec![StatusCode::SERVICE_UNAVAILABLE]).await;
    let (failing_sub, _) = subscribe(server.channel.clone(), &tenant.admin, &failing_url).await;
    create_customer(server.channel.clone(), &tenant.agent, "0170 5550202", "keep-2").await;
    eventually("the failing receiver was tried", || (!failing_receiver.seen.lock().unwrap().is_empty()).then_some(()))
        .await;
    eventually("the second event is delivered to the healthy receiver", || {
        (ok_receiver.seen.lock().unwrap().len() >= 2).then_some(())
    })
    .await;
    attempts_until(server.channel.clone(), &tenant.admin, &ok_sub.id, "two succeeded attempts", |logged| {
        logged.iter().filter(|d| d.status() == wh::DeliveryStatus::Succeeded).count() >= 2
    })
    .await;
    attempts_until(server.channel.clone(), &tenant.admin, &failing_sub.id, "the failed attempt", |logged| {
        logged.iter().any(|d| d.status() == wh::DeliveryStatus::Failed)
    })
    .await;

    // Everything is older than a cut-off in the future.
    let cutoff = chrono::Utc::now() + chrono::Duration::days(1);
    let purged = askpro::jobs::webhook_retention::run_once(&server.state.store, cutoff).await.expect("retention pass");
    assert_eq!(purged.outbound_events, 1, "the fully delivered event goes, the pending one stays: {purged:?}");

    // The healthy subscription's log keeps only the pending event's delivery;
    // the failing one still shows its attempt and the retry it waits for.
    let kept_ok = attempts(server.channel.clone(), &tenant.admin, &ok_sub.id).await;
    assert_eq!(kept_ok.len(), 1, "{kept_ok:?}");
    assert_eq!(kept_ok[0].status(), wh::DeliveryStatus::Succeeded);
    let kept_failing = attempts(server.channel.clone(), &tenant.admin, &failing_sub.id).await;
    assert!(kept_failing.iter().any(|d| d.status() == wh::DeliveryStatus::Failed), "{kept_failing:?}");
    assert_eq!(kept_ok[0].event_id, kept_failing[0].event_id, "the kept event is the one still pending");

    // A second pass finds nothing more.
    let again = askpro::jobs::webhook_retention::run_once(&server.state.store, cutoff).await.expect("retention pass");
    assert_eq!(again.outbound_events, 0);
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Fairness: one tenant's hanging receiver does not hold up another's events

/// A receiver that accepts connections and never answers; counts them.
async fn hanging_receiver() -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let accepted = Arc::new(Mutex::new(0usize));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            *count.lock().unwrap() += 1;
            held.push(stream);
        }
    });
    (url, accepted)
}

async fn a_hanging_receiver_does_not_delay_another_tenants_events(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| {
        c.webhook_allow_http_loopback = true;
        c.webhook_attempt_timeout_secs = 30;
        c.webhook_max_in_flight_per_destination = 2;
    })
    .await
    else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the webhook fairness test on PostgreSQL");
        return;
    };
    let noisy = server.tenant("Salon Hang").await;
    let (hang_url, accepted) = hanging_receiver().await;
    subscribe(server.channel.clone(), &noisy.admin, &hang_url).await;
    // More events for the hanging receiver than a pass used to take at once.
    for n in 0..20 {
        create_customer(server.channel.clone(), &noisy.agent, &format!("0170 55501{n:02}"), "noisy").await;
    }
    eventually("the hanging receiver holds its share", || (*accepted.lock().unwrap() >= 2).then_some(())).await;

    let quiet = server.tenant("Salon Ruhig").await;
    let (url, receiver) = scripted_receiver(vec![StatusCode::OK]).await;
    subscribe(server.channel.clone(), &quiet.admin, &url).await;
    let started = Instant::now();
    create_customer(server.channel.clone(), &quiet.agent, "0170 5550999", "quiet").await;
    let deadline = started + Duration::from_secs(5);
    while receiver.seen.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the other tenant's event did not arrive within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        *accepted.lock().unwrap() <= 2,
        "the hanging destination holds at most its cap of connections: {}",
        accepted.lock().unwrap()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_does_not_delay_another_tenants_events_sqlite() {
    a_hanging_receiver_does_not_delay_another_tenants_events(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_does_not_delay_another_tenants_events_postgres() {
    a_hanging_receiver_does_not_delay_another_tenants_events(Backend::Postgres).await;
}
