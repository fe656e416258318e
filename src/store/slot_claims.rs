//! Slot claims: the one place that decides whether a staff member's time is
//! free. An appointment or hold claims its buffered range; a second active
//! claim overlapping it is refused by the database (PostgreSQL exclusion
//! constraint) or by the serialized SQLite write transaction (check, then
//! insert, under the write gate).
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::entities::slot_claim;
use super::{TenantTx, all_set};
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimKind {
    Appointment,
    Hold,
}

impl ClaimKind {
    fn as_str(self) -> &'static str {
        match self {
            ClaimKind::Appointment => "appointment",
            ClaimKind::Hold => "hold",
        }
    }
}

/// A claim on `[block_start, block_end)` of one staff member's time.
#[derive(Clone, Debug)]
pub struct Claim {
    pub id: Uuid,
    pub staff_id: Uuid,
    pub kind: ClaimKind,
    pub block_start: DateTime<Utc>,
    pub block_end: DateTime<Utc>,
    /// Holds only: when the claim stops counting.
    pub expire_time: Option<DateTime<Utc>>,
}

/// Claims the range, or fails with `Error::SlotTaken` (no alternatives yet:
/// the API layer adds them after the transaction).
pub async fn claim(tx: &TenantTx, claim: &Claim, now: DateTime<Utc>) -> Result<()> {
    tx.changed(|c| c.busy.insert(claim.staff_id));
    if decided_by_constraint(tx) {
        return claim_in_one_statement(tx, claim, now).await;
    }
    release_expired_holds(tx, claim.staff_id, claim.block_start, claim.block_end, now).await?;
    if overlapping(tx, claim.staff_id, claim.block_start, claim.block_end, None).await? > 0 {
        return Err(Error::SlotTaken { alternatives: Vec::new() });
    }
    let row = slot_claim::Model {
        tenant_id: tx.tenant().0,
        id: claim.id,
        staff_id: claim.staff_id,
        kind: claim.kind.as_str().to_owned(),
        block_start: claim.block_start,
        block_end: claim.block_end,
        active: true,
        expire_time: claim.expire_time,
    };
    slot_claim::Entity::insert(all_set::<slot_claim::ActiveModel, _>(row))
        .exec_without_returning(tx.conn())
        .await
        .map_err(taken_or)?;
    Ok(())
}

/// PostgreSQL: releases the expired holds in the way and inserts the claim
/// in one statement, one round trip for the booking's decisive write. The
/// insert reads the release's row count, so the release has run before the
/// exclusion constraint checks the new row, and rows this transaction has
/// just deactivated no longer conflict. Written by hand: sea-query has no
/// INSERT ... SELECT over a data-modifying WITH.
async fn claim_in_one_statement(tx: &TenantTx, claim: &Claim, now: DateTime<Utc>) -> Result<()> {
    const SQL: &str = "WITH released AS (\
            UPDATE slot_claims SET active = false \
            WHERE tenant_id = $1 AND staff_id = $2 AND active AND kind = $3 AND expire_time <= $4 \
            AND block_start < $5 AND block_end > $6 RETURNING 1) \
        INSERT INTO slot_claims (tenant_id, id, staff_id, kind, block_start, block_end, active, expire_time) \
        SELECT $1, $7, $2, $8, $6, $5, true, $9 FROM (SELECT count(*) FROM released) AS release_done";
    let values: Vec<sea_orm::Value> = vec![
        tx.tenant().0.into(),
        claim.staff_id.into(),
        ClaimKind::Hold.as_str().into(),
        now.into(),
        claim.block_end.into(),
        claim.block_start.into(),
        claim.id.into(),
        claim.kind.as_str().into(),
        claim.expire_time.into(),
    ];
    tx.conn()
        .execute_raw(sea_orm::Statement::from_sql_and_values(DbBackend::Postgres, SQL, values))
        .await
        .map_err(taken_or)?;
    Ok(())
}

