//! Staff members and the services each offers. Deleting is soft: past
//! appointments keep pointing at the row.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::{branch, staff, staff_service};
use super::{TenantTx, all_set, branches, check_etag, now, services};
use crate::domain::ids::StaffId;
use crate::domain::page::PageRequest;
use crate::error::{Error, FieldViolation, Result};

/// A staff member with the ids of the services they offer (sorted).
#[derive(Clone, Debug)]
pub struct StaffMember {
    pub row: staff::Model,
    pub service_ids: Vec<Uuid>,
}

pub struct NewStaff {
    pub branch_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub service_ids: Vec<Uuid>,
}

#[derive(Default)]
pub struct StaffChanges {
    pub branch_id: Option<Uuid>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub service_ids: Option<Vec<Uuid>>,
}

pub async fn create(tx: &TenantTx, new: NewStaff) -> Result<StaffMember> {
    tx.config_changed();
    check_references(tx, Some(new.branch_id), Some(&new.service_ids)).await?;
    let at = now();
    let row = staff::Model {
        tenant_id: tx.tenant().0,
        id: Uuid::now_v7(),
        branch_id: new.branch_id,
        display_name: new.display_name,
        email: new.email,
        revision: 1,
        create_time: at,
        update_time: at,
        delete_time: None,
    };
    staff::Entity::insert(all_set::<staff::ActiveModel, _>(row.clone())).exec_without_returning(tx.conn()).await?;
    let service_ids = replace_services(tx, row.id, new.service_ids).await?;
    Ok(StaffMember { row, service_ids })
}

pub async fn get(tx: &TenantTx, id: StaffId) -> Result<StaffMember> {
    let row = find_row(tx, id.0).await?;
    let service_ids = services_of(tx, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    Ok(StaffMember { row, service_ids })
}

pub async fn list(tx: &TenantTx, page: &PageRequest, branch_id: Option<Uuid>) -> Result<Vec<StaffMember>> {
    let mut query = staff::Entity::find()
        .filter(staff::Column::TenantId.eq(tx.tenant().0))
        .filter(staff::Column::DeleteTime.is_null());
    if let Some(branch_id) = branch_id {
        query = query.filter(staff::Column::BranchId.eq(branch_id));
    }
    if let Some(after) = page.after {
        query = query.filter(staff::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(staff::Column::Id).limit(page.fetch_limit()).all(tx.conn()).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut offered = services_of(tx, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let service_ids = offered.remove(&row.id).unwrap_or_default();
            StaffMember { row, service_ids }
        })
        .collect())
}

pub async fn update(tx: &TenantTx, id: StaffId, changes: StaffChanges, expected_etag: &str) -> Result<StaffMember> {
    tx.config_changed();
    let current = find_row(tx, id.0).await?;
    check_etag(expected_etag, current.revision)?;
    check_references(tx, changes.branch_id, changes.service_ids.as_deref()).await?;
    let mut next = current.clone();
    if let Some(v) = changes.branch_id {
        next.branch_id = v;
    }
    if let Some(v) = changes.display_name {
        next.display_name = v;
    }
    if let Some(v) = changes.email {
        next.email = v;
    }
    next.revision += 1;
    next.update_time = now();
    save_revision(tx, &current, next.clone()).await?;
    let service_ids = match changes.service_ids {
        Some(ids) => replace_services(tx, current.id, ids).await?,
        None => services_of(tx, &[current.id]).await?.remove(&current.id).unwrap_or_default(),
    };
    Ok(StaffMember { row: next, service_ids })
}

pub async fn delete(tx: &TenantTx, id: StaffId, expected_etag: &str) -> Result<()> {
    tx.config_changed();
    let current = find_row(tx, id.0).await?;
    check_etag(expected_etag, current.revision)?;
    let mut next = current.clone();
    next.revision += 1;
    next.update_time = now();
    next.delete_time = Some(next.update_time);
    save_revision(tx, &current, next).await
}

/// A reference to a branch or service that does not exist in the tenant
/// (including one of another tenant) is a field violation. Checked again in
/// the write transaction, so a reference deleted meanwhile is caught too.
async fn check_references(tx: &TenantTx, branch_id: Option<Uuid>, service_ids: Option<&[Uuid]>) -> Result<()> {
    let violations = missing_references(tx, branch_id, service_ids).await?;
    if violations.is_empty() { Ok(()) } else { Err(Error::InvalidArgument(violations)) }
}

/// The violations for references that do not exist in the tenant.
pub async fn missing_references(
    tx: &TenantTx,
    branch_id: Option<Uuid>,
    service_ids: Option<&[Uuid]>,
) -> Result<Vec<FieldViolation>> {
    let mut violations = Vec::new();
    if let Some(branch_id) = branch_id
        && !branches::exists(tx, branch_id).await?
    {
        violations.push(FieldViolation::new("staff.branch_id", "no such branch"));
    }
    if let Some(ids) = service_ids {
        let found = services::existing(tx, ids).await?;
        for (index, id) in ids.iter().enumerate() {
            if !found.contains(id) {
                violations.push(FieldViolation::new(format!("staff.service_ids[{index}]"), "no such service"));
            }
        }
    }
    Ok(violations)
}

async fn find_row(tx: &TenantTx, id: Uuid) -> Result<staff::Model> {
    staff::Entity::find_by_id((tx.tenant().0, id))
        .filter(staff::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "staff" })
}

