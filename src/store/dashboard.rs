//! The dashboard's reads: appointments per status with their booked time,
//! customers created, and the staff calendars that utilization is measured
//! against. Each comes from the caches where they hold it: appointments and
//! new customers per UTC day (`caches::days`), calendars from the
//! configuration and the staff time-off cache.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::caches::calendar::Window;
use super::caches::days::{DayCustomers, day_of, days_of, start_of};
use super::entities::{appointment, customer};
use super::{Store, TenantConfig, TenantTx, appointments, calendar, customers};
use crate::domain::ids::TenantId;
use crate::domain::slots::StaffCalendar;
use crate::error::Result;

/// Appointments of one status starting in a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusTotal {
    /// As stored ("pending", "no_show", ...).
    pub status: String,
    pub count: i64,
    /// Sum of `end_time - start_time`, in seconds.
    pub booked_seconds: i64,
}

/// What a period's numbers are made of.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeriodTotals {
    /// Per status, ordered by status.
    pub by_status: Vec<StatusTotal>,
    /// Customers created in the period (for a branch: those who have an
    /// appointment there, at any time).
    pub new_customers: u64,
}

/// A staff member's weekly hours and the time zone they are read in (their
/// branch's: a tenant-wide dashboard spans branches in several zones).
#[derive(Clone, Debug)]
pub struct StaffHours {
    pub calendar: StaffCalendar,
    pub time_zone: String,
}

/// Appointments starting in `[from, to)` (in `branch_id`, if given) by
/// status, and the customers created in it. Days the caches lack are read
/// (and kept) when they are near today; a period reaching beyond is added up
/// by the database. A branch's new customers are always read, as they depend
/// on appointments at any time.
pub async fn period_totals(
    store: &Store,
    tenant: TenantId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    branch_id: Option<Uuid>,
) -> Result<PeriodTotals> {
    let (from_second, to_second) = (from.timestamp(), to.timestamp());
    if from_second >= to_second {
        return Ok(PeriodTotals::default());
    }
    let range = days_of(from_second, to_second);
    let cached = if store.caches().is_active() {
        appointments::cached_days(store, tenant, *range.start(), *range.end()).await?
    } else {
        None
    };
    let Some(appointment_days) = cached else {
        // Without the caches (or for a period far from today, which they do
        // not keep) the database adds up (one GROUP BY), rather than sending
        // every row of the period here.
        return store
            .read_with(tenant, async |tx| {
                let by_status = totals_by_status(tx, from, to, branch_id).await?;
                let new_customers = match branch_id {
                    Some(branch) => customers::count_created_in_branch(tx, from, to, branch).await?,
                    None => customers::count_created(tx, from, to).await?,
                };
                Ok(PeriodTotals { by_status, new_customers })
            })
            .await;
    };
    let new_customers = match branch_id {
        // Customers with an appointment in the branch at any time: read.
        Some(branch) => {
            store.read_with(tenant, async |tx| customers::count_created_in_branch(tx, from, to, branch).await).await?
        }
        None => customer_days(store, tenant, range.clone())
            .await?
            .iter()
            .flat_map(|day| day.created.iter())
            .filter(|at| (from_second..to_second).contains(*at))
            .count() as u64,
    };
    let mut by_status: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    let mut add = |status, count, booked_seconds| {
        let sum: &mut (i64, i64) = by_status.entry(status).or_default();
        sum.0 += count;
        sum.1 += booked_seconds;
    };
    let in_branch = |id: Uuid| branch_id.is_none_or(|branch| branch == id);
    for (day, appointments) in range.zip(&appointment_days) {
        // A day the period covers whole adds its totals; a day cut by the
        // period's edge (a local week starts mid-UTC-day) its rows inside.
        if from_second <= start_of(day) && start_of(day + 1) <= to_second {
            for total in appointments.totals().iter().filter(|total| in_branch(total.branch_id)) {
                add(total.status.as_str(), total.count, total.booked_seconds);
            }
            continue;
        }
        for row in appointments.appointments() {
            let start = row.start_time.timestamp();
            if (from_second..to_second).contains(&start) && in_branch(row.branch_id) {
                add(row.status.as_str(), 1, row.end_time.timestamp() - start);
            }
        }
    }
    Ok(PeriodTotals {
        by_status: by_status
            .into_iter()
            .map(|(status, (count, booked_seconds))| StatusTotal { status: status.to_owned(), count, booked_seconds })
            .collect(),
        new_customers,
    })
}

