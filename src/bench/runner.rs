//! Runs one operation with N concurrent callers for a fixed time and turns
//! the per-call latencies into percentiles.
//!
//! Each caller issues calls back to back (a closed loop: the next call starts
//! when the previous one answered), so throughput is what the server sustains
//! at that concurrency, and latency includes any queueing in the server.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Serialize;

use super::usage::ServerUsage;

/// Why one call did not succeed.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What to count it as, e.g. "UNAVAILABLE" or "ALREADY_EXISTS (SLOT_TAKEN)".
    pub label: String,
    /// The caller has nothing left to do (CreateAppointment ran out of free slots).
    pub exhausted: bool,
}

impl Failure {
    pub fn new(label: impl Into<String>) -> Self {
        Self { label: label.into(), exhausted: false }
    }
}

/// One concurrent caller of an operation, with its own client and state.
#[async_trait]
pub trait Caller: Send {
    /// Makes one call; on success, how many items it returned (slots,
    /// appointments, ...), to show the calls did real work.
    async fn call(&mut self) -> Result<u64, Failure>;
}

/// Everything measured about one operation.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Measurement {
    /// Successful calls in the measured window.
    pub calls: u64,
    /// Failed calls by label; not part of the latencies.
    pub errors: BTreeMap<String, u64>,
    /// Successful calls per second of the measured window.
    pub throughput: f64,
    #[serde(rename = "p50_ms", serialize_with = "super::report::millis")]
    pub p50: Duration,
    #[serde(rename = "p99_ms", serialize_with = "super::report::millis")]
    pub p99: Duration,
    #[serde(rename = "max_ms", serialize_with = "super::report::millis")]
    pub max: Duration,
    #[serde(rename = "mean_ms", serialize_with = "super::report::millis")]
    pub mean: Duration,
    /// Items per successful call.
    pub items_per_call: f64,
    /// Seconds the measured window lasted (until the last call answered).
    pub window_secs: f64,
    /// Some caller stopped early because it ran out of work.
    pub exhausted: bool,
    /// Database statements the server sent per call (warm-up and failed calls
    /// included; BEGIN and COMMIT not counted): a cost that does not depend
    /// on the machine's load. Absent when the server does not say (an older
    /// server's /metrics page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statements_per_call: Option<f64>,
    /// CPU time (user + system) of the server process per call, in µs: with
    /// an in-process server that is the server and the bench's own client
    /// together. Absent off Linux.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_us_per_call: Option<f64>,
    /// Resident memory of the server process after the operation ran, in MB
    /// (in-process: with the bench client).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_mb: Option<f64>,
}

impl Measurement {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// What one caller saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: BTreeMap<String, u64>,
    items: u64,
    exhausted: bool,
    last_answer: Option<Instant>,
    /// Every call made, warm-up and failures included.
    attempts: u64,
}

/// Runs `callers` concurrently: unmeasured for `warmup`, then measured for
/// `duration`. Only calls that start inside the measured window count.
/// What the server used is read from `usage` before and after, per attempt
/// (warm-up included, as the server served those too).
pub async fn measure(
    callers: Vec<Box<dyn Caller>>,
    warmup: Duration,
    duration: Duration,
    usage: &ServerUsage,
) -> anyhow::Result<Measurement> {
    let usage_before = usage.sample().await;
    let measure_from = Instant::now() + warmup;
    let stop_at = measure_from + duration;
    let mut tasks = Vec::with_capacity(callers.len());
    for mut caller in callers {
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let started = Instant::now();
                if started >= stop_at {
                    break;
                }
                let outcome = caller.call().await;
                let answered = Instant::now();
                tally.attempts += 1;
                if let Err(failure) = &outcome
                    && failure.exhausted
                {
                    tally.exhausted = true;
                    break;
                }
                if started < measure_from {
                    continue;
                }
                tally.last_answer = Some(answered);
                match outcome {
                    Ok(items) => {
                        tally.latencies.push(answered - started);
                        tally.items += items;
                    }
                    Err(failure) => *tally.errors.entry(failure.label).or_default() += 1,
                }
            }
            tally
        }));
    }
    let mut latencies = Vec::new();
    let mut measurement = Measurement::default();
    let mut items = 0;
    let mut attempts = 0;
    let mut last_answer = measure_from;
    for task in tasks {
        let tally = task.await?;
        attempts += tally.attempts;
        latencies.extend(tally.latencies);
        for (label, count) in tally.errors {
            *measurement.errors.entry(label).or_default() += count;
        }
        items += tally.items;
        measurement.exhausted |= tally.exhausted;
        if let Some(at) = tally.last_answer {
            last_answer = last_answer.max(at);
        }
    }
    // The window ends at the planned stop, or later if calls still answered
    // after it; earlier only when callers ran out of work.
    let window_end = if measurement.exhausted { last_answer } else { last_answer.max(stop_at) };
    let window = window_end.saturating_duration_since(measure_from);
    summarize(&mut measurement, latencies, items, window);
    let per_call = usage_before.per_call(&usage.sample().await, attempts);
    measurement.statements_per_call = per_call.statements;
    measurement.cpu_us_per_call = per_call.cpu_us;
    measurement.rss_mb = per_call.rss_mb;
    Ok(measurement)
}

fn summarize(measurement: &mut Measurement, mut latencies: Vec<Duration>, items: u64, window: Duration) {
    latencies.sort_unstable();
    let calls = latencies.len() as u64;
    measurement.calls = calls;
    measurement.window_secs = window.as_secs_f64();
    if calls == 0 {
        return;
    }
    measurement.throughput = if window.is_zero() { 0.0 } else { calls as f64 / window.as_secs_f64() };
    measurement.p50 = percentile(&latencies, 50.0);
    measurement.p99 = percentile(&latencies, 99.0);
    measurement.max = latencies.last().copied().unwrap_or_default();
    measurement.mean = latencies.iter().sum::<Duration>() / u32::try_from(calls).unwrap_or(u32::MAX);
    measurement.items_per_call = items as f64 / calls as f64;
}

/// Nearest-rank percentile of sorted values (p99 of 100 values is the 99th).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&values, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&values[..1], 99.0), Duration::from_millis(1));
    }

    struct Counter(u64);

    #[async_trait]
    impl Caller for Counter {
        async fn call(&mut self) -> Result<u64, Failure> {
            self.0 += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
            if self.0.is_multiple_of(5) { Err(Failure::new("UNAVAILABLE")) } else { Ok(3) }
        }
    }

    #[tokio::test]
    async fn failures_are_counted_apart_from_latencies() {
        let callers: Vec<Box<dyn Caller>> = vec![Box::new(Counter(0)), Box::new(Counter(0))];
        let m = measure(callers, Duration::from_millis(20), Duration::from_millis(200), &ServerUsage::ThisProcess)
            .await
            .expect("measured");
        assert!(m.calls > 0 && m.error_count() > 0);
        assert!(m.p50 >= Duration::from_millis(2));
        assert_eq!(m.items_per_call, 3.0);
        assert!(m.window_secs >= 0.2);
    }
}
