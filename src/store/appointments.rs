//! Appointments. Their time is secured through `slot_claims`; this module
//! keeps the appointment rows themselves.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use uuid::Uuid;

use super::caches::days::{DayAppointments, day_of, start_of};
use super::entities::appointment;
use super::{Scoped, Store, TenantTx, all_set};
use crate::domain::appointment::MAX_LENGTH;
use crate::domain::appointment::Status;
use crate::domain::ids::TenantId;
use crate::error::{Error, Result};

/// Filters of ListAppointments; every one optional.
#[derive(Clone, Debug, Default)]
pub struct AppointmentFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub staff_ids: Vec<Uuid>,
    pub customer_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub statuses: Vec<String>,
}

/// Writes a new appointment's row, with the transaction's commit.
pub fn insert(tx: &TenantTx, row: &appointment::Model) {
    // The customer's upcoming appointments are cached with the customer,
    // appointments by the day they start (lists, the dashboard).
    tx.changed(|c| {
        c.appointment_created(row);
        c.appointment_days.insert(day_of(row.start_time.timestamp()))
    });
    // Nothing in the booking's transaction reads the row back: it is sent
    // with the commit (see `store::at_commit`).
    let insert = appointment::Entity::insert(all_set::<appointment::ActiveModel, _>(row.clone()));
    tx.write_at_commit(insert.build(tx.conn().get_database_backend()));
}

pub async fn get(tx: &TenantTx, id: Uuid) -> Result<appointment::Model> {
    appointment::Entity::find_by_id((tx.tenant().0, id))
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound { resource: "appointment" })
}

