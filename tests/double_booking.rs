//! No double booking, ever: concurrent bookings and holds of one slot over
//! gRPC (exactly one wins), and random sequences of holds, bookings, cancels
//! and reschedules checked against a model (property test). After each run
//! the appointments, the listed slots and the slot claims in the database are
//! checked for overlaps.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use askpro::proto::appointment::v1 as ap;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::availability::v1 as av;
use askpro::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use askpro::proto::tenant::v1 as tn;
use askpro::proto::r#type::v1::TimeRange;
use common::{authed, reason};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tonic::transport::Channel;
use tonic::{Code, Status};
use uuid::Uuid;

const MIN: i64 = 60;
const DURATION: i64 = 45 * MIN;
/// Bounds every concurrency test.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------
// Helpers.

fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").unwrap()
}

/// The Monday after next, in Berlin.
fn booking_day() -> Date {
    let mut day = berlin().to_datetime(jiff::Timestamp::now()).date().tomorrow().unwrap();
    while day.weekday() != Weekday::Monday {
        day = day.tomorrow().unwrap();
    }
    day.checked_add(7.days()).unwrap()
}

fn local(date: Date, hour: i8, minute: i8) -> i64 {
    berlin().to_ambiguous_timestamp(date.at(hour, minute, 0, 0)).compatible().unwrap().as_second()
}

