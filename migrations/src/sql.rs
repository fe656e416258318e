//! Helpers shared by the migrations: one DDL text for both backends, and the
//! PostgreSQL row-level-security wall.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The role the server switches to in every PostgreSQL transaction. It owns
/// nothing, so FORCE'd row-level security applies to it.
pub const APP_ROLE: &str = "askpro_app";

/// Writes DDL once for both backends: `{uuid}`, `{ts}` and `{bytes}` become
/// the backend's column types (sqlx stores UUIDs as 16-byte blobs and
/// timestamps as RFC 3339 text in SQLite).
pub fn ddl(backend: DbBackend, template: &str) -> String {
    let (uuid, ts, bytes) = match backend {
        DbBackend::Postgres => ("uuid", "timestamptz", "bytea"),
        _ => ("blob", "text", "blob"),
    };
    template.replace("{uuid}", uuid).replace("{ts}", ts).replace("{bytes}", bytes)
}

pub async fn execute_all(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(&ddl(backend, statement)).await?;
    }
    Ok(())
}

/// Creates the application role (idempotently: roles are cluster-wide and
/// several databases may migrate at once) and the helper functions the
/// policies use. PostgreSQL only.
pub async fn create_app_role(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
             CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
           END IF;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
         END $$;"
    ))
    .await?;
    // The tenant and platform flags are transaction-local settings; an unset
    // setting reads as '' after the first use in a session, hence NULLIF.
    db.execute_unprepared(
        "CREATE OR REPLACE FUNCTION askpro_current_tenant() RETURNS uuid
           LANGUAGE sql STABLE AS
           $$ SELECT NULLIF(current_setting('askpro.tenant_id', true), '')::uuid $$;
         CREATE OR REPLACE FUNCTION askpro_is_platform() RETURNS boolean
           LANGUAGE sql STABLE AS
           $$ SELECT coalesce(current_setting('askpro.platform', true), '') = 'on' $$;",
    )
    .await?;
    db.execute_unprepared(&format!(
        "GRANT USAGE ON SCHEMA public TO {APP_ROLE};
         DO $$ BEGIN
           EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
         EXCEPTION WHEN OTHERS THEN NULL;
         END $$;"
    ))
    .await?;
    Ok(())
}

/// Puts `table` behind row-level security keyed on `column` (the tenant id)
/// and grants the application role plain DML on it.
pub async fn protect_table(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_isolation ON {table}
           USING ({column} = askpro_current_tenant() OR askpro_is_platform())
           WITH CHECK ({column} = askpro_current_tenant() OR askpro_is_platform());
         GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE};"
    ))
    .await?;
    Ok(())
}
