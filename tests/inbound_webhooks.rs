//! Inbound provider webhooks over plain HTTP/1.1 against a real server:
//! signatures (401, nothing stored), size (413), unreadable bodies (400,
//! stored REJECTED), replays, reordered call events, holds released when a
//! call ends, Retell's inbound-call answer, Cal.com bookings blocking and
//! freeing slots, deleted endpoints and tenant isolation. Every test runs on
//! SQLite and (with ASKPRO_TEST_DATABASE_URL) on PostgreSQL.
mod common;

use std::time::{Duration, Instant};

use askpro::domain::ids::TenantId;
use askpro::domain::webhook::InboundProvider;
use askpro::proto::appointment::v1 as ap;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use askpro::proto::availability::v1 as av;
use askpro::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use askpro::proto::tenant::v1 as tn;
use askpro::proto::r#type::v1::TimeRange;
use askpro::proto::webhook::v1 as wh;
use askpro::proto::webhook::v1::webhook_service_client::WebhookServiceClient;
use askpro::webhooks::sign::{SigningKey, generate_secret, signature_header};
use common::http::{HttpResponse, http1};
use common::{TenantFixture, TestServer, authed};
use hmac::Mac;
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde_json::{Value, json};
use uuid::Uuid;

const CALCOM_SECRET: &str = "calcom-webhook-secret";
const RETELL_KEY: &str = "key_retell_test_0123456789";
/// The harness branch's number ("030 1234567" read in DE).
const BRANCH_NUMBER: &str = "+49301234567";
const CALLER: &str = "+4915112345678";

// ---------------------------------------------------------------------------
// Time

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

fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn pts(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

// ---------------------------------------------------------------------------
// Signing and posting

fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

fn calcom_headers(secret: &str, body: &[u8]) -> Vec<(String, String)> {
    vec![("X-Cal-Signature-256".into(), hmac_hex(secret.as_bytes(), &[body]))]
}

fn retell_headers_at(key: &str, body: &[u8], millis: i64) -> Vec<(String, String)> {
    let ms = millis.to_string();
    vec![("X-Retell-Signature".into(), format!("v={ms},d={}", hmac_hex(key.as_bytes(), &[body, ms.as_bytes()])))]
}

fn retell_headers(key: &str, body: &[u8]) -> Vec<(String, String)> {
    retell_headers_at(key, body, chrono::Utc::now().timestamp_millis())
}

fn standard_headers(secret: &str, id: &str, body: &[u8]) -> Vec<(String, String)> {
    let ts = chrono::Utc::now().timestamp();
    let key = SigningKey::from_secret(secret).unwrap();
    vec![
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), ts.to_string()),
        ("webhook-signature".into(), signature_header(&[key], id, ts, body)),
    ]
}

