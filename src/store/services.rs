//! Bookable services. Deleting one is soft and removes it from every staff
//! member's offer.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use sea_orm::sea_query::{Expr, ExprTrait};

use super::entities::{service, staff, staff_service};
use super::{TenantTx, all_set, check_etag, now};
use crate::domain::ids::ServiceId;
use crate::domain::page::PageRequest;
use crate::error::{Error, Result};

/// Service timings in whole minutes.
#[derive(Clone, Debug)]
pub struct ServiceTimings {
    pub duration: i32,
    pub buffer_before: i32,
    pub buffer_after: i32,
    pub minimum_notice: i32,
    pub booking_horizon: i32,
    pub slot_step: i32,
}

pub struct NewService {
    pub display_name: String,
    pub description: String,
    pub timings: ServiceTimings,
}

#[derive(Default)]
pub struct ServiceChanges {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub duration: Option<i32>,
    pub buffer_before: Option<i32>,
    pub buffer_after: Option<i32>,
    pub minimum_notice: Option<i32>,
    pub booking_horizon: Option<i32>,
    pub slot_step: Option<i32>,
}

pub async fn create(tx: &TenantTx, new: NewService) -> Result<service::Model> {
    tx.config_changed();
    let at = now();
    let t = new.timings;
    let row = service::Model {
        tenant_id: tx.tenant().0,
        id: Uuid::now_v7(),
        display_name: new.display_name,
        description: new.description,
        duration_minutes: t.duration,
        buffer_before_minutes: t.buffer_before,
        buffer_after_minutes: t.buffer_after,
        minimum_notice_minutes: t.minimum_notice,
        booking_horizon_minutes: t.booking_horizon,
        slot_step_minutes: t.slot_step,
        revision: 1,
        create_time: at,
        update_time: at,
        delete_time: None,
    };
    service::Entity::insert(all_set::<service::ActiveModel, _>(row.clone())).exec_without_returning(tx.conn()).await?;
    Ok(row)
}

pub async fn get(tx: &TenantTx, id: ServiceId) -> Result<service::Model> {
    service::Entity::find_by_id((tx.tenant().0, id.0))
        .filter(service::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "service" })
}

/// The subset of `ids` that are live services of the tenant.
pub async fn existing(tx: &TenantTx, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(service::Entity::find()
        .select_only()
        .column(service::Column::Id)
        .filter(service::Column::TenantId.eq(tx.tenant().0))
        .filter(service::Column::Id.is_in(ids.iter().copied()))
        .filter(service::Column::DeleteTime.is_null())
        .into_tuple::<Uuid>()
        .all(tx.conn())
        .await?)
}

pub async fn list(tx: &TenantTx, page: &PageRequest) -> Result<Vec<service::Model>> {
    let mut query = service::Entity::find()
        .filter(service::Column::TenantId.eq(tx.tenant().0))
        .filter(service::Column::DeleteTime.is_null());
    if let Some(after) = page.after {
        query = query.filter(service::Column::Id.gt(after));
    }
    Ok(query.order_by_asc(service::Column::Id).limit(page.fetch_limit()).all(tx.conn()).await?)
}

pub async fn update(
    tx: &TenantTx,
    id: ServiceId,
    changes: ServiceChanges,
    expected_etag: &str,
) -> Result<service::Model> {
    tx.config_changed();
    let current = get(tx, id).await?;
    check_etag(expected_etag, current.revision)?;
    let mut next = current.clone();
    let c = changes;
    if let Some(v) = c.display_name {
        next.display_name = v;
    }
    if let Some(v) = c.description {
        next.description = v;
    }
    next.duration_minutes = c.duration.unwrap_or(next.duration_minutes);
    next.buffer_before_minutes = c.buffer_before.unwrap_or(next.buffer_before_minutes);
    next.buffer_after_minutes = c.buffer_after.unwrap_or(next.buffer_after_minutes);
    next.minimum_notice_minutes = c.minimum_notice.unwrap_or(next.minimum_notice_minutes);
    next.booking_horizon_minutes = c.booking_horizon.unwrap_or(next.booking_horizon_minutes);
    next.slot_step_minutes = c.slot_step.unwrap_or(next.slot_step_minutes);
    next.revision += 1;
    next.update_time = now();
    save_revision(tx, &current, next.clone()).await?;
    Ok(next)
}

pub async fn delete(tx: &TenantTx, id: ServiceId, expected_etag: &str) -> Result<()> {
    tx.config_changed();
    let current = get(tx, id).await?;
    check_etag(expected_etag, current.revision)?;
    // The staff offering it change too: their etags must move.
    let offering: Vec<Uuid> = staff_service::Entity::find()
        .select_only()
        .column(staff_service::Column::StaffId)
        .filter(staff_service::Column::TenantId.eq(tx.tenant().0))
        .filter(staff_service::Column::ServiceId.eq(current.id))
        .into_tuple()
        .all(tx.conn())
        .await?;
    if !offering.is_empty() {
        staff::Entity::update_many()
            .col_expr(staff::Column::Revision, Expr::col(staff::Column::Revision).add(1))
            .col_expr(staff::Column::UpdateTime, Expr::value(now()))
            .filter(staff::Column::TenantId.eq(tx.tenant().0))
            .filter(staff::Column::Id.is_in(offering))
            .exec(tx.conn())
            .await?;
    }
    staff_service::Entity::delete_many()
        .filter(staff_service::Column::TenantId.eq(tx.tenant().0))
        .filter(staff_service::Column::ServiceId.eq(current.id))
        .exec(tx.conn())
        .await?;
    let mut next = current.clone();
    next.revision += 1;
    next.update_time = now();
    next.delete_time = Some(next.update_time);
    save_revision(tx, &current, next).await
}

async fn save_revision(tx: &TenantTx, current: &service::Model, next: service::Model) -> Result<()> {
    let result = service::Entity::update_many()
        .set(all_set::<service::ActiveModel, _>(next))
        .filter(service::Column::TenantId.eq(tx.tenant().0))
        .filter(service::Column::Id.eq(current.id))
        .filter(service::Column::Revision.eq(current.revision))
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 { Err(Error::Conflict) } else { Ok(()) }
}
