//! A tenant's booking configuration, kept in process: live branches,
//! services, staff with the services they offer, and weekly working hours.
//! Bookings and slot lists read it on every call; it changes a few times a
//! day.
//!
//! The cache is an optimisation, never a source of truth: a booking is
//! decided by its claim in the database, so a stale entry can at worst let
//! a request through validation that the claim then answers.
//!
//! Invalidation is exact. A transaction that writes one of these tables
//! marks itself (`TenantTx::config_changed`); when it commits, this
//! replica forgets the tenant's entry, and on PostgreSQL the transaction has
//! also sent a notification (`askpro_config_changes`, delivered at commit)
//! on which every other replica forgets it too. A replica whose listening
//! connection is down reads from the database, bypassing the cache, until
//! it listens again (and then starts empty). An entry is only stored if no
//! invalidation happened while it was loaded, and it is loaded in a
//! transaction of its own that starts after the load began, so a load never
//! stores what a commit before it replaced.
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use uuid::Uuid;

use super::entities::{branch, service};
use super::staff::StaffMember;
use crate::domain::ids::TenantId;
use crate::domain::slots::WeeklyInterval;
use crate::error::{Error, Result};

/// The PostgreSQL notification channel; the payload is the tenant id.
pub const CHANNEL: &str = "askpro_config_changes";
/// Tenants kept at most; the least used go first.
const MAX_TENANTS: u64 = 10_000;
/// A safety net only: entries are invalidated on change, not by age.
const TIME_TO_LIVE: Duration = Duration::from_secs(15 * 60);
/// The cache's label in the cache metrics.
const METRIC_LABEL: &str = "tenant_config";

/// One tenant's configuration as of one moment.
#[derive(Debug, Default)]
pub struct TenantConfig {
    pub branches: HashMap<Uuid, branch::Model>,
    pub services: HashMap<Uuid, service::Model>,
    pub staff: HashMap<Uuid, StaffMember>,
    pub weekly_hours: HashMap<Uuid, Vec<WeeklyInterval>>,
}

impl TenantConfig {
    /// A live branch, or NOT_FOUND as the repositories answer it.
    pub fn branch(&self, id: Uuid) -> Result<&branch::Model> {
        self.branches.get(&id).ok_or(Error::NotFound { resource: "branch" })
    }

    pub fn service(&self, id: Uuid) -> Result<&service::Model> {
        self.services.get(&id).ok_or(Error::NotFound { resource: "service" })
    }

    pub fn staff(&self, id: Uuid) -> Result<&StaffMember> {
        self.staff.get(&id).ok_or(Error::NotFound { resource: "staff" })
    }

    /// A staff member's weekly intervals, ordered by day and start.
    pub fn weekly_hours(&self, staff_id: Uuid) -> &[WeeklyInterval] {
        self.weekly_hours.get(&staff_id).map_or(&[], Vec::as_slice)
    }

    /// Whether a live staff member of `branch_id` offers `service_id`.
    pub fn offers(member: &StaffMember, branch_id: Uuid, service_id: Uuid) -> bool {
        member.row.branch_id == branch_id && member.service_ids.contains(&service_id)
    }

    /// Live staff of `branch_id` who offer `service_id`, ordered by id.
    pub fn offering(&self, branch_id: Uuid, service_id: Uuid) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> =
            self.staff.values().filter(|m| Self::offers(m, branch_id, service_id)).map(|m| m.row.id).collect();
        ids.sort_unstable();
        ids
    }
}

/// The per-tenant cache (cheap to clone: every clone is the same cache).
#[derive(Clone)]
pub struct ConfigCache {
    entries: moka::sync::Cache<TenantId, Arc<TenantConfig>>,
    /// Bumped by every invalidation: a load that saw it change does not store.
    generation: Arc<AtomicU64>,
    /// Whether this replica hears every other replica's changes (always on
    /// SQLite, one process; on PostgreSQL while the listener is connected).
    hearing: Arc<AtomicBool>,
    enabled: bool,
}

