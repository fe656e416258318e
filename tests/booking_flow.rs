//! The booking core over gRPC: free slots, holds, appointments and their
//! life cycle, tenant isolation of all of it, and the change stream. Every
//! test runs against a real server on SQLite and (with
//! ASKPRO_TEST_DATABASE_URL) on PostgreSQL.
//!
//! Tests whose assertion message starts with "BUG:" document a behaviour the
//! contract (the proto comments) promises but the server does not deliver yet.
mod common;

use std::collections::HashMap;
use std::time::Duration;

use askpro::proto::appointment::v1 as ap;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::availability::v1 as av;
use askpro::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use askpro::proto::tenant::v1 as tn;
use askpro::proto::r#type::v1::TimeRange;
use common::{authed, expect_code, minutes, reason, violated_fields};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use tonic::transport::Channel;
use tonic::{Code, Status};
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Time helpers: every date is computed from today, in the branch's zone.

const HOUR: i64 = 3600;
const MIN: i64 = 60;

fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").expect("Europe/Berlin is in the bundled tzdb")
}

fn today_in_berlin() -> Date {
    berlin().to_datetime(jiff::Timestamp::now()).date()
}

/// The Monday after next: safely inside the default 60-day horizon and
/// outside any notice.
fn booking_day() -> Date {
    let mut day = today_in_berlin().tomorrow().unwrap();
    while day.weekday() != Weekday::Monday {
        day = day.tomorrow().unwrap();
    }
    day.checked_add(7.days()).unwrap()
}

/// The next `month`/`day` at least a week away (within 730 days).
fn next_date(month: i8, day: i8) -> Date {
    let today = today_in_berlin();
    let soon = today.checked_add(7.days()).unwrap();
    let mut candidate = Date::new(today.year(), month, day).unwrap();
    if candidate <= soon {
        candidate = Date::new(today.year() + 1, month, day).unwrap();
    }
    candidate
}

/// Unix seconds of a Berlin wall-clock time ("compatible" resolution).
fn local(date: Date, hour: i8, minute: i8) -> i64 {
    berlin().to_ambiguous_timestamp(date.at(hour, minute, 0, 0)).compatible().unwrap().as_second()
}

fn midnight(date: Date) -> i64 {
    local(date, 0, 0)
}

fn utc(date: Date, hour: i8, minute: i8) -> i64 {
    TimeZone::UTC.to_ambiguous_timestamp(date.at(hour, minute, 0, 0)).compatible().unwrap().as_second()
}

/// The real length of a Berlin day in seconds (23 h or 25 h on DST changes).
fn day_length(date: Date) -> i64 {
    midnight(date.tomorrow().unwrap()) - midnight(date)
}

/// The next Berlin day after today whose length is `seconds`.
fn next_day_lasting(seconds: i64) -> Date {
    let mut day = today_in_berlin().tomorrow().unwrap();
    for _ in 0..800 {
        if day_length(day) == seconds {
            return day;
        }
        day = day.tomorrow().unwrap();
    }
    panic!("no Berlin day of {seconds} s within 800 days");
}

fn pts(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

fn secs(ts: &Option<prost_types::Timestamp>) -> i64 {
    let ts = ts.as_ref().expect("timestamp set");
    assert_eq!(ts.nanos, 0, "whole seconds");
    ts.seconds
}

/// Whole seconds from `from` to `to` (timestamps with sub-second parts).
fn elapsed(from: &Option<prost_types::Timestamp>, to: &Option<prost_types::Timestamp>) -> f64 {
    let (a, b) = (from.as_ref().unwrap(), to.as_ref().unwrap());
    (b.seconds - a.seconds) as f64 + f64::from(b.nanos - a.nanos) / 1e9
}

fn range(from: i64, to: i64) -> Option<TimeRange> {
    Some(TimeRange { start_time: Some(pts(from)), end_time: Some(pts(to)) })
}

/// RFC 3339 with the offset of `zone` at that instant (written independently
/// of the server's formatter).
fn wall(zone: &TimeZone, seconds: i64) -> String {
    let ts = jiff::Timestamp::from_second(seconds).unwrap();
    let offset = zone.to_offset(ts).seconds();
    let dt = zone.to_datetime(ts);
    let sign = if offset < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        offset.abs() / 3600,
        offset.abs() % 3600 / 60
    )
}

fn request_id() -> String {
    Uuid::now_v7().to_string()
}

fn metadata(status: &Status) -> HashMap<String, String> {
    use tonic_types::StatusExt;
    status.get_error_details().error_info().map(|info| info.metadata.clone()).unwrap_or_default()
}

fn starts(slots: &[av::Slot]) -> Vec<i64> {
    slots.iter().map(|s| secs(&s.start_time)).collect()
}

#[track_caller]
fn expect_reason<T: std::fmt::Debug>(result: Result<tonic::Response<T>, Status>, code: Code, why: &str) -> Status {
    let status = expect_code(result, code);
    assert_eq!(reason(&status), why, "{status:?}");
    status
}

// ---------------------------------------------------------------------------
// A tenant ready for booking.

struct Salon {
    fx: common::TenantFixture,
    tenant: Uuid,
    channel: Channel,
}

impl Salon {
    /// The harness tenant, its staff member working 08:00-20:00 every day.
    async fn new(server: &common::TestServer, name: &str) -> Salon {
        let fx = server.tenant(name).await;
        let tenant = Uuid::parse_str(&fx.id).unwrap();
        let salon = Salon { fx, tenant, channel: server.channel.clone() };
        salon.set_hours(server, &salon.fx.staff.id.clone(), 8 * 60, 20 * 60).await;
        salon
    }

    fn branch(&self) -> &str {
        &self.fx.branch.id
    }

    fn service(&self) -> &str {
        &self.fx.service.id
    }

    fn staff(&self) -> &str {
        &self.fx.staff.id
    }

    fn agent(&self) -> &str {
        &self.fx.agent
    }

    fn av(&self) -> AvailabilityServiceClient<Channel> {
        AvailabilityServiceClient::new(self.channel.clone())
    }

    fn ap(&self) -> AppointmentServiceClient<Channel> {
        AppointmentServiceClient::new(self.channel.clone())
    }

