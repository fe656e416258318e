//! Deadlines: the caller's `grpc-timeout` (or the server's default deadline
//! when it sends none), at most the server's maximum, bounds the whole call.
//! When it passes before the call sent a COMMIT, the call is dropped — its
//! open transaction rolls back — and the answer is DEADLINE_EXCEEDED: that
//! answer always means nothing was written. Once a COMMIT was sent the call
//! is answered with its result even past the deadline (the commit itself
//! runs to its end on a task of its own, see `store::TenantTx::commit`).
//! Inside the call, `crate::deadline::remaining()` hands the time left to the
//! database and to outbound calls.
//!
//! tonic itself also watches `grpc-timeout`, outside our layers, and answers
//! CANCELLED when it fires first. This layer therefore answers a little
//! before the deadline (`MARGIN`): a reply arriving after the deadline would
//! be useless to the caller anyway.
use std::time::Duration;

use http::{HeaderMap, Request, Response};
use tokio::time::Instant;
use tower::Service;

use super::around::{Around, is_grpc, refusal};
use crate::error::Error;

/// How much earlier than the caller's deadline this layer gives up; above
/// tokio's 1 ms timer resolution, far below any useful deadline.
const MARGIN: Duration = Duration::from_millis(3);

#[derive(Clone)]
pub struct EnforceDeadline {
    default: Duration,
    /// No call gets more: a client's value never reaches a database setting
    /// (statement_timeout) unbounded.
    max: Duration,
}

impl EnforceDeadline {
    pub fn new(default: Duration, max: Duration) -> Self {
        Self { default: default.min(max), max }
    }
}

impl Around for EnforceDeadline {
    async fn around<S, B, RB>(&self, request: Request<B>, mut inner: S) -> Result<Response<RB>, S::Error>
    where
        S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
        S::Future: Send,
        S::Error: Send,
        B: Send + 'static,
        RB: Default + Send + 'static,
    {
        let grpc = is_grpc(&request);
        let asked = grpc_timeout(request.headers());
        if asked.is_none() && request.headers().contains_key("grpc-timeout") {
            // tonic ignores a malformed value; a caller who sent one wants to
            // know it did not count.
            let error = Error::invalid("grpc-timeout", "must be 1 to 8 digits and a unit: H, M, S, m, u or n");
            return Ok(refusal(grpc, error, http::StatusCode::BAD_REQUEST));
        }
        let timeout = asked.unwrap_or(self.default).min(self.max);
        if timeout <= MARGIN {
            // Nothing fits, and tonic's own timer (started before this
            // layer) could fire first on the next millisecond tick: answer
            // now, before the handler is ever called.
            return Ok(refusal(grpc, Error::DeadlineExceeded, http::StatusCode::SERVICE_UNAVAILABLE));
        }
        let deadline = Instant::now() + timeout.saturating_sub(MARGIN);
        let commit_started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let call = crate::deadline::scope_watching_commits(deadline, commit_started.clone(), inner.call(request));
        let mut call = std::pin::pin!(call);
        tokio::select! {
            answer = &mut call => answer,
            () = tokio::time::sleep_until(deadline) => {
                if commit_started.load(std::sync::atomic::Ordering::SeqCst) {
                    // Written, or being written: the caller gets the result.
                    call.await
                } else {
                    Ok(refusal(grpc, Error::DeadlineExceeded, http::StatusCode::SERVICE_UNAVAILABLE))
                }
            }
        }
    }
}

/// Parses `grpc-timeout`: at most 8 digits and a unit (H, M, S, m, u, n),
/// per the gRPC over HTTP/2 spec; `None` when absent or malformed (the
/// layer answers a malformed one INVALID_ARGUMENT).
pub fn grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get("grpc-timeout")?.to_str().ok()?;
    if text.len() < 2 || text.len() > 9 {
        return None;
    }
    let (digits, unit) = text.split_at(text.len() - 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", value.parse().unwrap());
        grpc_timeout(&headers)
    }

    #[test]
    fn every_unit_of_the_spec_parses() {
        assert_eq!(parse("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse("99999999u"), Some(Duration::from_micros(99_999_999)));
        assert_eq!(parse("1n"), Some(Duration::from_nanos(1)));
    }

    async fn slow_call(content_type: &'static str) -> http::Response<tonic::body::Body> {
        use tower::{Layer, ServiceExt};
        let slow = tower::service_fn(|_request: Request<()>| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, std::convert::Infallible>(Response::new(tonic::body::Body::empty()))
        });
        let layer =
            super::super::around::AroundLayer(EnforceDeadline::new(Duration::from_secs(30), Duration::from_millis(20)));
        // Years asked for; the server's maximum applies.
        let request = Request::builder()
            .header("content-type", content_type)
            .header("grpc-timeout", "99999999H")
            .body(())
            .unwrap();
        layer.layer(slow).oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn an_expired_grpc_call_answers_deadline_exceeded() {
        let response = slow_call("application/grpc").await;
        assert_eq!(response.headers().get("grpc-status").unwrap(), "4");
    }

    #[tokio::test]
    async fn an_expired_plain_http_request_answers_503() {
        // A webhook sender must see a failure it retries, not a 200.
        let response = slow_call("application/json").await;
        assert_eq!(response.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().get("grpc-status").is_none());
    }

    #[test]
    fn malformed_values_are_ignored() {
        for value in ["", "S", "10", "123456789S", "1.5S", "-1S", "10x", "1 S"] {
            assert_eq!(parse(value), None, "{value:?}");
        }
        assert_eq!(grpc_timeout(&HeaderMap::new()), None);
    }
}
