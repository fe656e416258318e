//! Mirroring Cal.com bookings into appointments (source CALCOM, the booking
//! uid kept as external_booking_uid), so Cal.com bookings block AskPro's
//! slots through the same slot claims as every appointment. Runs inside the
//! inbound webhook's transaction, next to its inbox row.
//!
//! Mapping (see InboundProvider in the webhook contract): staff = the one
//! linked to the organizer's Cal.com user id or e-mail (IntegrationService),
//! else the live staff member whose e-mail equals the organizer's
//! (case-insensitive);
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

use super::{NewAppointment, Origin, cancel_in, claim_time, move_to, record_new, status_of};
use crate::domain::appointment::{Source, Status};
use crate::domain::ids::{BranchId, ServiceId, StaffId};
use crate::domain::phone::PhoneNumber;
use crate::domain::validate::{RegionCode, optional_email};
use crate::error::{Error, Result};
use crate::operations::bookable::Placement;
use crate::operations::{Operations, customers};
use crate::store::entities::{appointment, service};
use crate::store::{TenantTx, appointments, branches, calcom, services, staff};
use crate::webhooks::payload::{BookingTrigger, CalComBooking, CalComEvent};

const MAX_NOTES: usize = 2000;
const MAX_CANCEL_REASON: usize = 500;
const MAX_NAME: usize = 200;

/// What mirroring one Cal.com event did.
#[derive(Debug)]
pub enum MirrorOutcome {
    /// The appointment was created, moved or cancelled.
    Applied { appointment_id: Uuid, customer_id: Uuid },
    /// Nothing to do (already mirrored, already cancelled, not a booking event).
    Ignored { reason: String, appointment_id: Option<Uuid> },
    /// The event cannot be mirrored; nothing of it may be kept.
    Rejected { reason: String },
}

fn ignored(reason: impl Into<String>) -> MirrorOutcome {
    MirrorOutcome::Ignored { reason: reason.into(), appointment_id: None }
}

fn rejected(reason: impl Into<String>) -> MirrorOutcome {
    MirrorOutcome::Rejected { reason: reason.into() }
}

/// Applies a Cal.com event inside `tx`.
pub async fn mirror_calcom(
    ops: &Operations,
    tx: &TenantTx,
    event: &CalComEvent,
    at: DateTime<Utc>,
) -> Result<MirrorOutcome> {
    let (trigger, booking) = match event {
        CalComEvent::Booking { trigger, booking, .. } => (*trigger, booking),
        CalComEvent::Other { trigger_event } => {
            return Ok(ignored(format!("trigger {trigger_event} is not mirrored")));
        }
    };
    let lasts = booking.end_time - booking.start_time;
    if trigger != BookingTrigger::Cancelled && lasts > crate::domain::appointment::MAX_LENGTH {
        return Ok(rejected("the booking lasts more than a day, the longest an AskPro appointment may last"));
    }
    match trigger {
        BookingTrigger::Created | BookingTrigger::Requested => {
            if let Some(own) = own_booking(tx, booking).await? {
                return Ok(MirrorOutcome::Ignored {
                    reason: "AskPro made this booking (its own Cal.com copy)".into(),
                    appointment_id: Some(own),
                });
            }
            if let Some(existing) = appointments::find_by_external_booking_uid(tx, &booking.uid).await? {
                return Ok(MirrorOutcome::Ignored {
                    reason: "the booking is already mirrored".into(),
                    appointment_id: Some(existing.id),
                });
            }
            let pending = trigger == BookingTrigger::Requested || booking.status.as_deref() == Some("PENDING");
            create(ops, tx, booking, if pending { Status::Pending } else { Status::Confirmed }, at).await
        }
        BookingTrigger::Rescheduled => {
            let mut current = None;
            for uid in [booking.rescheduled_from(), Some(booking.uid.as_str())].into_iter().flatten() {
                current = find_by_calcom_uid(tx, uid).await?;
                if current.is_some() {
                    break;
                }
            }
            match current {
                Some(current) => reschedule(ops, tx, current, booking, at).await,
                // The original never reached AskPro: mirror the booking as it is now.
                None => create(ops, tx, booking, Status::Confirmed, at).await,
            }
        }
        BookingTrigger::Cancelled => match find_by_calcom_uid(tx, &booking.uid).await? {
            None => Ok(ignored("no appointment mirrors this booking")),
            Some(current) => cancel(ops, tx, current, booking, at).await,
        },
    }
}

