//! Working hours and time off keep the promises of their proto comments: a
//! week is replaced whole and validated whole, etags guard it, time off is
//! created once per request_id, lists filter and page exactly, other tenants'
//! ids are NOT_FOUND, and schedule changes report the appointments they strand.

#[path = "../common/mod.rs"]
mod common;
mod schedule_changes;
mod time_off;
mod working_hours;

use askpro::proto::availability::v1 as pb;
use askpro::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use askpro::proto::availability::v1::time_off::Kind;
use askpro::proto::tenant::v1 as tenant_pb;
use askpro::proto::r#type::v1 as types;
use askpro::store::all_set;
use askpro::store::entities::{appointment, customer};
use askpro::store::working_hours::WeeklyInterval;
use askpro::store::{time_off as time_off_store, working_hours as working_hours_store};
use chrono::{DateTime, Utc};
use common::time::local_time;
use common::{TestServer, authed, expect_code, reason, sorted, violated_fields};
use prost_types::Timestamp;
use sea_orm::EntityTrait;
use tonic::Code;
use tonic::transport::Channel;
use types::DayOfWeek::{Monday, Sunday, Tuesday, Wednesday};
use uuid::Uuid;

type Client = AvailabilityServiceClient<Channel>;

/// An interval from whole or half hours, e.g. `hours(9.0, 12.5)` is 09:00-12:30.
fn hours(start: f64, end: f64) -> types::LocalTimeInterval {
    let at = |h: f64| local_time(h.trunc() as i32, ((h.fract()) * 60.0).round() as i32);
    types::LocalTimeInterval { start_time: at(start), end_time: at(end) }
}

fn raw(start: (i32, i32), end: (i32, i32)) -> types::LocalTimeInterval {
    types::LocalTimeInterval { start_time: local_time(start.0, start.1), end_time: local_time(end.0, end.1) }
}

fn day(day: types::DayOfWeek, intervals: Vec<types::LocalTimeInterval>) -> pb::DayHours {
    pb::DayHours { day_of_week: day as i32, intervals }
}

fn instant(text: &str) -> DateTime<Utc> {
    text.parse().expect("RFC 3339 instant")
}

fn ts(text: &str) -> Option<Timestamp> {
    let at = instant(text);
    Some(Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 })
}

fn absence(staff_id: &str, start: &str, end: &str, why: &str) -> pb::TimeOff {
    pb::TimeOff {
        staff_id: staff_id.into(),
        kind: Some(Kind::Absence(types::TimeRange { start_time: ts(start), end_time: ts(end) })),
        reason: why.into(),
        ..Default::default()
    }
}

fn date_override(
    staff_id: &str,
    (year, month, day): (i32, i32, i32),
    intervals: Vec<types::LocalTimeInterval>,
) -> pb::TimeOff {
    pb::TimeOff {
        staff_id: staff_id.into(),
        kind: Some(Kind::DateOverride(pb::DateOverride {
            date: Some(types::LocalDate { year, month, day }),
            intervals,
        })),
        ..Default::default()
    }
}

async fn create_time_off(
    client: &mut Client,
    key: &str,
    request_id: &str,
    time_off: pb::TimeOff,
) -> pb::CreateTimeOffResponse {
    client
        .create_time_off(authed(
            pb::CreateTimeOffRequest { request_id: request_id.into(), time_off: Some(time_off) },
            key,
        ))
        .await
        .expect("create time off")
        .into_inner()
}

async fn set_week(
    client: &mut Client,
    key: &str,
    staff_id: &str,
    days: Vec<pb::DayHours>,
) -> pb::SetWorkingHoursResponse {
    client
        .set_working_hours(authed(
            pb::SetWorkingHoursRequest { staff_id: staff_id.into(), days, etag: String::new() },
            key,
        ))
        .await
        .expect("set working hours")
        .into_inner()
}

async fn list_all(client: &mut Client, key: &str, request: pb::ListTimeOffRequest) -> Vec<pb::TimeOff> {
    client.list_time_off(authed(request, key)).await.expect("list time off").into_inner().time_off
}

fn ids(entries: &[pb::TimeOff]) -> Vec<String> {
    entries.iter().map(|t| t.id.clone()).collect()
}

/// A second staff member of the fixture's branch, made through the API.
async fn second_staff(server: &TestServer, fixture: &common::TenantFixture, name: &str) -> String {
    server
        .tenants()
        .create_staff(authed(
            tenant_pb::CreateStaffRequest {
                request_id: String::new(),
                staff: Some(tenant_pb::Staff {
                    branch_id: fixture.branch.id.clone(),
                    display_name: name.into(),
                    ..Default::default()
                }),
            },
            &fixture.admin,
        ))
        .await
        .expect("create staff")
        .into_inner()
        .staff
        .expect("staff")
        .id
}

/// Books an appointment straight into the store: the booking RPCs are not
/// what is under test here, only that schedule changes notice appointments.
async fn book(server: &TestServer, fixture: &common::TenantFixture, start: &str, end: &str, status: &str) -> String {
    let tenant = fixture.tenant_id();
    let tx = server.state.store.write(tenant).await.expect("write tx");
    // Written past the repositories: the caches forget the tenant.
    tx.changed(|c| c.everything = true);
    let at = Utc::now();
    let customer_id = Uuid::now_v7();
    customer::Entity::insert(all_set::<customer::ActiveModel, _>(customer::Model {
        tenant_id: tenant.0,
        id: customer_id,
        // The low bits of a UUIDv7 are random: distinct numbers per test.
        phone_number: format!("+4930{:08}", customer_id.as_u128() % 100_000_000),
        display_name: "Kim".into(),
        email: String::new(),
        notes: String::new(),
        revision: 1,
        create_time: at,
        update_time: at,
        delete_time: None,
    }))
    .exec_without_returning(tx.conn())
    .await
    .expect("insert customer");
    let id = Uuid::now_v7();
    appointment::Entity::insert(all_set::<appointment::ActiveModel, _>(appointment::Model {
        tenant_id: tenant.0,
        id,
        branch_id: fixture.branch.id.parse().expect("branch id"),
        service_id: fixture.service.id.parse().expect("service id"),
        staff_id: fixture.staff.id.parse().expect("staff id"),
        customer_id,
        start_time: instant(start),
        end_time: instant(end),
        status: status.into(),
        source: "api".into(),
        notes: String::new(),
        cancel_reason: String::new(),
        call_id: String::new(),
        external_booking_uid: String::new(),
        revision: 1,
        create_time: at,
        update_time: at,
    }))
    .exec_without_returning(tx.conn())
    .await
    .expect("insert appointment");
    tx.commit().await.expect("commit");
    id.to_string()
}
