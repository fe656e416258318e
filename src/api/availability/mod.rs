//! AvailabilityService: working hours, time off, free slots and holds. The
//! trait implementation only dispatches; each concern has its own module.
pub mod holds;
mod slots;
mod time_off;
mod working_hours;

use tonic::{Request, Response, Status};

use super::AppState;
use crate::proto::availability::v1::availability_service_server::AvailabilityService;
use crate::proto::availability::v1::*;

pub struct AvailabilityApi {
    state: AppState,
}

impl AvailabilityApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

fn respond<T>(result: crate::error::Result<T>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl AvailabilityService for AvailabilityApi {
    async fn get_working_hours(
        &self,
        r: Request<GetWorkingHoursRequest>,
    ) -> Result<Response<GetWorkingHoursResponse>, Status> {
        respond(working_hours::get(&self.state, r).await)
    }
    async fn set_working_hours(
        &self,
        r: Request<SetWorkingHoursRequest>,
    ) -> Result<Response<SetWorkingHoursResponse>, Status> {
        respond(working_hours::set(&self.state, r).await)
    }
    async fn create_time_off(
        &self,
        r: Request<CreateTimeOffRequest>,
    ) -> Result<Response<CreateTimeOffResponse>, Status> {
        respond(time_off::create(&self.state, r).await)
    }
    async fn get_time_off(&self, r: Request<GetTimeOffRequest>) -> Result<Response<GetTimeOffResponse>, Status> {
        respond(time_off::get(&self.state, r).await)
    }
    async fn list_time_off(&self, r: Request<ListTimeOffRequest>) -> Result<Response<ListTimeOffResponse>, Status> {
        respond(time_off::list(&self.state, r).await)
    }
    async fn delete_time_off(
        &self,
        r: Request<DeleteTimeOffRequest>,
    ) -> Result<Response<DeleteTimeOffResponse>, Status> {
        respond(time_off::delete(&self.state, r).await)
    }
    async fn list_available_slots(
        &self,
        r: Request<ListAvailableSlotsRequest>,
    ) -> Result<Response<ListAvailableSlotsResponse>, Status> {
        respond(slots::list(&self.state, r).await)
    }
    async fn hold_slot(&self, r: Request<HoldSlotRequest>) -> Result<Response<HoldSlotResponse>, Status> {
        respond(holds::hold(&self.state, r).await)
    }
    async fn get_hold(&self, r: Request<GetHoldRequest>) -> Result<Response<GetHoldResponse>, Status> {
        respond(holds::get(&self.state, r).await)
    }
    async fn extend_hold(&self, r: Request<ExtendHoldRequest>) -> Result<Response<ExtendHoldResponse>, Status> {
        respond(holds::extend(&self.state, r).await)
    }
    async fn release_hold(&self, r: Request<ReleaseHoldRequest>) -> Result<Response<ReleaseHoldResponse>, Status> {
        respond(holds::release(&self.state, r).await)
    }
}