impl ConfigCache {
    pub fn new(enabled: bool, hearing_from_start: bool) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(MAX_TENANTS)
            .time_to_live(TIME_TO_LIVE)
            .eviction_listener(|_, _, cause| {
                if cause == moka::notification::RemovalCause::Size {
                    metrics::counter!(crate::metrics::CACHE_EVICTIONS_TOTAL, "cache" => METRIC_LABEL).increment(1);
                }
            })
            .build();
        Self {
            entries,
            generation: Arc::new(AtomicU64::new(0)),
            hearing: Arc::new(AtomicBool::new(hearing_from_start)),
            enabled,
        }
    }

    /// The cached configuration, if it may be used now.
    pub(super) fn get(&self, tenant: TenantId) -> Option<Arc<TenantConfig>> {
        if !self.usable() {
            return None;
        }
        let found = self.entries.get(&tenant);
        let counter =
            if found.is_some() { crate::metrics::CACHE_HITS_TOTAL } else { crate::metrics::CACHE_MISSES_TOTAL };
        metrics::counter!(counter, "cache" => METRIC_LABEL).increment(1);
        found
    }

    /// The generation to hand back to `store` after loading.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keeps a configuration loaded since `generation`, unless something was
    /// invalidated meanwhile (it may be older than that change).
    pub(super) fn store(&self, tenant: TenantId, config: Arc<TenantConfig>, generation: u64) {
        if self.usable() && self.generation() == generation {
            self.entries.insert(tenant, config);
            metrics::gauge!(crate::metrics::CACHE_ENTRIES, "cache" => METRIC_LABEL)
                .set(self.entries.entry_count() as f64);
        }
    }

    /// Forgets a tenant's configuration (it changed).
    pub fn invalidate(&self, tenant: TenantId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate(&tenant);
    }

    /// Forgets everything (changes may have been missed).
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }

    /// Whether this replica hears other replicas' changes: while not, the
    /// cache is bypassed.
    pub fn set_hearing(&self, hearing: bool) {
        if !hearing {
            self.hearing.store(false, Ordering::SeqCst);
        }
        // Whatever came in while deaf is unknown: start empty either way.
        self.invalidate_all();
        if hearing {
            self.hearing.store(true, Ordering::SeqCst);
        }
    }

    /// Whether the cache is used now: on, and hearing other replicas.
    pub fn is_active(&self) -> bool {
        self.usable()
    }

    /// Whether a tenant's configuration is cached (for tests and diagnosis).
    pub fn holds(&self, tenant: TenantId) -> bool {
        self.entries.contains_key(&tenant)
    }

    fn usable(&self) -> bool {
        self.enabled && self.hearing.load(Ordering::SeqCst)
    }
}

/// Reads the tenant's whole booking configuration (four queries).
pub(super) async fn load(tx: &super::TenantTx) -> Result<TenantConfig> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    use super::entities::{staff, staff_service, working_hours};
    let tenant = tx.tenant().0;
    let branches = branch::Entity::find()
        .filter(branch::Column::TenantId.eq(tenant))
        .filter(branch::Column::DeleteTime.is_null())
        .all(tx.conn())
        .await?;
    let services = service::Entity::find()
        .filter(service::Column::TenantId.eq(tenant))
        .filter(service::Column::DeleteTime.is_null())
        .all(tx.conn())
        .await?;
    let members = staff::Entity::find()
        .filter(staff::Column::TenantId.eq(tenant))
        .filter(staff::Column::DeleteTime.is_null())
        .all(tx.conn())
        .await?;
    let offered = staff_service::Entity::find()
        .filter(staff_service::Column::TenantId.eq(tenant))
        .order_by_asc(staff_service::Column::ServiceId)
        .all(tx.conn())
        .await?;
    let hours = working_hours::Entity::find()
        .filter(working_hours::Column::TenantId.eq(tenant))
        .order_by_asc(working_hours::Column::StaffId)
        .order_by_asc(working_hours::Column::DayOfWeek)
        .order_by_asc(working_hours::Column::StartMinute)
        .all(tx.conn())
        .await?;
    let mut config = TenantConfig {
        branches: branches.into_iter().map(|b| (b.id, b)).collect(),
        services: services.into_iter().map(|s| (s.id, s)).collect(),
        staff: members.into_iter().map(|row| (row.id, StaffMember { row, service_ids: Vec::new() })).collect(),
        weekly_hours: HashMap::new(),
    };
    for row in offered {
        if let Some(member) = config.staff.get_mut(&row.staff_id) {
            member.service_ids.push(row.service_id);
        }
    }
    for row in hours {
        config.weekly_hours.entry(row.staff_id).or_default().push(WeeklyInterval {
            day_of_week: row.day_of_week,
            start_minute: row.start_minute,
            end_minute: row.end_minute,
        });
    }
    Ok(config)
}

