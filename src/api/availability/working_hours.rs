//! GetWorkingHours, SetWorkingHours.
use tonic::Request;

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::proto::availability::v1 as pb;

pub async fn get(
    _state: &AppState,
    _request: Request<pb::GetWorkingHoursRequest>,
) -> Result<pb::GetWorkingHoursResponse> {
    Err(Error::NotImplemented("AvailabilityService.GetWorkingHours (arrives with the availability and booking core)"))
}

pub async fn set(
    _state: &AppState,
    _request: Request<pb::SetWorkingHoursRequest>,
) -> Result<pb::SetWorkingHoursResponse> {
    Err(Error::NotImplemented("AvailabilityService.SetWorkingHours (arrives with the availability and booking core)"))
}
