//! Storage: the database connection, migrations, and the transaction runner
//! every repository call goes through.
//!
//! A repository function takes a `TenantTx` (or, for the few platform-wide
//! queries, a `PlatformTx`), so it cannot run without a tenant. On PostgreSQL
//! each transaction also switches to the non-owner application role and sets
//! `askpro.tenant_id`, so row-level security is a second wall behind the
//! code's own `tenant_id` filters.
pub mod api_keys;
pub mod appointments;
mod at_commit;
pub mod branches;
pub mod caches;
pub mod calcom;
pub mod calendar;
pub mod calls;
pub mod customers;
pub mod dashboard;
pub mod db_error;
pub mod deliveries;
pub mod entities;
pub mod holds;
pub mod idempotency;
pub mod inbound_endpoints;
pub mod inbound_events;
pub mod outbox;
pub mod secrets_at_rest;
pub mod services;
pub mod slot_claims;
pub mod staff;
pub mod subscriptions;
pub mod tenants;
pub mod time_off;
pub mod working_hours;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use askpro_migrations::Migrator;
use askpro_migrations::sea_orm_migration::MigratorTrait;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};
use secrecy::ExposeSecret;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::config::Config;
use crate::domain::ids::TenantId;
use crate::error::{Error, Result};
use crate::secrets::SecretBox;
use at_commit::{AtCommit, Check};
pub use caches::Caches;
pub use caches::config::TenantConfig;
use db_error::redact_db_error;
pub use db_error::{classify_db_error, is_unique_violation};

/// Statements this process sent to its databases (BEGIN and COMMIT are not
/// counted): the benchmark divides it by the calls it made, a cost that does
/// not depend on how busy the machine is.
static STATEMENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Statements sent so far by every store of this process (see `STATEMENTS`).
pub fn statements_sent() -> u64 {
    STATEMENTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// The PostgreSQL advisory lock key migrations run under ("askpro" in ASCII).
const MIGRATION_LOCK: i64 = 0x61_73_6b_70_72_6f;

/// How often a transaction is retried after a serialization failure, deadlock
/// or racing insert before the caller gets ABORTED.
const MAX_ATTEMPTS: u32 = 5;

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    app_role: Option<String>,
    /// SQLite allows one writer; taking this gate for every write transaction
    /// makes "check, then insert" atomic within the process instead of
    /// failing with SQLITE_BUSY half-way.
    sqlite_write_gate: Option<Arc<Mutex<()>>>,
    caches: Arc<Caches>,
    /// Seals and opens the secrets stored in rows (`crate::secrets`).
    secrets: Arc<SecretBox>,
}

/// What a transaction does in this process once it has committed (tell
/// local watchers, forget cached rows); never run after a rollback.
type AfterCommit = Box<dyn FnOnce() + Send>;

/// A transaction scoped to one tenant. Dropping it without `commit` rolls
/// it back.
pub struct TenantTx {
    txn: DatabaseTransaction,
    tenant: TenantId,
    _write_gate: Option<OwnedMutexGuard<()>>,
    after_commit: std::sync::Mutex<Vec<AfterCommit>>,
    /// What the repositories changed of cached rows (see `caches`).
    changes: std::sync::Mutex<caches::Changes>,
    /// Writes, checks and PostgreSQL notifications sent with the commit.
    at_commit: std::sync::Mutex<AtCommit>,
    caches: Arc<Caches>,
    secrets: Arc<SecretBox>,
}

impl TenantTx {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// Seals secrets before they are written (`crate::secrets`).
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Runs `action` right after this transaction commits, and not at all if
    /// it rolls back: a change is announced exactly when it happened.
    pub fn on_commit(&self, action: impl FnOnce() + Send + 'static) {
        if let Ok(mut actions) = self.after_commit.lock() {
            actions.push(Box::new(action));
        }
    }

    /// Records what this transaction changes of cached rows: on commit
    /// every replica forgets those entries (see `caches`).
    pub fn changed<R>(&self, record: impl FnOnce(&mut caches::Changes) -> R) {
        if let Ok(mut changes) = self.changes.lock() {
            record(&mut changes);
        }
    }

