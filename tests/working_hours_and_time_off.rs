//! Working hours and time off keep the promises of their proto comments: a
//! week is replaced whole and validated whole, etags guard it, time off is
//! created once per request_id, lists filter and page exactly, other tenants'
//! ids are NOT_FOUND, and schedule changes report the appointments they strand.
mod common;

use askpro::domain::ids::TenantId;
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
use common::{TestServer, authed, expect_code, reason, violated_fields};
use prost_types::Timestamp;
use sea_orm::EntityTrait;
use tonic::Code;
use tonic::transport::Channel;
use types::DayOfWeek::{Monday, Sunday, Tuesday, Wednesday};
use uuid::Uuid;

type Client = AvailabilityServiceClient<Channel>;

// ---------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------

fn client(server: &TestServer) -> Client {
    AvailabilityServiceClient::new(server.channel.clone())
}

fn time(hours: i32, minutes: i32) -> Option<types::LocalTime> {
    Some(types::LocalTime { hours, minutes })
}

/// An interval from whole or half hours, e.g. `hours(9.0, 12.5)` is 09:00-12:30.
fn hours(start: f64, end: f64) -> types::LocalTimeInterval {
    let at = |h: f64| time(h.trunc() as i32, ((h.fract()) * 60.0).round() as i32);
    types::LocalTimeInterval { start_time: at(start), end_time: at(end) }
}

fn raw(start: (i32, i32), end: (i32, i32)) -> types::LocalTimeInterval {
    types::LocalTimeInterval { start_time: time(start.0, start.1), end_time: time(end.0, end.1) }
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

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

fn tenant_id(fixture: &common::TenantFixture) -> TenantId {
    TenantId(Uuid::parse_str(&fixture.id).expect("tenant id"))
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
    let tenant = tenant_id(fixture);
    let tx = server.state.store.write(tenant).await.expect("write tx");
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

// ---------------------------------------------------------------------------
// Working hours
// ---------------------------------------------------------------------------

async fn working_hours_round_trip_with_two_intervals_a_day(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    let get = |c: &mut Client, key: &str| {
        let request = authed(pb::GetWorkingHoursRequest { staff_id: t.staff.id.clone() }, key);
        let mut c = c.clone();
        async move {
            c.get_working_hours(request).await.expect("get working hours").into_inner().working_hours.expect("hours")
        }
    };

    let never_set = get(&mut c, &t.reader).await;
    assert!(never_set.days.is_empty(), "no days if never set");
    assert!(never_set.update_time.is_none());
    assert!(never_set.etag.starts_with('"') && never_set.etag.ends_with('"'), "{}", never_set.etag);

    // Days and intervals in any order on input ...
    let stored = set_week(
        &mut c,
        &t.admin,
        &t.staff.id,
        vec![
            day(Wednesday, vec![hours(15.0, 19.0), hours(10.0, 14.0)]),
            day(Monday, vec![hours(9.0, 12.0), hours(13.0, 17.5)]),
            day(Sunday, vec![]),
        ],
    )
    .await;
    let hours_out = stored.working_hours.expect("working hours");
    // ... come back sorted, Monday first, without the day off.
    assert_eq!(hours_out.staff_id, t.staff.id);
    assert_eq!(
        hours_out.days,
        vec![
            day(Monday, vec![hours(9.0, 12.0), hours(13.0, 17.5)]),
            day(Wednesday, vec![hours(10.0, 14.0), hours(15.0, 19.0)]),
        ]
    );
    assert!(hours_out.update_time.is_some());
    assert_ne!(hours_out.etag, never_set.etag);
    assert!(stored.conflicting_appointment_ids.is_empty());
    assert_eq!(get(&mut c, &t.reader).await, hours_out, "a read-only key reads what was stored");

    // Adjacent intervals act as one; 24:00 ends a day.
    let joined = set_week(
        &mut c,
        &t.admin,
        &t.staff.id,
        vec![day(Tuesday, vec![hours(12.0, 13.0), hours(9.0, 12.0), raw((20, 0), (24, 0))])],
    )
    .await
    .working_hours
    .expect("working hours");
    assert_eq!(joined.days, vec![day(Tuesday, vec![hours(9.0, 13.0), raw((20, 0), (24, 0))])]);

    // An empty week clears the hours.
    let cleared = set_week(&mut c, &t.admin, &t.staff.id, vec![]).await.working_hours.expect("working hours");
    assert!(cleared.days.is_empty());
    assert!(get(&mut c, &t.admin).await.days.is_empty());
}

async fn set_working_hours_reports_every_bad_field_at_once(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    let eleven: Vec<_> = (0..11).map(|h| hours(f64::from(h), f64::from(h) + 0.5)).collect();
    let request = pb::SetWorkingHoursRequest {
        staff_id: "not-a-uuid".into(),
        days: vec![
            pb::DayHours { day_of_week: 0, intervals: vec![hours(9.0, 10.0)] },
            day(
                Monday,
                vec![
                    raw((10, 0), (9, 0)),
                    raw((24, 0), (24, 0)),
                    raw((8, 0), (8, 60)),
                    raw((-1, 0), (25, 0)),
                    types::LocalTimeInterval { start_time: None, end_time: time(12, 0) },
                ],
            ),
            day(Monday, vec![hours(9.0, 10.0)]),
            pb::DayHours { day_of_week: 9, intervals: vec![] },
            day(Tuesday, eleven),
        ],
        etag: String::new(),
    };
    let status = expect_code(c.set_working_hours(authed(request, &t.admin)).await, Code::InvalidArgument);
    assert_eq!(reason(&status), "INVALID_ARGUMENT");
    assert_eq!(
        sorted(violated_fields(&status)),
        sorted(
            [
                "staff_id",
                "days[0].day_of_week",
                "days[1].intervals[0].end_time",
                "days[1].intervals[1].start_time",
                "days[1].intervals[2].end_time",
                "days[1].intervals[3].start_time",
                "days[1].intervals[3].end_time",
                "days[1].intervals[4].start_time",
                "days[2].day_of_week",
                "days[3].day_of_week",
                "days[4].intervals",
            ]
            .map(String::from)
            .to_vec()
        )
    );
}

async fn overlapping_intervals_are_refused(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(9.0, 17.0)])]).await;
    let request = pb::SetWorkingHoursRequest {
        staff_id: t.staff.id.clone(),
        days: vec![
            day(Monday, vec![hours(9.0, 12.0), hours(11.0, 13.0)]),
            // One interval inside a long one, with another between them.
            day(Tuesday, vec![hours(8.0, 18.0), hours(9.0, 10.0), hours(12.0, 13.0)]),
        ],
        etag: String::new(),
    };
    let status = expect_code(c.set_working_hours(authed(request, &t.admin)).await, Code::InvalidArgument);
    assert_eq!(
        sorted(violated_fields(&status)),
        sorted(vec!["days[0].intervals[1]".into(), "days[1].intervals[1]".into(), "days[1].intervals[2]".into()])
    );
    // Nothing was written.
    let kept = c
        .get_working_hours(authed(pb::GetWorkingHoursRequest { staff_id: t.staff.id.clone() }, &t.admin))
        .await
        .expect("get")
        .into_inner()
        .working_hours
        .expect("hours");
    assert_eq!(kept.days, vec![day(Monday, vec![hours(9.0, 17.0)])]);
}

