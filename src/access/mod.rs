//! Who may call what: the caller of a request, the permission each method
//! requires, and the API-key check that produces the caller. The auth layer
//! and the handlers both use it; it knows neither.
pub mod caller;
pub mod failed_attempts;
pub mod keys;
pub mod permissions;

pub use caller::{CallBinding, Caller, call_of, caller, tenant_of};
pub use failed_attempts::FailedAttempts;
pub use keys::{ApiKeyCache, Door, TENANT_HEADER, authenticate};
