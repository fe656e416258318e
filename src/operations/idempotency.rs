//! Idempotent creates: a retry with the same `request_id` returns the first
//! response; the same id with different content is REQUEST_ID_REUSED.
use std::future::Future;

use prost::Message;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::{Scoped, idempotency};

/// Checks a `request_id`: empty (no idempotency) or 1 to 64 of [A-Za-z0-9_-].
pub fn validate_request_id(request_id: &str) -> Result<()> {
    let ok = request_id.len() <= 64 && request_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("request_id", "must be at most 64 characters of A-Z, a-z, 0-9, '-' and '_'"))
    }
}

/// The fingerprint of a request's content (sent with its request_id cleared).
pub fn fingerprint(request_without_id: &impl Message) -> Vec<u8> {
    Sha256::digest(request_without_id.encode_to_vec()).to_vec()
}

/// Runs `create` once per (scope, method, request_id), inside the caller's
/// transaction so the record and the effect commit together.
///
/// The record is inserted first, as a placeholder, and filled in after
/// `create`: a concurrent duplicate then blocks on the record's key (instead
/// of racing into the effect's own unique keys) and, once the first commits,
/// finds its record and returns the stored response. A first call costs one
/// statement before `create` and one after.
pub async fn create_once<R: Message + Default>(
    tx: &impl Scoped,
    method: &str,
    request_id: &str,
    fingerprint: &[u8],
    create: impl Future<Output = Result<R>>,
) -> Result<R> {
    if request_id.is_empty() {
        return create.await;
    }
    if let Some(record) = idempotency::reserve_or_find(tx, method, request_id, fingerprint.to_vec()).await? {
        if record.fingerprint != fingerprint {
            return Err(Error::RequestIdReused);
        }
        return R::decode(record.response.as_slice()).map_err(Error::internal);
    }
    let response = create.await?;
    idempotency::complete(tx, method, request_id, response.encode_to_vec());
    Ok(response)
}
