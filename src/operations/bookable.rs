//! What holds and appointments share: deciding whether a requested slot is
//! bookable (the slot engine would offer it, other bookings aside) and, when
//! the time is taken, finding alternatives to offer the caller.
use chrono::{DateTime, Utc};
use jiff::tz::TimeZone;
use uuid::Uuid;

use super::Operations;
use crate::domain::ids::TenantId;
use crate::domain::local_time::rfc3339_local;
use crate::domain::slots::{NotOffered, ServiceRules, SlotQuery, available_slots, why_not_offered};
use crate::error::{AlternativeSlot, Error, Result};
use crate::store::entities::{branch, service};
use crate::store::{TenantConfig, TenantTx, calendar};

/// How far past a taken slot alternatives are searched.
const ALTERNATIVES_WINDOW_DAYS: i64 = 7;
const MAX_ALTERNATIVES: usize = 3;

/// The time an appointment or hold takes: what it shows (start, end) and
/// what it blocks (with the service's buffers).
#[derive(Clone, Debug)]
pub struct Placement {
    pub staff_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub block_start: DateTime<Utc>,
    pub block_end: DateTime<Utc>,
}

/// A slot checked against the rules, ready to be claimed.
#[derive(Clone, Debug)]
pub struct BookableSlot {
    pub branch: branch::Model,
    pub service: service::Model,
    pub placement: Placement,
}

pub fn rules(service: &service::Model) -> ServiceRules {
    ServiceRules {
        duration: i64::from(service.duration_minutes),
        buffer_before: i64::from(service.buffer_before_minutes),
        buffer_after: i64::from(service.buffer_after_minutes),
        minimum_notice: i64::from(service.minimum_notice_minutes),
        booking_horizon: i64::from(service.booking_horizon_minutes),
        slot_step: i64::from(service.slot_step_minutes),
    }
}

pub fn time_zone(branch: &branch::Model) -> Result<TimeZone> {
    TimeZone::get(&branch.time_zone).map_err(|e| Error::Internal(format!("stored time zone is invalid: {e}")))
}

fn not_bookable(message: impl Into<String>) -> Error {
    Error::FailedPrecondition { reason: "FAILED_PRECONDITION", message: message.into() }
}

/// The branch, service and staff exist and fit together, and `start` is a
/// slot the engine offers (hours, time off, step grid, notice, horizon).
/// Other bookings are not considered: claiming the time decides that.
pub async fn check_bookable(
    tx: &TenantTx,
    config: &TenantConfig,
    branch_id: Uuid,
    service_id: Uuid,
    staff_id: Uuid,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<BookableSlot> {
    let branch = config.branch(branch_id)?.clone();
    let service = config.service(service_id)?.clone();
    let member = config.staff(staff_id)?;
    if !TenantConfig::offers(member, branch_id, service_id) {
        return Err(not_bookable("the staff member does not offer this service at this branch"));
    }
    let rules = rules(&service);
    let calendars =
        calendar::load_schedules(tx, config, &[staff_id], start, start + chrono::Duration::seconds(1), now).await?;
    let query = SlotQuery {
        time_zone: time_zone(&branch)?,
        from: start.timestamp(),
        to: start.timestamp() + 1,
        now: now.timestamp(),
        rules,
    };
    let offered = available_slots(&query, &calendars).iter().any(|s| s.start == start.timestamp());
    if !offered || start.timestamp_subsec_nanos() != 0 {
        let why = if start.timestamp_subsec_nanos() != 0 {
            Some(NotOffered::NotOnWholeMinute)
        } else {
            calendars.first().and_then(|calendar| why_not_offered(&query, calendar, start.timestamp()))
        };
        return Err(match why {
            Some(why) => Error::NotBookable {
                rule: why.rule(),
                message: format!("the requested start is not bookable: {}; ask ListAvailableSlots", why.describe()),
            },
            None => not_bookable("the requested start is not a bookable slot; ask ListAvailableSlots"),
        });
    }
    let end = start + chrono::Duration::minutes(rules.duration);
    let (block_start, block_end) = rules.blocked_range(start.timestamp());
    let placement = Placement {
        staff_id,
        start,
        end,
        block_start: DateTime::from_timestamp(block_start, 0).unwrap_or(start),
        block_end: DateTime::from_timestamp(block_end, 0).unwrap_or(end),
    };
    Ok(BookableSlot { branch, service, placement })
}

/// Unless the tenant allows one customer's appointments to overlap: locks the
/// customer exclusively, unless `locked` says the caller did (so concurrent
/// bookings of one customer serialize), and refuses `[start, end)` when
/// another live appointment of theirs (other than `except`, the one being
/// moved) overlaps it. Checked in the booking's own transaction, with its
/// commit, so the database decides as for the staff member's time.
pub async fn ensure_customer_free(
    tx: &TenantTx,
    config: &TenantConfig,
    customer_id: Uuid,
    span: (DateTime<Utc>, DateTime<Utc>),
    except: Option<Uuid>,
    locked: bool,
) -> Result<()> {
    if config.allow_overlapping_customer_appointments {
        return Ok(());
    }
    if !locked {
        crate::store::customers::lock_for_new_appointment(tx, customer_id).await?;
    }
    crate::store::appointments::refuse_overlap_of_customer_at_commit(tx, customer_id, span, except);
    Ok(())
}

/// Attaches up to three free alternatives (any staff offering the service,
/// from `start` on) to a SLOT_TAKEN error; other errors pass through.
pub async fn with_alternatives(
    ops: &Operations,
    tenant: TenantId,
    branch_id: Uuid,
    service_id: Uuid,
    start: DateTime<Utc>,
    err: Error,
) -> Error {
    if !matches!(err, Error::SlotTaken { .. }) {
        return err;
    }
    match alternatives(ops, tenant, branch_id, service_id, start).await {
        Ok(alternatives) => Error::SlotTaken { alternatives },
        // Alternatives are a courtesy: failing to find them keeps the real answer.
        Err(_) => Error::SlotTaken { alternatives: Vec::new() },
    }
}

async fn alternatives(
    ops: &Operations,
    tenant: TenantId,
    branch_id: Uuid,
    service_id: Uuid,
    start: DateTime<Utc>,
) -> Result<Vec<AlternativeSlot>> {
    let now = Utc::now();
    let config = ops.store.tenant_config(tenant).await?;
    let branch = config.branch(branch_id)?;
    let service = config.service(service_id)?;
    let staff_ids = config.offering(branch_id, service_id);
    let to = start + chrono::Duration::days(ALTERNATIVES_WINDOW_DAYS);
    let calendars = calendar::load(&ops.store, tenant, &config, &staff_ids, start, to, now).await?;
    let tz = time_zone(branch)?;
    let query = SlotQuery {
        time_zone: tz.clone(),
        from: start.timestamp(),
        to: to.timestamp(),
        now: now.timestamp(),
        rules: rules(service),
    };
    Ok(available_slots(&query, &calendars)
        .into_iter()
        .take(MAX_ALTERNATIVES)
        .map(|slot| AlternativeSlot {
            start_time: DateTime::from_timestamp(slot.start, 0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
            local_start_time: rfc3339_local(&tz, slot.start),
            staff_id: slot.staff_id.to_string(),
        })
        .collect())
}
