//! Rate limits: at the server's edge across processes sharing one Redis, and
//! the limiter itself against a real Redis and with Redis unreachable.

#[path = "../common/mod.rs"]
mod common;
mod processes;
mod redis_limiter;
