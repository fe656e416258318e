//! Authentication of inbound provider webhooks: one verifier for the Cal.com,
//! Retell and Standard Webhooks schemes. Every MAC is computed over the raw
//! body bytes as received and compared in constant time.
//!
//! Order of checks: the secret, the headers' syntax, the signature, then the
//! timestamp. Checking the signature before the clock means a
//! `StaleTimestamp`/`FutureTimestamp` rejection always concerns an authentic
//! request (a replay or a skewed clock), which is what an operator needs to know.
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::Mac;
use http::HeaderMap;
use subtle::{Choice, ConstantTimeEq};

use super::sign::{SigningKey, hmac_sha256};

/// Cal.com's signature header: hex HMAC-SHA256 of the body.
pub const CALCOM_SIGNATURE: &str = "x-cal-signature-256";
/// Retell's signature header: `v=<unix ms>,d=<hex HMAC-SHA256>`.
pub const RETELL_SIGNATURE: &str = "x-retell-signature";
/// Standard Webhooks: the message id, also the event key.
pub const WEBHOOK_ID: &str = "webhook-id";
/// Standard Webhooks: Unix seconds of the attempt.
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// Standard Webhooks: space-separated `v1,<base64>` signatures.
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";

/// How far a signed timestamp may be from the server's clock, either way.
/// Exactly five minutes is still accepted, as in the reference libraries.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Longest webhook-id accepted; it becomes the inbox's event key.
pub const MAX_WEBHOOK_ID_LEN: usize = 256;

/// Length of an HMAC-SHA256 tag in bytes.
const TAG_LEN: usize = 32;

/// The signature scheme of an inbound endpoint (one per provider).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `X-Cal-Signature-256`, keyed with the webhook secret set in Cal.com.
    CalCom,
    /// `X-Retell-Signature`, keyed with the Retell API key.
    Retell,
    /// webhook-id / webhook-timestamp / webhook-signature, keyed with a "whsec_" secret.
    StandardWebhooks,
}

/// What a successful verification established beyond authenticity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verified {
    /// Cal.com signs no timestamp and sends no event id.
    CalCom,
    /// The signed Retell timestamp (millisecond precision).
    Retell { timestamp: DateTime<Utc> },
    /// The signed Standard Webhooks id (the event key) and timestamp.
    StandardWebhooks { id: String, timestamp: DateTime<Utc> },
}

/// Why a request was not accepted as authentic; the caller answers 401 for
/// each. It carries at most a header's name, never the secret or a signature,
/// so its Display text is safe to log and to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Rejection {
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    #[error("header {0} is malformed")]
    MalformedHeader(&'static str),
    #[error("signature does not match")]
    BadSignature,
    #[error("signed timestamp is more than 5 minutes in the past")]
    StaleTimestamp,
    #[error("signed timestamp is more than 5 minutes in the future")]
    FutureTimestamp,
    #[error("the endpoint's secret is not valid for its provider")]
    BadSecret,
}

impl Rejection {
    /// A stable UPPER_SNAKE code, e.g. for a metric label.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::MissingHeader(_) => "MISSING_HEADER",
            Rejection::MalformedHeader(_) => "MALFORMED_HEADER",
            Rejection::BadSignature => "BAD_SIGNATURE",
            Rejection::StaleTimestamp => "STALE_TIMESTAMP",
            Rejection::FutureTimestamp => "FUTURE_TIMESTAMP",
            Rejection::BadSecret => "BAD_SECRET",
        }
    }
}

/// Whether `secret` can key `scheme`: non-empty, and for Standard Webhooks
/// "whsec_" followed by base64 of a non-empty key. Endpoint creation uses it too.
pub fn check_secret(scheme: Scheme, secret: &str) -> Result<(), Rejection> {
    match scheme {
        Scheme::CalCom | Scheme::Retell if secret.is_empty() => Err(Rejection::BadSecret),
        Scheme::CalCom | Scheme::Retell => Ok(()),
        Scheme::StandardWebhooks => SigningKey::from_secret(secret).map(drop).map_err(|_| Rejection::BadSecret),
    }
}