/// One page ordered by (start_time, id), after the given key.
pub async fn list(
    tx: &TenantTx,
    filter: &AppointmentFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<appointment::Model>> {
    let mut query = appointment::Entity::find().filter(appointment::Column::TenantId.eq(tx.tenant().0));
    // The range selects appointments overlapping it; such an appointment
    // starts at most MAX_LENGTH before `from`, which bounds the index scan.
    if let Some(from) = filter.from {
        query = query
            .filter(appointment::Column::EndTime.gt(from))
            .filter(appointment::Column::StartTime.gt(from - crate::domain::appointment::MAX_LENGTH));
    }
    if let Some(to) = filter.to {
        query = query.filter(appointment::Column::StartTime.lt(to));
    }
    if !filter.staff_ids.is_empty() {
        query = query.filter(appointment::Column::StaffId.is_in(filter.staff_ids.iter().copied()));
    }
    if let Some(customer) = filter.customer_id {
        query = query.filter(appointment::Column::CustomerId.eq(customer));
    }
    if let Some(branch) = filter.branch_id {
        query = query.filter(appointment::Column::BranchId.eq(branch));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(appointment::Column::Status.is_in(filter.statuses.iter().cloned()));
    }
    if let Some((start, id)) = after {
        query = query.filter(
            Condition::any()
                .add(appointment::Column::StartTime.gt(start))
                .add(appointment::Column::StartTime.eq(start).and(appointment::Column::Id.gt(id))),
        );
    }
    Ok(query
        .order_by_asc(appointment::Column::StartTime)
        .order_by_asc(appointment::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await?)
}

/// The longest range a list is answered from the per-day cache: a month
/// and a bit (the dashboard's longest period, a slot list's longest range).
const MAX_CACHED_RANGE: chrono::Duration = chrono::Duration::days(62);

/// `list` answered from the per-day cache when the filter has a time range
/// of at most `MAX_CACHED_RANGE`: the days the range touches (and the day
/// before, where an appointment overlapping its start may begin), filtered
/// and ordered here exactly as the query would. Other filters read the
/// database.
pub async fn list_from_days(
    store: &Store,
    tenant: TenantId,
    filter: &AppointmentFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<appointment::Model>> {
    let cached_range = match (filter.from, filter.to) {
        (Some(from), Some(to)) if from < to && to - from <= MAX_CACHED_RANGE => Some((from, to)),
        _ => None,
    };
    // Without the caches (or for a range they do not serve) the database
    // filters and pages: reading every row of the days here would be slower.
    let from_database = async || store.read_with(tenant, async |tx| list(tx, filter, after, limit).await).await;
    let Some((from, to)) = cached_range.filter(|_| store.caches().is_active()) else {
        return from_database().await;
    };
    let first = day_of((from - MAX_LENGTH).timestamp());
    let Some(days) = cached_days(store, tenant, first, day_of(to.timestamp() - 1)).await? else {
        return from_database().await;
    };
    // Days are in order and each is ordered by (start, id), so the rows
    // come in the list's order: the page is the first `limit` that match,
    // and no more of the range is looked at.
    let earliest_start = from - MAX_LENGTH;
    Ok(days
        .iter()
        .flat_map(|day| day.appointments())
        .filter(|row| {
            row.end_time > from
                && row.start_time < to
                && row.start_time > earliest_start
                && (filter.staff_ids.is_empty() || filter.staff_ids.contains(&row.staff_id))
                && filter.customer_id.is_none_or(|id| row.customer_id == id)
                && filter.branch_id.is_none_or(|id| row.branch_id == id)
                && (filter.statuses.is_empty() || filter.statuses.contains(&row.status))
                && after.is_none_or(|key| (row.start_time, row.id) > key)
        })
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .cloned()
        .collect())
}

/// The appointments starting on each UTC day `first..=last` (day numbers),
/// in order: from the cache, the days it lacks read and kept; `None` when
/// it lacks a day outside the days it always keeps (`caches::kept_days`)
/// while it is nearly full, which the caller then asks of the database
/// directly.
pub async fn cached_days(
    store: &Store,
    tenant: TenantId,
    first: i64,
    last: i64,
) -> Result<Option<Vec<Arc<DayAppointments>>>> {
    let caches = store.caches();
    let cache = &caches.appointment_days;
    let mut found: Vec<Option<Arc<DayAppointments>>> = (first..=last).map(|day| cache.get(&(tenant, day))).collect();
    if found.iter().all(Option::is_some) {
        return Ok(Some(found.into_iter().flatten().collect()));
    }
    let kept = super::caches::kept_days(day_of(Utc::now().timestamp()));
    let lacks_far_day = (first..=last).zip(&found).any(|(day, entry)| entry.is_none() && !kept.contains(&day));
    if lacks_far_day && !cache.has_room() {
        return Ok(None);
    }
    // Callers missing the same days at once would each read them: they load
    // one after another, and whoever waited finds what the one before loaded.
    let _turn = caches.day_loads.acquire().await.map_err(crate::error::Error::internal)?;
    for (day, entry) in (first..).zip(found.iter_mut()) {
        if entry.is_none() {
            *entry = cache.get(&(tenant, day));
        }
    }
    let lacking: Vec<i64> =
        (first..=last).zip(&found).filter(|(_, entry)| entry.is_none()).map(|(day, _)| day).collect();
    // Runs of consecutive lacking days, at most a week each: one query per
    // run reads no day the cache holds, and bounds the rows held at once.
    for run in runs(&lacking, DAYS_PER_READ) {
        let (low, high) = (run[0], run[run.len() - 1]);
        // Tickets before the read: a change committed after them voids the store.
        let tickets: Vec<_> = run.iter().map(|day| cache.ticket(&(tenant, *day))).collect();
        let rows = store.read_with(tenant, async |tx| starting_within(tx, low, high).await).await?;
        let mut by_day: std::collections::HashMap<i64, Vec<appointment::Model>> = Default::default();
        for row in rows {
            by_day.entry(day_of(row.start_time.timestamp())).or_default().push(row);
        }
        for (day, ticket) in run.iter().zip(tickets) {
            let entry = Arc::new(DayAppointments::new(by_day.remove(day).unwrap_or_default()));
            cache.store((tenant, *day), entry.clone(), ticket);
            found[(day - first) as usize] = Some(entry);
        }
    }
    Ok(Some(found.into_iter().flatten().collect()))
}

/// Days read from the database in one query at most.
const DAYS_PER_READ: usize = 7;

/// `days` (ascending) cut into runs of consecutive days, each at most `max` long.
fn runs(days: &[i64], max: usize) -> Vec<&[i64]> {
    let mut out = Vec::new();
    let mut start = 0;
    for index in 1..=days.len() {
        if index == days.len() || days[index] != days[index - 1] + 1 || index - start == max {
            out.push(&days[start..index]);
            start = index;
        }
    }
    out
}

/// Every appointment starting on UTC days `first..=last`, ordered by
/// (start, id); served by appointments_start_idx.
async fn starting_within(tx: &TenantTx, first: i64, last: i64) -> Result<Vec<appointment::Model>> {
    let instant = |second: i64| DateTime::from_timestamp(second, 0).unwrap_or_default();
    Ok(appointment::Entity::find()
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::StartTime.gte(instant(start_of(first))))
        .filter(appointment::Column::StartTime.lt(instant(start_of(last + 1))))
        .order_by_asc(appointment::Column::StartTime)
        .order_by_asc(appointment::Column::Id)
        .all(tx.conn())
        .await?)
}

/// Writes `next` only if the row is still at `current.revision`.
pub async fn save_revision(tx: &TenantTx, current: &appointment::Model, next: &appointment::Model) -> Result<()> {
    // Whole rows are cached per day: any change forgets the day (both days
    // for a move).
    tx.changed(|c| {
        c.customer_changed(current.customer_id);
        c.customer_changed(next.customer_id);
        c.appointment_days.insert(day_of(current.start_time.timestamp()));
        c.appointment_days.insert(day_of(next.start_time.timestamp()))
    });
    let result = appointment::Entity::update_many()
        .set(all_set::<appointment::ActiveModel, _>(next.clone()))
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::Id.eq(current.id))
        .filter(appointment::Column::Revision.eq(current.revision))
        .exec(tx.conn())
        .await?;
    if result.rows_affected == 0 { Err(Error::Conflict) } else { Ok(()) }
}

/// The appointment mirroring an external (Cal.com) booking, if any; the
/// newest one should a uid ever have been mirrored twice.
pub async fn find_by_external_booking_uid(tx: &TenantTx, uid: &str) -> Result<Option<appointment::Model>> {
    Ok(appointment::Entity::find()
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::ExternalBookingUid.eq(uid))
        .order_by_desc(appointment::Column::Id)
        .one(tx.conn())
        .await?)
}

