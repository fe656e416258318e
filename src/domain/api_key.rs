//! The API-key format `ak_<id>_<secret>`: generation, parsing and hashing.
//!
//! Only a SHA-256 hash of the secret is stored. A slow password hash (argon2)
//! protects low-entropy human passwords; these secrets are 192 random bits, so
//! a fast hash is as safe and keeps authentication off the hot path's budget.
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::ids::ApiKeyId;

const PREFIX: &str = "ak_";
const SECRET_BYTES: usize = 24;

/// A key just created: the whole key is shown to the user once, the hash is stored.
pub struct IssuedKey {
    pub id: ApiKeyId,
    pub full_key: SecretString,
    pub secret_hash: Vec<u8>,
}

/// A key as presented by a caller, split into its public id and secret.
pub struct PresentedKey {
    pub id: ApiKeyId,
    secret: SecretString,
}

pub fn issue() -> IssuedKey {
    let id = ApiKeyId::generate();
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let secret_hash = hash_secret(&secret);
    IssuedKey { id, full_key: SecretString::from(format!("{}_{secret}", key_prefix(id))), secret_hash }
}

/// The non-secret start of a key, shown in lists: `ak_<id>`.
pub fn key_prefix(id: ApiKeyId) -> String {
    format!("{PREFIX}{}", id.0.simple())
}

/// Splits a presented key; `None` for anything not shaped like one of ours.
pub fn parse(raw: &str) -> Option<PresentedKey> {
    let rest = raw.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 32 || secret.len() != SECRET_BYTES * 2 {
        return None;
    }
    if !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = Uuid::try_parse(id).ok()?;
    Some(PresentedKey { id: ApiKeyId(id), secret: SecretString::from(secret.to_owned()) })
}

impl PresentedKey {
    /// Constant-time comparison against the stored hash.
    pub fn matches(&self, stored_hash: &[u8]) -> bool {
        let hash = hash_secret(self.secret.expose_secret());
        hash.ct_eq(stored_hash).into()
    }
}

fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_parse_and_match_their_hash() {
        let issued = issue();
        let presented = parse(issued.full_key.expose_secret()).expect("own format parses");
        assert_eq!(presented.id, issued.id);
        assert!(presented.matches(&issued.secret_hash));
        assert!(!presented.matches(&issue().secret_hash));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        for raw in ["", "ak_", "ak_123_abc", "bearer", "ak_0193a1b2c3d4e5f60718293a4b5c6d7e_zz"] {
            assert!(parse(raw).is_none(), "{raw:?} must not parse");
        }
    }

    #[test]
    fn secret_is_not_in_debug_output() {
        let issued = issue();
        let text = format!("{:?}", issued.full_key);
        assert!(!text.contains(&issued.id.0.simple().to_string()));
    }
}