async fn post(server: &TestServer, path: &str, headers: &[(String, String)], body: &[u8]) -> HttpResponse {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        server.addr,
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    http1(server.addr, &head, body).await
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

// ---------------------------------------------------------------------------
// Fixtures

fn webhooks(server: &TestServer) -> WebhookServiceClient<tonic::transport::Channel> {
    WebhookServiceClient::new(server.channel.clone())
}

async fn endpoint(
    server: &TestServer,
    fx: &TenantFixture,
    provider: wh::InboundProvider,
    secret: &str,
) -> wh::InboundEndpoint {
    webhooks(server)
        .create_inbound_endpoint(authed(
            wh::CreateInboundEndpointRequest {
                request_id: Uuid::now_v7().to_string(),
                endpoint: Some(wh::InboundEndpoint {
                    provider: provider as i32,
                    display_name: format!("{provider:?}"),
                    ..Default::default()
                }),
                secret: secret.into(),
            },
            &fx.admin,
        ))
        .await
        .expect("create inbound endpoint")
        .into_inner()
        .endpoint
        .unwrap()
}

async fn inbox(server: &TestServer, fx: &TenantFixture) -> Vec<wh::InboundEvent> {
    webhooks(server)
        .list_inbound_events(authed(wh::ListInboundEventsRequest { page_size: 500, ..Default::default() }, &fx.admin))
        .await
        .expect("list inbound events")
        .into_inner()
        .events
}

fn tenant_id(fx: &TenantFixture) -> TenantId {
    TenantId(Uuid::parse_str(&fx.id).unwrap())
}

/// The harness staff member works 08:00-20:00 every day and has an e-mail.
async fn ready_for_booking(server: &TestServer, fx: &TenantFixture, email: &str) {
    let staff = Uuid::parse_str(&fx.staff.id).unwrap();
    let week: Vec<_> = (1..=7)
        .map(|day_of_week| askpro::domain::slots::WeeklyInterval { day_of_week, start_minute: 480, end_minute: 1200 })
        .collect();
    let tx = server.state.store.write(tenant_id(fx)).await.unwrap();
    askpro::store::working_hours::replace(&tx, staff, &week).await.unwrap();
    tx.commit().await.unwrap();
    server
        .tenants()
        .update_staff(authed(
            tn::UpdateStaffRequest {
                staff: Some(tn::Staff { id: fx.staff.id.clone(), email: email.into(), ..Default::default() }),
                update_mask: Some(prost_types::FieldMask { paths: vec!["email".into()] }),
            },
            &fx.admin,
        ))
        .await
        .expect("give the staff member an e-mail");
}

async fn customer(server: &TestServer, fx: &TenantFixture, phone: &str, name: &str) -> ap::Customer {
    AppointmentServiceClient::new(server.channel.clone())
        .create_customer(authed(
            ap::CreateCustomerRequest {
                request_id: Uuid::now_v7().to_string(),
                customer: Some(ap::Customer {
                    phone_number: phone.into(),
                    display_name: name.into(),
                    ..Default::default()
                }),
                region_code: String::new(),
            },
            &fx.admin,
        ))
        .await
        .expect("create customer")
        .into_inner()
        .customer
        .unwrap()
}

async fn day_starts(server: &TestServer, fx: &TenantFixture, day: Date) -> Vec<i64> {
    let request = av::ListAvailableSlotsRequest {
        branch_id: fx.branch.id.clone(),
        service_id: fx.service.id.clone(),
        staff_ids: vec![fx.staff.id.clone()],
        time_range: Some(TimeRange {
            start_time: Some(pts(local(day, 0, 0))),
            end_time: Some(pts(local(day.tomorrow().unwrap(), 0, 0))),
        }),
        time_zone: String::new(),
        page_size: 1000,
        page_token: String::new(),
    };
    AvailabilityServiceClient::new(server.channel.clone())
        .list_available_slots(authed(request, &fx.agent))
        .await
        .expect("list slots")
        .into_inner()
        .slots
        .iter()
        .map(|s| s.start_time.as_ref().unwrap().seconds)
        .collect()
}

async fn appointments(server: &TestServer, fx: &TenantFixture) -> Vec<ap::Appointment> {
    AppointmentServiceClient::new(server.channel.clone())
        .list_appointments(authed(ap::ListAppointmentsRequest { page_size: 500, ..Default::default() }, &fx.admin))
        .await
        .expect("list appointments")
        .into_inner()
        .appointments
}

fn retell_call(event: &str, call_id: &str) -> Value {
    json!({
        "event": event,
        "call": {
            "call_id": call_id,
            "agent_id": "agent_1",
            "call_type": "phone_call",
            "from_number": CALLER,
            "to_number": BRANCH_NUMBER,
            "direction": "inbound",
            "start_timestamp": 1_790_000_000_000_i64,
            "end_timestamp": if event == "call_started" { Value::Null } else { json!(1_790_000_060_000_i64) },
        }
    })
}

fn calcom_booking(trigger: &str, uid: &str, start: i64, minutes: i64, organizer: &str, phone: Option<&str>) -> Value {
    json!({
        "triggerEvent": trigger,
        "createdAt": rfc3339(chrono::Utc::now().timestamp()),
        "payload": {
            "title": "Haircut between Anna and Maria",
            "startTime": rfc3339(start),
            "endTime": rfc3339(start + minutes * 60),
            "organizer": {"name": "Anna", "email": organizer, "timeZone": "Europe/Berlin"},
            "attendees": [{"name": "Maria Muster", "email": "maria@example.com", "timeZone": "Europe/Berlin",
                           "phoneNumber": phone}],
            "uid": uid,
            "status": "ACCEPTED",
        }
    })
}

async fn call_row(
    server: &TestServer,
    fx: &TenantFixture,
    provider: InboundProvider,
    id: &str,
) -> Option<askpro::store::entities::call::Model> {
    let tx = server.state.store.read(tenant_id(fx)).await.unwrap();
    let row = askpro::store::calls::find(&tx, provider, id).await.unwrap();
    tx.commit().await.unwrap();
    row
}

/// The outbox event types recorded for the tenant, oldest first.
async fn outbox_types(server: &TestServer, fx: &TenantFixture) -> Vec<String> {
    use askpro::store::entities::outbox_event;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let tx = server.state.store.read(tenant_id(fx)).await.unwrap();
    let rows = outbox_event::Entity::find()
        .filter(outbox_event::Column::TenantId.eq(tenant_id(fx).0))
        .order_by_asc(outbox_event::Column::Id)
        .all(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows.into_iter().map(|r| r.event_type).collect()
}

// ---------------------------------------------------------------------------
// Tests

async fn signature_failures_answer_401_and_store_nothing(server: &TestServer) {
    let fx = server.tenant("Salon Signatures").await;
    let calcom = endpoint(server, &fx, wh::InboundProvider::Calcom, CALCOM_SECRET).await;
    let retell = endpoint(server, &fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let secret = generate_secret();
    let standard = endpoint(server, &fx, wh::InboundProvider::StandardWebhooks, &secret).await;
    let body = bytes(&json!({"triggerEvent": "PING", "createdAt": rfc3339(0), "payload": {}}));

    let missing = post(server, &calcom.path, &[], &body).await;
    assert_eq!(missing.status, 401);
    let wrong_key = post(server, &calcom.path, &calcom_headers("another-secret", &body), &body).await;
    assert_eq!(wrong_key.status, 401);
    let mut tampered = body.clone();
    tampered.push(b' ');
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &body), &tampered).await.status, 401);

    let call = bytes(&retell_call("call_started", "call_sig"));
    let stale = chrono::Utc::now().timestamp_millis() - 6 * 60 * 1000;
    assert_eq!(post(server, &retell.path, &retell_headers_at(RETELL_KEY, &call, stale), &call).await.status, 401);
    let garbled = vec![("X-Retell-Signature".to_owned(), "v=12,d=zz".to_owned())];
    assert_eq!(post(server, &retell.path, &garbled, &call).await.status, 401);

    let other_secret = generate_secret();
    let sw = post(server, &standard.path, &standard_headers(&other_secret, "msg_1", &call), &call).await;
    assert_eq!(sw.status, 401);

    assert!(inbox(server, &fx).await.is_empty(), "nothing stored for refused requests");
    assert!(call_row(server, &fx, InboundProvider::Retell, "call_sig").await.is_none());
}

