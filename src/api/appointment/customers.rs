//! CreateCustomer, GetCustomer, UpdateCustomer, DeleteCustomer, ListCustomers, FindCustomerByPhone.
use tonic::Request;

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;

pub async fn create(
    _state: &AppState,
    _request: Request<pb::CreateCustomerRequest>,
) -> Result<pb::CreateCustomerResponse> {
    Err(Error::NotImplemented("AppointmentService.CreateCustomer (arrives with the availability and booking core)"))
}

pub async fn get(_state: &AppState, _request: Request<pb::GetCustomerRequest>) -> Result<pb::GetCustomerResponse> {
    Err(Error::NotImplemented("AppointmentService.GetCustomer (arrives with the availability and booking core)"))
}

pub async fn update(
    _state: &AppState,
    _request: Request<pb::UpdateCustomerRequest>,
) -> Result<pb::UpdateCustomerResponse> {
    Err(Error::NotImplemented("AppointmentService.UpdateCustomer (arrives with the availability and booking core)"))
}

pub async fn delete(
    _state: &AppState,
    _request: Request<pb::DeleteCustomerRequest>,
) -> Result<pb::DeleteCustomerResponse> {
    Err(Error::NotImplemented("AppointmentService.DeleteCustomer (arrives with the availability and booking core)"))
}

pub async fn list(_state: &AppState, _request: Request<pb::ListCustomersRequest>) -> Result<pb::ListCustomersResponse> {
    Err(Error::NotImplemented("AppointmentService.ListCustomers (arrives with the availability and booking core)"))
}

pub async fn find_by_phone(
    _state: &AppState,
    _request: Request<pb::FindCustomerByPhoneRequest>,
) -> Result<pb::FindCustomerByPhoneResponse> {
    Err(Error::NotImplemented(
        "AppointmentService.FindCustomerByPhone (arrives with the availability and booking core)",
    ))
}
