//! The business operations on appointments, holds, customers and calls.
//!
//! Each operation owns its validation, its slot claim, its rows and its
//! events (outbox and change feed), and every way in calls it: the gRPC
//! adapters in `api`, the inbound webhooks, and whatever comes next (Cal.com
//! sync, voice-agent tools). An adapter decodes, authorises, calls one
//! function here and encodes; it never writes the booking sequence itself.
//!
//! Operations come in two shapes: a whole call (`book`, `hold`, `cancel`:
//! its own transaction, retried on conflicts, idempotent by request id) and
//! a step inside a transaction someone else holds (`*_in`, `record`,
//! `release_all_of`: an inbound webhook applies them next to its inbox row).
pub mod appointments;
pub mod bookable;
pub mod calcom_import;
pub mod calls;
pub mod customers;
pub mod events;
pub mod holds;
pub mod idempotency;

use crate::feed::AppointmentFeed;
use crate::store::Store;

/// What an operation runs against: the store, and the change feed its
/// commits announce.
#[derive(Clone)]
pub struct Operations {
    pub store: Store,
    pub feed: AppointmentFeed,
    pub hold_limits: holds::HoldLimits,
}

impl Operations {
    pub fn new(store: Store, hold_limits: holds::HoldLimits, max_watch_streams_per_tenant: usize) -> Self {
        let feed = AppointmentFeed::new(&store, max_watch_streams_per_tenant);
        Self { store, feed, hold_limits }
    }
}
