//! The measured operations: three baselines (a trivial gRPC call, a raw
//! single-row insert transaction and the booking floor, see `floor`) and the five calls the seed made claims
//! about. Each builds one `Caller` per concurrent task; callers share only
//! the read-only workload and, for CreateAppointment, the queue of free slots.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use async_trait::async_trait;
use jiff::ToSpan;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use serde::Serialize;

use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use uuid::Uuid;

use super::credentials::Credentials;
use super::database::SCRATCH_TABLE;
use super::floor::BookingFloor;
use super::layout::{self, BOOKED_SERVICE};
use super::runner::{Caller, Failure};
use super::seed::Fixture;
use crate::proto::appointment::v1 as appointment_pb;
use crate::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use crate::proto::availability::v1 as availability_pb;
use crate::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use crate::proto::r#type::v1 as types;
use crate::store::Store;

/// The operations, baselines first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    HealthCheck,
    RawInsert,
    BookingFloor,
    CreateAppointment,
    ListAvailableSlots,
    FindCustomerByPhone,
    ListAppointments,
    GetDashboardStats,
}

impl Op {
    pub const ALL: [Op; 8] = [
        Op::HealthCheck,
        Op::RawInsert,
        Op::BookingFloor,
        Op::CreateAppointment,
        Op::ListAvailableSlots,
        Op::FindCustomerByPhone,
        Op::ListAppointments,
        Op::GetDashboardStats,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::HealthCheck => "health Check",
            Op::RawInsert => "raw insert tx",
            Op::BookingFloor => "booking floor tx",
            Op::CreateAppointment => "CreateAppointment",
            Op::ListAvailableSlots => "ListAvailableSlots",
            Op::FindCustomerByPhone => "FindCustomerByPhone",
            Op::ListAppointments => "ListAppointments",
            Op::GetDashboardStats => "GetDashboardStats",
        }
    }

    pub fn is_baseline(self) -> bool {
        matches!(self, Op::HealthCheck | Op::RawInsert | Op::BookingFloor)
    }

    /// Whether the calls go to the server over gRPC; the others run in the
    /// bench process on a store of its own (in-process: the server's),
    /// straight to the database, so their cpu and rss are this process's.
    pub fn goes_through_server(self) -> bool {
        !matches!(self, Op::RawInsert | Op::BookingFloor)
    }

    /// What one call does, and what "items" counts.
    pub fn description(self) -> &'static str {
        match self {
            Op::HealthCheck => "grpc.health.v1 Check of the server (no key, no database); items: 1",
            Op::RawInsert => {
                "BEGIN; INSERT one row into bench_scratch; COMMIT, on the store's pool (in-process: the server's), no gRPC; items: 1"
            }
            Op::BookingFloor => {
                "a tenant transaction writing a booking's four rows (claim, appointment, outbox event, idempotency \
                 record) and one notification in one statement, through the store (in-process: the server's), no gRPC, no \
                 reads; items: 1"
            }
            Op::CreateAppointment => {
                "explicit 30-min slot 30-89 days ahead, each call a distinct free one; 3 of 4 for an existing \
                 customer_id, 1 of 4 new_customer by phone; items: 1"
            }
            Op::ListAvailableSlots => {
                "one staff member, 7 days from a random day in the next 23, 30-min service, page_size 1000; \
                 items: slots returned"
            }
            Op::FindCustomerByPhone => {
                "a random seeded customer's number in national form (0151...); items: upcoming appointments returned"
            }
            Op::ListAppointments => "one random staff member, a random 30-day range, page_size 50; items: appointments",
            Op::GetDashboardStats => {
                "period WEEK around a random seeded date, whole tenant; items: appointments counted"
            }
        }
    }
}

