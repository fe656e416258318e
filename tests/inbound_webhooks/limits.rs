//! What unauthenticated traffic may cost: a request to an unknown token is
//! answered before its body is read, a client address that fails too often
//! (unknown tokens, bad signatures, bad API keys) is refused before any
//! lookup, and slow webhook POSTs draw from their own concurrency budget, so
//! the gRPC API keeps answering while webhooks are flooded.

use secrecy::ExposeSecret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;

use super::*;

/// Sends `head` (and no body) and reads the status line, within `within`.
async fn status_without_body(addr: std::net::SocketAddr, head: &str, within: Duration) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = vec![0u8; 512];
    let read = tokio::time::timeout(within, stream.read(&mut raw)).await.ok()?.ok()?;
    let text = String::from_utf8_lossy(&raw[..read]).into_owned();
    text.strip_prefix("HTTP/1.1 ").and_then(|rest| rest.get(..3)).and_then(|code| code.parse().ok())
}

/// A POST that declares a 1 MiB body and sends none of it: the kind a slow
/// client holds open.
fn stalled_post(server: &TestServer, path: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        askpro::webhooks::payload::MAX_BODY_BYTES
    )
}

async fn unknown_tokens_are_answered_before_the_body_is_read(server: &TestServer) {
    let head = stalled_post(server, "/webhooks/inbound/no-such-token");
    let started = Instant::now();
    let status = status_without_body(server.addr, &head, Duration::from_secs(5)).await;
    assert_eq!(status, Some(404), "answered without waiting for the body");
    assert!(started.elapsed() < Duration::from_secs(5));
}

async fn an_address_that_fails_too_often_is_refused_before_any_lookup(server: &TestServer) {
    let fx = server.tenant("Salon Door").await;
    // A key used before the flood is verified from this replica's cache.
    let known = appointments(server, &fx).await;
    assert!(known.is_empty());

    let body = bytes(&json!({"triggerEvent": "PING"}));
    let headers = calcom_headers(CALCOM_SECRET, &body);
    // A burst of three failures; the fourth goes over the quota.
    for _ in 0..4 {
        assert_eq!(post(server, "/webhooks/inbound/guessed-token", &headers, &body).await.status, 404);
    }
    let refused = post(server, "/webhooks/inbound/guessed-token", &headers, &body).await;
    assert_eq!(refused.status, 429, "refused without a lookup after going over");
    let wait: u64 = refused.header("retry-after").expect("Retry-After").parse().expect("whole seconds");
    assert!((1..=60).contains(&wait), "Retry-After {wait}");

    // The same address guessing API keys gets no lookup either.
    let guessed = askpro::domain::api_key::issue();
    let status = common::expect_code(
        server
            .appointments()
            .list_appointments(authed(ap::ListAppointmentsRequest::default(), guessed.full_key.expose_secret()))
            .await,
        Code::ResourceExhausted,
    );
    assert_eq!(common::reason(&status), "RATE_LIMITED");
    assert_eq!(common::error_metadata(&status).get("limit").map(String::as_str), Some("client_address"));
    // A key this replica verified lately still works from that address.
    assert!(appointments(server, &fx).await.is_empty());
}

/// Failures that cost no lookup (no key, a malformed one, the same made-up
/// key again) never hold an address off: a client checking that every
/// method needs a key keeps hearing UNAUTHENTICATED.
async fn failures_that_cost_nothing_do_not_count(server: &TestServer) {
    let guessed = askpro::domain::api_key::issue();
    for key in ["", "not-a-key", guessed.full_key.expose_secret()].into_iter().cycle().take(15) {
        let mut request = tonic::Request::new(ap::ListAppointmentsRequest::default());
        if !key.is_empty() {
            request.metadata_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
        }
        let status = common::expect_code(server.appointments().list_appointments(request).await, Code::Unauthenticated);
        assert!(common::reason(&status).starts_with("API_KEY_"), "{status:?}");
    }
}

async fn slow_webhook_posts_leave_the_api_its_permits(server: &TestServer) {
    let fx = server.tenant("Salon Flood").await;
    let calcom = endpoint(server, &fx, wh::InboundProvider::Calcom, CALCOM_SECRET).await;
    // More stalled webhook POSTs than the whole server may run calls at once.
    let mut stalled = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(stalled_post(server, &calcom.path).as_bytes()).await.unwrap();
        stream.write_all(b"{\"triggerEvent\":").await.unwrap();
        stalled.push(stream);
    }
    // Let the server accept them and take their permits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fourth = status_without_body(server.addr, &stalled_post(server, &calcom.path), Duration::from_secs(5)).await;
    assert_eq!(fourth, Some(503), "beyond the webhook budget");
    // The API answers meanwhile, twice at once.
    let (first, second) = tokio::join!(appointments(server, &fx), appointments(server, &fx));
    assert!(first.is_empty() && second.is_empty());
    drop(stalled);
}

/// The value of a counter series on the metrics page (0 when absent).
async fn counter(server: &TestServer, series: &str) -> f64 {
    let page = common::http::get(server.addr, "/metrics").await;
    String::from_utf8_lossy(&page.body)
        .lines()
        .find_map(|line| line.strip_prefix(series).map(|rest| rest.trim().parse::<f64>().unwrap_or(0.0)))
        .unwrap_or(0.0)
}

async fn an_unknown_key_sent_again_costs_no_lookup(server: &TestServer) {
    let series = "askpro_cache_hits_total{cache=\"api_key_unknown\"}";
    let before = counter(server, series).await;
    let guessed = askpro::domain::api_key::issue();
    for _ in 0..3 {
        let call = server
            .appointments()
            .list_appointments(authed(ap::ListAppointmentsRequest::default(), guessed.full_key.expose_secret()))
            .await;
        assert_eq!(common::reason(&common::expect_code(call, Code::Unauthenticated)), "API_KEY_INVALID");
    }
    // The process-wide counter may grow from other tests too, never shrink.
    assert!(counter(server, series).await - before >= 2.0, "the second and third were answered from memory");
}

fn tight_limits(config: &mut askpro::config::Config) {
    config.unauthenticated_limit_per_address = askpro::config::Quota { per_second: 1, burst: 3 };
    config.max_concurrent_calls = 2;
    config.max_concurrent_webhooks = 3;
}

on_both_databases_with!(
    tight_limits;
    unknown_tokens_are_answered_before_the_body_is_read,
    an_address_that_fails_too_often_is_refused_before_any_lookup,
    failures_that_cost_nothing_do_not_count,
    slow_webhook_posts_leave_the_api_its_permits,
);

on_both_databases!(an_unknown_key_sent_again_costs_no_lookup);
