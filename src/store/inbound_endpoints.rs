//! Inbound endpoints: where a provider posts events for a tenant, found by
//! the random token in their path, with the provider's secret to verify
//! them. Deleting is soft (the inbox keeps referring to the endpoint), and
//! a deleted endpoint's token no longer resolves.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::inbound_endpoint as endpoint;
use secrecy::SecretString;

use super::{PlatformTx, TenantTx, all_set, check_etag, now, secrets_at_rest};
use crate::domain::ids::InboundEndpointId;
use crate::domain::page::PageRequest;
use crate::domain::webhook::InboundProvider;
use crate::error::{Error, Result};
use crate::secrets::SecretBox;

/// The URL path prefix of every inbound endpoint.
pub const PATH_PREFIX: &str = "/webhooks/inbound/";

#[derive(Clone)]
pub struct NewInboundEndpoint {
    pub provider: InboundProvider,
    pub display_name: String,
    pub secret: String,
}

#[derive(Clone, Default)]
pub struct InboundEndpointChanges {
    pub display_name: Option<String>,
    pub secret: Option<String>,
}

/// The endpoint's secret, opened (to verify a request).
pub fn secret(secrets: &SecretBox, row: &endpoint::Model) -> Result<SecretString> {
    secrets.open(&secrets_at_rest::inbound_endpoint(row.tenant_id, row.id), &row.secret)
}

/// The path a provider posts to.
pub fn path_of(row: &endpoint::Model) -> String {
    format!("{PATH_PREFIX}{}", row.path_token)
}

pub async fn create(tx: &TenantTx, new: NewInboundEndpoint) -> Result<endpoint::Model> {
    let at = now();
    let id = Uuid::now_v7();
    let row = endpoint::Model {
        tenant_id: tx.tenant().0,
        id,
        provider: new.provider.as_str().into(),
        display_name: new.display_name,
        path_token: path_token(),
        secret: tx.secrets().seal(&secrets_at_rest::inbound_endpoint(tx.tenant().0, id), &new.secret),
        revision: 1,
        create_time: at,
        update_time: at,
        delete_time: None,
    };
    endpoint::Entity::insert(all_set::<endpoint::ActiveModel, _>(row.clone()))
        .exec_without_returning(tx.conn())
        .await?;
    Ok(row)
}

/// A live endpoint of the tenant.
pub async fn get(tx: &TenantTx, id: InboundEndpointId) -> Result<endpoint::Model> {
    endpoint::Entity::find_by_id((tx.tenant().0, id.0))
        .filter(endpoint::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "inbound endpoint" })
}

/// An endpoint of the tenant, deleted or not (its inbox stays listable).
pub async fn exists_including_deleted(tx: &TenantTx, id: InboundEndpointId) -> Result<bool> {
    Ok(endpoint::Entity::find_by_id((tx.tenant().0, id.0)).one(tx.conn()).await?.is_some())
}

/// Live endpoints, oldest first.
pub async fn list(tx: &TenantTx, page: &PageRequest) -> Result<Vec<endpoint::Model>> {
    let mut query = endpoint::Entity::find()
        .filter(endpoint::Column::TenantId.eq(tx.tenant().0))
        .filter(endpoint::Column::DeleteTime.is_null());
    if let Some(after) = page.after {
        query = query.filter(endpoint::Column::Id.gt(after));
    }
    Ok(query.order_by_asc(endpoint::Column::Id).limit(page.fetch_limit()).all(tx.conn()).await?)
}

/// The live endpoint whose path carries `token`, of whichever tenant: the
/// inbound route learns the tenant from it, before any tenant is known.
pub async fn find_by_path_token(tx: &PlatformTx, token: &str) -> Result<Option<endpoint::Model>> {
    Ok(endpoint::Entity::find()
        .filter(endpoint::Column::PathToken.eq(token))
        .filter(endpoint::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?)
}

pub async fn update(
    tx: &TenantTx,
    id: InboundEndpointId,
    changes: InboundEndpointChanges,
    expected_etag: &str,
) -> Result<endpoint::Model> {
    let current = get(tx, id).await?;
    check_etag(expected_etag, current.revision)?;
    let mut next = current.clone();
    if let Some(name) = changes.display_name {
        next.display_name = name;
    }
    if let Some(secret) = changes.secret {
        next.secret = tx.secrets().seal(&secrets_at_rest::inbound_endpoint(current.tenant_id, current.id), &secret);
    }
    next.revision += 1;
    next.update_time = now();
    save_revision(tx, &current, next.clone()).await?;
    Ok(next)
}

pub async fn delete(tx: &TenantTx, id: InboundEndpointId, expected_etag: &str) -> Result<()> {
    let current = get(tx, id).await?;
    check_etag(expected_etag, current.revision)?;
    let mut next = current.clone();
    next.revision += 1;
    next.update_time = now();
    next.delete_time = Some(next.update_time);
    save_revision(tx, &current, next).await
}

/// 32 random bytes, base64url: unguessable, so knowing a path is as good
/// as being told it (the signature check still follows).
fn path_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn save_revision(tx: &TenantTx, current: &endpoint::Model, next: endpoint::Model) -> Result<()> {
    let result = endpoint::Entity::update_many()
        .set(all_set::<endpoint::ActiveModel, _>(next))
        .filter(endpoint::Column::TenantId.eq(tx.tenant().0))
        .filter(endpoint::Column::Id.eq(current.id))
        .filter(endpoint::Column::Revision.eq(current.revision))
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 { Err(Error::Conflict) } else { Ok(()) }
}
