//! tower layers around every call. The stack, outermost first (see
//! `server::serve`):
//!
//! 1. CORS: answers browser preflights before anything else runs.
//! 2. grpc-web: translates browser calls into plain gRPC, so every layer
//!    below sees one protocol; plain HTTP passes untouched.
//! 3. auth: resolves the API key to a `Caller` (scope and tenant) and checks
//!    the method's permission. Health, reflection and plain HTTP routes pass.
pub mod auth;
pub mod grpc_web;
