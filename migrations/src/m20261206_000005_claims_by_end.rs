//! Slot claims indexed by where they end, not where they start.
//!
//! Every overlap query on claims (is this time free, the busy time of a
//! calendar, expired holds in the way) asks for `block_start < end AND
//! block_end > start`. Led by block_start, the index walks every claim a
//! staff member ever had that started before `end`: the cost grew with each
//! past appointment. Led by block_end, it walks only the claims ending after
//! `start`, which for the forward-looking windows bookings and slots ask
//! about are the upcoming ones: the same cost on day 1 and after five years.
//! (A partial index `WHERE active` would be smaller, but SQLite cannot use one
//! for a query whose `active = ?` is a bound parameter.)
use sea_orm_migration::prelude::*;

use crate::sql::execute_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000005_claims_by_end"
    }
}

const UP: &[&str] = &[
    "DROP INDEX IF EXISTS slot_claims_staff_idx",
    "CREATE INDEX slot_claims_staff_end_idx ON slot_claims (tenant_id, staff_id, block_end, block_start)",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS slot_claims_staff_end_idx",
    "CREATE INDEX slot_claims_staff_idx ON slot_claims (tenant_id, staff_id, block_start, block_end)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction, so every statement runs on one connection with the
    /// current schema (SQLite migrations otherwise run statement by statement
    /// on whichever pooled connection is free).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(manager, DOWN).await
    }
}
