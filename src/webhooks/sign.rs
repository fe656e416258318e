//! Standard Webhooks signing for outbound deliveries: the "whsec_" secret
//! format, the `v1,<base64>` signature and the header value that carries one
//! signature per valid secret while a rotated secret is still in its grace period.
use std::fmt;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The prefix of every Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Random bytes in a secret we generate.
const SECRET_BYTES: usize = 32;

/// Standard base64 that accepts the key with or without `=` padding: Svix
/// prints 24-byte keys (no padding needed), we print 32-byte keys (padded),
/// and other senders strip the padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type HmacSha256 = Hmac<Sha256>;

/// A secret that is not "whsec_" followed by non-empty base64. Carries
/// nothing of the secret itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the secret is not \"whsec_\" followed by base64")]
pub struct InvalidSecret;

/// The decoded HMAC key of a "whsec_" secret. Debug output never shows it.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    /// Decodes a "whsec_<base64>" secret. An empty key is refused: HMAC would
    /// accept it, and every signature would then be public knowledge.
    pub fn from_secret(secret: &str) -> Result<Self, InvalidSecret> {
        let encoded = secret.strip_prefix(SECRET_PREFIX).ok_or(InvalidSecret)?;
        let key = LENIENT_BASE64.decode(encoded).map_err(|_| InvalidSecret)?;
        if key.is_empty() {
            return Err(InvalidSecret);
        }
        Ok(Self(key))
    }

    /// The raw HMAC-SHA256 tag of `<msg_id>.<timestamp>.<body>`. The timestamp
    /// is taken as text so that the verifier can sign exactly the header it received.
    pub(super) fn tag(&self, msg_id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
        let mut mac = hmac_sha256(&self.0);
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// An HMAC-SHA256 instance keyed with `key`.
pub(super) fn hmac_sha256(key: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length (long ones are hashed first).
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of every length"),
    }
}

/// A new signing secret: "whsec_" and the base64 of 32 bytes from the
/// thread-local CSPRNG (ChaCha, seeded from the operating system).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// One Standard Webhooks signature, "v1,<base64>", of a delivery with the
/// webhook-id `msg_id` and webhook-timestamp `timestamp` (Unix seconds).
pub fn sign(key: &SigningKey, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = key.tag(msg_id, &timestamp.to_string(), body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(tag))
}

/// The webhook-signature header value: one signature per key, separated by
/// spaces, in the order given (current secret first, then the previous one
/// while it is still valid). Receivers accept the delivery if any one matches.
pub fn signature_header(keys: &[SigningKey], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter().map(|key| sign(key, msg_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The vector from the Standard Webhooks specification's reference test
    // suites; confirmed with the reference Python package
    // (`standardwebhooks` 1.1.0: `Webhook(secret).sign(msg_id, ts, payload)`).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signing_matches_the_standard_webhooks_spec_vector() {
        let key = SigningKey::from_secret(SPEC_SECRET).unwrap();
        assert_eq!(sign(&key, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD), SPEC_SIGNATURE);
    }

    #[test]
    fn generated_secrets_are_whsec_and_32_random_bytes() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX));
        let key = SigningKey::from_secret(&a).unwrap();
        assert_eq!(key.0.len(), SECRET_BYTES);
    }

    #[test]
    fn rotation_header_carries_one_signature_per_key_current_first() {
        let current = SigningKey::from_secret(&generate_secret()).unwrap();
        let previous = SigningKey::from_secret(SPEC_SECRET).unwrap();
        let header = signature_header(&[current.clone(), previous], SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD);
        let entries: Vec<&str> = header.split(' ').collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], sign(&current, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD));
        assert_eq!(entries[1], SPEC_SIGNATURE);
    }

    #[test]
    fn secrets_without_prefix_or_base64_or_key_are_refused() {
        for secret in [
            "",
            "whsec_",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_not base64!",
            "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ] {
            assert_eq!(SigningKey::from_secret(secret).unwrap_err(), InvalidSecret, "{secret:?}");
        }
    }

    #[test]
    fn padding_is_optional_in_the_secret() {
        let padded = SigningKey::from_secret("whsec_AAECAwQFBgcICQoLDA0ODw==").unwrap();
        let unpadded = SigningKey::from_secret("whsec_AAECAwQFBgcICQoLDA0ODw").unwrap();
        assert_eq!(padded.0, unpadded.0);
    }

    #[test]
    fn debug_output_hides_the_key() {
        let key = SigningKey::from_secret(SPEC_SECRET).unwrap();
        assert_eq!(format!("{key:?}"), "SigningKey(..)");
    }
}
