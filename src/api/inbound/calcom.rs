//! Cal.com booking events mirrored into appointments (source CALCOM, the
//! booking uid kept as external_booking_uid), so Cal.com bookings block
//! AskPro's slots through the same slot claims as every appointment.
//!
//! Mapping (see InboundProvider in the webhook contract): staff = the live
//! staff member whose e-mail equals the organizer's (case-insensitive);
//! service = one they offer whose duration equals the booking's length, else
//! the first they offer; branch = the staff member's; customer = found or
//! created by the first attendee's phone number, read in the branch's
//! region. Without one the event is REJECTED: customers are identified by
//! phone, and inventing one would be a lie. The booking's own times are kept
//! (Cal.com decided them; AskPro's slot grid and hours do not apply), blocked
//! with the service's buffers; time already claimed in AskPro makes the
//! event REJECTED "slot taken", never a double booking.
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Outcome, truncated};
use crate::api::appointment::convert;
use crate::api::events;
use crate::domain::appointment::{Source, Status};
use crate::domain::ids::{BranchId, ServiceId};
use crate::domain::phone::PhoneNumber;
use crate::domain::validate::{RegionCode, optional_email};
use crate::domain::webhook::EventType;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;
use crate::store::customers::{self, NewCustomer};
use crate::store::entities::{appointment, service};
use crate::store::slot_claims::{self, Claim, ClaimKind};
use crate::store::{TenantTx, appointments, branches, services, staff};
use crate::webhooks::payload::{BookingTrigger, CalComBooking, CalComEvent};

const MAX_NOTES: usize = 2000;
const MAX_CANCEL_REASON: usize = 500;
const MAX_NAME: usize = 200;

pub(super) async fn apply(tx: &TenantTx, event: &CalComEvent, at: DateTime<Utc>) -> Result<Outcome> {
    let (trigger, booking) = match event {
        CalComEvent::Booking { trigger, booking, .. } => (*trigger, booking),
        CalComEvent::Other { trigger_event } => {
            return Ok(Outcome::ignored(format!("trigger {trigger_event} is not mirrored")));
        }
    };
    match trigger {
        BookingTrigger::Created | BookingTrigger::Requested => {
            if let Some(existing) = appointments::find_by_external_booking_uid(tx, &booking.uid).await? {
                return Ok(Outcome {
                    appointment_id: Some(existing.id),
                    ..Outcome::ignored("the booking is already mirrored")
                });
            }
            let pending = trigger == BookingTrigger::Requested || booking.status.as_deref() == Some("PENDING");
            mirror(tx, booking, if pending { Status::Pending } else { Status::Confirmed }, at).await
        }
        BookingTrigger::Rescheduled => {
            let mut current = None;
            for uid in [booking.rescheduled_from(), Some(booking.uid.as_str())].into_iter().flatten() {
                current = appointments::find_by_external_booking_uid(tx, uid).await?;
                if current.is_some() {
                    break;
                }
            }
            match current {
                Some(current) => reschedule(tx, current, booking, at).await,
                // The original never reached AskPro: mirror the booking as it is now.
                None => mirror(tx, booking, Status::Confirmed, at).await,
            }
        }
        BookingTrigger::Cancelled => match appointments::find_by_external_booking_uid(tx, &booking.uid).await? {
            None => Ok(Outcome::ignored("no appointment mirrors this booking")),
            Some(current) => cancel(tx, current, booking, at).await,
        },
    }
}

/// A new appointment for the booking.
async fn mirror(tx: &TenantTx, booking: &CalComBooking, status: Status, at: DateTime<Utc>) -> Result<Outcome> {
    let Some(member) = staff::find_by_email(tx, &booking.organizer.email).await? else {
        return Ok(Outcome::rejected("no staff member has the organizer's e-mail address"));
    };
    let Some(service) = service_for(tx, &member.service_ids, booking).await? else {
        return Ok(Outcome::rejected("the organizer's staff member offers no service"));
    };
    let branch = branches::get(tx, BranchId(member.row.branch_id)).await?.row;
    let attendee = &booking.attendees[0];
    let Some(phone_text) = attendee.phone_number.as_deref() else {
        return Ok(Outcome::rejected(
            "payload.attendees[0].phoneNumber is missing: AskPro identifies customers by phone number \
             (make the attendee phone number a required booking field in Cal.com)",
        ));
    };
    let region = RegionCode::parse(&branch.region_code).map_err(|e| Error::Internal(e.into()))?;
    let Ok(phone) = PhoneNumber::parse(phone_text, &region) else {
        return Ok(Outcome::rejected("payload.attendees[0].phoneNumber is not a valid phone number"));
    };
    let (customer, customer_is_new) = customers::find_or_create(
        tx,
        NewCustomer {
            phone_number: phone.as_str().to_owned(),
            display_name: truncated(attendee.name.trim(), MAX_NAME),
            email: optional_email(&attendee.email).unwrap_or_default(),
            notes: String::new(),
        },
    )
    .await?;
    let id = Uuid::now_v7();
    let (block_start, block_end) = blocked(&service, booking);
    let claim =
        Claim { id, staff_id: member.row.id, kind: ClaimKind::Appointment, block_start, block_end, expire_time: None };
    slot_claims::claim(tx, &claim, at).await?;
    let row = appointment::Model {
        tenant_id: tx.tenant().0,
        id,
        branch_id: branch.id,
        service_id: service.id,
        staff_id: member.row.id,
        customer_id: customer.id,
        start_time: booking.start_time,
        end_time: booking.end_time,
        status: status.as_str().into(),
        source: Source::Calcom.as_str().into(),
        notes: booking.title.as_deref().map(|t| truncated(t, MAX_NOTES)).unwrap_or_default(),
        cancel_reason: String::new(),
        call_id: String::new(),
        external_booking_uid: booking.uid.clone(),
        revision: 1,
        create_time: at,
        update_time: at,
    };
    appointments::insert(tx, &row).await?;
    let customer_id = customer.id;
    if customer_is_new {
        events::customer(tx, EventType::CustomerCreated, &convert::customer(customer)).await?;
    }
    let appointment = convert::appointment(row);
    events::appointment(tx, EventType::AppointmentCreated, &appointment).await?;
    Ok(Outcome {
        appointment_id: Some(id),
        customer_id: Some(customer_id),
        feed: Some((pb::AppointmentChange::Created, appointment)),
        ..Outcome::processed()
    })
}