async fn a_stale_etag_is_aborted(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    let first = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(9.0, 17.0)])])
        .await
        .working_hours
        .expect("hours");
    let with_etag = |etag: &str, days: Vec<pb::DayHours>| pb::SetWorkingHoursRequest {
        staff_id: t.staff.id.clone(),
        days,
        etag: etag.into(),
    };
    // The current etag lets the change through and yields a new one.
    let second = c
        .set_working_hours(authed(with_etag(&first.etag, vec![day(Monday, vec![hours(10.0, 18.0)])]), &t.admin))
        .await
        .expect("set with current etag")
        .into_inner()
        .working_hours
        .expect("hours");
    assert_ne!(second.etag, first.etag);
    // The first etag is stale now.
    let status =
        expect_code(c.set_working_hours(authed(with_etag(&first.etag, vec![]), &t.admin)).await, Code::Aborted);
    assert_eq!(reason(&status), "ETAG_MISMATCH");
    let status =
        expect_code(c.set_working_hours(authed(with_etag("\"bogus\"", vec![]), &t.admin)).await, Code::Aborted);
    assert_eq!(reason(&status), "ETAG_MISMATCH");
    let current = c
        .get_working_hours(authed(pb::GetWorkingHoursRequest { staff_id: t.staff.id.clone() }, &t.admin))
        .await
        .expect("get")
        .into_inner()
        .working_hours
        .expect("hours");
    assert_eq!(current.etag, second.etag, "the refused calls changed nothing");
    assert_eq!(current.days, second.days);
}

