//! Cal.com: `X-Cal-Signature-256`, an HMAC-SHA256 of the body in hex.
use hmac::Mac;
use http::HeaderMap;

use super::super::sign::hmac_sha256;
use super::{CALCOM_SIGNATURE, Rejection, Verified, decode_hex_tag, malformed, single_header};

/// Cal.com sends lowercase hex; uppercase is accepted as well because the
/// comparison is over the decoded tag, so the case cannot weaken it.
pub(super) fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<Verified, Rejection> {
    let claimed = decode_hex_tag(single_header(headers, CALCOM_SIGNATURE)?).ok_or(malformed(CALCOM_SIGNATURE))?;
    let mut mac = hmac_sha256(secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&claimed).map_err(|_| Rejection::BadSignature)?;
    Ok(Verified::CalCom)
}
