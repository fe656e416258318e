//! One log line and the metrics of every gRPC call: method, tenant, status,
//! latency and correlation id (health probes at debug, everything else at
//! info). The call runs inside a `call` span carrying
//! the method and correlation id, so every log line it writes names both.
//!
//! The status is the one in the response headers: every unary error and
//! every stream that fails before its first message. A unary success carries
//! its OK in the trailers, which this layer counts as OK; a stream that fails
//! later is logged by its handler. Latency is the time to the response
//! headers, which for a unary call is the whole call.
use std::time::Instant;

use http::{Request, Response};
use tower::Service;
use tracing::Instrument;

use super::around::{Around, is_grpc, is_health_check};
use crate::access::Caller;
use crate::correlation::RequestId;
use crate::metrics as names;

#[derive(Clone, Default)]
pub struct ObserveCalls;

impl Around for ObserveCalls {
    async fn around<S, B, RB>(&self, request: Request<B>, mut inner: S) -> Result<Response<RB>, S::Error>
    where
        S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
        S::Future: Send,
        S::Error: Send,
        B: Send + 'static,
        RB: Default + Send + 'static,
    {
        let started = Instant::now();
        let path = request.uri().path().to_owned();
        let request_id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        if !is_grpc(&request) {
            let response = inner.call(request).await?;
            tracing::debug!(target: "askpro::http", path, status = response.status().as_u16(), request_id, "http request");
            return Ok(response);
        }
        let method = method_label(&path);
        let span = tracing::info_span!("call", method, request_id);
        let _in_flight = InFlight::enter();
        let response = inner.call(request).instrument(span.clone()).await?;
        let latency = started.elapsed();
        let code = status_name(&response);
        let tenant = response.extensions().get::<Caller>().and_then(|c| c.tenant).map(|t| t.to_string());
        metrics::counter!(names::REQUESTS_TOTAL, "method" => method, "code" => code).increment(1);
        metrics::histogram!(names::REQUEST_DURATION_SECONDS, "method" => method).record(latency.as_secs_f64());
        let tenant = tenant.as_deref().unwrap_or("-");
        let latency_ms = latency.as_secs_f64() * 1000.0;
        macro_rules! call_line {
            ($level:ident) => {
                tracing::$level!(target: "askpro::call", method, tenant, status = code, latency_ms, request_id, "call")
            };
        }
        // Probes come every few seconds from every kubelet; at info they
        // would bury the calls people look for.
        span.in_scope(|| if is_health_check(&path) { call_line!(debug) } else { call_line!(info) });
        Ok(response)
    }
}

/// Counts a call in flight until dropped (also when the client goes away and
/// the call's future is dropped).
struct InFlight;

impl InFlight {
    fn enter() -> Self {
        metrics::gauge!(names::REQUESTS_IN_FLIGHT).increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(names::REQUESTS_IN_FLIGHT).decrement(1.0);
    }
}

/// The method as a metric label: AskPro methods, health and reflection by
/// path; anything else (a scanner's made-up paths) as "unknown", so labels
/// stay bounded.
fn method_label(path: &str) -> &'static str {
    if let Some(known) = crate::access::permissions::known_method(path) {
        return known;
    }
    match path {
        "/grpc.health.v1.Health/Check" => "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch" => "/grpc.health.v1.Health/Watch",
        "/grpc.health.v1.Health/List" => "/grpc.health.v1.Health/List",
        p if p.starts_with("/grpc.reflection.v1.") => "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        p if p.starts_with("/grpc.reflection.v1alpha.") => {
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        }
        _ => "unknown",
    }
}

/// The gRPC status name in the response headers; OK when they carry none
/// (a success, whose status follows in the trailers).
fn status_name<RB>(response: &Response<RB>) -> &'static str {
    let code = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0);
    code_name(tonic::Code::from_i32(code))
}

/// gRPC's canonical UPPER_SNAKE names (tonic's `Debug` is CamelCase).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_labels_are_bounded() {
        assert_eq!(
            method_label("/askpro.tenant.v1.TenantService/ListBranches"),
            "/askpro.tenant.v1.TenantService/ListBranches"
        );
        assert_eq!(method_label("/grpc.health.v1.Health/Check"), "/grpc.health.v1.Health/Check");
        assert_eq!(method_label("/askpro.tenant.v1.TenantService/NoSuchMethod"), "unknown");
        assert_eq!(method_label("/wp-admin/login.php"), "unknown");
    }

    #[test]
    fn status_comes_from_the_headers_or_is_ok() {
        let ok = Response::new(());
        assert_eq!(status_name(&ok), "OK");
        let failed = tonic::Status::not_found("x").into_http::<tonic::body::Body>();
        assert_eq!(status_name(&failed), "NOT_FOUND");
    }
}
