//! Logs as an operator reads them: `askpro serve` with ASKPRO_LOG_FORMAT=json
//! writes one JSON line per gRPC call (method, tenant, status, latency,
//! correlation id), and no API key, bearer token or phone number in clear
//! anywhere, even in the libraries' trace output.
mod common;

use std::future::Future;

use askpro::proto::appointment::v1 as ap;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::availability::v1 as av;
use askpro::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use askpro::proto::tenant::v1 as tn;
use askpro::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use askpro::proto::r#type::v1 as types;
use common::process::{CALL_TIMEOUT, Workdir};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde_json::Value;
use tonic::{Code, Request, Response, Status};
use uuid::Uuid;

/// The caller's German mobile number, as typed in CreateCustomer (national
/// form) and in FindCustomerByPhone (E.164), and as it must appear in a log.
const PHONE_NATIONAL: &str = "0170 1234567";
const PHONE_E164: &str = "+491701234567";
const PHONE_MASKED: &str = "+49170*****67";
/// The branch's number: also a phone number, never logged in clear.
const BRANCH_PHONE_NATIONAL: &str = "030 12345678";
const BRANCH_PHONE_E164: &str = "+493012345678";
/// A correlation id the server must refuse (a space) and replace.
const INVALID_REQUEST_ID: &str = "logs test invalid";

const CREATE_TENANT: &str = "/askpro.tenant.v1.TenantService/CreateTenant";
const CREATE_API_KEY: &str = "/askpro.tenant.v1.TenantService/CreateApiKey";
const CREATE_BRANCH: &str = "/askpro.tenant.v1.TenantService/CreateBranch";
const CREATE_SERVICE: &str = "/askpro.tenant.v1.TenantService/CreateService";
const CREATE_STAFF: &str = "/askpro.tenant.v1.TenantService/CreateStaff";
const LIST_BRANCHES: &str = "/askpro.tenant.v1.TenantService/ListBranches";
const LIST_SERVICES: &str = "/askpro.tenant.v1.TenantService/ListServices";
const SET_WORKING_HOURS: &str = "/askpro.availability.v1.AvailabilityService/SetWorkingHours";
const LIST_SLOTS: &str = "/askpro.availability.v1.AvailabilityService/ListAvailableSlots";
const HOLD_SLOT: &str = "/askpro.availability.v1.AvailabilityService/HoldSlot";
const CREATE_CUSTOMER: &str = "/askpro.appointment.v1.AppointmentService/CreateCustomer";
const FIND_CUSTOMER: &str = "/askpro.appointment.v1.AppointmentService/FindCustomerByPhone";
const CREATE_APPOINTMENT: &str = "/askpro.appointment.v1.AppointmentService/CreateAppointment";
const RESCHEDULE: &str = "/askpro.appointment.v1.AppointmentService/RescheduleAppointment";
const CANCEL: &str = "/askpro.appointment.v1.AppointmentService/CancelAppointment";
const GET_APPOINTMENT: &str = "/askpro.appointment.v1.AppointmentService/GetAppointment";
const LIST_APPOINTMENTS: &str = "/askpro.appointment.v1.AppointmentService/ListAppointments";

// ---------------------------------------------------------------------------
// Calls and what each must have logged.

/// How a call authenticates.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Bearer(&'a str),
    /// A platform key acting in one tenant.
    PlatformIn {
        key: &'a str,
        tenant: &'a str,
    },
    XApiKey(&'a str),
}

/// The `x-request-id` a call sends.
#[derive(Clone, Copy)]
enum SentId<'a> {
    Valid(&'a str),
    Invalid(&'a str),
    None,
}

impl SentId<'_> {
    fn text(&self) -> Option<&str> {
        match self {
            SentId::Valid(id) | SentId::Invalid(id) => Some(id),
            SentId::None => None,
        }
    }
}

/// One call made, as its log line must show it.
#[derive(Debug)]
struct Call {
    method: &'static str,
    tenant: String,
    status: &'static str,
    /// The correlation id the server answered with: the sent one, or a generated one.
    request_id: String,
}

#[derive(Default)]
struct Calls {
    made: Vec<Call>,
}

impl Calls {
    /// The id the next call sends: "logs-test-<n>".
    fn next_id(&self) -> String {
        format!("logs-test-{}", self.made.len() + 1)
    }