/// The staff member's PENDING or CONFIRMED appointments that have not ended
/// by `now` (and, if `window` is given, overlap it), as (id, start, end)
/// ordered by start. Schedule changes report these as conflicts.
pub async fn upcoming_of_staff(
    tx: &TenantTx,
    staff_id: Uuid,
    now: DateTime<Utc>,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)>> {
    let active = Status::ALL.into_iter().filter(|s| s.is_active()).map(|s| s.as_str());
    let mut query = appointment::Entity::find()
        .select_only()
        .column(appointment::Column::Id)
        .column(appointment::Column::StartTime)
        .column(appointment::Column::EndTime)
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::StaffId.eq(staff_id))
        .filter(appointment::Column::Status.is_in(active))
        .filter(appointment::Column::EndTime.gt(now))
        // Bounds the scan of the staff member's history (see MAX_LENGTH).
        .filter(appointment::Column::StartTime.gt(now - crate::domain::appointment::MAX_LENGTH));
    if let Some((from, to)) = window {
        query = query.filter(appointment::Column::StartTime.lt(to)).filter(appointment::Column::EndTime.gt(from));
    }
    Ok(query
        .order_by_asc(appointment::Column::StartTime)
        .order_by_asc(appointment::Column::Id)
        .into_tuple()
        .all(tx.conn())
        .await?)
}

/// Refuses the transaction's commit with CUSTOMER_DOUBLE_BOOKED when a
/// PENDING or CONFIRMED appointment of the customer, other than `except`,
/// overlaps `[start, end)` as of the commit: what a tenant that refuses
/// overlapping appointments of one customer checks under the customer's row
/// lock. The check travels with the commit (see `store::at_commit`); its
/// statement starts after the lock was granted, so it sees every booking of
/// the customer that committed before.
pub fn refuse_overlap_of_customer_at_commit(
    tx: &TenantTx,
    customer_id: Uuid,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    except: Option<Uuid>,
) {
    let active = Status::ALL.into_iter().filter(|s| s.is_active()).map(|s| s.as_str());
    let mut query = appointment::Entity::find()
        .select_only()
        .column(appointment::Column::Id)
        .filter(appointment::Column::TenantId.eq(tx.tenant().0))
        .filter(appointment::Column::CustomerId.eq(customer_id))
        .filter(appointment::Column::Status.is_in(active))
        .filter(appointment::Column::StartTime.lt(end))
        .filter(appointment::Column::EndTime.gt(start))
        // Bounds the scan of the customer's history (see MAX_LENGTH).
        .filter(appointment::Column::StartTime.gt(start - MAX_LENGTH));
    if let Some(id) = except {
        query = query.filter(appointment::Column::Id.ne(id));
    }
    let query = query.limit(1).build(tx.conn().get_database_backend());
    tx.check_at_commit(query, |appointment_id| Error::CustomerDoubleBooked { appointment_id });
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn lacking_days_are_read_in_runs_of_consecutive_days() {
        assert_eq!(runs(&[], 7), Vec::<&[i64]>::new());
        assert_eq!(runs(&[3, 4, 5, 9, 10, 20], 7), vec![&[3, 4, 5][..], &[9, 10][..], &[20][..]]);
        let month: Vec<i64> = (1..=10).collect();
        assert_eq!(runs(&month, 4), vec![&[1, 2, 3, 4][..], &[5, 6, 7, 8][..], &[9, 10][..]]);
    }
}
