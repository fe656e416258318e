//! AskPro: a multi-tenant appointment-booking backend for AI phone
//! assistants, served over gRPC.
//!
//! Layout: `layers` (tower middleware) → `api` (one thin adapter per gRPC
//! service) → `domain` (pure rules and value types) ← `store` (sea-orm
//! repositories, every call scoped to a tenant).
pub mod api;
pub mod bench;
pub mod config;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod layers;
pub mod proto;
pub mod seed;
pub mod server;
pub mod store;
pub mod telemetry;
