//! The Cal.com connection of a tenant, which staff sync where, and the queue
//! of appointments whose Cal.com copy must follow a change.
use sea_orm_migration::prelude::*;

use crate::sql::{execute_all, protect_table};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000007_calcom"
    }
}

const TABLES: &[&str] = &[
    // At most one connection per tenant. api_key: the Cal.com key, never
    // returned (api_key_hint shows its last characters). account_*: what
    // GET /v2/me answered when the connection was saved.
    "CREATE TABLE calcom_connections (
        tenant_id {uuid} NOT NULL REFERENCES tenants (id),
        base_url text NOT NULL,
        api_key text NOT NULL,
        account_user_id bigint NOT NULL,
        account_username text NOT NULL,
        account_email text NOT NULL,
        account_time_zone text NOT NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        PRIMARY KEY (tenant_id)
    )",
    // event_type_length: the event type's default length in minutes, read
    // when the link was saved (a booking of another length names its own).
    "CREATE TABLE calcom_staff_links (
        tenant_id {uuid} NOT NULL,
        staff_id {uuid} NOT NULL,
        event_type_id bigint NOT NULL,
        event_type_length integer NOT NULL,
        calcom_user_id bigint NOT NULL,
        calcom_email text NOT NULL,
        PRIMARY KEY (tenant_id, staff_id),
        FOREIGN KEY (tenant_id) REFERENCES calcom_connections (tenant_id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id)
    )",
    // Which AskPro service an imported Cal.com event type became.
    "CREATE TABLE calcom_event_types (
        tenant_id {uuid} NOT NULL,
        event_type_id bigint NOT NULL,
        service_id {uuid} NOT NULL,
        PRIMARY KEY (tenant_id, event_type_id),
        FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id)
    )",
    // One row per appointment that must exist in Cal.com as it is in AskPro
    // (a transactional outbox: written in the change's own transaction).
    // state: pending, synced or dead_lettered. generation: raised by every
    // change, so an attempt that read an older version does not mark the
    // newer one synced. calcom_uid / synced_start / synced_cancelled: what
    // Cal.com has. attempt_count: attempts since the last success.
    "CREATE TABLE calcom_syncs (
        tenant_id {uuid} NOT NULL,
        appointment_id {uuid} NOT NULL,
        state text NOT NULL,
        generation bigint NOT NULL,
        calcom_uid text NOT NULL,
        synced_start {ts} NULL,
        synced_cancelled boolean NOT NULL,
        attempt_count integer NOT NULL,
        next_attempt_time {ts} NULL,
        lease_until {ts} NULL,
        last_error text NOT NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        PRIMARY KEY (tenant_id, appointment_id),
        FOREIGN KEY (tenant_id, appointment_id) REFERENCES appointments (tenant_id, id)
    )",
    "CREATE INDEX calcom_syncs_due_idx ON calcom_syncs (state, next_attempt_time)",
    "CREATE INDEX calcom_syncs_uid_idx ON calcom_syncs (tenant_id, calcom_uid)",
];

const PROTECTED: [&str; 4] = ["calcom_connections", "calcom_staff_links", "calcom_event_types", "calcom_syncs"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(manager, TABLES).await?;
        for table in PROTECTED {
            protect_table(manager, table, "tenant_id").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in PROTECTED.iter().rev() {
            manager.get_connection().execute_unprepared(&format!("DROP TABLE IF EXISTS {table}")).await?;
        }
        Ok(())
    }
}
