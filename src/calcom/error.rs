//! What can go wrong talking to Cal.com, one variant per thing a caller
//! handles differently. Messages are safe to store and show: they never
//! contain the API key (nor the URL, which a tenant chose).
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalcomError {
    /// 401/403: the key is wrong, revoked, or lacks a permission.
    #[error("Cal.com refused the API key ({status}): {message}")]
    Auth { status: u16, message: String },
    /// 404: the booking or event type does not exist for this key.
    #[error("Cal.com has no such {what}: {message}")]
    NotFound { what: &'static str, message: String },
    /// 429: Cal.com's rate limit; `retry_after` from Retry-After, else the
    /// rate-limit reset header, else a minute.
    #[error("Cal.com rate limit reached; retry after {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// 400/422 and other 4xx: Cal.com will refuse the same request again.
    #[error("Cal.com refused the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// 5xx.
    #[error("Cal.com failed ({status})")]
    Server { status: u16 },
    /// No answer within the timeout (or the call's deadline).
    #[error("Cal.com did not answer in time")]
    Timeout,
    /// No connection: refused, reset, DNS, TLS, a refused destination.
    #[error("Cal.com is unreachable: {0}")]
    Unreachable(String),
    /// An answer AskPro cannot read.
    #[error("Cal.com answered something unreadable: {0}")]
    BadResponse(String),
    /// The connection's circuit breaker is open: no call was made.
    #[error("Cal.com calls are paused after repeated failures (circuit open)")]
    CircuitOpen { retry_after: Duration },
}

/// A Cal.com failure as the service's error: UNAVAILABLE naming Cal.com,
/// with how it failed and when to retry.
impl From<CalcomError> for crate::error::Error {
    fn from(err: CalcomError) -> Self {
        let retry_after = err.retry_after().unwrap_or(Duration::from_secs(1));
        crate::error::Error::Upstream { dependency: "Cal.com", message: err.to_string(), retry_after }
    }
}

impl CalcomError {
    /// Whether the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        !matches!(self, CalcomError::Rejected { .. } | CalcomError::NotFound { .. })
    }

    /// Whether the failure says Cal.com itself is in trouble (what the
    /// circuit breaker counts); a refused request or key does not.
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            CalcomError::RateLimited { .. }
                | CalcomError::Server { .. }
                | CalcomError::Timeout
                | CalcomError::Unreachable(_)
                | CalcomError::BadResponse(_)
        )
    }

    /// How long Cal.com asked to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CalcomError::RateLimited { retry_after } | CalcomError::CircuitOpen { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The metrics label.
    pub fn label(&self) -> &'static str {
        match self {
            CalcomError::Auth { .. } => "auth",
            CalcomError::NotFound { .. } => "not_found",
            CalcomError::RateLimited { .. } => "rate_limited",
            CalcomError::Rejected { .. } => "rejected",
            CalcomError::Server { .. } => "server",
            CalcomError::Timeout => "timeout",
            CalcomError::Unreachable(_) => "unreachable",
            CalcomError::BadResponse(_) => "bad_response",
            CalcomError::CircuitOpen { .. } => "circuit_open",
        }
    }
}
