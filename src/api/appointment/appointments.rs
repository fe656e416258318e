//! CreateAppointment, GetAppointment, ListAppointments, UpdateAppointment, CancelAppointment, RescheduleAppointment, ConfirmAppointment, MarkNoShow, CompleteAppointment.
use tonic::Request;

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;

pub async fn create(
    _state: &AppState,
    _request: Request<pb::CreateAppointmentRequest>,
) -> Result<pb::CreateAppointmentResponse> {
    Err(Error::NotImplemented("AppointmentService.CreateAppointment (arrives with the availability and booking core)"))
}

pub async fn get(
    _state: &AppState,
    _request: Request<pb::GetAppointmentRequest>,
) -> Result<pb::GetAppointmentResponse> {
    Err(Error::NotImplemented("AppointmentService.GetAppointment (arrives with the availability and booking core)"))
}

pub async fn list(
    _state: &AppState,
    _request: Request<pb::ListAppointmentsRequest>,
) -> Result<pb::ListAppointmentsResponse> {
    Err(Error::NotImplemented("AppointmentService.ListAppointments (arrives with the availability and booking core)"))
}

pub async fn update(
    _state: &AppState,
    _request: Request<pb::UpdateAppointmentRequest>,
) -> Result<pb::UpdateAppointmentResponse> {
    Err(Error::NotImplemented("AppointmentService.UpdateAppointment (arrives with the availability and booking core)"))
}

pub async fn cancel(
    _state: &AppState,
    _request: Request<pb::CancelAppointmentRequest>,
) -> Result<pb::CancelAppointmentResponse> {
    Err(Error::NotImplemented("AppointmentService.CancelAppointment (arrives with the availability and booking core)"))
}

pub async fn reschedule(
    _state: &AppState,
    _request: Request<pb::RescheduleAppointmentRequest>,
) -> Result<pb::RescheduleAppointmentResponse> {
    Err(Error::NotImplemented(
        "AppointmentService.RescheduleAppointment (arrives with the availability and booking core)",
    ))
}

pub async fn confirm(
    _state: &AppState,
    _request: Request<pb::ConfirmAppointmentRequest>,
) -> Result<pb::ConfirmAppointmentResponse> {
    Err(Error::NotImplemented("AppointmentService.ConfirmAppointment (arrives with the availability and booking core)"))
}

pub async fn mark_no_show(
    _state: &AppState,
    _request: Request<pb::MarkNoShowRequest>,
) -> Result<pb::MarkNoShowResponse> {
    Err(Error::NotImplemented("AppointmentService.MarkNoShow (arrives with the availability and booking core)"))
}

pub async fn complete(
    _state: &AppState,
    _request: Request<pb::CompleteAppointmentRequest>,
) -> Result<pb::CompleteAppointmentResponse> {
    Err(Error::NotImplemented(
        "AppointmentService.CompleteAppointment (arrives with the availability and booking core)",
    ))
}
