//! Test harness: a real server on 127.0.0.1:0 over a fresh database (a SQLite
//! file in a temporary folder, or a new PostgreSQL database on
//! ASKPRO_TEST_DATABASE_URL), and small builders for tenants.
#![allow(dead_code)]

pub mod booking;
pub mod fake_calcom;
pub mod http;
pub mod process;
pub mod salon;
pub mod time;

use std::net::SocketAddr;

use askpro::api::AppState;
use askpro::config::Config;
use askpro::domain::ids::TenantId;
use askpro::domain::slots::WeeklyInterval;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use askpro::proto::tenant::v1 as pb;
use askpro::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use askpro::proto::webhook::v1::webhook_service_client::WebhookServiceClient;
use askpro::server;
use sea_orm::{ConnectionTrait, Database};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body against a server on SQLite and one on PostgreSQL
/// (the latter only when ASKPRO_TEST_DATABASE_URL is set; otherwise it says
/// it was skipped).
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let server = common::TestServer::start(common::Backend::Sqlite).await.expect("sqlite always runs");
                    super::$name(&server).await;
                    server.stop().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(server) = common::TestServer::start(common::Backend::Postgres).await else {
                        common::say_skipped(&format!("set ASKPRO_TEST_DATABASE_URL to run {} on PostgreSQL", stringify!($name)));
                        return;
                    };
                    super::$name(&server).await;
                    server.stop().await;
                }
            }
        )*
    };
}

/// `on_both_databases!` for servers whose test configuration `$adjust`
/// (a `fn(&mut Config)`) changes first.
#[macro_export]
macro_rules! on_both_databases_with {
    ($adjust:expr; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let server = common::TestServer::start_with(common::Backend::Sqlite, $adjust).await.expect("sqlite always runs");
                    super::$name(&server).await;
                    server.stop().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(server) = common::TestServer::start_with(common::Backend::Postgres, $adjust).await else {
                        common::say_skipped(&format!("set ASKPRO_TEST_DATABASE_URL to run {} on PostgreSQL", stringify!($name)));
                        return;
                    };
                    super::$name(&server).await;
                    server.stop().await;
                }
            }
        )*
    };
}

/// Tells the person running the tests that one was skipped. Written to the
/// process's stderr directly: the test harness captures `eprintln!`.
pub fn say_skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

/// A database that exists for one test and is removed afterwards.
pub enum TestDb {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { admin_url: String, name: String, url: String },
}

impl TestDb {
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("askpro.db").display());
                Some(TestDb::Sqlite { _dir: dir, url })
            }
            Backend::Postgres => {
                let admin_url = std::env::var("ASKPRO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
                let name = format!("askpro_test_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(&admin_url).await.expect("connect to ASKPRO_TEST_DATABASE_URL");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.ok();
                let url = with_database(&admin_url, &name);
                Some(TestDb::Postgres { admin_url, name, url })
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            TestDb::Sqlite { .. } => Backend::Sqlite,
            TestDb::Postgres { .. } => Backend::Postgres,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name, .. } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; use a small runtime of its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                runtime.block_on(async {
                    let admin = Database::connect(&admin_url).await.ok()?;
                    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()?;
                    admin.close().await.ok()
                })
            })
            .join();
        }
    }
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map(|(b, q)| (b, Some(q))).unwrap_or((url, None));
    let prefix = match base.rfind('/') {
        Some(index) if index > "postgres://".len() => &base[..index],
        _ => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub channel: Channel,
    pub state: AppState,
    pub db: TestDb,
    platform_key: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<askpro::error::Result<()>>,
}

/// Quotas no functional test reaches (200 concurrent bookings from one key
/// must not be throttled); the rate-limit tests set their own.
pub const UNTHROTTLED: askpro::config::Quota = askpro::config::Quota { per_second: 1_000_000, burst: 1_000_000 };

/// The tests' key-encryption key (base64 of 32 bytes).
pub const TEST_SECRETS_KEY: &str = "dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=";

pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: SecretString::from(database_url.to_owned()),
        database_max_connections: 5,
        log_filter: "warn".into(),
        // Tests stop servers at once; the delay has a test of its own.
        shutdown_delay_secs: 0,
        rate_limit_per_key: UNTHROTTLED,
        rate_limit_per_tenant: UNTHROTTLED,
        unauthenticated_limit_per_address: UNTHROTTLED,
        // Shared by every server and replica of the tests (so a second
        // replica opens what the first sealed); never a file in the project.
        secrets_keys: vec![SecretString::from(TEST_SECRETS_KEY.to_owned())],
        ..Config::default()
    }
}

/// Another server over a running one's database: a second replica.
pub struct Replica {
    pub channel: Channel,
    pub state: AppState,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<askpro::error::Result<()>>,
}

