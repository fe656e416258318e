//! What the inbox keeps: refused requests (401, 413, 404, 503) store
//! nothing, unreadable bodies are recorded REJECTED, retention removes old
//! records only.

use super::*;

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
    server
        .webhooks()
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
    Gate(Box<askpro::store::TenantTx>),
    Lock(sea_orm::DatabaseTransaction),
}

impl WriteBlocker {
    async fn hold(server: &TestServer, fx: &TenantFixture) -> Self {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        match server.backend() {
            common::Backend::Sqlite => {
                WriteBlocker::Gate(Box::new(server.state.store.write(fx.tenant_id()).await.unwrap()))
            }
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
    retention_removes_old_inbox_records_only,
);
