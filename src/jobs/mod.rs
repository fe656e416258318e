//! Periodic jobs that run inside the server.
pub mod calcom_import;
pub mod calcom_sync;
pub mod hold_cleanup;
pub mod idempotency_retention;
pub mod sqlite_statistics;
pub mod webhook_delivery;
pub mod webhook_retention;
