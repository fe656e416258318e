//! A call to a gRPC method must say it is gRPC: `content-type:
//! application/grpc` (with an optional `+proto` or `;` suffix), which the
//! grpc-web layer above has already produced for browser calls. Anything else
//! (text/plain, JSON) is answered 415 Unsupported Media Type, as the gRPC
//! over HTTP/2 spec asks, instead of being decoded as protobuf. The plain HTTP
//! routes (`/health`, `/metrics`, webhooks, ...) are not gRPC and pass.
use http::{Request, Response};
use tower::Service;

use super::around::{Around, is_grpc};

/// Whether `path` names a gRPC method: `/<package>.<Service>/<Method>`.
/// The plain HTTP routes (`/health`, `/webhooks/inbound/<token>`, ...) never
/// have that shape, so no list of them has to be kept in step here.
fn is_grpc_method(path: &str) -> bool {
    let mut parts = path.trim_start_matches('/').split('/');
    matches!((parts.next(), parts.next(), parts.next()), (Some(service), Some(method), None)
        if service.contains('.') && !method.is_empty())
}

#[derive(Clone)]
pub struct RequireGrpcContentType;

impl Around for RequireGrpcContentType {
    async fn around<S, B, RB>(&self, request: Request<B>, mut inner: S) -> Result<Response<RB>, S::Error>
    where
        S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
        S::Future: Send,
        S::Error: Send,
        B: Send + 'static,
        RB: Default + Send + 'static,
    {
        if !is_grpc_method(request.uri().path()) || is_grpc(&request) || request.method() == http::Method::OPTIONS {
            return inner.call(request).await;
        }
        let mut response = Response::new(RB::default());
        *response.status_mut() = http::StatusCode::UNSUPPORTED_MEDIA_TYPE;
        response.headers_mut().insert(http::header::ACCEPT, http::HeaderValue::from_static("application/grpc"));
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::{Layer, ServiceExt};

    use super::*;

    async fn status_of(path: &str, content_type: Option<&str>) -> http::StatusCode {
        let ok = tower::service_fn(|_request: Request<()>| async {
            Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
        });
        let service = super::super::around::AroundLayer(RequireGrpcContentType).layer(ok);
        let mut request = Request::builder().method("POST").uri(path);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        service.oneshot(request.body(()).unwrap()).await.unwrap().status()
    }

    #[tokio::test]
    async fn grpc_methods_need_a_grpc_content_type() {
        let method = "/askpro.tenant.v1.TenantService/ListBranches";
        for content_type in ["application/grpc", "application/grpc+proto", "application/grpc;charset=utf-8"] {
            assert_eq!(status_of(method, Some(content_type)).await, http::StatusCode::OK, "{content_type}");
        }
        for content_type in [Some("text/plain"), Some("application/json"), None] {
            assert_eq!(
                status_of(method, content_type).await,
                http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{content_type:?}"
            );
        }
        assert_eq!(status_of("/webhooks/inbound/abc", Some("application/json")).await, http::StatusCode::OK);
        assert_eq!(status_of("/health", None).await, http::StatusCode::OK);
        assert_eq!(status_of("/livez", Some("text/plain")).await, http::StatusCode::OK);
    }
}