async fn bodies_over_one_mebibyte_answer_413(server: &TestServer) {
    let fx = server.tenant("Salon Large").await;
    let calcom = endpoint(server, &fx, wh::InboundProvider::Calcom, CALCOM_SECRET).await;
    let body = vec![b' '; askpro::webhooks::payload::MAX_BODY_BYTES + 1];
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\nX-Cal-Signature-256: {}\r\n\r\n",
        calcom.path,
        server.addr,
        body.len(),
        hmac_hex(CALCOM_SECRET.as_bytes(), &[&body])
    );
    assert_eq!(tolerant_post(server.addr, head.as_bytes(), &body).await, 413);
    assert!(inbox(server, &fx).await.is_empty());
}

/// Writes as much of the request as the server reads (it may answer and
/// close before the body is through) and returns the status code.
async fn tolerant_post(addr: std::net::SocketAddr, head: &[u8], body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let mut request = head.to_vec();
    request.extend_from_slice(body);
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut raw)).await;
    let _ = writing.await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 "), "a response: {text:?}");
    text[9..12].parse().unwrap()
}

async fn unknown_and_deleted_endpoints_answer_404(server: &TestServer) {
    let fx = server.tenant("Salon Gone").await;
    let body = bytes(&json!({"triggerEvent": "PING"}));
    let headers = calcom_headers(CALCOM_SECRET, &body);
    assert_eq!(post(server, "/webhooks/inbound/no-such-token", &headers, &body).await.status, 404);
    let calcom = endpoint(server, &fx, wh::InboundProvider::Calcom, CALCOM_SECRET).await;
    assert_eq!(post(server, &calcom.path, &headers, &body).await.status, 200);
    webhooks(server)
        .delete_inbound_endpoint(authed(
            wh::DeleteInboundEndpointRequest { id: calcom.id.clone(), etag: String::new() },
            &fx.admin,
        ))
        .await
        .expect("delete endpoint");
    let other = bytes(&json!({"triggerEvent": "PING", "n": 2}));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &other), &other).await.status, 404);
    assert_eq!(inbox(server, &fx).await.len(), 1, "only the event before the delete");
}