async fn a_read_only_key_cannot_change_schedules(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    for key in [&t.reader, &t.agent] {
        let set = pb::SetWorkingHoursRequest { staff_id: t.staff.id.clone(), days: vec![], etag: String::new() };
        let status = expect_code(c.set_working_hours(authed(set, key)).await, Code::PermissionDenied);
        assert_eq!(reason(&status), "SCOPE_INSUFFICIENT");
        let create = pb::CreateTimeOffRequest {
            request_id: String::new(),
            time_off: Some(absence(&t.staff.id, "2030-06-03T08:00:00Z", "2030-06-03T09:00:00Z", "")),
        };
        expect_code(c.create_time_off(authed(create, key)).await, Code::PermissionDenied);
    }
    let entry =
        create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2030-06-03T08:00:00Z", "2030-06-03T09:00:00Z", ""))
            .await
            .time_off
            .expect("time off");
    expect_code(
        c.delete_time_off(authed(pb::DeleteTimeOffRequest { id: entry.id.clone() }, &t.reader)).await,
        Code::PermissionDenied,
    );
    // Reads are allowed.
    c.get_time_off(authed(pb::GetTimeOffRequest { id: entry.id.clone() }, &t.reader)).await.expect("reader gets");
    assert_eq!(list_all(&mut c, &t.reader, pb::ListTimeOffRequest::default()).await.len(), 1);
}

// ---------------------------------------------------------------------------
// Tenancy
// ---------------------------------------------------------------------------

async fn another_tenants_ids_are_not_found(server: &TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let mut c = client(server);
    set_week(&mut c, &a.admin, &a.staff.id, vec![day(Monday, vec![hours(9.0, 17.0)])]).await;
    let entry =
        create_time_off(&mut c, &a.admin, "", absence(&a.staff.id, "2030-06-03T08:00:00Z", "2030-06-03T09:00:00Z", ""))
            .await
            .time_off
            .expect("time off");
    let not_found = |status: tonic::Status| {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    };
    let unknown = Uuid::now_v7().to_string();
    for staff_id in [&a.staff.id, &unknown] {
        not_found(
            c.get_working_hours(authed(pb::GetWorkingHoursRequest { staff_id: staff_id.clone() }, &b.admin))
                .await
                .unwrap_err(),
        );
        not_found(
            c.set_working_hours(authed(
                pb::SetWorkingHoursRequest { staff_id: staff_id.clone(), days: vec![], etag: String::new() },
                &b.admin,
            ))
            .await
            .unwrap_err(),
        );
        let create = pb::CreateTimeOffRequest {
            request_id: String::new(),
            time_off: Some(absence(staff_id, "2030-06-04T08:00:00Z", "2030-06-04T09:00:00Z", "")),
        };
        not_found(c.create_time_off(authed(create, &b.admin)).await.unwrap_err());
        let list = pb::ListTimeOffRequest { staff_id: staff_id.clone(), ..Default::default() };
        not_found(c.list_time_off(authed(list, &b.admin)).await.unwrap_err());
    }
    for id in [&entry.id, &unknown] {
        not_found(c.get_time_off(authed(pb::GetTimeOffRequest { id: id.clone() }, &b.admin)).await.unwrap_err());
        not_found(c.delete_time_off(authed(pb::DeleteTimeOffRequest { id: id.clone() }, &b.admin)).await.unwrap_err());
    }
    assert!(list_all(&mut c, &b.admin, pb::ListTimeOffRequest::default()).await.is_empty());

    // A's data is untouched.
    let still = c
        .get_time_off(authed(pb::GetTimeOffRequest { id: entry.id.clone() }, &a.admin))
        .await
        .expect("a still has its time off")
        .into_inner()
        .time_off
        .expect("time off");
    assert_eq!(still, entry);
    let week = c
        .get_working_hours(authed(pb::GetWorkingHoursRequest { staff_id: a.staff.id.clone() }, &a.admin))
        .await
        .expect("get")
        .into_inner()
        .working_hours
        .expect("hours");
    assert_eq!(week.days, vec![day(Monday, vec![hours(9.0, 17.0)])]);
}

// ---------------------------------------------------------------------------
// Time off
// ---------------------------------------------------------------------------

