//! Who made a hold: the API key, so the live holds of one key can be capped
//! (a leaked or misbehaving key cannot hoard a tenant's calendar). NULL for
//! holds made before this column existed; they count towards the hold key
//! and tenant caps only.
use sea_orm_migration::prelude::*;

use crate::sql::execute_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000008_hold_limits"
    }
}

const UP: &[&str] = &["ALTER TABLE holds ADD COLUMN api_key_id {uuid} NULL"];

const DOWN: &[&str] = &["ALTER TABLE holds DROP COLUMN api_key_id"];

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
