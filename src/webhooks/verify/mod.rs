//! Authentication of inbound provider webhooks: one verifier for the Cal.com,
//! Retell and Standard Webhooks schemes. Every MAC is computed over the raw
//! body bytes as received and compared in constant time.
//!
//! Order of checks: the secret, the headers' syntax, the signature, then the
//! timestamp. Checking the signature before the clock means a
//! `StaleTimestamp`/`FutureTimestamp` rejection always concerns an authentic
//! request (a replay or a skewed clock), which is what an operator needs to know.
//!
//! One module per scheme; the headers' parsing helpers shared by them are here.
mod calcom;
mod retell;
mod standard;
#[cfg(test)]
mod tests;
use chrono::{DateTime, Utc};
use http::HeaderMap;

use super::sign::SigningKey;

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
        Scheme::CalCom => calcom::verify(secret, headers, body),
        Scheme::Retell => retell::verify(secret, headers, body, now),
        Scheme::StandardWebhooks => standard::verify(secret, headers, body, now),
    }
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
