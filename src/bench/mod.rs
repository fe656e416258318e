//! `askpro bench`: seeds a realistic tenant and measures the five operations
//! the seed made claims about, end to end over gRPC, beside two baselines
//! taken in the same run on the same machine and database: a gRPC health
//! Check and a raw single-row insert transaction. Absolute times on a shared
//! machine drift; the ratios to the baselines drift less.
//!
//! By default the server runs in this process, on 127.0.0.1:0 over a fresh
//! database (SQLite file, or a new PostgreSQL database that is dropped at the
//! end, even after an error or Ctrl-C). With `--spawn-server` the server runs
//! as a process of its own on that database, so its CPU and memory are
//! reported apart from the bench client. With `--target` it measures a
//! running server instead.
//!
//! Errors: this is a command, not the service, so it uses `anyhow` (with
//! context) rather than the crate's gRPC-mapped `Error`; failed *calls* are
//! not errors of the command but counted per gRPC code in the report.
//!
//! Layout: `options` (CLI), `database` (provisioning), `layout` (where the
//! seeded appointments go), `seed` (writing them), `ops` (the measured
//! calls), `runner` (concurrency and percentiles), `usage` (what the server
//! used), `server_process` (`--spawn-server`), `report` (output).
mod calcom_stub;
pub mod credentials;
pub mod database;
mod floor;
pub mod layout;
pub mod ops;
pub mod options;
pub mod report;
pub mod runner;
pub mod seed;
mod server_process;
pub mod staleness;
pub mod usage;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::SecretString;
use tokio::sync::oneshot;
use tonic::transport::Channel;

use self::credentials::Credentials;
use self::database::BenchDatabase;
use self::ops::{Op, Workload};
pub use self::options::BenchArgs;
use self::report::{OpResult, Report};
use self::seed::{Size, TenantMaker};
use self::server_process::ServerProcess;
use self::usage::ServerUsage;
use crate::config::Config;
use crate::server;
use crate::store::Store;

