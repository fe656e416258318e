//! In-process caches of what reads need and rarely changes: each tenant's
//! booking configuration, each staff member's time off and busy time for
//! the coming weeks, and customers by phone number with their upcoming
//! appointments.
//!
//! A cache is an optimisation, never a source of truth: a booking is decided
//! by its claim in the database, so a stale entry can at worst let a request
//! through validation that the claim then answers (SLOT_TAKEN).
//!
//! Invalidation is exact. A repository that writes a cached row records what
//! it changed on its transaction (`TenantTx::changed`); when the transaction
//! commits, this replica forgets those entries, and on PostgreSQL the
//! transaction has also sent one notification (`CHANNEL`, delivered at
//! commit, dropped on rollback) on which every other replica forgets them
//! too. A replica whose listening connection is down reads from the database,
//! bypassing every cache, until it listens again (and then starts empty). An
//! entry is only stored if its key was not invalidated while it was loaded
//! (`keyed::Ticket`), and a load reads only committed rows after it took its
//! ticket, so a load never keeps what a commit before it replaced.
pub mod calendar;
pub mod config;
pub mod customers;
pub mod days;
mod keyed;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use self::keyed::{KeyedCache, Switch, Ticket};
use crate::domain::ids::TenantId;
use crate::store::entities::appointment;

/// The PostgreSQL notification channel; the payload is a `Notice`, or
/// `WARM_REQUEST`.
pub const CHANNEL: &str = "askpro_cache_changes";
/// Asks every replica to warm its caches (see `request_warm_up`).
const WARM_REQUEST: &str = "warm";
/// PostgreSQL refuses a notification payload of 8000 bytes or more; a
/// transaction that changed more than fits makes replicas forget the tenant.
const MAX_PAYLOAD_BYTES: usize = 7999;
/// A safety net only: entries are invalidated on change, not by age.
const TIME_TO_LIVE: Duration = Duration::from_secs(15 * 60);

/// What one transaction changed, as far as the caches are concerned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Branches, services, staff, offerings, weekly hours or the tenant row.
    #[serde(rename = "c", default, skip_serializing_if = "std::ops::Not::not")]
    pub config: bool,
    /// Staff whose time off (absences, date overrides) changed.
    #[serde(rename = "o", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub time_off: BTreeSet<Uuid>,
    /// Staff whose claims (appointments, holds) changed.
    #[serde(rename = "b", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub busy: BTreeSet<Uuid>,
    /// Customers whose row or appointments changed (record them with
    /// `customer_changed` or `appointment_created`).
    #[serde(rename = "u", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub customers: BTreeSet<Uuid>,
    /// Of `customers`, those changed otherwise than by a new appointment.
    /// Not sent: only the replica that committed knows it.
    #[serde(skip)]
    rewritten_customers: BTreeSet<Uuid>,
    /// Appointments the transaction created. Not sent: the replica that
    /// committed adds them to their customers' cached views (the caller who
    /// just booked is looked up again on the next call); every other replica
    /// forgets those views, their ids being in `customers`.
    #[serde(skip)]
    created_appointments: Vec<appointment::Model>,
    /// Phone numbers whose owner may have changed, as `customers::phone_key`
    /// digests: no number leaves the process.
    #[serde(rename = "p", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub phones: BTreeSet<u64>,
    /// UTC days (see `days::day_of`) on which an appointment that
    /// starts there was created or changed what the dashboard counts.
    #[serde(rename = "d", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub appointment_days: BTreeSet<i64>,
    /// UTC days on which a customer was created.
    #[serde(rename = "n", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub customer_days: BTreeSet<i64>,
    /// Too much to list: forget everything of the tenant.
    #[serde(rename = "a", default, skip_serializing_if = "std::ops::Not::not")]
    pub everything: bool,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Too much to list: every replica forgets the tenant.
    pub fn everything() -> Self {
        Self { everything: true, ..Default::default() }
    }

    /// A customer's row or appointments changed: every replica forgets the
    /// customer's view.
    pub fn customer_changed(&mut self, id: Uuid) {
        self.customers.insert(id);
        self.rewritten_customers.insert(id);
    }

    /// A new appointment: this replica adds it to its customer's cached
    /// view (unless the customer also changed otherwise), the others forget
    /// that view.
    pub fn appointment_created(&mut self, row: &appointment::Model) {
        self.customers.insert(row.customer_id);
        self.created_appointments.push(row.clone());
    }
}

/// A notification: one transaction's changes of one tenant.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    t: Uuid,
    /// The replica that committed (`Caches::replica`): it applied the
    /// changes itself at commit, so it skips its own notice. 0 (absent) from
    /// a replica that does not say.
    #[serde(default, skip_serializing_if = "is_zero")]
    r: u64,
    #[serde(flatten)]
    changes: Changes,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Every cache of a store (shared by its clones and its transactions).