    /// Marks that this transaction writes the tenant's booking configuration.
    pub fn config_changed(&self) {
        self.changed(|c| c.config = true);
    }

    /// Whether this transaction changed the staff member's time off or busy
    /// time: what it reads of them is not committed yet.
    pub fn has_changed_time_off_or_busy(&self, staff_id: uuid::Uuid) -> bool {
        self.changes.lock().is_ok_and(|c| c.everything || c.time_off.contains(&staff_id) || c.busy.contains(&staff_id))
    }

    /// The caches this transaction's changes invalidate (and its reads may use).
    pub fn caches(&self) -> &Arc<Caches> {
        &self.caches
    }

    /// PostgreSQL: sends `payload` on `channel` if (and when) this
    /// transaction commits, in one statement with its other notifications.
    pub fn notify_at_commit(&self, channel: &'static str, payload: String) {
        if let Ok(mut at_commit) = self.at_commit.lock() {
            at_commit.notify(channel, payload);
        }
    }

    /// Refuses the commit with `refusal(id)` when `query` (selecting at most
    /// one id) finds a row as of the commit (see `at_commit`).
    pub fn check_at_commit(&self, query: Statement, refusal: fn(uuid::Uuid) -> Error) {
        if let Ok(mut at_commit) = self.at_commit.lock() {
            at_commit.check(Check { query, refusal });
        }
    }

    pub async fn commit(self) -> Result<()> {
        let TenantTx { txn, tenant, _write_gate, after_commit, changes, at_commit, caches, secrets: _ } = self;
        let changes = changes.into_inner().unwrap_or_else(|_| caches::Changes::everything());
        let mut at_commit = at_commit.into_inner().map_err(|_| Error::Internal("a queued write panicked".into()))?;
        if txn.get_database_backend() == DbBackend::Postgres && !changes.is_empty() {
            at_commit.notify(caches::CHANNEL, caches.payload(tenant, &changes));
        }
        if let Err(err) = at_commit.send(&txn).await {
            // The retry must read what the commit found stale.
            if matches!(err, Error::StaleConfig) {
                caches.config.invalidate(&tenant);
            }
            return Err(err);
        }
        let committed = commit_to_the_end(txn, _write_gate).await;
        if !changes.is_empty() {
            match &committed {
                Ok(()) => caches.apply(tenant, &changes),
                // It may have committed (only its answer was lost): this
                // replica skips its own notification, so it forgets here.
                Err(_) => caches.forget(tenant, &changes),
            }
        }
        committed?;
        for action in after_commit.into_inner().unwrap_or_default() {
            action();
        }
        Ok(())
    }
}

/// A transaction that may see every tenant: creating and listing tenants and
/// looking up API keys before the tenant is known. Only platform-admin paths
/// and authentication use it.
pub struct PlatformTx {
    txn: DatabaseTransaction,
    _write_gate: Option<OwnedMutexGuard<()>>,
    at_commit: std::sync::Mutex<AtCommit>,
}

impl PlatformTx {
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub async fn commit(self) -> Result<()> {
        let at_commit = self.at_commit.into_inner().map_err(|_| Error::Internal("a queued write panicked".into()))?;
        at_commit.send(&self.txn).await?;
        commit_to_the_end(self.txn, self._write_gate).await
    }
}

/// Sends COMMIT and waits for its answer on a task of its own: a call cut
/// while COMMIT is in flight (the client went away, tonic's own timer) must
/// not leave its outcome to chance. The deadline layer is told first, so it
/// answers with the result instead of DEADLINE_EXCEEDED. SQLite's write gate
/// is held until the commit ended.
async fn commit_to_the_end(
    txn: DatabaseTransaction,
    write_gate: Option<tokio::sync::OwnedMutexGuard<()>>,
) -> Result<()> {
    crate::deadline::commit_starting();
    let committed = tokio::spawn(async move {
        let result = txn.commit().await;
        drop(write_gate);
        result
    });
    match committed.await {
        Ok(result) => Ok(result?),
        Err(join_error) => Err(Error::Internal(format!("the commit task failed: {join_error}"))),
    }
}

