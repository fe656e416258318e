//! Weekly working hours per staff member, in minutes after local midnight.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::entities::working_hours;
use super::{TenantTx, all_set};
use crate::error::Result;

pub use crate::domain::slots::WeeklyInterval;

/// Replaces the whole week of `staff_id`.
pub async fn replace(tx: &TenantTx, staff_id: Uuid, intervals: &[WeeklyInterval]) -> Result<()> {
    working_hours::Entity::delete_many()
        .filter(working_hours::Column::TenantId.eq(tx.tenant().0))
        .filter(working_hours::Column::StaffId.eq(staff_id))
        .exec(tx.conn())
        .await?;
    if intervals.is_empty() {
        return Ok(());
    }
    let rows = intervals.iter().map(|i| {
        all_set::<working_hours::ActiveModel, _>(working_hours::Model {
            tenant_id: tx.tenant().0,
            staff_id,
            day_of_week: i.day_of_week,
            start_minute: i.start_minute,
            end_minute: i.end_minute,
        })
    });
    working_hours::Entity::insert_many(rows).exec_without_returning(tx.conn()).await?;
    Ok(())
}

pub async fn of_staff(tx: &TenantTx, staff_id: Uuid) -> Result<Vec<WeeklyInterval>> {
    Ok(working_hours::Entity::find()
        .filter(working_hours::Column::TenantId.eq(tx.tenant().0))
        .filter(working_hours::Column::StaffId.eq(staff_id))
        .order_by_asc(working_hours::Column::DayOfWeek)
        .order_by_asc(working_hours::Column::StartMinute)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|r| WeeklyInterval { day_of_week: r.day_of_week, start_minute: r.start_minute, end_minute: r.end_minute })
        .collect())
}
