//! Tenants. Creating and listing are platform-wide; reading and updating go
//! through the tenant's own transaction.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::tenant;
use super::{PlatformTx, TenantTx, all_set, check_etag, now};
use crate::domain::disclosure::CallerDisclosure;
use crate::domain::page::PageRequest;
use crate::error::{Error, Result};

pub struct NewTenant {
    pub display_name: String,
    pub time_zone: String,
    pub region_code: String,
    pub allow_overlapping_customer_appointments: bool,
    pub caller_disclosure: CallerDisclosure,
}

#[derive(Default)]
pub struct TenantChanges {
    pub display_name: Option<String>,
    pub time_zone: Option<String>,
    pub region_code: Option<String>,
    pub allow_overlapping_customer_appointments: Option<bool>,
    pub caller_disclosure: Option<CallerDisclosure>,
}

pub async fn create(tx: &PlatformTx, new: NewTenant) -> Result<tenant::Model> {
    let at = now();
    let model = tenant::Model {
        id: Uuid::now_v7(),
        display_name: new.display_name,
        time_zone: new.time_zone,
        region_code: new.region_code,
        allow_overlapping_customer_appointments: new.allow_overlapping_customer_appointments,
        caller_disclosure: new.caller_disclosure.as_str().to_owned(),
        revision: 1,
        create_time: at,
        update_time: at,
    };
    tenant::Entity::insert(all_set::<tenant::ActiveModel, _>(model.clone())).exec_without_returning(tx.conn()).await?;
    Ok(model)
}

/// The transaction's own tenant.
pub async fn get(tx: &TenantTx) -> Result<tenant::Model> {
    tenant::Entity::find_by_id(tx.tenant().0).one(tx.conn()).await?.ok_or(Error::NotFound { resource: "tenant" })
}

/// Platform-wide lookup by display name (used to find the demo tenant).
pub async fn find_by_name(tx: &PlatformTx, display_name: &str) -> Result<Option<tenant::Model>> {
    Ok(tenant::Entity::find()
        .filter(tenant::Column::DisplayName.eq(display_name))
        .order_by_asc(tenant::Column::Id)
        .one(tx.conn())
        .await?)
}

/// Platform-wide existence check (a platform admin naming a tenant).
pub async fn exists(tx: &PlatformTx, id: Uuid) -> Result<bool> {
    Ok(tenant::Entity::find_by_id(id).one(tx.conn()).await?.is_some())
}

/// The ids of the first `limit` tenants (warming caches at start).
pub async fn ids(tx: &PlatformTx, limit: u64) -> Result<Vec<Uuid>> {
    use sea_orm::QuerySelect;
    Ok(tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .order_by_asc(tenant::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(tx.conn())
        .await?)
}

pub async fn list(tx: &PlatformTx, page: &PageRequest) -> Result<Vec<tenant::Model>> {
    let mut query = tenant::Entity::find();
    if let Some(after) = page.after {
        query = query.filter(tenant::Column::Id.gt(after));
    }
    Ok(query.order_by_asc(tenant::Column::Id).limit(page.fetch_limit()).all(tx.conn()).await?)
}

pub async fn update(tx: &TenantTx, changes: TenantChanges, expected_etag: &str) -> Result<tenant::Model> {
    // The region and the overlap policy are part of the cached configuration.
    tx.config_changed();
    let current = get(tx).await?;
    check_etag(expected_etag, current.revision)?;
    let mut next = current.clone();
    if let Some(v) = changes.display_name {
        next.display_name = v;
    }
    if let Some(v) = changes.time_zone {
        next.time_zone = v;
    }
    if let Some(v) = changes.region_code {
        next.region_code = v;
    }
    if let Some(v) = changes.allow_overlapping_customer_appointments {
        next.allow_overlapping_customer_appointments = v;
    }
    if let Some(v) = changes.caller_disclosure {
        next.caller_disclosure = v.as_str().to_owned();
    }
    next.revision += 1;
    next.update_time = now();
    let result = tenant::Entity::update_many()
        .set(all_set::<tenant::ActiveModel, _>(next.clone()))
        .filter(tenant::Column::Id.eq(current.id))
        .filter(tenant::Column::Revision.eq(current.revision))
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::Conflict);
    }
    Ok(next)
}
