//! Status changes and edits: cancelling (the time is given back), confirming,
//! completing, marking a no-show, and editing notes, each with optimistic
//! concurrency on the appointment's etag.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Origin, cancel_in, status_of, transition};
use crate::convert::appointment as convert;
use crate::domain::appointment::Status;
use crate::domain::ids::TenantId;
use crate::domain::validate::free_text;
use crate::domain::webhook::EventType;
use crate::error::{Error, Result};
use crate::operations::idempotency::{create_once, fingerprint, validate_request_id};
use crate::operations::{Operations, events};
use crate::proto::appointment::v1 as pb;
use crate::store::entities::appointment;
use crate::store::{appointments, check_etag, now};

/// A validated CancelAppointment request.
pub struct CancelRequest {
    request_id: String,
    fingerprint: Vec<u8>,
    id: Uuid,
    etag: String,
    reason: String,
}

impl CancelRequest {
    pub fn decode(id: Uuid, req: pb::CancelAppointmentRequest) -> Result<Self> {
        validate_request_id(&req.request_id)?;
        let reason = free_text(&req.reason, 500).map_err(|d| Error::invalid("reason", d))?;
        let fingerprint = fingerprint(&pb::CancelAppointmentRequest { request_id: String::new(), ..req.clone() });
        Ok(Self { request_id: req.request_id, fingerprint, id, etag: req.etag, reason })
    }
}

/// Cancels the appointment and gives its time back (idempotent by request id).
pub async fn cancel(ops: &Operations, tenant: TenantId, req: CancelRequest) -> Result<pb::CancelAppointmentResponse> {
    ops.store
        .write_with(tenant, async |tx| {
            let at = now();
            create_once(tx, "CancelAppointment", &req.request_id, &req.fingerprint, async {
                let current = appointments::get(tx, req.id).await?;
                check_etag(&req.etag, current.revision)?;
                let appointment = cancel_in(ops, tx, &current, req.reason.clone(), Origin::AskPro, at).await?;
                Ok(pb::CancelAppointmentResponse { appointment: Some(appointment) })
            })
            .await
        })
        .await
}

/// Replaces the appointment's notes.
pub async fn update_notes(
    ops: &Operations,
    tenant: TenantId,
    id: Uuid,
    etag: &str,
    notes: &str,
) -> Result<appointment::Model> {
    change(ops, tenant, id, etag, |row, _| {
        row.notes = notes.to_owned();
        Ok(true)
    })
    .await
}

/// Moves an appointment to `to`. Already there: returned unchanged, whatever
/// the etag (a retried call). `after_start`: only once the appointment began.
pub async fn set_status(
    ops: &Operations,
    tenant: TenantId,
    id: Uuid,
    etag: &str,
    to: Status,
    after_start: bool,
) -> Result<appointment::Model> {
    change(ops, tenant, id, etag, |row, at| {
        let from = status_of(row)?;
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
    ops: &Operations,
    tenant: TenantId,
    id: Uuid,
    etag: &str,
    edit: impl Fn(&mut appointment::Model, DateTime<Utc>) -> Result<bool>,
) -> Result<appointment::Model> {
    ops.store
        .write_with(tenant, async |tx| {
            let at = now();
            let current = appointments::get(tx, id).await?;
            let mut next = current.clone();
            if !edit(&mut next, at)? {
                return Ok(current);
            }
            check_etag(etag, current.revision)?;
            next.revision += 1;
            next.update_time = at;
            appointments::save_revision(tx, &current, &next).await?;
            let appointment = convert::appointment(next.clone());
            events::appointment(tx, EventType::AppointmentUpdated, &appointment).await?;
            ops.feed.announce(tx, pb::AppointmentChange::Updated, appointment, None).await?;
            Ok(next)
        })
        .await
}