    /// Working hours every day of the week, written through the store.
    async fn set_hours(&self, server: &common::TestServer, staff: &str, start_minute: i32, end_minute: i32) {
        let staff = Uuid::parse_str(staff).unwrap();
        let week: Vec<_> = (1..=7)
            .map(|day_of_week| askpro::domain::slots::WeeklyInterval { day_of_week, start_minute, end_minute })
            .collect();
        let tx = server.state.store.write(askpro::domain::ids::TenantId(self.tenant)).await.unwrap();
        askpro::store::working_hours::replace(&tx, staff, &week).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// Creates a service and lets the harness staff member offer it too.
    async fn add_service(&self, service: tn::Service) -> tn::Service {
        let mut client = tn::tenant_service_client::TenantServiceClient::new(self.channel.clone());
        let service = client
            .create_service(authed(
                tn::CreateServiceRequest { request_id: String::new(), service: Some(service) },
                &self.fx.admin,
            ))
            .await
            .expect("create service")
            .into_inner()
            .service
            .unwrap();
        let current = client
            .get_staff(authed(tn::GetStaffRequest { id: self.staff().into() }, &self.fx.admin))
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
                &self.fx.admin,
            ))
            .await
            .expect("offer the new service");
        service
    }

    /// A service nobody offers.
    async fn unoffered_service(&self) -> tn::Service {
        let mut client = tn::tenant_service_client::TenantServiceClient::new(self.channel.clone());
        client
            .create_service(authed(
                tn::CreateServiceRequest {
                    request_id: String::new(),
                    service: Some(tn::Service {
                        display_name: "Beard trim".into(),
                        duration: Some(minutes(30)),
                        ..Default::default()
                    }),
                },
                &self.fx.admin,
            ))
            .await
            .unwrap()
            .into_inner()
            .service
            .unwrap()
    }

    /// A second staff member of the branch offering the harness service, 08:00-20:00.
    async fn add_staff(&self, server: &common::TestServer, name: &str) -> tn::Staff {
        let mut client = tn::tenant_service_client::TenantServiceClient::new(self.channel.clone());
        let staff = client
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
                &self.fx.admin,
            ))
            .await
            .expect("create staff")
            .into_inner()
            .staff
            .unwrap();
        self.set_hours(server, &staff.id, 8 * 60, 20 * 60).await;
        staff
    }

    fn slots_request(&self, service: &str, staff: &[&str], from: i64, to: i64) -> av::ListAvailableSlotsRequest {
        av::ListAvailableSlotsRequest {
            branch_id: self.branch().into(),
            service_id: service.into(),
            staff_ids: staff.iter().map(|s| s.to_string()).collect(),
            time_range: range(from, to),
            time_zone: String::new(),
            page_size: 1000,
            page_token: String::new(),
        }
    }

    /// Every free slot of one local day (one page).
    async fn day_slots(&self, service: &str, staff: &[&str], date: Date) -> Vec<av::Slot> {
        let request = self.slots_request(service, staff, midnight(date), midnight(date.tomorrow().unwrap()));
        let response =
            self.av().list_available_slots(authed(request, self.agent())).await.expect("list slots").into_inner();
        assert!(response.next_page_token.is_empty(), "a day fits one page");
        response.slots
    }

    fn hold_request(&self, service: &str, staff: &str, start: i64, key: &str) -> av::HoldSlotRequest {
        av::HoldSlotRequest {
            request_id: request_id(),
            branch_id: self.branch().into(),
            service_id: service.into(),
            staff_id: staff.into(),
            start_time: Some(pts(start)),
            hold_key: key.into(),
            ttl: None,
        }
    }

    async fn try_hold(&self, request: av::HoldSlotRequest) -> Result<tonic::Response<av::HoldSlotResponse>, Status> {
        self.av().hold_slot(authed(request, self.agent())).await
    }

    async fn hold(&self, service: &str, staff: &str, start: i64, key: &str) -> av::Hold {
        self.try_hold(self.hold_request(service, staff, start, key)).await.expect("hold").into_inner().hold.unwrap()
    }

    async fn get_hold(&self, id: &str) -> av::Hold {
        self.av()
            .get_hold(authed(av::GetHoldRequest { id: id.into() }, self.agent()))
            .await
            .expect("get hold")
            .into_inner()
            .hold
            .unwrap()
    }

    fn explicit(&self, service: &str, staff: &str, start: i64, phone: &str) -> ap::CreateAppointmentRequest {
        ap::CreateAppointmentRequest {
            request_id: request_id(),
            slot: Some(ap::create_appointment_request::Slot::ExplicitSlot(ap::ExplicitSlot {
                service_id: service.into(),
                staff_id: staff.into(),
                start_time: Some(pts(start)),
                branch_id: self.branch().into(),
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

    fn booking_from_hold(&self, hold_id: &str, key: &str, phone: &str) -> ap::CreateAppointmentRequest {
        ap::CreateAppointmentRequest {
            slot: Some(ap::create_appointment_request::Slot::FromHold(ap::HoldReference {
                hold_id: hold_id.into(),
                hold_key: key.into(),
            })),
            ..self.explicit("", "", 0, phone)
        }
    }

    async fn try_create(
        &self,
        request: ap::CreateAppointmentRequest,
    ) -> Result<tonic::Response<ap::CreateAppointmentResponse>, Status> {
        self.ap().create_appointment(authed(request, self.agent())).await
    }

    async fn create(&self, request: ap::CreateAppointmentRequest) -> ap::CreateAppointmentResponse {
        self.try_create(request).await.expect("create appointment").into_inner()
    }

    /// Books the harness service with the harness staff member.
    async fn book(&self, start: i64, phone: &str) -> ap::Appointment {
        self.create(self.explicit(self.service(), self.staff(), start, phone)).await.appointment.unwrap()
    }

    async fn get(&self, id: &str) -> ap::Appointment {
        self.ap()
            .get_appointment(authed(ap::GetAppointmentRequest { id: id.into() }, self.agent()))
            .await
            .expect("get appointment")
            .into_inner()
            .appointment
            .unwrap()
    }

    async fn list(&self, request: ap::ListAppointmentsRequest) -> Vec<ap::Appointment> {
        self.ap().list_appointments(authed(request, self.agent())).await.expect("list").into_inner().appointments
    }

    async fn cancel(&self, id: &str, reason: &str) -> Result<tonic::Response<ap::CancelAppointmentResponse>, Status> {
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

    async fn reschedule(
        &self,
        id: &str,
        start: i64,
        etag: &str,
    ) -> Result<tonic::Response<ap::RescheduleAppointmentResponse>, Status> {
        self.ap()
            .reschedule_appointment(authed(
                ap::RescheduleAppointmentRequest {
                    id: id.into(),
                    request_id: request_id(),
                    start_time: Some(pts(start)),
                    staff_id: String::new(),
                    hold: None,
                    etag: etag.into(),
                },
                self.agent(),
            ))
            .await
    }
}

fn ids(appointments: &[ap::Appointment]) -> Vec<String> {
    appointments.iter().map(|a| a.id.clone()).collect()
}

/// Free starts of a 45-minute slot on the 15-minute grid between 08:00 and 20:00
/// of `date`, except those whose own window overlaps one of `busy`.
fn expected_free(date: Date, duration: i64, before: i64, after: i64, busy: &[(i64, i64)]) -> Vec<i64> {
    let (open, close) = (local(date, 8, 0), local(date, 20, 0));
    (0..)
        .map(|n| open + n * 15 * MIN)
        .take_while(|s| s + duration * MIN <= close)
        .filter(|&s| busy.iter().all(|&(b0, b1)| !(s - before * MIN < b1 && s + (duration + after) * MIN > b0)))
        .collect()
}

// ---------------------------------------------------------------------------
// The voice-agent flow.

async fn voice_agent_finds_holds_books_reschedules_and_cancels(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Flow").await;
    let day = booking_day();
    let (ten, two, four) = (local(day, 10, 0), local(day, 14, 0), local(day, 16, 0));
    let staff = [s.staff()];

    // 1. The agent asks for free slots: 08:00-19:15 on the 15-minute grid.
    let before = s.day_slots(s.service(), &staff, day).await;
    assert_eq!(starts(&before), expected_free(day, 45, 0, 0, &[]));
    let slot = before.iter().find(|x| secs(&x.start_time) == ten).expect("10:00 is offered");
    assert_eq!(slot.staff_id, s.staff());
    assert_eq!(secs(&slot.end_time), ten + 45 * MIN);
    assert_eq!(slot.local_start_time, wall(&berlin(), ten));
    assert_eq!(slot.local_end_time, wall(&berlin(), ten + 45 * MIN));

    // 2. It holds 10:00 for the caller.
    let hold = s.hold(s.service(), s.staff(), ten, "call-1").await;
    assert_eq!(hold.state, av::HoldState::Active as i32);
    assert_eq!((secs(&hold.start_time), secs(&hold.end_time)), (ten, ten + 45 * MIN));
    assert_eq!(hold.hold_key, "call-1");
    assert_eq!((hold.staff_id.as_str(), hold.service_id.as_str()), (s.staff(), s.service()));
    assert!(hold.appointment_id.is_empty());

    // 3. The held time is no longer offered, and nothing overlapping it is.
    let during = s.day_slots(s.service(), &staff, day).await;
    assert_eq!(starts(&during), expected_free(day, 45, 0, 0, &[(ten, ten + 45 * MIN)]));
    assert!(!starts(&during).contains(&ten));

    // 4. It books from the hold for a new caller.
    let created = s
        .create(ap::CreateAppointmentRequest {
            source: ap::AppointmentSource::PhoneAgent as i32,
            call_id: "call-1".into(),
            notes: "first visit".into(),
            ..s.booking_from_hold(&hold.id, "call-1", "0151 23456789")
        })
        .await;
    let first = created.appointment.clone().unwrap();
    let customer = created.customer.clone().unwrap();
    assert_eq!(customer.phone_number, "+4915123456789", "the phone number is stored in E.164");
    assert_eq!(first.customer_id, customer.id);
    assert_eq!((secs(&first.start_time), secs(&first.end_time)), (ten, ten + 45 * MIN));
    assert_eq!(first.status, ap::AppointmentStatus::Confirmed as i32, "CONFIRMED unless asked otherwise");
    assert_eq!(first.source, ap::AppointmentSource::PhoneAgent as i32);
    assert_eq!(
        (first.branch_id.as_str(), first.service_id.as_str(), first.staff_id.as_str()),
        (s.branch(), s.service(), s.staff())
    );
    assert_eq!((first.call_id.as_str(), first.notes.as_str()), ("call-1", "first visit"));
    assert!(!first.etag.is_empty());
    let converted = s.get_hold(&hold.id).await;
    assert_eq!(converted.state, av::HoldState::Converted as i32);
    assert_eq!(converted.appointment_id, first.id);
    assert!(!starts(&s.day_slots(s.service(), &staff, day).await).contains(&ten), "the appointment keeps 10:00");

    // 5. The same caller, typed internationally, is the same customer.
    let again = s.create(s.explicit(s.service(), s.staff(), two, "+49 151 23456789")).await;
    let second = again.appointment.unwrap();
    assert_eq!(again.customer.unwrap().id, customer.id, "one customer per normalized phone number");
    assert_eq!(second.customer_id, customer.id);
    assert_eq!(second.source, ap::AppointmentSource::PartnerApi as i32, "unset source means PARTNER_API");

    // 6. Reads.
    assert_eq!(s.get(&first.id).await, first);
    let by_staff =
        s.list(ap::ListAppointmentsRequest { staff_ids: vec![s.staff().into()], ..Default::default() }).await;
    assert_eq!(ids(&by_staff), vec![first.id.clone(), second.id.clone()], "ordered by start time");
    let by_customer =
        s.list(ap::ListAppointmentsRequest { customer_id: customer.id.clone(), ..Default::default() }).await;
    assert_eq!(ids(&by_customer), vec![first.id.clone(), second.id.clone()]);
    let confirmed = s
        .list(ap::ListAppointmentsRequest {
            statuses: vec![ap::AppointmentStatus::Confirmed as i32],
            ..Default::default()
        })
        .await;
    assert_eq!(ids(&confirmed), vec![first.id.clone(), second.id.clone()]);
    let pending = s
        .list(ap::ListAppointmentsRequest {
            statuses: vec![ap::AppointmentStatus::Pending as i32],
            ..Default::default()
        })
        .await;
    assert!(pending.is_empty());

    // 7. Reschedule 10:00 -> 16:00: the old time is free again, the new one taken.
    let moved = s.reschedule(&first.id, four, "").await.expect("reschedule").into_inner().appointment.unwrap();
    assert_eq!(moved.id, first.id);
    assert_eq!((secs(&moved.start_time), secs(&moved.end_time)), (four, four + 45 * MIN));
    assert_eq!(moved.status, ap::AppointmentStatus::Confirmed as i32);
    assert_ne!(moved.etag, first.etag);
    let after_move = starts(&s.day_slots(s.service(), &staff, day).await);
    assert_eq!(after_move, expected_free(day, 45, 0, 0, &[(two, two + 45 * MIN), (four, four + 45 * MIN)]));
    assert!(after_move.contains(&ten) && !after_move.contains(&four));
    assert_eq!(s.get(&first.id).await, moved);

    // 8. Cancel with a reason: 16:00 is free again.
    let cancelled = s.cancel(&first.id, "caller cancelled").await.expect("cancel").into_inner().appointment.unwrap();
    assert_eq!(cancelled.status, ap::AppointmentStatus::Cancelled as i32);
    assert_eq!(cancelled.cancel_reason, "caller cancelled");
    let after_cancel = starts(&s.day_slots(s.service(), &staff, day).await);
    assert_eq!(after_cancel, expected_free(day, 45, 0, 0, &[(two, two + 45 * MIN)]));
    assert!(after_cancel.contains(&four));
    let cancelled_list = s
        .list(ap::ListAppointmentsRequest {
            statuses: vec![ap::AppointmentStatus::Cancelled as i32],
            ..Default::default()
        })
        .await;
    assert_eq!(ids(&cancelled_list), vec![first.id.clone()]);
    let active = s
        .list(ap::ListAppointmentsRequest {
            staff_ids: vec![s.staff().into()],
            statuses: vec![ap::AppointmentStatus::Pending as i32, ap::AppointmentStatus::Confirmed as i32],
            ..Default::default()
        })
        .await;
    assert_eq!(ids(&active), vec![second.id.clone()]);
}

// ---------------------------------------------------------------------------
// Slots.

async fn slot_local_times_carry_the_branch_offset_and_the_requested_zone(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Zones").await;
    // Winter and summer dates are months away: a service with a long horizon.
    let long = s
        .add_service(tn::Service {
            display_name: "Long horizon".into(),
            duration: Some(minutes(45)),
            booking_horizon: Some(minutes(730 * 24 * 60)),
            ..Default::default()
        })
        .await;
    let new_york = "America/New_York";
    for (date, berlin_offset, utc_hour, new_york_offset) in
        [(next_date(1, 11), "+01:00", 9, "-05:00"), (next_date(7, 13), "+02:00", 8, "-04:00")]
    {
        let request = s.slots_request(&long.id, &[s.staff()], midnight(date), midnight(date.tomorrow().unwrap()));
        let response = s.av().list_available_slots(authed(request.clone(), s.agent())).await.unwrap().into_inner();
        assert_eq!(response.time_zone, "Europe/Berlin", "empty time_zone means the branch's");
        let slot = response.slots.iter().find(|x| secs(&x.start_time) == local(date, 10, 0)).expect("10:00");
        assert_eq!(secs(&slot.start_time), utc(date, utc_hour, 0), "{date}: 10:00 in Berlin");
        assert_eq!(slot.local_start_time, format!("{date}T10:00:00{berlin_offset}"));
        assert_eq!(slot.local_end_time, format!("{date}T10:45:00{berlin_offset}"));

        let request = av::ListAvailableSlotsRequest { time_zone: new_york.into(), ..request };
        let response = s.av().list_available_slots(authed(request, s.agent())).await.unwrap().into_inner();
        assert_eq!(response.time_zone, new_york);
        let slot = response.slots.iter().find(|x| secs(&x.start_time) == local(date, 10, 0)).expect("10:00");
        assert_eq!(slot.local_start_time, format!("{date}T04:00:00{new_york_offset}"));
        assert_eq!(slot.local_end_time, format!("{date}T04:45:00{new_york_offset}"));
        let zone = TimeZone::get(new_york).unwrap();
        for slot in &response.slots {
            assert_eq!(slot.local_start_time, wall(&zone, secs(&slot.start_time)));
        }
    }
    // An unknown zone is refused.
    let day = booking_day();
    let request = av::ListAvailableSlotsRequest {
        time_zone: "Mars/Olympus_Mons".into(),
        ..s.slots_request(s.service(), &[], midnight(day), midnight(day) + 24 * HOUR)
    };
    let status = expect_code(s.av().list_available_slots(authed(request, s.agent())).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["time_zone"]);
}

async fn slot_search_window_is_required_and_at_most_62_days(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Window").await;
    let from = midnight(booking_day());
    let list = |from: i64, to: i64| {
        let request = s.slots_request(s.service(), &[], from, to);
        let mut client = s.av();
        let key = s.agent().to_owned();
        async move { client.list_available_slots(authed(request, &key)).await }
    };
    list(from, from + 62 * 24 * HOUR).await.expect("62 days are allowed");
    let status = expect_code(list(from, from + 62 * 24 * HOUR + 1).await, Code::InvalidArgument);
    assert_eq!(reason(&status), "INVALID_ARGUMENT");
    assert_eq!(violated_fields(&status), vec!["time_range"]);
    let status = expect_code(list(from, from + 63 * 24 * HOUR).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["time_range"]);
    let status = expect_code(list(from, from - HOUR).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["time_range.end_time"]);
    let missing = av::ListAvailableSlotsRequest { time_range: None, ..s.slots_request(s.service(), &[], 0, 1) };
    expect_code(s.av().list_available_slots(authed(missing, s.agent())).await, Code::InvalidArgument);
}

async fn slot_pages_return_every_slot_once_in_start_then_staff_order(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Pages").await;
    let second = s.add_staff(server, "Ben").await;
    let day = booking_day();
    let from = midnight(day);
    let to = midnight(day.tomorrow().unwrap());
    let all = s.day_slots(s.service(), &[], day).await;
    assert_eq!(all.len(), 2 * 46, "two staff members, 46 starts each (08:00-19:15)");
    let keys: Vec<(i64, String)> = all.iter().map(|x| (secs(&x.start_time), x.staff_id.clone())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "ordered by start, then staff id, without duplicates");
    assert!(keys.iter().any(|k| k.1 == second.id));

    let mut paged = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let request = av::ListAvailableSlotsRequest {
            page_size: 5,
            page_token: token.clone(),
            ..s.slots_request(s.service(), &[], from, to)
        };
        let page = s.av().list_available_slots(authed(request, s.agent())).await.expect("page").into_inner();
        pages += 1;
        assert!(page.slots.len() <= 5);
        paged.extend(page.slots.iter().map(|x| (secs(&x.start_time), x.staff_id.clone())));
        if page.next_page_token.is_empty() {
            break;
        }
        assert_eq!(page.slots.len(), 5, "only the last page is short");
        token = page.next_page_token;
        assert!(pages < 100, "paging terminates");
    }
    assert_eq!(paged, keys, "pages of 5 give every slot exactly once, in order");
    assert_eq!(pages, (2 * 46usize).div_ceil(5));

    // A token is bound to its filter.
    let first = av::ListAvailableSlotsRequest { page_size: 5, ..s.slots_request(s.service(), &[], from, to) };
    let token = s.av().list_available_slots(authed(first, s.agent())).await.unwrap().into_inner().next_page_token;
    let other = av::ListAvailableSlotsRequest {
        page_size: 5,
        page_token: token,
        ..s.slots_request(s.service(), &[s.staff()], from, to)
    };
    let status = expect_code(s.av().list_available_slots(authed(other, s.agent())).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["page_token"]);
}

async fn listing_slots_for_staff_not_offering_the_service_is_refused(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Offer").await;
    let beard = s.unoffered_service().await;
    let day = booking_day();
    let request = s.slots_request(&beard.id, &[s.staff()], midnight(day), midnight(day) + 24 * HOUR);
    let result = s.av().list_available_slots(authed(request, s.agent())).await;
    // The contract: "FAILED_PRECONDITION (FAILED_PRECONDITION) if a listed
    // staff member does not offer the service in the branch".
    assert_eq!(
        result.as_ref().err().map(|e| (e.code(), reason(e))),
        Some((Code::FailedPrecondition, "FAILED_PRECONDITION".to_owned())),
        "BUG: ListAvailableSlots with a staff member who does not offer the service must be FAILED_PRECONDITION \
         (availability_service.proto), got {result:?}"
    );
}

async fn listing_slots_for_an_unknown_staff_member_is_not_found(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Unknown").await;
    let day = booking_day();
    let unknown = Uuid::now_v7().to_string();
    let request = s.slots_request(s.service(), &[&unknown], midnight(day), midnight(day) + 24 * HOUR);
    let result = s.av().list_available_slots(authed(request, s.agent())).await;
    // The contract: "NOT_FOUND (RESOURCE_NOT_FOUND) for an unknown branch, service or staff member".
    assert_eq!(
        result.as_ref().err().map(|e| (e.code(), reason(e))),
        Some((Code::NotFound, "RESOURCE_NOT_FOUND".to_owned())),
        "BUG: ListAvailableSlots with an unknown staff id must be NOT_FOUND (availability_service.proto), got {result:?}"
    );
}

async fn slots_follow_berlin_daylight_saving_changes(server: &common::TestServer) {
    let s = Salon::new(server, "Salon DST").await;
    s.set_hours(server, &s.fx.staff.id, 0, 24 * 60).await;
    let long = s
        .add_service(tn::Service {
            display_name: "Long horizon".into(),
            duration: Some(minutes(45)),
            booking_horizon: Some(minutes(730 * 24 * 60)),
            ..Default::default()
        })
        .await;
    let zone = berlin();

    // Spring forward (2027-03-28 seen from late 2026): 02:00-02:59 does not exist.
    let spring = next_day_lasting(23 * HOUR);
    let slots = s.day_slots(&long.id, &[s.staff()], spring).await;
    let locals: Vec<&str> = slots.iter().map(|x| x.local_start_time.as_str()).collect();
    assert!(
        !locals.iter().any(|l| l.starts_with(&format!("{spring}T02:"))),
        "no slot starts in the skipped hour: {locals:?}"
    );
    assert!(locals.contains(&format!("{spring}T01:45:00+01:00").as_str()));
    assert!(locals.contains(&format!("{spring}T03:00:00+02:00").as_str()));
    let index = locals.iter().position(|l| l.ends_with("T01:45:00+01:00")).unwrap();
    assert_eq!(
        secs(&slots[index + 1].start_time) - secs(&slots[index].start_time),
        15 * MIN,
        "01:45 CET then 03:00 CEST"
    );
    // 94 wall-clock starts 00:00-23:15, minus the four in the gap.
    assert_eq!(slots.len(), 90, "{locals:?}");
    for slot in &slots {
        assert_eq!(slot.local_start_time, wall(&zone, secs(&slot.start_time)));
        assert_eq!(secs(&slot.end_time) - secs(&slot.start_time), 45 * MIN, "durations are real time");
    }

    // Fall back (2027-10-31): 02:00-02:59 happens twice, each real instant offered once.
    let autumn = next_day_lasting(25 * HOUR);
    let slots = s.day_slots(&long.id, &[s.staff()], autumn).await;
    let locals: Vec<&str> = slots.iter().map(|x| x.local_start_time.as_str()).collect();
    for minute in ["00", "15", "30", "45"] {
        let summer = format!("{autumn}T02:{minute}:00+02:00");
        let winter = format!("{autumn}T02:{minute}:00+01:00");
        let (a, b) = (locals.iter().position(|l| *l == summer), locals.iter().position(|l| *l == winter));
        assert!(a.is_some() && b.is_some(), "02:{minute} is offered twice: {locals:?}");
        assert_eq!(secs(&slots[b.unwrap()].start_time) - secs(&slots[a.unwrap()].start_time), HOUR);
    }
    assert_eq!(locals.iter().filter(|l| l.contains("T02:")).count(), 8);
    assert_eq!(slots.len(), 98, "94 wall-clock starts plus the four repeated ones");
    let mut instants = starts(&slots);
    instants.dedup();
    assert_eq!(instants.len(), slots.len(), "every instant once");

    // The repeated wall time can be held and booked at both instants.
    let first = slots.iter().find(|x| x.local_start_time == format!("{autumn}T02:00:00+02:00")).unwrap();
    let second = slots.iter().find(|x| x.local_start_time == format!("{autumn}T02:00:00+01:00")).unwrap();
    s.hold(&long.id, s.staff(), secs(&first.start_time), "call-dst-1").await;
    s.create(s.explicit(&long.id, s.staff(), secs(&second.start_time), "0151 11111111")).await;
}

// ---------------------------------------------------------------------------
// Holds.

async fn only_the_holder_can_book_or_release_a_hold(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Owner").await;
    let ten = local(booking_day(), 10, 0);
    let hold = s.hold(s.service(), s.staff(), ten, "call-1").await;
    expect_reason(
        s.try_create(s.booking_from_hold(&hold.id, "call-2", "0151 23456789")).await,
        Code::PermissionDenied,
        "HOLD_NOT_OWNED",
    );
    let release = av::ReleaseHoldRequest { id: hold.id.clone(), hold_key: "call-2".into() };
    expect_reason(s.av().release_hold(authed(release, s.agent())).await, Code::PermissionDenied, "HOLD_NOT_OWNED");
    let extend = av::ExtendHoldRequest { id: hold.id.clone(), hold_key: "call-2".into(), ttl: None };
    expect_reason(s.av().extend_hold(authed(extend, s.agent())).await, Code::PermissionDenied, "HOLD_NOT_OWNED");
    assert_eq!(s.get_hold(&hold.id).await.state, av::HoldState::Active as i32, "the hold is untouched");
    // An explicit booking by anyone else is refused too.
    expect_reason(
        s.try_create(s.explicit(s.service(), s.staff(), ten, "0151 99999999")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    // The holder books.
    let booked = s.create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await.appointment.unwrap();
    assert_eq!(secs(&booked.start_time), ten);
    // A converted hold cannot be booked again, not even by its holder.
    expect_reason(
        s.try_create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await,
        Code::FailedPrecondition,
        "HOLD_EXPIRED",
    );
    let active = s.list(ap::ListAppointmentsRequest { staff_ids: vec![s.staff().into()], ..Default::default() }).await;
    assert_eq!(ids(&active), vec![booked.id]);
}

async fn an_expired_hold_frees_its_slot_and_cannot_be_booked(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Expiry").await;
    let day = booking_day();
    let ten = local(day, 10, 0);
    let request = av::HoldSlotRequest {
        ttl: Some(prost_types::Duration { seconds: 1, nanos: 0 }),
        ..s.hold_request(s.service(), s.staff(), ten, "call-1")
    };
    let hold = s.try_hold(request).await.expect("hold for 1 s").into_inner().hold.unwrap();
    assert_eq!(hold.state, av::HoldState::Active as i32);
    assert_eq!(elapsed(&hold.create_time, &hold.expire_time), 1.0);
    assert!(!starts(&s.day_slots(s.service(), &[s.staff()], day).await).contains(&ten));

    tokio::time::sleep(Duration::from_millis(1500)).await;

    assert_eq!(s.get_hold(&hold.id).await.state, av::HoldState::Expired as i32);
    assert!(
        starts(&s.day_slots(s.service(), &[s.staff()], day).await).contains(&ten),
        "an expired hold blocks nothing"
    );
    let extend = av::ExtendHoldRequest { id: hold.id.clone(), hold_key: "call-1".into(), ttl: None };
    expect_reason(s.av().extend_hold(authed(extend, s.agent())).await, Code::FailedPrecondition, "HOLD_EXPIRED");
    // Another caller takes the slot.
    let other = s.hold(s.service(), s.staff(), ten, "call-2").await;
    assert_eq!(other.state, av::HoldState::Active as i32);
    // The first caller's booking from its expired hold fails.
    expect_reason(
        s.try_create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await,
        Code::FailedPrecondition,
        "HOLD_EXPIRED",
    );
    // Releasing the expired hold succeeds, changes nothing, and does not free the new hold's time.
    let release = av::ReleaseHoldRequest { id: hold.id.clone(), hold_key: "call-1".into() };
    let released =
        s.av().release_hold(authed(release, s.agent())).await.expect("idempotent").into_inner().hold.unwrap();
    assert_eq!(released.state, av::HoldState::Expired as i32);
    assert!(!starts(&s.day_slots(s.service(), &[s.staff()], day).await).contains(&ten), "call-2 still holds 10:00");
    let booked = s.create(s.booking_from_hold(&other.id, "call-2", "0151 23456789")).await.appointment.unwrap();
    assert_eq!(secs(&booked.start_time), ten);
}

async fn extending_a_hold_keeps_its_slot(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Extend").await;
    let day = booking_day();
    let ten = local(day, 10, 0);
    let request = av::HoldSlotRequest {
        ttl: Some(prost_types::Duration { seconds: 1, nanos: 0 }),
        ..s.hold_request(s.service(), s.staff(), ten, "call-1")
    };
    let hold = s.try_hold(request).await.expect("hold").into_inner().hold.unwrap();
    let extend = av::ExtendHoldRequest { id: hold.id.clone(), hold_key: "call-1".into(), ttl: Some(minutes(10)) };
    let extended = s.av().extend_hold(authed(extend, s.agent())).await.expect("extend").into_inner().hold.unwrap();
    assert!(elapsed(&hold.expire_time, &extended.expire_time) > 500.0, "expire_time moved to now + 10 min");
    let too_long = av::ExtendHoldRequest { id: hold.id.clone(), hold_key: "call-1".into(), ttl: Some(minutes(31)) };
    expect_reason(s.av().extend_hold(authed(too_long, s.agent())).await, Code::InvalidArgument, "INVALID_ARGUMENT");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(s.get_hold(&hold.id).await.state, av::HoldState::Active as i32, "the extended hold is alive");
    assert!(!starts(&s.day_slots(s.service(), &[s.staff()], day).await).contains(&ten));
    expect_reason(
        s.try_hold(s.hold_request(s.service(), s.staff(), ten, "call-2")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    let booked = s.create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await.appointment.unwrap();
    assert_eq!(secs(&booked.start_time), ten);
}

async fn a_live_hold_is_booked_without_rechecking_the_hours(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Hours Changed").await;
    let day = booking_day();
    let hold = s.hold(s.service(), s.staff(), local(day, 10, 0), "call-1").await;
    // The staff member's hours change to afternoons only while the caller is on the line.
    s.set_hours(server, &s.fx.staff.id, 14 * 60, 20 * 60).await;
    expect_reason(
        s.try_create(s.explicit(s.service(), s.staff(), local(day, 11, 0), "0151 23456789")).await,
        Code::FailedPrecondition,
        "FAILED_PRECONDITION",
    );
    let booked = s.create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await.appointment.unwrap();
    assert_eq!(secs(&booked.start_time), local(day, 10, 0), "the hold is honoured");
}

async fn releasing_a_hold_frees_its_slot_and_is_idempotent(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Release").await;
    let day = booking_day();
    let ten = local(day, 10, 0);
    let hold = s.hold(s.service(), s.staff(), ten, "call-1").await;
    let release = av::ReleaseHoldRequest { id: hold.id.clone(), hold_key: "call-1".into() };
    let first =
        s.av().release_hold(authed(release.clone(), s.agent())).await.expect("release").into_inner().hold.unwrap();
    assert_eq!(first.state, av::HoldState::Released as i32);
    assert!(starts(&s.day_slots(s.service(), &[s.staff()], day).await).contains(&ten));
    let again = s.av().release_hold(authed(release, s.agent())).await.expect("again").into_inner().hold.unwrap();
    assert_eq!(again.state, av::HoldState::Released as i32);
    assert_eq!(s.get_hold(&hold.id).await.state, av::HoldState::Released as i32);
    expect_reason(
        s.try_create(s.booking_from_hold(&hold.id, "call-1", "0151 23456789")).await,
        Code::FailedPrecondition,
        "HOLD_EXPIRED",
    );
    // Someone else can hold and book it now.
    let other = s.hold(s.service(), s.staff(), ten, "call-2").await;
    let booked = s.create(s.booking_from_hold(&other.id, "call-2", "0151 23456789")).await.appointment.unwrap();
    // Releasing a converted hold succeeds and the appointment stays booked.
    let release = av::ReleaseHoldRequest { id: other.id.clone(), hold_key: "call-2".into() };
    let converted =
        s.av().release_hold(authed(release, s.agent())).await.expect("release converted").into_inner().hold.unwrap();
    assert_eq!(converted.state, av::HoldState::Converted as i32);
    assert_eq!(converted.appointment_id, booked.id);
    assert_eq!(s.get(&booked.id).await.status, ap::AppointmentStatus::Confirmed as i32);
    assert!(!starts(&s.day_slots(s.service(), &[s.staff()], day).await).contains(&ten));
}

async fn holding_a_held_slot_is_slot_taken_with_alternatives(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Taken").await;
    let second = s.add_staff(server, "Ben").await;
    let day = booking_day();
    let ten = local(day, 10, 0);
    s.hold(s.service(), s.staff(), ten, "call-1").await;
    let status = expect_reason(
        s.try_hold(s.hold_request(s.service(), s.staff(), ten, "call-2")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    let meta = metadata(&status);
    // The alternatives are the first slots ListAvailableSlots returns from the
    // requested start on, any staff member.
    let request = s.slots_request(s.service(), &[], ten, ten + 7 * 24 * HOUR);
    let offered = s.av().list_available_slots(authed(request, s.agent())).await.unwrap().into_inner().slots;
    assert_eq!(offered[0].staff_id, second.id, "Ben is free at 10:00");
    for n in 1..=3 {
        let start =
            meta.get(&format!("alternative_{n}_start_time")).unwrap_or_else(|| panic!("alternative {n}: {meta:?}"));
        let staff = &meta[&format!("alternative_{n}_staff_id")];
        let local_start = &meta[&format!("alternative_{n}_local_start_time")];
        let slot = &offered[n - 1];
        let parsed: jiff::Timestamp = start.parse().expect("RFC 3339");
        assert_eq!(parsed.as_second(), secs(&slot.start_time), "alternative {n}");
        assert_eq!(staff, &slot.staff_id, "alternative {n}");
        assert_eq!(local_start, &slot.local_start_time, "alternative {n}");
    }
    assert!(!meta.contains_key("alternative_4_start_time"), "at most three");
    // The same for a booking of the held time.
    let status = expect_reason(
        s.try_create(s.explicit(s.service(), s.staff(), ten, "0151 23456789")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    assert!(metadata(&status).contains_key("alternative_1_start_time"));
    assert!(metadata(&status).contains_key("alternative_1_staff_id"));
    assert!(metadata(&status).contains_key("alternative_1_local_start_time"));
}

async fn hold_ttl_must_be_positive_and_at_most_30_minutes(server: &common::TestServer) {
    let s = Salon::new(server, "Salon TTL").await;
    let ten = local(booking_day(), 10, 0);
    for seconds in [30 * 60 + 1, 0, -5] {
        let request = av::HoldSlotRequest {
            ttl: Some(prost_types::Duration { seconds, nanos: 0 }),
            ..s.hold_request(s.service(), s.staff(), ten, "call-1")
        };
        let status = expect_reason(s.try_hold(request).await, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(violated_fields(&status), vec!["ttl"], "ttl {seconds} s");
    }
    let request =
        av::HoldSlotRequest { ttl: Some(minutes(30)), ..s.hold_request(s.service(), s.staff(), ten, "call-1") };
    let hold = s.try_hold(request).await.expect("30 minutes is allowed").into_inner().hold.unwrap();
    assert_eq!(elapsed(&hold.create_time, &hold.expire_time), (30 * MIN) as f64);
    let default = s.hold(s.service(), s.staff(), ten + 2 * HOUR, "call-2").await;
    assert_eq!(elapsed(&default.create_time, &default.expire_time), (5 * MIN) as f64, "unset ttl means 5 minutes");
    let missing_key = s.hold_request(s.service(), s.staff(), ten + 4 * HOUR, "");
    let status = expect_code(s.try_hold(missing_key).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["hold_key"]);
}

async fn hold_slot_is_idempotent_by_request_id(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Idem Hold").await;
    let ten = local(booking_day(), 10, 0);
    let request = s.hold_request(s.service(), s.staff(), ten, "call-1");
    let first = s.try_hold(request.clone()).await.expect("hold").into_inner();
    let second = s.try_hold(request.clone()).await.expect("retry").into_inner();
    assert_eq!(first, second, "a retry returns the first response");
    let changed = av::HoldSlotRequest { hold_key: "call-2".into(), ..request.clone() };
    expect_reason(s.try_hold(changed).await, Code::InvalidArgument, "REQUEST_ID_REUSED");
    let moved = av::HoldSlotRequest { start_time: Some(pts(ten + HOUR)), ..request };
    expect_reason(s.try_hold(moved).await, Code::InvalidArgument, "REQUEST_ID_REUSED");
}

async fn holding_an_unbookable_time_fails_precondition(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Hold Rules").await;
    let day = booking_day();
    for (start, what) in [
        (local(day, 10, 5), "off the 15-minute grid"),
        (local(day, 7, 0), "before working hours"),
        (local(day, 19, 30), "ending after working hours"),
        (local(today_in_berlin().checked_add(70.days()).unwrap(), 10, 0), "beyond the 60-day horizon"),
    ] {
        let result = s.try_hold(s.hold_request(s.service(), s.staff(), start, "call-1")).await;
        let status = expect_code(result, Code::FailedPrecondition);
        assert_eq!(reason(&status), "FAILED_PRECONDITION", "{what}");
    }
    let beard = s.unoffered_service().await;
    let status = expect_code(
        s.try_hold(s.hold_request(&beard.id, s.staff(), local(day, 10, 0), "call-1")).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&status), "FAILED_PRECONDITION", "a service the staff member does not offer");
}

// ---------------------------------------------------------------------------
// Appointments.

async fn explicit_slots_must_be_bookable(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Rules").await;
    let day = booking_day();
    for (start, what) in [
        (local(day, 10, 5), "off the 15-minute grid"),
        (local(day, 10, 0) + 30, "not on a whole minute"),
        (local(day, 7, 45), "before working hours"),
        (local(day, 19, 30), "ending after working hours"),
        (local(day, 21, 0), "after working hours"),
        (local(today_in_berlin().checked_add(70.days()).unwrap(), 10, 0), "beyond the 60-day horizon"),
    ] {
        let status = expect_code(
            s.try_create(s.explicit(s.service(), s.staff(), start, "0151 23456789")).await,
            Code::FailedPrecondition,
        );
        assert_eq!(reason(&status), "FAILED_PRECONDITION", "{what}");
    }
    let beard = s.unoffered_service().await;
    let status = expect_code(
        s.try_create(s.explicit(&beard.id, s.staff(), local(day, 10, 0), "0151 23456789")).await,
        Code::FailedPrecondition,
    );
    assert_eq!(reason(&status), "FAILED_PRECONDITION");
    // Unknown references are NOT_FOUND.
    let unknown = Uuid::now_v7().to_string();
    expect_reason(
        s.try_create(s.explicit(s.service(), &unknown, local(day, 10, 0), "0151 23456789")).await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
    let unknown_hold = s.booking_from_hold(&unknown, "call-1", "0151 23456789");
    expect_reason(s.try_create(unknown_hold).await, Code::NotFound, "RESOURCE_NOT_FOUND");
    assert!(s.list(ap::ListAppointmentsRequest::default()).await.is_empty(), "nothing was booked");
}

async fn create_appointment_validates_source_status_and_customer(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Validate").await;
    let ten = local(booking_day(), 10, 0);
    let calcom = ap::CreateAppointmentRequest {
        source: ap::AppointmentSource::Calcom as i32,
        ..s.explicit(s.service(), s.staff(), ten, "0151 23456789")
    };
    let status = expect_reason(s.try_create(calcom).await, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(violated_fields(&status), vec!["source"]);
    for initial in [ap::AppointmentStatus::Cancelled, ap::AppointmentStatus::Completed, ap::AppointmentStatus::NoShow] {
        let request = ap::CreateAppointmentRequest {
            initial_status: initial as i32,
            ..s.explicit(s.service(), s.staff(), ten, "0151 23456789")
        };
        let status = expect_code(s.try_create(request).await, Code::InvalidArgument);
        assert_eq!(violated_fields(&status), vec!["initial_status"]);
    }
    let bad_phone = s.explicit(s.service(), s.staff(), ten, "12");
    expect_code(s.try_create(bad_phone).await, Code::InvalidArgument);
    let no_customer = ap::CreateAppointmentRequest { customer: None, ..s.explicit(s.service(), s.staff(), ten, "x") };
    expect_code(s.try_create(no_customer).await, Code::InvalidArgument);
    let no_slot =
        ap::CreateAppointmentRequest { slot: None, ..s.explicit(s.service(), s.staff(), ten, "0151 23456789") };
    expect_code(s.try_create(no_slot).await, Code::InvalidArgument);
    assert!(s.list(ap::ListAppointmentsRequest::default()).await.is_empty(), "nothing was booked");
    // The slot is still free.
    s.book(ten, "0151 23456789").await;
}

async fn appointment_status_follows_the_state_machine(server: &common::TestServer) {
    let s = Salon::new(server, "Salon States").await;
    let day = booking_day();
    let pending = |start: i64| ap::CreateAppointmentRequest {
        initial_status: ap::AppointmentStatus::Pending as i32,
        ..s.explicit(s.service(), s.staff(), start, "0151 23456789")
    };
    let a = s.create(pending(local(day, 10, 0))).await.appointment.unwrap();
    assert_eq!(a.status, ap::AppointmentStatus::Pending as i32);
    let confirm = |id: &str, etag: &str| ap::ConfirmAppointmentRequest { id: id.into(), etag: etag.into() };

    // PENDING -> CONFIRMED, then confirming again changes nothing, whatever the etag.
    let confirmed = s
        .ap()
        .confirm_appointment(authed(confirm(&a.id, &a.etag), s.agent()))
        .await
        .expect("confirm")
        .into_inner()
        .appointment
        .unwrap();
    assert_eq!(confirmed.status, ap::AppointmentStatus::Confirmed as i32);
    assert_ne!(confirmed.etag, a.etag);
    let again = s
        .ap()
        .confirm_appointment(authed(confirm(&a.id, &a.etag), s.agent()))
        .await
        .expect("confirm twice")
        .into_inner()
        .appointment
        .unwrap();
    assert_eq!(again, confirmed, "a second confirm changes nothing");

    // Before the start, no-show and completion are refused.
    let no_show = ap::MarkNoShowRequest { id: a.id.clone(), etag: String::new() };
    expect_reason(
        s.ap().mark_no_show(authed(no_show, s.agent())).await,
        Code::FailedPrecondition,
        "FAILED_PRECONDITION",
    );
    let complete = ap::CompleteAppointmentRequest { id: a.id.clone(), etag: String::new() };
    expect_reason(
        s.ap().complete_appointment(authed(complete, s.agent())).await,
        Code::FailedPrecondition,
        "FAILED_PRECONDITION",
    );
    // From PENDING they are illegal transitions.
    let p = s.create(pending(local(day, 12, 0))).await.appointment.unwrap();
    let no_show = ap::MarkNoShowRequest { id: p.id.clone(), etag: String::new() };
    expect_reason(
        s.ap().mark_no_show(authed(no_show, s.agent())).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    let complete = ap::CompleteAppointmentRequest { id: p.id.clone(), etag: String::new() };
    expect_reason(
        s.ap().complete_appointment(authed(complete, s.agent())).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    assert_eq!(s.get(&a.id).await, confirmed, "refused changes change nothing");

    // CONFIRMED -> CANCELLED; a retry with the same request_id returns the same answer.
    let cancel = ap::CancelAppointmentRequest {
        id: a.id.clone(),
        request_id: request_id(),
        reason: "sick".into(),
        etag: String::new(),
    };
    let cancelled = s.ap().cancel_appointment(authed(cancel.clone(), s.agent())).await.expect("cancel").into_inner();
    assert_eq!(cancelled.appointment.as_ref().unwrap().status, ap::AppointmentStatus::Cancelled as i32);
    let retried =
        s.ap().cancel_appointment(authed(cancel.clone(), s.agent())).await.expect("retried cancel").into_inner();
    assert_eq!(retried, cancelled);
    let other_reason = ap::CancelAppointmentRequest { reason: "other".into(), ..cancel };
    expect_reason(
        s.ap().cancel_appointment(authed(other_reason, s.agent())).await,
        Code::InvalidArgument,
        "REQUEST_ID_REUSED",
    );

    // CANCELLED is terminal.
    expect_reason(
        s.ap().confirm_appointment(authed(confirm(&a.id, ""), s.agent())).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    expect_reason(s.cancel(&a.id, "again").await, Code::FailedPrecondition, "ILLEGAL_STATE_TRANSITION");
    expect_reason(
        s.reschedule(&a.id, local(day, 15, 0), "").await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    let complete = ap::CompleteAppointmentRequest { id: a.id.clone(), etag: String::new() };
    expect_reason(
        s.ap().complete_appointment(authed(complete, s.agent())).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    assert_eq!(s.get(&a.id).await, cancelled.appointment.unwrap());

    // PENDING -> CANCELLED is allowed too.
    let p = s.cancel(&p.id, "").await.expect("cancel pending").into_inner().appointment.unwrap();
    assert_eq!(p.status, ap::AppointmentStatus::Cancelled as i32);
}

async fn stale_etags_are_refused(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Etag").await;
    let day = booking_day();
    let a = s.book(local(day, 10, 0), "0151 23456789").await;
    let p = s
        .create(ap::CreateAppointmentRequest {
            initial_status: ap::AppointmentStatus::Pending as i32,
            ..s.explicit(s.service(), s.staff(), local(day, 12, 0), "0151 23456789")
        })
        .await
        .appointment
        .unwrap();
    let update = |id: &str, etag: &str, notes: &str| ap::UpdateAppointmentRequest {
        appointment: Some(ap::Appointment {
            id: id.into(),
            etag: etag.into(),
            notes: notes.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["notes".into()] }),
    };
    let a2 = s
        .ap()
        .update_appointment(authed(update(&a.id, &a.etag, "VIP"), s.agent()))
        .await
        .expect("update")
        .into_inner()
        .appointment
        .unwrap();
    assert_ne!(a2.etag, a.etag);
    assert_eq!(a2.notes, "VIP");
    let p2 = s
        .ap()
        .update_appointment(authed(update(&p.id, "", "new"), s.agent()))
        .await
        .expect("update")
        .into_inner()
        .appointment
        .unwrap();

    expect_reason(
        s.ap().update_appointment(authed(update(&a.id, &a.etag, "x"), s.agent())).await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    let cancel = ap::CancelAppointmentRequest {
        id: a.id.clone(),
        request_id: request_id(),
        reason: String::new(),
        etag: a.etag.clone(),
    };
    expect_reason(s.ap().cancel_appointment(authed(cancel, s.agent())).await, Code::Aborted, "ETAG_MISMATCH");
    expect_reason(s.reschedule(&a.id, local(day, 15, 0), &a.etag).await, Code::Aborted, "ETAG_MISMATCH");
    let confirm = ap::ConfirmAppointmentRequest { id: p.id.clone(), etag: p.etag.clone() };
    expect_reason(s.ap().confirm_appointment(authed(confirm, s.agent())).await, Code::Aborted, "ETAG_MISMATCH");
    assert_eq!(s.get(&a.id).await, a2, "nothing changed");
    assert_eq!(s.get(&p.id).await, p2, "nothing changed");
    // The current etag works.
    let moved =
        s.reschedule(&a.id, local(day, 15, 0), &a2.etag).await.expect("current etag").into_inner().appointment.unwrap();
    assert_eq!(secs(&moved.start_time), local(day, 15, 0));
    let confirm = ap::ConfirmAppointmentRequest { id: p.id.clone(), etag: p2.etag.clone() };
    s.ap().confirm_appointment(authed(confirm, s.agent())).await.expect("current etag");
}

async fn create_appointment_is_idempotent_by_request_id(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Idem").await;
    let day = booking_day();
    let request = s.explicit(s.service(), s.staff(), local(day, 10, 0), "0151 23456789");
    let first = s.create(request.clone()).await;
    let second = s.create(request.clone()).await;
    assert_eq!(first, second, "a retry returns the first response");
    let listed = s.list(ap::ListAppointmentsRequest { staff_ids: vec![s.staff().into()], ..Default::default() }).await;
    assert_eq!(ids(&listed), vec![first.appointment.clone().unwrap().id], "one appointment");
    let changed = ap::CreateAppointmentRequest { notes: "different".into(), ..request.clone() };
    expect_reason(s.try_create(changed).await, Code::InvalidArgument, "REQUEST_ID_REUSED");
    let elsewhere = ap::CreateAppointmentRequest {
        slot: s.explicit(s.service(), s.staff(), local(day, 12, 0), "").slot,
        ..request
    };
    expect_reason(s.try_create(elsewhere).await, Code::InvalidArgument, "REQUEST_ID_REUSED");

    // A booking from a hold, retried after it converted the hold, returns the same appointment.
    let hold = s.hold(s.service(), s.staff(), local(day, 14, 0), "call-7").await;
    let from_hold = s.booking_from_hold(&hold.id, "call-7", "0151 23456789");
    let booked = s.create(from_hold.clone()).await;
    assert_eq!(s.create(from_hold).await, booked);
    let listed = s.list(ap::ListAppointmentsRequest { staff_ids: vec![s.staff().into()], ..Default::default() }).await;
    assert_eq!(listed.len(), 2);
}

async fn buffers_block_neighbouring_slots_exactly(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Buffers").await;
    let day = booking_day();
    let color = s
        .add_service(tn::Service {
            display_name: "Colour".into(),
            duration: Some(minutes(45)),
            buffer_before: Some(minutes(15)),
            buffer_after: Some(minutes(10)),
            ..Default::default()
        })
        .await;
    let also_before = s
        .add_service(tn::Service {
            display_name: "Consultation".into(),
            duration: Some(minutes(30)),
            buffer_before: Some(minutes(20)),
            buffer_after: Some(minutes(5)),
            ..Default::default()
        })
        .await;
    let ten = local(day, 10, 0);
    let booked = s.create(s.explicit(&color.id, s.staff(), ten, "0151 23456789")).await.appointment.unwrap();
    assert_eq!(secs(&booked.end_time), ten + 45 * MIN, "buffers are not part of the appointment");
    // B blocks [B.start - B.before - new.after, B.end + B.after + new.before):
    // its own window is [09:45, 10:55).
    let b = (ten - 15 * MIN, ten + 55 * MIN);
    let listed = starts(&s.day_slots(&color.id, &[s.staff()], day).await);
    assert_eq!(listed, expected_free(day, 45, 15, 10, &[b]), "Colour (15 before, 10 after)");
    assert!(listed.contains(&local(day, 8, 45)) && !listed.contains(&local(day, 9, 0)));
    assert!(!listed.contains(&local(day, 11, 0)) && listed.contains(&local(day, 11, 15)));
    assert!(listed.contains(&local(day, 8, 0)), "buffers may reach outside working hours");
    let listed = starts(&s.day_slots(s.service(), &[s.staff()], day).await);
    assert_eq!(listed, expected_free(day, 45, 0, 0, &[b]), "Haircut (no buffers)");
    assert!(listed.contains(&local(day, 9, 0)) && !listed.contains(&local(day, 9, 15)));
    assert!(!listed.contains(&local(day, 10, 45)) && listed.contains(&local(day, 11, 0)));
    let listed = starts(&s.day_slots(&also_before.id, &[s.staff()], day).await);
    assert_eq!(listed, expected_free(day, 30, 20, 5, &[b]), "Consultation (20 before, 5 after)");

    // Booking agrees with listing at the edges.
    expect_reason(
        s.try_create(s.explicit(&color.id, s.staff(), local(day, 9, 0), "0151 11111111")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    expect_reason(
        s.try_create(s.explicit(&color.id, s.staff(), local(day, 11, 0), "0151 11111111")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    expect_reason(
        s.try_create(s.explicit(s.service(), s.staff(), local(day, 9, 15), "0151 11111111")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    expect_reason(
        s.try_create(s.explicit(s.service(), s.staff(), local(day, 10, 45), "0151 11111111")).await,
        Code::AlreadyExists,
        "SLOT_TAKEN",
    );
    s.create(s.explicit(s.service(), s.staff(), local(day, 9, 0), "0151 11111111")).await;
    s.create(s.explicit(&color.id, s.staff(), local(day, 11, 15), "0151 11111111")).await;
}

async fn rescheduling_is_not_blocked_by_the_appointments_own_time(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Shift").await;
    let day = booking_day();
    let a = s.book(local(day, 10, 0), "0151 23456789").await;
    let moved = s
        .reschedule(&a.id, local(day, 10, 15), "")
        .await
        .expect("overlapping its own time")
        .into_inner()
        .appointment
        .unwrap();
    assert_eq!(secs(&moved.start_time), local(day, 10, 15));
    let free = starts(&s.day_slots(s.service(), &[s.staff()], day).await);
    assert_eq!(free, expected_free(day, 45, 0, 0, &[(local(day, 10, 15), local(day, 11, 0))]));
    // Onto someone else's time: SLOT_TAKEN, nothing changes.
    let b = s.book(local(day, 12, 0), "0151 76543210").await;
    let status = expect_reason(s.reschedule(&a.id, local(day, 12, 30), "").await, Code::AlreadyExists, "SLOT_TAKEN");
    assert!(metadata(&status).contains_key("alternative_1_start_time"));
    assert_eq!(s.get(&a.id).await, moved);
    assert_eq!(s.get(&b.id).await, b);
    // Onto unbookable time: FAILED_PRECONDITION.
    expect_reason(s.reschedule(&a.id, local(day, 21, 0), "").await, Code::FailedPrecondition, "FAILED_PRECONDITION");
}

async fn rescheduling_with_a_hold_moves_onto_the_held_slot(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Move Hold").await;
    let day = booking_day();
    let a = s.book(local(day, 10, 0), "0151 23456789").await;
    let hold = s.hold(s.service(), s.staff(), local(day, 15, 0), "call-5").await;
    let request = ap::RescheduleAppointmentRequest {
        id: a.id.clone(),
        request_id: request_id(),
        start_time: None,
        staff_id: String::new(),
        hold: Some(ap::HoldReference { hold_id: hold.id.clone(), hold_key: "call-5".into() }),
        etag: String::new(),
    };
    let wrong_key = ap::RescheduleAppointmentRequest {
        request_id: request_id(),
        hold: Some(ap::HoldReference { hold_id: hold.id.clone(), hold_key: "call-6".into() }),
        ..request.clone()
    };
    expect_reason(
        s.ap().reschedule_appointment(authed(wrong_key, s.agent())).await,
        Code::PermissionDenied,
        "HOLD_NOT_OWNED",
    );
    let moved = s
        .ap()
        .reschedule_appointment(authed(request, s.agent()))
        .await
        .expect("reschedule onto hold")
        .into_inner()
        .appointment
        .unwrap();
    assert_eq!(secs(&moved.start_time), local(day, 15, 0));
    let converted = s.get_hold(&hold.id).await;
    assert_eq!(converted.state, av::HoldState::Converted as i32);
    assert_eq!(converted.appointment_id, a.id);
    let free = starts(&s.day_slots(s.service(), &[s.staff()], day).await);
    assert_eq!(free, expected_free(day, 45, 0, 0, &[(local(day, 15, 0), local(day, 15, 45))]));
}

async fn rescheduling_with_a_hold_and_another_start_time_is_invalid(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Move Mismatch").await;
    let day = booking_day();
    let a = s.book(local(day, 10, 0), "0151 23456789").await;
    let hold = s.hold(s.service(), s.staff(), local(day, 15, 0), "call-5").await;
    let request = ap::RescheduleAppointmentRequest {
        id: a.id.clone(),
        request_id: request_id(),
        start_time: Some(pts(local(day, 17, 0))),
        staff_id: String::new(),
        hold: Some(ap::HoldReference { hold_id: hold.id.clone(), hold_key: "call-5".into() }),
        etag: String::new(),
    };
    let result = s.ap().reschedule_appointment(authed(request, s.agent())).await;
    // The contract: "INVALID_ARGUMENT (INVALID_ARGUMENT) if start_time ... differs from the hold's".
    assert_eq!(
        result.as_ref().err().map(|e| e.code()),
        Some(Code::InvalidArgument),
        "BUG: RescheduleAppointment with a hold and a start_time that differs from the hold's must be \
         INVALID_ARGUMENT; the server ignores start_time and moves to the hold's time: {result:?}"
    );
    assert_eq!(s.get(&a.id).await, a, "BUG: nothing may change on error");
}

async fn listing_appointments_by_time_range_includes_overlapping_ones(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Overlap").await;
    let day = booking_day();
    let ten = local(day, 10, 0);
    let a = s.book(ten, "0151 23456789").await;
    let within = |from: i64, to: i64| ap::ListAppointmentsRequest { time_range: range(from, to), ..Default::default() };
    assert_eq!(ids(&s.list(within(ten, ten + MIN)).await), vec![a.id.clone()]);
    assert!(s.list(within(ten - HOUR, ten)).await.is_empty(), "ends before the appointment starts");
    assert!(s.list(within(ten + 45 * MIN, ten + HOUR)).await.is_empty(), "starts when the appointment ended");
    // The contract: "Only appointments overlapping this range".
    let listed = s.list(within(ten + 15 * MIN, ten + 30 * MIN)).await;
    assert_eq!(
        ids(&listed),
        vec![a.id.clone()],
        "BUG: ListAppointments.time_range must select appointments overlapping the range, but the server \
         filters start_time inside it (store::appointments::list)"
    );
}

// ---------------------------------------------------------------------------
// Tenant isolation.

async fn another_tenant_sees_none_of_the_bookings(server: &common::TestServer) {
    let a = Salon::new(server, "Salon A").await;
    let b = Salon::new(server, "Salon B").await;
    let day = booking_day();
    let appointment = a.book(local(day, 10, 0), "0151 23456789").await;
    let hold = a.hold(a.service(), a.staff(), local(day, 12, 0), "call-a").await;
    let key = b.agent();
    let (mut bav, mut bap) = (b.av(), b.ap());
    let not_found = |result: Result<(), Status>, what: &str| {
        let status = result.expect_err(what);
        assert_eq!(status.code(), Code::NotFound, "{what}: {status:?}");
        assert_eq!(reason(&status), "RESOURCE_NOT_FOUND", "{what}");
    };
    let id = appointment.id.clone();
    not_found(bap.get_appointment(authed(ap::GetAppointmentRequest { id: id.clone() }, key)).await.map(drop), "Get");
    let cancel = ap::CancelAppointmentRequest {
        id: id.clone(),
        request_id: request_id(),
        reason: String::new(),
        etag: String::new(),
    };
    not_found(bap.cancel_appointment(authed(cancel, key)).await.map(drop), "Cancel");
    let reschedule = ap::RescheduleAppointmentRequest {
        id: id.clone(),
        request_id: request_id(),
        start_time: Some(pts(local(day, 15, 0))),
        staff_id: String::new(),
        hold: None,
        etag: String::new(),
    };
    not_found(bap.reschedule_appointment(authed(reschedule, key)).await.map(drop), "Reschedule");
    let confirm = ap::ConfirmAppointmentRequest { id: id.clone(), etag: String::new() };
    not_found(bap.confirm_appointment(authed(confirm, key)).await.map(drop), "Confirm");
    let no_show = ap::MarkNoShowRequest { id: id.clone(), etag: String::new() };
    not_found(bap.mark_no_show(authed(no_show, key)).await.map(drop), "MarkNoShow");
    let complete = ap::CompleteAppointmentRequest { id: id.clone(), etag: String::new() };
    not_found(bap.complete_appointment(authed(complete, key)).await.map(drop), "Complete");
    let update = ap::UpdateAppointmentRequest {
        appointment: Some(ap::Appointment { id: id.clone(), notes: "hijacked".into(), ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["notes".into()] }),
    };
    not_found(bap.update_appointment(authed(update, key)).await.map(drop), "Update");
    let release = av::ReleaseHoldRequest { id: hold.id.clone(), hold_key: "call-a".into() };
    not_found(bav.release_hold(authed(release, key)).await.map(drop), "ReleaseHold");
    not_found(bav.get_hold(authed(av::GetHoldRequest { id: hold.id.clone() }, key)).await.map(drop), "GetHold");
    let extend = av::ExtendHoldRequest { id: hold.id.clone(), hold_key: "call-a".into(), ttl: None };
    not_found(bav.extend_hold(authed(extend, key)).await.map(drop), "ExtendHold");
    not_found(
        b.try_create(b.booking_from_hold(&hold.id, "call-a", "0151 23456789")).await.map(drop),
        "Create from A's hold",
    );
    let slots = a.slots_request(a.service(), &[], midnight(day), midnight(day) + 24 * HOUR);
    not_found(bav.list_available_slots(authed(slots, key)).await.map(drop), "ListAvailableSlots of A's branch");
    let slots = b.slots_request(a.service(), &[], midnight(day), midnight(day) + 24 * HOUR);
    not_found(bav.list_available_slots(authed(slots, key)).await.map(drop), "ListAvailableSlots of A's service");
    let hold_a = av::HoldSlotRequest {
        hold_key: "call-b".into(),
        ..a.hold_request(a.service(), a.staff(), local(day, 14, 0), "x")
    };
    not_found(bav.hold_slot(authed(hold_a, key)).await.map(drop), "HoldSlot in A's branch");
    not_found(
        b.try_create(a.explicit(a.service(), a.staff(), local(day, 14, 0), "0151 23456789")).await.map(drop),
        "Create in A's branch",
    );

    // A's customer is not B's.
    let a_customer = appointment.customer_id.clone();
    let with_a_customer = ap::CreateAppointmentRequest {
        customer: Some(ap::create_appointment_request::Customer::CustomerId(a_customer.clone())),
        ..b.explicit(b.service(), b.staff(), local(day, 16, 0), "")
    };
    not_found(b.try_create(with_a_customer).await.map(drop), "Create for A's customer");
    assert!(b.list(ap::ListAppointmentsRequest { customer_id: a_customer, ..Default::default() }).await.is_empty());

    // Byte for byte the answer for an unknown id.
    let unknown = Uuid::now_v7().to_string();
    let foreign = bap.get_appointment(authed(ap::GetAppointmentRequest { id: id.clone() }, key)).await.unwrap_err();
    let missing =
        bap.get_appointment(authed(ap::GetAppointmentRequest { id: unknown.clone() }, key)).await.unwrap_err();
    assert_eq!((foreign.message(), foreign.details()), (missing.message(), missing.details()));
    let foreign = bav.get_hold(authed(av::GetHoldRequest { id: hold.id.clone() }, key)).await.unwrap_err();
    let missing = bav.get_hold(authed(av::GetHoldRequest { id: unknown }, key)).await.unwrap_err();
    assert_eq!((foreign.message(), foreign.details()), (missing.message(), missing.details()));

    // B's lists hold none of A's rows; A is untouched.
    assert!(b.list(ap::ListAppointmentsRequest::default()).await.is_empty());
    assert!(
        b.list(ap::ListAppointmentsRequest { staff_ids: vec![a.staff().into()], ..Default::default() })
            .await
            .is_empty()
    );
    assert_eq!(a.get(&appointment.id).await, appointment);
    assert_eq!(a.get_hold(&hold.id).await.state, av::HoldState::Active as i32);
    // B's own staff is free at the times A booked: claims are per tenant.
    let b_slots = starts(&b.day_slots(b.service(), &[b.staff()], day).await);
    assert_eq!(b_slots, expected_free(day, 45, 0, 0, &[]));
    b.book(local(day, 10, 0), "0151 23456789").await;
}

// ---------------------------------------------------------------------------
// The change stream.

async fn next_change(
    stream: &mut tonic::Streaming<ap::WatchAppointmentsResponse>,
    what: &str,
) -> ap::WatchAppointmentsResponse {
    tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .unwrap_or_else(|_| panic!("no change within 5 s: {what}"))
        .expect("stream ok")
        .expect("stream open")
}

async fn watchers_receive_their_tenants_changes(server: &common::TestServer) {
    let a = Salon::new(server, "Salon Watch A").await;
    let b = Salon::new(server, "Salon Watch B").await;
    let day = booking_day();
    let mut stream = a
        .ap()
        .watch_appointments(authed(ap::WatchAppointmentsRequest::default(), a.agent()))
        .await
        .expect("watch")
        .into_inner();
    // B's change comes first; A's watcher must skip it.
    b.book(local(day, 9, 0), "0151 23456789").await;
    let created = a.book(local(day, 10, 0), "0151 23456789").await;
    let change = next_change(&mut stream, "created").await;
    assert_eq!(change.change, ap::AppointmentChange::Created as i32);
    assert_eq!(change.appointment.as_ref().unwrap().id, created.id, "the first change is A's, not B's");
    assert_eq!(change.appointment.unwrap(), created);
    assert!(change.change_time.is_some());

    let moved = a.reschedule(&created.id, local(day, 11, 0), "").await.unwrap().into_inner().appointment.unwrap();
    let change = next_change(&mut stream, "rescheduled").await;
    assert_eq!(change.change, ap::AppointmentChange::Rescheduled as i32);
    assert_eq!(change.appointment.unwrap(), moved);

    b.cancel(&b.list(ap::ListAppointmentsRequest::default()).await[0].id, "").await.unwrap();
    let cancelled = a.cancel(&created.id, "no time").await.unwrap().into_inner().appointment.unwrap();
    let change = next_change(&mut stream, "cancelled").await;
    assert_eq!(change.change, ap::AppointmentChange::Cancelled as i32, "B's cancellation is not delivered");
    assert_eq!(change.appointment.unwrap(), cancelled);

    // An unknown or foreign branch is NOT_FOUND, not an empty stream.
    let unknown = ap::WatchAppointmentsRequest { staff_ids: vec![], branch_id: Uuid::now_v7().to_string() };
    expect_code(a.ap().watch_appointments(authed(unknown, a.agent())).await, Code::NotFound);
    let foreign = ap::WatchAppointmentsRequest { staff_ids: vec![], branch_id: b.branch().into() };
    expect_code(a.ap().watch_appointments(authed(foreign, a.agent())).await, Code::NotFound);
}

async fn watching_one_staff_member_sees_an_appointment_moved_away(server: &common::TestServer) {
    let s = Salon::new(server, "Salon Watch Staff").await;
    let ben = s.add_staff(server, "Ben").await;
    let day = booking_day();
    let request = ap::WatchAppointmentsRequest { staff_ids: vec![s.staff().into()], branch_id: String::new() };
    let mut stream = s.ap().watch_appointments(authed(request, s.agent())).await.expect("watch").into_inner();
    let a = s.book(local(day, 10, 0), "0151 23456789").await;
    assert_eq!(next_change(&mut stream, "created").await.appointment.unwrap().id, a.id);
    let move_to_ben = ap::RescheduleAppointmentRequest {
        id: a.id.clone(),
        request_id: request_id(),
        start_time: Some(pts(local(day, 11, 0))),
        staff_id: ben.id.clone(),
        hold: None,
        etag: String::new(),
    };
    let moved = s
        .ap()
        .reschedule_appointment(authed(move_to_ben, s.agent()))
        .await
        .expect("move to Ben")
        .into_inner()
        .appointment
        .unwrap();
    assert_eq!(moved.staff_id, ben.id);
    // The contract: "Only changes to appointments of these staff members (before or after the change)".
    let change = tokio::time::timeout(Duration::from_secs(5), stream.message()).await;
    let delivered = matches!(&change, Ok(Ok(Some(c))) if c.change == ap::AppointmentChange::Rescheduled as i32);
    assert!(
        delivered,
        "BUG: a watcher filtering by staff member must see an appointment moved away from that staff member \
         (WatchAppointmentsRequest.staff_ids: before or after the change); got {change:?}"
    );
}

on_both_databases!(
    voice_agent_finds_holds_books_reschedules_and_cancels,
    slot_local_times_carry_the_branch_offset_and_the_requested_zone,
    slot_search_window_is_required_and_at_most_62_days,
    slot_pages_return_every_slot_once_in_start_then_staff_order,
    listing_slots_for_staff_not_offering_the_service_is_refused,
    listing_slots_for_an_unknown_staff_member_is_not_found,
    slots_follow_berlin_daylight_saving_changes,
    only_the_holder_can_book_or_release_a_hold,
    an_expired_hold_frees_its_slot_and_cannot_be_booked,
    releasing_a_hold_frees_its_slot_and_is_idempotent,
    extending_a_hold_keeps_its_slot,
    a_live_hold_is_booked_without_rechecking_the_hours,
    holding_a_held_slot_is_slot_taken_with_alternatives,
    hold_ttl_must_be_positive_and_at_most_30_minutes,
    hold_slot_is_idempotent_by_request_id,
    holding_an_unbookable_time_fails_precondition,
    explicit_slots_must_be_bookable,
    create_appointment_validates_source_status_and_customer,
    appointment_status_follows_the_state_machine,
    stale_etags_are_refused,
    create_appointment_is_idempotent_by_request_id,
    buffers_block_neighbouring_slots_exactly,
    rescheduling_is_not_blocked_by_the_appointments_own_time,
    rescheduling_with_a_hold_moves_onto_the_held_slot,
    rescheduling_with_a_hold_and_another_start_time_is_invalid,
    listing_appointments_by_time_range_includes_overlapping_ones,
    another_tenant_sees_none_of_the_bookings,
    watchers_receive_their_tenants_changes,
    watching_one_staff_member_sees_an_appointment_moved_away,
);
