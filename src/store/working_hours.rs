//! Weekly working hours per staff member, in minutes after local midnight.
//! A schedule change also locks the staff member (`staff::lock`) and looks
//! for upcoming appointments it conflicts with (`appointments::upcoming_of_staff`).
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::entities::working_hours;
use super::{TenantTx, all_set};
use crate::error::Result;

pub use crate::domain::slots::WeeklyInterval;

/// Replaces the whole week of `staff_id`.
pub async fn replace(tx: &TenantTx, staff_id: Uuid, intervals: &[WeeklyInterval]) -> Result<()> {
    tx.config_changed();
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

/// The week of one staff member, ordered by day, then start.
pub async fn of_staff(tx: &TenantTx, staff_id: Uuid) -> Result<Vec<WeeklyInterval>> {
    Ok(of_staff_many(tx, &[staff_id]).await?.into_iter().map(|(_, interval)| interval).collect())
}

/// The weeks of several staff members in one query, ordered by staff, day, start.
pub async fn of_staff_many(tx: &TenantTx, staff_ids: &[Uuid]) -> Result<Vec<(Uuid, WeeklyInterval)>> {
    if staff_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(working_hours::Entity::find()
        .filter(working_hours::Column::TenantId.eq(tx.tenant().0))
        .filter(working_hours::Column::StaffId.is_in(staff_ids.iter().copied()))
        .order_by_asc(working_hours::Column::StaffId)
        .order_by_asc(working_hours::Column::DayOfWeek)
        .order_by_asc(working_hours::Column::StartMinute)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|r| {
            let interval =
                WeeklyInterval { day_of_week: r.day_of_week, start_minute: r.start_minute, end_minute: r.end_minute };
            (r.staff_id, interval)
        })
        .collect())
}
