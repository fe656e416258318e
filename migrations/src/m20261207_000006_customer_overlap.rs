//! A tenant's policy on one customer's overlapping appointments (with
//! different staff members): refused unless the tenant allows them.
use sea_orm_migration::prelude::*;

use crate::sql::execute_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000006_customer_overlap"
    }
}

const UP: &[&str] =
    &["ALTER TABLE tenants ADD COLUMN allow_overlapping_customer_appointments BOOLEAN NOT NULL DEFAULT FALSE"];

const DOWN: &[&str] = &["ALTER TABLE tenants DROP COLUMN allow_overlapping_customer_appointments"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
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