    /// Checks the call ended with `code` and answered with the right
    /// `x-request-id`, records it, and hands the result back.
    #[track_caller]
    fn record<T: std::fmt::Debug>(
        &mut self,
        method: &'static str,
        tenant: &str,
        sent: SentId<'_>,
        code: Code,
        result: Result<Response<T>, Status>,
    ) -> Result<T, Status> {
        let (returned, result) = match result {
            Ok(response) => {
                assert_eq!(code, Code::Ok, "{method}: expected {code:?}, got OK: {response:?}");
                (response_id(response.metadata()), Ok(response.into_inner()))
            }
            Err(status) => {
                assert_eq!(status.code(), code, "{method}: {status:?}");
                (response_id(status.metadata()), Err(status))
            }
        };
        match sent {
            SentId::Valid(id) => assert_eq!(returned, id, "{method}: the sent x-request-id comes back"),
            SentId::Invalid(_) | SentId::None => {
                let uuid = Uuid::parse_str(&returned)
                    .unwrap_or_else(|e| panic!("{method}: generated x-request-id {returned:?} is no UUID: {e}"));
                assert_eq!(uuid.get_version_num(), 7, "{method}: a UUIDv7 ({returned})");
            }
        }
        self.made.push(Call { method, tenant: tenant.to_owned(), status: code_name(code), request_id: returned });
        result
    }

    /// `record` for a call that must succeed.
    #[track_caller]
    fn ok<T: std::fmt::Debug>(
        &mut self,
        method: &'static str,
        tenant: &str,
        sent: SentId<'_>,
        result: Result<Response<T>, Status>,
    ) -> T {
        self.record(method, tenant, sent, Code::Ok, result).expect("checked OK")
    }
}

fn response_id(metadata: &tonic::metadata::MetadataMap) -> String {
    metadata
        .get("x-request-id")
        .expect("every response carries x-request-id")
        .to_str()
        .expect("an ASCII x-request-id")
        .to_owned()
}

/// The names the log uses (gRPC's canonical UPPER_SNAKE names).
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::NotFound => "NOT_FOUND",
        Code::Unauthenticated => "UNAUTHENTICATED",
        other => panic!("no name for {other:?} in this test"),
    }
}

/// A request with credentials and an `x-request-id`.
fn request<T>(message: T, auth: Auth<'_>, sent: SentId<'_>) -> Request<T> {
    let mut request = Request::new(message);
    let metadata = request.metadata_mut();
    match auth {
        Auth::Bearer(key) => {
            metadata.insert("authorization", format!("Bearer {key}").parse().expect("ascii key"));
        }
        Auth::PlatformIn { key, tenant } => {
            metadata.insert("authorization", format!("Bearer {key}").parse().expect("ascii key"));
            metadata.insert("x-askpro-tenant-id", tenant.parse().expect("ascii id"));
        }
        Auth::XApiKey(key) => {
            metadata.insert("x-api-key", key.parse().expect("ascii key"));
        }
    }
    if let Some(id) = sent.text() {
        metadata.insert("x-request-id", id.parse().expect("an ASCII id"));
    }
    request
}

async fn within<F: Future>(call: F) -> F::Output {
    tokio::time::timeout(CALL_TIMEOUT, call).await.expect("call timed out")
}

// ---------------------------------------------------------------------------
// Time: the Monday after next, in Berlin.

fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").expect("Europe/Berlin is in the bundled tzdb")
}

fn booking_day() -> Date {
    let mut day = berlin().to_datetime(jiff::Timestamp::now()).date().tomorrow().unwrap();
    while day.weekday() != Weekday::Monday {
        day = day.tomorrow().unwrap();
    }
    day.checked_add(7.days()).unwrap()
}

fn local(date: Date, hour: i8, minute: i8) -> prost_types::Timestamp {
    let at = berlin().to_ambiguous_timestamp(date.at(hour, minute, 0, 0)).compatible().unwrap();
    prost_types::Timestamp { seconds: at.as_second(), nanos: 0 }
}

fn local_time(hours: i32) -> Option<types::LocalTime> {
    Some(types::LocalTime { hours, minutes: 0 })
}

// ---------------------------------------------------------------------------
// Log checks.

/// The secret part of a key: the text after the second underscore.
fn secret_part(key: &str) -> &str {
    key.splitn(3, '_').nth(2).expect("a key has two underscores")
}

/// Parses every non-empty line as a JSON object.
#[track_caller]
fn json_lines(log: &str) -> Vec<Value> {
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let value: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
            assert!(value.is_object(), "not a JSON object: {line}");
            value
        })
        .collect();
    assert!(!lines.is_empty(), "the server logged nothing");
    lines
}