async fn time_off_absences_and_overrides_are_created_and_read_back(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    let vacation = create_time_off(
        &mut c,
        &t.admin,
        "vacation-1",
        absence(&t.staff.id, "2030-07-01T00:00:00Z", "2030-07-15T00:00:00Z", "  Vacation "),
    )
    .await;
    let vacation = vacation.time_off.expect("time off");
    assert!(Uuid::parse_str(&vacation.id).is_ok());
    assert_eq!(vacation.staff_id, t.staff.id);
    assert_eq!(vacation.reason, "Vacation", "the reason is trimmed");
    assert!(vacation.create_time.is_some());
    assert_eq!(
        vacation.kind,
        Some(Kind::Absence(types::TimeRange {
            start_time: ts("2030-07-01T00:00:00Z"),
            end_time: ts("2030-07-15T00:00:00Z")
        }))
    );

    // Intervals come back sorted and joined; 24:00 is kept as the end.
    let short_day = create_time_off(
        &mut c,
        &t.admin,
        "",
        date_override(&t.staff.id, (2030, 12, 24), vec![raw((20, 0), (24, 0)), hours(10.0, 11.0), hours(9.0, 10.0)]),
    )
    .await
    .time_off
    .expect("time off");
    assert_eq!(
        short_day.kind,
        Some(Kind::DateOverride(pb::DateOverride {
            date: Some(types::LocalDate { year: 2030, month: 12, day: 24 }),
            intervals: vec![hours(9.0, 11.0), raw((20, 0), (24, 0))],
        }))
    );
    // An empty override closes the day.
    let closed = create_time_off(&mut c, &t.admin, "", date_override(&t.staff.id, (2030, 12, 25), vec![]))
        .await
        .time_off
        .expect("time off");

    for entry in [&vacation, &short_day, &closed] {
        let read = c
            .get_time_off(authed(pb::GetTimeOffRequest { id: entry.id.clone() }, &t.reader))
            .await
            .expect("get time off")
            .into_inner()
            .time_off
            .expect("time off");
        assert_eq!(&read, entry);
    }

    // One override per staff member and date.
    let again = pb::CreateTimeOffRequest {
        request_id: String::new(),
        time_off: Some(date_override(&t.staff.id, (2030, 12, 24), vec![hours(9.0, 10.0)])),
    };
    let status = expect_code(c.create_time_off(authed(again, &t.admin)).await, Code::AlreadyExists);
    assert_eq!(reason(&status), "RESOURCE_EXISTS");
    // Absences may overlap each other freely.
    create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2030-07-10T00:00:00Z", "2030-07-20T00:00:00Z", ""))
        .await;
}

async fn create_time_off_is_idempotent_by_request_id(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    let entry = absence(&t.staff.id, "2030-07-01T00:00:00Z", "2030-07-02T00:00:00Z", "Training");
    let first = create_time_off(&mut c, &t.admin, "req-1", entry.clone()).await;
    let retry = create_time_off(&mut c, &t.admin, "req-1", entry.clone()).await;
    assert_eq!(retry, first, "a retry returns the first call's result");

    let changed = pb::TimeOff { reason: "Something else".into(), ..entry.clone() };
    let status = expect_code(
        c.create_time_off(authed(
            pb::CreateTimeOffRequest { request_id: "req-1".into(), time_off: Some(changed) },
            &t.admin,
        ))
        .await,
        Code::InvalidArgument,
    );
    assert_eq!(reason(&status), "REQUEST_ID_REUSED");

    // An override retried after success is not "already exists".
    let holiday = date_override(&t.staff.id, (2030, 12, 24), vec![]);
    let first_override = create_time_off(&mut c, &t.admin, "req-2", holiday.clone()).await;
    assert_eq!(create_time_off(&mut c, &t.admin, "req-2", holiday).await, first_override);

    assert_eq!(list_all(&mut c, &t.admin, pb::ListTimeOffRequest::default()).await.len(), 2);
}

async fn create_time_off_reports_every_bad_field_at_once(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    let fields_of = |time_off: pb::TimeOff| {
        let mut c = c.clone();
        let key = t.admin.clone();
        async move {
            let request = pb::CreateTimeOffRequest { request_id: String::new(), time_off: Some(time_off) };
            let status = expect_code(c.create_time_off(authed(request, &key)).await, Code::InvalidArgument);
            assert_eq!(reason(&status), "INVALID_ARGUMENT");
            sorted(violated_fields(&status))
        }
    };
    let strings = |names: &[&str]| sorted(names.iter().map(|n| n.to_string()).collect());

    let no_kind = pb::TimeOff { staff_id: "nope".into(), reason: "x".repeat(501), ..Default::default() };
    assert_eq!(fields_of(no_kind).await, strings(&["time_off.staff_id", "time_off.kind", "time_off.reason"]));

    let reversed = absence(&t.staff.id, "2030-07-02T00:00:00Z", "2030-07-01T00:00:00Z", "");
    assert_eq!(fields_of(reversed).await, strings(&["time_off.absence.end_time"]));
    let empty = absence(&t.staff.id, "2030-07-01T00:00:00Z", "2030-07-01T00:00:00Z", "");
    assert_eq!(fields_of(empty).await, strings(&["time_off.absence.end_time"]));
    let too_long = absence(&t.staff.id, "2030-01-01T00:00:00Z", "2031-01-02T00:00:01Z", "");
    assert_eq!(fields_of(too_long).await, strings(&["time_off.absence.end_time"]));
    let open_ended = pb::TimeOff {
        staff_id: t.staff.id.clone(),
        kind: Some(Kind::Absence(types::TimeRange { start_time: None, end_time: None })),
        ..Default::default()
    };
    assert_eq!(fields_of(open_ended).await, strings(&["time_off.absence.start_time", "time_off.absence.end_time"]));

    let bad_override =
        date_override(&t.staff.id, (2030, 2, 30), vec![hours(9.0, 12.0), hours(11.0, 13.0), raw((14, 0), (13, 0))]);
    assert_eq!(
        fields_of(bad_override).await,
        strings(&[
            "time_off.date_override.date",
            "time_off.date_override.intervals[1]",
            "time_off.date_override.intervals[2].end_time"
        ])
    );
    let no_date = pb::TimeOff {
        staff_id: t.staff.id.clone(),
        kind: Some(Kind::DateOverride(pb::DateOverride { date: None, intervals: vec![] })),
        ..Default::default()
    };
    assert_eq!(fields_of(no_date).await, strings(&["time_off.date_override.date"]));

    // A year of 366 days exactly is allowed (a leap year's absence).
    create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2032-01-01T00:00:00Z", "2033-01-01T00:00:00Z", ""))
        .await;
    assert_eq!(list_all(&mut c, &t.admin, pb::ListTimeOffRequest::default()).await.len(), 1, "only the valid one");
}

