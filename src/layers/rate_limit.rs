//! Rate limits as a tower layer, after auth: it limits by the `Caller` that
//! auth put into the request. A request without one (health, reflection,
//! plain HTTP) passes untouched.
use std::time::Duration;

use http::{HeaderValue, Request, Response};
use tower::Service;

use super::around::Around;
use crate::access::Caller;
use crate::error::Error;
use crate::rate_limit::RateLimiter;

#[derive(Clone)]
pub struct LimitRate {
    limiter: RateLimiter,
}

impl LimitRate {
    pub fn new(limiter: RateLimiter) -> Self {
        Self { limiter }
    }
}

impl Around for LimitRate {
    async fn around<S, B, RB>(&self, request: Request<B>, mut inner: S) -> Result<Response<RB>, S::Error>
    where
        S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
        S::Future: Send,
        S::Error: Send,
        B: Send + 'static,
        RB: Default + Send + 'static,
    {
        let Some(caller) = request.extensions().get::<Caller>() else {
            return inner.call(request).await;
        };
        match self.limiter.check(caller.key_id, caller.tenant).await {
            Ok(()) => inner.call(request).await,
            Err(err) => Ok(refusal(err)),
        }
    }
}

/// The gRPC error, plus `retry-after` for HTTP clients and proxies that do
/// not read RetryInfo.
fn refusal<RB: Default>(err: Error) -> Response<RB> {
    let retry_after = match &err {
        Error::RateLimited { retry_after, .. } => Some(*retry_after),
        _ => None,
    };
    let mut response = tonic::Status::from(err).into_http();
    if let Some(retry_after) = retry_after {
        response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(whole_seconds(retry_after)));
    }
    response
}

/// `Retry-After` takes whole seconds: round up, and never say 0 (which
/// would invite an immediate retry that is refused again).
fn whole_seconds(wait: Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1).try_into().unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::{Layer, ServiceExt};

    use crate::layers::around::{AroundLayer, AroundService};

    use super::*;
    use crate::config::{Config, Quota};
    use crate::domain::ids::{ApiKeyId, TenantId};
    use crate::domain::scope::Scope;

    type Handler = tower::util::BoxCloneService<Request<()>, Response<String>, Infallible>;

    async fn limited_service(burst: u32) -> AroundService<LimitRate, Handler> {
        let config =
            Config { rate_limit_per_key: Quota { per_second: 1, burst }, redis_url: None, ..Config::default() };
        let limiter = RateLimiter::new(&config).await;
        let handler = tower::service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new("ok".to_owned())) });
        AroundLayer(LimitRate::new(limiter)).layer(Handler::new(handler))
    }

    fn call_of(caller: Option<&Caller>) -> Request<()> {
        let mut request = Request::builder().uri("/askpro.booking.v1.BookingService/GetSlots").body(()).unwrap();
        if let Some(caller) = caller {
            request.extensions_mut().insert(caller.clone());
        }
        request
    }

    #[tokio::test]
    async fn a_call_over_the_limit_gets_resource_exhausted_and_retry_after() {
        let service = limited_service(1).await;
        let caller = Caller {
            key_id: ApiKeyId::generate(),
            scope: Scope::Agent,
            tenant: Some(TenantId::generate()),
            call: None,
        };
        let first = service.clone().oneshot(call_of(Some(&caller))).await.unwrap();
        assert_eq!(first.body(), "ok");
        let refused = service.oneshot(call_of(Some(&caller))).await.unwrap();
        assert_eq!(refused.headers()["grpc-status"], "8", "RESOURCE_EXHAUSTED");
        assert_eq!(refused.headers()[http::header::RETRY_AFTER], "1");
        assert!(refused.headers().contains_key("grpc-status-details-bin"), "RetryInfo travels with the status");
    }

    #[tokio::test]
    async fn calls_without_a_caller_are_not_limited() {
        let service = limited_service(1).await;
        for _ in 0..5 {
            let response = service.clone().oneshot(call_of(None)).await.unwrap();
            assert_eq!(response.body(), "ok");
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1001)), 2);
    }
}
