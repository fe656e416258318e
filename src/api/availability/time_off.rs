//! CreateTimeOff, GetTimeOff, ListTimeOff, DeleteTimeOff.
use tonic::Request;

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::proto::availability::v1 as pb;

pub async fn create(
    _state: &AppState,
    _request: Request<pb::CreateTimeOffRequest>,
) -> Result<pb::CreateTimeOffResponse> {
    Err(Error::NotImplemented("AvailabilityService.CreateTimeOff (arrives with the availability and booking core)"))
}

pub async fn get(_state: &AppState, _request: Request<pb::GetTimeOffRequest>) -> Result<pb::GetTimeOffResponse> {
    Err(Error::NotImplemented("AvailabilityService.GetTimeOff (arrives with the availability and booking core)"))
}

pub async fn list(_state: &AppState, _request: Request<pb::ListTimeOffRequest>) -> Result<pb::ListTimeOffResponse> {
    Err(Error::NotImplemented("AvailabilityService.ListTimeOff (arrives with the availability and booking core)"))
}

pub async fn delete(
    _state: &AppState,
    _request: Request<pb::DeleteTimeOffRequest>,
) -> Result<pb::DeleteTimeOffResponse> {
    Err(Error::NotImplemented("AvailabilityService.DeleteTimeOff (arrives with the availability and booking core)"))
}
