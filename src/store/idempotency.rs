//! Stored first responses of create calls, keyed by (scope, method, request_id).
use sea_orm::EntityTrait;

use super::entities::idempotency_record as record;
use super::{Scoped, all_set, now};
use crate::error::Result;

pub async fn find(tx: &impl Scoped, method: &str, request_id: &str) -> Result<Option<record::Model>> {
    Ok(record::Entity::find_by_id((tx.scope_id(), method.to_owned(), request_id.to_owned())).one(tx.conn()).await?)
}

/// Saves the response. A racing call with the same request_id makes this a
/// unique violation, which the transaction runner retries; the retry then
/// finds the winner's record.
pub async fn save(
    tx: &impl Scoped,
    method: &str,
    request_id: &str,
    fingerprint: Vec<u8>,
    response: Vec<u8>,
) -> Result<()> {
    let model = record::Model {
        tenant_id: tx.scope_id(),
        method: method.to_owned(),
        request_id: request_id.to_owned(),
        fingerprint,
        response,
        create_time: now(),
    };
    record::Entity::insert(all_set::<record::ActiveModel, _>(model)).exec_without_returning(tx.conn()).await?;
    Ok(())
}
