//! UpdateAppointment (notes), CancelAppointment, ConfirmAppointment,
//! MarkNoShow, CompleteAppointment: adapters over
//! `operations::appointments`.
use tonic::Request;

use super::parse_id;
use crate::access::{call_of, tenant_of};
use crate::api::field_mask::UpdateMask;
use crate::api::{AppState, call_scope};
use crate::convert::appointment as convert;
use crate::domain::appointment::Status;
use crate::domain::validate::{Violations, free_text};
use crate::error::{Error, Result};
use crate::operations::appointments::{self, CancelRequest};
use crate::proto::appointment::v1 as pb;

pub async fn update(
    state: &AppState,
    request: Request<pb::UpdateAppointmentRequest>,
) -> Result<pb::UpdateAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let input = req.appointment.unwrap_or_default();
    let mut v = Violations::new();
    let id = v.uuid("appointment.id", &input.id);
    let _mask = UpdateMask::parse(req.update_mask.as_ref(), &["notes"])?;
    let notes = v.take("appointment.notes", free_text(&input.notes, 2000));
    v.finish()?;
    let (Some(id), Some(notes)) = (id, notes) else { return Err(Error::Internal("validated fields missing".into())) };
    let row = appointments::update_notes(&state.ops, tenant, id, &input.etag, &notes).await?;
    Ok(pb::UpdateAppointmentResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn cancel(
    state: &AppState,
    request: Request<pb::CancelAppointmentRequest>,
) -> Result<pb::CancelAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let call = call_of(&request);
    let req = request.into_inner();
    let id = parse_id(&req.id)?;
    call_scope::ensure_appointment(state, tenant, call.as_ref(), id).await?;
    let req = CancelRequest::decode(id, req)?;
    appointments::cancel(&state.ops, tenant, req).await
}

pub async fn confirm(
    state: &AppState,
    request: Request<pb::ConfirmAppointmentRequest>,
) -> Result<pb::ConfirmAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = parse_id(&req.id)?;
    let row = appointments::set_status(&state.ops, tenant, id, &req.etag, Status::Confirmed, false).await?;
    Ok(pb::ConfirmAppointmentResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn mark_no_show(state: &AppState, request: Request<pb::MarkNoShowRequest>) -> Result<pb::MarkNoShowResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = parse_id(&req.id)?;
    let row = appointments::set_status(&state.ops, tenant, id, &req.etag, Status::NoShow, true).await?;
    Ok(pb::MarkNoShowResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn complete(
    state: &AppState,
    request: Request<pb::CompleteAppointmentRequest>,
) -> Result<pb::CompleteAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = parse_id(&req.id)?;
    let row = appointments::set_status(&state.ops, tenant, id, &req.etag, Status::Completed, true).await?;
    Ok(pb::CompleteAppointmentResponse { appointment: Some(convert::appointment(row)) })
}