pub struct Caches {
    switch: Arc<Switch>,
    pub config: KeyedCache<TenantId, config::TenantConfig>,
    pub time_off: KeyedCache<(TenantId, Uuid), calendar::StaffTimeOff>,
    pub busy: KeyedCache<(TenantId, Uuid), calendar::StaffBusy>,
    pub phones: KeyedCache<(TenantId, u64), customers::PhoneOwner>,
    pub customers: KeyedCache<(TenantId, Uuid), customers::CustomerView>,
    pub appointment_days: KeyedCache<(TenantId, i64), days::DayAppointments>,
    pub customer_days: KeyedCache<(TenantId, i64), days::DayCustomers>,
    /// One load of appointment days at a time (see `appointments::days`).
    pub day_loads: tokio::sync::Semaphore,
    /// Names this replica in its notices (random, never 0).
    replica: u64,
    /// Wakes what warms caches outside the store (Cal.com's busy times)
    /// when a warm-up is requested.
    warm_requests: tokio::sync::Notify,
}

impl Caches {
    /// `hearing_from_start`: SQLite is one process and hears every change;
    /// a PostgreSQL replica bypasses the caches until its listener runs.
    pub fn new(enabled: bool, hearing_from_start: bool) -> Self {
        let switch = Arc::new(Switch::new(enabled, hearing_from_start));
        let shared = || switch.clone();
        Self {
            config: KeyedCache::new("tenant_config", 10_000, TIME_TO_LIVE, shared()),
            time_off: KeyedCache::new("staff_time_off", 100_000, TIME_TO_LIVE, shared()),
            busy: KeyedCache::new("staff_busy_time", 100_000, TIME_TO_LIVE, shared()),
            phones: KeyedCache::new("customer_by_phone", 200_000, TIME_TO_LIVE, shared()),
            customers: KeyedCache::new("customer_view", 200_000, TIME_TO_LIVE, shared()),
            // Bounded in rows (about 500 bytes each), not days.
            appointment_days: KeyedCache::weighted(
                "appointment_days",
                200_000,
                TIME_TO_LIVE,
                shared(),
                days::weight_of_appointments,
            ),
            customer_days: KeyedCache::weighted(
                "customer_days",
                500_000,
                TIME_TO_LIVE,
                shared(),
                days::weight_of_customers,
            ),
            day_loads: tokio::sync::Semaphore::new(1),
            replica: rand::random::<u64>().max(1),
            warm_requests: tokio::sync::Notify::new(),
            switch,
        }
    }

    /// Whether the caches are used now: on, and hearing other replicas.
    /// Completes at the next warm-up request heard from another process.
    pub async fn warm_requested(&self) {
        self.warm_requests.notified().await;
    }

    pub fn is_active(&self) -> bool {
        self.switch.usable()
    }

    pub fn enabled(&self) -> bool {
        self.switch.enabled()
    }

