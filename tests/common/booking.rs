//! Requests of the booking flow, built the way a voice agent sends them:
//! find slots, hold one, book it (from the hold or straight away).
use super::request_id;
use super::time::{pts, time_range};
use askpro::proto::appointment::v1 as ap;
use askpro::proto::availability::v1 as av;

/// Free slots of `service` in `branch` between `from` and `to` (Unix
/// seconds), for `staff` (all offering it when empty), in one page of 1000.
pub fn slots_request(branch: &str, service: &str, staff: &[&str], from: i64, to: i64) -> av::ListAvailableSlotsRequest {
    av::ListAvailableSlotsRequest {
        branch_id: branch.into(),
        service_id: service.into(),
        staff_ids: staff.iter().map(|s| s.to_string()).collect(),
        time_range: time_range(from, to),
        time_zone: String::new(),
        page_size: 1000,
        page_token: String::new(),
    }
}

/// A hold of `start` for the caller known by `key`, with the default time to live.
pub fn hold_request(branch: &str, service: &str, staff: &str, start: i64, key: &str) -> av::HoldSlotRequest {
    av::HoldSlotRequest {
        request_id: request_id(),
        branch_id: branch.into(),
        service_id: service.into(),
        staff_id: staff.into(),
        start_time: Some(pts(start)),
        hold_key: key.into(),
        ttl: None,
    }
}

/// A booking of an explicit slot for a new caller (found again by `phone`),
/// with the source and status left to the server's defaults.
pub fn explicit_booking(
    branch: &str,
    service: &str,
    staff: &str,
    start: i64,
    phone: &str,
) -> ap::CreateAppointmentRequest {
    ap::CreateAppointmentRequest {
        request_id: request_id(),
        slot: Some(ap::create_appointment_request::Slot::ExplicitSlot(ap::ExplicitSlot {
            service_id: service.into(),
            staff_id: staff.into(),
            start_time: Some(pts(start)),
            branch_id: branch.into(),
        })),
        customer: Some(ap::create_appointment_request::Customer::NewCustomer(ap::CustomerInput {
            phone_number: phone.into(),
            display_name: String::new(),
            email: String::new(),
        })),
        source: 0,
        notes: String::new(),
        call_id: String::new(),
        initial_status: 0,
    }
}

/// A booking of the slot held by `hold_id` for the caller holding `key`.
pub fn booking_from_hold(hold_id: &str, key: &str, phone: &str) -> ap::CreateAppointmentRequest {
    ap::CreateAppointmentRequest {
        slot: Some(ap::create_appointment_request::Slot::FromHold(ap::HoldReference {
            hold_id: hold_id.into(),
            hold_key: key.into(),
        })),
        ..explicit_booking("", "", "", 0, phone)
    }
}

/// A move of appointment `id` to `start`, with the same staff member unless
/// `staff` names another.
pub fn reschedule_request(id: &str, staff: &str, start: i64, etag: &str) -> ap::RescheduleAppointmentRequest {
    ap::RescheduleAppointmentRequest {
        id: id.into(),
        request_id: request_id(),
        start_time: Some(pts(start)),
        staff_id: staff.into(),
        hold: None,
        etag: etag.into(),
    }
}
