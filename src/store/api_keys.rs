//! API keys: hashed secrets with a scope. Tenant keys live in their tenant;
//! platform-admin keys have none and are only made by the command line
//! (listed and revoked by the command line or a platform admin's RPC).
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::api_key;
use super::{PlatformTx, TenantTx, all_set, now};
use crate::domain::api_key::IssuedKey;
use crate::domain::ids::ApiKeyId;
use crate::domain::page::PageRequest;
use crate::domain::scope::Scope;
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct NewApiKey {
    pub display_name: String,
    pub scope: Scope,
    pub expire_time: Option<chrono::DateTime<chrono::Utc>>,
}

fn row(tenant_id: Option<Uuid>, issued: &IssuedKey, new: NewApiKey) -> api_key::Model {
    api_key::Model {
        id: issued.id.0,
        tenant_id,
        display_name: new.display_name,
        scope: new.scope.as_str().to_owned(),
        secret_hash: issued.secret_hash.clone(),
        expire_time: new.expire_time,
        revoke_time: None,
        create_time: now(),
        last_use_time: None,
        call_phone: None,
        call_id: None,
    }
}

pub async fn create(tx: &TenantTx, issued: &IssuedKey, new: NewApiKey) -> Result<api_key::Model> {
    debug_assert_ne!(new.scope, Scope::PlatformAdmin);
    let model = row(Some(tx.tenant().0), issued, new);
    api_key::Entity::insert(all_set::<api_key::ActiveModel, _>(model.clone()))
        .exec_without_returning(tx.conn())
        .await?;
    Ok(model)
}

/// Creates a call credential: a key of scope `call` bound to `call_id` and
/// the caller's number, expiring at `expire_time`.
pub async fn create_call(
    tx: &TenantTx,
    issued: &IssuedKey,
    phone: &str,
    call_id: &str,
    expire_time: chrono::DateTime<chrono::Utc>,
) -> Result<api_key::Model> {
    let new = NewApiKey { display_name: format!("call {call_id}"), scope: Scope::Call, expire_time: Some(expire_time) };
    let mut model = row(Some(tx.tenant().0), issued, new);
    model.call_phone = Some(phone.to_owned());
    model.call_id = Some(call_id.to_owned());
    api_key::Entity::insert(all_set::<api_key::ActiveModel, _>(model.clone()))
        .exec_without_returning(tx.conn())
        .await?;
    Ok(model)
}

/// Revokes the live call credentials of `call_id` (the call ended). Returns
/// their ids, so the caller can forget them in the key cache.
pub async fn revoke_call(tx: &TenantTx, call_id: &str) -> Result<Vec<ApiKeyId>> {
    let live = api_key::Entity::find()
        .filter(api_key::Column::TenantId.eq(tx.tenant().0))
        .filter(api_key::Column::CallId.eq(call_id))
        .filter(api_key::Column::RevokeTime.is_null())
        .all(tx.conn())
        .await?;
    if live.is_empty() {
        return Ok(Vec::new());
    }
    api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokeTime, sea_orm::sea_query::Expr::value(Some(now())))
        .filter(api_key::Column::TenantId.eq(tx.tenant().0))
        .filter(api_key::Column::CallId.eq(call_id))
        .filter(api_key::Column::RevokeTime.is_null())
        .exec(tx.conn())
        .await?;
    Ok(live.into_iter().map(|key| ApiKeyId(key.id)).collect())
}

/// Creates a platform-admin key (command line only), never expiring.
pub async fn create_platform_admin(
    tx: &PlatformTx,
    issued: &IssuedKey,
    display_name: String,
) -> Result<api_key::Model> {
    create_platform_admin_until(tx, issued, display_name, None).await
}

