//! ListAvailableSlots.
use tonic::Request;

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::proto::availability::v1 as pb;

pub async fn list(
    _state: &AppState,
    _request: Request<pb::ListAvailableSlotsRequest>,
) -> Result<pb::ListAvailableSlotsResponse> {
    Err(Error::NotImplemented(
        "AvailabilityService.ListAvailableSlots (arrives with the availability and booking core)",
    ))
}
