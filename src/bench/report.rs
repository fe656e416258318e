//! The bench's result: a readable table, or one JSON object.
use std::fmt::Write as _;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::ops::Op;
use super::runner::Measurement;
use super::seed::{SeedTimings, Size};

#[derive(Debug, Serialize)]
pub struct Report {
    /// When the run started (UTC, RFC 3339).
    pub started_at: String,
    /// Where the calls went and what ran the server.
    pub server: String,
    pub database: String,
    pub database_version: String,
    /// Logical cores of this machine (`available_parallelism`).
    pub cores: usize,
    /// The 1-, 5- and 15-minute load averages (Linux) when the run started
    /// and ended: other work on a shared machine moves the numbers.
    pub load_average_before: Option<String>,
    pub load_average_after: Option<String>,
    pub size: Size,
    pub seeding: SeedTimings,
    pub concurrency: u32,
    pub duration_secs: u64,
    pub warmup_secs: u64,
    /// CreateAppointment's precomputed free slots, and how many it used.
    pub free_slots: usize,
    pub free_slots_used: usize,
    pub results: Vec<OpResult>,
    /// The two-replica variant (`--replicas 2`): change-to-visible times.
    pub staleness: Option<super::staleness::Staleness>,
}

#[derive(Debug, Serialize)]
pub struct OpResult {
    pub operation: &'static str,
    pub baseline: bool,
    pub description: &'static str,
    /// "measured", or why not (e.g. "unavailable (UNIMPLEMENTED)").
    pub status: String,
    pub measurement: Option<Measurement>,
    /// Throughput divided by the health-check baseline's.
    pub throughput_vs_health: Option<f64>,
    /// Throughput divided by the raw-insert baseline's.
    pub throughput_vs_raw_insert: Option<f64>,
}

impl OpResult {
    pub fn measured(op: Op, measurement: Measurement) -> Self {
        Self {
            operation: op.name(),
            baseline: op.is_baseline(),
            description: op.description(),
            status: "measured".into(),
            measurement: Some(measurement),
            throughput_vs_health: None,
            throughput_vs_raw_insert: None,
        }
    }

    pub fn unavailable(op: Op, why: String) -> Self {
        Self {
            operation: op.name(),
            baseline: op.is_baseline(),
            description: op.description(),
            status: why,
            measurement: None,
            throughput_vs_health: None,
            throughput_vs_raw_insert: None,
        }
    }
}

