//! RescheduleAppointment: an adapter over
//! `operations::appointments::reschedule`.
use tonic::Request;

use crate::access::{call_of, tenant_of};
use crate::api::{AppState, call_scope};
use crate::error::Result;
use crate::operations::appointments::{RescheduleRequest, reschedule as move_appointment};
use crate::proto::appointment::v1 as pb;

pub async fn reschedule(
    state: &AppState,
    request: Request<pb::RescheduleAppointmentRequest>,
) -> Result<pb::RescheduleAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    if let Some(call) = call_of(&request) {
        let id = super::parse_id(&request.get_ref().id)?;
        call_scope::ensure_appointment(state, tenant, Some(&call), id).await?;
        if let Some(hold) = &request.get_ref().hold {
            call_scope::ensure_hold_key(Some(&call), &hold.hold_key)?;
        }
    }
    let req = RescheduleRequest::decode(request.into_inner())?;
    move_appointment(&state.ops, tenant, req).await
}
