//! Branches and their inbound phone numbers. Deleting a branch is soft (its
//! appointments stay readable) and frees its phone numbers.
use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::{branch, branch_phone_number as phone, staff};
use super::{TenantTx, all_set, check_etag, is_unique_violation, now};
use crate::domain::ids::BranchId;
use crate::domain::page::PageRequest;
use crate::error::{Error, Result};

/// A branch with its phone numbers (E.164, sorted).
#[derive(Clone, Debug)]
pub struct Branch {
    pub row: branch::Model,
    pub phone_numbers: Vec<String>,
}

#[derive(Clone, Default)]
pub struct NewBranch {
    pub display_name: String,
    pub time_zone: String,
    pub region_code: String,
    pub address: String,
    pub phone_numbers: Vec<String>,
}

#[derive(Clone, Default)]
pub struct BranchChanges {
    pub display_name: Option<String>,
    pub time_zone: Option<String>,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub phone_numbers: Option<Vec<String>>,
}

pub async fn create(tx: &TenantTx, new: NewBranch) -> Result<Branch> {
    tx.config_changed();
    let at = now();
    let row = branch::Model {
        tenant_id: tx.tenant().0,
        id: Uuid::now_v7(),
        display_name: new.display_name,
        time_zone: new.time_zone,
        region_code: new.region_code,
        address: new.address,
        revision: 1,
        create_time: at,
        update_time: at,
        delete_time: None,
    };
    branch::Entity::insert(all_set::<branch::ActiveModel, _>(row.clone())).exec_without_returning(tx.conn()).await?;
    let phone_numbers = insert_phone_numbers(tx, row.id, new.phone_numbers).await?;
    Ok(Branch { row, phone_numbers })
}

pub async fn get(tx: &TenantTx, id: BranchId) -> Result<Branch> {
    let row = find_row(tx, id.0).await?;
    let phone_numbers = phone_numbers_of(tx, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    Ok(Branch { row, phone_numbers })
}

/// A live branch without its phone numbers (what bookings need).
pub async fn get_row(tx: &TenantTx, id: BranchId) -> Result<branch::Model> {
    find_row(tx, id.0).await
}

/// Whether a live branch with this id exists in the tenant.
pub async fn exists(tx: &TenantTx, id: Uuid) -> Result<bool> {
    Ok(find_row(tx, id).await.is_ok())
}

pub async fn list(tx: &TenantTx, page: &PageRequest) -> Result<Vec<Branch>> {
    let mut query = branch::Entity::find()
        .filter(branch::Column::TenantId.eq(tx.tenant().0))
        .filter(branch::Column::DeleteTime.is_null());
    if let Some(after) = page.after {
        query = query.filter(branch::Column::Id.gt(after));
    }
    let rows = query.order_by_asc(branch::Column::Id).limit(page.fetch_limit()).all(tx.conn()).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut numbers = phone_numbers_of(tx, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let phone_numbers = numbers.remove(&row.id).unwrap_or_default();
            Branch { row, phone_numbers }
        })
        .collect())
}

pub async fn update(tx: &TenantTx, id: BranchId, changes: BranchChanges, expected_etag: &str) -> Result<Branch> {
    tx.config_changed();
    let current = find_row(tx, id.0).await?;
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
    if let Some(v) = changes.address {
        next.address = v;
    }
    next.revision += 1;
    next.update_time = now();
    save_revision(tx, &current, next.clone()).await?;
    let phone_numbers = match changes.phone_numbers {
        Some(numbers) => {
            phone::Entity::delete_many()
                .filter(phone::Column::TenantId.eq(tx.tenant().0))
                .filter(phone::Column::BranchId.eq(current.id))
                .exec(tx.conn())
                .await?;
            insert_phone_numbers(tx, current.id, numbers).await?
        }
        None => phone_numbers_of(tx, &[current.id]).await?.remove(&current.id).unwrap_or_default(),
    };
    Ok(Branch { row: next, phone_numbers })
}

pub async fn delete(tx: &TenantTx, id: BranchId, expected_etag: &str) -> Result<()> {
    tx.config_changed();
    let current = find_row(tx, id.0).await?;
    check_etag(expected_etag, current.revision)?;
    let staff_count = staff::Entity::find()
        .filter(staff::Column::TenantId.eq(tx.tenant().0))
        .filter(staff::Column::BranchId.eq(current.id))
        .filter(staff::Column::DeleteTime.is_null())
        .count(tx.conn())
        .await?;
    if staff_count > 0 {
        return Err(Error::FailedPrecondition {
            reason: "FAILED_PRECONDITION",
            message: format!("the branch still has {staff_count} staff; delete or move them first"),
        });
    }
    phone::Entity::delete_many()
        .filter(phone::Column::TenantId.eq(tx.tenant().0))
        .filter(phone::Column::BranchId.eq(current.id))
        .exec(tx.conn())
        .await?;
    let mut next = current.clone();
    next.revision += 1;
    next.update_time = now();
    next.delete_time = Some(next.update_time);
    save_revision(tx, &current, next).await
}

async fn find_row(tx: &TenantTx, id: Uuid) -> Result<branch::Model> {
    branch::Entity::find_by_id((tx.tenant().0, id))
        .filter(branch::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "branch" })
}

/// Writes `next` only if nobody changed the row since `current` was read.
async fn save_revision(tx: &TenantTx, current: &branch::Model, next: branch::Model) -> Result<()> {
    let result = branch::Entity::update_many()
        .set(all_set::<branch::ActiveModel, _>(next))
        .filter(branch::Column::TenantId.eq(tx.tenant().0))
        .filter(branch::Column::Id.eq(current.id))
        .filter(branch::Column::Revision.eq(current.revision))
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 { Err(Error::Conflict) } else { Ok(()) }
}

async fn insert_phone_numbers(tx: &TenantTx, branch_id: Uuid, mut numbers: Vec<String>) -> Result<Vec<String>> {
    numbers.sort();
    numbers.dedup();
    for number in &numbers {
        let row = phone::Model { tenant_id: tx.tenant().0, phone_number: number.clone(), branch_id };
        if let Err(err) =
            phone::Entity::insert(all_set::<phone::ActiveModel, _>(row)).exec_without_returning(tx.conn()).await
        {
            if is_unique_violation(&err) {
                return Err(Error::AlreadyExists {
                    resource: "phone number",
                    detail: format!("{number} already belongs to a branch"),
                });
            }
            return Err(err.into());
        }
    }
    Ok(numbers)
}

async fn phone_numbers_of(tx: &TenantTx, branch_ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<String>>> {
    if branch_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = phone::Entity::find()
        .filter(phone::Column::TenantId.eq(tx.tenant().0))
        .filter(phone::Column::BranchId.is_in(branch_ids.iter().copied()))
        .order_by_asc(phone::Column::PhoneNumber)
        .all(tx.conn())
        .await?;
    let mut map: HashMap<Uuid, Vec<String>> = HashMap::new();
    for row in rows {
        map.entry(row.branch_id).or_default().push(row.phone_number);
    }
    Ok(map)
}

/// The live branch one of whose inbound numbers is `phone_number` (E.164):
/// the branch a voice-agent call was made to.
pub async fn find_by_phone_number(tx: &TenantTx, phone_number: &str) -> Result<Option<branch::Model>> {
    let Some(number) = phone::Entity::find()
        .filter(phone::Column::TenantId.eq(tx.tenant().0))
        .filter(phone::Column::PhoneNumber.eq(phone_number))
        .one(tx.conn())
        .await?
    else {
        return Ok(None);
    };
    Ok(find_row(tx, number.branch_id).await.ok())
}