async fn unreadable_bodies_answer_400_and_are_recorded_rejected(server: &TestServer) {
    let fx = server.tenant("Salon Malformed").await;
    let retell = endpoint(server, &fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let body = bytes(&json!({"event": "call_ended", "call": {"from_number": CALLER}}));
    let response = post(server, &retell.path, &retell_headers(RETELL_KEY, &body), &body).await;
    assert_eq!(response.status, 400);
    let not_json = b"{\"event\": ".to_vec();
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &not_json), &not_json).await.status, 400);

    let events = inbox(server, &fx).await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.status == wh::InboundEventStatus::Rejected as i32));
    let reasons: Vec<&str> = events.iter().map(|e| e.rejection_reason.as_str()).collect();
    assert!(reasons.contains(&"missing field call.call_id"), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.starts_with("body is not valid JSON")), "{reasons:?}");
    assert!(reasons.iter().all(|r| !r.contains(CALLER)), "no body values in reasons");

    // A retry of the same body is a known event: 200, nothing new.
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &body), &body).await.status, 200);
    assert_eq!(inbox(server, &fx).await.len(), 2);
}

async fn retell_call_events_in_any_order_make_one_call_and_replays_change_nothing(server: &TestServer) {
    let fx = server.tenant("Salon Calls").await;
    let caller = customer(server, &fx, "0151 12345678", "Maria Muster").await;
    let retell = endpoint(server, &fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let ended = bytes(&retell_call("call_ended", "call_order"));
    let started = bytes(&retell_call("call_started", "call_order"));

    // call_ended arrives first; call_started later must not move the call back.
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &ended), &ended).await.status, 200);
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &started), &started).await.status, 200);
    // A provider retry (a new signature over the same event) changes nothing.
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &started), &started).await.status, 200);

    let call = call_row(server, &fx, InboundProvider::Retell, "call_order").await.expect("call recorded");
    assert_eq!(call.status, "ended");
    assert_eq!(call.customer_id.map(|id| id.to_string()), Some(caller.id.clone()));
    assert_eq!(call.branch_id.map(|id| id.to_string()), Some(fx.branch.id.clone()));
    assert_eq!(call.from_number, CALLER);
    assert!(call.end_time.is_some());

    let events = inbox(server, &fx).await;
    assert_eq!(events.len(), 2, "the replay was not stored again");
    for event in &events {
        assert_eq!(event.status, wh::InboundEventStatus::Processed as i32);
        assert_eq!(event.call_id, call.id.to_string());
        assert_eq!(event.customer_id, caller.id);
    }
    let keys: Vec<&str> = events.iter().map(|e| e.event_key.as_str()).collect();
    assert!(keys.contains(&"call_started:call_order") && keys.contains(&"call_ended:call_order"), "{keys:?}");
    let types = outbox_types(server, &fx).await;
    assert_eq!(types.iter().filter(|t| t.starts_with("call.")).collect::<Vec<_>>(), ["call.ended", "call.started"]);

    let other = bytes(&json!({"event": "transcript_updated", "call": {"call_id": "call_order"}}));
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &other), &other).await.status, 200);
    let events = inbox(server, &fx).await;
    assert_eq!(events[0].status, wh::InboundEventStatus::Ignored as i32);
}

async fn retell_call_ended_releases_the_calls_holds(server: &TestServer) {
    let fx = server.tenant("Salon Holds").await;
    ready_for_booking(server, &fx, "anna@salon.example").await;
    let retell = endpoint(server, &fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let day = booking_day();
    let ten = local(day, 10, 0);
    let hold = AvailabilityServiceClient::new(server.channel.clone())
        .hold_slot(authed(
            av::HoldSlotRequest {
                request_id: Uuid::now_v7().to_string(),
                branch_id: fx.branch.id.clone(),
                service_id: fx.service.id.clone(),
                staff_id: fx.staff.id.clone(),
                start_time: Some(pts(ten)),
                hold_key: "call_hold".into(),
                ttl: None,
            },
            &fx.agent,
        ))
        .await
        .expect("hold")
        .into_inner()
        .hold
        .unwrap();
    assert!(!day_starts(server, &fx, day).await.contains(&ten), "held");

    let ended = bytes(&retell_call("call_ended", "call_hold"));
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &ended), &ended).await.status, 200);

    let hold = AvailabilityServiceClient::new(server.channel.clone())
        .get_hold(authed(av::GetHoldRequest { id: hold.id.clone() }, &fx.agent))
        .await
        .unwrap()
        .into_inner()
        .hold
        .unwrap();
    assert_eq!(hold.state, av::HoldState::Released as i32);
    assert!(day_starts(server, &fx, day).await.contains(&ten), "offered again once the call ended");
}

