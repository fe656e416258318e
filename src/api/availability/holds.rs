//! HoldSlot, GetHold, ExtendHold, ReleaseHold.
use tonic::Request;

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::proto::availability::v1 as pb;

pub async fn hold(_state: &AppState, _request: Request<pb::HoldSlotRequest>) -> Result<pb::HoldSlotResponse> {
    Err(Error::NotImplemented("AvailabilityService.HoldSlot (arrives with the availability and booking core)"))
}

pub async fn get(_state: &AppState, _request: Request<pb::GetHoldRequest>) -> Result<pb::GetHoldResponse> {
    Err(Error::NotImplemented("AvailabilityService.GetHold (arrives with the availability and booking core)"))
}

pub async fn extend(_state: &AppState, _request: Request<pb::ExtendHoldRequest>) -> Result<pb::ExtendHoldResponse> {
    Err(Error::NotImplemented("AvailabilityService.ExtendHold (arrives with the availability and booking core)"))
}

pub async fn release(_state: &AppState, _request: Request<pb::ReleaseHoldRequest>) -> Result<pb::ReleaseHoldResponse> {
    Err(Error::NotImplemented("AvailabilityService.ReleaseHold (arrives with the availability and booking core)"))
}