/// What the callers share: connections, the tenant's key and ids, and the
/// random choices' ranges, precomputed so calls spend no time on them.
pub struct Workload {
    channels: Vec<Channel>,
    credentials: Credentials,
    store: Store,
    db: DatabaseConnection,
    fixture: Arc<Fixture>,
    /// The booking floor: the next half hour to claim.
    next_floor_slot: Arc<AtomicU64>,
    /// CreateAppointment: the next unused entry of `fixture.free_slots`.
    next_slot: AtomicUsize,
    /// CreateAppointment: numbers for new customers, distinct per run.
    next_phone: AtomicU64,
    /// ListAvailableSlots: [local midnight, 7 days later) from today + 0..=22.
    slot_windows: Vec<(i64, i64)>,
    /// ListAppointments: 30-day ranges starting on each seeded day.
    month_windows: Vec<(i64, i64)>,
    /// GetDashboardStats: every seeded local date.
    seeded_dates: Vec<types::LocalDate>,
}

impl Workload {
    pub fn new(
        channels: Vec<Channel>,
        credentials: Credentials,
        store: Store,
        fixture: Arc<Fixture>,
    ) -> anyhow::Result<Self> {
        let db = store.connection().clone();
        let tz = &fixture.time_zone;
        let midnight = |date: jiff::civil::Date| layout::instant(tz, date, 0);
        let mut slot_windows = Vec::new();
        for offset in 0..=22i64 {
            let date = fixture.today.checked_add(offset.days())?;
            slot_windows.push((midnight(date)?, midnight(date.checked_add(7.days())?)?));
        }
        let last_day = fixture.today.checked_add(layout::LAST_SEEDED_DAY.days())?;
        let mut month_windows = Vec::new();
        let mut seeded_dates = Vec::new();
        let mut date = fixture.first_day;
        while date <= last_day {
            let month_end = date.checked_add(30.days())?;
            if month_end <= last_day.checked_add(1.day())? || month_windows.is_empty() {
                month_windows.push((midnight(date)?, midnight(month_end)?));
            }
            seeded_dates.push(types::LocalDate {
                year: i32::from(date.year()),
                month: i32::from(date.month()),
                day: i32::from(date.day()),
            });
            date = date.tomorrow()?;
        }
        // Distinct from the seeded +49151 numbers, and from earlier runs
        // against the same target server.
        let next_phone = AtomicU64::new(jiff::Timestamp::now().as_millisecond().unsigned_abs() % 50_000_000);
        Ok(Self {
            channels,
            credentials,
            store,
            db,
            fixture,
            next_floor_slot: Arc::new(AtomicU64::new(0)),
            next_slot: AtomicUsize::new(0),
            next_phone,
            slot_windows,
            month_windows,
            seeded_dates,
        })
    }

    /// One caller of `op` for task `index`.
    pub fn caller(self: &Arc<Self>, op: Op, index: usize) -> Box<dyn Caller> {
        let channel = self.channels[index % self.channels.len()].clone();
        let rng = StdRng::seed_from_u64(0x5eed ^ ((index as u64) << 8) ^ (op as u64));
        let workload = Arc::clone(self);
        match op {
            Op::HealthCheck => Box::new(HealthCheck { client: HealthClient::new(channel) }),
            Op::RawInsert => Box::new(RawInsert::new(self.db.clone())),
            Op::BookingFloor => {
                Box::new(BookingFloor::new(self.store.clone(), self.fixture.clone(), self.next_floor_slot.clone()))
            }
            Op::CreateAppointment => {
                Box::new(CreateAppointment { client: AppointmentServiceClient::new(channel), workload, rng })
            }
            Op::ListAvailableSlots => {
                Box::new(ListAvailableSlots { client: AvailabilityServiceClient::new(channel), workload, rng })
            }
            Op::FindCustomerByPhone => {
                Box::new(FindCustomerByPhone { client: AppointmentServiceClient::new(channel), workload, rng })
            }
            Op::ListAppointments => {
                Box::new(ListAppointments { client: AppointmentServiceClient::new(channel), workload, rng })
            }
            Op::GetDashboardStats => {
                Box::new(GetDashboardStats { client: AppointmentServiceClient::new(channel), workload, rng })
            }
        }
    }

    /// How many free slots CreateAppointment has used so far.
    pub fn slots_used(&self) -> usize {
        self.next_slot.load(Ordering::Relaxed).min(self.fixture.free_slots.len())
    }
}