/// Checks that `body` with `headers` was signed by the holder of `secret`
/// under `scheme`, and for the timed schemes that the signature is fresh at `now`.
pub fn verify(
    scheme: Scheme,
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Verified, Rejection> {
    check_secret(scheme, secret)?;
    match scheme {
        Scheme::CalCom => verify_calcom(secret, headers, body),
        Scheme::Retell => verify_retell(secret, headers, body, now),
        Scheme::StandardWebhooks => verify_standard(secret, headers, body, now),
    }
}

/// Cal.com sends lowercase hex; uppercase is accepted as well because the
/// comparison is over the decoded tag, so the case cannot weaken it.
fn verify_calcom(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<Verified, Rejection> {
    let claimed = decode_hex_tag(single_header(headers, CALCOM_SIGNATURE)?).ok_or(malformed(CALCOM_SIGNATURE))?;
    let mut mac = hmac_sha256(secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&claimed).map_err(|_| Rejection::BadSignature)?;
    Ok(Verified::CalCom)
}

/// Retell signs `body ++ <ms>`. Its SDKs sign and verify with the number
/// re-printed (`str(int(ms))`), so only the canonical decimal form (no sign,
/// no leading zeros) is accepted: then the header's digits and the SDK's
/// re-printed number are the same bytes.
fn verify_retell(secret: &str, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Result<Verified, Rejection> {
    let value = single_header(headers, RETELL_SIGNATURE)?;
    let (millis_text, digest) =
        value.strip_prefix("v=").and_then(|rest| rest.split_once(",d=")).ok_or(malformed(RETELL_SIGNATURE))?;
    let millis = parse_canonical_decimal(millis_text).ok_or(malformed(RETELL_SIGNATURE))?;
    let claimed = decode_hex_tag(digest).ok_or(malformed(RETELL_SIGNATURE))?;

    let mut mac = hmac_sha256(secret.as_bytes());
    mac.update(body);
    mac.update(millis_text.as_bytes());
    mac.verify_slice(&claimed).map_err(|_| Rejection::BadSignature)?;

    check_fresh(millis, now.timestamp_millis(), TOLERANCE_SECS * 1000)?;
    let timestamp = DateTime::from_timestamp_millis(millis).ok_or(Rejection::StaleTimestamp)?;
    Ok(Verified::Retell { timestamp })
}

/// Standard Webhooks: any well-formed `v1` entry may match; entries of other
/// versions and undecodable entries are skipped, as the reference libraries do.
fn verify_standard(secret: &str, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Result<Verified, Rejection> {
    let key = SigningKey::from_secret(secret).map_err(|_| Rejection::BadSecret)?;
    let id = single_header(headers, WEBHOOK_ID)?;
    if id.is_empty() || id.len() > MAX_WEBHOOK_ID_LEN {
        return Err(malformed(WEBHOOK_ID));
    }
    let seconds_text = single_header(headers, WEBHOOK_TIMESTAMP)?;
    // The reference libraries re-print the parsed number before signing, so
    // the canonical form is required here too (see `verify_retell`).
    let seconds = parse_canonical_decimal(seconds_text).ok_or(malformed(WEBHOOK_TIMESTAMP))?;
    let signatures = single_header(headers, WEBHOOK_SIGNATURE)?;

    let expected = key.tag(id, seconds_text, body);
    let mut any_v1 = false;
    let mut matched = Choice::from(0);
    for entry in signatures.split(' ') {
        let Some(("v1", encoded)) = entry.split_once(',') else { continue };
        let Ok(claimed) = STANDARD.decode(encoded) else { continue };
        if claimed.len() != TAG_LEN {
            continue;
        }
        any_v1 = true;
        // No early exit: every entry is compared whatever the earlier ones gave.
        matched |= claimed.ct_eq(&expected);
    }
    if !any_v1 {
        return Err(malformed(WEBHOOK_SIGNATURE));
    }
    if !bool::from(matched) {
        return Err(Rejection::BadSignature);
    }

    check_fresh(seconds, now.timestamp(), TOLERANCE_SECS)?;
    let timestamp = DateTime::from_timestamp(seconds, 0).ok_or(Rejection::StaleTimestamp)?;
    Ok(Verified::StandardWebhooks { id: id.to_owned(), timestamp })
}

fn malformed(header: &'static str) -> Rejection {
    Rejection::MalformedHeader(header)
}

/// The one value of `name`, as visible ASCII. A repeated header is malformed:
/// which copy was signed would be ambiguous.
fn single_header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, Rejection> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(Rejection::MissingHeader(name))?;
    if values.next().is_some() {
        return Err(malformed(name));
    }
    value.to_str().map_err(|_| malformed(name))
}

/// Exactly 64 hex digits, either case, as the 32-byte tag.
fn decode_hex_tag(text: &str) -> Option<[u8; TAG_LEN]> {
    let mut tag = [0u8; TAG_LEN];
    hex::decode_to_slice(text, &mut tag).ok()?;
    Some(tag)
}

/// A non-negative decimal integer in canonical form: ASCII digits only, no
/// sign, no whitespace, no leading zero (except "0" itself), at most 18
/// digits so that it fits an i64.
fn parse_canonical_decimal(text: &str) -> Option<i64> {
    let canonical = !text.is_empty()
        && text.len() <= 18
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

/// `signed` within `tolerance` of `now`, both in the same unit.
fn check_fresh(signed: i64, now: i64, tolerance: i64) -> Result<(), Rejection> {
    let age = i128::from(now) - i128::from(signed);
    if age > i128::from(tolerance) {
        Err(Rejection::StaleTimestamp)
    } else if age < -i128::from(tolerance) {
        Err(Rejection::FutureTimestamp)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::sign::{generate_secret, sign, signature_header};
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
        assert_eq!(
            retell_header(RETELL_KEY, RETELL_BODY, &RETELL_MS.to_string()),
            format!("v={RETELL_MS},d={RETELL_HEX}")
        );
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
        for header in
            ["", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,", "v1,AAAA", "v1 g0hM9SsE", "garbage"]
        {
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
}