async fn retell_call_inbound_is_answered_fast_with_the_callers_name(server: &TestServer) {
    let fx = server.tenant("Salon Inbound Call").await;
    ready_for_booking(server, &fx, "anna@salon.example").await;
    let maria = customer(server, &fx, CALLER, "Maria Muster").await;
    let day = booking_day();
    AppointmentServiceClient::new(server.channel.clone())
        .create_appointment(authed(
            ap::CreateAppointmentRequest {
                request_id: Uuid::now_v7().to_string(),
                slot: Some(ap::create_appointment_request::Slot::ExplicitSlot(ap::ExplicitSlot {
                    branch_id: fx.branch.id.clone(),
                    service_id: fx.service.id.clone(),
                    staff_id: fx.staff.id.clone(),
                    start_time: Some(pts(local(day, 10, 0))),
                })),
                customer: Some(ap::create_appointment_request::Customer::CustomerId(maria.id.clone())),
                ..Default::default()
            },
            &fx.agent,
        ))
        .await
        .expect("book for Maria");
    let retell = endpoint(server, &fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let body = bytes(&json!({
        "event": "call_inbound",
        "call_inbound": {"agent_id": "agent_1", "from_number": CALLER, "to_number": BRANCH_NUMBER}
    }));
    let started = Instant::now();
    let response = post(server, &retell.path, &retell_headers(RETELL_KEY, &body), &body).await;
    assert!(started.elapsed() < Duration::from_secs(1), "answered within a second: {:?}", started.elapsed());
    assert_eq!(response.status, 200);
    let answer: Value = serde_json::from_slice(&response.body).expect("JSON answer");
    let variables = &answer["call_inbound"]["dynamic_variables"];
    assert_eq!(variables["customer_known"], "true");
    assert_eq!(variables["customer_name"], "Maria Muster");
    assert_eq!(variables["upcoming_appointment_count"], "1");
    let next = format!("{} 10:00 Haircut with Anna", day.strftime("%Y-%m-%d"));
    assert_eq!(variables["next_appointment"], next.as_str());
    assert_eq!(variables["upcoming_appointments"], next.as_str());
    assert!(variables.as_object().unwrap().values().all(Value::is_string), "Retell wants string values");

    // Retell retries without a 2xx in time: a retry gets the same answer.
    let again = post(server, &retell.path, &retell_headers(RETELL_KEY, &body), &body).await;
    assert_eq!(serde_json::from_slice::<Value>(&again.body).unwrap(), answer);

    let stranger = bytes(&json!({
        "event": "call_inbound",
        "call_inbound": {"from_number": "+4917099999999", "to_number": BRANCH_NUMBER}
    }));
    let response = post(server, &retell.path, &retell_headers(RETELL_KEY, &stranger), &stranger).await;
    let answer: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(answer["call_inbound"]["dynamic_variables"]["customer_known"], "false");
    assert!(answer["call_inbound"]["dynamic_variables"].get("customer_name").is_none());

    let events = inbox(server, &fx).await;
    assert_eq!(events.len(), 2, "one inbox row per distinct call_inbound");
    assert!(events.iter().all(|e| e.status == wh::InboundEventStatus::Processed as i32 && e.call_id.is_empty()));
}

async fn calcom_bookings_block_slots_and_cancellations_free_them(server: &TestServer) {
    let fx = server.tenant("Salon Cal").await;
    ready_for_booking(server, &fx, "Anna@Salon.example").await;
    let calcom = endpoint(server, &fx, wh::InboundProvider::Calcom, CALCOM_SECRET).await;
    let day = booking_day();
    let ten = local(day, 10, 0);
    assert!(day_starts(server, &fx, day).await.contains(&ten));

    let created = bytes(&calcom_booking("BOOKING_CREATED", "uid_1", ten, 45, "anna@salon.EXAMPLE", Some(CALLER)));
    // The same delivery several times at once (a retry racing the first): one effect.
    let headers = calcom_headers(CALCOM_SECRET, &created);
    let answers = futures::future::join_all((0..5).map(|_| post(server, &calcom.path, &headers, &created))).await;
    assert!(answers.iter().all(|a| a.status == 200), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    assert!(!day_starts(server, &fx, day).await.contains(&ten), "the Cal.com booking blocks the slot");
    // Cal.com retries the same delivery later: nothing more.
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &created), &created).await.status, 200);

    let mirrored = appointments(server, &fx).await;
    assert_eq!(mirrored.len(), 1);
    let appointment = &mirrored[0];
    assert_eq!(appointment.source, ap::AppointmentSource::Calcom as i32);
    assert_eq!(appointment.external_booking_uid, "uid_1");
    assert_eq!(appointment.staff_id, fx.staff.id);
    assert_eq!(appointment.service_id, fx.service.id);
    assert_eq!(appointment.start_time.as_ref().unwrap().seconds, ten);
    let events = inbox(server, &fx).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, wh::InboundEventStatus::Processed as i32);
    assert_eq!(events[0].appointment_id, appointment.id);
    assert_eq!(events[0].customer_id, appointment.customer_id);

    // Rescheduled to 14:00: 10:00 is free again, 14:00 taken.
    let two = local(day, 14, 0);
    let mut moved = calcom_booking("BOOKING_RESCHEDULED", "uid_2", two, 45, "anna@salon.example", Some(CALLER));
    moved["payload"]["fromReschedule"] = json!("uid_1");
    assert_eq!(
        post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &bytes(&moved)), &bytes(&moved)).await.status,
        200
    );
    let starts = day_starts(server, &fx, day).await;
    assert!(starts.contains(&ten) && !starts.contains(&two), "moved");
    assert_eq!(appointments(server, &fx).await[0].external_booking_uid, "uid_2");

    let cancelled = bytes(&calcom_booking("BOOKING_CANCELLED", "uid_2", two, 45, "anna@salon.example", Some(CALLER)));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &cancelled), &cancelled).await.status, 200);
    assert!(day_starts(server, &fx, day).await.contains(&two), "offered again after the cancellation");
    let all = appointments(server, &fx).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, ap::AppointmentStatus::Cancelled as i32);
    let types = outbox_types(server, &fx).await;
    let booking_types: Vec<&str> = types
        .iter()
        .map(String::as_str)
        .filter(|t| t.starts_with("appointment.") || *t == "customer.created")
        .collect();
    assert_eq!(
        booking_types,
        ["customer.created", "appointment.created", "appointment.rescheduled", "appointment.cancelled"]
    );

    let other = bytes(&json!({"triggerEvent": "MEETING_ENDED", "createdAt": rfc3339(ten), "payload": {}}));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &other), &other).await.status, 200);
    assert_eq!(inbox(server, &fx).await[0].status, wh::InboundEventStatus::Ignored as i32);
}

