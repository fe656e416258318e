//! Customers, time off, appointments, holds, and the slot claims that make
//! double booking impossible.
//!
//! Every appointment and every hold owns one row in `slot_claims` holding its
//! buffered range `[start - buffer_before, end + buffer_after)`. On PostgreSQL
//! an exclusion constraint forbids two active claims of one staff member from
//! overlapping; on SQLite the serialized write transaction checks and inserts.
//! A hold's claim stays "active" after it expires until someone needs the
//! time: the booking transaction first deactivates expired holds in its range.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::sql::{execute_all, protect_table};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000002_booking"
    }
}

const TABLES: &[&str] = &[
    "CREATE TABLE customers (
        tenant_id {uuid} NOT NULL REFERENCES tenants (id),
        id {uuid} NOT NULL,
        phone_number text NOT NULL,
        display_name text NOT NULL,
        email text NOT NULL,
        notes text NOT NULL,
        revision bigint NOT NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        delete_time {ts} NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE UNIQUE INDEX customers_phone_idx ON customers (tenant_id, phone_number) WHERE delete_time IS NULL",
    "CREATE INDEX customers_created_idx ON customers (tenant_id, create_time)",
    // An absence (start_time, end_time) or a date override (override_date and
    // its intervals as JSON [[start_minute, end_minute], ...]).
    "CREATE TABLE time_off (
        tenant_id {uuid} NOT NULL,
        id {uuid} NOT NULL,
        staff_id {uuid} NOT NULL,
        start_time {ts} NULL,
        end_time {ts} NULL,
        override_date text NULL,
        intervals text NOT NULL,
        reason text NOT NULL,
        create_time {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE,
        CHECK ((start_time IS NULL AND end_time IS NULL) <> (override_date IS NULL))
    )",
    "CREATE INDEX time_off_staff_idx ON time_off (tenant_id, staff_id, end_time)",
    "CREATE INDEX time_off_override_idx ON time_off (tenant_id, staff_id, override_date)",
    "CREATE TABLE appointments (
        tenant_id {uuid} NOT NULL,
        id {uuid} NOT NULL,
        branch_id {uuid} NOT NULL,
        service_id {uuid} NOT NULL,
        staff_id {uuid} NOT NULL,
        customer_id {uuid} NOT NULL,
        start_time {ts} NOT NULL,
        end_time {ts} NOT NULL,
        status text NOT NULL,
        source text NOT NULL,
        notes text NOT NULL,
        cancel_reason text NOT NULL,
        call_id text NOT NULL,
        external_booking_uid text NOT NULL,
        revision bigint NOT NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id),
        FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id),
        FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
        CHECK (end_time > start_time)
    )",
    "CREATE INDEX appointments_start_idx ON appointments (tenant_id, start_time, id)",
    "CREATE INDEX appointments_staff_idx ON appointments (tenant_id, staff_id, start_time)",
    "CREATE INDEX appointments_customer_idx ON appointments (tenant_id, customer_id, start_time)",
    "CREATE INDEX appointments_external_idx ON appointments (tenant_id, external_booking_uid)",
    "CREATE TABLE holds (
        tenant_id {uuid} NOT NULL,
        id {uuid} NOT NULL,
        branch_id {uuid} NOT NULL,
        service_id {uuid} NOT NULL,
        staff_id {uuid} NOT NULL,
        start_time {ts} NOT NULL,
        end_time {ts} NOT NULL,
        hold_key text NOT NULL,
        expire_time {ts} NOT NULL,
        state text NOT NULL,
        appointment_id {uuid} NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id)
    )",
    "CREATE INDEX holds_key_idx ON holds (tenant_id, hold_key)",
    "CREATE INDEX holds_expiry_idx ON holds (tenant_id, state, expire_time)",
    // kind: 'appointment' or 'hold'; id: the appointment's or hold's id.
    "CREATE TABLE slot_claims (
        tenant_id {uuid} NOT NULL,
        id {uuid} NOT NULL,
        staff_id {uuid} NOT NULL,
        kind text NOT NULL,
        block_start {ts} NOT NULL,
        block_end {ts} NOT NULL,
        active boolean NOT NULL,
        expire_time {ts} NULL,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id),
        CHECK (block_end > block_start)
    )",
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
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        if postgres {
            manager.get_connection().execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gist").await?;
        }
        execute_all(manager, TABLES).await?;
        if postgres {
            // The database itself refuses overlapping active claims of one staff member.
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE slot_claims ADD CONSTRAINT slot_claims_no_overlap
                       EXCLUDE USING gist (
                         tenant_id WITH =,
                         staff_id WITH =,
                         tstzrange(block_start, block_end, '[)') WITH &&
                       ) WHERE (active)",
                )
                .await?;
        }
        for table in ["customers", "time_off", "appointments", "holds", "slot_claims"] {
            protect_table(manager, table, "tenant_id").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["slot_claims", "holds", "appointments", "time_off", "customers"] {
            manager.get_connection().execute_unprepared(&format!("DROP TABLE IF EXISTS {table}")).await?;
        }
        Ok(())
    }
}
