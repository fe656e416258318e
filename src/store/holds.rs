//! Slot holds (the seed's TimeSlotLockManager): a slot reserved for a hold
//! key (the voice-agent call id) until it expires, is released, or becomes an
//! appointment. Expiry is read off `expire_time`; the clean-up job only
//! removes what no longer counts.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, SimpleExpr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::entities::{hold, slot_claim};
use super::{PlatformTx, TenantTx, all_set};
use crate::error::{Error, Result};

pub const ACTIVE: &str = "active";
pub const RELEASED: &str = "released";
pub const CONVERTED: &str = "converted";

pub async fn insert(tx: &TenantTx, row: &hold::Model) -> Result<()> {
    hold::Entity::insert(all_set::<hold::ActiveModel, _>(row.clone())).exec_without_returning(tx.conn()).await?;
    Ok(())
}

/// How many live (active, unexpired) holds a hold key, an API key and the
/// whole tenant have: one statement over the tenant's live holds (which the
/// tenant cap keeps few), read by `holds_expiry_idx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveHolds {
    pub of_hold_key: i64,
    pub of_api_key: i64,
    pub in_tenant: i64,
}

pub async fn live_counts(tx: &TenantTx, hold_key: &str, api_key: Uuid, at: DateTime<Utc>) -> Result<LiveHolds> {
    let matching = |condition: SimpleExpr| {
        let ones: SimpleExpr = Func::sum(Expr::case(condition, 1).finally(0)).into();
        SimpleExpr::from(Func::cast_as(Func::coalesce([ones, Expr::val(0)]), "BIGINT"))
    };
    let (of_hold_key, of_api_key, in_tenant): (i64, i64, i64) = hold::Entity::find()
        .select_only()
        .column_as(matching(Expr::col(hold::Column::HoldKey).eq(hold_key)), "of_hold_key")
        .column_as(matching(Expr::col(hold::Column::ApiKeyId).eq(api_key)), "of_api_key")
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "in_tenant")
        .filter(hold::Column::TenantId.eq(tx.tenant().0))
        .filter(hold::Column::State.eq(ACTIVE))
        .filter(hold::Column::ExpireTime.gt(at))
        .into_tuple()
        .one(tx.conn())
        .await?
        .unwrap_or_default();
    Ok(LiveHolds { of_hold_key, of_api_key, in_tenant })
}

pub async fn get(tx: &TenantTx, id: Uuid) -> Result<hold::Model> {
    hold::Entity::find_by_id((tx.tenant().0, id)).one(tx.conn()).await?.ok_or(Error::NotFound { resource: "hold" })
}

/// Marks a live hold as booked by `appointment_id`.
pub async fn convert(tx: &TenantTx, id: Uuid, appointment_id: Uuid, at: DateTime<Utc>) -> Result<()> {
    finish(tx, id, CONVERTED, Some(appointment_id), at).await
}

/// Marks a live hold as released.
pub async fn release(tx: &TenantTx, id: Uuid, at: DateTime<Utc>) -> Result<()> {
    finish(tx, id, RELEASED, None, at).await
}

/// Ends a hold that is still active. The state condition makes racing
/// bookings and releases of one hold serialize on its row: the loser finds
/// nothing to change, its transaction is retried, and it then sees the end.
async fn finish(tx: &TenantTx, id: Uuid, state: &str, appointment_id: Option<Uuid>, at: DateTime<Utc>) -> Result<()> {
    let result = hold::Entity::update_many()
        .col_expr(hold::Column::State, Expr::value(state))
        .col_expr(hold::Column::AppointmentId, Expr::value(appointment_id))
        .col_expr(hold::Column::UpdateTime, Expr::value(at))
        .filter(hold::Column::TenantId.eq(tx.tenant().0))
        .filter(hold::Column::Id.eq(id))
        .filter(hold::Column::State.eq(ACTIVE))
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 { Err(Error::Conflict) } else { Ok(()) }
}

/// Moves a live hold's expiry (the claim's too, so the two agree).
pub async fn extend(tx: &TenantTx, hold: &hold::Model, at: DateTime<Utc>) -> Result<()> {
    let (id, expire_time) = (hold.id, hold.expire_time);
    tx.changed(|c| c.busy.insert(hold.staff_id));
    hold::Entity::update_many()
        .col_expr(hold::Column::ExpireTime, Expr::value(expire_time))
        .col_expr(hold::Column::UpdateTime, Expr::value(at))
        .filter(hold::Column::TenantId.eq(tx.tenant().0))
        .filter(hold::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    slot_claim::Entity::update_many()
        .col_expr(slot_claim::Column::ExpireTime, Expr::value(Some(expire_time)))
        .filter(slot_claim::Column::TenantId.eq(tx.tenant().0))
        .filter(slot_claim::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Removes, in every tenant, holds that ended (expired, released or
/// converted) before `before`, and the claims that no longer count. Run by
/// the clean-up job; expired holds block nothing even before it runs.
pub async fn purge_ended_everywhere(tx: &PlatformTx, before: DateTime<Utc>) -> Result<u64> {
    let claims = slot_claim::Entity::delete_many()
        .filter(slot_claim::Column::Kind.eq("hold"))
        .filter(
            sea_orm::Condition::any()
                .add(slot_claim::Column::Active.eq(false))
                .add(slot_claim::Column::ExpireTime.lt(before)),
        )
        .exec(tx.conn())
        .await?;
    let holds = hold::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(hold::Column::ExpireTime.lt(before))
                .add(hold::Column::State.ne(ACTIVE).and(hold::Column::UpdateTime.lt(before))),
        )
        .exec(tx.conn())
        .await?;
    Ok(claims.rows_affected + holds.rows_affected)
}

/// Holds still active and not expired, over all tenants (a metric).
pub async fn count_live(tx: &PlatformTx, now: DateTime<Utc>) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(hold::Entity::find()
        .filter(hold::Column::State.eq(ACTIVE))
        .filter(hold::Column::ExpireTime.gt(now))
        .count(tx.conn())
        .await?)
}

/// The active holds with this key (a voice-agent call's holds).
pub async fn active_with_key(tx: &TenantTx, hold_key: &str) -> Result<Vec<hold::Model>> {
    Ok(hold::Entity::find()
        .filter(hold::Column::TenantId.eq(tx.tenant().0))
        .filter(hold::Column::HoldKey.eq(hold_key))
        .filter(hold::Column::State.eq(ACTIVE))
        .all(tx.conn())
        .await?)
}
