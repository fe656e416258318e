//! AskPro: a multi-tenant appointment-booking backend for AI phone
//! assistants, served over gRPC.
//!
//! Layout: `layers` (tower middleware) → `api` (one thin adapter per gRPC
//! service) → `domain` (pure rules and value types) ← `store` (sea-orm
//! repositories, every call scoped to a tenant).
pub mod access;
pub mod api;
pub mod audit;
pub mod bench;
pub mod calcom;
pub mod config;
pub mod convert;
pub mod correlation;
pub mod deadline;
pub mod domain;
pub mod error;
pub mod feed;
pub mod health;
pub mod http_client;
pub mod jobs;
pub mod layers;
pub mod metrics;
pub mod operations;
pub mod platform_keys;
pub mod process_usage;
pub mod proto;
pub mod rate_limit;
pub mod secrets;
pub mod seed;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod top;
pub mod webhooks;