/// Creates a platform-admin key that stops working at `expire_time`.
pub async fn create_platform_admin_until(
    tx: &PlatformTx,
    issued: &IssuedKey,
    display_name: String,
    expire_time: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<api_key::Model> {
    let model = row(None, issued, NewApiKey { display_name, scope: Scope::PlatformAdmin, expire_time });
    api_key::Entity::insert(all_set::<api_key::ActiveModel, _>(model.clone()))
        .exec_without_returning(tx.conn())
        .await?;
    Ok(model)
}

/// Looks a presented key up by id, before its tenant is known (authentication).
pub async fn find_for_authentication(tx: &PlatformTx, id: ApiKeyId) -> Result<Option<api_key::Model>> {
    Ok(api_key::Entity::find_by_id(id.0).one(tx.conn()).await?)
}

pub async fn list(tx: &TenantTx, page: &PageRequest, show_revoked: bool) -> Result<Vec<api_key::Model>> {
    list_of(tx.conn(), Some(tx.tenant().0), page, show_revoked).await
}

/// The platform-admin keys (they have no tenant).
pub async fn list_platform(tx: &PlatformTx, page: &PageRequest, show_revoked: bool) -> Result<Vec<api_key::Model>> {
    list_of(tx.conn(), None, page, show_revoked).await
}

pub async fn revoke(tx: &TenantTx, id: ApiKeyId) -> Result<api_key::Model> {
    revoke_of(tx.conn(), Some(tx.tenant().0), id).await
}

/// Revokes a platform-admin key (a tenant key's id answers NOT_FOUND).
pub async fn revoke_platform(tx: &PlatformTx, id: ApiKeyId) -> Result<api_key::Model> {
    revoke_of(tx.conn(), None, id).await
}

/// Notes that a key was used (at most once a minute per key and server,
/// see `access::keys`).
pub async fn record_use(tx: &PlatformTx, id: ApiKeyId, at: chrono::DateTime<chrono::Utc>) -> Result<()> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUseTime, sea_orm::sea_query::Expr::value(Some(at)))
        .filter(api_key::Column::Id.eq(id.0))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Keys whose `tenant_id` is `owner` (NULL: the platform's).
fn owned_by(owner: Option<Uuid>) -> sea_orm::Condition {
    match owner {
        Some(tenant) => sea_orm::Condition::all().add(api_key::Column::TenantId.eq(tenant)),
        None => sea_orm::Condition::all().add(api_key::Column::TenantId.is_null()),
    }
}

async fn list_of(
    conn: &impl ConnectionTrait,
    owner: Option<Uuid>,
    page: &PageRequest,
    show_revoked: bool,
) -> Result<Vec<api_key::Model>> {
    // Call credentials are many and short-lived: not listed with the keys.
    let mut query = api_key::Entity::find().filter(owned_by(owner)).filter(api_key::Column::CallId.is_null());
    if !show_revoked {
        query = query.filter(api_key::Column::RevokeTime.is_null());
    }
    if let Some(after) = page.after {
        query = query.filter(api_key::Column::Id.gt(after));
    }
    Ok(query.order_by_asc(api_key::Column::Id).limit(page.fetch_limit()).all(conn).await?)
}

async fn revoke_of(conn: &impl ConnectionTrait, owner: Option<Uuid>, id: ApiKeyId) -> Result<api_key::Model> {
    let mut key = api_key::Entity::find_by_id(id.0)
        .filter(owned_by(owner))
        .one(conn)
        .await?
        .ok_or(Error::NotFound { resource: "api key" })?;
    if key.revoke_time.is_some() {
        return Ok(key);
    }
    key.revoke_time = Some(now());
    api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokeTime, sea_orm::sea_query::Expr::value(key.revoke_time))
        .filter(api_key::Column::Id.eq(key.id))
        .filter(owned_by(owner))
        .exec(conn)
        .await?;
    Ok(key)
}

/// Revokes the tenant's live keys with this name (the demo seed replaces its
/// keys on every run instead of piling them up).
pub async fn revoke_named(tx: &TenantTx, display_name: &str) -> Result<u64> {
    let result = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokeTime, sea_orm::sea_query::Expr::value(Some(now())))
        .filter(api_key::Column::TenantId.eq(tx.tenant().0))
        .filter(api_key::Column::DisplayName.eq(display_name))
        .filter(api_key::Column::RevokeTime.is_null())
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected)
}

/// Revokes live platform-admin keys with this name (demo seed).
pub async fn revoke_platform_named(tx: &PlatformTx, display_name: &str) -> Result<u64> {
    let result = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokeTime, sea_orm::sea_query::Expr::value(Some(now())))
        .filter(api_key::Column::TenantId.is_null())
        .filter(api_key::Column::DisplayName.eq(display_name))
        .filter(api_key::Column::RevokeTime.is_null())
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected)
}
