//! CreateAppointment, GetAppointment, ListAppointments, UpdateAppointment,
//! CancelAppointment, RescheduleAppointment, ConfirmAppointment, MarkNoShow,
//! CompleteAppointment.
//!
//! Time is secured by slot claims (see `store::slot_claims`): booking claims
//! the buffered range, cancelling releases it, rescheduling moves it in place
//! so the new time is secured before the old one is freed.
mod create;
mod read;
mod reschedule;
mod status;

pub use create::create;
pub use read::{get, list};
pub use reschedule::reschedule;
pub use status::{cancel, complete, confirm, mark_no_show, update};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::validate::Violations;
use crate::error::{Error, Result};

pub(super) fn parse_uuid(v: &mut Violations, field: &str, text: &str) -> Option<Uuid> {
    if text.is_empty() {
        v.add(field, "is required");
        return None;
    }
    v.take(field, Uuid::try_parse(text).map_err(|_| "must be a UUID"))
}

pub(super) fn parse_id(text: &str) -> Result<Uuid> {
    let mut v = Violations::new();
    let id = parse_uuid(&mut v, "id", text);
    v.finish()?;
    id.ok_or_else(|| Error::invalid("id", "is required"))
}

pub(super) fn ts(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}
