//! Customers of a tenant, identified by their E.164 phone number (unique
//! among the tenant's live customers).
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::customer;
use super::{TenantTx, all_set, check_etag, is_unique_violation, now};
use crate::domain::page::PageRequest;
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct NewCustomer {
    /// E.164.
    pub phone_number: String,
    pub display_name: String,
    pub email: String,
    pub notes: String,
}

#[derive(Clone, Debug, Default)]
pub struct CustomerChanges {
    pub phone_number: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
}

pub async fn create(tx: &TenantTx, new: NewCustomer) -> Result<customer::Model> {
    let at = now();
    let row = customer::Model {
        tenant_id: tx.tenant().0,
        id: Uuid::now_v7(),
        phone_number: new.phone_number,
        display_name: new.display_name,
        email: new.email,
        notes: new.notes,
        revision: 1,
        create_time: at,
        update_time: at,
        delete_time: None,
    };
    customer::Entity::insert(all_set::<customer::ActiveModel, _>(row.clone()))
        .exec_without_returning(tx.conn())
        .await
        .map_err(|err| {
            if is_unique_violation(&err) {
                Error::AlreadyExists { resource: "customer", detail: "a customer with this phone number exists".into() }
            } else {
                err.into()
            }
        })?;
    Ok(row)
}

/// The live customer with this E.164 number, if any.
pub async fn find_by_phone(tx: &TenantTx, phone_number: &str) -> Result<Option<customer::Model>> {
    Ok(customer::Entity::find()
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::PhoneNumber.eq(phone_number))
        .filter(customer::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?)
}

/// Finds the customer by phone number, or creates one. An existing
/// customer's empty name and e-mail are filled in; nothing is overwritten.
/// Returns the customer and whether it was created.
pub async fn find_or_create(tx: &TenantTx, new: NewCustomer) -> Result<(customer::Model, bool)> {
    match find_by_phone(tx, &new.phone_number).await? {
        // A concurrent call may create the same customer first; retrying the
        // transaction then finds it.
        None => match create(tx, new).await {
            Ok(created) => Ok((created, true)),
            Err(Error::AlreadyExists { .. }) => Err(Error::Conflict),
            Err(other) => Err(other),
        },
        Some(existing) => {
            let fill_name = existing.display_name.is_empty() && !new.display_name.is_empty();
            let fill_email = existing.email.is_empty() && !new.email.is_empty();
            if !fill_name && !fill_email {
                return Ok((existing, false));
            }
            let changes = CustomerChanges {
                display_name: fill_name.then_some(new.display_name),
                email: fill_email.then_some(new.email),
                ..Default::default()
            };
            Ok((update(tx, existing.id, changes, "").await?, false))
        }
    }
}

pub async fn get(tx: &TenantTx, id: Uuid) -> Result<customer::Model> {
    customer::Entity::find_by_id((tx.tenant().0, id))
        .filter(customer::Column::DeleteTime.is_null())
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "customer" })
}

/// Lists live customers oldest first; `query` matches a name or phone-number prefix.
pub async fn list(tx: &TenantTx, page: &PageRequest, query: &str) -> Result<Vec<customer::Model>> {
    let mut select = customer::Entity::find()
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::DeleteTime.is_null());
    if !query.is_empty() {
        select = select.filter(
            Condition::any()
                .add(customer::Column::DisplayName.starts_with(query))
                .add(customer::Column::PhoneNumber.starts_with(query)),
        );
    }
    if let Some(after) = page.after {
        select = select.filter(customer::Column::Id.gt(after));
    }
    Ok(select.order_by_asc(customer::Column::Id).limit(page.fetch_limit()).all(tx.conn()).await?)
}

pub async fn update(tx: &TenantTx, id: Uuid, changes: CustomerChanges, expected_etag: &str) -> Result<customer::Model> {
    let current = get(tx, id).await?;
    check_etag(expected_etag, current.revision)?;
    let mut next = current.clone();
    if let Some(v) = changes.phone_number {
        next.phone_number = v;
    }
    if let Some(v) = changes.display_name {
        next.display_name = v;
    }
    if let Some(v) = changes.email {
        next.email = v;
    }
    if let Some(v) = changes.notes {
        next.notes = v;
    }
    next.revision += 1;
    next.update_time = now();
    save_revision(tx, &current, next.clone()).await?;
    Ok(next)
}

pub async fn delete(tx: &TenantTx, id: Uuid, expected_etag: &str) -> Result<()> {
    let current = get(tx, id).await?;
    check_etag(expected_etag, current.revision)?;
    let mut next = current.clone();
    next.revision += 1;
    next.update_time = now();
    next.delete_time = Some(next.update_time);
    save_revision(tx, &current, next).await
}

/// Customers created in `[from, to)` (dashboard).
pub async fn count_created(
    tx: &TenantTx,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    Ok(customer::Entity::find()
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::CreateTime.gte(from))
        .filter(customer::Column::CreateTime.lt(to))
        .count(tx.conn())
        .await?)
}

async fn save_revision(tx: &TenantTx, current: &customer::Model, next: customer::Model) -> Result<()> {
    let result = customer::Entity::update_many()
        .set(all_set::<customer::ActiveModel, _>(next))
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::Id.eq(current.id))
        .filter(customer::Column::Revision.eq(current.revision))
        .exec(tx.conn())
        .await
        .map_err(|err| {
            if is_unique_violation(&err) {
                Error::AlreadyExists { resource: "customer", detail: "a customer with this phone number exists".into() }
            } else {
                err.into()
            }
        })?;
    if result.rows_affected == 0 { Err(Error::Conflict) } else { Ok(()) }
}
