//! AvailabilityService. Working hours, time off, slots and holds arrive with
//! the availability and booking core; until then every method answers
//! UNIMPLEMENTED with what it waits for.
use crate::api::not_yet_served;
use crate::proto::availability::v1::availability_service_server::AvailabilityService;
use crate::proto::availability::v1::*;

#[derive(Default)]
pub struct AvailabilityApi;

#[tonic::async_trait]
impl AvailabilityService for AvailabilityApi {
    not_yet_served! {
        "arrives with the availability and booking core";
        get_working_hours(GetWorkingHoursRequest) -> GetWorkingHoursResponse = "AvailabilityService.GetWorkingHours";
        set_working_hours(SetWorkingHoursRequest) -> SetWorkingHoursResponse = "AvailabilityService.SetWorkingHours";
        create_time_off(CreateTimeOffRequest) -> CreateTimeOffResponse = "AvailabilityService.CreateTimeOff";
        get_time_off(GetTimeOffRequest) -> GetTimeOffResponse = "AvailabilityService.GetTimeOff";
        list_time_off(ListTimeOffRequest) -> ListTimeOffResponse = "AvailabilityService.ListTimeOff";
        delete_time_off(DeleteTimeOffRequest) -> DeleteTimeOffResponse = "AvailabilityService.DeleteTimeOff";
        list_available_slots(ListAvailableSlotsRequest) -> ListAvailableSlotsResponse = "AvailabilityService.ListAvailableSlots";
        hold_slot(HoldSlotRequest) -> HoldSlotResponse = "AvailabilityService.HoldSlot";
        get_hold(GetHoldRequest) -> GetHoldResponse = "AvailabilityService.GetHold";
        extend_hold(ExtendHoldRequest) -> ExtendHoldResponse = "AvailabilityService.ExtendHold";
        release_hold(ReleaseHoldRequest) -> ReleaseHoldResponse = "AvailabilityService.ReleaseHold";
    }
}
