//! Whatever the key, id, timestamp and body: what we sign verifies, and the
//! same request with one body byte changed does not. Covers all three schemes.
#![no_main]

use askpro_fuzz::sign::{SigningKey, sign};
use askpro_fuzz::verify::{
    CALCOM_SIGNATURE, RETELL_SIGNATURE, Rejection, Scheme, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, verify,
};
use base64::Engine;
use chrono::DateTime;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

#[derive(Debug, Arbitrary)]
struct Input {
    key: Vec<u8>,
    id: String,
    /// Unix seconds, kept within chrono's range below.
    timestamp: u32,
    /// Clock offset from the signed time, in milliseconds.
    skew_millis: i32,
    flip: usize,
    body: Vec<u8>,
}

fn hex_hmac(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

fn header(name: &'static str, value: &str, headers: &mut HeaderMap) {
    headers.insert(name, HeaderValue::from_str(value).unwrap());
}

fn check(scheme: Scheme, secret: &str, headers: &HeaderMap, body: &[u8], now_millis: i64, fresh: bool, flip: usize) {
    let now = DateTime::from_timestamp_millis(now_millis).unwrap();
    let result = verify(scheme, secret, headers, body, now);
    if fresh {
        assert!(result.is_ok(), "{scheme:?}: {result:?}");
    } else {
        assert!(matches!(result, Err(Rejection::StaleTimestamp | Rejection::FutureTimestamp)), "{result:?}");
    }
    if !body.is_empty() {
        let mut tampered = body.to_vec();
        tampered[flip % body.len()] ^= 0x01;
        assert_eq!(verify(scheme, secret, headers, &tampered, now), Err(Rejection::BadSignature));
    }
}

fuzz_target!(|input: Input| {
    if input.key.is_empty() {
        return;
    }
    let signed_secs = i64::from(input.timestamp);
    let signed_millis = signed_secs * 1000;
    let now_millis = signed_millis + i64::from(input.skew_millis);
    let tolerance_millis = 5 * 60 * 1000;

    // Standard Webhooks.
    let secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(&input.key));
    // Ids the verifier accepts: 1 to 256 bytes of visible ASCII.
    let id_ok = !input.id.is_empty()
        && input.id.len() <= 256
        && HeaderValue::from_str(&input.id).is_ok_and(|v| v.to_str().is_ok());
    if id_ok {
        let key = SigningKey::from_secret(&secret).unwrap();
        let mut headers = HeaderMap::new();
        header(WEBHOOK_ID, &input.id, &mut headers);
        header(WEBHOOK_TIMESTAMP, &signed_secs.to_string(), &mut headers);
        header(WEBHOOK_SIGNATURE, &sign(&key, &input.id, signed_secs, &input.body), &mut headers);
        // Seconds are compared at whole-second precision.
        let fresh = ((now_millis.div_euclid(1000)) - signed_secs).abs() <= 300;
        check(Scheme::StandardWebhooks, &secret, &headers, &input.body, now_millis, fresh, input.flip);
    }

    // Cal.com and Retell key with the text of the secret.
    let Ok(text_key) = std::str::from_utf8(&input.key) else { return };
    let mut headers = HeaderMap::new();
    header(CALCOM_SIGNATURE, &hex_hmac(&input.key, &[&input.body]), &mut headers);
    check(Scheme::CalCom, text_key, &headers, &input.body, now_millis, true, input.flip);

    let millis = signed_millis.to_string();
    let digest = hex_hmac(&input.key, &[&input.body, millis.as_bytes()]);
    let mut headers = HeaderMap::new();
    header(RETELL_SIGNATURE, &format!("v={millis},d={digest}"), &mut headers);
    let fresh = (now_millis - signed_millis).abs() <= tolerance_millis;
    check(Scheme::Retell, text_key, &headers, &input.body, now_millis, fresh, input.flip);
});
