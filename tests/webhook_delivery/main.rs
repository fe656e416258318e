//! Outbound webhooks: the sender's POST against real local receivers, and
//! delivery end to end through the worker, its retries and restarts.

#[path = "../common/mod.rs"]
mod common;
mod sender;
mod worker;
