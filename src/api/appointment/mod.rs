//! AppointmentService: appointments, customers, the change stream and the
//! dashboard. The trait implementation only dispatches.
mod appointments;
mod call_credentials;
mod customers;
mod dashboard;
mod watch;

use tonic::{Request, Response, Status};

use super::AppState;
use crate::proto::appointment::v1::appointment_service_server::AppointmentService;
use crate::proto::appointment::v1::*;

pub struct AppointmentApi {
    state: AppState,
}

impl AppointmentApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

fn respond<T>(result: crate::error::Result<T>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl AppointmentService for AppointmentApi {
    type WatchAppointmentsStream = watch::WatchStream;

    async fn watch_appointments(
        &self,
        r: Request<WatchAppointmentsRequest>,
    ) -> Result<Response<Self::WatchAppointmentsStream>, Status> {
        respond(watch::watch(&self.state, r).await)
    }

    async fn create_appointment(
        &self,
        r: Request<CreateAppointmentRequest>,
    ) -> Result<Response<CreateAppointmentResponse>, Status> {
        respond(appointments::create(&self.state, r).await)
    }
    async fn get_appointment(
        &self,
        r: Request<GetAppointmentRequest>,
    ) -> Result<Response<GetAppointmentResponse>, Status> {
        respond(appointments::get(&self.state, r).await)
    }
    async fn list_appointments(
        &self,
        r: Request<ListAppointmentsRequest>,
    ) -> Result<Response<ListAppointmentsResponse>, Status> {
        respond(appointments::list(&self.state, r).await)
    }
    async fn update_appointment(
        &self,
        r: Request<UpdateAppointmentRequest>,
    ) -> Result<Response<UpdateAppointmentResponse>, Status> {
        respond(appointments::update(&self.state, r).await)
    }
    async fn cancel_appointment(
        &self,
        r: Request<CancelAppointmentRequest>,
    ) -> Result<Response<CancelAppointmentResponse>, Status> {
        respond(appointments::cancel(&self.state, r).await)
    }
    async fn reschedule_appointment(
        &self,
        r: Request<RescheduleAppointmentRequest>,
    ) -> Result<Response<RescheduleAppointmentResponse>, Status> {
        respond(appointments::reschedule(&self.state, r).await)
    }
    async fn confirm_appointment(
        &self,
        r: Request<ConfirmAppointmentRequest>,
    ) -> Result<Response<ConfirmAppointmentResponse>, Status> {
        respond(appointments::confirm(&self.state, r).await)
    }
    async fn mark_no_show(&self, r: Request<MarkNoShowRequest>) -> Result<Response<MarkNoShowResponse>, Status> {
        respond(appointments::mark_no_show(&self.state, r).await)
    }
    async fn complete_appointment(
        &self,
        r: Request<CompleteAppointmentRequest>,
    ) -> Result<Response<CompleteAppointmentResponse>, Status> {
        respond(appointments::complete(&self.state, r).await)
    }
    async fn create_customer(
        &self,
        r: Request<CreateCustomerRequest>,
    ) -> Result<Response<CreateCustomerResponse>, Status> {
        respond(customers::create(&self.state, r).await)
    }
    async fn get_customer(&self, r: Request<GetCustomerRequest>) -> Result<Response<GetCustomerResponse>, Status> {
        respond(customers::get(&self.state, r).await)
    }
    async fn update_customer(
        &self,
        r: Request<UpdateCustomerRequest>,
    ) -> Result<Response<UpdateCustomerResponse>, Status> {
        respond(customers::update(&self.state, r).await)
    }
    async fn delete_customer(
        &self,
        r: Request<DeleteCustomerRequest>,
    ) -> Result<Response<DeleteCustomerResponse>, Status> {
        respond(customers::delete(&self.state, r).await)
    }
    async fn list_customers(
        &self,
        r: Request<ListCustomersRequest>,
    ) -> Result<Response<ListCustomersResponse>, Status> {
        respond(customers::list(&self.state, r).await)
    }
    async fn find_customer_by_phone(
        &self,
        r: Request<FindCustomerByPhoneRequest>,
    ) -> Result<Response<FindCustomerByPhoneResponse>, Status> {
        respond(customers::find_by_phone(&self.state, r).await)
    }
    async fn create_call_credential(
        &self,
        r: Request<CreateCallCredentialRequest>,
    ) -> Result<Response<CreateCallCredentialResponse>, Status> {
        respond(call_credentials::create(&self.state, r).await)
    }
    async fn get_dashboard_stats(
        &self,
        r: Request<GetDashboardStatsRequest>,
    ) -> Result<Response<GetDashboardStatsResponse>, Status> {
        respond(dashboard::stats(&self.state, r).await)
    }
}
