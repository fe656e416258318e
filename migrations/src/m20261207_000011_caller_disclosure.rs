//! How much the inbound-call answer tells about a caller known only by caller
//! ID: 'full' (the behaviour so far), 'first_name_and_day' or 'none'.
use sea_orm_migration::prelude::*;

use crate::sql::execute_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000011_caller_disclosure"
    }
}

const UP: &[&str] = &["ALTER TABLE tenants ADD COLUMN caller_disclosure text NOT NULL DEFAULT 'full'"];

const DOWN: &[&str] = &["ALTER TABLE tenants DROP COLUMN caller_disclosure"];

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
