//! Inbound provider webhooks over plain HTTP/1.1 against a real server:
//! signatures (401, nothing stored), size (413), unreadable bodies (400,
//! stored REJECTED), replays, reordered call events, holds released when a
//! call ends, Retell's inbound-call answer, Cal.com bookings blocking and
//! freeing slots, deleted endpoints and tenant isolation. Every test runs on
//! SQLite and (with ASKPRO_TEST_DATABASE_URL) on PostgreSQL.

mod calcom;
mod calls;
#[path = "../common/mod.rs"]
mod common;
mod inbox;
mod limits;

use std::time::{Duration, Instant};

use askpro::domain::webhook::InboundProvider;
use askpro::proto::appointment::v1 as ap;
use askpro::proto::availability::v1 as av;
use askpro::proto::webhook::v1 as wh;
use askpro::webhooks::sign::{SigningKey, generate_secret, signature_header};
use common::http::{HttpResponse, http1};
use common::salon::Salon;
use common::time::BookingDay;
use common::{TenantFixture, TestServer, authed};
use hmac::Mac;
use serde_json::{Value, json};
use uuid::Uuid;

const CALCOM_SECRET: &str = "calcom-webhook-secret";
const RETELL_KEY: &str = "key_retell_test_0123456789";

/// The harness branch's number ("030 1234567" read in DE).
const BRANCH_NUMBER: &str = "+49301234567";
const CALLER: &str = "+4915112345678";

fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

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

async fn endpoint(
    server: &TestServer,
    fx: &TenantFixture,
    provider: wh::InboundProvider,
    secret: &str,
) -> wh::InboundEndpoint {
    server
        .webhooks()
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
    server
        .webhooks()
        .list_inbound_events(authed(wh::ListInboundEventsRequest { page_size: 500, ..Default::default() }, &fx.admin))
        .await
        .expect("list inbound events")
        .into_inner()
        .events
}

async fn customer(server: &TestServer, fx: &TenantFixture, phone: &str, name: &str) -> ap::Customer {
    server
        .appointments()
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

async fn appointments(server: &TestServer, fx: &TenantFixture) -> Vec<ap::Appointment> {
    server
        .appointments()
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
    let tx = server.state.store.read(fx.tenant_id()).await.unwrap();
    let row = askpro::store::calls::find(&tx, provider, id).await.unwrap();
    tx.commit().await.unwrap();
    row
}

/// The outbox event types recorded for the tenant, oldest first.
async fn outbox_types(server: &TestServer, fx: &TenantFixture) -> Vec<String> {
    use askpro::store::entities::outbox_event;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let tx = server.state.store.read(fx.tenant_id()).await.unwrap();
    let rows = outbox_event::Entity::find()
        .filter(outbox_event::Column::TenantId.eq(fx.tenant_id().0))
        .order_by_asc(outbox_event::Column::Id)
        .all(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows.into_iter().map(|r| r.event_type).collect()
}