fn pts(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

fn secs(ts: &Option<prost_types::Timestamp>) -> i64 {
    ts.as_ref().expect("timestamp").seconds
}

/// Distinct valid German mobile numbers.
fn phone(n: usize) -> String {
    format!("0151 2{:07}", n)
}

/// A tenant ready for booking: the harness fixture plus a second staff
/// member, both offering the 45-minute service and working 08:00-20:00 daily.
struct Salon {
    fx: common::TenantFixture,
    tenant: Uuid,
    staff: Vec<String>,
    channel: Channel,
}

impl Salon {
    async fn new(server: &common::TestServer, name: &str) -> Salon {
        let fx = server.tenant(name).await;
        let tenant = Uuid::parse_str(&fx.id).unwrap();
        let mut client = server.tenants();
        let ben = client
            .create_staff(authed(
                tn::CreateStaffRequest {
                    request_id: String::new(),
                    staff: Some(tn::Staff {
                        branch_id: fx.branch.id.clone(),
                        display_name: "Ben".into(),
                        service_ids: vec![fx.service.id.clone()],
                        ..Default::default()
                    }),
                },
                &fx.admin,
            ))
            .await
            .expect("second staff member")
            .into_inner()
            .staff
            .unwrap();
        let staff = vec![fx.staff.id.clone(), ben.id];
        let tx = server.state.store.write(askpro::domain::ids::TenantId(tenant)).await.unwrap();
        for id in &staff {
            let week: Vec<_> = (1..=7)
                .map(|day_of_week| askpro::domain::slots::WeeklyInterval {
                    day_of_week,
                    start_minute: 8 * 60,
                    end_minute: 20 * 60,
                })
                .collect();
            askpro::store::working_hours::replace(&tx, Uuid::parse_str(id).unwrap(), &week).await.unwrap();
        }
        tx.commit().await.unwrap();
        Salon { fx, tenant, staff, channel: server.channel.clone() }
    }

    fn agent(&self) -> String {
        self.fx.agent.clone()
    }

    fn av(&self) -> AvailabilityServiceClient<Channel> {
        AvailabilityServiceClient::new(self.channel.clone())
    }

    fn ap(&self) -> AppointmentServiceClient<Channel> {
        AppointmentServiceClient::new(self.channel.clone())
    }

    fn explicit(&self, staff: usize, start: i64, phone: &str) -> ap::CreateAppointmentRequest {
        ap::CreateAppointmentRequest {
            request_id: Uuid::now_v7().to_string(),
            slot: Some(ap::create_appointment_request::Slot::ExplicitSlot(ap::ExplicitSlot {
                service_id: self.fx.service.id.clone(),
                staff_id: self.staff[staff].clone(),
                start_time: Some(pts(start)),
                branch_id: self.fx.branch.id.clone(),
            })),
            customer: Some(ap::create_appointment_request::Customer::NewCustomer(ap::CustomerInput {
                phone_number: phone.into(),
                display_name: String::new(),
                email: String::new(),
            })),
            source: ap::AppointmentSource::PhoneAgent as i32,
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
            ..self.explicit(0, 0, phone)
        }
    }

    fn hold_request(&self, staff: usize, start: i64, key: &str) -> av::HoldSlotRequest {
        av::HoldSlotRequest {
            request_id: Uuid::now_v7().to_string(),
            branch_id: self.fx.branch.id.clone(),
            service_id: self.fx.service.id.clone(),
            staff_id: self.staff[staff].clone(),
            start_time: Some(pts(start)),
            hold_key: key.into(),
            ttl: None,
        }
    }

    fn reschedule_request(&self, id: &str, staff: usize, start: i64) -> ap::RescheduleAppointmentRequest {
        ap::RescheduleAppointmentRequest {
            id: id.into(),
            request_id: Uuid::now_v7().to_string(),
            start_time: Some(pts(start)),
            staff_id: self.staff[staff].clone(),
            hold: None,
            etag: String::new(),
        }
    }

    /// PENDING and CONFIRMED appointments (all pages).
    async fn active_appointments(&self) -> Vec<ap::Appointment> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let request = ap::ListAppointmentsRequest {
                statuses: vec![ap::AppointmentStatus::Pending as i32, ap::AppointmentStatus::Confirmed as i32],
                page_size: 500,
                page_token: token,
                ..Default::default()
            };
            let page = self.ap().list_appointments(authed(request, &self.agent())).await.expect("list").into_inner();
            out.extend(page.appointments);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }

    /// Free starts of one staff member on `day`.
    async fn free_starts(&self, staff: usize, day: Date) -> Vec<i64> {
        let from = local(day, 0, 0);
        let to = local(day.tomorrow().unwrap(), 0, 0);
        let request = av::ListAvailableSlotsRequest {
            branch_id: self.fx.branch.id.clone(),
            service_id: self.fx.service.id.clone(),
            staff_ids: vec![self.staff[staff].clone()],
            time_range: Some(TimeRange { start_time: Some(pts(from)), end_time: Some(pts(to)) }),
            time_zone: String::new(),
            page_size: 1000,
            page_token: String::new(),
        };
        let slots = self.av().list_available_slots(authed(request, &self.agent())).await.expect("slots").into_inner();
        slots.slots.iter().map(|s| secs(&s.start_time)).collect()
    }

    /// Active, unexpired slot claims of one staff member, read from the store.
    async fn live_claims(&self, server: &common::TestServer, staff: usize) -> Vec<(String, i64, i64)> {
        use askpro::store::entities::slot_claim;
        let staff_id = Uuid::parse_str(&self.staff[staff]).unwrap();
        let tx = server.state.store.read(askpro::domain::ids::TenantId(self.tenant)).await.unwrap();
        let rows = slot_claim::Entity::find()
            .filter(slot_claim::Column::TenantId.eq(self.tenant))
            .filter(slot_claim::Column::StaffId.eq(staff_id))
            .filter(slot_claim::Column::Active.eq(true))
            .all(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let now = chrono::Utc::now();
        rows.into_iter()
            .filter(|r| r.expire_time.is_none_or(|at| at > now))
            .map(|r| (r.kind, r.block_start.timestamp(), r.block_end.timestamp()))
            .collect()
    }

    /// Holds of the tenant in the store that are active and not expired.
    async fn live_holds(&self, server: &common::TestServer) -> usize {
        use askpro::store::entities::hold;
        let tx = server.state.store.read(askpro::domain::ids::TenantId(self.tenant)).await.unwrap();
        let rows = hold::Entity::find()
            .filter(hold::Column::TenantId.eq(self.tenant))
            .filter(hold::Column::State.eq("active"))
            .all(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let now = chrono::Utc::now();
        rows.iter().filter(|r| r.expire_time > now).count()
    }

    /// The no-double-booking invariant, checked three ways: active
    /// appointments per staff member, the database's live claims per staff
    /// member, and (by the caller) what ListAvailableSlots offers.
    async fn assert_no_overlaps(&self, server: &common::TestServer) -> Result<(), String> {
        let active = self.active_appointments().await;
        for (i, a) in active.iter().enumerate() {
            for b in &active[i + 1..] {
                let overlap = secs(&a.start_time) < secs(&b.end_time) && secs(&b.start_time) < secs(&a.end_time);
                if a.staff_id == b.staff_id && overlap {
                    return Err(format!("double booking: {a:?} and {b:?}"));
                }
            }
        }
        for staff in 0..self.staff.len() {
            let claims = self.live_claims(server, staff).await;
            for (i, a) in claims.iter().enumerate() {
                for b in &claims[i + 1..] {
                    if a.1 < b.2 && b.1 < a.2 {
                        return Err(format!("overlapping live claims of staff {staff}: {a:?} and {b:?}"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Waits for every task; a panicked task fails the test.
async fn join_all<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.expect("task panicked"));
    }
    out
}

/// Splits results into winners and losers; every loser must have lost for an
/// allowed reason (`allowed`: code and ErrorInfo reason).
#[track_caller]
fn winners<T: std::fmt::Debug>(results: Vec<Result<T, Status>>, allowed: &[(Code, &str)]) -> Vec<T> {
    let mut won = Vec::new();
    for result in results {
        match result {
            Ok(value) => won.push(value),
            Err(status) => {
                let ok = allowed.iter().any(|(code, why)| status.code() == *code && reason(&status) == *why);
                assert!(ok, "unexpected failure: {status:?}");
            }
        }
    }
    won
}

const SLOT_TAKEN: (Code, &str) = (Code::AlreadyExists, "SLOT_TAKEN");
const RETRY: (Code, &str) = (Code::Aborted, "CONCURRENT_MODIFICATION");

// ---------------------------------------------------------------------------
// Concurrency over gRPC.

async fn double_booking_is_rejected_under_concurrency(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = Salon::new(server, "Salon Rush").await;
        let day = booking_day();
        let ten = local(day, 10, 0);

        // 200 callers book 10:00 with Anna at once.
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let mut client = s.ap();
                let request = authed(s.explicit(0, ten, &phone(n)), &s.agent());
                tokio::spawn(async move { client.create_appointment(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        let won = winners(join_all(tasks).await, &[SLOT_TAKEN, RETRY]);
        assert_eq!(won.len(), 1, "exactly one of 200 concurrent bookings succeeds");
        let winner = won[0].appointment.clone().unwrap();
        let active = s.active_appointments().await;
        assert_eq!(active.len(), 1, "one active appointment: {active:?}");
        assert_eq!(active[0].id, winner.id);
        assert_eq!((secs(&active[0].start_time), active[0].staff_id.as_str()), (ten, s.staff[0].as_str()));
        assert!(!s.free_starts(0, day).await.contains(&ten));
        assert_eq!(s.live_claims(server, 0).await.len(), 1, "one claim in the database");

        // 200 callers hold 14:00 with Anna at once.
        let two = local(day, 14, 0);
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let mut client = s.av();
                let request = authed(s.hold_request(0, two, &format!("call-{n}")), &s.agent());
                tokio::spawn(async move { client.hold_slot(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        let won = winners(join_all(tasks).await, &[SLOT_TAKEN, RETRY]);
        assert_eq!(won.len(), 1, "exactly one of 200 concurrent holds succeeds");
        assert_eq!(s.live_holds(server).await, 1, "one live hold in the database");
        assert!(!s.free_starts(0, day).await.contains(&two));
        assert_eq!(s.live_claims(server, 0).await.len(), 2);
        s.assert_no_overlaps(server).await.unwrap();
        // Ben was never touched.
        assert!(s.free_starts(1, day).await.contains(&ten) && s.free_starts(1, day).await.contains(&two));
    })
    .await
    .expect("finishes within 120 s");
}

async fn concurrent_holds_and_bookings_of_one_slot_have_one_winner(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = Salon::new(server, "Salon Mixed").await;
        let day = booking_day();
        let four = local(day, 16, 0);
        let mut holds = Vec::new();
        let mut books = Vec::new();
        for n in 0..100 {
            let mut client = s.av();
            let request = authed(s.hold_request(1, four, &format!("call-{n}")), &s.agent());
            holds.push(tokio::spawn(async move { client.hold_slot(request).await.map(|r| r.into_inner()) }));
            let mut client = s.ap();
            let request = authed(s.explicit(1, four, &phone(n)), &s.agent());
            books.push(tokio::spawn(async move { client.create_appointment(request).await.map(|r| r.into_inner()) }));
        }
        let holds = winners(join_all(holds).await, &[SLOT_TAKEN, RETRY]);
        let books = winners(join_all(books).await, &[SLOT_TAKEN, RETRY]);
        assert_eq!(holds.len() + books.len(), 1, "one winner among holds and bookings: {holds:?} {books:?}");
        assert_eq!(s.active_appointments().await.len(), books.len());
        assert_eq!(s.live_holds(server).await, holds.len());
        assert_eq!(s.live_claims(server, 1).await.len(), 1);
        s.assert_no_overlaps(server).await.unwrap();
    })
    .await
    .expect("finishes within 120 s");
}

async fn concurrent_overlapping_bookings_never_overlap(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = Salon::new(server, "Salon Stagger").await;
        let day = booking_day();
        // 12:00, 12:15, 12:30, 12:45, 13:00: 45-minute appointments, so at most
        // 12:00 with 12:45, or 12:15 with 13:00, can both win.
        let starts: Vec<i64> = (0..5).map(|k| local(day, 12, 0) + k * 15 * MIN).collect();
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let mut client = s.ap();
                let request = authed(s.explicit(0, starts[n % starts.len()], &phone(n)), &s.agent());
                tokio::spawn(async move { client.create_appointment(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        let won = winners(join_all(tasks).await, &[SLOT_TAKEN, RETRY]);
        assert!(!won.is_empty() && won.len() <= 2, "one or two winners: {won:?}");
        assert_eq!(s.active_appointments().await.len(), won.len());
        s.assert_no_overlaps(server).await.unwrap();
    })
    .await
    .expect("finishes within 120 s");
}

async fn a_hold_is_booked_at_most_once_under_concurrency(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = Salon::new(server, "Salon One Hold").await;
        let day = booking_day();
        let mut client = s.av();
        let hold = client
            .hold_slot(authed(s.hold_request(0, local(day, 11, 0), "call-1"), &s.agent()))
            .await
            .expect("hold")
            .into_inner()
            .hold
            .unwrap();
        let tasks: Vec<_> = (0..50)
            .map(|n| {
                let mut client = s.ap();
                let request = authed(s.booking_from_hold(&hold.id, "call-1", &phone(n)), &s.agent());
                tokio::spawn(async move { client.create_appointment(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        // Losers see the hold converted (HOLD_EXPIRED) or, racing the
        // conversion on PostgreSQL, the appointment's claim (SLOT_TAKEN).
        let won = winners(join_all(tasks).await, &[(Code::FailedPrecondition, "HOLD_EXPIRED"), SLOT_TAKEN, RETRY]);
        assert_eq!(won.len(), 1, "a hold becomes one appointment");
        let active = s.active_appointments().await;
        assert_eq!(active.len(), 1);
        let converted = client
            .get_hold(authed(av::GetHoldRequest { id: hold.id.clone() }, &s.agent()))
            .await
            .unwrap()
            .into_inner()
            .hold
            .unwrap();
        assert_eq!(converted.state, av::HoldState::Converted as i32);
        assert_eq!(converted.appointment_id, active[0].id);
        s.assert_no_overlaps(server).await.unwrap();
    })
    .await
    .expect("finishes within 120 s");
}

async fn concurrent_retries_of_one_request_create_one_appointment(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = Salon::new(server, "Salon Retry").await;
        let day = booking_day();
        let request = s.explicit(0, local(day, 9, 0), &phone(1));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let mut client = s.ap();
                let request = authed(request.clone(), &s.agent());
                tokio::spawn(async move { client.create_appointment(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        let won = winners(join_all(tasks).await, &[RETRY]);
        assert!(!won.is_empty());
        let id = won[0].appointment.as_ref().unwrap().id.clone();
        assert!(
            won.iter().all(|r| r.appointment.as_ref().unwrap().id == id),
            "every retry answers the same appointment"
        );
        let active = s.active_appointments().await;
        assert_eq!(active.len(), 1, "{active:?}");
        assert_eq!(active[0].id, id);
    })
    .await
    .expect("finishes within 120 s");
}

async fn concurrent_reschedules_into_one_slot_have_one_winner(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = Salon::new(server, "Salon Moves").await;
        let day = booking_day();
        // 24 appointments, 12 each for Anna and Ben: 08:00, 08:45, ... 16:15.
        let mut ids = Vec::new();
        for k in 0..24 {
            let start = local(day, 8, 0) + (k / 2) as i64 * DURATION;
            let mut client = s.ap();
            let created = client
                .create_appointment(authed(s.explicit(k % 2, start, &phone(k)), &s.agent()))
                .await
                .expect("book")
                .into_inner();
            ids.push(created.appointment.unwrap().id);
        }
        // All move at once to Anna at 18:00, 18:15 or 18:30: pairwise
        // overlapping times, so exactly one move can succeed.
        let targets: Vec<i64> = (0..3).map(|k| local(day, 18, 0) + k * 15 * MIN).collect();
        let tasks: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                let mut client = s.ap();
                let request = authed(s.reschedule_request(id, 0, targets[n % 3]), &s.agent());
                tokio::spawn(async move { client.reschedule_appointment(request).await.map(|r| r.into_inner()) })
            })
            .collect();
        let won = winners(join_all(tasks).await, &[SLOT_TAKEN, RETRY]);
        assert_eq!(won.len(), 1, "one appointment moves to 18:00-18:30");
        let active = s.active_appointments().await;
        assert_eq!(active.len(), 24, "moves never lose an appointment");
        let moved: Vec<_> = active.iter().filter(|a| targets.contains(&secs(&a.start_time))).collect();
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].staff_id, s.staff[0]);
        // One claim per appointment: the winner's old time was given up.
        let mut claims: Vec<_> = s.live_claims(server, 0).await;
        claims.extend(s.live_claims(server, 1).await);
        assert_eq!(claims.len(), 24, "one claim per appointment");
        s.assert_no_overlaps(server).await.unwrap();
    })
    .await
    .expect("finishes within 120 s");
}

/// A booking naming an existing customer and that customer's deletion, run
/// at the same time, never leave a deleted customer with an active
/// appointment: either the booking wins and the deletion is refused, or the
/// deletion wins and the booking finds no customer.
async fn a_booking_and_a_deletion_of_its_customer_never_interleave(server: &common::TestServer) {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let s = Salon::new(server, "Salon Loeschen").await;
        let day = booking_day();
        for round in 0..16usize {
            let customer = s
                .ap()
                .create_customer(authed(
                    ap::CreateCustomerRequest {
                        request_id: Uuid::now_v7().to_string(),
                        customer: Some(ap::Customer { phone_number: phone(9000 + round), ..Default::default() }),
                        region_code: String::new(),
                    },
                    &s.agent(),
                ))
                .await
                .expect("customer")
                .into_inner()
                .customer
                .expect("customer");
            let mut booking = s.explicit(round % 2, local(day, 8 + (round / 2) as i8, 0), "");
            booking.customer = Some(ap::create_appointment_request::Customer::CustomerId(customer.id.clone()));
            let mut ap_client = s.ap();
            let agent = s.agent();
            let book = tokio::spawn(async move { ap_client.create_appointment(authed(booking, &agent)).await });
            let mut ap_client = s.ap();
            let admin = s.fx.admin.clone();
            let id = customer.id.clone();
            let delete = tokio::spawn(async move {
                ap_client.delete_customer(authed(ap::DeleteCustomerRequest { id, etag: String::new() }, &admin)).await
            });
            let (booked, deleted) = (book.await.unwrap(), delete.await.unwrap());
            match (&booked, &deleted) {
                (Ok(_), Err(status)) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
                (Err(status), Ok(_)) => assert_eq!(status.code(), Code::NotFound, "{status:?}"),
                _ => panic!("round {round}: exactly one may win: booked {booked:?}, deleted {deleted:?}"),
            }
        }
    })
    .await
    .expect("finishes within 120 s");
}

on_both_databases!(
    double_booking_is_rejected_under_concurrency,
    a_booking_and_a_deletion_of_its_customer_never_interleave,
    concurrent_holds_and_bookings_of_one_slot_have_one_winner,
    concurrent_overlapping_bookings_never_overlap,
    a_hold_is_booked_at_most_once_under_concurrency,
    concurrent_retries_of_one_request_create_one_appointment,
    concurrent_reschedules_into_one_slot_have_one_winner,
);

// ---------------------------------------------------------------------------
// Property test: random sequences against a model.

/// Candidate starts: 09:00, 09:30, ... 12:30. With 45-minute appointments
/// neighbours overlap, so conflicts are frequent.
const SLOTS: usize = 8;
const STAFF: usize = 2;

#[derive(Clone, Debug)]
enum Op {
    Hold { staff: usize, slot: usize },
    BookFromHold { hold: usize },
    BookExplicit { staff: usize, slot: usize },
    Cancel { appointment: usize },
    Reschedule { appointment: usize, staff: usize, slot: usize },
    Release { hold: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..STAFF, 0..SLOTS).prop_map(|(staff, slot)| Op::Hold { staff, slot }),
        2 => (0..16usize).prop_map(|hold| Op::BookFromHold { hold }),
        3 => (0..STAFF, 0..SLOTS).prop_map(|(staff, slot)| Op::BookExplicit { staff, slot }),
        1 => (0..16usize).prop_map(|appointment| Op::Cancel { appointment }),
        2 => (0..16usize, 0..STAFF, 0..SLOTS)
            .prop_map(|(appointment, staff, slot)| Op::Reschedule { appointment, staff, slot }),
        1 => (0..16usize).prop_map(|hold| Op::Release { hold }),
    ]
}

#[derive(Debug)]
struct ModelHold {
    id: String,
    key: String,
    staff: usize,
    start: i64,
    live: bool,
}

#[derive(Debug)]
struct ModelAppointment {
    id: String,
    staff: usize,
    start: i64,
    active: bool,
}

#[derive(Debug, Default)]
struct Model {
    holds: Vec<ModelHold>,
    appointments: Vec<ModelAppointment>,
}

impl Model {
    /// Whether `staff` is free for `[start, start + 45 min)`, ignoring the appointment `except`.
    fn free(&self, staff: usize, start: i64, except: Option<&str>) -> bool {
        let clash = |other: i64| (other - start).abs() < DURATION;
        !self.holds.iter().any(|h| h.live && h.staff == staff && clash(h.start))
            && !self
                .appointments
                .iter()
                .any(|a| a.active && a.staff == staff && Some(a.id.as_str()) != except && clash(a.start))
    }
}

/// Checks a call's outcome against the model's prediction.
fn outcome<T>(
    step: usize,
    op: &Op,
    result: Result<T, Status>,
    expect: Result<(), (Code, &str)>,
) -> Result<Option<T>, String> {
    match (result, expect) {
        (Ok(value), Ok(())) => Ok(Some(value)),
        (Err(status), Err((code, why))) if status.code() == code && reason(&status) == why => Ok(None),
        (Ok(_), Err(expected)) => Err(format!("step {step} {op:?}: expected {expected:?}, but it succeeded")),
        (Err(status), expected) => Err(format!("step {step} {op:?}: expected {expected:?}, got {status:?}")),
    }
}

async fn run_case(server: &common::TestServer, case: usize, ops: Vec<Op>) -> Result<(), String> {
    let s = Salon::new(server, &format!("Salon Prop {case}")).await;
    let day = booking_day();
    let slot = |j: usize| local(day, 9, 0) + j as i64 * 30 * MIN;
    let key = s.agent();
    let (mut avc, mut apc) = (s.av(), s.ap());
    let mut model = Model::default();
    for (step, op) in ops.iter().enumerate() {
        let phone = phone(step % 3);
        match *op {
            Op::Hold { staff, slot: j } => {
                let hold_key = format!("call-{step}");
                let result = avc.hold_slot(authed(s.hold_request(staff, slot(j), &hold_key), &key)).await;
                let expect = if model.free(staff, slot(j), None) { Ok(()) } else { Err(SLOT_TAKEN) };
                if let Some(response) = outcome(step, op, result, expect)? {
                    let hold = response.into_inner().hold.unwrap();
                    model.holds.push(ModelHold { id: hold.id, key: hold_key, staff, start: slot(j), live: true });
                }
            }
            Op::BookFromHold { hold } => {
                let Some(index) = (!model.holds.is_empty()).then(|| hold % model.holds.len()) else { continue };
                let h = &model.holds[index];
                let result = apc.create_appointment(authed(s.booking_from_hold(&h.id, &h.key, &phone), &key)).await;
                let expect = if h.live { Ok(()) } else { Err((Code::FailedPrecondition, "HOLD_EXPIRED")) };
                if let Some(response) = outcome(step, op, result, expect)? {
                    let a = response.into_inner().appointment.unwrap();
                    let (staff, start) = (h.staff, h.start);
                    if (secs(&a.start_time), a.staff_id.as_str()) != (start, s.staff[staff].as_str()) {
                        return Err(format!("step {step}: the appointment is not at the held time: {a:?}"));
                    }
                    model.holds[index].live = false;
                    model.appointments.push(ModelAppointment { id: a.id, staff, start, active: true });
                }
            }
            Op::BookExplicit { staff, slot: j } => {
                let result = apc.create_appointment(authed(s.explicit(staff, slot(j), &phone), &key)).await;
                let expect = if model.free(staff, slot(j), None) { Ok(()) } else { Err(SLOT_TAKEN) };
                if let Some(response) = outcome(step, op, result, expect)? {
                    let a = response.into_inner().appointment.unwrap();
                    model.appointments.push(ModelAppointment { id: a.id, staff, start: slot(j), active: true });
                }
            }
            Op::Cancel { appointment } => {
                let Some(index) = (!model.appointments.is_empty()).then(|| appointment % model.appointments.len())
                else {
                    continue;
                };
                let a = &model.appointments[index];
                let request = ap::CancelAppointmentRequest {
                    id: a.id.clone(),
                    request_id: Uuid::now_v7().to_string(),
                    reason: "property test".into(),
                    etag: String::new(),
                };
                let result = apc.cancel_appointment(authed(request, &key)).await;
                let expect =
                    if a.active { Ok(()) } else { Err((Code::FailedPrecondition, "ILLEGAL_STATE_TRANSITION")) };
                if outcome(step, op, result, expect)?.is_some() {
                    model.appointments[index].active = false;
                }
            }
            Op::Reschedule { appointment, staff, slot: j } => {
                let Some(index) = (!model.appointments.is_empty()).then(|| appointment % model.appointments.len())
                else {
                    continue;
                };
                let a = &model.appointments[index];
                let result =
                    apc.reschedule_appointment(authed(s.reschedule_request(&a.id, staff, slot(j)), &key)).await;
                let expect = if !a.active {
                    Err((Code::FailedPrecondition, "ILLEGAL_STATE_TRANSITION"))
                } else if model.free(staff, slot(j), Some(&a.id)) {
                    Ok(())
                } else {
                    Err(SLOT_TAKEN)
                };
                if outcome(step, op, result, expect)?.is_some() {
                    model.appointments[index].staff = staff;
                    model.appointments[index].start = slot(j);
                }
            }
            Op::Release { hold } => {
                let Some(index) = (!model.holds.is_empty()).then(|| hold % model.holds.len()) else { continue };
                let h = &model.holds[index];
                let request = av::ReleaseHoldRequest { id: h.id.clone(), hold_key: h.key.clone() };
                let result = avc.release_hold(authed(request, &key)).await;
                outcome(step, op, result, Ok(()))?;
                model.holds[index].live = false;
            }
        }
    }

    // The invariant: no overlapping active appointments or live claims per staff member.
    s.assert_no_overlaps(server).await?;
    // The server's appointments are the model's.
    let mut listed: Vec<(String, String, i64)> = s
        .active_appointments()
        .await
        .into_iter()
        .map(|a| (a.id.clone(), a.staff_id.clone(), secs(&a.start_time)))
        .collect();
    let mut expected: Vec<(String, String, i64)> = model
        .appointments
        .iter()
        .filter(|a| a.active)
        .map(|a| (a.id.clone(), s.staff[a.staff].clone(), a.start))
        .collect();
    listed.sort();
    expected.sort();
    if listed != expected {
        return Err(format!("active appointments differ from the model:\n server {listed:?}\n model  {expected:?}"));
    }
    // ListAvailableSlots offers a candidate exactly when the model says it is free.
    for staff in 0..STAFF {
        let free = s.free_starts(staff, day).await;
        for j in 0..SLOTS {
            if free.contains(&slot(j)) != model.free(staff, slot(j), None) {
                return Err(format!(
                    "staff {staff} slot {j}: listed free = {}, model free = {}; model {model:?}",
                    free.contains(&slot(j)),
                    model.free(staff, slot(j), None)
                ));
            }
        }
    }
    Ok(())
}

fn random_sequences_never_double_book(backend: common::Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let Some(server) = runtime.block_on(common::TestServer::start(backend)) else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the property test on PostgreSQL");
        return;
    };
    let config =
        ProptestConfig { cases: 12, max_shrink_iters: 64, failure_persistence: None, ..ProptestConfig::with_cases(12) };
    let mut runner = TestRunner::new(config);
    let cases = AtomicUsize::new(0);
    let result = runner.run(&proptest::collection::vec(op(), 1..=30), |ops| {
        let case = cases.fetch_add(1, Ordering::Relaxed);
        runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(60), run_case(&server, case, ops)).await })
            .map_err(|_| TestCaseError::fail("a case took longer than 60 s"))?
            .map_err(TestCaseError::fail)
    });
    runtime.block_on(server.stop());
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn random_sequences_never_double_book_sqlite() {
    random_sequences_never_double_book(common::Backend::Sqlite);
}

#[test]
fn random_sequences_never_double_book_postgres() {
    random_sequences_never_double_book(common::Backend::Postgres);
}
