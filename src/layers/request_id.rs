//! Correlation ids (see `crate::correlation`): every request leaves this
//! layer with a valid `x-request-id`, in its headers and extensions, and
//! every response carries the same id back.
use http::{HeaderName, HeaderValue, Request, Response};
use tower::Service;

use super::around::Around;
use crate::correlation::{self, RequestId};

#[derive(Clone, Default)]
pub struct AssignRequestId;

impl Around for AssignRequestId {
    async fn around<S, B, RB>(&self, mut request: Request<B>, mut inner: S) -> Result<Response<RB>, S::Error>
    where
        S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
        S::Future: Send,
        S::Error: Send,
        B: Send + 'static,
        RB: Default + Send + 'static,
    {
        let header = HeaderName::from_static(correlation::HEADER);
        let id = RequestId::from_header(request.headers().get(&header));
        // Valid by construction: RequestId allows header-safe characters only.
        let value = HeaderValue::from_str(id.as_str()).expect("a RequestId is a valid header value");
        request.headers_mut().insert(header.clone(), value.clone());
        request.extensions_mut().insert(id.clone());
        let mut response = correlation::scope(id, inner.call(request)).await?;
        response.headers_mut().insert(header, value);
        Ok(response)
    }
}
