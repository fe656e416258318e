//! Status changes and edits: UpdateAppointment (notes), CancelAppointment,
//! ConfirmAppointment, MarkNoShow, CompleteAppointment.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use tonic::Request;
use uuid::Uuid;

use super::{parse_id, parse_uuid};
use crate::api::AppState;
use crate::api::appointment::convert;
use crate::api::context::tenant_of;
use crate::api::events;
use crate::api::field_mask::UpdateMask;
use crate::api::idempotency::{create_once, fingerprint, validate_request_id};
use crate::domain::appointment::Status;
use crate::domain::ids::TenantId;
use crate::domain::validate::{Violations, free_text};
use crate::domain::webhook::EventType;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;
use crate::store::appointments::{self};
use crate::store::entities::appointment;
use crate::store::slot_claims::{self};
use crate::store::{check_etag, now, retry};

pub async fn update(
    state: &AppState,
    request: Request<pb::UpdateAppointmentRequest>,
) -> Result<pb::UpdateAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let input = req.appointment.unwrap_or_default();
    let mut v = Violations::new();
    let id = parse_uuid(&mut v, "appointment.id", &input.id);
    let _mask = UpdateMask::parse(req.update_mask.as_ref(), &["notes"])?;
    let notes = v.take("appointment.notes", free_text(&input.notes, 2000));
    v.finish()?;
    let (Some(id), Some(notes)) = (id, notes) else { return Err(Error::Internal("validated fields missing".into())) };
    let row = change(state, tenant, id, &input.etag, |row, _| {
        row.notes = notes.clone();
        Ok(true)
    })
    .await?;
    Ok(pb::UpdateAppointmentResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn cancel(
    state: &AppState,
    request: Request<pb::CancelAppointmentRequest>,
) -> Result<pb::CancelAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = parse_id(&req.id)?;
    validate_request_id(&req.request_id)?;
    let reason = free_text(&req.reason, 500).map_err(|d| Error::invalid("reason", d))?;
    let fingerprint = fingerprint(&pb::CancelAppointmentRequest { request_id: String::new(), ..req.clone() });
    let changed = AtomicBool::new(false);
    let out = retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        let out = create_once(&tx, "CancelAppointment", &req.request_id, &fingerprint, async {
            let current = appointments::get(&tx, id).await?;
            check_etag(&req.etag, current.revision)?;
            let mut next = current.clone();
            next.status = transition(&current, Status::Cancelled)?.as_str().into();
            next.cancel_reason = reason.clone();
            next.revision += 1;
            next.update_time = at;
            appointments::save_revision(&tx, &current, &next).await?;
            slot_claims::release(&tx, id).await?;
            let appointment = convert::appointment(next);
            events::appointment(&tx, EventType::AppointmentCancelled, &appointment).await?;
            changed.store(true, Ordering::Relaxed);
            Ok(pb::CancelAppointmentResponse { appointment: Some(appointment) })
        })
        .await?;
        tx.commit().await?;
        Ok(out)
    })
    .await?;
    if changed.load(Ordering::Relaxed)
        && let Some(appointment) = &out.appointment
    {
        state.feed.publish(tenant, pb::AppointmentChange::Cancelled, appointment.clone()).await;
    }
    Ok(out)
}

pub async fn confirm(
    state: &AppState,
    request: Request<pb::ConfirmAppointmentRequest>,
) -> Result<pb::ConfirmAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let row = set_status(state, tenant, &req.id, &req.etag, Status::Confirmed, false).await?;
    Ok(pb::ConfirmAppointmentResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn mark_no_show(state: &AppState, request: Request<pb::MarkNoShowRequest>) -> Result<pb::MarkNoShowResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let row = set_status(state, tenant, &req.id, &req.etag, Status::NoShow, true).await?;
    Ok(pb::MarkNoShowResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn complete(
    state: &AppState,
    request: Request<pb::CompleteAppointmentRequest>,
) -> Result<pb::CompleteAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let row = set_status(state, tenant, &req.id, &req.etag, Status::Completed, true).await?;
    Ok(pb::CompleteAppointmentResponse { appointment: Some(convert::appointment(row)) })
}

/// Moves an appointment to `to`. Already there: returned unchanged, whatever
/// the etag (a retried call). `after_start`: only once the appointment began.
async fn set_status(
    state: &AppState,
    tenant: TenantId,
    id: &str,
    etag: &str,
    to: Status,
    after_start: bool,
) -> Result<appointment::Model> {
    let id = parse_id(id)?;
    change(state, tenant, id, etag, |row, at| {
        let from: Status = row.status.parse().map_err(Error::Internal)?;
        if from == to {
            return Ok(false);
        }
        transition(row, to)?;
        if after_start && at < row.start_time {
            return Err(Error::FailedPrecondition {
                reason: "FAILED_PRECONDITION",
                message: format!("an appointment can be marked {to} only after it started"),
            });
        }
        row.status = to.as_str().into();
        Ok(true)
    })
    .await
}

/// Loads, edits and saves one appointment with optimistic concurrency.
/// `edit` returns whether it changed anything; unchanged rows skip the etag
/// check and the write.
async fn change(
    state: &AppState,
    tenant: TenantId,
    id: Uuid,
    etag: &str,
    edit: impl Fn(&mut appointment::Model, DateTime<Utc>) -> Result<bool>,
) -> Result<appointment::Model> {
    let (row, changed) = retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        let current = appointments::get(&tx, id).await?;
        let mut next = current.clone();
        if !edit(&mut next, at)? {
            return Ok((current, false));
        }
        check_etag(etag, current.revision)?;
        next.revision += 1;
        next.update_time = at;
        appointments::save_revision(&tx, &current, &next).await?;
        events::appointment(&tx, EventType::AppointmentUpdated, &convert::appointment(next.clone())).await?;
        tx.commit().await?;
        Ok((next, true))
    })
    .await?;
    if changed {
        state.feed.publish(tenant, pb::AppointmentChange::Updated, convert::appointment(row.clone())).await;
    }
    Ok(row)
}

pub(super) fn transition(row: &appointment::Model, to: Status) -> Result<Status> {
    let from: Status = row.status.parse().map_err(Error::Internal)?;
    from.transition(to).map_err(|_| illegal(from, &format!("changed to {to}")))
}

pub(super) fn illegal(from: Status, what: &str) -> Error {
    Error::FailedPrecondition {
        reason: "ILLEGAL_STATE_TRANSITION",
        message: format!("a {from} appointment cannot be {what}"),
    }
}
