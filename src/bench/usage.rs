//! What the measured server used during one operation: statements sent, CPU
//! time and resident memory. An in-process server shares this process, so its
//! numbers include the bench's own client; a server in another process (one
//! the bench started, or a `--target`) is read through its `/metrics` page,
//! so they are the server's alone.
use std::time::Duration;

use crate::metrics::{DB_STATEMENTS_TOTAL, PROCESS_CPU_SECONDS_TOTAL, PROCESS_RESIDENT_MEMORY_BYTES};
use crate::top::MetricsEndpoint;

/// Where the server's usage is read.
pub enum ServerUsage {
    /// The server runs in this process.
    ThisProcess,
    /// The server's `/metrics` page.
    MetricsPage(MetricsEndpoint),
}

/// Totals at one moment; each may be unknown (off Linux, or an older server).
#[derive(Clone, Copy, Debug, Default)]
pub struct UsageSample {
    pub statements: Option<u64>,
    pub cpu: Option<Duration>,
    pub resident_bytes: Option<u64>,
}

/// Per call between two samples.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UsagePerCall {
    pub statements: Option<f64>,
    pub cpu_us: Option<f64>,
    /// At the end, in MB.
    pub rss_mb: Option<f64>,
}

impl ServerUsage {
    /// `http://<address>/metrics` of a server reached at `address` (http://host:port).
    pub fn metrics_page(address: &str) -> anyhow::Result<Self> {
        let url = format!("{}/metrics", address.trim_end_matches('/'));
        Ok(Self::MetricsPage(MetricsEndpoint::new(url, Duration::from_secs(5))?))
    }

    /// Whether the numbers include the bench's own client.
    pub fn includes_client(&self) -> bool {
        matches!(self, Self::ThisProcess)
    }

    /// The totals now. A page that cannot be read gives an empty sample: the
    /// operation's calls are still reported, its usage is not.
    pub async fn sample(&self) -> UsageSample {
        match self {
            Self::ThisProcess => UsageSample {
                statements: Some(crate::store::statements_sent()),
                cpu: crate::process_usage::cpu_time(),
                resident_bytes: crate::process_usage::resident_bytes(),
            },
            Self::MetricsPage(page) => match page.read().await {
                Ok(exposition) => UsageSample {
                    statements: exposition.total(DB_STATEMENTS_TOTAL).map(|n| n as u64),
                    cpu: exposition.total(PROCESS_CPU_SECONDS_TOTAL).map(Duration::from_secs_f64),
                    resident_bytes: exposition.total(PROCESS_RESIDENT_MEMORY_BYTES).map(|n| n as u64),
                },
                Err(err) => {
                    eprintln!("warning: could not read the server's usage: {err}");
                    UsageSample::default()
                }
            },
        }
    }
}

impl UsageSample {
    /// What `calls` calls cost between `self` and the later sample `after`.
    pub fn per_call(&self, after: &UsageSample, calls: u64) -> UsagePerCall {
        if calls == 0 {
            return UsagePerCall { rss_mb: after.resident_mb(), ..Default::default() };
        }
        let calls = calls as f64;
        UsagePerCall {
            statements: self.statements.zip(after.statements).map(|(a, b)| b.saturating_sub(a) as f64 / calls),
            cpu_us: self.cpu.zip(after.cpu).map(|(a, b)| b.saturating_sub(a).as_secs_f64() * 1e6 / calls),
            rss_mb: after.resident_mb(),
        }
    }

    fn resident_mb(&self) -> Option<f64> {
        self.resident_bytes.map(|bytes| bytes as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_per_call_is_the_difference_over_the_calls() {
        let before = UsageSample {
            statements: Some(100),
            cpu: Some(Duration::from_millis(1_000)),
            resident_bytes: Some(10 << 20),
        };
        let after = UsageSample {
            statements: Some(400),
            cpu: Some(Duration::from_millis(1_300)),
            resident_bytes: Some(30 << 20),
        };
        let per_call = before.per_call(&after, 100);
        assert_eq!(per_call.statements, Some(3.0));
        assert!((per_call.cpu_us.expect("cpu") - 3_000.0).abs() < 1e-6);
        assert_eq!(per_call.rss_mb, Some(30.0));
        // An unknown total stays unknown instead of counting as zero.
        let unknown = UsageSample::default().per_call(&after, 100);
        assert_eq!(unknown, UsagePerCall { rss_mb: Some(30.0), ..Default::default() });
    }

    #[tokio::test]
    async fn this_process_is_sampled_directly() {
        let sample = ServerUsage::ThisProcess.sample().await;
        assert!(sample.statements.is_some());
        if cfg!(target_os = "linux") {
            assert!(sample.cpu.is_some() && sample.resident_bytes.is_some());
        }
    }
}
