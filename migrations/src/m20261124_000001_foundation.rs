//! Tenants, API keys, branches with their phone numbers, services, staff,
//! weekly working hours, and the idempotency records of create calls.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::sql::{create_app_role, execute_all, protect_table};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000001_foundation"
    }
}

const TABLES: &[&str] = &[
    "CREATE TABLE tenants (
        id {uuid} PRIMARY KEY,
        display_name text NOT NULL,
        time_zone text NOT NULL,
        region_code text NOT NULL,
        revision bigint NOT NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL
    )",
    // Credentials are looked up by key id before the tenant is known, so the
    // primary key is the id alone (under Citus this is a reference table).
    // Platform-admin keys have no tenant.
    "CREATE TABLE api_keys (
        id {uuid} PRIMARY KEY,
        tenant_id {uuid} NULL REFERENCES tenants (id),
        display_name text NOT NULL,
        scope text NOT NULL,
        secret_hash {bytes} NOT NULL,
        expire_time {ts} NULL,
        revoke_time {ts} NULL,
        create_time {ts} NOT NULL,
        CHECK ((scope = 'platform_admin') = (tenant_id IS NULL))
    )",
    "CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, id)",
    "CREATE TABLE branches (
        tenant_id {uuid} NOT NULL REFERENCES tenants (id),
        id {uuid} NOT NULL,
        display_name text NOT NULL,
        time_zone text NOT NULL,
        region_code text NOT NULL,
        address text NOT NULL,
        revision bigint NOT NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        delete_time {ts} NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE branch_phone_numbers (
        tenant_id {uuid} NOT NULL,
        phone_number text NOT NULL,
        branch_id {uuid} NOT NULL,
        PRIMARY KEY (tenant_id, phone_number),
        FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id) ON DELETE CASCADE
    )",
    "CREATE INDEX branch_phone_numbers_branch_idx ON branch_phone_numbers (tenant_id, branch_id)",
    "CREATE TABLE services (
        tenant_id {uuid} NOT NULL REFERENCES tenants (id),
        id {uuid} NOT NULL,
        display_name text NOT NULL,
        description text NOT NULL,
        duration_minutes integer NOT NULL CHECK (duration_minutes > 0),
        buffer_before_minutes integer NOT NULL CHECK (buffer_before_minutes >= 0),
        buffer_after_minutes integer NOT NULL CHECK (buffer_after_minutes >= 0),
        minimum_notice_minutes integer NOT NULL CHECK (minimum_notice_minutes >= 0),
        booking_horizon_minutes integer NOT NULL CHECK (booking_horizon_minutes > 0),
        slot_step_minutes integer NOT NULL CHECK (slot_step_minutes > 0),
        revision bigint NOT NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        delete_time {ts} NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE staff (
        tenant_id {uuid} NOT NULL,
        id {uuid} NOT NULL,
        branch_id {uuid} NOT NULL,
        display_name text NOT NULL,
        email text NOT NULL,
        revision bigint NOT NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        delete_time {ts} NULL,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
    )",
    "CREATE INDEX staff_branch_idx ON staff (tenant_id, branch_id, id)",
    "CREATE TABLE staff_services (
        tenant_id {uuid} NOT NULL,
        staff_id {uuid} NOT NULL,
        service_id {uuid} NOT NULL,
        PRIMARY KEY (tenant_id, staff_id, service_id),
        FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id) ON DELETE CASCADE
    )",
    "CREATE INDEX staff_services_service_idx ON staff_services (tenant_id, service_id, staff_id)",
    // Weekly hours in the branch's local time: minutes after local midnight,
    // end exclusive (1440 = midnight at the end of the day).
    "CREATE TABLE working_hours (
        tenant_id {uuid} NOT NULL,
        staff_id {uuid} NOT NULL,
        day_of_week smallint NOT NULL CHECK (day_of_week BETWEEN 1 AND 7),
        start_minute integer NOT NULL CHECK (start_minute >= 0 AND start_minute < 1440),
        end_minute integer NOT NULL CHECK (end_minute > start_minute AND end_minute <= 1440),
        PRIMARY KEY (tenant_id, staff_id, day_of_week, start_minute),
        FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
    )",
    // The first response of a create call, replayed for retries with the same
    // request_id. Platform-wide calls use the nil tenant id.
    "CREATE TABLE idempotency_records (
        tenant_id {uuid} NOT NULL,
        method text NOT NULL,
        request_id text NOT NULL,
        fingerprint {bytes} NOT NULL,
        response {bytes} NOT NULL,
        create_time {ts} NOT NULL,
        PRIMARY KEY (tenant_id, method, request_id)
    )",
];

const TENANT_TABLES: &[&str] = &[
    "api_keys",
    "branches",
    "branch_phone_numbers",
    "services",
    "staff",
    "staff_services",
    "working_hours",
    "idempotency_records",
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
        if manager.get_database_backend() == DbBackend::Postgres {
            create_app_role(manager).await?;
        }
        execute_all(manager, TABLES).await?;
        protect_table(manager, "tenants", "id").await?;
        for table in TENANT_TABLES {
            protect_table(manager, table, "tenant_id").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            "idempotency_records",
            "working_hours",
            "staff_services",
            "staff",
            "services",
            "branch_phone_numbers",
            "branches",
            "api_keys",
            "tenants",
        ];
        for table in tables {
            manager.get_connection().execute_unprepared(&format!("DROP TABLE IF EXISTS {table}")).await?;
        }
        Ok(())
    }
}
