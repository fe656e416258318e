//! CreateAppointment, GetAppointment, ListAppointments, UpdateAppointment,
//! CancelAppointment, RescheduleAppointment, ConfirmAppointment, MarkNoShow,
//! CompleteAppointment: the writes are adapters over
//! `operations::appointments`, which owns the booking sequences.
mod create;
mod read;
mod reschedule;
mod status;

pub use create::create;
pub use read::{get, list};
pub use reschedule::reschedule;
pub use status::{cancel, complete, confirm, mark_no_show, update};

use uuid::Uuid;

use crate::domain::validate::Violations;
use crate::error::{Error, Result};

pub(super) fn parse_id(text: &str) -> Result<Uuid> {
    let mut v = Violations::new();
    let id = v.uuid("id", text);
    v.finish()?;
    id.ok_or_else(|| Error::invalid("id", "is required"))
}
