//! Load shedding: at most `max_concurrent_calls` calls run in the whole
//! server; a call beyond that is answered UNAVAILABLE at once (with
//! RetryInfo) instead of queueing behind the others until every caller's
//! deadline has passed. A client retries on another replica or a moment
//! later. Health probes are never shed: an overloaded pod is busy, not dead.
//! Inbound webhooks (`/webhooks/inbound/...`) draw from a budget of their
//! own, so a flood of (slow) webhook POSTs leaves the API its permits.
//!
//! Written here rather than with tower's LoadShed + ConcurrencyLimit: those
//! shed by readiness, which would shed health probes too, and tonic applies
//! layers per connection, so their limit would not be global.
use std::sync::Arc;

use http::{Request, Response};
use tokio::sync::Semaphore;
use tower::Service;

use super::around::{Around, is_grpc, is_health_check, refusal};
use crate::error::Error;

#[derive(Clone)]
pub struct ShedLoad {
    calls: Arc<Semaphore>,
    webhooks: Arc<Semaphore>,
}

impl ShedLoad {
    pub fn new(max_concurrent_calls: usize, max_concurrent_webhooks: usize) -> Self {
        Self {
            calls: Arc::new(Semaphore::new(max_concurrent_calls.max(1))),
            webhooks: Arc::new(Semaphore::new(max_concurrent_webhooks.max(1))),
        }
    }
}

/// The path prefix of the inbound webhook routes.
const INBOUND_WEBHOOKS: &str = "/webhooks/inbound/";

impl Around for ShedLoad {
    async fn around<S, B, RB>(&self, request: Request<B>, mut inner: S) -> Result<Response<RB>, S::Error>
    where
        S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
        S::Future: Send,
        S::Error: Send,
        B: Send + 'static,
        RB: Default + Send + 'static,
    {
        if is_health_check(request.uri().path()) {
            return inner.call(request).await;
        }
        let (permits, budget) = if request.uri().path().starts_with(INBOUND_WEBHOOKS) {
            (&self.webhooks, "webhooks")
        } else {
            (&self.calls, "calls")
        };
        let Ok(_permit) = permits.clone().try_acquire_owned() else {
            metrics::counter!(crate::metrics::LOAD_SHED_TOTAL, "budget" => budget).increment(1);
            tracing::warn!(budget, "at the concurrency limit; call shed");
            return Ok(refusal(is_grpc(&request), Error::Overloaded, http::StatusCode::SERVICE_UNAVAILABLE));
        };
        inner.call(request).await
    }
}
