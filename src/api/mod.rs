//! gRPC adapters: one module per service. Each handler decodes and validates
//! the request, calls the store inside one transaction, and encodes the
//! answer; errors go through `crate::error` only.
pub mod appointment;
pub mod availability;
pub mod booking;
pub mod context;
pub mod convert;
pub mod events;
pub mod feed;
pub mod field_mask;
pub mod idempotency;
pub mod inbound;
pub mod metrics;
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
    /// Verified API-key rows, shared with the auth layer (revocations clear it).
    pub keys: crate::layers::auth::ApiKeyCache,
}