impl Replica {
    /// Stops it after its in-flight calls (and open streams) end.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server whose test configuration `adjust` changes first.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        let mut config = test_config(db.url());
        adjust(&mut config);
        let state = server::prepare(config).await.expect("server prepares");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(state.clone(), listener, async move {
            let _ = signal.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect");
        let issued = askpro::domain::api_key::issue();
        let tx = state.store.platform().await.expect("platform tx");
        askpro::store::api_keys::create_platform_admin(&tx, &issued, "test platform admin".into())
            .await
            .expect("platform key");
        tx.commit().await.expect("commit");
        let platform_key = issued.full_key.expose_secret().to_owned();
        Some(Self { addr, channel, state, db, platform_key, shutdown: Some(shutdown), task })
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub fn platform_key(&self) -> &str {
        &self.platform_key
    }

    pub fn tenants(&self) -> TenantServiceClient<Channel> {
        TenantServiceClient::new(self.channel.clone())
    }

    pub fn availability(&self) -> AvailabilityServiceClient<Channel> {
        AvailabilityServiceClient::new(self.channel.clone())
    }

    pub fn appointments(&self) -> AppointmentServiceClient<Channel> {
        AppointmentServiceClient::new(self.channel.clone())
    }

    pub fn webhooks(&self) -> WebhookServiceClient<Channel> {
        WebhookServiceClient::new(self.channel.clone())
    }

    /// Replaces a staff member's week straight in the store: the tests using
    /// it are not about SetWorkingHours.
    pub async fn set_weekly_hours(&self, fixture: &TenantFixture, staff_id: &str, week: &[WeeklyInterval]) {
        let staff = uuid::Uuid::parse_str(staff_id).expect("staff id");
        let tx = self.state.store.write(fixture.tenant_id()).await.expect("write tx");
        askpro::store::working_hours::replace(&tx, staff, week).await.expect("working hours");
        tx.commit().await.expect("commit");
    }

    /// A staff member working from `start_minute` to `end_minute` every day
    /// of the week.
    pub async fn open_daily(&self, fixture: &TenantFixture, staff_id: &str, start_minute: i32, end_minute: i32) {
        let week: Vec<_> =
            (1..=7).map(|day_of_week| WeeklyInterval { day_of_week, start_minute, end_minute }).collect();
        self.set_weekly_hours(fixture, staff_id, &week).await;
    }

    /// A second replica over this server's database.
    pub async fn second_replica(&self) -> Replica {
        self.second_replica_with(|_| {}).await
    }

    /// A second replica whose test configuration `adjust` changes first.
    pub async fn second_replica_with(&self, adjust: impl FnOnce(&mut Config)) -> Replica {
        let mut config = test_config(self.db.url());
        adjust(&mut config);
        let state = server::prepare(config).await.expect("second replica");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(state.clone(), listener, async move {
            let _ = stopped.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect");
        Replica { channel, state, stop, task }
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// A tenant with an admin, an agent and a read-only key, one branch, one
    /// service and one staff member offering it, all made through the API.
    pub async fn tenant(&self, name: &str) -> TenantFixture {
        let mut client = self.tenants();
        let tenant = create_tenant(&mut client, &self.platform_key, name).await;
        let admin =
            create_key(&mut client, as_tenant(&self.platform_key, &tenant.id), pb::ApiKeyScope::TenantAdmin).await;
        let agent = create_key(&mut client, Key::Tenant(&admin), pb::ApiKeyScope::Agent).await;
        let reader = create_key(&mut client, Key::Tenant(&admin), pb::ApiKeyScope::ReadOnly).await;
        let branch = client
            .create_branch(authed(
                pb::CreateBranchRequest {
                    request_id: String::new(),
                    branch: Some(pb::Branch {
                        display_name: format!("{name} Mitte"),
                        time_zone: "Europe/Berlin".into(),
                        phone_numbers: vec!["030 1234567".into()],
                        ..Default::default()
                    }),
                },
                &admin,
            ))
            .await
            .expect("create branch")
            .into_inner()
            .branch
            .expect("branch");
        let service = client
            .create_service(authed(
                pb::CreateServiceRequest {
                    request_id: String::new(),
                    service: Some(pb::Service {
                        display_name: "Haircut".into(),
                        duration: Some(minutes(45)),
                        ..Default::default()
                    }),
                },
                &admin,
            ))
            .await
            .expect("create service")
            .into_inner()
            .service
            .expect("service");
        let staff = client
            .create_staff(authed(
                pb::CreateStaffRequest {
                    request_id: String::new(),
                    staff: Some(pb::Staff {
                        branch_id: branch.id.clone(),
                        display_name: "Anna".into(),
                        service_ids: vec![service.id.clone()],
                        ..Default::default()
                    }),
                },
                &admin,
            ))
            .await
            .expect("create staff")
            .into_inner()
            .staff
            .expect("staff");
        TenantFixture { id: tenant.id, admin, agent, reader, branch, service, staff }
    }
}

pub struct TenantFixture {
    pub id: String,
    pub admin: String,
    pub agent: String,
    pub reader: String,
    pub branch: pb::Branch,
    pub service: pb::Service,
    pub staff: pb::Staff,
}

impl TenantFixture {
    pub fn tenant_id(&self) -> TenantId {
        TenantId(uuid::Uuid::parse_str(&self.id).expect("tenant id"))
    }
}

/// How a request authenticates.
#[derive(Clone, Copy)]
pub enum Key<'a> {
    Tenant(&'a str),
    Platform { key: &'a str, tenant: &'a str },
}

pub fn as_tenant<'a>(key: &'a str, tenant: &'a str) -> Key<'a> {
    Key::Platform { key, tenant }
}

/// Creates a tenant named `name` in Berlin (region DE), as a platform admin.
pub async fn create_tenant(client: &mut TenantServiceClient<Channel>, platform_key: &str, name: &str) -> pb::Tenant {
    let tenant = pb::Tenant {
        display_name: name.into(),
        time_zone: "Europe/Berlin".into(),
        region_code: "DE".into(),
        ..Default::default()
    };
    client
        .create_tenant(authed(
            pb::CreateTenantRequest { request_id: String::new(), tenant: Some(tenant) },
            platform_key,
        ))
        .await
        .expect("create tenant")
        .into_inner()
        .tenant
        .expect("tenant")
}

async fn create_key(client: &mut TenantServiceClient<Channel>, key: Key<'_>, scope: pb::ApiKeyScope) -> String {
    create_named_key(client, key, scope, &format!("{scope:?} key")).await
}

/// Issues an API key of `scope` called `name` and returns its secret.
pub async fn create_named_key(
    client: &mut TenantServiceClient<Channel>,
    key: Key<'_>,
    scope: pb::ApiKeyScope,
    name: &str,
) -> String {
    let request = pb::CreateApiKeyRequest {
        api_key: Some(pb::ApiKey { display_name: name.into(), scope: scope as i32, ..Default::default() }),
    };
    client.create_api_key(with_key(request, key)).await.expect("create key").into_inner().secret
}

/// A request carrying `authorization: Bearer <key>`.
pub fn authed<T>(message: T, key: &str) -> Request<T> {
    with_key(message, Key::Tenant(key))
}

pub fn with_key<T>(message: T, key: Key<'_>) -> Request<T> {
    let mut request = Request::new(message);
    let (key, tenant) = match key {
        Key::Tenant(key) => (key, None),
        Key::Platform { key, tenant } => (key, Some(tenant)),
    };
    request.metadata_mut().insert("authorization", format!("Bearer {key}").parse().expect("ascii key"));
    if let Some(tenant) = tenant {
        request.metadata_mut().insert("x-askpro-tenant-id", tenant.parse().expect("ascii id"));
    }
    request
}

pub fn minutes(n: i64) -> prost_types::Duration {
    prost_types::Duration { seconds: n * 60, nanos: 0 }
}

/// Asserts a call failed with `code`, and returns the status for more checks.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(result: Result<tonic::Response<T>, Status>, code: Code) -> Status {
    match result {
        Ok(response) => panic!("expected {code:?}, got OK: {:?}", response.into_inner()),
        Err(status) => {
            assert_eq!(status.code(), code, "unexpected status: {status:?}");
            status
        }
    }
}

/// The ErrorInfo reason of a status.
pub fn reason(status: &Status) -> String {
    use tonic_types::StatusExt;
    status.get_error_details().error_info().map(|info| info.reason.clone()).unwrap_or_default()
}

/// The fields named in a status's BadRequest details.
pub fn violated_fields(status: &Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

/// Asserts a call failed with `code` and ErrorInfo reason `why`.
#[track_caller]
pub fn expect_reason<T: std::fmt::Debug>(result: Result<tonic::Response<T>, Status>, code: Code, why: &str) -> Status {
    let status = expect_code(result, code);
    assert_eq!(reason(&status), why, "{status:?}");
    status
}

/// The ErrorInfo metadata of a status.
pub fn error_metadata(status: &Status) -> std::collections::HashMap<String, String> {
    use tonic_types::StatusExt;
    status.get_error_details().error_info().map(|info| info.metadata.clone()).unwrap_or_default()
}

/// A fresh idempotency key.
pub fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// An update mask of `paths`.
pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

pub fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

/// Whether `needle` (non-empty) occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The secret part of an API key: the text after the second underscore.
pub fn secret_part(key: &str) -> &str {
    key.splitn(3, '_').nth(2).expect("a key has two underscores")
}

/// The test Redis (ASKPRO_TEST_REDIS_URL), or `None` after saying that
/// `what` is skipped.
pub fn redis_url(what: &str) -> Option<String> {
    match std::env::var("ASKPRO_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            say_skipped(&format!("set ASKPRO_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/) to run {what}"));
            None
        }
    }
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    port
}
