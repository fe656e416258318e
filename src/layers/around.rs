//! The shape every AskPro layer shares: an async function that gets the
//! request and the next service, and returns the response.
//!
//! tower's `Layer`/`Service` pair asks for the same thirty lines of
//! plumbing per layer (readiness, cloning the ready service, boxing the
//! future); `AroundLayer` writes them once, so each layer module holds only
//! what it does.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::{Layer, Service};

/// What a layer does around the inner service. `inner` is ready: call it at
/// most once.
pub trait Around: Clone + Send + Sync + 'static {
    fn around<S, B, RB>(
        &self,
        request: Request<B>,
        inner: S,
    ) -> impl Future<Output = Result<Response<RB>, S::Error>> + Send
    where
        S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
        S::Future: Send,
        S::Error: Send,
        B: Send + 'static,
        RB: Default + Send + 'static;
}

/// Turns an `Around` into a tower layer.
#[derive(Clone)]
pub struct AroundLayer<A>(pub A);

impl<A: Clone, S> Layer<S> for AroundLayer<A> {
    type Service = AroundService<A, S>;

    fn layer(&self, inner: S) -> Self::Service {
        AroundService { around: self.0.clone(), inner }
    }
}

#[derive(Clone)]
pub struct AroundService<A, S> {
    around: A,
    inner: S,
}

impl<A, S, B, RB> Service<Request<B>> for AroundService<A, S>
where
    A: Around,
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    B: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call (tower's
        // usual swap, so poll_ready's promise holds).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let around = self.around.clone();
        Box::pin(async move { around.around(request, inner).await })
    }
}

/// Whether a request is a gRPC call (grpc-web arrives translated), as
/// opposed to a plain HTTP route like `/health`.
pub fn is_grpc<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// The answer to a call this layer stack refuses: the gRPC status for gRPC
/// calls, and for plain HTTP (`/webhooks/inbound/...`, `/metrics`) the HTTP
/// status, so a webhook sender sees a failure it retries rather than a 200.
pub fn refusal<RB: Default>(grpc: bool, error: crate::error::Error, http_status: http::StatusCode) -> Response<RB> {
    if grpc {
        return tonic::Status::from(error).into_http();
    }
    let mut response = Response::new(RB::default());
    *response.status_mut() = http_status;
    response
}

/// Whether a path is a gRPC health probe: never shed, limited or
/// authenticated (Kubernetes sends no metadata and must see the truth).
pub fn is_health_check(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
}
