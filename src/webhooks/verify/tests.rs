//! The verifier against each scheme's signing, tampering, headers and clocks.
use hmac::Mac;

use super::super::sign::{generate_secret, hmac_sha256, sign, signature_header};
use super::*;
use http::HeaderValue;

// Vectors computed independently with Python's `hmac` module
// (hmac.new(key, msg, hashlib.sha256).hexdigest()) and, for Standard
// Webhooks, the reference `standardwebhooks` 1.1.0 package.
const CALCOM_SECRET: &str = "calcom-secret";
const CALCOM_BODY: &[u8] = br#"{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"bFJeNb2uX8ANpT3JL5EfXw"}}"#;
const CALCOM_HEX: &str = "b4472ac0c07b9b569a1e53b1f637914bc887fb4fbf91ff9cac63fff800501ac0";

const RETELL_KEY: &str = "key_retell_test_0123456789";
const RETELL_BODY: &[u8] = br#"{"event":"call_ended","call":{"call_id":"call_abc"}}"#;
const RETELL_MS: i64 = 1_714_000_000_000;
const RETELL_HEX: &str = "0a8bc4003ac1e632aafe201525dca15d05a47f8d564548ac946b0cca8f1a0e93";

const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SW_TS: i64 = 1_614_265_330;
const SW_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SW_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn at_secs(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

fn at_millis(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap()
}

fn tampered(body: &[u8]) -> Vec<u8> {
    let mut copy = body.to_vec();
    copy[body.len() / 2] ^= 0x01;
    copy
}

fn retell_header(key: &str, body: &[u8], millis_text: &str) -> String {
    let mut mac = hmac_sha256(key.as_bytes());
    mac.update(body);
    mac.update(millis_text.as_bytes());
    format!("v={millis_text},d={}", hex::encode(mac.finalize().into_bytes()))
}

fn sw_headers(id: &str, ts: i64, signature: &str) -> HeaderMap {
    headers(&[(WEBHOOK_ID, id), (WEBHOOK_TIMESTAMP, &ts.to_string()), (WEBHOOK_SIGNATURE, signature)])
}

fn sw_verify(secret: &str, headers: &HeaderMap, body: &[u8], now: i64) -> Result<Verified, Rejection> {
    verify(Scheme::StandardWebhooks, secret, headers, body, at_secs(now))
}

// --- Cal.com ---------------------------------------------------------

#[test]
fn calcom_signature_computed_by_python_hmac_is_accepted() {
    let h = headers(&[(CALCOM_SIGNATURE, CALCOM_HEX)]);
    assert_eq!(verify(Scheme::CalCom, CALCOM_SECRET, &h, CALCOM_BODY, at_secs(0)), Ok(Verified::CalCom));
}

#[test]
fn calcom_uppercase_hex_is_accepted() {
    let h = headers(&[(CALCOM_SIGNATURE, &CALCOM_HEX.to_uppercase())]);
    assert_eq!(verify(Scheme::CalCom, CALCOM_SECRET, &h, CALCOM_BODY, at_secs(0)), Ok(Verified::CalCom));
}

#[test]
fn calcom_body_with_one_byte_changed_is_rejected() {
    let h = headers(&[(CALCOM_SIGNATURE, CALCOM_HEX)]);
    let result = verify(Scheme::CalCom, CALCOM_SECRET, &h, &tampered(CALCOM_BODY), at_secs(0));
    assert_eq!(result, Err(Rejection::BadSignature));
}

#[test]
fn calcom_wrong_secret_is_rejected() {
    let h = headers(&[(CALCOM_SIGNATURE, CALCOM_HEX)]);
    let result = verify(Scheme::CalCom, "calcom-secreT", &h, CALCOM_BODY, at_secs(0));
    assert_eq!(result, Err(Rejection::BadSignature));
}

#[test]
fn calcom_missing_header_is_rejected() {
    let result = verify(Scheme::CalCom, CALCOM_SECRET, &HeaderMap::new(), CALCOM_BODY, at_secs(0));
    assert_eq!(result, Err(Rejection::MissingHeader(CALCOM_SIGNATURE)));
}

#[test]
fn calcom_garbled_headers_are_malformed() {
    let prefixed = format!("sha256={CALCOM_HEX}");
    let short = &CALCOM_HEX[..62];
    let non_hex = format!("{}zz", &CALCOM_HEX[..62]);
    for value in ["", prefixed.as_str(), short, non_hex.as_str()] {
        let h = headers(&[(CALCOM_SIGNATURE, value)]);
        let result = verify(Scheme::CalCom, CALCOM_SECRET, &h, CALCOM_BODY, at_secs(0));
        assert_eq!(result, Err(Rejection::MalformedHeader(CALCOM_SIGNATURE)), "{value:?}");
    }
    let twice = headers(&[(CALCOM_SIGNATURE, CALCOM_HEX), (CALCOM_SIGNATURE, CALCOM_HEX)]);
    let result = verify(Scheme::CalCom, CALCOM_SECRET, &twice, CALCOM_BODY, at_secs(0));
    assert_eq!(result, Err(Rejection::MalformedHeader(CALCOM_SIGNATURE)));
    let mut binary = HeaderMap::new();
    binary.insert(CALCOM_SIGNATURE, HeaderValue::from_bytes(b"\xff\xfe").unwrap());
    let result = verify(Scheme::CalCom, CALCOM_SECRET, &binary, CALCOM_BODY, at_secs(0));
    assert_eq!(result, Err(Rejection::MalformedHeader(CALCOM_SIGNATURE)));
}

#[test]
fn empty_secret_is_a_bad_secret_for_every_scheme() {
    for scheme in [Scheme::CalCom, Scheme::Retell, Scheme::StandardWebhooks] {
        assert_eq!(check_secret(scheme, ""), Err(Rejection::BadSecret));
        assert_eq!(verify(scheme, "", &HeaderMap::new(), b"{}", at_secs(0)), Err(Rejection::BadSecret));
    }
}

// --- Retell ----------------------------------------------------------

#[test]
fn retell_signature_computed_by_python_hmac_is_accepted() {
    let h = headers(&[(RETELL_SIGNATURE, &format!("v={RETELL_MS},d={RETELL_HEX}"))]);
    let result = verify(Scheme::Retell, RETELL_KEY, &h, RETELL_BODY, at_millis(RETELL_MS));
    assert_eq!(result, Ok(Verified::Retell { timestamp: at_millis(RETELL_MS) }));
    assert_eq!(retell_header(RETELL_KEY, RETELL_BODY, &RETELL_MS.to_string()), format!("v={RETELL_MS},d={RETELL_HEX}"));
}

#[test]
fn retell_tampered_body_wrong_key_or_changed_timestamp_is_rejected() {
    let good = format!("v={RETELL_MS},d={RETELL_HEX}");
    let now = at_millis(RETELL_MS);
    let h = headers(&[(RETELL_SIGNATURE, &good)]);
    assert_eq!(verify(Scheme::Retell, RETELL_KEY, &h, &tampered(RETELL_BODY), now), Err(Rejection::BadSignature));
    assert_eq!(verify(Scheme::Retell, "key_other", &h, RETELL_BODY, now), Err(Rejection::BadSignature));
    let moved = headers(&[(RETELL_SIGNATURE, &format!("v={},d={RETELL_HEX}", RETELL_MS + 1))]);
    assert_eq!(verify(Scheme::Retell, RETELL_KEY, &moved, RETELL_BODY, now), Err(Rejection::BadSignature));
}

#[test]
fn retell_timestamp_is_accepted_up_to_five_minutes_either_way() {
    let h = headers(&[(RETELL_SIGNATURE, &retell_header(RETELL_KEY, RETELL_BODY, &RETELL_MS.to_string()))]);
    let five_min = TOLERANCE_SECS * 1000;
    let check = |now: i64| verify(Scheme::Retell, RETELL_KEY, &h, RETELL_BODY, at_millis(now)).map(drop);
    assert_eq!(check(RETELL_MS + five_min), Ok(()));
    assert_eq!(check(RETELL_MS + five_min + 1), Err(Rejection::StaleTimestamp));
    assert_eq!(check(RETELL_MS - five_min), Ok(()));
    assert_eq!(check(RETELL_MS - five_min - 1), Err(Rejection::FutureTimestamp));
}

#[test]
fn retell_timestamp_with_leading_zeros_or_non_digits_is_malformed() {
    let now = at_millis(RETELL_MS);
    let valid_digest = RETELL_HEX;
    let cases = [
        // Signed over the exact digits, still refused: the SDKs would sign "1714…" instead.
        retell_header(RETELL_KEY, RETELL_BODY, &format!("0{RETELL_MS}")),
        format!("v=+{RETELL_MS},d={valid_digest}"),
        format!("v= {RETELL_MS},d={valid_digest}"),
        format!("v={RETELL_MS}.0,d={valid_digest}"),
        format!("v=1.714e12,d={valid_digest}"),
        format!("v=-{RETELL_MS},d={valid_digest}"),
        format!("v=,d={valid_digest}"),
        format!("v=99999999999999999999,d={valid_digest}"),
        format!("d={valid_digest},v={RETELL_MS}"),
        format!("v={RETELL_MS}"),
        format!("v={RETELL_MS},d={valid_digest},x=1"),
        format!("v={RETELL_MS},d={}", &valid_digest[..63]),
        format!("t={RETELL_MS},v1={valid_digest}"),
        String::new(),
    ];
    for value in &cases {
        let h = headers(&[(RETELL_SIGNATURE, value)]);
        let result = verify(Scheme::Retell, RETELL_KEY, &h, RETELL_BODY, now);
        assert_eq!(result, Err(Rejection::MalformedHeader(RETELL_SIGNATURE)), "{value:?}");
    }
}

#[test]
fn retell_missing_header_is_rejected() {
    let result = verify(Scheme::Retell, RETELL_KEY, &HeaderMap::new(), RETELL_BODY, at_millis(RETELL_MS));
    assert_eq!(result, Err(Rejection::MissingHeader(RETELL_SIGNATURE)));
}

// --- Standard Webhooks -----------------------------------------------

#[test]
fn standard_webhooks_spec_vector_is_accepted() {
    let h = sw_headers(SW_ID, SW_TS, SW_SIGNATURE);
    let expected = Verified::StandardWebhooks { id: SW_ID.to_owned(), timestamp: at_secs(SW_TS) };
    assert_eq!(sw_verify(SW_SECRET, &h, SW_BODY, SW_TS), Ok(expected));
}

#[test]
fn standard_webhooks_tampered_body_id_or_wrong_secret_is_rejected() {
    let h = sw_headers(SW_ID, SW_TS, SW_SIGNATURE);
    assert_eq!(sw_verify(SW_SECRET, &h, &tampered(SW_BODY), SW_TS), Err(Rejection::BadSignature));
    let other_id = sw_headers("msg_p5jXN8AQM9LWM0D4loKWxJeK", SW_TS, SW_SIGNATURE);
    assert_eq!(sw_verify(SW_SECRET, &other_id, SW_BODY, SW_TS), Err(Rejection::BadSignature));
    assert_eq!(sw_verify(&generate_secret(), &h, SW_BODY, SW_TS), Err(Rejection::BadSignature));
}

#[test]
fn standard_webhooks_any_v1_entry_may_match() {
    let header =
        format!("v1,AAAA v1a,bm90IGEgc2lnbmF0dXJl v2,{} v1,{} v1,garbage!", &SW_SIGNATURE[3..], &SW_SIGNATURE[3..]);
    let h = sw_headers(SW_ID, SW_TS, &header);
    assert!(sw_verify(SW_SECRET, &h, SW_BODY, SW_TS).is_ok());
    let wrong = sign(&SigningKey::from_secret(&generate_secret()).unwrap(), SW_ID, SW_TS, SW_BODY);
    let h = sw_headers(SW_ID, SW_TS, &format!("{wrong} {SW_SIGNATURE}"));
    assert!(sw_verify(SW_SECRET, &h, SW_BODY, SW_TS).is_ok());
}

#[test]
fn standard_webhooks_without_a_usable_v1_entry_is_malformed_and_wrong_v1_is_bad() {
    for header in ["", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,", "v1,AAAA", "v1 g0hM9SsE", "garbage"] {
        let h = sw_headers(SW_ID, SW_TS, header);
        assert_eq!(
            sw_verify(SW_SECRET, &h, SW_BODY, SW_TS),
            Err(Rejection::MalformedHeader(WEBHOOK_SIGNATURE)),
            "{header:?}"
        );
    }
    let wrong = sign(&SigningKey::from_secret(&generate_secret()).unwrap(), SW_ID, SW_TS, SW_BODY);
    let h = sw_headers(SW_ID, SW_TS, &wrong);
    assert_eq!(sw_verify(SW_SECRET, &h, SW_BODY, SW_TS), Err(Rejection::BadSignature));
}

#[test]
fn standard_webhooks_timestamp_is_accepted_up_to_five_minutes_either_way() {
    let h = sw_headers(SW_ID, SW_TS, SW_SIGNATURE);
    let check = |now: i64| sw_verify(SW_SECRET, &h, SW_BODY, now).map(drop);
    assert_eq!(check(SW_TS + TOLERANCE_SECS), Ok(()));
    assert_eq!(check(SW_TS + TOLERANCE_SECS + 1), Err(Rejection::StaleTimestamp));
    assert_eq!(check(SW_TS - TOLERANCE_SECS), Ok(()));
    assert_eq!(check(SW_TS - TOLERANCE_SECS - 1), Err(Rejection::FutureTimestamp));
}

#[test]
fn standard_webhooks_missing_headers_are_named() {
    let all = [(WEBHOOK_ID, SW_ID), (WEBHOOK_TIMESTAMP, "1614265330"), (WEBHOOK_SIGNATURE, SW_SIGNATURE)];
    for skip in 0..all.len() {
        let present: Vec<_> = all.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, p)| *p).collect();
        let result = sw_verify(SW_SECRET, &headers(&present), SW_BODY, SW_TS);
        assert_eq!(result, Err(Rejection::MissingHeader(all[skip].0)));
    }
}

