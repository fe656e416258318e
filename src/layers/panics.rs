//! A panic in a handler (or any layer below) becomes INTERNAL with the usual
//! generic message: the panic text is logged, never sent. tower-http's
//! CatchPanicLayer does the catching; this module decides the answer.
use std::any::Any;

use tower::layer::util::Stack;
use tower::util::MapResponseLayer;
use tower_http::catch_panic::{CatchPanicLayer, ResponseForPanic};

use crate::error::Error;

#[derive(Clone, Copy, Default)]
pub struct InternalOnPanic;

impl ResponseForPanic for InternalOnPanic {
    type ResponseBody = tonic::body::Body;

    fn response_for_panic(&mut self, panic: Box<dyn Any + Send + 'static>) -> http::Response<Self::ResponseBody> {
        let text = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        tracing::error!(panic = %text, "a handler panicked; answered INTERNAL");
        tonic::Status::from(Error::Internal("handler panicked".into())).into_http()
    }
}

/// The body CatchPanic answers with.
type CaughtBody = tower_http::body::UnsyncBoxBody<bytes::Bytes, tower_http::BoxError>;

/// The layers above want tonic's body type back.
type ToTonicBody = fn(http::Response<CaughtBody>) -> http::Response<tonic::body::Body>;

/// Catches panics below and answers INTERNAL.
pub fn layer() -> Stack<CatchPanicLayer<InternalOnPanic>, MapResponseLayer<ToTonicBody>> {
    let to_tonic: ToTonicBody = |response| response.map(tonic::body::Body::new);
    Stack::new(CatchPanicLayer::custom(InternalOnPanic), MapResponseLayer::new(to_tonic))
}

#[cfg(test)]
mod tests {
    use tower::{Layer, ServiceExt};

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_internal_without_the_panic_text() {
        let handler = tower::service_fn(|_request: http::Request<()>| async move {
            if true {
                panic!("secret detail: ak_0123_leaked");
            }
            Ok::<_, std::convert::Infallible>(http::Response::new(tonic::body::Body::empty()))
        });
        let response = layer().layer(handler).oneshot(http::Request::new(())).await.expect("an answer, not a crash");
        assert_eq!(response.status(), http::StatusCode::OK, "gRPC errors travel in an HTTP 200");
        let headers = response.headers();
        assert_eq!(headers.get("grpc-status").unwrap(), "13", "INTERNAL");
        let message = headers.get("grpc-message").unwrap().to_str().unwrap();
        assert_eq!(message, "internal%20error");
        for (_, value) in headers {
            assert!(
                !String::from_utf8_lossy(value.as_bytes()).contains("leaked"),
                "the panic text leaked: {headers:?}"
            );
        }
    }
}
