//! Retell: `X-Retell-Signature: v=<ms>,d=<hex HMAC-SHA256 of body ++ ms>`.
use chrono::{DateTime, Utc};
use hmac::Mac;
use http::HeaderMap;

use super::super::sign::hmac_sha256;
use super::{
    RETELL_SIGNATURE, Rejection, TOLERANCE_SECS, Verified, check_fresh, decode_hex_tag, malformed,
    parse_canonical_decimal, single_header,
};

/// Retell signs `body ++ <ms>`. Its SDKs sign and verify with the number
/// re-printed (`str(int(ms))`), so only the canonical decimal form (no sign,
/// no leading zeros) is accepted: then the header's digits and the SDK's
/// re-printed number are the same bytes.
pub(super) fn verify(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Verified, Rejection> {
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