#[test]
fn standard_webhooks_garbled_timestamp_or_id_is_malformed() {
    for ts in ["", "01614265330", "+1614265330", "1614265330.0", "1614265330 ", "abc", "99999999999999999999"] {
        let h = headers(&[(WEBHOOK_ID, SW_ID), (WEBHOOK_TIMESTAMP, ts), (WEBHOOK_SIGNATURE, SW_SIGNATURE)]);
        assert_eq!(
            sw_verify(SW_SECRET, &h, SW_BODY, SW_TS),
            Err(Rejection::MalformedHeader(WEBHOOK_TIMESTAMP)),
            "{ts:?}"
        );
    }
    let long_id = "m".repeat(MAX_WEBHOOK_ID_LEN + 1);
    for id in ["", long_id.as_str()] {
        let h = sw_headers(id, SW_TS, SW_SIGNATURE);
        assert_eq!(sw_verify(SW_SECRET, &h, SW_BODY, SW_TS), Err(Rejection::MalformedHeader(WEBHOOK_ID)));
    }
}

#[test]
fn standard_webhooks_secret_must_be_whsec_base64() {
    let h = sw_headers(SW_ID, SW_TS, SW_SIGNATURE);
    for secret in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_!!!"] {
        assert_eq!(sw_verify(secret, &h, SW_BODY, SW_TS), Err(Rejection::BadSecret), "{secret:?}");
    }
}

