//! What the checks found, as `GET /health` (and `/readyz`) reports it.
use std::collections::BTreeMap;
use std::time::Duration;

use chrono::SecondsFormat;
use serde::Serialize;

use super::probes::Check;

/// A check that answered, but slower than this, reports its component as
/// "slow": still up (a loaded database is not a down one), but visible.
pub(super) const SLOW_CHECK: Duration = Duration::from_millis(500);

#[derive(Clone, Debug, Default)]
pub(super) struct ComponentState {
    pub last: Option<Check>,
    pub consecutive_failures: u32,
    pub last_error: Option<&'static str>,
}

impl ComponentState {
    pub(super) fn report(&self) -> ComponentReport {
        let status = match self.last {
            None => ComponentStatus::Unknown,
            Some(Check { error: None, latency, .. }) if latency > SLOW_CHECK => ComponentStatus::Slow,
            Some(Check { error: None, .. }) => ComponentStatus::Up,
            Some(_) => ComponentStatus::Down,
        };
        ComponentReport {
            status,
            // Rounded to microseconds: more digits are noise.
            latency_ms: self.last.map(|c| (c.latency.as_secs_f64() * 1e6).round() / 1e3),
            checked_at: self.last.map(|c| c.checked_at.to_rfc3339_opts(SecondsFormat::Millis, true)),
            consecutive_failures: self.consecutive_failures,
            last_error: self.last_error,
        }
    }
}

/// The body of `GET /health`. Field names and values are a contract (probes
/// and dashboards parse them); every field is always present.
///
/// - `status`: `"serving"` (every dependency up), `"degraded"` (database up,
///   Redis down: calls work, rate limits are per process) or `"not_serving"`
///   (database down or not yet checked, or draining). HTTP 200 for the first
///   two, 503 for the last.
/// - `draining`: `true` once shutdown has begun.
/// - `components`: `"database"` always, `"redis"` only when `redis_url` is
///   set, `"calcom"` once a tenant's Cal.com connection was used; each a
///   [`ComponentReport`].
#[derive(Clone, Debug, Serialize)]
pub struct HealthReport {
    pub status: OverallStatus,
    pub draining: bool,
    pub components: BTreeMap<&'static str, ComponentReport>,
}

impl HealthReport {
    pub fn http_status(&self) -> http::StatusCode {
        match self.status {
            OverallStatus::Serving | OverallStatus::Degraded => http::StatusCode::OK,
            OverallStatus::NotServing => http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverallStatus {
    Serving,
    Degraded,
    NotServing,
}

/// One dependency in [`HealthReport`]:
///
/// - `status`: `"up"`, `"slow"` (answered, but after more than 500 ms: still
///   counted as up), `"down"` (an error, or no answer within the check's
///   timeout), `"unknown"` (not checked yet) or `"degraded"` (the "calcom"
///   component while some tenant's Cal.com circuit breaker is open).
/// - `latency_ms`: how long the last check took, in milliseconds (a timed-out
///   check shows the timeout); `null` before the first check.
/// - `checked_at`: when the last check finished, RFC 3339 UTC; `null` before
///   the first check.
/// - `consecutive_failures`: failed checks since the last success.
/// - `last_error`: the kind of the most recent failure (`"timeout"`,
///   `"connection"`, `"connection_refused"`, `"query"`, `"authentication"`,
///   `"response"`, `"invalid_url"`), kept after recovery; `null` if none.
///   Never a message, URL or password.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentReport {
    pub status: ComponentStatus,
    pub latency_ms: Option<f64>,
    pub checked_at: Option<String>,
    pub consecutive_failures: u32,
    pub last_error: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Up,
    /// Answered, but took longer than `SLOW_CHECK`; counts as up.
    Slow,
    Down,
    Unknown,
    /// Works for some and not for others: the "calcom" component while a
    /// tenant connection's circuit breaker is open (`consecutive_failures`
    /// then counts the open breakers). Makes the server degraded, never down.
    Degraded,
}

impl ComponentStatus {
    pub fn is_up(self) -> bool {
        matches!(self, ComponentStatus::Up | ComponentStatus::Slow)
    }
}
