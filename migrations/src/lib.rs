//! Schema migrations for AskPro, for SQLite (embedded default) and PostgreSQL.
//!
//! Tables are written as SQL because the invariants live in the database:
//! composite `(tenant_id, id)` keys and tenant-qualified foreign keys (a row can
//! never point at another tenant's row), and on PostgreSQL row-level security.
pub use sea_orm_migration;
use sea_orm_migration::prelude::*;

mod m20261124_000001_foundation;
mod m20261124_000002_booking;
mod m20261124_000003_list_indexes;
mod m20261124_000004_webhooks;
mod m20261206_000005_claims_by_end;
mod m20261207_000006_customer_overlap;
mod m20261207_000007_calcom;
mod m20261207_000008_hold_limits;
mod m20261207_000009_api_key_use;
mod m20261207_000010_call_credentials;
mod m20261207_000011_caller_disclosure;
pub mod sql;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261124_000002_booking::Migration),
            Box::new(m20261124_000003_list_indexes::Migration),
            Box::new(m20261124_000004_webhooks::Migration),
            Box::new(m20261206_000005_claims_by_end::Migration),
            Box::new(m20261207_000006_customer_overlap::Migration),
            Box::new(m20261207_000007_calcom::Migration),
            Box::new(m20261207_000008_hold_limits::Migration),
            Box::new(m20261207_000009_api_key_use::Migration),
            Box::new(m20261207_000010_call_credentials::Migration),
            Box::new(m20261207_000011_caller_disclosure::Migration),
        ]
    }
}
