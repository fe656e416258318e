//! gRPC adapters: one module per service. Each handler decodes and validates
//! the request, calls the store inside one transaction, and encodes the
//! answer; errors go through `crate::error` only.
pub mod appointment;
pub mod availability;
pub mod booking;
pub mod context;
pub mod convert;
pub mod feed;
pub mod field_mask;
pub mod idempotency;
pub mod permissions;
pub mod tenant;
pub mod webhook;

use std::sync::Arc;

use crate::config::Config;
use crate::store::Store;

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub feed: feed::AppointmentFeed,
}

/// Declares RPCs that are in the contract but served by a later milestone:
/// each answers UNIMPLEMENTED naming the method and what it waits for.
///
/// `#[async_trait]` rewrites `async fn`s before this macro expands, so the
/// macro writes the rewritten (boxed-future) signature itself.
macro_rules! not_yet_served {
    ($milestone:literal; $($method:ident($req:ty) -> $resp:ty = $name:literal;)*) => {
        $(
            fn $method<'life0, 'async_trait>(
                &'life0 self,
                _request: tonic::Request<$req>,
            ) -> std::pin::Pin<Box<
                dyn std::future::Future<Output = Result<tonic::Response<$resp>, tonic::Status>>
                    + Send
                    + 'async_trait,
            >>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(async move {
                    Err(crate::error::Error::NotImplemented(concat!($name, " (", $milestone, ")")).into())
                })
            }
        )*
    };
}
pub(crate) use not_yet_served;
