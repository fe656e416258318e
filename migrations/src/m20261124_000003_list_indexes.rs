//! Indexes that serve the appointment lists' order (start_time, id) for a
//! staff member or a customer, so neither database sorts or walks the
//! tenant's whole calendar to find one page.
use sea_orm_migration::prelude::*;

use crate::sql::execute_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000003_list_indexes"
    }
}

const UP: &[&str] = &[
    "DROP INDEX IF EXISTS appointments_staff_idx",
    "DROP INDEX IF EXISTS appointments_customer_idx",
    "CREATE INDEX appointments_staff_idx ON appointments (tenant_id, staff_id, start_time, id)",
    "CREATE INDEX appointments_customer_idx ON appointments (tenant_id, customer_id, start_time, id)",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS appointments_staff_idx",
    "DROP INDEX IF EXISTS appointments_customer_idx",
    "CREATE INDEX appointments_staff_idx ON appointments (tenant_id, staff_id, start_time)",
    "CREATE INDEX appointments_customer_idx ON appointments (tenant_id, customer_id, start_time)",
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
