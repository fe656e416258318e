//! Rescheduling: to an explicit new start (and optionally another staff
//! member) or onto a live hold of the caller's. The claim moves in place, so
//! the new time is secured before the old one is freed.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Origin, illegal, move_to, status_of};
use crate::convert::instant;
use crate::domain::ids::TenantId;
use crate::domain::validate::Violations;
use crate::error::{Error, Result};
use crate::operations::Operations;
use crate::operations::bookable::{Placement, check_bookable, rules, with_alternatives};
use crate::operations::holds::{hand_over, live_hold, validate_hold_key};
use crate::operations::idempotency::{create_once, fingerprint, validate_request_id};
use crate::proto::appointment::v1 as pb;
use crate::store::entities::appointment;
use crate::store::{TenantConfig, TenantTx, appointments, check_etag, now};

/// A validated RescheduleAppointment request.
pub struct RescheduleRequest {
    request_id: String,
    fingerprint: Vec<u8>,
    id: Uuid,
    etag: String,
    staff_id: Option<Uuid>,
    start: Option<DateTime<Utc>>,
    hold: Option<(Uuid, String)>,
}

impl RescheduleRequest {
    pub fn decode(req: pb::RescheduleAppointmentRequest) -> Result<Self> {
        let mut v = Violations::new();
        let id = v.uuid("id", &req.id);
        let staff_id = if req.staff_id.is_empty() { None } else { v.uuid("staff_id", &req.staff_id) };
        let start = req.start_time.as_ref().and_then(instant);
        if start.is_none() && req.hold.is_none() {
            v.add("start_time", "is required unless a hold is given");
        }
        let hold = req.hold.as_ref().and_then(|h| {
            validate_hold_key(&mut v, "hold.hold_key", &h.hold_key);
            v.uuid("hold.hold_id", &h.hold_id).map(|hold_id| (hold_id, h.hold_key.clone()))
        });
        v.finish()?;
        validate_request_id(&req.request_id)?;
        let Some(id) = id else { return Err(Error::Internal("validated fields missing".into())) };
        let fingerprint = fingerprint(&pb::RescheduleAppointmentRequest { request_id: String::new(), ..req.clone() });
        Ok(Self { request_id: req.request_id, fingerprint, id, etag: req.etag, staff_id, start, hold })
    }
}

/// Moves the appointment; a taken time answers SLOT_TAKEN with alternatives
/// from the requested start (or the current one).
pub async fn reschedule(
    ops: &Operations,
    tenant: TenantId,
    req: RescheduleRequest,
) -> Result<pb::RescheduleAppointmentResponse> {
    let config = ops.store.tenant_config(tenant).await?;
    let result = ops
        .store
        .write_with(tenant, async |tx| {
            let at = now();
            create_once(tx, "RescheduleAppointment", &req.request_id, &req.fingerprint, async {
                let current = appointments::get(tx, req.id).await?;
                check_etag(&req.etag, current.revision)?;
                let status = status_of(&current)?;
                if !status.is_active() {
                    return Err(illegal(status, "rescheduled"));
                }
                let placement = new_placement(tx, &config, &req, &current, at).await?;
                let span = (placement.start, placement.end);
                crate::operations::bookable::ensure_customer_free(
                    tx,
                    &config,
                    current.customer_id,
                    span,
                    Some(current.id),
                    false,
                )
                .await?;
                let appointment = move_to(ops, tx, &current, &placement, None, Origin::AskPro, at).await?;
                Ok(pb::RescheduleAppointmentResponse { appointment: Some(appointment) })
            })
            .await
        })
        .await;
    match result {
        Err(err @ Error::SlotTaken { .. }) => {
            // Alternatives need the appointment's branch and service.
            let current = ops.store.read_with(tenant, async |tx| appointments::get(tx, req.id).await).await?;
            let from = req.start.unwrap_or(current.start_time);
            Err(with_alternatives(ops, tenant, current.branch_id, current.service_id, from, err).await)
        }
        other => other,
    }
}

/// Where the appointment goes: the caller's hold (handed over to it), or an
/// explicit start that must be bookable.
async fn new_placement(
    tx: &TenantTx,
    config: &TenantConfig,
    req: &RescheduleRequest,
    current: &appointment::Model,
    at: DateTime<Utc>,
) -> Result<Placement> {
    match &req.hold {
        Some((hold_id, key)) => {
            let hold = live_hold(tx, *hold_id, key, at).await?;
            if req.start.is_some_and(|s| s != hold.start_time) {
                return Err(Error::invalid("start_time", "must be empty or equal the hold's start time"));
            }
            if req.staff_id.is_some_and(|s| s != hold.staff_id) {
                return Err(Error::invalid("staff_id", "must be empty or equal the hold's staff member"));
            }
            if hold.branch_id != current.branch_id || hold.service_id != current.service_id {
                return Err(Error::FailedPrecondition {
                    reason: "FAILED_PRECONDITION",
                    message: "the hold is for another branch or service".into(),
                });
            }
            let service = config.service(current.service_id)?;
            let (block_start, block_end) = rules(service).blocked_range(hold.start_time.timestamp());
            hand_over(tx, &hold, current.id, at).await?;
            Ok(Placement {
                staff_id: hold.staff_id,
                start: hold.start_time,
                end: hold.end_time,
                block_start: DateTime::from_timestamp(block_start, 0).unwrap_or_default(),
                block_end: DateTime::from_timestamp(block_end, 0).unwrap_or_default(),
            })
        }
        None => {
            let staff = req.staff_id.unwrap_or(current.staff_id);
            let start = req.start.ok_or_else(|| Error::invalid("start_time", "is required"))?;
            let slot = check_bookable(tx, config, current.branch_id, current.service_id, staff, start, at).await?;
            Ok(slot.placement)
        }
    }
}
