//! Appointments: booking (from a slot or a hold), rescheduling, cancelling,
//! status changes and edits, and mirroring an external (Cal.com) booking.
//!
//! The sequences every way in shares are written once, here: a new
//! appointment claims its buffered time, gets its row and announces itself
//! (`record_new`); a move shifts the claim in place, so the new time is
//! secured before the old one is freed (`move_to`); a cancel gives the time
//! back (`cancel_in`). Each writes its outbox event and its change-feed entry
//! in the same transaction as the change.
mod book;
mod calcom;
mod mirror;
mod reschedule;
mod status;

pub use book::{BookRequest, book};
pub use mirror::{MirrorOutcome, mirror_calcom};
pub use reschedule::{RescheduleRequest, reschedule};
pub use status::{CancelRequest, cancel, set_status, update_notes};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use self::calcom::Origin;
use super::bookable::Placement;
use super::{Operations, events};
use crate::convert::appointment as convert;
use crate::domain::appointment::{Source, Status};
use crate::domain::webhook::EventType;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;
use crate::store::entities::{appointment, customer};
use crate::store::slot_claims::{self, Claim, ClaimKind};
use crate::store::{TenantTx, appointments};

/// An appointment about to be written, its time not yet claimed.
struct NewAppointment {
    id: Uuid,
    branch_id: Uuid,
    service_id: Uuid,
    placement: Placement,
    status: Status,
    source: Source,
    notes: String,
    call_id: String,
    external_booking_uid: String,
}

/// Claims the placement's time for appointment `new.id`; a taken time is
/// SLOT_TAKEN (the database decides, see `store::slot_claims`).
async fn claim_time(tx: &TenantTx, new: &NewAppointment, at: DateTime<Utc>) -> Result<()> {
    let claim = Claim {
        id: new.id,
        staff_id: new.placement.staff_id,
        kind: ClaimKind::Appointment,
        block_start: new.placement.block_start,
        block_end: new.placement.block_end,
        expire_time: None,
    };
    slot_claims::claim(tx, &claim, at).await
}

/// Writes the appointment whose time `claim_time` secured, for `customer`
/// (`customer_is_new`: this booking created it), with its events.
async fn record_new(
    ops: &Operations,
    tx: &TenantTx,
    new: NewAppointment,
    customer: customer::Model,
    customer_is_new: bool,
    at: DateTime<Utc>,
) -> Result<(pb::Appointment, pb::Customer)> {
    let row = appointment::Model {
        tenant_id: tx.tenant().0,
        id: new.id,
        branch_id: new.branch_id,
        service_id: new.service_id,
        staff_id: new.placement.staff_id,
        customer_id: customer.id,
        start_time: new.placement.start,
        end_time: new.placement.end,
        status: new.status.as_str().into(),
        source: new.source.as_str().into(),
        notes: new.notes,
        cancel_reason: String::new(),
        call_id: new.call_id,
        external_booking_uid: new.external_booking_uid,
        revision: 1,
        create_time: at,
        update_time: at,
    };
    appointments::insert(tx, &row);
    let origin = if new.source == Source::Calcom { Origin::Calcom } else { Origin::AskPro };
    calcom::follow(ops, tx, None, &row, origin, at).await?;
    let (appointment, customer) = (convert::appointment(row), convert::customer(customer));
    if customer_is_new {
        events::customer(tx, EventType::CustomerCreated, &customer).await?;
    }
    events::appointment(tx, EventType::AppointmentCreated, &appointment).await?;
    ops.feed.announce(tx, pb::AppointmentChange::Created, appointment.clone(), None).await?;
    Ok((appointment, customer))
}

/// Moves an active appointment to `placement`: the claim moves in place
/// (checked against every other claim), then the row and the events.
/// `external_booking_uid` replaces the stored one when given (a Cal.com
/// reschedule gets a new uid).
async fn move_to(
    ops: &Operations,
    tx: &TenantTx,
    current: &appointment::Model,
    placement: &Placement,
    external_booking_uid: Option<&str>,
    origin: Origin,
    at: DateTime<Utc>,
) -> Result<pb::Appointment> {
    slot_claims::move_claim(
        tx,
        current.id,
        current.staff_id,
        placement.staff_id,
        placement.block_start,
        placement.block_end,
        at,
    )
    .await?;
    let mut next = current.clone();
    next.staff_id = placement.staff_id;
    next.start_time = placement.start;
    next.end_time = placement.end;
    if let Some(uid) = external_booking_uid {
        next.external_booking_uid = uid.to_owned();
    }
    next.revision += 1;
    next.update_time = at;
    appointments::save_revision(tx, current, &next).await?;
    calcom::follow(ops, tx, Some(current), &next, origin, at).await?;
    let appointment = convert::appointment(next);
    events::appointment(tx, EventType::AppointmentRescheduled, &appointment).await?;
    let previous_staff = Some(current.staff_id);
    ops.feed.announce(tx, pb::AppointmentChange::Rescheduled, appointment.clone(), previous_staff).await?;
    Ok(appointment)
}

/// Cancels an appointment that may be cancelled and gives its time back.
async fn cancel_in(
    ops: &Operations,
    tx: &TenantTx,
    current: &appointment::Model,
    reason: String,
    origin: Origin,
    at: DateTime<Utc>,
) -> Result<pb::Appointment> {
    let mut next = current.clone();
    next.status = transition(current, Status::Cancelled)?.as_str().into();
    next.cancel_reason = reason;
    next.revision += 1;
    next.update_time = at;
    appointments::save_revision(tx, current, &next).await?;
    slot_claims::release(tx, current.id, current.staff_id).await?;
    calcom::follow(ops, tx, Some(current), &next, origin, at).await?;
    let appointment = convert::appointment(next);
    events::appointment(tx, EventType::AppointmentCancelled, &appointment).await?;
    ops.feed.announce(tx, pb::AppointmentChange::Cancelled, appointment.clone(), None).await?;
    Ok(appointment)
}

/// The status an appointment may move to from its current one.
fn transition(row: &appointment::Model, to: Status) -> Result<Status> {
    let from = status_of(row)?;
    from.transition(to).map_err(|_| illegal(from, &format!("changed to {to}")))
}

fn status_of(row: &appointment::Model) -> Result<Status> {
    row.status.parse().map_err(Error::Internal)
}

fn illegal(from: Status, what: &str) -> Error {
    Error::FailedPrecondition {
        reason: "ILLEGAL_STATE_TRANSITION",
        message: format!("a {from} appointment cannot be {what}"),
    }
}
