//! A salon ready for booking: the harness tenant (a branch in Berlin, a
//! 45-minute Haircut and Anna offering it) with Anna working every day, and
//! the calls a voice agent makes against it.
use askpro::proto::appointment::v1 as ap;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::availability::v1 as av;
use askpro::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use askpro::proto::tenant::v1 as tn;
use askpro::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use tonic::Status;
use tonic::transport::Channel;

use super::booking;
use super::time::{BookingDay, seconds_of};
use super::{TenantFixture, TestServer, authed, minutes, request_id};

/// 08:00-20:00, in minutes of the day: the hours staff work unless a test says otherwise.
pub const OPEN_HOURS: (i32, i32) = (8 * 60, 20 * 60);

pub struct Salon {
    pub fx: TenantFixture,
    channel: Channel,
}

impl Salon {
    /// The harness tenant, its staff member working 08:00-20:00 every day.
    pub async fn open(server: &TestServer, name: &str) -> Salon {
        let fx = server.tenant(name).await;
        let (start, end) = OPEN_HOURS;
        server.open_daily(&fx, &fx.staff.id, start, end).await;
        Salon { fx, channel: server.channel.clone() }
    }

    pub fn branch(&self) -> &str {
        &self.fx.branch.id
    }

    pub fn service(&self) -> &str {
        &self.fx.service.id
    }

    /// The harness staff member, Anna.
    pub fn staff(&self) -> &str {
        &self.fx.staff.id
    }

    pub fn agent(&self) -> &str {
        &self.fx.agent
    }

    pub fn admin(&self) -> &str {
        &self.fx.admin
    }

    pub fn av(&self) -> AvailabilityServiceClient<Channel> {
        AvailabilityServiceClient::new(self.channel.clone())
    }

    pub fn ap(&self) -> AppointmentServiceClient<Channel> {
        AppointmentServiceClient::new(self.channel.clone())
    }

    fn tenants(&self) -> TenantServiceClient<Channel> {
        TenantServiceClient::new(self.channel.clone())
    }

    /// Working hours every day of the week, written through the store.
    pub async fn set_hours(&self, server: &TestServer, staff: &str, start_minute: i32, end_minute: i32) {
        server.open_daily(&self.fx, staff, start_minute, end_minute).await;
    }

    /// Another staff member of the branch offering the harness service,
    /// working `hours` (minutes of the day) every day.
    pub async fn staff_with_hours(&self, server: &TestServer, name: &str, hours: (i32, i32)) -> tn::Staff {
        let staff = self
            .tenants()
            .create_staff(authed(
                tn::CreateStaffRequest {
                    request_id: String::new(),
                    staff: Some(tn::Staff {
                        branch_id: self.branch().into(),
                        display_name: name.into(),
                        service_ids: vec![self.service().into()],
                        ..Default::default()
                    }),
                },
                self.admin(),
            ))
            .await
            .expect("create staff")
            .into_inner()
            .staff
            .unwrap();
        self.set_hours(server, &staff.id, hours.0, hours.1).await;
        staff
    }

    /// Creates a service and lets the harness staff member offer it too.
    pub async fn add_service(&self, service: tn::Service) -> tn::Service {
        let mut client = self.tenants();
        let service = client
            .create_service(authed(
                tn::CreateServiceRequest { request_id: String::new(), service: Some(service) },
                self.admin(),
            ))
            .await
            .expect("create service")
            .into_inner()
            .service
            .unwrap();
        let current = client
            .get_staff(authed(tn::GetStaffRequest { id: self.staff().into() }, self.admin()))
            .await
            .unwrap()
            .into_inner()
            .staff
            .unwrap();
        let mut service_ids = current.service_ids.clone();
        service_ids.push(service.id.clone());
        client
            .update_staff(authed(
                tn::UpdateStaffRequest {
                    staff: Some(tn::Staff { id: self.staff().into(), service_ids, ..Default::default() }),
                    update_mask: Some(prost_types::FieldMask { paths: vec!["service_ids".into()] }),
                },
                self.admin(),
            ))
            .await
            .expect("offer the new service");
        service
    }

    /// A service nobody offers.
    pub async fn unoffered_service(&self) -> tn::Service {
        self.tenants()
            .create_service(authed(
                tn::CreateServiceRequest {
                    request_id: String::new(),
                    service: Some(tn::Service {
                        display_name: "Beard trim".into(),
                        duration: Some(minutes(30)),
                        ..Default::default()
                    }),
                },
                self.admin(),
            ))
            .await
            .unwrap()
            .into_inner()
            .service
            .unwrap()
    }

