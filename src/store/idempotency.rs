//! Stored first responses of create calls, keyed by (scope, method, request_id).
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait, TryInsertResult};

use super::entities::idempotency_record as record;
use super::{PlatformTx, Scoped, all_set, now};
use crate::error::Result;

pub async fn find(tx: &impl Scoped, method: &str, request_id: &str) -> Result<Option<record::Model>> {
    Ok(record::Entity::find_by_id((tx.scope_id(), method.to_owned(), request_id.to_owned())).one(tx.conn()).await?)
}

/// Inserts the record without a response, or, when the key is taken, returns
/// the record that holds it: one statement for a first call and for a retry.
/// A racing call with the same request_id blocks on the uncommitted key and,
/// once the first commits, finds its record.
pub async fn reserve_or_find(
    tx: &impl Scoped,
    method: &str,
    request_id: &str,
    fingerprint: Vec<u8>,
) -> Result<Option<record::Model>> {
    let model = record::Model {
        tenant_id: tx.scope_id(),
        method: method.to_owned(),
        request_id: request_id.to_owned(),
        fingerprint,
        response: Vec::new(),
        create_time: now(),
    };
    let inserted = record::Entity::insert(all_set::<record::ActiveModel, _>(model))
        .on_conflict_do_nothing()
        .exec_without_returning(tx.conn())
        .await?;
    match inserted {
        TryInsertResult::Inserted(rows) if rows > 0 => Ok(None),
        // The holder's transaction committed (or it was there all along).
        _ => find(tx, method, request_id).await,
    }
}

/// Deletes, in every tenant, the records made before `before` (retention):
/// a retry with such a request_id creates anew.
pub async fn purge_everywhere(tx: &PlatformTx, before: chrono::DateTime<chrono::Utc>) -> Result<u64> {
    let deleted = record::Entity::delete_many().filter(record::Column::CreateTime.lt(before)).exec(tx.conn()).await?;
    Ok(deleted.rows_affected)
}

/// Stores the response of a reserved record, with the transaction's commit
/// (nothing reads it back before).
pub fn complete(tx: &impl Scoped, method: &str, request_id: &str, response: Vec<u8>) {
    let update = record::Entity::update_many()
        .col_expr(record::Column::Response, Expr::value(response))
        .filter(record::Column::TenantId.eq(tx.scope_id()))
        .filter(record::Column::Method.eq(method))
        .filter(record::Column::RequestId.eq(request_id));
    tx.write_at_commit(update.build(tx.conn().get_database_backend()));
}
