//! Cal.com's busy times for the slot engine: the bookings of each tenant's
//! Cal.com account that AskPro did not make, as busy time of the staff
//! members linked to that account, so ListAvailableSlots never offers time
//! Cal.com considers taken.
//!
//! Cached per tenant over the coming `days` with a time to live; forgotten
//! when a Cal.com webhook arrives for the tenant and when AskPro changes a
//! booking in Cal.com. While Cal.com cannot be asked (outage, open breaker)
//! the last answer is used however old, and the response says so; with no
//! answer at all, slots rest on AskPro's own bookings alone.
//!
//! A key reads its own account's bookings: staff linked to other Cal.com
//! users are covered by the inbound webhooks (their bookings become
//! appointments), not by this cache.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::time::Instant;
use uuid::Uuid;

use super::{CalcomClient, Connection, wire};
use crate::domain::ids::TenantId;
use crate::error::Result;
use crate::store::{Store, TenantConfig, calcom};

/// What the Cal.com part of an answer rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// No staff member in question keeps a Cal.com calendar.
    NotInvolved,
    /// Cal.com's busy times as of at most the time to live ago.
    Current,
    /// Cal.com could not be asked: its busy times as last seen.
    Stale,
    /// Cal.com could not be asked and was never seen: AskPro's data alone.
    Unavailable,
}

/// Busy ranges (unix seconds) by staff member.
pub type BusyByStaff = HashMap<Uuid, Vec<(i64, i64)>>;

struct Entry {
    fetched: Instant,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    busy: Arc<BusyByStaff>,
}

pub struct BusyTimes {
    client: CalcomClient,
    time_to_live: Duration,
    days: i64,
    entries: Mutex<HashMap<TenantId, Entry>>,
}

impl BusyTimes {
    pub fn new(client: CalcomClient, time_to_live: Duration, days: u32) -> Self {
        Self { client, time_to_live, days: i64::from(days.max(1)), entries: Mutex::default() }
    }

    /// Cal.com's busy times of `staff_ids` over `[from, to)`.
    pub async fn of(
        &self,
        store: &Store,
        tenant: TenantId,
        config: &TenantConfig,
        staff_ids: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Arc<BusyByStaff>, Freshness)> {
        if !staff_ids.iter().any(|id| config.calcom_links.contains_key(id)) {
            return Ok((Arc::default(), Freshness::NotInvolved));
        }
        let cached = self.cached(tenant, from, to);
        if let Some((busy, age)) = &cached {
            metrics::gauge!(crate::metrics::CALCOM_BUSY_AGE_SECONDS).set(age.as_secs_f64());
            if *age <= self.time_to_live {
                metrics::counter!(crate::metrics::CACHE_HITS_TOTAL, "cache" => "calcom_busy").increment(1);
                return Ok((busy.clone(), Freshness::Current));
            }
        }
        metrics::counter!(crate::metrics::CACHE_MISSES_TOTAL, "cache" => "calcom_busy").increment(1);
        match self.refresh(store, tenant, from, to).await {
            Ok(busy) => Ok((busy, Freshness::Current)),
            Err(err) => {
                tracing::debug!(%tenant, error = %err, "Cal.com busy times unavailable; answering without fresh ones");
                Ok(match cached {
                    Some((busy, _)) => (busy, Freshness::Stale),
                    None => (Arc::default(), Freshness::Unavailable),
                })
            }
        }
    }

