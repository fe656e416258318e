//! The outbound webhook POST against real local receivers: headers that a
//! Standard Webhooks receiver verifies, the contract's reading of answers
//! (2xx, 410, redirects, errors, timeouts) and the refused destinations.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askpro::webhooks::sender::{Outcome, Outgoing, Sender};
use askpro::webhooks::sign::{SigningKey, generate_secret};
use askpro::webhooks::verify::{Scheme, verify};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

/// One request as the receiver got it: headers and raw body.
type Request = (HeaderMap, Vec<u8>);

#[derive(Clone, Default)]
struct Received {
    requests: Arc<Mutex<Vec<Request>>>,
}

/// A receiver on 127.0.0.1 answering `status` (after `delay`) and keeping
/// what it got.
async fn receiver(status: StatusCode, delay: Duration) -> (String, Received) {
    let received = Received::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(move |State(seen): State<Received>, headers: HeaderMap, body: axum::body::Bytes| async move {
                seen.requests.lock().unwrap().push((headers, body.to_vec()));
                tokio::time::sleep(delay).await;
                status
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test]
async fn a_delivery_carries_headers_a_standard_webhooks_receiver_verifies() {
    let (url, received) = receiver(StatusCode::NO_CONTENT, Duration::ZERO).await;
    let secret = generate_secret();
    let keys = [SigningKey::from_secret(&secret).unwrap()];
    let body = br#"{"type":"appointment.created","timestamp":"2026-11-24T10:00:00Z","data":{}}"#;
    let outgoing = Outgoing { url: &url, event_id: "01a2-event", body, keys: &keys, request_id: Some("call-4711") };
    let (outcome, _latency) = Sender::new(true).post(&outgoing).await;
    assert_eq!(outcome, Outcome::Delivered { status: 204 });

    let requests = received.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let (headers, got) = &requests[0];
    assert_eq!(got.as_slice(), body);
    assert_eq!(headers["webhook-id"], "01a2-event");
    assert_eq!(headers["x-request-id"], "call-4711");
    assert_eq!(headers["content-type"], "application/json");
    verify(Scheme::StandardWebhooks, &secret, headers, got, chrono::Utc::now()).expect("the signature verifies");
    let other = generate_secret();
    assert!(verify(Scheme::StandardWebhooks, &other, headers, got, chrono::Utc::now()).is_err());
}

#[tokio::test]
async fn during_a_rotation_both_secrets_verify() {
    let (url, received) = receiver(StatusCode::OK, Duration::ZERO).await;
    let (new, old) = (generate_secret(), generate_secret());
    let keys = [SigningKey::from_secret(&new).unwrap(), SigningKey::from_secret(&old).unwrap()];
    let outgoing = Outgoing { url: &url, event_id: "evt", body: b"{}", keys: &keys, request_id: None };
    assert_eq!(Sender::new(true).post(&outgoing).await.0, Outcome::Delivered { status: 200 });
    let (headers, body) = received.requests.lock().unwrap()[0].clone();
    let signatures = headers["webhook-signature"].to_str().unwrap().to_owned();
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    for secret in [&new, &old] {
        verify(Scheme::StandardWebhooks, secret, &headers, &body, chrono::Utc::now()).expect("verifies");
    }
}

#[tokio::test]
async fn answers_other_than_2xx_fail_and_410_means_gone() {
    let keys = [SigningKey::from_secret(&generate_secret()).unwrap()];
    for (status, expected) in [
        (StatusCode::GONE, Outcome::Gone),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Outcome::Failed { status: Some(500), error: "the receiver answered 500".into() },
        ),
        (StatusCode::FOUND, Outcome::Failed { status: Some(302), error: "redirects are not followed".into() }),
    ] {
        let (url, _) = receiver(status, Duration::ZERO).await;
        let outgoing = Outgoing { url: &url, event_id: "evt", body: b"{}", keys: &keys, request_id: None };
        assert_eq!(Sender::new(true).post(&outgoing).await.0, expected, "{status}");
    }
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let (url, _) = receiver(StatusCode::OK, Duration::from_secs(5)).await;
    let keys = [SigningKey::from_secret(&generate_secret()).unwrap()];
    let outgoing = Outgoing { url: &url, event_id: "evt", body: b"{}", keys: &keys, request_id: None };
    let (outcome, latency) = Sender::with_timeout(true, Duration::from_millis(300)).post(&outgoing).await;
    assert_eq!(outcome, Outcome::Failed { status: None, error: "timed out".into() });
    assert!(latency < Duration::from_secs(3), "{latency:?}");
}

#[tokio::test]
async fn private_and_unallowed_loopback_destinations_are_refused_before_sending() {
    let (url, received) = receiver(StatusCode::OK, Duration::ZERO).await;
    let keys = [SigningKey::from_secret(&generate_secret()).unwrap()];
    let localhost = url.replace("127.0.0.1", "localhost");
    for target in [url.as_str(), localhost.as_str(), "http://10.1.2.3/hook", "http://[fe80::1]/hook"] {
        let outgoing = Outgoing { url: target, event_id: "evt", body: b"{}", keys: &keys, request_id: None };
        let (outcome, latency) = Sender::new(false).post(&outgoing).await;
        let Outcome::Failed { status: None, error } = &outcome else { panic!("{target}: {outcome:?}") };
        assert!(error.starts_with("destination refused"), "{target}: {error}");
        assert!(!error.contains("hook"), "the error names no URL: {error}");
        assert!(latency < Duration::from_secs(2), "{target}: refused at once, not after a connect attempt");
    }
    assert!(received.requests.lock().unwrap().is_empty(), "nothing reached the receiver");
}
