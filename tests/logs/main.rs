//! Logs as an operator reads them: `askpro serve` with ASKPRO_LOG_FORMAT=json
//! writes one JSON line per gRPC call (method, tenant, status, latency,
//! correlation id), and no API key, bearer token or phone number in clear
//! anywhere, even in the libraries' trace output.

mod booking_flow;
#[path = "../common/mod.rs"]
mod common;

use std::future::Future;

use askpro::proto::appointment::v1 as ap;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::availability::v1 as av;
use askpro::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use askpro::proto::tenant::v1 as tn;
use askpro::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use askpro::proto::r#type::v1 as types;
use askpro::proto::webhook::v1 as wh;
use askpro::proto::webhook::v1::webhook_service_client::WebhookServiceClient;
use common::process::{CALL_TIMEOUT, Workdir};
use common::secret_part;
use common::time::{BookingDay, local_time};
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
const CUSTOMER_EMAIL: &str = "erika.mustermann@example-salon.de";
const RETELL_KEY: &str = "key_3f9a1c0d2b7e4a6f8c1d2e3f";
const CREATE_INBOUND_ENDPOINT: &str = "/askpro.webhook.v1.WebhookService/CreateInboundEndpoint";
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
