//! The appointment change feed behind WatchAppointments: handlers publish a
//! change after their transaction commits; each watcher receives its own
//! tenant's changes.
//!
//! A replica hands its own changes to its watchers at once, through a tokio
//! broadcast channel (on SQLite, one process, that is the whole feed). On
//! PostgreSQL it also publishes them with `pg_notify`; every other replica's
//! listener (`listen`) hands them to its watchers, skipping its own by origin.
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use prost::Message;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::domain::ids::TenantId;
use crate::proto::appointment::v1 as pb;
use crate::store::Store;

/// Changes a slow watcher may fall behind by before its stream ends.
const CAPACITY: usize = 1024;
/// The PostgreSQL notification channel.
const CHANNEL: &str = "askpro_appointment_changes";

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

#[derive(Clone)]
pub struct AppointmentFeed {
    sender: broadcast::Sender<Arc<AppointmentEvent>>,
    /// Set on PostgreSQL: publish through the database.
    postgres: Option<Store>,
    origin: uuid::Uuid,
}

impl AppointmentFeed {
    pub fn new(store: &Store) -> Self {
        let postgres = (store.backend() == DbBackend::Postgres).then(|| store.clone());
        Self { sender: broadcast::channel(CAPACITY).0, postgres, origin: uuid::Uuid::now_v7() }
    }

    /// Publishes a committed change; nobody listening is fine. A failed
    /// notification is logged: watchers re-list after a reconnect anyway.
    pub async fn publish(&self, tenant: TenantId, change: pb::AppointmentChange, appointment: pb::Appointment) {
        self.send(AppointmentEvent { tenant, change, appointment, previous_staff_id: None }).await;
    }

    /// Publishes a reschedule, naming the staff member who had it before.
    pub async fn publish_moved(
        &self,
        tenant: TenantId,
        appointment: pb::Appointment,
        previous_staff: Option<uuid::Uuid>,
    ) {
        let previous_staff_id = previous_staff.map(|id| id.to_string());
        let change = pb::AppointmentChange::Rescheduled;
        self.send(AppointmentEvent { tenant, change, appointment, previous_staff_id }).await;
    }

    async fn send(&self, event: AppointmentEvent) {
        let payload = Payload {
            t: event.tenant.0,
            c: event.change as i32,
            a: STANDARD.encode(event.appointment.encode_to_vec()),
            p: event.previous_staff_id.clone(),
            o: self.origin,
        };
        let _ = self.sender.send(Arc::new(event));
        let Some(store) = &self.postgres else { return };
        let Ok(text) = serde_json::to_string(&payload) else { return };
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), text.into()],
        );
        if let Err(err) = store.connection().execute_raw(statement).await {
            tracing::warn!(error = %err, "could not publish an appointment change");
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<AppointmentEvent>> {
        self.sender.subscribe()
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
        let _ = self.sender.send(Arc::new(event));
    }
}
