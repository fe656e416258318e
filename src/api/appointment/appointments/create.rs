//! CreateAppointment: an adapter over `operations::appointments::book`.
use tonic::Request;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::error::Result;
use crate::operations::appointments::{BookRequest, book};
use crate::proto::appointment::v1 as pb;

pub async fn create(
    state: &AppState,
    request: Request<pb::CreateAppointmentRequest>,
) -> Result<pb::CreateAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = BookRequest::decode(request.into_inner())?;
    book(&state.ops, tenant, req).await
}