    /// Reads the tenant's busy times for the cached window (widened to
    /// `[from, to)` when asked for more) and keeps them.
    pub async fn refresh(
        &self,
        store: &Store,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> std::result::Result<Arc<BusyByStaff>, crate::error::Error> {
        // The window only grows: the coming `days` (from yesterday, which
        // a slot list's widened window reaches back to), what was asked,
        // and what the entry covered before; so every later question
        // within it is a hit until the time to live runs out.
        let now = Utc::now();
        let previous = self.lock().get(&tenant).map(|entry| (entry.from, entry.to));
        let mut window_from = from.min(now - TimeDelta::days(2));
        let mut window_to = to.max(now + TimeDelta::days(self.days + 1));
        if let Some((before_from, before_to)) = previous {
            window_from = window_from.min(before_from);
            window_to = window_to.max(before_to);
        }
        let Some((connection, staff_ids)) = account_staff(store, tenant).await? else {
            return Ok(Arc::default());
        };
        let bookings = self.client.bookings_between(&connection, window_from, window_to).await.map_err(|err| {
            crate::error::Error::Upstream {
                dependency: "Cal.com",
                message: err.to_string(),
                retry_after: err.retry_after().unwrap_or(Duration::from_secs(1)),
            }
        })?;
        let busy = Arc::new(busy_of(&bookings, &staff_ids));
        let entry = Entry { fetched: Instant::now(), from: window_from, to: window_to, busy: busy.clone() };
        self.lock().insert(tenant, entry);
        Ok(busy)
    }

    /// Forgets the tenant's busy times (a webhook said Cal.com changed).
    pub fn forget(&self, tenant: TenantId) {
        self.lock().remove(&tenant);
    }

    /// Fills the cache for every connected tenant (`askpro warm-caches`, and
    /// once after start).
    pub async fn warm(&self, store: &Store) {
        let tenants = match store.platform_read().await {
            Ok(tx) => {
                let tenants = calcom::connected_tenants(&tx).await;
                let _ = tx.commit().await;
                tenants
            }
            Err(err) => Err(err),
        };
        let now = Utc::now();
        let mut warmed = 0;
        for tenant in tenants.unwrap_or_default() {
            match self.refresh(store, TenantId(tenant), now, now + TimeDelta::days(self.days)).await {
                Ok(_) => warmed += 1,
                Err(err) => tracing::warn!(tenant_id = %tenant, error = %err, "could not warm Cal.com busy times"),
            }
        }
        if warmed > 0 {
            tracing::info!(tenants = warmed, "Cal.com busy times warmed");
        }
    }

    /// The cached busy times covering `[from, to)`, and their age.
    fn cached(&self, tenant: TenantId, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<(Arc<BusyByStaff>, Duration)> {
        let entries = self.lock();
        let entry = entries.get(&tenant)?;
        (entry.from <= from && to <= entry.to).then(|| (entry.busy.clone(), entry.fetched.elapsed()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Entry>> {
        // Every update is one insert or remove: a poisoned map is whole.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The tenant's connection and the staff linked to its account (whose
/// bookings the key reads), or None when not connected.
async fn account_staff(store: &Store, tenant: TenantId) -> Result<Option<(Connection, Vec<Uuid>)>> {
    store
        .read_with(tenant, async |tx| {
            let Some(row) = calcom::connection(tx).await? else { return Ok(None) };
            let ids = calcom::staff_of_account(tx, row.account_user_id, &row.account_email).await?;
            let connection = Connection::new(tenant, &row.base_url, calcom::api_key(tx.secrets(), &row)?);
            Ok(Some((connection, ids)))
        })
        .await
}

/// Bookings AskPro did not make, not cancelled, as busy ranges of `staff_ids`.
fn busy_of(bookings: &[wire::Booking], staff_ids: &[Uuid]) -> BusyByStaff {
    let mut ranges: Vec<(i64, i64)> = bookings
        .iter()
        .filter(|b| !b.is_cancelled() && !b.status.eq_ignore_ascii_case("rejected") && b.appointment_id().is_none())
        .map(|b| (b.start.timestamp(), b.end.timestamp()))
        .filter(|(start, end)| start < end)
        .collect();
    ranges.sort_unstable();
    staff_ids.iter().map(|id| (*id, ranges.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn booking(uid: &str, status: &str, start: i64, minutes: i64, askpro: Option<Uuid>) -> wire::Booking {
        let mut metadata = std::collections::BTreeMap::new();
        if let Some(id) = askpro {
            metadata.insert(wire::APPOINTMENT_METADATA_KEY.to_owned(), serde_json::json!(id.to_string()));
        }
        wire::Booking {
            uid: uid.into(),
            status: status.into(),
            start: DateTime::from_timestamp(start, 0).unwrap(),
            end: DateTime::from_timestamp(start + minutes * 60, 0).unwrap(),
            metadata,
            rescheduled_to_uid: None,
        }
    }

    #[test]
    fn only_live_bookings_askpro_did_not_make_are_busy() {
        let staff = Uuid::now_v7();
        let busy = busy_of(
            &[
                booking("b", "accepted", 7200, 30, None),
                booking("a", "pending", 3600, 60, None),
                booking("c", "cancelled", 10_800, 30, None),
                booking("d", "accepted", 14_400, 30, Some(Uuid::now_v7())),
            ],
            &[staff],
        );
        assert_eq!(busy[&staff], vec![(3600, 7200), (7200, 9000)]);
    }
}