/// Asserts none of `forbidden` (what, text) occurs in `log`; the failure
/// names the first line holding it, with the text itself blanked out.
#[track_caller]
fn assert_absent(log: &str, forbidden: &[(&str, &str)]) {
    for (what, text) in forbidden {
        assert!(!text.is_empty(), "{what}: an empty needle proves nothing");
        if let Some((n, line)) = log.lines().enumerate().find(|(_, l)| l.contains(text)) {
            panic!("{what} appears in the log, line {}: {}", n + 1, line.replace(text, "<LEAKED>"));
        }
    }
}

fn text<'a>(line: &'a Value, field: &str) -> Option<&'a str> {
    line.get(field).and_then(Value::as_str)
}

/// The `askpro::call` lines: one per call, each with the call's fields.
#[track_caller]
fn assert_call_lines(lines: &[Value], calls: &[Call]) {
    let call_lines: Vec<&Value> = lines.iter().filter(|l| text(l, "target") == Some("askpro::call")).collect();
    let methods: Vec<&str> = call_lines.iter().filter_map(|l| text(l, "method")).collect();
    assert_eq!(call_lines.len(), calls.len(), "one call line per call; logged: {methods:#?}\nmade: {calls:#?}");
    for call in calls {
        let mine: Vec<&&Value> =
            call_lines.iter().filter(|l| text(l, "request_id") == Some(call.request_id.as_str())).collect();
        assert_eq!(mine.len(), 1, "exactly one call line for {call:?}");
        let line = mine[0];
        assert_eq!(text(line, "method"), Some(call.method), "{line}");
        assert_eq!(text(line, "tenant"), Some(call.tenant.as_str()), "{call:?}: {line}");
        assert_eq!(text(line, "status"), Some(call.status), "{call:?}: {line}");
        assert_eq!(text(line, "level"), Some("INFO"), "{line}");
        let latency = line.get("latency_ms").and_then(Value::as_f64).unwrap_or_else(|| panic!("latency_ms: {line}"));
        assert!((0.0..CALL_TIMEOUT.as_secs_f64() * 1000.0).contains(&latency), "{line}");
    }
}

// ---------------------------------------------------------------------------

