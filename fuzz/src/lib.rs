//! The webhooks' pure core, compiled from the server's own source files (see
//! Cargo.toml for why). They refer to each other as `super::sign` etc., which
//! resolves at this crate's root as it does in `askpro::webhooks`.
#[path = "../../src/webhooks/payload/mod.rs"]
pub mod payload;
#[path = "../../src/webhooks/sign.rs"]
pub mod sign;
#[path = "../../src/webhooks/verify/mod.rs"]
pub mod verify;
