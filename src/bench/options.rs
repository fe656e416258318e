//! Command-line options of `askpro bench`.
use clap::Args;

use super::ops::Op;

/// Options of `askpro bench`. Defaults describe the "realistic tenant" of
/// issue 3: 20 staff, 10,000 customers, 50,000 appointments.
#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// Without --target: a PostgreSQL administrative URL (e.g.
    /// postgres://postgres@127.0.0.1:5432/postgres); the bench creates a fresh
    /// database `askpro_bench_<uuid>` there and drops it at the end. Omitted:
    /// a fresh SQLite file in a temporary folder, removed at the end. (The
    /// configured ASKPRO_DATABASE_URL is never used: a bench must not write
    /// into real data.) With --target: the database the target server uses,
    /// needed for bulk seeding and the raw-insert baseline; nothing is dropped then.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Benchmark a running server (e.g. http://127.0.0.1:50051) instead of an
    /// in-process one. Needs --platform-key and --database-url.
    #[arg(long, requires_all = ["platform_key", "database_url"])]
    pub target: Option<String>,
    /// Run the server as a process of its own (this executable's `serve`, on
    /// the bench database, started once the tenant is seeded) instead of in
    /// this process: cpu and rss are then the server's alone, read from its
    /// /metrics page.
    #[arg(long, conflicts_with = "target")]
    pub spawn_server: bool,
    /// A platform-admin key of the target server (creates the bench tenant and its key).
    #[arg(long, env = "ASKPRO_BENCH_PLATFORM_KEY", hide_env_values = true)]
    pub platform_key: Option<String>,
    /// Staff members of the seeded tenant.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub staff: u32,
    /// Customers of the seeded tenant.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub customers: u32,
    /// Appointments of the seeded tenant (in the past and the next 29 days).
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
    pub appointments: u32,
    /// Concurrent callers per operation.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Measured seconds per operation.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration_secs: u64,
    /// Unmeasured seconds before each operation's measurement, so connections
    /// are open and the database's caches hold the data the calls touch.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub warmup_secs: u64,
    /// 2: also run a second in-process server on the same PostgreSQL database
    /// and measure how long a change made through one replica takes to show
    /// in the other's cached reads (a new caller, a booked slot).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub replicas: u8,
    /// Measure only these operations (comma-separated, e.g.
    /// CreateAppointment,FindCustomerByPhone), beside the two baselines,
    /// which always run. Omitted: every operation.
    #[arg(long, value_delimiter = ',', value_parser = parse_operation)]
    pub operations: Vec<Op>,
    /// Link every staff member to a Cal.com stand-in on 127.0.0.1, so slot
    /// lists include Cal.com's busy times: cached (warm; the configured
    /// `calcom_busy_ttl_secs`) or, with ASKPRO_CALCOM_BUSY_TTL_SECS=0, read
    /// from the stand-in on every call (cold). In-process runs only.
    #[arg(long)]
    pub calcom: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

impl BenchArgs {
    /// Whether `op` is measured in this run.
    pub fn measures(&self, op: Op) -> bool {
        op.is_baseline() || self.operations.is_empty() || self.operations.contains(&op)
    }
}

fn parse_operation(name: &str) -> Result<Op, String> {
    Op::ALL.into_iter().filter(|op| !op.is_baseline()).find(|op| op.name() == name).ok_or_else(|| {
        let names: Vec<&str> = Op::ALL.iter().filter(|op| !op.is_baseline()).map(|op| op.name()).collect();
        format!("unknown operation {name:?}; one of {}", names.join(", "))
    })
}
