//! CreateAppointment: an adapter over `operations::appointments::book`.
use tonic::Request;

use crate::access::{call_of, tenant_of};
use crate::api::{AppState, call_scope};
use crate::domain::phone::PhoneNumber;
use crate::domain::validate::RegionCode;
use crate::error::{Error, Result};
use crate::operations::appointments::{BookRequest, book};
use crate::proto::appointment::v1 as pb;
use crate::proto::appointment::v1::create_appointment_request::Customer;

pub async fn create(
    state: &AppState,
    request: Request<pb::CreateAppointmentRequest>,
) -> Result<pb::CreateAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    if let Some(call) = call_of(&request) {
        // A call books for its caller only.
        match &request.get_ref().customer {
            Some(Customer::CustomerId(id)) => {
                let id = uuid::Uuid::try_parse(id).map_err(|_| Error::invalid("customer_id", "must be a UUID"))?;
                call_scope::ensure_customer(state, tenant, Some(&call), id).await?;
            }
            Some(Customer::NewCustomer(input)) => {
                let config = state.store.tenant_config(tenant).await?;
                let region = RegionCode::parse(&config.region_code).map_err(Error::internal)?;
                let number = PhoneNumber::parse(&input.phone_number, &region)
                    .map_err(|e| Error::invalid("new_customer.phone_number", e))?;
                if number.as_str() != call.phone {
                    return Err(call_scope::refuse("book for another number than the caller's"));
                }
            }
            None => {}
        }
        if let Some(pb::create_appointment_request::Slot::FromHold(hold)) = &request.get_ref().slot {
            call_scope::ensure_hold_key(Some(&call), &hold.hold_key)?;
        }
    }
    let req = BookRequest::decode(request.into_inner())?;
    book(&state.ops, tenant, req).await
}
