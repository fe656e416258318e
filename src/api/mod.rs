//! gRPC adapters: one module per service, and the inbound webhook routes.
//! Each handler decodes the request, takes the tenant from the caller, calls
//! one business operation (`crate::operations`) or one read of the store, and
//! encodes the answer; errors go through `crate::error` only.
pub mod appointment;
pub mod availability;
pub mod call_scope;
pub mod codec;
pub mod field_mask;
pub mod inbound;
pub mod integration;
pub mod metrics;
pub mod request_text;
pub mod tenant;
pub mod webhook;

use std::sync::Arc;

use crate::config::Config;
use crate::store::Store;

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    /// For reads; writes go through `ops`.
    pub store: Store,
    pub ops: crate::operations::Operations,
    pub config: Arc<Config>,
    /// Verified API-key rows, shared with the auth layer (revocations clear it).
    pub keys: crate::access::ApiKeyCache,
    /// The Cal.com client with every tenant connection's circuit breaker.
    pub calcom: crate::calcom::CalcomClient,
    /// Cal.com's busy times for the slot engine.
    pub calcom_busy: Arc<crate::calcom::BusyTimes>,
    /// Failed attempts per client address (bad keys, webhook tokens and
    /// signatures), shared by the auth layer and the inbound webhooks.
    pub failed_attempts: Arc<crate::access::FailedAttempts>,
}
