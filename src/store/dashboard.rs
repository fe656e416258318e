//! The dashboard's reads: appointments per status with their booked time,
//! customers created, and the staff calendars that utilization is measured
//! against. Each comes from the caches where they hold it: appointments and
//! new customers per UTC day (`caches::dashboard`), calendars from the
//! configuration and the staff time-off cache.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::caches::calendar::Window;
use super::caches::dashboard::{Counted, DayAppointments, DayCustomers, day_of, days_of, start_of};
use super::entities::{appointment, customer};
use super::{Store, TenantConfig, TenantTx, calendar, customers};
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
/// status, and the customers created in it. Days the cache lacks are read in
/// one transaction (and kept); a branch's new customers are always read, as
/// they depend on appointments at any time.
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
    let caches = store.caches();
    let mut appointment_days: HashMap<i64, Arc<DayAppointments>> = HashMap::new();
    let mut customer_days: HashMap<i64, Arc<DayCustomers>> = HashMap::new();
    let (mut lacking_appointments, mut lacking_customers) = (Vec::new(), Vec::new());
    for day in days_of(from_second, to_second) {
        match caches.appointment_days.get(&(tenant, day)) {
            Some(entry) => drop(appointment_days.insert(day, entry)),
            None => lacking_appointments.push(day),
        }
        if branch_id.is_none() {
            match caches.customer_days.get(&(tenant, day)) {
                Some(entry) => drop(customer_days.insert(day, entry)),
                None => lacking_customers.push(day),
            }
        }
    }
    let mut branch_customers = 0;
    if !lacking_appointments.is_empty() || !lacking_customers.is_empty() || branch_id.is_some() {
        // Tickets before the reads: a change committed after them voids the store.
        let appointment_tickets: Vec<_> =
            lacking_appointments.iter().map(|day| caches.appointment_days.ticket(&(tenant, *day))).collect();
        let customer_tickets: Vec<_> =
            lacking_customers.iter().map(|day| caches.customer_days.ticket(&(tenant, *day))).collect();
        let (mut appointments, mut created, in_branch) = store
            .read_with(tenant, async |tx| {
                let appointments = read_appointment_days(tx, &lacking_appointments).await?;
                let created = read_customer_days(tx, &lacking_customers).await?;
                let in_branch = match branch_id {
                    Some(branch) => customers::count_created_in_branch(tx, from, to, branch).await?,
                    None => 0,
                };
                Ok((appointments, created, in_branch))
            })
            .await?;
        branch_customers = in_branch;
        for (day, ticket) in lacking_appointments.iter().zip(appointment_tickets) {
            let entry = Arc::new(appointments.remove(day).unwrap_or_default());
            caches.appointment_days.store((tenant, *day), entry.clone(), ticket);
            appointment_days.insert(*day, entry);
        }
        for (day, ticket) in lacking_customers.iter().zip(customer_tickets) {
            let entry = Arc::new(created.remove(day).unwrap_or_default());
            caches.customer_days.store((tenant, *day), entry.clone(), ticket);
            customer_days.insert(*day, entry);
        }
    }
    let within = |second: i64| from_second <= second && second < to_second;
    let mut by_status: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for counted in appointment_days.values().flat_map(|day| day.appointments.iter()) {
        if within(counted.start) && branch_id.is_none_or(|branch| branch == counted.branch_id) {
            let total = by_status.entry(counted.status.as_str()).or_default();
            total.0 += 1;
            total.1 += counted.seconds;
        }
    }
    let new_customers = match branch_id {
        Some(_) => branch_customers,
        None => customer_days.values().flat_map(|day| day.created.iter()).filter(|at| within(**at)).count() as u64,
    };
    Ok(PeriodTotals {
        by_status: by_status
            .into_iter()
            .map(|(status, (count, booked_seconds))| StatusTotal { status: status.to_owned(), count, booked_seconds })
            .collect(),
        new_customers,
    })
}

/// Every appointment starting on `days` (UTC day numbers), one query over
/// the span from the first to the last; served by appointments_start_idx.
async fn read_appointment_days(tx: &TenantTx, days: &[i64]) -> Result<HashMap<i64, DayAppointments>> {
    let mut out: HashMap<i64, DayAppointments> = days.iter().map(|day| (*day, DayAppointments::default())).collect();
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else { return Ok(out) };
    let rows: Vec<(DateTime<Utc>, DateTime<Utc>, String, Uuid)> = appointment::Entity::find()
        .select_only()
        .column(appointment::Column::StartTime)
        .column(appointment::Column::EndTime)
        .column(appointment::Column::Status)
        .column(appointment::Column::BranchId)
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::StartTime.gte(instant(start_of(*first))))
        .filter(appointment::Column::StartTime.lt(instant(start_of(last + 1))))
        .into_tuple()
        .all(tx.conn())
        .await?;
    for (start, end, status, branch_id) in rows {
        let start = start.timestamp();
        if let Some(day) = out.get_mut(&day_of(start)) {
            day.appointments.push(Counted { start, seconds: end.timestamp() - start, status, branch_id });
        }
    }
    Ok(out)
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
