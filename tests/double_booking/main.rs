//! No double booking, ever: concurrent bookings and holds of one slot over
//! gRPC (exactly one wins), and random sequences of holds, bookings, cancels
//! and reschedules checked against a model (property test). After each run
//! the appointments, the listed slots and the slot claims in the database are
//! checked for overlaps.

#[path = "../common/mod.rs"]
mod common;
mod concurrency;
mod random_sequences;

use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use askpro::proto::appointment::v1 as ap;
use askpro::proto::availability::v1 as av;
use common::booking::{booking_from_hold, explicit_booking, hold_request, reschedule_request};
use common::salon::{OPEN_HOURS, Salon};
use common::time::{BookingDay, MIN, seconds_of as secs};
use common::{authed, reason, request_id};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tonic::{Code, Status};

const DURATION: i64 = 45 * MIN;
/// Bounds every concurrency test.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Distinct valid German mobile numbers.
fn phone(n: usize) -> String {
    format!("0151 2{:07}", n)
}

/// A salon with two chairs: the harness salon plus a second staff member,
/// Anna and Ben both offering the 45-minute service and working 08:00-20:00
/// daily. Staff are named by index: 0 is Anna, 1 is Ben.
struct TwoChairs {
    salon: Salon,
    staff: Vec<String>,
}

impl Deref for TwoChairs {
    type Target = Salon;

    fn deref(&self) -> &Salon {
        &self.salon
    }
}

impl TwoChairs {
    async fn open(server: &common::TestServer, name: &str) -> TwoChairs {
        let salon = Salon::open(server, name).await;
        let ben = salon.staff_with_hours(server, "Ben", OPEN_HOURS).await;
        let staff = vec![salon.staff().to_owned(), ben.id];
        TwoChairs { salon, staff }
    }

    /// A phone agent's booking of the harness service with staff member `staff`.
    fn booking(&self, staff: usize, start: i64, phone: &str) -> ap::CreateAppointmentRequest {
        ap::CreateAppointmentRequest {
            source: ap::AppointmentSource::PhoneAgent as i32,
            ..explicit_booking(self.branch(), self.service(), &self.staff[staff], start, phone)
        }
    }

    /// A phone agent's booking from a hold.
    fn booking_from(&self, hold_id: &str, key: &str, phone: &str) -> ap::CreateAppointmentRequest {
        ap::CreateAppointmentRequest {
            source: ap::AppointmentSource::PhoneAgent as i32,
            ..booking_from_hold(hold_id, key, phone)
        }
    }

    fn hold_for(&self, staff: usize, start: i64, key: &str) -> av::HoldSlotRequest {
        hold_request(self.branch(), self.service(), &self.staff[staff], start, key)
    }

    fn move_to(&self, id: &str, staff: usize, start: i64) -> ap::RescheduleAppointmentRequest {
        reschedule_request(id, &self.staff[staff], start, "")
    }

    /// Free starts of one staff member on `day`.
    async fn free(&self, staff: usize, day: &BookingDay) -> Vec<i64> {
        self.salon.free_starts(&self.staff[staff], day).await
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
            let page = self.ap().list_appointments(authed(request, self.agent())).await.expect("list").into_inner();
            out.extend(page.appointments);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }

    /// Active, unexpired slot claims of one staff member, read from the store.
    async fn live_claims(&self, server: &common::TestServer, staff: usize) -> Vec<(String, i64, i64)> {
        use askpro::store::entities::slot_claim;
        let staff_id = uuid::Uuid::parse_str(&self.staff[staff]).unwrap();
        let tenant = self.fx.tenant_id();
        let tx = server.state.store.read(tenant).await.unwrap();
        let rows = slot_claim::Entity::find()
            .filter(slot_claim::Column::TenantId.eq(tenant.0))
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
        let tenant = self.fx.tenant_id();
        let tx = server.state.store.read(tenant).await.unwrap();
        let rows = hold::Entity::find()
            .filter(hold::Column::TenantId.eq(tenant.0))
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