/// Concurrent callers share at most this many HTTP/2 connections, like a
/// client process with a small channel pool.
const MAX_CHANNELS: usize = 4;
/// How long a stopping in-process server may take to drain.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the bench and prints the report (stdout); progress goes to stderr.
pub async fn run(config: Config, args: BenchArgs) -> anyhow::Result<()> {
    let database = BenchDatabase::provision(&args).await?;
    eprintln!("bench database: {}", database.describe());
    let outcome = tokio::select! {
        outcome = run_on(config, &args, &database) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    // Clean up before reporting either way: a failed run must not leave a database behind.
    if let Err(err) = database.remove().await {
        eprintln!("warning: could not remove the bench database: {err:#}");
    }
    let report = outcome?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}

async fn run_on(config: Config, args: &BenchArgs, database: &BenchDatabase) -> anyhow::Result<Report> {
    // The limiter stays in the path (its cost is part of every call) but with
    // quotas the load cannot reach: the bench measures capacity, not quotas.
    let unthrottled = crate::config::Quota { per_second: 1_000_000_000, burst: 1_000_000_000 };
    let config = Config {
        database_url: SecretString::from(database.url().to_owned()),
        rate_limit_per_key: unthrottled,
        rate_limit_per_tenant: unthrottled,
        rate_limit_tenant_overrides: Default::default(),
        // No load balancer waits for the in-process server to leave.
        shutdown_delay_secs: 0,
        // --calcom: the Cal.com stand-in listens on loopback.
        webhook_allow_http_loopback: config.webhook_allow_http_loopback || args.calcom,
        ..config
    };
    // The two-replica variant: a second server on the same database.
    anyhow::ensure!(
        !args.calcom || (args.target.is_none() && !args.spawn_server),
        "--calcom needs an in-process run (the stand-in Cal.com runs in this process)"
    );
    let second = if args.replicas == 2 {
        anyhow::ensure!(
            args.target.is_none() && !args.spawn_server && database.url().starts_with("postgres"),
            "--replicas 2 needs an in-process run on PostgreSQL (--database-url postgres://...)"
        );
        let state = server::prepare(config.clone()).await.context("preparing the second in-process server")?;
        let store = state.store.clone();
        Some((InProcessServer::start(state).await?, store))
    } else {
        None
    };
    let (in_process, store, mut side) = match &args.target {
        None if args.spawn_server => {
            let store = Store::connect(&config).await.context("connecting to the bench database")?;
            store.migrate().await.context("migrating the bench database")?;
            let side =
                ServerSide::Spawned { database_url: database.url().to_owned(), caches: config.caches, process: None };
            (None, store, side)
        }
        None => {
            let state = server::prepare(config).await.context("preparing the in-process server")?;
            let store = state.store.clone();
            let running = InProcessServer::start(state).await?;
            let address = format!("http://{}", running.addr);
            (Some(running), store, ServerSide::InProcess { address })
        }
        Some(target) => {
            let store = Store::connect(&config).await.context("connecting to the target server's database")?;
            (None, store, ServerSide::Target { address: target.clone() })
        }
    };
    let second_replica = second.as_ref().map(|(running, store)| (store, format!("http://{}", running.addr)));
    let outcome = bench(args, &store, &mut side, database, second_replica).await;
    if let Some(server) = in_process {
        server.stop().await;
    }
    if let ServerSide::Spawned { process: Some(process), .. } = side {
        process.stop().await;
    }
    if let Some((server, _)) = second {
        server.stop().await;
    }
    outcome
}

/// The server under test: where it is, and how its usage is read.
enum ServerSide {
    InProcess {
        address: String,
    },
    Target {
        address: String,
    },
    /// `--spawn-server`: started once the tenant is seeded.
    Spawned {
        database_url: String,
        caches: bool,
        process: Option<Box<ServerProcess>>,
    },
}

impl ServerSide {
    /// Where calls go, once the server runs; before seeding a spawned server
    /// has none yet.
    fn address(&self) -> Option<&str> {
        match self {
            Self::InProcess { address } | Self::Target { address } => Some(address),
            Self::Spawned { process, .. } => process.as_ref().map(|process| process.address.as_str()),
        }
    }

    /// Makes the seeded `tenant` warm in the server's caches (starting a
    /// spawned server, which warms on start) and answers the address to call.
    async fn ready(&mut self, store: &Store, tenant: crate::domain::ids::TenantId) -> anyhow::Result<String> {
        match self {
            // A server warms its caches when it starts; the tenant was seeded
            // after that, so they are warmed now, as `askpro warm-caches` would.
            Self::InProcess { address } => {
                crate::store::caches::warm_tenant(store, tenant).await.context("warming the caches")?;
                Ok(address.clone())
            }
            Self::Target { address } => {
                crate::store::caches::request_warm_up(store).await.context("asking to warm the caches")?;
                Ok(address.clone())
            }
            Self::Spawned { database_url, caches, process } => {
                eprintln!("starting `askpro serve` on the bench database ...");
                let started = ServerProcess::start(database_url, *caches).await?;
                let address = started.address.clone();
                *process = Some(Box::new(started));
                Ok(address)
            }
        }
    }

    fn usage(&self) -> anyhow::Result<ServerUsage> {
        match self {
            Self::InProcess { .. } => Ok(ServerUsage::ThisProcess),
            Self::Target { address } => ServerUsage::metrics_page(address),
            Self::Spawned { .. } => ServerUsage::metrics_page(self.address().unwrap_or_default()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::InProcess { address } => {
                let workers = tokio::runtime::Handle::current().metrics().num_workers();
                format!(
                    "in-process on {address}: the client load and the server share this process's tokio runtime \
                     ({workers} worker threads); cpu and rss include the bench client"
                )
            }
            Self::Target { address } => format!("target {address} (another process; usage from its /metrics page)"),
            Self::Spawned { process, .. } => {
                let pid =
                    process.as_ref().and_then(|process| process.pid()).map_or("?".to_owned(), |pid| pid.to_string());
                let address = self.address().unwrap_or_default();
                format!(
                    "`askpro serve` started by the bench on {address} (pid {pid}); cpu and rss are the server's alone"
                )
            }
        }
    }
}

async fn bench(
    args: &BenchArgs,
    store: &Store,
    side: &mut ServerSide,
    database: &BenchDatabase,
    second_replica: Option<(&Store, String)>,
) -> anyhow::Result<Report> {
    let db = store.connection().clone();
    database::create_scratch_table(&db).await.context("creating the scratch table")?;
    let outcome = seed_and_measure(args, store, side, second_replica).await;
    // Also after an error: against a target server the table would stay.
    let dropped = database::drop_scratch_table(&db).await.context("dropping the scratch table");
    let measured = outcome?;
    dropped?;
    let mut report = Report {
        started_at: measured.started_at,
        server: side.describe(),
        database: database.describe(),
        database_version: database::server_version(&db).await,
        cores: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
        load_average_before: measured.load_average_before,
        load_average_after: report::load_average(),
        size: measured.size,
        seeding: measured.seeding,
        concurrency: args.concurrency,
        duration_secs: args.duration_secs,
        warmup_secs: args.warmup_secs,
        free_slots: measured.free_slots,
        free_slots_used: measured.free_slots_used,
        results: measured.results,
        staleness: measured.staleness,
    };
    report.compute_ratios();
    Ok(report)
}

/// What seeding and measuring produced, for the report.
struct Measured {
    started_at: String,
    load_average_before: Option<String>,
    size: Size,
    seeding: seed::SeedTimings,
    results: Vec<OpResult>,
    free_slots: usize,
    free_slots_used: usize,
    staleness: Option<staleness::Staleness>,
}

/// Trials of each kind in the two-replica variant.
const STALENESS_TRIALS: usize = 50;

async fn seed_and_measure(
    args: &BenchArgs,
    store: &Store,
    side: &mut ServerSide,
    second_replica: Option<(&Store, String)>,
) -> anyhow::Result<Measured> {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let load_average_before = report::load_average();
    let concurrency = args.concurrency as usize;

    let size = Size {
        staff: args.staff as usize,
        customers: args.customers as usize,
        appointments: args.appointments as usize,
    };
    eprintln!("seeding {} staff, {} customers, {} appointments ...", size.staff, size.customers, size.appointments);
    let maker = match (&args.platform_key, &side) {
        (Some(platform_key), ServerSide::Target { address }) => {
            TenantMaker::Api { channel: connect(address, 1).await?.remove(0), platform_key }
        }
        _ => TenantMaker::Store,
    };
    let (fixture, seeding) = seed::seed(store, maker, size).await.context("seeding the bench tenant")?;
    eprintln!("seeded in {:.1} s (tenant {})", seeding.total.as_secs_f64(), fixture.tenant_id);
    let tenant = crate::domain::ids::TenantId(fixture.tenant_id);
    if args.calcom {
        let base_url = calcom_stub::start().await?;
        calcom_stub::connect(store, tenant, &base_url, &fixture.staff_ids).await.context("linking staff to Cal.com")?;
        eprintln!("every staff member linked to a Cal.com stand-in at {base_url}");
    }
    let address = side.ready(store, tenant).await?;
    let usage = side.usage()?;
    let channels = connect(&address, concurrency.min(MAX_CHANNELS)).await?;
    let free_slots = fixture.free_slots.len();
    let credentials = Credentials::new(&fixture.agent_key, None)?;
    let fixture = Arc::new(fixture);
    let first_channel = channels[0].clone();
    let workload = Arc::new(Workload::new(channels, credentials, store.clone(), fixture.clone())?);

    let warmup = Duration::from_secs(args.warmup_secs);
    let duration = Duration::from_secs(args.duration_secs);
    let mut results = Vec::new();
    for op in Op::ALL.into_iter().filter(|op| args.measures(*op)) {
        eprintln!("measuring {} ...", op.name());
        // One probe call first: an RPC that is not served yet is reported,
        // not measured as 100% errors.
        let mut probe = workload.caller(op, concurrency);
        if let Err(failure) = probe.call().await
            && failure.label.starts_with("UNIMPLEMENTED")
        {
            results.push(OpResult::unavailable(op, "unavailable (UNIMPLEMENTED)".into()));
            continue;
        }
        let callers = (0..concurrency).map(|index| workload.caller(op, index)).collect();
        let op_usage = if op.goes_through_server() { &usage } else { &ServerUsage::ThisProcess };
        let measurement = runner::measure(callers, warmup, duration, op_usage).await?;
        results.push(OpResult::measured(op, measurement));
    }
    let staleness = match second_replica {
        Some((second_store, second_address)) => {
            eprintln!("measuring staleness between two replicas ...");
            crate::store::caches::warm_tenant(second_store, tenant).await.context("warming the second replica")?;
            let credentials = Credentials::new(&fixture.agent_key, None)?;
            let replicas = staleness::Replicas {
                first: first_channel,
                second: connect(&second_address, 1).await?.remove(0),
                credentials: &credentials,
                fixture: &fixture,
            };
            Some(replicas.measure(STALENESS_TRIALS).await.context("measuring staleness")?)
        }
        None => None,
    };
    Ok(Measured {
        started_at,
        load_average_before,
        size,
        seeding,
        results,
        free_slots,
        free_slots_used: workload.slots_used(),
        staleness,
    })
}

async fn connect(address: &str, count: usize) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let channel = Channel::from_shared(address.to_owned())?
            .connect()
            .await
            .with_context(|| format!("connecting to {address}"))?;
        channels.push(channel);
    }
    Ok(channels)
}

/// The server under test, running as tasks of this process.
struct InProcessServer {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<crate::error::Result<()>>,
}

impl InProcessServer {
    async fn start(state: crate::api::AppState) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding 127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(state, listener, async move {
            let _ = signal.await;
        }));
        Ok(Self { addr, shutdown, task })
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        match tokio::time::timeout(STOP_TIMEOUT, self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => eprintln!("warning: the in-process server stopped with an error: {err}"),
            Ok(Err(err)) => eprintln!("warning: the in-process server task failed: {err}"),
            Err(_) => eprintln!("warning: the in-process server did not stop within {STOP_TIMEOUT:?}"),
        }
    }
}