/// The appointment AskPro copied into Cal.com as this booking: named by the
/// booking's metadata, or known by its uid from the sync queue.
async fn own_booking(tx: &TenantTx, booking: &CalComBooking) -> Result<Option<Uuid>> {
    if let Some(id) = booking.askpro_appointment_id.as_deref().and_then(|id| Uuid::try_parse(id).ok()) {
        match appointments::get(tx, id).await {
            Ok(row) => return Ok(Some(row.id)),
            Err(Error::NotFound { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    calcom::appointment_with_uid(tx, &booking.uid).await
}

/// The appointment a Cal.com booking uid stands for: one mirrored from it,
/// else one AskPro copied into Cal.com as it.
async fn find_by_calcom_uid(tx: &TenantTx, uid: &str) -> Result<Option<appointment::Model>> {
    if let Some(row) = appointments::find_by_external_booking_uid(tx, uid).await? {
        return Ok(Some(row));
    }
    match calcom::appointment_with_uid(tx, uid).await? {
        Some(id) => Ok(Some(appointments::get(tx, id).await?)),
        None => Ok(None),
    }
}

/// A new appointment for the booking.
async fn create(
    ops: &Operations,
    tx: &TenantTx,
    booking: &CalComBooking,
    status: Status,
    at: DateTime<Utc>,
) -> Result<MirrorOutcome> {
    let Some(member) = organizer_staff(tx, booking).await? else {
        return Ok(rejected("no staff member has the organizer's e-mail address"));
    };
    let Some(service) = service_for(tx, &member.service_ids, booking).await? else {
        return Ok(rejected("the organizer's staff member offers no service"));
    };
    let branch = branches::get_row(tx, BranchId(member.row.branch_id)).await?;
    let attendee = &booking.attendees[0];
    let Some(phone_text) = attendee.phone_number.as_deref() else {
        return Ok(rejected(
            "payload.attendees[0].phoneNumber is missing: AskPro identifies customers by phone number \
             (make the attendee phone number a required booking field in Cal.com)",
        ));
    };
    let region = RegionCode::parse(&branch.region_code).map_err(|e| Error::Internal(e.into()))?;
    let Ok(phone) = PhoneNumber::parse(phone_text, &region) else {
        return Ok(rejected("payload.attendees[0].phoneNumber is not a valid phone number"));
    };
    let new = NewAppointment {
        id: Uuid::now_v7(),
        branch_id: branch.id,
        service_id: service.id,
        placement: placement(&service, member.row.id, booking),
        status,
        source: Source::Calcom,
        notes: booking.title.as_deref().map(|t| truncated(t, MAX_NOTES)).unwrap_or_default(),
        call_id: String::new(),
        external_booking_uid: booking.uid.clone(),
    };
    claim_time(tx, &new, at).await?;
    let name = truncated(attendee.name.trim(), MAX_NAME);
    let email = optional_email(&attendee.email).unwrap_or_default();
    let (customer, customer_is_new) = customers::find_or_create_by_phone(tx, &phone, &name, &email).await?;
    let (appointment_id, customer_id) = (new.id, customer.id);
    record_new(ops, tx, new, customer, customer_is_new, at).await?;
    Ok(MirrorOutcome::Applied { appointment_id, customer_id })
}

/// Moves the mirrored appointment to the booking's new time (same staff
/// member and service); its claim moves in place.
async fn reschedule(
    ops: &Operations,
    tx: &TenantTx,
    current: appointment::Model,
    booking: &CalComBooking,
    at: DateTime<Utc>,
) -> Result<MirrorOutcome> {
    let status = status_of(&current)?;
    if !status.is_active() {
        return Ok(rejected(format!("the mirrored appointment is {status}")));
    }
    if current.start_time == booking.start_time && current.end_time == booking.end_time {
        // AskPro moved it there itself (the echo of its own reschedule).
        return Ok(MirrorOutcome::Ignored {
            reason: "the appointment is already at this time".into(),
            appointment_id: Some(current.id),
        });
    }
    let service = services::get(tx, ServiceId(current.service_id)).await?;
    let placement = placement(&service, current.staff_id, booking);
    move_to(ops, tx, &current, &placement, Some(&booking.uid), Origin::Calcom, at).await?;
    Ok(MirrorOutcome::Applied { appointment_id: current.id, customer_id: current.customer_id })
}

/// Cancels the mirrored appointment and gives its time back.
async fn cancel(
    ops: &Operations,
    tx: &TenantTx,
    current: appointment::Model,
    booking: &CalComBooking,
    at: DateTime<Utc>,
) -> Result<MirrorOutcome> {
    let status = status_of(&current)?;
    if status == Status::Cancelled {
        return Ok(MirrorOutcome::Ignored { reason: "already cancelled".into(), appointment_id: Some(current.id) });
    }
    if status.transition(Status::Cancelled).is_err() {
        return Ok(rejected(format!("a {status} appointment cannot be cancelled")));
    }
    let reason = truncated(booking.cancellation_reason.as_deref().unwrap_or("cancelled in Cal.com"), MAX_CANCEL_REASON);
    cancel_in(ops, tx, &current, reason, Origin::Calcom, at).await?;
    Ok(MirrorOutcome::Applied { appointment_id: current.id, customer_id: current.customer_id })
}

/// The staff member the organizer is: linked to Cal.com by the organizer's
/// user id, else by the link's Cal.com e-mail, else the one whose own
/// e-mail is the organizer's.
async fn organizer_staff(tx: &TenantTx, booking: &CalComBooking) -> Result<Option<staff::StaffMember>> {
    let organizer = &booking.organizer;
    let links = calcom::links(tx).await?;
    let linked =
        links.iter().find(|l| organizer.id.is_some_and(|id| id != 0 && l.calcom_user_id == id)).or_else(|| {
            links.iter().find(|l| !l.calcom_email.is_empty() && l.calcom_email.eq_ignore_ascii_case(&organizer.email))
        });
    if let Some(link) = linked {
        match staff::get(tx, StaffId(link.staff_id)).await {
            Ok(member) => return Ok(Some(member)),
            Err(Error::NotFound { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    staff::find_by_email(tx, &organizer.email).await
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

/// The booking's own time, blocked with the service's buffers around it.
fn placement(service: &service::Model, staff_id: Uuid, booking: &CalComBooking) -> Placement {
    Placement {
        staff_id,
        start: booking.start_time,
        end: booking.end_time,
        block_start: booking.start_time - Duration::minutes(i64::from(service.buffer_before_minutes)),
        block_end: booking.end_time + Duration::minutes(i64::from(service.buffer_after_minutes)),
    }
}

/// Cuts free text from a provider to what a field holds.
pub fn truncated(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
