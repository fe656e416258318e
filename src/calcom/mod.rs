//! Cal.com (API v2): the typed client, its circuit breakers and the wire
//! format. The sync worker (`jobs::calcom_sync`) and the connection RPCs
//! (`api::integration`) use it; nothing else talks to Cal.com.
pub mod breaker;
pub mod busy;
pub mod client;
pub mod error;
pub mod wire;

pub use breaker::Breakers;
pub use busy::{BusyTimes, Freshness};
pub use client::{CalcomClient, Connection};
pub use error::CalcomError;

/// The public API, the default base URL of a connection.
pub const DEFAULT_BASE_URL: &str = "https://api.cal.com";
