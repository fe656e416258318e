//! Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature`
//! (space-separated `v1,<base64 HMAC-SHA256>` entries).
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use http::HeaderMap;
use subtle::{Choice, ConstantTimeEq};

use super::super::sign::SigningKey;
use super::{
    MAX_WEBHOOK_ID_LEN, Rejection, TAG_LEN, TOLERANCE_SECS, Verified, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP,
    check_fresh, malformed, parse_canonical_decimal, single_header,
};

/// Standard Webhooks: any well-formed `v1` entry may match; entries of other
/// versions and undecodable entries are skipped, as the reference libraries do.
pub(super) fn verify(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Verified, Rejection> {
    let key = SigningKey::from_secret(secret).map_err(|_| Rejection::BadSecret)?;
    let id = single_header(headers, WEBHOOK_ID)?;
    if id.is_empty() || id.len() > MAX_WEBHOOK_ID_LEN {
        return Err(malformed(WEBHOOK_ID));
    }
    let seconds_text = single_header(headers, WEBHOOK_TIMESTAMP)?;
    // The reference libraries re-print the parsed number before signing, so
    // the canonical form is required here too (see `super::retell`).
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
