//! Rust client for the AskPro booking API.
//!
//! [`AskPro`] wraps a tonic channel: it sends the API key on every call, gives
//! each call a default deadline, retries UNAVAILABLE with backoff (and nothing
//! else), generates `request_id`s for creates, and decodes the rich error
//! details into [`Error`]. The generated messages and clients are in [`proto`].
mod client;
mod error;
pub mod proto;
mod retry;

pub use client::{AskPro, AuthedChannel, Builder, Credentials, DEFAULT_DEADLINE};
pub use error::{Alternative, Details, Error, FieldViolation};
/// Re-exported so callers build timestamps and durations without a direct dependency.
pub use prost_types;
pub use proto::{appointment, availability, integration, tenant, r#type, webhook};
pub use retry::RetryPolicy;
/// Re-exported for `Channel`, `Request` and `Status`.
pub use tonic;

/// Compiles the README's Rust example.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