/// Per status: how many appointments start in `[from, to)` (in `branch_id`,
/// if given) and how long they last. One GROUP BY query; no rows are loaded.
async fn totals_by_status(
    tx: &TenantTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    branch_id: Option<Uuid>,
) -> Result<Vec<StatusTotal>> {
    // Timestamps are timestamptz on PostgreSQL and RFC 3339 text on SQLite,
    // so the length of an appointment is spelled per backend.
    let seconds = match tx.conn().get_database_backend() {
        DbBackend::Postgres => "EXTRACT(EPOCH FROM (end_time - start_time))",
        _ => "(CAST(strftime('%s', end_time) AS INTEGER) - CAST(strftime('%s', start_time) AS INTEGER))",
    };
    let mut query = appointment::Entity::find()
        .select_only()
        .column(appointment::Column::Status)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "count")
        .column_as(Expr::cust(format!("CAST(COALESCE(SUM({seconds}), 0) AS BIGINT)")), "booked_seconds")
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::StartTime.gte(from))
        .filter(appointment::Column::StartTime.lt(to));
    if let Some(branch_id) = branch_id {
        query = query.filter(appointment::Column::BranchId.eq(branch_id));
    }
    let rows: Vec<(String, i64, i64)> = query.group_by(appointment::Column::Status).into_tuple().all(tx.conn()).await?;
    Ok(rows.into_iter().map(|(status, count, booked_seconds)| StatusTotal { status, count, booked_seconds }).collect())
}

/// The customers created on each UTC day of `range`: from the cache, the
/// days it lacks read in one query and kept.
async fn customer_days(
    store: &Store,
    tenant: TenantId,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Vec<Arc<DayCustomers>>> {
    let cache = &store.caches().customer_days;
    let mut found: HashMap<i64, Arc<DayCustomers>> = HashMap::new();
    let mut lacking = Vec::new();
    for day in range.clone() {
        match cache.get(&(tenant, day)) {
            Some(entry) => drop(found.insert(day, entry)),
            None => lacking.push(day),
        }
    }
    if !lacking.is_empty() {
        let tickets: Vec<_> = lacking.iter().map(|day| cache.ticket(&(tenant, *day))).collect();
        let mut created = store.read_with(tenant, async |tx| read_customer_days(tx, &lacking).await).await?;
        for (day, ticket) in lacking.iter().zip(tickets) {
            let entry = Arc::new(created.remove(day).unwrap_or_default());
            cache.store((tenant, *day), entry.clone(), ticket);
            found.insert(*day, entry);
        }
    }
    Ok(range.filter_map(|day| found.remove(&day)).collect())
}

/// The creation times of the customers created on `days`, one query.
async fn read_customer_days(tx: &TenantTx, days: &[i64]) -> Result<HashMap<i64, DayCustomers>> {
    let mut out: HashMap<i64, DayCustomers> = days.iter().map(|day| (*day, DayCustomers::default())).collect();
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else { return Ok(out) };
    let rows: Vec<DateTime<Utc>> = customer::Entity::find()
        .select_only()
        .column(customer::Column::CreateTime)
        .filter(customer::Column::TenantId.eq(tx.tenant().0))
        .filter(customer::Column::CreateTime.gte(instant(start_of(*first))))
        .filter(customer::Column::CreateTime.lt(instant(start_of(last + 1))))
        .into_tuple()
        .all(tx.conn())
        .await?;
    for created in rows {
        let created = created.timestamp();
        if let Some(day) = out.get_mut(&day_of(created)) {
            day.created.push(created);
        }
    }
    Ok(out)
}

fn instant(second: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(second, 0).unwrap_or_default()
}

/// Calendars of the live staff of `branch_id` (or of the whole tenant) for
/// measuring open time in `[from, to)`: weekly hours, date overrides and
/// absences, each with their branch's time zone.
pub async fn staff_hours(
    store: &Store,
    tenant: TenantId,
    config: &TenantConfig,
    branch_id: Option<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<StaffHours>> {
    // A staff member of a deleted branch cannot be booked and has no zone.
    let members: HashMap<Uuid, &str> = config
        .staff
        .values()
        .filter(|m| branch_id.is_none_or(|branch| m.row.branch_id == branch))
        .filter_map(|m| config.branches.get(&m.row.branch_id).map(|b| (m.row.id, b.time_zone.as_str())))
        .collect();
    let ids: Vec<Uuid> = members.keys().copied().collect();
    let calendars = calendar::schedules(store, tenant, config, &ids, Window { from, to }, Utc::now()).await?;
    Ok(calendars
        .into_iter()
        .map(|calendar| {
            let time_zone = members.get(&calendar.staff_id).copied().unwrap_or_default().to_owned();
            StaffHours { calendar, time_zone }
        })
        .collect())
}
