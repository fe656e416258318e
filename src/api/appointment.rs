//! AppointmentService. Appointments, customers, the change stream and the
//! dashboard arrive with the availability and booking core; until then every
//! method answers UNIMPLEMENTED with what it waits for.
use std::pin::Pin;

use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::api::not_yet_served;
use crate::proto::appointment::v1::appointment_service_server::AppointmentService;
use crate::proto::appointment::v1::*;

#[derive(Default)]
pub struct AppointmentApi;

type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchAppointmentsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl AppointmentService for AppointmentApi {
    type WatchAppointmentsStream = WatchStream;

    async fn watch_appointments(
        &self,
        _request: Request<WatchAppointmentsRequest>,
    ) -> Result<Response<Self::WatchAppointmentsStream>, Status> {
        Err(crate::error::Error::NotImplemented(
            "AppointmentService.WatchAppointments (arrives with the availability and booking core)",
        )
        .into())
    }

    not_yet_served! {
        "arrives with the availability and booking core";
        create_appointment(CreateAppointmentRequest) -> CreateAppointmentResponse = "AppointmentService.CreateAppointment";
        get_appointment(GetAppointmentRequest) -> GetAppointmentResponse = "AppointmentService.GetAppointment";
        list_appointments(ListAppointmentsRequest) -> ListAppointmentsResponse = "AppointmentService.ListAppointments";
        update_appointment(UpdateAppointmentRequest) -> UpdateAppointmentResponse = "AppointmentService.UpdateAppointment";
        cancel_appointment(CancelAppointmentRequest) -> CancelAppointmentResponse = "AppointmentService.CancelAppointment";
        reschedule_appointment(RescheduleAppointmentRequest) -> RescheduleAppointmentResponse = "AppointmentService.RescheduleAppointment";
        confirm_appointment(ConfirmAppointmentRequest) -> ConfirmAppointmentResponse = "AppointmentService.ConfirmAppointment";
        mark_no_show(MarkNoShowRequest) -> MarkNoShowResponse = "AppointmentService.MarkNoShow";
        complete_appointment(CompleteAppointmentRequest) -> CompleteAppointmentResponse = "AppointmentService.CompleteAppointment";
        create_customer(CreateCustomerRequest) -> CreateCustomerResponse = "AppointmentService.CreateCustomer";
        get_customer(GetCustomerRequest) -> GetCustomerResponse = "AppointmentService.GetCustomer";
        update_customer(UpdateCustomerRequest) -> UpdateCustomerResponse = "AppointmentService.UpdateCustomer";
        delete_customer(DeleteCustomerRequest) -> DeleteCustomerResponse = "AppointmentService.DeleteCustomer";
        list_customers(ListCustomersRequest) -> ListCustomersResponse = "AppointmentService.ListCustomers";
        find_customer_by_phone(FindCustomerByPhoneRequest) -> FindCustomerByPhoneResponse = "AppointmentService.FindCustomerByPhone";
        get_dashboard_stats(GetDashboardStatsRequest) -> GetDashboardStatsResponse = "AppointmentService.GetDashboardStats";
    }
}