async fn save_revision(tx: &TenantTx, current: &staff::Model, next: staff::Model) -> Result<()> {
    let result = staff::Entity::update_many()
        .set(all_set::<staff::ActiveModel, _>(next))
        .filter(staff::Column::TenantId.eq(tx.tenant().0))
        .filter(staff::Column::Id.eq(current.id))
        .filter(staff::Column::Revision.eq(current.revision))
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 { Err(Error::Conflict) } else { Ok(()) }
}

async fn replace_services(tx: &TenantTx, staff_id: Uuid, mut service_ids: Vec<Uuid>) -> Result<Vec<Uuid>> {
    service_ids.sort();
    service_ids.dedup();
    staff_service::Entity::delete_many()
        .filter(staff_service::Column::TenantId.eq(tx.tenant().0))
        .filter(staff_service::Column::StaffId.eq(staff_id))
        .exec(tx.conn())
        .await?;
    if !service_ids.is_empty() {
        let rows = service_ids.iter().map(|&service_id| {
            all_set::<staff_service::ActiveModel, _>(staff_service::Model {
                tenant_id: tx.tenant().0,
                staff_id,
                service_id,
            })
        });
        staff_service::Entity::insert_many(rows).exec_without_returning(tx.conn()).await?;
    }
    Ok(service_ids)
}

async fn services_of(tx: &TenantTx, staff_ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>> {
    if staff_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = staff_service::Entity::find()
        .filter(staff_service::Column::TenantId.eq(tx.tenant().0))
        .filter(staff_service::Column::StaffId.is_in(staff_ids.iter().copied()))
        .order_by_asc(staff_service::Column::ServiceId)
        .all(tx.conn())
        .await?;
    let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in rows {
        map.entry(row.staff_id).or_default().push(row.service_id);
    }
    Ok(map)
}

/// The live staff member whose e-mail is `email`, compared case-insensitively
/// (a Cal.com organizer); the oldest should two share it.
pub async fn find_by_email(tx: &TenantTx, email: &str) -> Result<Option<StaffMember>> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    let row = staff::Entity::find()
        .filter(staff::Column::TenantId.eq(tx.tenant().0))
        .filter(staff::Column::DeleteTime.is_null())
        .filter(Expr::expr(Func::lower(Expr::col(staff::Column::Email))).eq(email.trim().to_lowercase()))
        .order_by_asc(staff::Column::Id)
        .one(tx.conn())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let service_ids = services_of(tx, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    Ok(Some(StaffMember { row, service_ids }))
}

// ---------------------------------------------------------------------------
// Schedules: the staff member with their branch's time zone, locked for a change.

/// A live staff member whose schedule the current transaction may change.
/// Only `lock` and `touch` make one, so holding it proves that
/// concurrent schedule changes of this staff member wait for this transaction.
#[derive(Clone, Debug)]
pub struct LockedStaff {
    pub id: Uuid,
    /// The IANA zone of the staff member's branch: working hours and date
    /// overrides are wall-clock times there.
    pub time_zone: String,
}

/// A live staff member of the tenant with their branch's time zone, for reads.
#[derive(Clone, Debug)]
pub struct StaffZone {
    pub id: Uuid,
    pub time_zone: String,
    pub update_time: DateTime<Utc>,
}

/// A live staff member with their branch's time zone; NOT_FOUND for an
/// unknown, deleted or foreign id.
pub async fn zone(tx: &TenantTx, staff_id: Uuid) -> Result<StaffZone> {
    let row = staff::Entity::find_by_id((tx.tenant().0, staff_id))
        .filter(staff::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "staff" })?;
    let time_zone = branch_zone(tx, row.branch_id).await?;
    Ok(StaffZone { id: row.id, time_zone, update_time: row.update_time })
}

