//! WatchAppointments delivers committed changes: over grpc-web from a
//! browser (HTTP/1.1), and on PostgreSQL through any replica.
mod common;

use std::time::Duration;

use askpro::proto::appointment::v1 as pb;
use askpro::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use common::booking::explicit_booking;
use common::{TenantFixture, TestServer, authed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_stream::StreamExt;

/// Tomorrow at 10:00 UTC (noon or 11:00 in Berlin): inside the hours, on the grid.
fn tomorrow_at_ten(days: i64) -> prost_types::Timestamp {
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(days as u64);
    let at = day.and_hms_opt(10, 0, 0).unwrap().and_utc();
    prost_types::Timestamp { seconds: at.timestamp(), nanos: 0 }
}

async fn book(server: &TestServer, tenant: &TenantFixture, request_id: &str, days: i64) -> pb::Appointment {
    let (branch, service, staff) = (&tenant.branch.id, &tenant.service.id, &tenant.staff.id);
    let request = pb::CreateAppointmentRequest {
        request_id: request_id.into(),
        customer: Some(pb::create_appointment_request::Customer::NewCustomer(pb::CustomerInput {
            phone_number: "0151 23456789".into(),
            display_name: "Erika Mustermann".into(),
            email: String::new(),
        })),
        source: pb::AppointmentSource::PhoneAgent as i32,
        ..explicit_booking(branch, service, staff, tomorrow_at_ten(days).seconds, "")
    };
    server
        .appointments()
        .create_appointment(authed(request, &tenant.agent))
        .await
        .expect("booking succeeds")
        .into_inner()
        .appointment
        .unwrap()
}

async fn watch_over_grpc_web_delivers_a_booking(server: &TestServer) {
    let tenant = server.tenant("Salon Browser").await;
    server.open_daily(&tenant, &tenant.staff.id, 8 * 60, 20 * 60).await;
    let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /askpro.appointment.v1.AppointmentService/WatchAppointments HTTP/1.1\r\n\
         Host: {addr}\r\nContent-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\n\
         Origin: http://localhost:5173\r\nAuthorization: Bearer {key}\r\nContent-Length: 5\r\n\r\n",
        addr = server.addr,
        key = tenant.reader,
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&[0, 0, 0, 0, 0]).await.unwrap();
    // The response headers arrive once the stream is open.
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(10), async {
        while !String::from_utf8_lossy(&received).contains("\r\n\r\n") {
            let n = socket.read(&mut buffer).await.unwrap();
            assert!(n > 0, "stream closed early: {}", String::from_utf8_lossy(&received));
            received.extend_from_slice(&buffer[..n]);
        }
    })
    .await
    .expect("stream opens");
    let headers = String::from_utf8_lossy(&received).to_ascii_lowercase();
    assert!(headers.starts_with("http/1.1 200"), "{headers}");
    assert!(headers.contains("access-control-allow-origin"), "{headers}");

    let booked = book(server, &tenant, "web-1", 2).await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while !received.windows(booked.id.len()).any(|w| w == booked.id.as_bytes()) {
            let n = socket.read(&mut buffer).await.unwrap();
            assert!(n > 0, "stream closed before the change arrived");
            received.extend_from_slice(&buffer[..n]);
        }
    })
    .await
    .expect("the booking arrives on the grpc-web stream");
}

async fn watchers_see_only_their_tenant(server: &TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    server.open_daily(&a, &a.staff.id, 8 * 60, 20 * 60).await;
    server.open_daily(&b, &b.staff.id, 8 * 60, 20 * 60).await;
    let mut client = server.appointments();
    let mut stream = client
        .watch_appointments(authed(pb::WatchAppointmentsRequest::default(), &a.reader))
        .await
        .unwrap()
        .into_inner();
    let foreign = book(server, &b, "b-1", 3).await;
    let own = book(server, &a, "a-1", 3).await;
    let change =
        tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("a change").unwrap().unwrap();
    assert_eq!(change.change, pb::AppointmentChange::Created as i32);
    let appointment = change.appointment.unwrap();
    assert_eq!(appointment.id, own.id, "the first change A sees is its own, never B's {}", foreign.id);
}

on_both_databases!(watch_over_grpc_web_delivers_a_booking, watchers_see_only_their_tenant);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_watchers_on_other_replicas() {
    let Some(first) = TestServer::start(common::Backend::Postgres).await else {
        common::say_skipped("set ASKPRO_TEST_DATABASE_URL to run the cross-replica change feed test on PostgreSQL");
        return;
    };
    // A second replica over the same database.
    let second = first.second_replica().await;
    let tenant = first.tenant("Salon Replicas").await;
    first.open_daily(&tenant, &tenant.staff.id, 8 * 60, 20 * 60).await;
    let mut watcher = AppointmentServiceClient::new(second.channel.clone());
    let mut stream = watcher
        .watch_appointments(authed(pb::WatchAppointmentsRequest::default(), &tenant.reader))
        .await
        .unwrap()
        .into_inner();
    // Give the second replica's listener a moment to be subscribed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let booked = book(&first, &tenant, "replica-1", 4).await;
    let change = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the change crosses replicas")
        .unwrap()
        .unwrap();
    assert_eq!(change.appointment.unwrap().id, booked.id);
    // Graceful shutdown waits for open streams: close ours first.
    drop(stream);
    drop(watcher);
    second.stop().await;
    first.stop().await;
}