async fn list_time_off_filters_by_staff_and_time_range(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let bert = second_staff(server, &t, "Bert").await;
    let mut c = client(server);
    let create = |time_off: pb::TimeOff| {
        let mut c = c.clone();
        let key = t.admin.clone();
        async move { create_time_off(&mut c, &key, "", time_off).await.time_off.expect("time off").id }
    };
    // Berlin is UTC+2 in June: the local day 2030-06-10 is [06-09T22:00Z, 06-10T22:00Z).
    let anna_override_9th = create(date_override(&t.staff.id, (2030, 6, 9), vec![])).await;
    let anna_absence = create(absence(&t.staff.id, "2030-06-10T08:00:00Z", "2030-06-10T10:00:00Z", "")).await;
    let bert_override_10th = create(date_override(&bert, (2030, 6, 10), vec![hours(9.0, 12.0)])).await;
    let bert_absence = create(absence(&bert, "2030-06-01T00:00:00Z", "2030-06-20T00:00:00Z", "")).await;
    let anna_later = create(absence(&t.staff.id, "2030-08-01T00:00:00Z", "2030-08-02T00:00:00Z", "")).await;

    // Everything, ordered by start (an override starts at its local midnight).
    let all = list_all(&mut c, &t.reader, pb::ListTimeOffRequest::default()).await;
    assert_eq!(
        ids(&all),
        vec![
            bert_absence.clone(),
            anna_override_9th.clone(),
            bert_override_10th.clone(),
            anna_absence.clone(),
            anna_later.clone()
        ]
    );

    // One staff member.
    let anna =
        list_all(&mut c, &t.reader, pb::ListTimeOffRequest { staff_id: t.staff.id.clone(), ..Default::default() })
            .await;
    assert_eq!(ids(&anna), vec![anna_override_9th.clone(), anna_absence.clone(), anna_later.clone()]);

    // A range just after local midnight of the 10th: the 10th's override covers
    // it, the 9th's ended at midnight; the long absence overlaps, the short one not.
    let range = |from: &str, to: &str| Some(types::TimeRange { start_time: ts(from), end_time: ts(to) });
    let night = list_all(
        &mut c,
        &t.reader,
        pb::ListTimeOffRequest {
            time_range: range("2030-06-09T22:00:00Z", "2030-06-09T23:00:00Z"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ids(&night), vec![bert_absence.clone(), bert_override_10th.clone()]);
    // A range ending exactly at local midnight of the 10th excludes its override.
    let evening = list_all(
        &mut c,
        &t.reader,
        pb::ListTimeOffRequest {
            time_range: range("2030-06-09T21:00:00Z", "2030-06-09T22:00:00Z"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ids(&evening), vec![bert_absence.clone(), anna_override_9th.clone()]);
    // Staff and range together.
    let anna_morning = list_all(
        &mut c,
        &t.reader,
        pb::ListTimeOffRequest {
            staff_id: t.staff.id.clone(),
            time_range: range("2030-06-10T09:59:59Z", "2030-06-10T12:00:00Z"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ids(&anna_morning), vec![anna_absence.clone()]);

    // Bad ranges are INVALID_ARGUMENT.
    let reversed = pb::ListTimeOffRequest {
        time_range: range("2030-06-10T12:00:00Z", "2030-06-10T09:00:00Z"),
        ..Default::default()
    };
    let status = expect_code(c.list_time_off(authed(reversed, &t.reader)).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["time_range.end_time".to_string()]);
    let half = pb::ListTimeOffRequest {
        time_range: Some(types::TimeRange { start_time: ts("2030-06-10T12:00:00Z"), end_time: None }),
        ..Default::default()
    };
    let status = expect_code(c.list_time_off(authed(half, &t.reader)).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["time_range.end_time".to_string()]);
    let bad_staff = pb::ListTimeOffRequest { staff_id: "nope".into(), ..Default::default() };
    let status = expect_code(c.list_time_off(authed(bad_staff, &t.reader)).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["staff_id".to_string()]);
}

async fn list_time_off_pages_through_every_entry_once(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let bert = second_staff(server, &t, "Bert").await;
    let mut c = client(server);
    // Overrides and absences interleaved, some starting at the same instant
    // (local midnight), so the id must break ties across kinds and staff.
    let mut expected = Vec::new();
    for d in 1..=6 {
        for staff in [&t.staff.id, &bert] {
            let o = create_time_off(&mut c, &t.admin, "", date_override(staff, (2030, 6, d), vec![])).await;
            expected.push(o.time_off.expect("time off").id);
            // Local midnight of 2030-06-d in Berlin (UTC+2).
            let midnight = instant("2030-05-31T22:00:00Z") + chrono::Duration::days(i64::from(d) - 1);
            let end = midnight + chrono::Duration::hours(1);
            let a =
                create_time_off(&mut c, &t.admin, "", absence(staff, &midnight.to_rfc3339(), &end.to_rfc3339(), ""))
                    .await;
            expected.push(a.time_off.expect("time off").id);
        }
    }
    let all = list_all(&mut c, &t.reader, pb::ListTimeOffRequest::default()).await;
    assert_eq!(all.len(), 24);
    // Ties (same start) are ordered by id, i.e. creation order here.
    assert_eq!(ids(&all), expected);

    for size in [1, 2, 5, 7] {
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let page = c
                .list_time_off(authed(
                    pb::ListTimeOffRequest { page_size: size, page_token: token.clone(), ..Default::default() },
                    &t.reader,
                ))
                .await
                .expect("page")
                .into_inner();
            assert!(page.time_off.len() <= size as usize);
            seen.extend(ids(&page.time_off));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(seen, expected, "page size {size}");
    }

    // A token is bound to its filter.
    let first = c
        .list_time_off(authed(pb::ListTimeOffRequest { page_size: 2, ..Default::default() }, &t.reader))
        .await
        .expect("page")
        .into_inner();
    let other_filter = pb::ListTimeOffRequest {
        staff_id: bert.clone(),
        page_size: 2,
        page_token: first.next_page_token,
        ..Default::default()
    };
    let status = expect_code(c.list_time_off(authed(other_filter, &t.reader)).await, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["page_token".to_string()]);
    let negative = pb::ListTimeOffRequest { page_size: -1, ..Default::default() };
    expect_code(c.list_time_off(authed(negative, &t.reader)).await, Code::InvalidArgument);
}

async fn deleted_time_off_is_gone(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    let entry = create_time_off(&mut c, &t.admin, "", date_override(&t.staff.id, (2030, 12, 24), vec![]))
        .await
        .time_off
        .expect("time off");
    c.delete_time_off(authed(pb::DeleteTimeOffRequest { id: entry.id.clone() }, &t.admin)).await.expect("delete");
    let status = expect_code(
        c.get_time_off(authed(pb::GetTimeOffRequest { id: entry.id.clone() }, &t.admin)).await,
        Code::NotFound,
    );
    assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    expect_code(
        c.delete_time_off(authed(pb::DeleteTimeOffRequest { id: entry.id.clone() }, &t.admin)).await,
        Code::NotFound,
    );
    assert!(list_all(&mut c, &t.admin, pb::ListTimeOffRequest::default()).await.is_empty());
    // The date is free for a new override.
    create_time_off(&mut c, &t.admin, "", date_override(&t.staff.id, (2030, 12, 24), vec![hours(9.0, 12.0)])).await;
    let status = expect_code(
        c.get_time_off(authed(pb::GetTimeOffRequest { id: "nope".into() }, &t.admin)).await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["id".to_string()]);
}

async fn concurrent_schedule_changes_do_not_interleave(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    let start = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(9.0, 17.0)])])
        .await
        .working_hours
        .expect("hours");
    // Several writers with the same etag: exactly one wins, the others see it stale.
    let sets = (0..4).map(|n| {
        let mut c = c.clone();
        let request = pb::SetWorkingHoursRequest {
            staff_id: t.staff.id.clone(),
            days: vec![day(Tuesday, vec![hours(8.0 + f64::from(n), 18.0)])],
            etag: start.etag.clone(),
        };
        let key = t.admin.clone();
        async move { c.set_working_hours(authed(request, &key)).await }
    });
    let results = futures::future::join_all(sets).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for status in results.into_iter().filter_map(Result::err) {
        assert_eq!(status.code(), Code::Aborted, "{status:?}");
        assert_eq!(reason(&status), "ETAG_MISMATCH");
    }

    // Several overrides of one date at once: exactly one is stored.
    let creates = (0..4).map(|n| {
        let mut c = c.clone();
        let request = pb::CreateTimeOffRequest {
            request_id: format!("override-{n}"),
            time_off: Some(date_override(&t.staff.id, (2030, 12, 24), vec![hours(9.0 + f64::from(n), 14.0)])),
        };
        let key = t.admin.clone();
        async move { c.create_time_off(authed(request, &key)).await }
    });
    let results = futures::future::join_all(creates).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for status in results.into_iter().filter_map(Result::err) {
        assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    }
    assert_eq!(list_all(&mut c, &t.admin, pb::ListTimeOffRequest::default()).await.len(), 1);
}

// ---------------------------------------------------------------------------
// Conflicts and the slot engine's reads
// ---------------------------------------------------------------------------

async fn schedule_changes_report_the_appointments_they_strand(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let mut c = client(server);
    // 2030-06-03 is a Monday; Berlin is UTC+2 then. Appointments at 10:00 and
    // 15:00 local; a cancelled one at 10:00 and a past one are never reported.
    let morning = book(server, &t, "2030-06-03T08:00:00Z", "2030-06-03T08:45:00Z", "confirmed").await;
    let afternoon = book(server, &t, "2030-06-03T13:00:00Z", "2030-06-03T13:45:00Z", "pending").await;
    book(server, &t, "2030-06-03T08:00:00Z", "2030-06-03T08:45:00Z", "cancelled").await;
    book(server, &t, "2020-06-01T03:00:00Z", "2020-06-01T03:45:00Z", "confirmed").await;

    let all_day = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(9.0, 18.0)])]).await;
    assert!(all_day.conflicting_appointment_ids.is_empty());
    let afternoons = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(13.0, 18.0)])]).await;
    assert_eq!(afternoons.conflicting_appointment_ids, vec![morning.clone()]);
    let ends_early = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Monday, vec![hours(9.0, 15.5)])]).await;
    assert_eq!(ends_early.conflicting_appointment_ids, vec![afternoon.clone()]);
    let tuesdays = set_week(&mut c, &t.admin, &t.staff.id, vec![day(Tuesday, vec![hours(9.0, 18.0)])]).await;
    assert_eq!(tuesdays.conflicting_appointment_ids, vec![morning.clone(), afternoon.clone()]);

    // An override of that Monday judges only that date, by its own hours.
    let mornings_only =
        create_time_off(&mut c, &t.admin, "", date_override(&t.staff.id, (2030, 6, 3), vec![hours(9.0, 12.0)])).await;
    assert_eq!(mornings_only.conflicting_appointment_ids, vec![afternoon.clone()]);
    let other_day = create_time_off(&mut c, &t.admin, "", date_override(&t.staff.id, (2030, 6, 4), vec![])).await;
    assert!(other_day.conflicting_appointment_ids.is_empty());

    // An absence conflicts with what it overlaps, even by a minute.
    let overlap =
        create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2030-06-03T08:44:00Z", "2030-06-03T12:00:00Z", ""))
            .await;
    assert_eq!(overlap.conflicting_appointment_ids, vec![morning.clone()]);
    let touching =
        create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2030-06-03T08:45:00Z", "2030-06-03T13:00:00Z", ""))
            .await;
    assert!(touching.conflicting_appointment_ids.is_empty(), "half-open ranges that touch do not overlap");
}

