//! Stored first responses of create calls, keyed by (scope, method, request_id).
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::entities::idempotency_record as record;
use super::{Scoped, all_set, now};
use crate::error::Result;

pub async fn find(tx: &impl Scoped, method: &str, request_id: &str) -> Result<Option<record::Model>> {
    Ok(record::Entity::find_by_id((tx.scope_id(), method.to_owned(), request_id.to_owned())).one(tx.conn()).await?)
}

/// Inserts the record without a response. A racing call with the same
/// request_id blocks on the key and then fails with a unique violation, which
/// the transaction runner retries; the retry finds the finished record.
pub async fn reserve(tx: &impl Scoped, method: &str, request_id: &str, fingerprint: Vec<u8>) -> Result<()> {
    let model = record::Model {
        tenant_id: tx.scope_id(),
        method: method.to_owned(),
        request_id: request_id.to_owned(),
        fingerprint,
        response: Vec::new(),
        create_time: now(),
    };
    record::Entity::insert(all_set::<record::ActiveModel, _>(model)).exec_without_returning(tx.conn()).await?;
    Ok(())
}

/// Stores the response of a reserved record (same transaction).
pub async fn complete(tx: &impl Scoped, method: &str, request_id: &str, response: Vec<u8>) -> Result<()> {
    record::Entity::update_many()
        .col_expr(record::Column::Response, Expr::value(response))
        .filter(record::Column::TenantId.eq(tx.scope_id()))
        .filter(record::Column::Method.eq(method))
        .filter(record::Column::RequestId.eq(request_id))
        .exec(tx.conn())
        .await?;
    Ok(())
}