/// The voice-agent flow against a real `askpro serve` with trace logging:
/// every call is logged once with its fields, the handler's own lines carry
/// the call's correlation id, and no secret the test used is in the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_flow_logs_every_call_and_no_secret() {
    let workdir = Workdir::new();
    let created = workdir.run(&["platform-key", "create", "--name", "logs"], "platform-key").await;
    assert!(created.status.success(), "platform-key create: {}\n{}", created.status, created.stderr);
    let platform = created.stdout.trim().to_owned();
    assert!(platform.starts_with("ak_") && secret_part(&platform).len() == 48, "{platform:?}");

    let mut server = workdir.serve(&[], "serve").await;
    let channel = server.channel().await;
    let mut tenants = TenantServiceClient::new(channel.clone());
    let mut availability = AvailabilityServiceClient::new(channel.clone());
    let mut appointments = AppointmentServiceClient::new(channel.clone());
    let mut calls = Calls::default();

    // The platform admin sets up a salon: tenant, keys, branch, service, staff, hours.
    let id = calls.next_id();
    let message = tn::CreateTenantRequest {
        request_id: Uuid::now_v7().to_string(),
        tenant: Some(tn::Tenant {
            display_name: "Logs Salon".into(),
            time_zone: "Europe/Berlin".into(),
            region_code: "DE".into(),
            ..Default::default()
        }),
    };
    let result = within(tenants.create_tenant(request(message, Auth::Bearer(&platform), SentId::Valid(&id)))).await;
    let tenant = calls.ok(CREATE_TENANT, "-", SentId::Valid(&id), result).tenant.expect("tenant").id;

    let new_key = |scope: tn::ApiKeyScope| tn::CreateApiKeyRequest {
        api_key: Some(tn::ApiKey { display_name: format!("{scope:?} key"), scope: scope as i32, ..Default::default() }),
    };
    let id = calls.next_id();
    let as_tenant = Auth::PlatformIn { key: &platform, tenant: &tenant };
    let result =
        within(tenants.create_api_key(request(new_key(tn::ApiKeyScope::TenantAdmin), as_tenant, SentId::Valid(&id))))
            .await;
    let admin = calls.ok(CREATE_API_KEY, &tenant, SentId::Valid(&id), result).secret;

    let id = calls.next_id();
    let result = within(tenants.create_api_key(request(
        new_key(tn::ApiKeyScope::Agent),
        Auth::Bearer(&admin),
        SentId::Valid(&id),
    )))
    .await;
    let agent = calls.ok(CREATE_API_KEY, &tenant, SentId::Valid(&id), result).secret;

    let id = calls.next_id();
    let message = tn::CreateBranchRequest {
        request_id: Uuid::now_v7().to_string(),
        branch: Some(tn::Branch {
            display_name: "Logs Salon Mitte".into(),
            time_zone: "Europe/Berlin".into(),
            phone_numbers: vec![BRANCH_PHONE_NATIONAL.into()],
            ..Default::default()
        }),
    };
    let result = within(tenants.create_branch(request(message, Auth::Bearer(&admin), SentId::Valid(&id)))).await;
    let branch = calls.ok(CREATE_BRANCH, &tenant, SentId::Valid(&id), result).branch.expect("branch");
    assert_eq!(branch.phone_numbers, vec![BRANCH_PHONE_E164.to_owned()]);

    let id = calls.next_id();
    let message = tn::CreateServiceRequest {
        request_id: Uuid::now_v7().to_string(),
        service: Some(tn::Service {
            display_name: "Haircut".into(),
            duration: Some(prost_types::Duration { seconds: 45 * 60, nanos: 0 }),
            ..Default::default()
        }),
    };
    let result = within(tenants.create_service(request(message, Auth::Bearer(&admin), SentId::Valid(&id)))).await;
    let service = calls.ok(CREATE_SERVICE, &tenant, SentId::Valid(&id), result).service.expect("service").id;

    let id = calls.next_id();
    let message = tn::CreateStaffRequest {
        request_id: Uuid::now_v7().to_string(),
        staff: Some(tn::Staff {
            branch_id: branch.id.clone(),
            display_name: "Anna".into(),
            service_ids: vec![service.clone()],
            ..Default::default()
        }),
    };
    let result = within(tenants.create_staff(request(message, Auth::Bearer(&admin), SentId::Valid(&id)))).await;
    let staff = calls.ok(CREATE_STAFF, &tenant, SentId::Valid(&id), result).staff.expect("staff").id;

    let id = calls.next_id();
    let every_day = (1..=7)
        .map(|day| av::DayHours {
            day_of_week: day,
            intervals: vec![types::LocalTimeInterval { start_time: local_time(8), end_time: local_time(20) }],
        })
        .collect();
    let message = av::SetWorkingHoursRequest { staff_id: staff.clone(), days: every_day, etag: String::new() };
    let result =
        within(availability.set_working_hours(request(message, Auth::Bearer(&admin), SentId::Valid(&id)))).await;
    calls.ok(SET_WORKING_HOURS, &tenant, SentId::Valid(&id), result);

    // The agent: an unknown caller, then the same caller as a new customer.
    let find =
        |phone: &str| ap::FindCustomerByPhoneRequest { phone_number: phone.into(), branch_id: branch.id.clone() };
    let unknown_id = calls.next_id();
    let result = within(appointments.find_customer_by_phone(request(
        find(PHONE_E164),
        Auth::Bearer(&agent),
        SentId::Valid(&unknown_id),
    )))
    .await;
    calls.record(FIND_CUSTOMER, &tenant, SentId::Valid(&unknown_id), Code::NotFound, result).expect_err("unknown");

    let id = calls.next_id();
    let message = ap::CreateCustomerRequest {
        request_id: Uuid::now_v7().to_string(),
        customer: Some(ap::Customer {
            phone_number: PHONE_NATIONAL.into(),
            display_name: "Erika".into(),
            ..Default::default()
        }),
        region_code: String::new(),
    };
    let result = within(appointments.create_customer(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    let customer = calls.ok(CREATE_CUSTOMER, &tenant, SentId::Valid(&id), result).customer.expect("customer");
    assert_eq!(customer.phone_number, PHONE_E164, "stored in E.164");

    let found_id = calls.next_id();
    let result = within(appointments.find_customer_by_phone(request(
        find(PHONE_E164),
        Auth::Bearer(&agent),
        SentId::Valid(&found_id),
    )))
    .await;
    let found = calls.ok(FIND_CUSTOMER, &tenant, SentId::Valid(&found_id), result).customer.expect("customer");
    assert_eq!(found.id, customer.id);

    // Slots, a hold, the booking from it, a reschedule and a cancellation.
    let day = booking_day();
    let id = calls.next_id();
    let message = av::ListAvailableSlotsRequest {
        branch_id: branch.id.clone(),
        service_id: service.clone(),
        staff_ids: vec![staff.clone()],
        time_range: Some(types::TimeRange {
            start_time: Some(local(day, 0, 0)),
            end_time: Some(local(day.tomorrow().unwrap(), 0, 0)),
        }),
        time_zone: String::new(),
        page_size: 100,
        page_token: String::new(),
    };
    let result =
        within(availability.list_available_slots(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    let slots = calls.ok(LIST_SLOTS, &tenant, SentId::Valid(&id), result).slots;
    let ten = local(day, 10, 0);
    assert!(slots.iter().any(|s| s.start_time == Some(ten)), "10:00 is offered: {slots:?}");

    let id = calls.next_id();
    let message = av::HoldSlotRequest {
        request_id: Uuid::now_v7().to_string(),
        branch_id: branch.id.clone(),
        service_id: service.clone(),
        staff_id: staff.clone(),
        start_time: Some(ten),
        hold_key: "call-logs-1".into(),
        ttl: None,
    };
    let result = within(availability.hold_slot(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    let hold = calls.ok(HOLD_SLOT, &tenant, SentId::Valid(&id), result).hold.expect("hold");

    let id = calls.next_id();
    let message = ap::CreateAppointmentRequest {
        request_id: Uuid::now_v7().to_string(),
        slot: Some(ap::create_appointment_request::Slot::FromHold(ap::HoldReference {
            hold_id: hold.id.clone(),
            hold_key: "call-logs-1".into(),
        })),
        customer: Some(ap::create_appointment_request::Customer::CustomerId(customer.id.clone())),
        source: ap::AppointmentSource::PhoneAgent as i32,
        notes: "first visit".into(),
        call_id: "call-logs-1".into(),
        initial_status: 0,
    };
    let result =
        within(appointments.create_appointment(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    let booked = calls.ok(CREATE_APPOINTMENT, &tenant, SentId::Valid(&id), result).appointment.expect("appointment");
    assert_eq!(booked.customer_id, customer.id);

    let id = calls.next_id();
    let message = ap::RescheduleAppointmentRequest {
        id: booked.id.clone(),
        request_id: Uuid::now_v7().to_string(),
        start_time: Some(local(day, 14, 0)),
        staff_id: String::new(),
        hold: None,
        etag: String::new(),
    };
    let result =
        within(appointments.reschedule_appointment(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    calls.ok(RESCHEDULE, &tenant, SentId::Valid(&id), result);

    let id = calls.next_id();
    let message = ap::CancelAppointmentRequest {
        id: booked.id.clone(),
        request_id: Uuid::now_v7().to_string(),
        reason: "caller cancelled".into(),
        etag: String::new(),
    };
    let result =
        within(appointments.cancel_appointment(request(message, Auth::Bearer(&agent), SentId::Valid(&id)))).await;
    calls.ok(CANCEL, &tenant, SentId::Valid(&id), result);

    // A made-up key, the agent key in x-api-key, a refused and a missing correlation id.
    let wrong = format!("ak_{}_{}", "0123456789abcdef".repeat(2), "5eed5eed5eed".repeat(4));
    let id = calls.next_id();
    let message = tn::ListBranchesRequest::default();
    let result = within(tenants.list_branches(request(message, Auth::Bearer(&wrong), SentId::Valid(&id)))).await;
    calls.record(LIST_BRANCHES, "-", SentId::Valid(&id), Code::Unauthenticated, result).expect_err("wrong key");

    let id = calls.next_id();
    let message = tn::ListServicesRequest::default();
    let result = within(tenants.list_services(request(message, Auth::XApiKey(&agent), SentId::Valid(&id)))).await;
    assert_eq!(calls.ok(LIST_SERVICES, &tenant, SentId::Valid(&id), result).services.len(), 1);

    let message = ap::GetAppointmentRequest { id: booked.id.clone() };
    let sent = SentId::Invalid(INVALID_REQUEST_ID);
    let result = within(appointments.get_appointment(request(message, Auth::Bearer(&agent), sent))).await;
    calls.ok(GET_APPOINTMENT, &tenant, sent, result);

    let message = ap::ListAppointmentsRequest::default();
    let result = within(appointments.list_appointments(request(message, Auth::Bearer(&agent), SentId::None))).await;
    calls.ok(LIST_APPOINTMENTS, &tenant, SentId::None, result);

    drop((tenants, availability, appointments, channel));
    let status = server.terminate().await;
    assert!(status.success(), "serve exited with {status} after SIGTERM");

    let log = server.stderr();
    let lines = json_lines(&log);

    // No secret, in any line, from any target.
    let national_digits = PHONE_NATIONAL.replace(' ', "");
    let mut forbidden: Vec<(&str, &str)> = Vec::new();
    for (name, key) in
        [("platform key", &platform), ("admin key", &admin), ("agent key", &agent), ("wrong key", &wrong)]
    {
        forbidden.push((name, key));
        forbidden.push((name, secret_part(key)));
    }
    forbidden.extend([
        ("a bearer token", "Bearer ak_"),
        ("the caller's number in E.164", PHONE_E164),
        ("the caller's number as typed", PHONE_NATIONAL),
        ("the caller's number without blanks", &national_digits),
        ("the caller's number without the plus", &PHONE_E164[1..]),
        ("the branch's number in E.164", BRANCH_PHONE_E164),
        ("the branch's number as typed", BRANCH_PHONE_NATIONAL),
        ("the branch's number without the plus", &BRANCH_PHONE_E164[1..]),
        ("the refused correlation id", INVALID_REQUEST_ID),
    ]);
    assert_absent(&log, &forbidden);
    assert_absent(&created.stderr, &[("platform key", &platform), ("platform key secret", secret_part(&platform))]);

    // The lookups logged the number masked, inside their calls' spans.
    assert!(log.contains(PHONE_MASKED), "the masked number {PHONE_MASKED} is logged");
    let lookups: Vec<&Value> =
        lines.iter().filter(|l| text(l, "message") == Some("customer lookup by phone")).collect();
    assert_eq!(lookups.len(), 2, "one lookup line per FindCustomerByPhone: {lookups:#?}");
    for (line, id, found) in [(lookups[0], &unknown_id, false), (lookups[1], &found_id, true)] {
        assert_eq!(text(line, "phone"), Some(PHONE_MASKED), "{line}");
        assert_eq!(line.get("found").and_then(Value::as_bool), Some(found), "{line}");
        let span = line.get("span").unwrap_or_else(|| panic!("the lookup line names its call span: {line}"));
        assert_eq!(text(span, "request_id"), Some(id.as_str()), "{line}");
        assert_eq!(text(span, "method"), Some(FIND_CUSTOMER), "{line}");
    }

    // Every line inside a call span names one of the calls made.
    for line in &lines {
        if let Some(span) = line.get("span").filter(|s| text(s, "name") == Some("call")) {
            let id = text(span, "request_id").unwrap_or_else(|| panic!("a call span without request_id: {line}"));
            assert!(calls.made.iter().any(|c| c.request_id == id), "a line of an unknown call: {line}");
        }
    }

    assert_call_lines(&lines, &calls.made);
}

/// The checks above fail on the leaks and malformed logs they look for.
#[test]
fn log_checks_catch_leaks_and_non_json_lines() {
    let key = "ak_0193a1b2c3d4e5f60718293a4b5c6d7e_000102030405060708090a0b0c0d0e0f1011121314151617";
    assert_eq!(secret_part(key), "000102030405060708090a0b0c0d0e0f1011121314151617");
    let clean = format!(r#"{{"message":"auth","key":"{}_[redacted]","phone":"{PHONE_MASKED}"}}"#, &key[..35]);
    assert_absent(&clean, &[("key", key), ("secret", secret_part(key)), ("phone", PHONE_E164)]);
    let leaked = format!(r#"{{"message":"h2 header","value":"{}"}}"#, secret_part(key));
    assert!(std::panic::catch_unwind(|| assert_absent(&leaked, &[("secret", secret_part(key))])).is_err());
    let phone = format!(r#"{{"message":"lookup","phone":"{}"}}"#, &PHONE_E164[1..]);
    assert!(std::panic::catch_unwind(|| assert_absent(&phone, &[("digits", &PHONE_E164[1..])])).is_err());
    assert!(std::panic::catch_unwind(|| json_lines("plain text")).is_err());
    assert!(std::panic::catch_unwind(|| json_lines("")).is_err());
}
