//! GetDashboardStats.
use tonic::Request;

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;

pub async fn stats(
    _state: &AppState,
    _request: Request<pb::GetDashboardStatsRequest>,
) -> Result<pb::GetDashboardStatsResponse> {
    Err(Error::NotImplemented("AppointmentService.GetDashboardStats (arrives with the availability and booking core)"))
}