    /// Gives the harness staff member an e-mail address (what Cal.com names
    /// an organizer by).
    pub async fn give_staff_email(&self, email: &str) {
        self.tenants()
            .update_staff(authed(
                tn::UpdateStaffRequest {
                    staff: Some(tn::Staff { id: self.staff().into(), email: email.into(), ..Default::default() }),
                    update_mask: Some(prost_types::FieldMask { paths: vec!["email".into()] }),
                },
                self.admin(),
            ))
            .await
            .expect("give the staff member an e-mail");
    }

    // Slots.

    pub fn slots_request(&self, service: &str, staff: &[&str], from: i64, to: i64) -> av::ListAvailableSlotsRequest {
        booking::slots_request(self.branch(), service, staff, from, to)
    }

    /// Every free slot of one local day (one page).
    pub async fn day_slots(&self, service: &str, staff: &[&str], day: &BookingDay) -> Vec<av::Slot> {
        let request = self.slots_request(service, staff, day.start(), day.end());
        let response =
            self.av().list_available_slots(authed(request, self.agent())).await.expect("list slots").into_inner();
        assert!(response.next_page_token.is_empty(), "a day fits one page");
        response.slots
    }

    /// The free starts of the harness service with one staff member on `day`.
    pub async fn free_starts(&self, staff: &str, day: &BookingDay) -> Vec<i64> {
        let request = self.slots_request(self.service(), &[staff], day.start(), day.end());
        let slots = self.av().list_available_slots(authed(request, self.agent())).await.expect("list slots");
        slots.into_inner().slots.iter().map(|s| seconds_of(&s.start_time)).collect()
    }

    // Holds.

    pub fn hold_request(&self, service: &str, staff: &str, start: i64, key: &str) -> av::HoldSlotRequest {
        booking::hold_request(self.branch(), service, staff, start, key)
    }

    pub async fn try_hold(
        &self,
        request: av::HoldSlotRequest,
    ) -> Result<tonic::Response<av::HoldSlotResponse>, Status> {
        self.av().hold_slot(authed(request, self.agent())).await
    }

    pub async fn hold(&self, service: &str, staff: &str, start: i64, key: &str) -> av::Hold {
        self.try_hold(self.hold_request(service, staff, start, key)).await.expect("hold").into_inner().hold.unwrap()
    }

    pub async fn get_hold(&self, id: &str) -> av::Hold {
        self.av()
            .get_hold(authed(av::GetHoldRequest { id: id.into() }, self.agent()))
            .await
            .expect("get hold")
            .into_inner()
            .hold
            .unwrap()
    }

    // Appointments.

    pub fn explicit(&self, service: &str, staff: &str, start: i64, phone: &str) -> ap::CreateAppointmentRequest {
        booking::explicit_booking(self.branch(), service, staff, start, phone)
    }

    pub fn booking_from_hold(&self, hold_id: &str, key: &str, phone: &str) -> ap::CreateAppointmentRequest {
        booking::booking_from_hold(hold_id, key, phone)
    }

    pub async fn try_create(
        &self,
        request: ap::CreateAppointmentRequest,
    ) -> Result<tonic::Response<ap::CreateAppointmentResponse>, Status> {
        self.ap().create_appointment(authed(request, self.agent())).await
    }

    pub async fn create(&self, request: ap::CreateAppointmentRequest) -> ap::CreateAppointmentResponse {
        self.try_create(request).await.expect("create appointment").into_inner()
    }

    /// Books the harness service with the harness staff member.
    pub async fn book(&self, start: i64, phone: &str) -> ap::Appointment {
        self.create(self.explicit(self.service(), self.staff(), start, phone)).await.appointment.unwrap()
    }

    pub async fn get(&self, id: &str) -> ap::Appointment {
        self.ap()
            .get_appointment(authed(ap::GetAppointmentRequest { id: id.into() }, self.agent()))
            .await
            .expect("get appointment")
            .into_inner()
            .appointment
            .unwrap()
    }

    pub async fn list(&self, request: ap::ListAppointmentsRequest) -> Vec<ap::Appointment> {
        self.ap().list_appointments(authed(request, self.agent())).await.expect("list").into_inner().appointments
    }

    pub async fn cancel(
        &self,
        id: &str,
        reason: &str,
    ) -> Result<tonic::Response<ap::CancelAppointmentResponse>, Status> {
        self.ap()
            .cancel_appointment(authed(
                ap::CancelAppointmentRequest {
                    id: id.into(),
                    request_id: request_id(),
                    reason: reason.into(),
                    etag: String::new(),
                },
                self.agent(),
            ))
            .await
    }

    pub async fn reschedule(
        &self,
        id: &str,
        start: i64,
        etag: &str,
    ) -> Result<tonic::Response<ap::RescheduleAppointmentResponse>, Status> {
        let request = booking::reschedule_request(id, "", start, etag);
        self.ap().reschedule_appointment(authed(request, self.agent())).await
    }
}