/// Counts a failed call by its code, plus the ErrorInfo reason when it says more.
impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        use tonic_types::StatusExt;
        let code = code_name(status.code());
        let reason = status.get_error_details().error_info().map(|info| info.reason.clone()).unwrap_or_default();
        if reason.is_empty() || reason == code {
            Failure::new(code)
        } else {
            Failure::new(format!("{code} ({reason})"))
        }
    }
}

fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

fn timestamp(unix_seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: unix_seconds, nanos: 0 }
}

fn time_range((start, end): (i64, i64)) -> types::TimeRange {
    types::TimeRange { start_time: Some(timestamp(start)), end_time: Some(timestamp(end)) }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> Result<&'a T, Failure> {
    if items.is_empty() {
        return Err(Failure { label: "nothing seeded to pick from".into(), exhausted: true });
    }
    Ok(&items[rng.random_range(0..items.len())])
}

struct HealthCheck {
    client: HealthClient<Channel>,
}

#[async_trait]
impl Caller for HealthCheck {
    async fn call(&mut self) -> Result<u64, Failure> {
        self.client.check(HealthCheckRequest { service: String::new() }).await?;
        Ok(1)
    }
}

/// The database's own cost of a durable write: one transaction with one
/// small row, on the same pool the server uses.
struct RawInsert {
    db: DatabaseConnection,
    sql: String,
    backend: DbBackend,
}

impl RawInsert {
    fn new(db: DatabaseConnection) -> Self {
        let backend = db.get_database_backend();
        let placeholders = if backend == DbBackend::Postgres { "$1, $2" } else { "?, ?" };
        let sql = format!("INSERT INTO {SCRATCH_TABLE} (id, payload) VALUES ({placeholders})");
        Self { db, sql, backend }
    }
}

fn database_failure(err: sea_orm::DbErr) -> Failure {
    let status = Status::from(crate::store::classify_db_error(err));
    Failure::new(format!("{} (database)", code_name(status.code())))
}

#[async_trait]
impl Caller for RawInsert {
    async fn call(&mut self) -> Result<u64, Failure> {
        let txn = self.db.begin().await.map_err(database_failure)?;
        let values: [sea_orm::Value; 2] = [Uuid::now_v7().into(), "a single bench row, about forty bytes".into()];
        txn.execute_raw(Statement::from_sql_and_values(self.backend, &self.sql, values))
            .await
            .map_err(database_failure)?;
        txn.commit().await.map_err(database_failure)?;
        Ok(1)
    }
}

struct CreateAppointment {
    client: AppointmentServiceClient<Channel>,
    workload: Arc<Workload>,
    rng: StdRng,
}

#[async_trait]
impl Caller for CreateAppointment {
    async fn call(&mut self) -> Result<u64, Failure> {
        use appointment_pb::create_appointment_request::{Customer, Slot};
        let w = &self.workload;
        let index = w.next_slot.fetch_add(1, Ordering::Relaxed);
        let Some(&(staff_id, start)) = w.fixture.free_slots.get(index) else {
            return Err(Failure { label: "free slots used up".into(), exhausted: true });
        };
        // Mostly returning callers; every fourth is new and found or created by number.
        let customer = if index % 4 == 3 {
            let number = w.next_phone.fetch_add(1, Ordering::Relaxed) % 100_000_000;
            Customer::NewCustomer(appointment_pb::CustomerInput {
                phone_number: format!("0157 {number:08}"),
                display_name: format!("Neukunde {index}"),
                email: String::new(),
            })
        } else {
            Customer::CustomerId(pick(&mut self.rng, &w.fixture.customer_ids)?.to_string())
        };
        let request = appointment_pb::CreateAppointmentRequest {
            request_id: Uuid::now_v7().to_string(),
            slot: Some(Slot::ExplicitSlot(appointment_pb::ExplicitSlot {
                service_id: w.fixture.service_ids[BOOKED_SERVICE].to_string(),
                staff_id: staff_id.to_string(),
                start_time: Some(timestamp(start)),
                branch_id: w.fixture.branch_id.to_string(),
            })),
            customer: Some(customer),
            source: appointment_pb::AppointmentSource::PhoneAgent as i32,
            notes: String::new(),
            call_id: format!("bench-{index}"),
            initial_status: appointment_pb::AppointmentStatus::Confirmed as i32,
        };
        self.client.create_appointment(w.credentials.request(request)).await?;
        Ok(1)
    }
}

