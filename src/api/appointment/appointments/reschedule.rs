//! RescheduleAppointment: an adapter over
//! `operations::appointments::reschedule`.
use tonic::Request;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::error::Result;
use crate::operations::appointments::{RescheduleRequest, reschedule as move_appointment};
use crate::proto::appointment::v1 as pb;

pub async fn reschedule(
    state: &AppState,
    request: Request<pb::RescheduleAppointmentRequest>,
) -> Result<pb::RescheduleAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = RescheduleRequest::decode(request.into_inner())?;
    move_appointment(&state.ops, tenant, req).await
}
