//! Customers and the dashboard keep the promises of the appointment proto:
//! every spelling of a phone number is one customer, creates are idempotent,
//! validation reports every bad field, etags guard updates and deletes, lists
//! page by name, a caller finds only their own tenant's customers, and the
//! dashboard counts by local day, ISO week and month.

#[path = "../common/mod.rs"]
mod common;
mod creation;
mod dashboard;
mod listing;
mod update_and_delete;

use askpro::proto::appointment::v1 as pb;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::tenant::v1 as tenant_pb;
use askpro::proto::r#type::v1::LocalDate;
use askpro::store::entities::{appointment, time_off};
use askpro::store::working_hours::WeeklyInterval;
use chrono::{DateTime, Duration, Utc};
use common::{TenantFixture, TestServer, authed, error_metadata, expect_code, mask, reason, sorted, violated_fields};
use sea_orm::EntityTrait;
use tonic::Code;
use tonic::transport::Channel;
use uuid::Uuid;

type Client = AppointmentServiceClient<Channel>;

const NUMBER: &str = "+4915123456789";
const SPELLINGS: [&str; 3] = ["0151 23456789", "+49 151 23456789", "0049151 23456789"];

fn customer_input(phone: &str, name: &str) -> pb::Customer {
    pb::Customer { phone_number: phone.into(), display_name: name.into(), ..Default::default() }
}

async fn create_customer(client: &mut Client, key: &str, phone: &str, name: &str) -> pb::Customer {
    client
        .create_customer(authed(
            pb::CreateCustomerRequest {
                request_id: String::new(),
                customer: Some(customer_input(phone, name)),
                region_code: String::new(),
            },
            key,
        ))
        .await
        .expect("create customer")
        .into_inner()
        .customer
        .expect("customer")
}

/// The ids ListCustomers returns for `query` (first page of 50).
async fn list_ids(client: &mut Client, key: &str, query: &str) -> Result<Vec<String>, tonic::Status> {
    let request = pb::ListCustomersRequest { query: query.into(), page_size: 0, page_token: String::new() };
    let response = client.list_customers(authed(request, key)).await?.into_inner();
    Ok(response.customers.into_iter().map(|c| c.id).collect())
}

async fn find(
    client: &mut Client,
    key: &str,
    phone: &str,
    branch_id: &str,
) -> Result<pb::FindCustomerByPhoneResponse, tonic::Status> {
    client
        .find_customer_by_phone(authed(
            pb::FindCustomerByPhoneRequest { phone_number: phone.into(), branch_id: branch_id.into() },
            key,
        ))
        .await
        .map(tonic::Response::into_inner)
}

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("uuid")
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("RFC 3339").with_timezone(&Utc)
}

/// Where and for whom a test appointment is.
struct Booking<'a> {
    branch_id: &'a str,
    staff_id: &'a str,
    customer_id: &'a str,
}

/// Writes an appointment row through the repository, past the booking
/// rules: these tests are about reading appointments, not booking them.
async fn insert_appointment(
    server: &TestServer,
    fixture: &TenantFixture,
    booking: &Booking<'_>,
    start: DateTime<Utc>,
    minutes: i64,
    status: &str,
) -> Uuid {
    let now = Utc::now();
    let row = appointment::Model {
        tenant_id: uuid(&fixture.id),
        id: Uuid::now_v7(),
        branch_id: uuid(booking.branch_id),
        service_id: uuid(&fixture.service.id),
        staff_id: uuid(booking.staff_id),
        customer_id: uuid(booking.customer_id),
        start_time: start,
        end_time: start + Duration::minutes(minutes),
        status: status.into(),
        source: "frontend".into(),
        notes: String::new(),
        cancel_reason: String::new(),
        call_id: String::new(),
        external_booking_uid: String::new(),
        revision: 1,
        create_time: now,
        update_time: now,
    };
    let id = row.id;
    let tx = server.state.store.write(fixture.tenant_id()).await.expect("write tx");
    askpro::store::appointments::insert(&tx, &row);
    tx.commit().await.expect("commit");
    id
}

async fn stats(
    client: &mut Client,
    key: &str,
    date: (i32, i32, i32),
    period: pb::StatsPeriod,
    branch_id: &str,
) -> Result<pb::GetDashboardStatsResponse, tonic::Status> {
    let (year, month, day) = date;
    client
        .get_dashboard_stats(authed(
            pb::GetDashboardStatsRequest {
                date: Some(LocalDate { year, month, day }),
                period: period as i32,
                branch_id: branch_id.into(),
            },
            key,
        ))
        .await
        .map(tonic::Response::into_inner)
}