struct ListAvailableSlots {
    client: AvailabilityServiceClient<Channel>,
    workload: Arc<Workload>,
    rng: StdRng,
}

#[async_trait]
impl Caller for ListAvailableSlots {
    async fn call(&mut self) -> Result<u64, Failure> {
        let w = &self.workload;
        let staff_id = pick(&mut self.rng, &w.fixture.staff_ids)?;
        let window = *pick(&mut self.rng, &w.slot_windows)?;
        let request = availability_pb::ListAvailableSlotsRequest {
            branch_id: w.fixture.branch_id.to_string(),
            service_id: w.fixture.service_ids[BOOKED_SERVICE].to_string(),
            staff_ids: vec![staff_id.to_string()],
            time_range: Some(time_range(window)),
            time_zone: String::new(),
            page_size: 1000,
            page_token: String::new(),
        };
        let response = self.client.list_available_slots(w.credentials.request(request)).await?.into_inner();
        Ok(response.slots.len() as u64)
    }
}

struct FindCustomerByPhone {
    client: AppointmentServiceClient<Channel>,
    workload: Arc<Workload>,
    rng: StdRng,
}

#[async_trait]
impl Caller for FindCustomerByPhone {
    async fn call(&mut self) -> Result<u64, Failure> {
        let w = &self.workload;
        let phone_number = pick(&mut self.rng, &w.fixture.customer_phones)?.clone();
        let request = appointment_pb::FindCustomerByPhoneRequest { phone_number, branch_id: String::new() };
        let response = self.client.find_customer_by_phone(w.credentials.request(request)).await?.into_inner();
        Ok(response.upcoming_appointments.len() as u64)
    }
}

struct ListAppointments {
    client: AppointmentServiceClient<Channel>,
    workload: Arc<Workload>,
    rng: StdRng,
}

#[async_trait]
impl Caller for ListAppointments {
    async fn call(&mut self) -> Result<u64, Failure> {
        let w = &self.workload;
        let staff_id = pick(&mut self.rng, &w.fixture.staff_ids)?;
        let window = *pick(&mut self.rng, &w.month_windows)?;
        let request = appointment_pb::ListAppointmentsRequest {
            time_range: Some(time_range(window)),
            staff_ids: vec![staff_id.to_string()],
            page_size: 50,
            ..Default::default()
        };
        let response = self.client.list_appointments(w.credentials.request(request)).await?.into_inner();
        Ok(response.appointments.len() as u64)
    }
}

struct GetDashboardStats {
    client: AppointmentServiceClient<Channel>,
    workload: Arc<Workload>,
    rng: StdRng,
}

#[async_trait]
impl Caller for GetDashboardStats {
    async fn call(&mut self) -> Result<u64, Failure> {
        let w = &self.workload;
        let date = *pick(&mut self.rng, &w.seeded_dates)?;
        let request = appointment_pb::GetDashboardStatsRequest {
            date: Some(date),
            period: appointment_pb::StatsPeriod::Week as i32,
            branch_id: String::new(),
        };
        let response = self.client.get_dashboard_stats(w.credentials.request(request)).await?.into_inner();
        Ok(response.appointment_counts.map(|c| c.total.max(0) as u64).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::phone::PhoneNumber;
    use crate::domain::validate::RegionCode;

    #[test]
    fn new_customer_numbers_are_valid_german_mobile_numbers() {
        let de = RegionCode::parse("DE").expect("region");
        for number in [0u64, 12_345_678, 99_999_999] {
            assert!(PhoneNumber::parse(&format!("0157 {number:08}"), &de).is_ok(), "{number}");
        }
    }
}