impl Store {
    /// Connects (creating the SQLite file and its folder if needed).
    pub async fn connect(config: &Config) -> Result<Self> {
        let url = config.database_url.expose_secret().to_owned();
        let is_sqlite = url.starts_with("sqlite:");
        if is_sqlite {
            ensure_sqlite_folder(&url)?;
        }
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(config.database_pool_size())
            .min_connections(if is_sqlite { 1 } else { 0 })
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            // Pinging every connection taken from the pool costs a round trip
            // per transaction; only one idle long enough to have been dropped
            // (by the server, a proxy or a firewall) is checked first.
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            .sqlx_logging(false);
        if is_sqlite {
            options.map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        }
        let mut db = Database::connect(options).await.map_err(|err| {
            tracing::error!(error = %redact_db_error(&err), "cannot connect to the database");
            Error::Unavailable { dependency: "database" }
        })?;
        db.set_metric_callback(|_| {
            STATEMENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let app_role = (db.get_database_backend() == DbBackend::Postgres && !config.database_app_role.is_empty())
            .then(|| config.database_app_role.clone());
        let sqlite_write_gate = is_sqlite.then(|| Arc::new(Mutex::new(())));
        // SQLite is one process: it hears every change from the start. A
        // PostgreSQL replica bypasses the caches until its listener runs.
        let caches = Arc::new(Caches::new(config.caches, is_sqlite));
        let keys =
            crate::secrets::load_keys(config).map_err(|why| Error::Internal(format!("secrets at rest: {why}")))?;
        let secrets = Arc::new(SecretBox::new(&keys));
        Ok(Self { db, app_role, sqlite_write_gate, caches, secrets })
    }

    /// Applies pending migrations (as the connecting role, which owns the
    /// schema). On PostgreSQL any number of replicas may start at once: each
    /// waits for a session advisory lock, so one migrates and the others
    /// then find nothing pending (without it two replicas creating one type
    /// collide on pg_type's unique index).
    pub async fn migrate(&self) -> Result<()> {
        let failed = |err: &dyn std::fmt::Display| Error::Internal(format!("migration failed: {err}"));
        if self.backend() != DbBackend::Postgres {
            Migrator::up(&self.db, None).await.map_err(|e| failed(&e))?;
            return self.refresh_statistics().await;
        }
        use sea_orm::sqlx::Executor;
        // The lock belongs to one session: this connection holds it while
        // the migrator runs on the pool, and gives it back when done.
        let pool = self.db.get_postgres_connection_pool();
        let mut holder = pool.acquire().await.map_err(|e| failed(&e))?;
        holder
            .execute(sea_orm::sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK))
            .await
            .map_err(|e| failed(&e))?;
        let migrated = Migrator::up(&self.db, None).await.map_err(|e| failed(&e));
        let unlocked = holder.execute(sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK)).await;
        if unlocked.is_err() {
            // A connection that may still hold the lock must not go back to the pool.
            holder.detach();
        }
        migrated?;
        self.refresh_statistics().await
    }