/// The live staff members of the tenant (or only `only`, if given) with
/// their branches' time zones, ordered by id.
pub async fn zones(tx: &TenantTx, only: Option<Uuid>) -> Result<Vec<StaffZone>> {
    let mut query = staff::Entity::find()
        .filter(staff::Column::TenantId.eq(tx.tenant().0))
        .filter(staff::Column::DeleteTime.is_null());
    if let Some(id) = only {
        query = query.filter(staff::Column::Id.eq(id));
    }
    let rows = query.order_by_asc(staff::Column::Id).all(tx.conn()).await?;
    let mut branch_ids: Vec<Uuid> = rows.iter().map(|r| r.branch_id).collect();
    branch_ids.sort();
    branch_ids.dedup();
    // Deleted branches still name a zone: their staff's schedules keep meaning.
    let zones: HashMap<Uuid, String> = branch::Entity::find()
        .select_only()
        .column(branch::Column::Id)
        .column(branch::Column::TimeZone)
        .filter(branch::Column::TenantId.eq(tx.tenant().0))
        .filter(branch::Column::Id.is_in(branch_ids))
        .into_tuple::<(Uuid, String)>()
        .all(tx.conn())
        .await?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|r| {
            let time_zone = zones.get(&r.branch_id).cloned().ok_or_else(|| missing_branch(r.branch_id))?;
            Ok(StaffZone { id: r.id, time_zone, update_time: r.update_time })
        })
        .collect()
}

/// Locks a live staff member's row until the transaction ends, so two
/// schedule changes of one staff member (an etag check and the write, or
/// "no override on that date yet" and the insert) cannot interleave. SQLite
/// needs no row lock: its write transactions are serialized already.
pub async fn lock(tx: &TenantTx, staff_id: Uuid) -> Result<LockedStaff> {
    let row = staff::Entity::find_by_id((tx.tenant().0, staff_id))
        .filter(staff::Column::DeleteTime.is_null())
        .lock_exclusive()
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "staff" })?;
    let time_zone = branch_zone(tx, row.branch_id).await?;
    Ok(LockedStaff { id: row.id, time_zone })
}

/// Records that a staff member's working hours were set at `at`: their row's
/// update_time moves (the row is locked by the same statement), their
/// revision does not, so staff etags held by clients stay valid.
pub async fn touch(tx: &TenantTx, staff_id: Uuid, at: DateTime<Utc>) -> Result<LockedStaff> {
    let result = staff::Entity::update_many()
        .col_expr(staff::Column::UpdateTime, Expr::value(at))
        .filter(staff::Column::TenantId.eq(tx.tenant().0))
        .filter(staff::Column::Id.eq(staff_id))
        .filter(staff::Column::DeleteTime.is_null())
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::NotFound { resource: "staff" });
    }
    lock(tx, staff_id).await
}

async fn branch_zone(tx: &TenantTx, branch_id: Uuid) -> Result<String> {
    // Deleted branches still name a zone: their staff's schedules keep meaning.
    branch::Entity::find_by_id((tx.tenant().0, branch_id))
        .select_only()
        .column(branch::Column::TimeZone)
        .into_tuple::<String>()
        .one(tx.conn())
        .await?
        .ok_or_else(|| missing_branch(branch_id))
}

/// The foreign key from staff to branches makes this impossible short of a
/// corrupted database.
fn missing_branch(branch_id: Uuid) -> Error {
    Error::Internal(format!("staff references missing branch {branch_id}"))
}