/// PostgreSQL: hears every replica's configuration changes and forgets the
/// changed tenants. While it is not connected the cache is bypassed, and it
/// starts empty once it is. Runs until the server stops.
pub async fn listen(store: super::Store) {
    let cache = store.config_cache().clone();
    if store.backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    loop {
        let pool = store.connection().get_postgres_connection_pool();
        let mut listener = match sea_orm::sqlx::postgres::PgListener::connect_with(pool).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "configuration cache cannot listen; bypassing it and retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(err) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %err, "configuration cache cannot listen; bypassing it and retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        cache.set_hearing(true);
        // try_recv, not recv: recv reconnects by itself and would hide the
        // gap in which notifications were lost.
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => match Uuid::try_parse(notification.payload()) {
                    Ok(tenant) => cache.invalidate(TenantId(tenant)),
                    Err(_) => cache.invalidate_all(),
                },
                Ok(None) => {
                    tracing::warn!("configuration cache lost its listener; bypassing it until it is back");
                    cache.set_hearing(false);
                    break;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "configuration cache lost its listener; bypassing it until it is back");
                    cache.set_hearing(false);
                    break;
                }
            }
        }
    }
}

/// Fills the cache with every tenant's configuration (up to its bound) once
/// the cache is in use, so a replica's first calls after a start find it
/// warm. Failures are logged: a cold cache only costs a database read.
pub async fn warm_up(store: super::Store) {
    let cache = store.config_cache().clone();
    let waiting = std::time::Instant::now();
    while !cache.is_active() {
        if !cache.enabled || waiting.elapsed() > Duration::from_secs(30) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ids = match store.platform_read().await {
        Ok(tx) => {
            let ids = super::tenants::ids(&tx, MAX_TENANTS).await;
            let _ = tx.commit().await;
            ids
        }
        Err(err) => Err(err),
    };
    let ids = match ids {
        Ok(ids) => ids,
        Err(err) => {
            tracing::warn!(error = %err, "could not warm the configuration cache");
            return;
        }
    };
    let mut warmed = 0;
    for id in &ids {
        match store.tenant_config(TenantId(*id)).await {
            Ok(_) => warmed += 1,
            Err(err) => tracing::warn!(tenant_id = %id, error = %err, "could not warm a tenant's configuration"),
        }
    }
    tracing::info!(tenants = warmed, "configuration cache warmed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_that_raced_an_invalidation_is_not_kept() {
        let cache = ConfigCache::new(true, true);
        let tenant = TenantId(Uuid::now_v7());
        let generation = cache.generation();
        // A change commits while the load runs: what was loaded may be older.
        cache.invalidate(TenantId(Uuid::now_v7()));
        cache.store(tenant, Arc::new(TenantConfig::default()), generation);
        assert!(cache.get(tenant).is_none());
        // A load with nothing in between is kept, and invalidated on change.
        let generation = cache.generation();
        cache.store(tenant, Arc::new(TenantConfig::default()), generation);
        assert!(cache.get(tenant).is_some());
        cache.invalidate(tenant);
        assert!(cache.get(tenant).is_none());
    }

    #[test]
    fn a_deaf_or_disabled_cache_is_bypassed() {
        let tenant = TenantId(Uuid::now_v7());
        for cache in [ConfigCache::new(false, true), ConfigCache::new(true, false)] {
            let generation = cache.generation();
            cache.store(tenant, Arc::new(TenantConfig::default()), generation);
            assert!(cache.get(tenant).is_none());
        }
        let cache = ConfigCache::new(true, true);
        let generation = cache.generation();
        cache.store(tenant, Arc::new(TenantConfig::default()), generation);
        cache.set_hearing(false);
        assert!(cache.get(tenant).is_none(), "losing the listener empties and bypasses the cache");
        cache.set_hearing(true);
        assert!(!cache.holds(tenant), "and it starts empty when it hears again");
    }
}