    /// SQLite plans queries with the statistics ANALYZE leaves; without them
    /// it prefers the index that matches ORDER BY and walks a tenant's whole
    /// calendar to list one customer's appointments. `optimize` (0x10002: all
    /// tables, analyze where needed) refreshes stale statistics and is cheap
    /// when they are fresh. PostgreSQL's autovacuum keeps its own.
    pub async fn refresh_statistics(&self) -> Result<()> {
        if self.backend() == DbBackend::Sqlite {
            self.db.execute_unprepared("PRAGMA optimize=0x10002").await?;
        }
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The raw connection pool, for listeners, metrics, audits and test set-up.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Begins a read transaction of `tenant`.
    pub async fn read(&self, tenant: TenantId) -> Result<TenantTx> {
        let txn = self.begin(Some(tenant)).await?;
        Ok(self.tenant_tx(txn, tenant, None))
    }

    /// Runs `read` in a read transaction of `tenant` and commits it: the
    /// shape of every handler that only reads.
    pub async fn read_with<T>(&self, tenant: TenantId, read: impl AsyncFnOnce(&TenantTx) -> Result<T>) -> Result<T> {
        let tx = self.read(tenant).await?;
        let out = read(&tx).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Begins a write transaction of `tenant`. Run it inside `retry` so a
    /// serialization failure, deadlock or racing insert runs it again.
    pub async fn write(&self, tenant: TenantId) -> Result<TenantTx> {
        let gate = self.write_gate().await;
        let txn = self.begin(Some(tenant)).await?;
        Ok(self.tenant_tx(txn, tenant, gate))
    }

    /// Runs `write` in a write transaction of `tenant` and commits it, all
    /// again after a serialization failure, deadlock or racing insert (see
    /// `retry`): the shape of every handler that writes. Each attempt runs a
    /// fresh clone of `write`, so nothing carries over between attempts.
    // AsyncFnOnce + Clone rather than AsyncFn: the future of an AsyncFn
    // borrows the closure (a lifetime-generic associated type), and tonic's
    // handlers then fail to prove Send for it.
    pub async fn write_with<T>(
        &self,
        tenant: TenantId,
        write: impl AsyncFnOnce(&TenantTx) -> Result<T> + Clone,
    ) -> Result<T> {
        retry(|| async {
            let tx = self.write(tenant).await?;
            let out = write.clone()(&tx).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    /// `write_with` for the platform-wide transactions (tenants, platform keys).
    pub async fn platform_write_with<T>(&self, write: impl AsyncFnOnce(&PlatformTx) -> Result<T> + Clone) -> Result<T> {
        retry(|| async {
            let tx = self.platform().await?;
            let out = write.clone()(&tx).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    fn tenant_tx(&self, txn: DatabaseTransaction, tenant: TenantId, gate: Option<OwnedMutexGuard<()>>) -> TenantTx {
        TenantTx {
            txn,
            tenant,
            _write_gate: gate,
            after_commit: Default::default(),
            changes: Default::default(),
            at_commit: Default::default(),
            caches: self.caches.clone(),
            secrets: self.secrets.clone(),
        }
    }

    /// The tenant's booking configuration: from the cache, or read in a
    /// transaction of its own (and kept, unless it changed meanwhile).
    pub async fn tenant_config(&self, tenant: TenantId) -> Result<Arc<TenantConfig>> {
        if let Some(config) = self.caches.config.get(&tenant) {
            return Ok(config);
        }
        let ticket = self.caches.config.ticket(&tenant);
        let config = Arc::new(self.read_with(tenant, async |tx| caches::config::load(tx).await).await?);
        self.caches.config.store(tenant, config.clone(), ticket);
        Ok(config)
    }

    /// The in-process caches, for their listener and for tests.
    pub fn caches(&self) -> &Arc<Caches> {
        &self.caches
    }

    /// Opens the secrets read from rows (`crate::secrets`).
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// Begins a platform-wide transaction (see `PlatformTx`).
    pub async fn platform(&self) -> Result<PlatformTx> {
        let gate = self.write_gate().await;
        let txn = self.begin(None).await?;
        Ok(PlatformTx { txn, _write_gate: gate, at_commit: Default::default() })
    }

    /// A read-only platform-wide transaction (authentication).
    pub async fn platform_read(&self) -> Result<PlatformTx> {
        let txn = self.begin(None).await?;
        Ok(PlatformTx { txn, _write_gate: None, at_commit: Default::default() })
    }

    async fn write_gate(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.sqlite_write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        }
    }

    async fn begin(&self, tenant: Option<TenantId>) -> Result<DatabaseTransaction> {
        // No transaction starts after the call's deadline: it could only be
        // rolled back half-way.
        crate::deadline::check()?;
        let txn = self.db.begin().await?;
        if self.backend() == DbBackend::Postgres {
            // One round trip: the role (RLS applies to it), the tenant and the
            // call's remaining time as statement_timeout, all local to this
            // transaction so a pooled connection carries nothing over.
            // (SQLite cannot bound a statement; there the deadline layer drops
            // the call, which rolls its transaction back.)
            let role = self.app_role.clone().unwrap_or_default();
            let tenant_text = tenant.map(|t| t.to_string()).unwrap_or_default();
            let platform = if tenant.is_none() { "on" } else { "off" };
            // Outside a call (jobs) the server's own setting stays. 0 would mean
            // "no limit"; a call with 0 ms left failed the check above.
            // The deadline layer caps every call's deadline; the clamp keeps a
            // value the setting accepts (an int of milliseconds) regardless.
            let timeout_ms =
                crate::deadline::remaining().map(|left| left.as_millis().clamp(1, i32::MAX as u128).to_string());
            let mut sql = String::from(
                "SELECT set_config('askpro.tenant_id', $1, true), set_config('askpro.platform', $2, true), \
                 set_config('statement_timeout', COALESCE($3, current_setting('statement_timeout')), true)",
            );
            let mut values: Vec<sea_orm::Value> = vec![tenant_text.into(), platform.into(), timeout_ms.into()];
            if !role.is_empty() {
                sql.push_str(", set_config('role', $4, true)");
                values.push(role.into());
            }
            txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
        }
        Ok(txn)
    }
}

/// Runs `attempt` (one whole transaction) again while it fails with a
/// retryable error: a serialization failure, deadlock or racing insert. After
/// the last attempt the caller gets ABORTED.
pub async fn retry<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut number = 1;
    loop {
        match attempt().await {
            Err(err) if err.is_retryable() && number < MAX_ATTEMPTS => {
                tokio::time::sleep(backoff(number)).await;
                number += 1;
            }
            other => return other,
        }
    }
}

/// Exponential backoff with jitter: 10, 20, 40, 80 ms (+/- 50%).
fn backoff(attempt: u32) -> Duration {
    let base = 10u64 << attempt.min(6);
    let jitter = rand::random_range(0..=base);
    Duration::from_millis(base / 2 + jitter)
}

fn ensure_sqlite_folder(url: &str) -> Result<()> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|err| Error::Internal(format!("cannot create database folder {}: {err}", parent.display())))?;
    }
    Ok(())
}

/// Current time truncated to microseconds, the precision both backends keep,
/// so a value read back equals the value written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Anything a repository can run in: carries the connection and the id that
/// scopes the rows (the tenant, or nil for platform-wide records).
pub trait Scoped {
    fn conn(&self) -> &DatabaseTransaction;
    fn scope_id(&self) -> uuid::Uuid;
    /// Queues a write that nothing in the transaction reads back, to be
    /// sent with the commit (see `at_commit`); its error fails the commit.
    fn write_at_commit(&self, statement: Statement);
}

impl Scoped for TenantTx {
    fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }
    fn scope_id(&self) -> uuid::Uuid {
        self.tenant.0
    }
    fn write_at_commit(&self, statement: Statement) {
        queue_write(&self.at_commit, statement);
    }
}

impl Scoped for PlatformTx {
    fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }
    fn scope_id(&self) -> uuid::Uuid {
        uuid::Uuid::nil()
    }
    fn write_at_commit(&self, statement: Statement) {
        queue_write(&self.at_commit, statement);
    }
}

fn queue_write(at_commit: &std::sync::Mutex<AtCommit>, statement: Statement) {
    if let Ok(mut at_commit) = at_commit.lock() {
        at_commit.write(statement);
    }
}

/// The etag of a revision, and the check of a client's etag against it.
pub fn etag(revision: i64) -> String {
    format!("\"{revision}\"")
}

/// An empty etag skips the check; any other must equal the current one.
pub fn check_etag(expected: &str, revision: i64) -> Result<()> {
    if expected.is_empty() || expected == etag(revision) { Ok(()) } else { Err(Error::EtagMismatch) }
}

/// A model as an active model with every column set, for inserts and
/// whole-row updates (`into_active_model` alone marks columns "unchanged",
/// which an update skips).
pub fn all_set<A, M>(model: M) -> A
where
    A: sea_orm::ActiveModelTrait,
    M: sea_orm::IntoActiveModel<A>,
{
    model.into_active_model().reset_all()
}