    /// The notification payload for `changes` of `tenant` (the whole tenant
    /// if the list would not fit).
    pub fn payload(&self, tenant: TenantId, changes: &Changes) -> String {
        let notice = Notice { t: tenant.0, r: self.replica, changes: changes.clone() };
        match serde_json::to_string(&notice) {
            Ok(text) if text.len() <= MAX_PAYLOAD_BYTES => text,
            _ => format!(r#"{{"t":"{}","r":{},"a":true}}"#, tenant.0, self.replica),
        }
    }

    /// After a COMMIT whose outcome is unknown (its answer was lost): forgets
    /// what the transaction would have changed, and updates nothing in place,
    /// as it may not have committed.
    pub fn forget(&self, tenant: TenantId, changes: &Changes) {
        let mut forgetting = changes.clone();
        forgetting.created_appointments.clear();
        self.apply(tenant, &forgetting);
    }

    /// Applies what a committed transaction of `tenant` changed: forgets
    /// the changed entries, or, for a customer who only booked, adds the new
    /// appointments to their view.
    pub fn apply(&self, tenant: TenantId, changes: &Changes) {
        if changes.everything {
            self.forget_tenant(tenant);
            return;
        }
        if changes.config {
            self.config.invalidate(&tenant);
        }
        for staff in &changes.time_off {
            self.time_off.invalidate(&(tenant, *staff));
        }
        for staff in &changes.busy {
            self.busy.invalidate(&(tenant, *staff));
        }
        for customer in &changes.customers {
            let created: Vec<&appointment::Model> =
                changes.created_appointments.iter().filter(|row| row.customer_id == *customer).collect();
            if created.is_empty() || changes.rewritten_customers.contains(customer) {
                self.customers.invalidate(&(tenant, *customer));
            } else {
                let now = chrono::Utc::now();
                self.customers.update(&(tenant, *customer), |view| Some(view.with_created(&created, now)));
            }
        }
        for phone in &changes.phones {
            self.phones.invalidate(&(tenant, *phone));
        }
        for day in &changes.appointment_days {
            self.appointment_days.invalidate(&(tenant, *day));
        }
        for day in &changes.customer_days {
            self.customer_days.invalidate(&(tenant, *day));
        }
    }

    /// Forgets every entry of `tenant`.
    pub fn forget_tenant(&self, tenant: TenantId) {
        self.config.invalidate(&tenant);
        self.time_off.invalidate_where(move |key| key.0 == tenant);
        self.busy.invalidate_where(move |key| key.0 == tenant);
        self.phones.invalidate_where(move |key| key.0 == tenant);
        self.customers.invalidate_where(move |key| key.0 == tenant);
        self.appointment_days.invalidate_where(move |key| key.0 == tenant);
        self.customer_days.invalidate_where(move |key| key.0 == tenant);
    }

    /// Forgets everything (changes may have been missed).
    pub fn invalidate_all(&self) {
        self.config.invalidate_all();
        self.time_off.invalidate_all();
        self.busy.invalidate_all();
        self.phones.invalidate_all();
        self.customers.invalidate_all();
        self.appointment_days.invalidate_all();
        self.customer_days.invalidate_all();
    }

    /// Whether this replica hears other replicas' changes: while not, the
    /// caches are bypassed; either way they start empty.
    pub fn set_hearing(&self, hearing: bool) {
        if !hearing {
            self.switch.set_hearing(false);
        }
        // Whatever came in while deaf is unknown.
        self.invalidate_all();
        if hearing {
            self.switch.set_hearing(true);
        }
    }

    /// Applies a notification from another replica (its own this replica
    /// applied at commit), or, unreadable, forgets everything: something
    /// changed and we cannot tell what.
    fn hear(&self, text: &str) {
        if text == WARM_REQUEST {
            return;
        }
        match serde_json::from_str::<Notice>(text) {
            Ok(notice) if notice.r == self.replica => {}
            Ok(notice) => self.apply(TenantId(notice.t), &notice.changes),
            Err(_) => self.invalidate_all(),
        }
    }
}

/// PostgreSQL: hears every replica's changes and forgets the changed
/// entries. While it is not connected the caches are bypassed, and they
/// start empty once it is. Runs until the server stops.
pub async fn listen(store: super::Store) {
    if store.backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let caches = store.caches().clone();
    loop {
        let pool = store.connection().get_postgres_connection_pool();
        let mut listener = match sea_orm::sqlx::postgres::PgListener::connect_with(pool).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "caches cannot listen; bypassing them and retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(err) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %err, "caches cannot listen; bypassing them and retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        caches.set_hearing(true);
        // try_recv, not recv: recv reconnects by itself and would hide the
        // gap in which notifications were lost.
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) if notification.payload() == WARM_REQUEST => {
                    caches.warm_requests.notify_waiters();
                    tokio::spawn(warm_up(store.clone()));
                }
                Ok(Some(notification)) => caches.hear(notification.payload()),
                Ok(None) => {
                    tracing::warn!("caches lost their listener; bypassing them until it is back");
                    caches.set_hearing(false);
                    break;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "caches lost their listener; bypassing them until it is back");
                    caches.set_hearing(false);
                    break;
                }
            }
        }
    }
}

/// How far ahead a warm-up fills each staff member's calendar (the longest
/// slot list a client may ask for).
const WARM_DAYS: i64 = 62;
/// How many past days of appointments a warm-up fills (recent lists and
/// dashboards).
const WARM_DAYS_BEHIND: i64 = 31;
/// The UTC days whose appointments the day cache always reads in, around
/// `today` (a day number): the last month and the next `WARM_DAYS`, what a
/// warm-up fills and what lists, dashboards and slot lists mostly ask for.
/// Other days are read in while the cache has room; once it is nearly full,
/// a call that lacks one is answered by the database instead (see
/// `appointments::cached_days`), so paging through years of history neither
/// reads whole days for each page nor pushes these out of the cache.
pub(crate) fn kept_days(today: i64) -> std::ops::RangeInclusive<i64> {
    today - WARM_DAYS_BEHIND..=today + WARM_DAYS
}

/// Tenants a warm-up fills at most (the configuration cache's bound).
const WARM_TENANTS: u64 = 10_000;

