//! The appointment change feed behind WatchAppointments: an operation
//! announces its change inside the transaction that makes it; each watcher
//! receives its own tenant's changes once that transaction committed.
//!
//! A replica hands its own changes to its watchers when the transaction
//! commits, through a tokio broadcast channel (on SQLite, one process, that
//! is the whole feed). On PostgreSQL the transaction also sends them with
//! `pg_notify` (sent with the transaction's other notifications just before
//! its COMMIT), which PostgreSQL delivers at commit and drops on rollback;
//! every other replica's listener (`listen`) hands them to its watchers,
//! skipping its own by origin.
//!
//! Each tenant has a channel of its own (made for its first watcher, dropped
//! with its last): a burst of changes in one tenant can make only that
//! tenant's slow watchers fall behind, never another tenant's. A tenant may
//! keep at most `max_watch_streams_per_tenant` streams open on a replica.
use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use prost::Message;
use sea_orm::DbBackend;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::domain::ids::TenantId;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;
use crate::store::{Store, TenantTx};

/// Changes a slow watcher may fall behind by (within its own tenant) before
/// its stream ends.
const CAPACITY: usize = 1024;
/// The PostgreSQL notification channel.
const CHANNEL: &str = "askpro_appointment_changes";
/// PostgreSQL refuses a notification payload of 8000 bytes or more.
const MAX_PAYLOAD_BYTES: usize = 7999;

#[derive(Debug)]
pub struct AppointmentEvent {
    pub tenant: TenantId,
    pub change: pb::AppointmentChange,
    pub appointment: pb::Appointment,
    /// For a reschedule to another staff member: who had it before, so that
    /// watchers of either staff member hear of it.
    pub previous_staff_id: Option<String>,
}

/// A change as a notification payload (well under PostgreSQL's 8000 bytes).
#[derive(Serialize, Deserialize)]
struct Payload {
    t: uuid::Uuid,
    c: i32,
    /// The appointment, protobuf-encoded, base64.
    a: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<String>,
    /// The publishing replica's feed, so it can skip its own notifications.
    o: uuid::Uuid,
}

type Channels = std::sync::Mutex<HashMap<TenantId, broadcast::Sender<Arc<AppointmentEvent>>>>;

#[derive(Clone)]
pub struct AppointmentFeed {
    /// The channel of each tenant with watchers on this replica.
    channels: Arc<Channels>,
    max_streams_per_tenant: usize,
    /// Set on PostgreSQL: publish through the database.
    postgres: Option<Store>,
    origin: uuid::Uuid,
}

impl AppointmentFeed {
    pub fn new(store: &Store, max_streams_per_tenant: usize) -> Self {
        let postgres = (store.backend() == DbBackend::Postgres).then(|| store.clone());
        Self {
            channels: Arc::default(),
            max_streams_per_tenant: max_streams_per_tenant.max(1),
            postgres,
            origin: uuid::Uuid::now_v7(),
        }
    }

    /// Hands a committed change to its tenant's watchers here, if any.
    fn send(channels: &Channels, event: Arc<AppointmentEvent>) {
        let Ok(mut channels) = channels.lock() else { return };
        if let Some(sender) = channels.get(&event.tenant) {
            if sender.receiver_count() == 0 {
                // The last watcher left: forget the channel.
                channels.remove(&event.tenant);
            } else {
                let _ = sender.send(event);
            }
        }
    }

    /// Announces a change made by `tx`: this replica's watchers hear it once
    /// `tx` commits, other replicas through the database's notification,
    /// sent in the same transaction. `previous_staff` names who had a
    /// rescheduled appointment before, so watchers of either hear of it.
    pub async fn announce(
        &self,
        tx: &TenantTx,
        change: pb::AppointmentChange,
        appointment: pb::Appointment,
        previous_staff: Option<uuid::Uuid>,
    ) -> Result<()> {
        let previous_staff_id = previous_staff.map(|id| id.to_string());
        let event = AppointmentEvent { tenant: tx.tenant(), change, appointment, previous_staff_id };
        if self.postgres.is_some() {
            let payload = Payload {
                t: event.tenant.0,
                c: event.change as i32,
                a: STANDARD.encode(event.appointment.encode_to_vec()),
                p: event.previous_staff_id.clone(),
                o: self.origin,
            };
            match serde_json::to_string(&payload) {
                Ok(text) if text.len() <= MAX_PAYLOAD_BYTES => tx.notify_at_commit(CHANNEL, text),
                // Other replicas' watchers miss this one change (long notes);
                // they re-list after a reconnect anyway. The change itself stands.
                _ => tracing::warn!("an appointment change is too large to notify other replicas"),
            }
        }
        let channels = self.channels.clone();
        let event = Arc::new(event);
        tx.on_commit(move || Self::send(&channels, event));
        Ok(())
    }

    /// A new watcher of `tenant`'s changes; RESOURCE_EXHAUSTED
    /// (WATCH_LIMIT_REACHED) when the tenant has as many streams open on this
    /// replica as it may.
    pub fn subscribe(&self, tenant: TenantId) -> Result<broadcast::Receiver<Arc<AppointmentEvent>>> {
        let mut channels = self.channels.lock().map_err(|_| Error::Internal("the feed's lock is poisoned".into()))?;
        // Channels of tenants whose watchers all left go here too, not only on a send.
        channels.retain(|_, sender| sender.receiver_count() > 0);
        let sender = channels.entry(tenant).or_insert_with(|| broadcast::channel(CAPACITY).0);
        if sender.receiver_count() >= self.max_streams_per_tenant {
            let limit = self.max_streams_per_tenant;
            return Err(Error::LimitReached {
                reason: "WATCH_LIMIT_REACHED",
                subject: "watch_streams",
                limit: limit as u64,
                message: format!(
                    "this tenant already has {limit} WatchAppointments streams open on this server, the most \
                     allowed; close one first"
                ),
            });
        }
        Ok(sender.subscribe())
    }

    /// PostgreSQL only: receives every replica's changes and hands them to
    /// this replica's watchers. Runs until the server stops; reconnects on
    /// its own.
    pub async fn listen(self) {
        let Some(store) = &self.postgres else { return };
        loop {
            let pool = store.connection().get_postgres_connection_pool();
            let mut listener = match sea_orm::sqlx::postgres::PgListener::connect_with(pool).await {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::warn!(error = %err, "change feed cannot connect; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(err) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %err, "change feed cannot listen; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
            loop {
                match listener.recv().await {
                    Ok(notification) => self.deliver(notification.payload()),
                    Err(err) => {
                        tracing::warn!(error = %err, "change feed lost its connection; reconnecting");
                        break;
                    }
                }
            }
        }
    }

    fn deliver(&self, text: &str) {
        let Ok(payload) = serde_json::from_str::<Payload>(text) else { return };
        if payload.o == self.origin {
            return;
        }
        let Ok(bytes) = STANDARD.decode(payload.a) else { return };
        let Ok(appointment) = pb::Appointment::decode(bytes.as_slice()) else { return };
        let change = pb::AppointmentChange::try_from(payload.c).unwrap_or(pb::AppointmentChange::Updated);
        let event = AppointmentEvent { tenant: TenantId(payload.t), change, appointment, previous_staff_id: payload.p };
        Self::send(&self.channels, Arc::new(event));
    }
}
