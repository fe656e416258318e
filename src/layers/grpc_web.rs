//! grpc-web for browsers, without breaking plain HTTP.
//!
//! tonic-web's layer answers every HTTP/1 request that is not grpc-web with
//! 400, which would take `/health` (and later `/metrics` and the webhook
//! routes) away from HTTP/1 clients. This layer hands only grpc-web requests
//! to it and everything else straight to the inner service.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response, header};
use tonic::body::Body;
use tonic_web::{GrpcWebLayer, GrpcWebService};
use tower::{Layer, Service, ServiceExt};

#[derive(Clone, Default)]
pub struct BrowserGrpcLayer;

impl<S: Clone> Layer<S> for BrowserGrpcLayer {
    type Service = BrowserGrpc<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BrowserGrpc { web: GrpcWebLayer::new().layer(inner.clone()), plain: inner }
    }
}

#[derive(Clone)]
pub struct BrowserGrpc<S> {
    web: GrpcWebService<S>,
    plain: S,
}

fn is_grpc_web<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc-web"))
}

impl<S> Service<Request<Body>> for BrowserGrpc<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness is checked per call on the branch actually taken (oneshot).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if is_grpc_web(&request) {
            Box::pin(self.web.clone().oneshot(request))
        } else {
            Box::pin(self.plain.clone().oneshot(request))
        }
    }
}