/// Fills the caches for every tenant (up to the bound, see `warm_tenant`)
/// once the caches are in use, so a replica's first calls after a start
/// find them warm. Failures are logged: a cold cache only
/// costs a database read.
pub async fn warm_up(store: super::Store) {
    let waiting = std::time::Instant::now();
    while !store.caches().is_active() {
        if !store.caches().enabled() || waiting.elapsed() > Duration::from_secs(30) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ids = match store.platform_read().await {
        Ok(tx) => {
            let ids = super::tenants::ids(&tx, WARM_TENANTS).await;
            let _ = tx.commit().await;
            ids
        }
        Err(err) => Err(err),
    };
    let ids = match ids {
        Ok(ids) => ids,
        Err(err) => {
            tracing::warn!(error = %err, "could not warm the caches");
            return;
        }
    };
    let mut warmed = 0;
    for id in ids {
        match warm_tenant(&store, TenantId(id)).await {
            Ok(()) => warmed += 1,
            Err(err) => tracing::warn!(tenant_id = %id, error = %err, "could not warm a tenant's caches"),
        }
    }
    tracing::info!(tenants = warmed, "caches warmed");
    metrics::counter!(crate::metrics::CACHE_WARM_UPS_TOTAL).increment(1);
}

/// Fills one tenant's configuration, its staff calendars, its customers by
/// phone number and its appointments by day (the last month and the next
/// `WARM_DAYS` days).
pub async fn warm_tenant(store: &super::Store, tenant: TenantId) -> crate::error::Result<()> {
    let config = store.tenant_config(tenant).await?;
    let mut staff: Vec<Uuid> = config.staff.keys().copied().collect();
    staff.sort_unstable();
    let now = chrono::Utc::now();
    super::calendar::load(store, tenant, &config, &staff, now, now + chrono::Duration::days(WARM_DAYS), now).await?;
    customers::warm(store, tenant, super::now(), customers::UPCOMING_LIMIT).await?;
    let kept = kept_days(days::day_of(now.timestamp()));
    super::appointments::cached_days(store, tenant, *kept.start(), *kept.end()).await?;
    Ok(())
}

/// Asks every listening replica (PostgreSQL) to warm its caches now, as it
/// does at start: `askpro warm-caches` after a bulk import, say. Returns the
/// number of connections listening, i.e. the replicas that will.
pub async fn request_warm_up(store: &super::Store) -> crate::error::Result<i64> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    if store.backend() != DbBackend::Postgres {
        return Ok(0);
    }
    let db = store.connection();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), WARM_REQUEST.into()],
    ))
    .await?;
    // Listening connections show as idle sessions whose last query was LISTEN.
    let listening = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = $1",
            [format!("LISTEN \"{CHANNEL}\"").into()],
        ))
        .await?
        .and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .unwrap_or(0);
    Ok(listening)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_names_what_changed_and_falls_back_to_the_tenant() {
        let tenant = TenantId(Uuid::now_v7());
        let mut changes = Changes { config: true, ..Default::default() };
        changes.busy.insert(Uuid::nil());
        let caches = Caches::new(true, true);
        let text = caches.payload(tenant, &changes);
        let notice: Notice = serde_json::from_str(&text).expect("reads back");
        assert_eq!((notice.t, notice.r, notice.changes), (tenant.0, caches.replica, changes));

        let mut many = Changes::default();
        many.customers.extend((0..400).map(|_| Uuid::now_v7()));
        let notice: Notice = serde_json::from_str(&caches.payload(tenant, &many)).expect("reads back");
        assert!(notice.changes.everything && notice.changes.customers.is_empty());
        assert_eq!(notice.r, caches.replica);
    }

    #[test]
    fn a_heard_change_forgets_exactly_its_entries() {
        let caches = Caches::new(true, true);
        let (tenant, staff, other) = (TenantId(Uuid::now_v7()), Uuid::now_v7(), Uuid::now_v7());
        for id in [staff, other] {
            let ticket = caches.busy.ticket(&(tenant, id));
            caches.busy.store((tenant, id), Arc::new(calendar::StaffBusy::default()), ticket);
        }
        let mut changes = Changes::default();
        changes.busy.insert(staff);
        // Its own notice: applied at commit already, skipped.
        caches.hear(&caches.payload(tenant, &changes));
        assert!(caches.busy.holds(&(tenant, staff)));
        let another_replica = Caches::new(true, true);
        caches.hear(&another_replica.payload(tenant, &changes));
        assert!(!caches.busy.holds(&(tenant, staff)));
        assert!(caches.busy.holds(&(tenant, other)));
        caches.hear("not json");
        assert!(!caches.busy.holds(&(tenant, other)));
    }
}
