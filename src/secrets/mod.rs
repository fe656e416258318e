//! Secrets at rest: the webhook signing secrets of subscriptions (current and
//! previous), inbound providers' secrets (for Retell the tenant's Retell API
//! key) and the Cal.com API key are stored sealed, never in plain text.
//!
//! Sealing is AEAD (XChaCha20-Poly1305, RustCrypto) under a key-encryption
//! key from the configuration (`secrets_keys`) or a key file
//! (`secrets_key_file`, made with a random key on first start when absent),
//! with a random 192-bit nonce per value and associated data naming the row
//! (table, tenant, row id): a sealed value copied into another row, or
//! another tenant's row, does not open. A database dump, a backup or a
//! replica of the database alone reveals no secret.
//!
//! Stored form: `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext)>`, the key
//! id being the first 8 hex digits of the key's SHA-256, so several keys can
//! be configured at once: the first seals, all open. Rotation: put the new key
//! first (the old one after it) on every server, run `askpro rotate-secrets`
//! (re-seals every value under the new key), then drop the old key. Values
//! stored before sealing existed (plain text) are read as they are and sealed
//! when a server starts.
mod keys;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::SecretString;
use uuid::Uuid;

pub use keys::load_keys;

use crate::error::{Error, Result};

const PREFIX: &str = "sealed:v1:";
const NONCE_BYTES: usize = 24;

/// Where a sealed value lives: its associated data.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub table: &'static str,
    pub tenant: Uuid,
    pub row: Uuid,
}

impl Place {
    fn associated_data(&self) -> String {
        format!("askpro:{}:{}:{}", self.table, self.tenant, self.row)
    }
}

/// The configured keys; the first seals.
pub struct SecretBox {
    keys: Vec<(String, XChaCha20Poly1305)>,
}

impl SecretBox {
    /// `keys`: 32-byte keys, the sealing one first. At least one.
    pub fn new(keys: &[[u8; 32]]) -> Self {
        assert!(!keys.is_empty(), "at least one key-encryption key");
        let keys = keys.iter().map(|key| (key_id(key), XChaCha20Poly1305::new(key.into()))).collect();
        Self { keys }
    }

    /// Seals `plaintext` for `place` under the first key.
    pub fn seal(&self, place: &Place, plaintext: &str) -> String {
        let (id, cipher) = &self.keys[0];
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let aad = place.associated_data();
        let sealed = cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: aad.as_bytes() })
            .expect("XChaCha20-Poly1305 seals any length this server stores");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{id}:{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Opens a stored value of `place`. Plain text (stored before sealing
    /// existed) is returned as it is. A value sealed under a key this server
    /// does not have, or for another place, or changed, is an error that
    /// names none of it.
    pub fn open(&self, place: &Place, stored: &str) -> Result<SecretString> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(SecretString::from(stored.to_owned()));
        };
        let broken = |why: &str| Error::Internal(format!("a stored secret of {} cannot be opened: {why}", place.table));
        let (id, encoded) = rest.split_once(':').ok_or_else(|| broken("malformed"))?;
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(known, _)| known == id)
            .ok_or_else(|| broken("sealed under a key this server does not have (secrets_keys)"))?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| broken("malformed"))?;
        if bytes.len() < NONCE_BYTES {
            return Err(broken("malformed"));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| broken("malformed"))?;
        let aad = place.associated_data();
        let plain = cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad: aad.as_bytes() })
            .map_err(|_| broken("does not belong to this row or was altered"))?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| broken("not text"))
    }

    /// Whether a stored value is sealed under the first (current) key.
    pub fn is_current(&self, stored: &str) -> bool {
        stored.strip_prefix(PREFIX).and_then(|rest| rest.split_once(':')).is_some_and(|(id, _)| id == self.keys[0].0)
    }

    /// Whether a stored value is sealed at all (any key).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

/// A key's public name: the first 8 hex digits of its SHA-256.
fn key_id(key: &[u8; 32]) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(key)[..4])
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn place(table: &'static str) -> Place {
        Place { table, tenant: Uuid::from_u128(1), row: Uuid::from_u128(2) }
    }

    #[test]
    fn a_sealed_value_opens_only_where_it_was_sealed() {
        let secrets = SecretBox::new(&[[7u8; 32]]);
        let sealed = secrets.seal(&place("subscriptions"), "whsec_abc");
        assert!(sealed.starts_with("sealed:v1:") && !sealed.contains("abc"), "{sealed}");
        assert_eq!(secrets.open(&place("subscriptions"), &sealed).unwrap().expose_secret(), "whsec_abc");
        // Another table, tenant or row: refused.
        assert!(secrets.open(&place("inbound_endpoints"), &sealed).is_err());
        let other_tenant = Place { tenant: Uuid::from_u128(9), ..place("subscriptions") };
        assert!(secrets.open(&other_tenant, &sealed).is_err());
        let other_row = Place { row: Uuid::from_u128(9), ..place("subscriptions") };
        assert!(secrets.open(&other_row, &sealed).is_err());
        // Two seals of one value differ (random nonce).
        assert_ne!(sealed, secrets.seal(&place("subscriptions"), "whsec_abc"));
    }

    #[test]
    fn an_altered_value_does_not_open_and_the_error_names_no_secret() {
        let secrets = SecretBox::new(&[[7u8; 32]]);
        let sealed = secrets.seal(&place("calcom_connections"), "cal_live_0123456789abcdef");
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let err = secrets.open(&place("calcom_connections"), &String::from_utf8(altered).unwrap()).unwrap_err();
        assert!(!err.to_string().contains("cal_live"), "{err}");
    }

    #[test]
    fn older_keys_open_and_the_first_seals() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let sealed_old = SecretBox::new(&[old]).seal(&place("subscriptions"), "s3cret");
        let rotated = SecretBox::new(&[new, old]);
        assert!(!rotated.is_current(&sealed_old));
        assert_eq!(rotated.open(&place("subscriptions"), &sealed_old).unwrap().expose_secret(), "s3cret");
        let sealed_new = rotated.seal(&place("subscriptions"), "s3cret");
        assert!(rotated.is_current(&sealed_new));
        // A server with only the old key cannot open what the new one sealed.
        assert!(SecretBox::new(&[old]).open(&place("subscriptions"), &sealed_new).is_err());
    }

    #[test]
    fn plain_text_from_before_sealing_is_read_as_it_is() {
        let secrets = SecretBox::new(&[[7u8; 32]]);
        assert_eq!(secrets.open(&place("subscriptions"), "whsec_legacy").unwrap().expose_secret(), "whsec_legacy");
        assert!(!SecretBox::is_sealed("whsec_legacy"));
    }
}