async fn calcom_bookings_that_cannot_be_mirrored_are_rejected_never_double_booked(server: &TestServer) {
    let fx = server.tenant("Salon Cal Taken").await;
    ready_for_booking(server, &fx, "anna@salon.example").await;
    let calcom = endpoint(server, &fx, wh::InboundProvider::Calcom, CALCOM_SECRET).await;
    let day = booking_day();
    let ten = local(day, 10, 0);
    let first = bytes(&calcom_booking("BOOKING_CREATED", "uid_a", ten, 45, "anna@salon.example", Some(CALLER)));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &first), &first).await.status, 200);

    let overlapping =
        bytes(&calcom_booking("BOOKING_CREATED", "uid_b", ten + 900, 45, "anna@salon.example", Some(CALLER)));
    assert_eq!(
        post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &overlapping), &overlapping).await.status,
        200
    );
    let no_phone =
        bytes(&calcom_booking("BOOKING_CREATED", "uid_c", local(day, 16, 0), 45, "anna@salon.example", None));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &no_phone), &no_phone).await.status, 200);
    let stranger =
        bytes(&calcom_booking("BOOKING_CREATED", "uid_d", local(day, 17, 0), 45, "bob@else.example", Some(CALLER)));
    assert_eq!(post(server, &calcom.path, &calcom_headers(CALCOM_SECRET, &stranger), &stranger).await.status, 200);

    assert_eq!(appointments(server, &fx).await.len(), 1, "no double booking, nothing half-mirrored");
    let events = inbox(server, &fx).await;
    let reason_of = |uid: &str| {
        events.iter().find(|e| e.event_key.contains(uid)).map(|e| (e.status, e.rejection_reason.clone())).unwrap()
    };
    let rejected = wh::InboundEventStatus::Rejected as i32;
    assert_eq!(reason_of("uid_b"), (rejected, "slot taken".to_owned()));
    assert_eq!(reason_of("uid_c").0, rejected);
    assert!(reason_of("uid_c").1.contains("phoneNumber"), "{:?}", reason_of("uid_c"));
    assert_eq!(reason_of("uid_d").0, rejected);
    assert!(reason_of("uid_d").1.contains("organizer"));
}

