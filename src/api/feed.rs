//! The appointment change feed behind WatchAppointments: handlers publish a
//! change after their transaction commits; each watcher receives its own
//! tenant's changes.
//!
//! In-process (a tokio broadcast channel): a watcher sees the changes made
//! through the replica it is connected to. Sharing the feed across replicas
//! (PostgreSQL LISTEN/NOTIFY or Redis) is still to do.
use std::sync::Arc;

use tokio::sync::broadcast;

use crate::domain::ids::TenantId;
use crate::proto::appointment::v1 as pb;

/// Changes a slow watcher may fall behind by before its stream ends.
const CAPACITY: usize = 1024;

#[derive(Debug)]
pub struct AppointmentEvent {
    pub tenant: TenantId,
    pub change: pb::AppointmentChange,
    pub appointment: pb::Appointment,
}

#[derive(Clone)]
pub struct AppointmentFeed {
    sender: broadcast::Sender<Arc<AppointmentEvent>>,
}

impl Default for AppointmentFeed {
    fn default() -> Self {
        Self { sender: broadcast::channel(CAPACITY).0 }
    }
}

impl AppointmentFeed {
    /// Publishes a committed change; nobody listening is fine.
    pub fn publish(&self, tenant: TenantId, change: pb::AppointmentChange, appointment: pb::Appointment) {
        let _ = self.sender.send(Arc::new(AppointmentEvent { tenant, change, appointment }));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<AppointmentEvent>> {
        self.sender.subscribe()
    }
}
