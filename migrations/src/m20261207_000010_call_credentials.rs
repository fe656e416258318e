//! Call credentials: API keys of scope `call`, bound to one phone call (its
//! id at the voice platform) and the caller's number in E.164. NULL for
//! every other key.
use sea_orm_migration::prelude::*;

use crate::sql::execute_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000010_call_credentials"
    }
}

const UP: &[&str] = &[
    "ALTER TABLE api_keys ADD COLUMN call_phone text NULL",
    "ALTER TABLE api_keys ADD COLUMN call_id text NULL",
    "CREATE INDEX api_keys_call_idx ON api_keys (tenant_id, call_id)",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS api_keys_call_idx",
    "ALTER TABLE api_keys DROP COLUMN call_id",
    "ALTER TABLE api_keys DROP COLUMN call_phone",
];

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
