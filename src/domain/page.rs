//! Opaque page tokens for keyset paging. A token names the tenant and a hash
//! of the filter it was issued for, so it cannot be replayed against another
//! tenant or a different filter; it carries the last id of the previous page
//! (ids are time-ordered UUIDv7, so "after this id" never skips or repeats).
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::{Invalid, Result};

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

#[derive(Serialize, Deserialize)]
struct Token {
    /// Tenant the token was issued to (nil for platform-wide lists).
    t: Uuid,
    /// Hex of the first 8 bytes of SHA-256 over the filter.
    f: String,
    /// Last id of the previous page.
    a: Uuid,
    /// For lists ordered by a key before the id (appointments by start
    /// time, slots by start): that key of the last row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<i64>,
    /// For lists ordered by a text before the id (customers by name): that
    /// text of the last row as the database sorted it, so a row renamed
    /// between two requests cannot move the position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub size: u64,
    pub after: Option<Uuid>,
    after_key: Option<i64>,
    after_text: Option<String>,
    scope: Uuid,
    filter: String,
}

impl PageRequest {
    /// Reads `page_size` and `page_token` for a list scoped to `scope` (the
    /// tenant, or nil) under `filter` (a canonical text of the list's filters).
    pub fn parse(page_size: i32, page_token: &str, scope: Uuid, filter: &str) -> Result<Self> {
        let size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => return Err(Invalid::field("page_size", "must not be negative")),
            n => (n as u64).min(MAX_PAGE_SIZE),
        };
        let filter = filter_hash(filter);
        let (mut after_key, mut after_text) = (None, None);
        let after = if page_token.is_empty() {
            None
        } else {
            let invalid = || Invalid::field("page_token", "is not a token issued for this list");
            let bytes = URL_SAFE_NO_PAD.decode(page_token).map_err(|_| invalid())?;
            let token: Token = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
            if token.t != scope || token.f != filter {
                return Err(invalid());
            }
            after_key = token.k;
            after_text = token.s;
            Some(token.a)
        };
        Ok(Self { size, after, after_key, after_text, scope, filter })
    }

    /// How many rows to fetch: one more than the page, to know if another follows.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }

    /// Trims the fetched rows to the page and returns the next token, if any.
    pub fn finish<T>(&self, rows: &mut Vec<T>, id_of: impl Fn(&T) -> Uuid) -> String {
        if rows.len() as u64 <= self.size {
            return String::new();
        }
        rows.truncate(self.size as usize);
        let last = rows.last().map(&id_of).unwrap_or_default();
        self.encode(Token { t: self.scope, f: self.filter.clone(), a: last, k: None, s: None })
    }

    /// The (key, id) after which a keyed list continues, if any.
    pub fn after_key(&self) -> Option<(i64, Uuid)> {
        Some((self.after_key?, self.after?))
    }

    /// A token continuing after the row with this key and id.
    pub fn token_for_key(&self, key: i64, id: Uuid) -> String {
        self.encode(Token { t: self.scope, f: self.filter.clone(), a: id, k: Some(key), s: None })
    }

    /// The (text, id) after which a list ordered by text continues, if the
    /// token carries the text.
    pub fn after_text_key(&self) -> Option<(&str, Uuid)> {
        Some((self.after_text.as_deref()?, self.after?))
    }

    /// A token continuing after the row with this sort text and id.
    pub fn token_for_text_key(&self, key: &str, id: Uuid) -> String {
        self.encode(Token { t: self.scope, f: self.filter.clone(), a: id, k: None, s: Some(key.to_owned()) })
    }

    fn encode(&self, token: Token) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
    }
}

fn filter_hash(filter: &str) -> String {
    hex::encode(&Sha256::digest(filter.as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_within_its_tenant_and_filter() {
        let tenant = Uuid::now_v7();
        let page = PageRequest::parse(2, "", tenant, "branch=1").unwrap();
        let mut rows = vec![Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        let token = page.finish(&mut rows, |id| *id);
        assert_eq!(rows.len(), 2);
        let next = PageRequest::parse(2, &token, tenant, "branch=1").unwrap();
        assert_eq!(next.after, Some(rows[1]));
        assert!(PageRequest::parse(2, &token, Uuid::now_v7(), "branch=1").is_err());
        assert!(PageRequest::parse(2, &token, tenant, "branch=2").is_err());
        assert!(PageRequest::parse(2, "garbage!", tenant, "branch=1").is_err());
    }

    #[test]
    fn page_size_defaults_and_caps() {
        let t = Uuid::nil();
        assert_eq!(PageRequest::parse(0, "", t, "").unwrap().size, DEFAULT_PAGE_SIZE);
        assert_eq!(PageRequest::parse(10_000, "", t, "").unwrap().size, MAX_PAGE_SIZE);
        assert!(PageRequest::parse(-1, "", t, "").is_err());
    }

    #[test]
    fn last_page_has_no_token() {
        let page = PageRequest::parse(5, "", Uuid::nil(), "").unwrap();
        let mut rows = vec![Uuid::now_v7()];
        assert_eq!(page.finish(&mut rows, |id| *id), "");
    }

    #[test]
    fn a_text_key_round_trips_and_old_tokens_have_none() {
        let tenant = Uuid::now_v7();
        let page = PageRequest::parse(1, "", tenant, "customers").unwrap();
        let id = Uuid::now_v7();
        let token = page.token_for_text_key("müller, anna", id);
        let next = PageRequest::parse(1, &token, tenant, "customers").unwrap();
        assert_eq!(next.after_text_key(), Some(("müller, anna", id)));
        let mut rows = vec![Uuid::now_v7(), Uuid::now_v7()];
        let plain = page.finish(&mut rows, |id| *id);
        assert_eq!(PageRequest::parse(1, &plain, tenant, "customers").unwrap().after_text_key(), None);
    }
}