impl Report {
    /// Fills in each operation's throughput relative to both baselines.
    pub fn compute_ratios(&mut self) {
        let throughput_of = |name: &str| {
            self.results
                .iter()
                .find(|r| r.operation == name)
                .and_then(|r| r.measurement.as_ref())
                .map(|m| m.throughput)
                .filter(|t| *t > 0.0)
        };
        let health = throughput_of(Op::HealthCheck.name());
        let insert = throughput_of(Op::RawInsert.name());
        for result in &mut self.results {
            if let Some(m) = &result.measurement {
                result.throughput_vs_health = health.map(|h| m.throughput / h);
                result.throughput_vs_raw_insert = insert.map(|i| m.throughput / i);
            }
        }
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let s = &self.seeding;
        let _ = writeln!(out, "askpro bench, started {}", self.started_at);
        let _ = writeln!(out, "server:    {}", self.server);
        let _ = writeln!(out, "database:  {} ({})", self.database_version, self.database);
        let load = |l: &Option<String>| l.clone().unwrap_or_else(|| "unknown".into());
        let _ = writeln!(
            out,
            "machine:   {} logical cores; load average {} at the start, {} at the end",
            self.cores,
            load(&self.load_average_before),
            load(&self.load_average_after)
        );
        let _ = writeln!(
            out,
            "tenant:    {} staff, {} customers, {} appointments; seeded in {:.1} s \
             (setup {:.2} s, customers {:.1} s, appointments {:.1} s)",
            self.size.staff,
            self.size.customers,
            self.size.appointments,
            s.total.as_secs_f64(),
            s.setup.as_secs_f64(),
            s.customers.as_secs_f64(),
            s.appointments.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "load:      {} concurrent callers per operation, {} s measured after {} s warm-up",
            self.concurrency, self.duration_secs, self.warmup_secs
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<22} {:>8} {:>7} {:>10} {:>9} {:>9} {:>7} {:>9} {:>10} {:>10} {:>7} {:>7} {:>8} {:>7}",
            "operation",
            "calls",
            "errors",
            "calls/s",
            "p50 ms",
            "p99 ms",
            "p99/p50",
            "max ms",
            "vs health",
            "vs insert",
            "items",
            "stmts",
            "cpu µs",
            "rss MB"
        );
        for result in &self.results {
            let name = if result.baseline { format!("{} *", result.operation) } else { result.operation.to_owned() };
            match &result.measurement {
                Some(m) => {
                    let _ = writeln!(
                        out,
                        "{:<22} {:>8} {:>7} {:>10.1} {:>9.3} {:>9.3} {:>7.1} {:>9.3} {:>10} {:>10} {:>7.1} {:>7} {:>8} {:>7}",
                        name,
                        m.calls,
                        m.error_count(),
                        m.throughput,
                        ms(m.p50),
                        ms(m.p99),
                        if m.p50.is_zero() { 0.0 } else { m.p99.as_secs_f64() / m.p50.as_secs_f64() },
                        ms(m.max),
                        ratio(result.throughput_vs_health),
                        ratio(result.throughput_vs_raw_insert),
                        m.items_per_call,
                        m.statements_per_call.map_or("-".to_owned(), |n| format!("{n:.1}")),
                        m.cpu_us_per_call.map_or("-".to_owned(), |n| format!("{n:.0}")),
                        m.rss_mb.map_or("-".to_owned(), |n| format!("{n:.0}"))
                    );
                }
                None => {
                    let _ = writeln!(out, "{name:<22} {}", result.status);
                }
            }
        }
        let _ = writeln!(out, "* baseline. vs health / vs insert: the operation's calls/s divided by the baseline's.");
        let throughput_of = |op: Op| {
            self.results
                .iter()
                .find(|r| r.operation == op.name())
                .and_then(|r| r.measurement.as_ref())
                .map(|m| m.throughput)
        };
        if let (Some(booking), Some(floor)) = (throughput_of(Op::CreateAppointment), throughput_of(Op::BookingFloor))
            && floor > 0.0
        {
            let _ = writeln!(
                out,
                "CreateAppointment reaches {:.2} of the booking floor (the database's share of a booking alone).",
                booking / floor
            );
        }
        let _ = writeln!(out, "Latencies are of successful calls only, measured at the client, end to end over gRPC.");
        let _ = writeln!(
            out,
            "stmts: database statements the server sent per call (BEGIN/COMMIT not counted), independent of load."
        );
        let _ = writeln!(
            out,
            "cpu µs: CPU time of the server process per call; rss MB: its resident memory after the operation \
             (in-process: server and bench client together; --spawn-server: the server alone)."
        );
        if let Some(s) = &self.staleness {
            let _ = writeln!(
                out,
                "\ntwo replicas, {} trials each: a new caller visible in the other's FindCustomerByPhone after \
                 p50 {:.3} ms, max {:.3} ms; a booked slot gone from the other's ListAvailableSlots after p50 {:.3} \
                 ms, max {:.3} ms",
                s.trials, s.new_caller_p50_ms, s.new_caller_max_ms, s.booked_slot_p50_ms, s.booked_slot_max_ms
            );
        }
        let errors: Vec<String> = self
            .results
            .iter()
            .filter_map(|r| r.measurement.as_ref().map(|m| (r.operation, m)))
            .flat_map(|(op, m)| m.errors.iter().map(move |(label, n)| format!("  {op}: {label} x{n}")))
            .collect();
        if !errors.is_empty() {
            let _ = writeln!(out, "\nerrors:");
            for line in errors {
                let _ = writeln!(out, "{line}");
            }
        }
        if self.results.iter().any(|r| r.measurement.as_ref().is_some_and(|m| m.exhausted)) {
            let _ = writeln!(
                out,
                "\nnote: CreateAppointment used up all {} free slots before the time was over",
                self.free_slots
            );
        }
        let _ = writeln!(out, "\nwhat one call does:");
        for result in &self.results {
            let _ = writeln!(out, "  {:<20} {}", result.operation, result.description);
        }
        out
    }
}

/// The load averages from /proc/loadavg, e.g. "1.20 0.98 0.75"; None where there is none.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn ratio(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.3}x")).unwrap_or_else(|| "-".into())
}

/// Serializes a duration as fractional milliseconds.
pub fn millis<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(ms(*duration))
}

/// Serializes a duration as fractional seconds.
pub fn seconds<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}
