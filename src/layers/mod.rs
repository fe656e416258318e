//! The tower stack every call passes, in one place. Outermost first (built
//! in `server::serve`, outside them tonic's own per-connection limit and its
//! `grpc-timeout` watch):
//!
//! 1. CORS: answers browser preflights before anything else runs, and lets
//!    browsers read the status headers of every answer below.
//! 2. grpc-web: translates browser calls into plain gRPC, so every layer
//!    below sees one protocol; plain HTTP passes untouched. Then a gRPC
//!    method called without a gRPC content-type is answered 415.
//! 3. request id: validates or generates `x-request-id` first, so every log
//!    line and response below it carries the id. Then the client address
//!    (the TCP peer, or behind `trusted_proxies` the forwarded client) is
//!    resolved for the layers that count failures by address.
//! 4. observe: one log line and the metrics per call. Above everything that
//!    can refuse a call, so shed, timed-out, unauthenticated, rate-limited
//!    and panicked calls are logged and counted like any other.
//! 5. panics: a panic below becomes INTERNAL (details logged, not sent);
//!    just under `observe`, which then counts it.
//! 6. load shedding: refuses calls beyond the server's concurrency limit
//!    before they cost anything (no key lookup, no Redis); health exempt.
//!    Inbound webhooks have a budget of their own (`max_concurrent_webhooks`),
//!    so a flood of slow webhook POSTs cannot take the API's permits.
//! 7. deadline: starts the call's clock; everything below (key lookup, Redis,
//!    database, handler) runs within it and sees `deadline::remaining()`.
//! 8. auth: resolves the API key to a `Caller` (scope and tenant) and checks
//!    the method's permission. Health, reflection and plain HTTP pass. An
//!    address with too many failed attempts gets no key lookups for a while
//!    (`access::FailedAttempts`).
//! 9. rate limit: needs the `Caller` (limits are per key and per tenant), so
//!    it comes after auth; a call without one (health) is not limited.
pub mod around;
pub mod auth;
pub mod client_address;
pub mod content_type;
pub mod deadline;
pub mod grpc_web;
pub mod load_shed;
pub mod observe;
pub mod panics;
pub mod rate_limit;
pub mod request_id;