/// Moves an existing claim (a reschedule) in place: the new range is checked
/// against every other claim, and the old range is given up in the same
/// statement, so the appointment never holds neither nor both.
/// `previous_staff_id` is whose time the claim leaves.
pub async fn move_claim(
    tx: &TenantTx,
    id: Uuid,
    previous_staff_id: Uuid,
    staff_id: Uuid,
    block_start: DateTime<Utc>,
    block_end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.changed(|c| {
        c.busy.insert(previous_staff_id);
        c.busy.insert(staff_id)
    });
    release_expired_holds(tx, staff_id, block_start, block_end, now).await?;
    if !decided_by_constraint(tx) && overlapping(tx, staff_id, block_start, block_end, Some(id)).await? > 0 {
        return Err(Error::SlotTaken { alternatives: Vec::new() });
    }
    slot_claim::Entity::update_many()
        .col_expr(slot_claim::Column::StaffId, Expr::value(staff_id))
        .col_expr(slot_claim::Column::BlockStart, Expr::value(block_start))
        .col_expr(slot_claim::Column::BlockEnd, Expr::value(block_end))
        .filter(slot_claim::Column::TenantId.eq(tx.tenant().0))
        .filter(slot_claim::Column::Id.eq(id))
        .exec(tx.conn())
        .await
        .map_err(taken_or)?;
    Ok(())
}

/// Gives the claim's time back (cancel, release, conversion of a hold);
/// `staff_id` is whose time it was.
pub async fn release(tx: &TenantTx, id: Uuid, staff_id: Uuid) -> Result<()> {
    tx.changed(|c| c.busy.insert(staff_id));
    slot_claim::Entity::update_many()
        .col_expr(slot_claim::Column::Active, Expr::value(false))
        .filter(slot_claim::Column::TenantId.eq(tx.tenant().0))
        .filter(slot_claim::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// PostgreSQL's exclusion constraint refuses an overlapping claim by itself
/// (the insert or update fails with exclusion_violation, see `taken_or`), so
/// asking first would only cost a round trip. SQLite has no such constraint:
/// there the check runs, under the write gate.
fn decided_by_constraint(tx: &TenantTx) -> bool {
    tx.conn().get_database_backend() == DbBackend::Postgres
}

/// Expired holds count for nothing: deactivate those in the way first, so
/// the exclusion constraint sees only live claims.
async fn release_expired_holds(
    tx: &TenantTx,
    staff_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    slot_claim::Entity::update_many()
        .col_expr(slot_claim::Column::Active, Expr::value(false))
        .filter(slot_claim::Column::TenantId.eq(tx.tenant().0))
        .filter(slot_claim::Column::StaffId.eq(staff_id))
        .filter(slot_claim::Column::Active.eq(true))
        .filter(slot_claim::Column::Kind.eq(ClaimKind::Hold.as_str()))
        .filter(slot_claim::Column::ExpireTime.lte(now))
        .filter(slot_claim::Column::BlockStart.lt(end))
        .filter(slot_claim::Column::BlockEnd.gt(start))
        .exec(tx.conn())
        .await?;
    Ok(())
}

async fn overlapping(
    tx: &TenantTx,
    staff_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<u64> {
    let mut query = slot_claim::Entity::find()
        .filter(slot_claim::Column::TenantId.eq(tx.tenant().0))
        .filter(slot_claim::Column::StaffId.eq(staff_id))
        .filter(slot_claim::Column::Active.eq(true))
        .filter(slot_claim::Column::BlockStart.lt(end))
        .filter(slot_claim::Column::BlockEnd.gt(start));
    if let Some(id) = except {
        query = query.filter(slot_claim::Column::Id.ne(id));
    }
    Ok(query.count(tx.conn()).await?)
}

/// Active claims of these staff members overlapping the range, as (staff,
/// block_start, block_end, expire_time): what availability must avoid, once
/// holds that expired are left out.
pub async fn active_overlapping(
    tx: &TenantTx,
    staff_ids: &[Uuid],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(Uuid, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>)>> {
    if staff_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = slot_claim::Entity::find()
        .filter(slot_claim::Column::TenantId.eq(tx.tenant().0))
        .filter(slot_claim::Column::StaffId.is_in(staff_ids.iter().copied()))
        .filter(slot_claim::Column::Active.eq(true))
        .filter(slot_claim::Column::BlockStart.lt(end))
        .filter(slot_claim::Column::BlockEnd.gt(start))
        .all(tx.conn())
        .await?;
    Ok(rows.into_iter().map(|r| (r.staff_id, r.block_start, r.block_end, r.expire_time)).collect())
}

/// PostgreSQL's exclusion_violation (23P01) means a concurrent transaction
/// claimed the time first: the slot is taken, not a retryable conflict.
fn taken_or(err: DbErr) -> Error {
    let exclusion = match &err {
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e)) | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => {
            matches!(e.as_ref(), sea_orm::sqlx::Error::Database(db) if db.code().as_deref() == Some("23P01"))
        }
        _ => false,
    };
    if exclusion { Error::SlotTaken { alternatives: Vec::new() } } else { err.into() }
}
