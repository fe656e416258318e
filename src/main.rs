//! The `askpro` command: serve, migrate, seed the demo tenant, and create
//! platform-admin keys.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use askpro::config::Config;
use askpro::seed::{DemoSeed, seed_demo};
use askpro::store::Store;
use askpro::{server, telemetry};
use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: measured with `askpro bench`
/// (docs/benchmarks.md), it returns freed memory to the system where glibc's
/// per-thread arenas kept it, and costs less CPU per allocation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps transparent huge pages out of this process. mimalloc asks for them
/// on its arena (MADV_HUGEPAGE), and the kernel then backs every touched
/// 2 MiB of it whole: an idle server held 50 MB of mostly empty huge pages
/// (73 MB resident instead of 41). Measured with `askpro bench`, the CPU per
/// call is the same without them (docs/benchmarks.md). Applies to pages
/// touched from here on; mimalloc's own option for it (MIMALLOC_ALLOW_THP=0)
/// is read from the environment before main runs, so it cannot be set here.
fn keep_huge_pages_out() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory
    // of ours; a failure (an old kernel) only leaves huge pages allowed.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[derive(Parser)]
#[command(name = "askpro", version, about = "Appointment-booking backend for AI phone assistants")]
struct Cli {
    /// TOML configuration file (default: ./askpro.toml when present). Every
    /// setting can also be given as ASKPRO_<SETTING>.
    #[arg(long, global = true, env = "ASKPRO_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (gRPC, grpc-web and HTTP on one port).
    Serve {
        /// Address to listen on (overrides ASKPRO_LISTEN and the file).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Create the demo tenant if absent and print fresh demo keys.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Seed data.
    Seed {
        #[command(subcommand)]
        what: SeedCommand,
    },
    /// Ask every running server on the configured PostgreSQL database to
    /// warm its in-process caches now, as it does at start (after a bulk
    /// import, say). A server on SQLite warms its caches when it starts.
    WarmCaches,
    /// Remove holds that ended more than an hour ago (the server also does
    /// this every minute).
    CleanupHolds,
    /// Prove tenant isolation on the configured database: foreign keys carry
    /// the tenant, no orphan rows, and on PostgreSQL forced row-level security
    /// that an unknown tenant cannot see through. Exits 1 when it does not hold.
    AuditTenancy {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Seal every stored secret again under the first of the configured
    /// key-encryption keys (`secrets_keys` or `secrets_key_file`), after a
    /// new key was put first; the old key can then be removed.
    RotateSecrets,
    /// Manage platform-admin keys (never available through the API).
    PlatformKey {
        #[command(subcommand)]
        action: PlatformKeyCommand,
    },
    /// Seed a realistic tenant and measure the main operations over gRPC
    /// beside a health-check and a raw-insert baseline.
    Bench(askpro::bench::BenchArgs),
    /// Live view of a running server from its /metrics page: calls/s, errors
    /// and p50/p99 latency per method, holds, pool, dependencies.
    Top(askpro::top::TopArgs),
}

#[derive(Subcommand)]
enum SeedCommand {
    /// Create the demo hair salon (if absent) and print fresh keys.
    Demo {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PlatformKeyCommand {
    /// Create a platform-admin key and print it once. It expires after
    /// --expire-days (default 90) unless --no-expiry is given.
    Create {
        /// A name to recognise the key by.
        #[arg(long, default_value = "platform admin")]
        name: String,
        /// Days until the key stops working.
        #[arg(long, default_value_t = askpro::platform_keys::DEFAULT_LIFETIME_DAYS, conflicts_with = "no_expiry")]
        expire_days: u32,
        /// A key that never expires (the audit reports such keys).
        #[arg(long)]
        no_expiry: bool,
    },
    /// List the platform-admin keys with expiry and last use.
    List {
        /// Also list revoked keys.
        #[arg(long)]
        all: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a platform-admin key by id.
    Revoke {
        /// The key's id (the part after `ak_`, as `list` shows it).
        id: String,
    },
}

fn main() -> anyhow::Result<()> {
    keep_huge_pages_out();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref()).context("reading configuration")?;
    if let Command::Serve { listen: Some(listen), .. } = &cli.command {
        config.listen = *listen;
    }
    // Flushes the log when main returns.
    let _log_writer = telemetry::init(&config);

    match cli.command {
        Command::Serve { demo, .. } => serve(config, demo).await,
        Command::Migrate => {
            let store = Store::connect(&config).await?;
            store.migrate().await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Seed { what: SeedCommand::Demo { json } } => {
            let state = server::prepare(config).await?;
            let seed = seed_demo(&state.store).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&seed)?);
            } else {
                print_demo(&seed, None);
            }
            Ok(())
        }
        Command::WarmCaches => {
            let store = Store::connect(&config).await?;
            if store.backend() == sea_orm::DbBackend::Postgres {
                let listening = askpro::store::caches::request_warm_up(&store).await?;
                eprintln!("asked the running servers to warm their caches ({listening} listening)");
            } else {
                eprintln!(
                    "SQLite: the one server process warms its caches when it starts; nothing to ask (on PostgreSQL \
                     this asks every running replica)"
                );
            }
            Ok(())
        }
        Command::CleanupHolds => {
            let state = server::prepare(config).await?;
            let removed = askpro::jobs::hold_cleanup::run_once(&state.store).await?;
            eprintln!("removed {removed} ended holds and claims");
            Ok(())
        }
        Command::AuditTenancy { json } => {
            let store = Store::connect(&config).await?;
            let report = askpro::audit::tenant_isolation(&store).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", askpro::audit::render(&report));
            }
            if !report.passed() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::PlatformKey { action } => platform_key(config, action).await,
        Command::RotateSecrets => {
            let state = server::prepare(config).await?;
            let sealed = askpro::store::secrets_at_rest::reseal(
                &state.store,
                askpro::store::secrets_at_rest::Reseal::NotCurrent,
            )
            .await?;
            eprintln!("sealed {sealed} secrets under the current key; older keys can now be removed");
            Ok(())
        }
        Command::Bench(args) => askpro::bench::run(config, args).await,
        Command::Top(args) => Ok(askpro::top::run(args, config.listen).await?),
    }
}

async fn platform_key(config: Config, action: PlatformKeyCommand) -> anyhow::Result<()> {
    use askpro::platform_keys;
    let state = server::prepare(config).await?;
    match action {
        PlatformKeyCommand::Create { name, expire_days, no_expiry } => {
            let created = platform_keys::create(&state.store, name, (!no_expiry).then_some(expire_days)).await?;
            println!("{}", platform_keys::shown_once(&created));
            match created.row.expire_time {
                Some(at) => eprintln!("platform-admin key {} expires {}", created.row.id, at.to_rfc3339()),
                None => eprintln!("platform-admin key {} never expires", created.row.id),
            }
        }
        PlatformKeyCommand::List { all, json } => {
            let rows = platform_keys::list(&state.store, all).await?;
            if json {
                let listed: Vec<platform_keys::Listed> = rows.iter().map(platform_keys::Listed::from).collect();
                println!("{}", serde_json::to_string_pretty(&listed)?);
            } else {
                print!("{}", platform_keys::render(&rows));
            }
        }
        PlatformKeyCommand::Revoke { id } => {
            let row = platform_keys::revoke(&state.store, &id).await?;
            eprintln!(
                "revoked platform-admin key {} ({}); other servers stop accepting it within api_key_cache_secs",
                row.id, row.display_name
            );
        }
    }
    Ok(())
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    // The listener closes after the delay; in-flight calls then get the grace.
    let grace = Duration::from_secs(config.shutdown_delay_secs + config.shutdown_grace_period_secs);
    let listen = config.listen;
    let state = server::prepare(config).await?;
    if demo {
        let seed = seed_demo(&state.store).await?;
        print_demo(&seed, Some(listen));
    }
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "askpro serving gRPC, grpc-web and HTTP");

    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown_signal().await;
        let _ = signalled_tx.send(());
    };
    let server = server::serve(state, listener, shutdown);
    // In-flight calls get the grace period; long streams are cut after it.
    let deadline = async move {
        if signalled_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result?,
        () = deadline => tracing::warn!("grace period over; closing remaining connections"),
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return ctrl_c.await.unwrap_or_default(),
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or_default();
}

fn print_demo(seed: &DemoSeed, listen: Option<SocketAddr>) {
    let verb = if seed.created { "created" } else { "already present" };
    println!("Demo tenant \"{}\" {verb} (id {}).", askpro::seed::DEMO_TENANT_NAME, seed.tenant_id);
    println!("Fresh demo keys (shown once; earlier demo keys are revoked):");
    println!("  platform admin: {}", seed.platform_admin_key);
    println!("  tenant admin:   {}", seed.tenant_admin_key);
    println!("  agent:          {}", seed.agent_key);
    if let Some(listen) = listen {
        println!();
        println!(
            "Try: grpcurl -plaintext -H 'authorization: Bearer {}' {listen} askpro.tenant.v1.TenantService/ListBranches",
            seed.agent_key
        );
    }
}