async fn standard_webhooks_call_events_are_recorded_and_other_types_ignored(server: &TestServer) {
    let fx = server.tenant("Salon Standard").await;
    let caller = customer(server, &fx, CALLER, "Maria Muster").await;
    let secret = generate_secret();
    let standard = endpoint(server, &fx, wh::InboundProvider::StandardWebhooks, &secret).await;
    let body = bytes(&json!({
        "type": "call.analyzed",
        "timestamp": rfc3339(chrono::Utc::now().timestamp()),
        "data": {"callId": "sw_call_1", "branchId": fx.branch.id, "fromNumber": CALLER,
                 "startTime": rfc3339(1_790_000_000), "endTime": rfc3339(1_790_000_060),
                 "analysis": {"call_successful": true}}
    }));
    assert_eq!(post(server, &standard.path, &standard_headers(&secret, "msg_a", &body), &body).await.status, 200);
    // The same webhook-id again (a retry): nothing more.
    assert_eq!(post(server, &standard.path, &standard_headers(&secret, "msg_a", &body), &body).await.status, 200);
    let call = call_row(server, &fx, InboundProvider::StandardWebhooks, "sw_call_1").await.expect("recorded");
    assert_eq!(call.status, "analyzed");
    assert_eq!(call.customer_id.map(|id| id.to_string()), Some(caller.id));
    assert_eq!(call.branch_id.map(|id| id.to_string()), Some(fx.branch.id.clone()));
    assert!(call.analysis.unwrap().contains("call_successful"));

    let other = bytes(&json!({"type": "appointment.created", "timestamp": rfc3339(0), "data": {}}));
    assert_eq!(post(server, &standard.path, &standard_headers(&secret, "msg_b", &other), &other).await.status, 200);
    let events = inbox(server, &fx).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event_key, "msg_b");
    assert_eq!(events[0].status, wh::InboundEventStatus::Ignored as i32);
    assert_eq!(events[1].event_key, "msg_a");
    assert_eq!(events[1].status, wh::InboundEventStatus::Processed as i32);
}

async fn another_tenants_endpoint_cannot_affect_this_tenant(server: &TestServer) {
    let ours = server.tenant("Salon Ours").await;
    let theirs = server.tenant("Salon Theirs").await;
    ready_for_booking(server, &ours, "anna@ours.example").await;
    let our_endpoint = endpoint(server, &ours, wh::InboundProvider::Calcom, CALCOM_SECRET).await;
    let their_endpoint = endpoint(server, &theirs, wh::InboundProvider::Calcom, "their-secret").await;
    let day = booking_day();
    let ten = local(day, 10, 0);
    let booking = bytes(&calcom_booking("BOOKING_CREATED", "uid_x", ten, 45, "anna@ours.example", Some(CALLER)));

    // Their token with our secret: refused.
    assert_eq!(
        post(server, &their_endpoint.path, &calcom_headers(CALCOM_SECRET, &booking), &booking).await.status,
        401
    );
    // Their token, their secret: handled in their tenant, where our staff does not exist.
    let response = post(server, &their_endpoint.path, &calcom_headers("their-secret", &booking), &booking).await;
    assert_eq!(response.status, 200);
    assert!(day_starts(server, &ours, day).await.contains(&ten), "our slot untouched");
    assert!(appointments(server, &ours).await.is_empty());
    assert!(inbox(server, &ours).await.is_empty());
    let their_events = inbox(server, &theirs).await;
    assert_eq!(their_events.len(), 1);
    assert_eq!(their_events[0].status, wh::InboundEventStatus::Rejected as i32);
    assert_eq!(their_events[0].endpoint_id, their_endpoint.id);
    assert_ne!(our_endpoint.path, their_endpoint.path);
}