async fn repository_reads_serve_the_slot_engine(server: &TestServer) {
    let t = server.tenant("Salon").await;
    let other = server.tenant("Other").await;
    let bert = second_staff(server, &t, "Bert").await;
    let mut c = client(server);
    set_week(
        &mut c,
        &t.admin,
        &t.staff.id,
        vec![day(Tuesday, vec![hours(13.0, 17.0), hours(9.0, 12.0)]), day(Monday, vec![hours(8.0, 16.0)])],
    )
    .await;
    set_week(&mut c, &t.admin, &bert, vec![day(Sunday, vec![raw((0, 0), (24, 0))])]).await;
    set_week(&mut c, &other.admin, &other.staff.id, vec![day(Monday, vec![hours(9.0, 10.0)])]).await;
    create_time_off(&mut c, &t.admin, "", absence(&t.staff.id, "2030-06-01T00:00:00Z", "2030-06-05T00:00:00Z", ""))
        .await;
    create_time_off(&mut c, &t.admin, "", absence(&bert, "2030-06-04T12:00:00Z", "2030-06-04T13:00:00Z", "")).await;
    create_time_off(&mut c, &t.admin, "", absence(&bert, "2030-07-01T00:00:00Z", "2030-07-02T00:00:00Z", "")).await;
    create_time_off(
        &mut c,
        &t.admin,
        "",
        date_override(&t.staff.id, (2030, 6, 3), vec![hours(10.0, 11.0), hours(14.0, 15.0)]),
    )
    .await;
    create_time_off(&mut c, &t.admin, "", date_override(&bert, (2030, 6, 9), vec![])).await;
    create_time_off(&mut c, &t.admin, "", date_override(&bert, (2030, 6, 10), vec![])).await;
    create_time_off(&mut c, &other.admin, "", date_override(&other.staff.id, (2030, 6, 3), vec![])).await;

    let anna: Uuid = t.staff.id.parse().expect("uuid");
    let bert: Uuid = bert.parse().expect("uuid");
    let foreign: Uuid = other.staff.id.parse().expect("uuid");
    let staff = [anna, bert, foreign];
    let tx = server.state.store.read(tenant_id(&t)).await.expect("read tx");

    let mut weeks = working_hours_store::of_staff_many(&tx, &staff).await.expect("weeks");
    weeks.sort_by_key(|(s, i)| (*s, i.day_of_week, i.start_minute));
    let w = |d, s, e| WeeklyInterval { day_of_week: d, start_minute: s, end_minute: e };
    let mut expected_weeks =
        vec![(anna, w(1, 480, 960)), (anna, w(2, 540, 720)), (anna, w(2, 780, 1020)), (bert, w(7, 0, 1440))];
    expected_weeks.sort_by_key(|(s, i)| (*s, i.day_of_week, i.start_minute));
    assert_eq!(weeks, expected_weeks, "another tenant's staff contributes nothing");
    assert_eq!(working_hours_store::of_staff(&tx, anna).await.expect("week").len(), 3);
    assert!(working_hours_store::of_staff_many(&tx, &[]).await.expect("none").is_empty());

    let mut absences =
        time_off_store::absences(&tx, &staff, instant("2030-06-04T12:30:00Z"), instant("2030-06-30T00:00:00Z"))
            .await
            .expect("absences");
    absences.sort();
    let mut expected_absences = vec![
        (anna, instant("2030-06-01T00:00:00Z"), instant("2030-06-05T00:00:00Z")),
        (bert, instant("2030-06-04T12:00:00Z"), instant("2030-06-04T13:00:00Z")),
    ];
    expected_absences.sort();
    assert_eq!(absences, expected_absences);
    // [from, to) is half-open: an absence ending at `from` or starting at `to` is out.
    let none = time_off_store::absences(&tx, &[bert], instant("2030-06-04T13:00:00Z"), instant("2030-07-01T00:00:00Z"))
        .await
        .expect("absences");
    assert!(none.is_empty(), "{none:?}");

    let date = |y: i16, m: i8, d: i8| jiff::civil::date(y, m, d);
    let mut overrides =
        time_off_store::overrides(&tx, &staff, date(2030, 6, 3), date(2030, 6, 9)).await.expect("overrides");
    overrides.sort();
    let mut expected_overrides =
        vec![(anna, date(2030, 6, 3), vec![(600, 660), (840, 900)]), (bert, date(2030, 6, 9), vec![])];
    expected_overrides.sort();
    assert_eq!(overrides, expected_overrides, "both ends inclusive, other tenants excluded");
    assert!(time_off_store::overrides(&tx, &[], date(2030, 1, 1), date(2031, 1, 1)).await.expect("none").is_empty());
    tx.commit().await.expect("commit");
}

on_both_databases!(
    working_hours_round_trip_with_two_intervals_a_day,
    set_working_hours_reports_every_bad_field_at_once,
    overlapping_intervals_are_refused,
    a_stale_etag_is_aborted,
    a_read_only_key_cannot_change_schedules,
    another_tenants_ids_are_not_found,
    time_off_absences_and_overrides_are_created_and_read_back,
    create_time_off_is_idempotent_by_request_id,
    create_time_off_reports_every_bad_field_at_once,
    list_time_off_filters_by_staff_and_time_range,
    list_time_off_pages_through_every_entry_once,
    deleted_time_off_is_gone,
    concurrent_schedule_changes_do_not_interleave,
    schedule_changes_report_the_appointments_they_strand,
    repository_reads_serve_the_slot_engine,
);