#[test]
fn signed_deliveries_verify_with_the_current_or_the_previous_secret() {
    let (current, previous) = (generate_secret(), generate_secret());
    let keys = [SigningKey::from_secret(&current).unwrap(), SigningKey::from_secret(&previous).unwrap()];
    let body = br#"{"type":"appointment.created","timestamp":"2026-11-02T10:00:00Z","data":{}}"#;
    let header = signature_header(&keys, "evt_1", SW_TS, body);
    let h = sw_headers("evt_1", SW_TS, &header);
    assert!(sw_verify(&current, &h, body, SW_TS).is_ok());
    assert!(sw_verify(&previous, &h, body, SW_TS).is_ok());
    assert_eq!(sw_verify(&generate_secret(), &h, body, SW_TS), Err(Rejection::BadSignature));
}

#[test]
fn rejection_text_never_contains_the_secret_or_the_signature() {
    let cases = [
        (Scheme::CalCom, CALCOM_SECRET, headers(&[(CALCOM_SIGNATURE, "deadbeef")])),
        (Scheme::CalCom, CALCOM_SECRET, headers(&[(CALCOM_SIGNATURE, CALCOM_HEX)])),
        (Scheme::Retell, RETELL_KEY, headers(&[(RETELL_SIGNATURE, &format!("v=1,d={RETELL_HEX}"))])),
        (Scheme::StandardWebhooks, SW_SECRET, sw_headers(SW_ID, 0, SW_SIGNATURE)),
    ];
    for (scheme, secret, h) in cases {
        let rejection = verify(scheme, secret, &h, b"tampered", at_secs(SW_TS)).unwrap_err();
        let text = format!("{rejection} {rejection:?} {}", rejection.code());
        for needle in [secret, CALCOM_HEX, RETELL_HEX, &SW_SIGNATURE[3..], "deadbeef"] {
            assert!(!text.contains(needle), "{text}");
        }
    }
}