/// While the database cannot answer within the call's time (here: the tenant's
/// writes are blocked from outside), the provider gets 503 and nothing is
/// stored; its retry afterwards is processed.
async fn a_database_that_cannot_answer_in_time_gets_503_and_nothing_is_stored(backend: common::Backend) {
    let Some(server) = TestServer::start_with(backend, |config| config.default_deadline_secs = 1).await else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the 503 test on PostgreSQL");
        return;
    };
    let fx = server.tenant("Salon Busy").await;
    let retell = endpoint(&server, &fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let body = bytes(&retell_call("call_started", "call_busy"));

    let blocker = WriteBlocker::hold(&server, &fx).await;
    let response = post(&server, &retell.path, &retell_headers(RETELL_KEY, &body), &body).await;
    assert_eq!(response.status, 503);
    blocker.release().await;

    assert!(inbox(&server, &fx).await.is_empty(), "nothing stored");
    assert!(call_row(&server, &fx, InboundProvider::Retell, "call_busy").await.is_none());
    assert_eq!(post(&server, &retell.path, &retell_headers(RETELL_KEY, &body), &body).await.status, 200);
    assert_eq!(inbox(&server, &fx).await.len(), 1);
    server.stop().await;
}

/// Blocks the inbox from outside the server: on SQLite by holding the store's
/// write gate (as a long write would), on PostgreSQL by locking the table.
enum WriteBlocker {
    Gate(askpro::store::TenantTx),
    Lock(sea_orm::DatabaseTransaction),
}

impl WriteBlocker {
    async fn hold(server: &TestServer, fx: &TenantFixture) -> Self {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        match server.backend() {
            common::Backend::Sqlite => WriteBlocker::Gate(server.state.store.write(tenant_id(fx)).await.unwrap()),
            common::Backend::Postgres => {
                let db = sea_orm::Database::connect(server.db.url()).await.unwrap();
                let txn = db.begin().await.unwrap();
                txn.execute_unprepared("LOCK TABLE inbound_events IN ACCESS EXCLUSIVE MODE").await.unwrap();
                WriteBlocker::Lock(txn)
            }
        }
    }

    async fn release(self) {
        match self {
            WriteBlocker::Gate(tx) => drop(tx),
            WriteBlocker::Lock(txn) => txn.rollback().await.unwrap(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_answer_in_time_gets_503_sqlite() {
    a_database_that_cannot_answer_in_time_gets_503_and_nothing_is_stored(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_answer_in_time_gets_503_postgres() {
    a_database_that_cannot_answer_in_time_gets_503_and_nothing_is_stored(common::Backend::Postgres).await;
}

async fn retention_removes_old_inbox_records_only(server: &TestServer) {
    let fx = server.tenant("Salon Vergesslich").await;
    let retell = endpoint(server, &fx, wh::InboundProvider::Retell, RETELL_KEY).await;
    let started = bytes(&retell_call("call_started", "call_kept"));
    assert_eq!(post(server, &retell.path, &retell_headers(RETELL_KEY, &started), &started).await.status, 200);
    assert_eq!(inbox(server, &fx).await.len(), 1);

    let store = &server.state.store;
    let recent = chrono::Utc::now() - chrono::Duration::days(1);
    let purged = askpro::jobs::webhook_retention::run_once(store, recent).await.expect("retention pass");
    assert_eq!(purged.inbound_events, 0, "a record younger than the cut-off stays");
    assert_eq!(inbox(server, &fx).await.len(), 1);

    let future = chrono::Utc::now() + chrono::Duration::days(1);
    let purged = askpro::jobs::webhook_retention::run_once(store, future).await.expect("retention pass");
    assert_eq!(purged.inbound_events, 1);
    assert!(inbox(server, &fx).await.is_empty());
    // The call the event recorded is data, not log: it stays.
    assert!(call_row(server, &fx, InboundProvider::Retell, "call_kept").await.is_some());
}

on_both_databases!(
    signature_failures_answer_401_and_store_nothing,
    bodies_over_one_mebibyte_answer_413,
    unknown_and_deleted_endpoints_answer_404,
    unreadable_bodies_answer_400_and_are_recorded_rejected,
    retell_call_events_in_any_order_make_one_call_and_replays_change_nothing,
    retell_call_ended_releases_the_calls_holds,
    retell_call_inbound_is_answered_fast_with_the_callers_name,
    calcom_bookings_block_slots_and_cancellations_free_them,
    calcom_bookings_that_cannot_be_mirrored_are_rejected_never_double_booked,
    standard_webhooks_call_events_are_recorded_and_other_types_ignored,
    another_tenants_endpoint_cannot_affect_this_tenant,
    retention_removes_old_inbox_records_only,
);