/// Moves the mirrored appointment to the booking's new time (same staff
/// member and service); its claim moves in place.
async fn reschedule(
    tx: &TenantTx,
    current: appointment::Model,
    booking: &CalComBooking,
    at: DateTime<Utc>,
) -> Result<Outcome> {
    let status: Status = current.status.parse().map_err(Error::Internal)?;
    if !status.is_active() {
        return Ok(Outcome::rejected(format!("the mirrored appointment is {status}")));
    }
    let service = services::get(tx, ServiceId(current.service_id)).await?;
    let (block_start, block_end) = blocked(&service, booking);
    slot_claims::move_claim(tx, current.id, current.staff_id, block_start, block_end, at).await?;
    let mut next = current.clone();
    next.start_time = booking.start_time;
    next.end_time = booking.end_time;
    next.external_booking_uid = booking.uid.clone();
    next.revision += 1;
    next.update_time = at;
    appointments::save_revision(tx, &current, &next).await?;
    let appointment = convert::appointment(next);
    events::appointment(tx, EventType::AppointmentRescheduled, &appointment).await?;
    Ok(Outcome {
        appointment_id: Some(current.id),
        customer_id: Some(current.customer_id),
        feed: Some((pb::AppointmentChange::Rescheduled, appointment)),
        ..Outcome::processed()
    })
}

/// Cancels the mirrored appointment and gives its time back.
async fn cancel(
    tx: &TenantTx,
    current: appointment::Model,
    booking: &CalComBooking,
    at: DateTime<Utc>,
) -> Result<Outcome> {
    let status: Status = current.status.parse().map_err(Error::Internal)?;
    if status == Status::Cancelled {
        return Ok(Outcome { appointment_id: Some(current.id), ..Outcome::ignored("already cancelled") });
    }
    if status.transition(Status::Cancelled).is_err() {
        return Ok(Outcome::rejected(format!("a {status} appointment cannot be cancelled")));
    }
    let mut next = current.clone();
    next.status = Status::Cancelled.as_str().into();
    next.cancel_reason =
        truncated(booking.cancellation_reason.as_deref().unwrap_or("cancelled in Cal.com"), MAX_CANCEL_REASON);
    next.revision += 1;
    next.update_time = at;
    appointments::save_revision(tx, &current, &next).await?;
    slot_claims::release(tx, current.id).await?;
    let appointment = convert::appointment(next);
    events::appointment(tx, EventType::AppointmentCancelled, &appointment).await?;
    Ok(Outcome {
        appointment_id: Some(current.id),
        customer_id: Some(current.customer_id),
        feed: Some((pb::AppointmentChange::Cancelled, appointment)),
        ..Outcome::processed()
    })
}

/// The live service (of those offered) lasting as long as the booking, else the first.
async fn service_for(tx: &TenantTx, offered: &[Uuid], booking: &CalComBooking) -> Result<Option<service::Model>> {
    let minutes = (booking.end_time - booking.start_time).num_minutes();
    let mut first = None;
    for id in offered {
        let service = match services::get(tx, ServiceId(*id)).await {
            Ok(service) => service,
            Err(Error::NotFound { .. }) => continue,
            Err(err) => return Err(err),
        };
        if i64::from(service.duration_minutes) == minutes {
            return Ok(Some(service));
        }
        first.get_or_insert(service);
    }
    Ok(first)
}

/// The booking's time with the service's buffers around it.
fn blocked(service: &service::Model, booking: &CalComBooking) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        booking.start_time - Duration::minutes(i64::from(service.buffer_before_minutes)),
        booking.end_time + Duration::minutes(i64::from(service.buffer_after_minutes)),
    )
}
