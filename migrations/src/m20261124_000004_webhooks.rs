//! Webhooks: outbound subscriptions with their outbox and delivery log, and
//! inbound provider endpoints with their inbox, plus the voice-agent calls
//! that inbound events record.
//!
//! The outbox is written in the same transaction as the change it reports;
//! each event gets one `deliveries` row per subscription that wants it (the
//! unit the delivery worker claims), and every POST is one row in
//! `delivery_attempts` (what ListDeliveries shows). A worker claims due
//! deliveries by setting `lease_until` (PostgreSQL: FOR UPDATE SKIP LOCKED),
//! posts outside any transaction, then records the outcome; a worker that
//! dies mid-delivery leaves a lease that expires, and another worker sends
//! the event again (at least once).
//!
//! The inbox row of an inbound event is unique per endpoint and event key and
//! is written in the same transaction as the event's effect, so a replay
//! finds it and changes nothing.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::sql::{execute_all, protect_table};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000004_webhooks"
    }
}

const TABLES: &[&str] = &[
    // event_types: the wanted types as a JSON array; [] means all. secret and
    // previous_secret: "whsec_..." signing secrets; the previous one signs too
    // until previous_secret_expire_time (rotation).
    "CREATE TABLE subscriptions (
        tenant_id {uuid} NOT NULL REFERENCES tenants (id),
        id {uuid} NOT NULL,
        url text NOT NULL,
        event_types text NOT NULL,
        description text NOT NULL,
        state text NOT NULL,
        disabled_reason text NOT NULL,
        secret text NOT NULL,
        previous_secret text NULL,
        previous_secret_expire_time {ts} NULL,
        revision bigint NOT NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        delete_time {ts} NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    // id is the Standard Webhooks webhook-id (the same on every attempt);
    // payload the JSON body; request_id the correlation id of the request
    // that caused the event.
    "CREATE TABLE outbox_events (
        tenant_id {uuid} NOT NULL REFERENCES tenants (id),
        id {uuid} NOT NULL,
        event_type text NOT NULL,
        payload text NOT NULL,
        request_id text NOT NULL,
        occur_time {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE INDEX outbox_events_time_idx ON outbox_events (tenant_id, occur_time)",
    // state: pending (due at next_attempt_time), succeeded, dead_lettered.
    // attempt_count: attempts made so far. schedule_start_attempt: the attempt
    // number the retry schedule counts from, 1 or the first attempt after a
    // RedeliverEvent (which puts the full schedule behind it again).
    "CREATE TABLE deliveries (
        tenant_id {uuid} NOT NULL,
        id {uuid} NOT NULL,
        event_id {uuid} NOT NULL,
        subscription_id {uuid} NOT NULL,
        state text NOT NULL,
        attempt_count integer NOT NULL,
        schedule_start_attempt integer NOT NULL,
        next_attempt_time {ts} NULL,
        lease_until {ts} NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, event_id, subscription_id),
        FOREIGN KEY (tenant_id, event_id) REFERENCES outbox_events (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, subscription_id) REFERENCES subscriptions (tenant_id, id) ON DELETE CASCADE
    )",
    // The worker's query crosses tenants: due deliveries in time order.
    "CREATE INDEX deliveries_due_idx ON deliveries (state, next_attempt_time)",
    "CREATE INDEX deliveries_subscription_idx ON deliveries (tenant_id, subscription_id, create_time)",
    // One row per POST, plus one for the attempt a pending delivery waits
    // for. status: pending (scheduled at attempt_time or in flight; the
    // worker turns this row into the outcome), succeeded, failed (another
    // attempt follows) or dead_lettered (none follows).
    "CREATE TABLE delivery_attempts (
        tenant_id {uuid} NOT NULL,
        id {uuid} NOT NULL,
        delivery_id {uuid} NOT NULL,
        event_id {uuid} NOT NULL,
        subscription_id {uuid} NOT NULL,
        event_type text NOT NULL,
        attempt_number integer NOT NULL,
        status text NOT NULL,
        http_status integer NULL,
        latency_micros bigint NOT NULL,
        error text NOT NULL,
        attempt_time {ts} NOT NULL,
        next_attempt_time {ts} NULL,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, delivery_id) REFERENCES deliveries (tenant_id, id) ON DELETE CASCADE
    )",
    "CREATE INDEX delivery_attempts_list_idx ON delivery_attempts (tenant_id, subscription_id, attempt_time, id)",
    "CREATE INDEX delivery_attempts_event_idx ON delivery_attempts (tenant_id, event_id)",
    // path_token: the random part of the endpoint's URL path, unique over all
    // tenants (the inbound route finds the endpoint, and so the tenant, by it).
    // secret: the provider's signing secret (Cal.com webhook secret, Retell API
    // key, or whsec_ secret); never returned.
    "CREATE TABLE inbound_endpoints (
        tenant_id {uuid} NOT NULL REFERENCES tenants (id),
        id {uuid} NOT NULL,
        provider text NOT NULL,
        display_name text NOT NULL,
        path_token text NOT NULL,
        secret text NOT NULL,
        revision bigint NOT NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        delete_time {ts} NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE UNIQUE INDEX inbound_endpoints_token_idx ON inbound_endpoints (path_token)",
    // status: processed, rejected (rejection_reason says why) or ignored.
    "CREATE TABLE inbound_events (
        tenant_id {uuid} NOT NULL,
        id {uuid} NOT NULL,
        endpoint_id {uuid} NOT NULL,
        provider text NOT NULL,
        event_key text NOT NULL,
        event_type text NOT NULL,
        status text NOT NULL,
        rejection_reason text NOT NULL,
        receive_time {ts} NOT NULL,
        appointment_id {uuid} NULL,
        call_id {uuid} NULL,
        customer_id {uuid} NULL,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, endpoint_id, event_key),
        FOREIGN KEY (tenant_id, endpoint_id) REFERENCES inbound_endpoints (tenant_id, id)
    )",
    "CREATE INDEX inbound_events_list_idx ON inbound_events (tenant_id, endpoint_id, receive_time, id)",
    // A voice-agent call: provider_call_id is the provider's id (Retell's
    // call_id), also the hold key of the holds made during the call.
    // status: started, ended, analyzed. analysis: JSON as the provider sent it.
    "CREATE TABLE calls (
        tenant_id {uuid} NOT NULL,
        id {uuid} NOT NULL,
        provider text NOT NULL,
        provider_call_id text NOT NULL,
        branch_id {uuid} NULL,
        customer_id {uuid} NULL,
        appointment_id {uuid} NULL,
        from_number text NOT NULL,
        to_number text NOT NULL,
        status text NOT NULL,
        start_time {ts} NULL,
        end_time {ts} NULL,
        analysis text NULL,
        create_time {ts} NOT NULL,
        update_time {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, provider, provider_call_id)
    )",
    "CREATE INDEX calls_customer_idx ON calls (tenant_id, customer_id, create_time)",
];

const PROTECTED: [&str; 7] = [
    "subscriptions",
    "outbox_events",
    "deliveries",
    "delivery_attempts",
    "inbound_endpoints",
    "inbound_events",
    "calls",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction, so every statement runs on one connection.
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
