//! RescheduleAppointment: the claim moves in place, so the new time is
//! secured before the old one is freed.

use std::sync::atomic::{AtomicBool, Ordering};

use tonic::Request;
use uuid::Uuid;

use super::status::illegal;
use super::{parse_uuid, ts};
use crate::api::AppState;
use crate::api::appointment::convert;
use crate::api::availability::holds::{ensure_live_and_owned, validate_hold_key};
use crate::api::booking::{check_bookable, rules, with_alternatives};
use crate::api::context::tenant_of;
use crate::api::convert::instant;
use crate::api::events;
use crate::api::idempotency::{create_once, fingerprint, validate_request_id};
use crate::domain::appointment::Status;
use crate::domain::ids::ServiceId;
use crate::domain::validate::Violations;
use crate::domain::webhook::EventType;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;
use crate::store::appointments::{self};
use crate::store::slot_claims::{self};
use crate::store::{check_etag, holds, now, retry, services};

pub async fn reschedule(
    state: &AppState,
    request: Request<pb::RescheduleAppointmentRequest>,
) -> Result<pb::RescheduleAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let mut v = Violations::new();
    let id = parse_uuid(&mut v, "id", &req.id);
    let new_staff = if req.staff_id.is_empty() { None } else { parse_uuid(&mut v, "staff_id", &req.staff_id) };
    let start = req.start_time.as_ref().and_then(instant);
    if start.is_none() && req.hold.is_none() {
        v.add("start_time", "is required unless a hold is given");
    }
    let hold = req.hold.as_ref().and_then(|h| {
        validate_hold_key(&mut v, "hold.hold_key", &h.hold_key);
        parse_uuid(&mut v, "hold.hold_id", &h.hold_id).map(|hold_id| (hold_id, h.hold_key.clone()))
    });
    v.finish()?;
    validate_request_id(&req.request_id)?;
    let Some(id) = id else { return Err(Error::Internal("validated fields missing".into())) };
    let fingerprint = fingerprint(&pb::RescheduleAppointmentRequest { request_id: String::new(), ..req.clone() });
    let changed = AtomicBool::new(false);
    let previous_staff = std::sync::Mutex::new(None::<Uuid>);
    let result = retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        let out = create_once(&tx, "RescheduleAppointment", &req.request_id, &fingerprint, async {
            let current = appointments::get(&tx, id).await?;
            check_etag(&req.etag, current.revision)?;
            let status: Status = current.status.parse().map_err(Error::Internal)?;
            if !status.is_active() {
                return Err(illegal(status, "rescheduled"));
            }
            let mut next = current.clone();
            match &hold {
                Some((hold_id, key)) => {
                    let hold = holds::get(&tx, *hold_id).await?;
                    ensure_live_and_owned(&hold, key, at)?;
                    if start.is_some_and(|s| s != hold.start_time) {
                        return Err(Error::invalid("start_time", "must be empty or equal the hold's start time"));
                    }
                    if new_staff.is_some_and(|s| s != hold.staff_id) {
                        return Err(Error::invalid("staff_id", "must be empty or equal the hold's staff member"));
                    }
                    if hold.branch_id != current.branch_id || hold.service_id != current.service_id {
                        return Err(Error::FailedPrecondition {
                            reason: "FAILED_PRECONDITION",
                            message: "the hold is for another branch or service".into(),
                        });
                    }
                    let service = services::get(&tx, ServiceId(current.service_id)).await?;
                    let (bs, be) = rules(&service).blocked_range(hold.start_time.timestamp());
                    // The hold's claim gives way to the appointment's, moved in place.
                    slot_claims::release(&tx, hold.id).await?;
                    slot_claims::move_claim(&tx, id, hold.staff_id, ts(bs), ts(be), at).await?;
                    holds::convert(&tx, hold.id, id, at).await?;
                    next.staff_id = hold.staff_id;
                    next.start_time = hold.start_time;
                    next.end_time = hold.end_time;
                }
                None => {
                    let staff = new_staff.unwrap_or(current.staff_id);
                    let start = start.ok_or_else(|| Error::invalid("start_time", "is required"))?;
                    let slot = check_bookable(&tx, current.branch_id, current.service_id, staff, start, at).await?;
                    slot_claims::move_claim(&tx, id, staff, slot.block_start, slot.block_end, at).await?;
                    next.staff_id = staff;
                    next.start_time = slot.start;
                    next.end_time = slot.end;
                }
            }
            next.revision += 1;
            next.update_time = at;
            appointments::save_revision(&tx, &current, &next).await?;
            changed.store(true, Ordering::Relaxed);
            if let Ok(mut previous) = previous_staff.lock() {
                *previous = Some(current.staff_id);
            }
            let appointment = convert::appointment(next);
            events::appointment(&tx, EventType::AppointmentRescheduled, &appointment).await?;
            Ok(pb::RescheduleAppointmentResponse { appointment: Some(appointment) })
        })
        .await?;
        tx.commit().await?;
        Ok(out)
    })
    .await;
    match result {
        Ok(out) => {
            if changed.load(Ordering::Relaxed)
                && let Some(appointment) = &out.appointment
            {
                state
                    .feed
                    .publish_moved(tenant, appointment.clone(), previous_staff.lock().ok().and_then(|p| *p))
                    .await;
            }
            Ok(out)
        }
        Err(err @ Error::SlotTaken { .. }) => {
            // Alternatives need the appointment's branch and service.
            let current = state.store.read_with(tenant, async |tx| appointments::get(tx, id).await).await?;
            let from = start.unwrap_or(current.start_time);
            Err(with_alternatives(state, tenant, current.branch_id, current.service_id, from, err).await)
        }
        Err(err) => Err(err),
    }
}
