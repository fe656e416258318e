//! API-key authentication and authorization as a tower layer.
//!
//! For every AskPro method it reads the key from `authorization: Bearer ...`
//! or `x-api-key`, verifies it against the stored hash, checks the method's
//! permission (`access::permissions`), resolves the tenant, and puts a `Caller`
//! into the request extensions. Everything else (health, reflection, plain
//! HTTP routes) passes untouched: Kubernetes probes send no metadata.
use http::{Request, Response};
use tower::Service;

use std::sync::Arc;

use super::around::Around;
use super::client_address::ClientAddress;
use crate::access::keys::{ApiKeyCache, Door, authenticate};
use crate::access::{FailedAttempts, permissions};
use crate::error::{Error, Result};
use crate::store::Store;

#[derive(Clone)]
pub struct Authenticate {
    store: Store,
    keys: ApiKeyCache,
    attempts: Arc<FailedAttempts>,
}

impl Authenticate {
    pub fn new(store: Store, keys: ApiKeyCache, attempts: Arc<FailedAttempts>) -> Self {
        Self { store, keys, attempts }
    }
}

impl Around for Authenticate {
    async fn around<S, B, RB>(&self, mut request: Request<B>, mut inner: S) -> Result<Response<RB>, S::Error>
    where
        S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
        S::Future: Send,
        S::Error: Send,
        B: Send + 'static,
        RB: Default + Send + 'static,
    {
        let path = request.uri().path();
        if !path.starts_with("/askpro.") {
            return inner.call(request).await;
        }
        // Fail closed: an AskPro path without a permission entry never
        // reaches a handler.
        let Some(permission) = permissions::required(path) else {
            let unknown = Error::NotImplemented("no such AskPro method");
            return Ok(tonic::Status::from(unknown).into_http());
        };
        let address = request.extensions().get::<ClientAddress>().map(|client| client.0);
        let door = Door { attempts: &self.attempts, address };
        match authenticate(&self.store, &self.keys, door, request.headers(), path, permission).await {
            Ok(caller) => {
                request.extensions_mut().insert(caller.clone());
                let mut response = inner.call(request).await?;
                // For the layers above (the call log names the tenant).
                response.extensions_mut().insert(caller);
                Ok(response)
            }
            // Failed attempts are counted where a lookup was spent (`authenticate`).
            Err(err) => Ok(tonic::Status::from(err).into_http()),
        }
    }
}
