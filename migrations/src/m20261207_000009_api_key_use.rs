//! When each API key was last used, so an operator can tell a forgotten key
//! (revoke it) from a live one. Written at most once a minute per key and
//! server, off the call's path.
use sea_orm_migration::prelude::*;

use crate::sql::execute_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000009_api_key_use"
    }
}

const UP: &[&str] = &["ALTER TABLE api_keys ADD COLUMN last_use_time {ts} NULL"];

const DOWN: &[&str] = &["ALTER TABLE api_keys DROP COLUMN last_use_time"];

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
