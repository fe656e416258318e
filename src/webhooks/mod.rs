//! Webhooks' pure, security-critical core: verifying inbound provider
//! signatures (`verify`), signing outbound deliveries (`sign`) and reading
//! inbound bodies and their event keys (`payload`). No I/O here.
//!
//! These three files use only each other (through `super::`) and external
//! crates: the fuzz crate in `fuzz/` compiles them by path, without the server.
pub mod payload;
pub mod sender;
pub mod sign;
pub mod verify;
