//! Slot holds: a slot kept for a caller (the voice agent's call id is the
//! hold key) while the agent talks, claimed like an appointment until it
//! expires, is released, or is handed over to an appointment.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Operations;
use super::bookable::{check_bookable, with_alternatives};
use super::idempotency::{create_once, fingerprint, validate_request_id};
use crate::convert::{availability::hold as hold_proto, instant};
use crate::domain::ids::{BranchId, ServiceId, StaffId, TenantId};
use crate::domain::validate::Violations;
use crate::error::{Error, Result};
use crate::proto::availability::v1 as pb;
use crate::store::entities::hold;
use crate::store::slot_claims::{self, Claim, ClaimKind};
use crate::store::{TenantTx, holds, now};

const DEFAULT_TTL_SECONDS: i64 = 5 * 60;
const MAX_TTL_SECONDS: i64 = 30 * 60;

/// Caps on holds, so no caller can hoard a tenant's calendar: a hold lives
/// at most `max_lifetime` from its creation however often it is extended,
/// and a hold key (one call), an API key and a tenant each keep at most so
/// many live holds. The counts are read in the hold's transaction; holds made
/// at the same instant on PostgreSQL may pass one cap together by at most
/// their number (a firm cap would serialize every tenant's holds).
#[derive(Debug, Clone, Copy)]
pub struct HoldLimits {
    pub max_lifetime: chrono::Duration,
    pub per_hold_key: u32,
    pub per_api_key: u32,
    pub per_tenant: u32,
}

impl HoldLimits {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            // At least a minute: a shorter lifetime would refuse every hold.
            max_lifetime: chrono::Duration::seconds(config.hold_max_lifetime_secs.clamp(60, 366 * 86_400) as i64),
            per_hold_key: config.hold_limit_per_hold_key,
            per_api_key: config.hold_limit_per_api_key,
            per_tenant: config.hold_limit_per_tenant,
        }
    }

    /// Refuses a new hold when one of the caps is reached.
    fn check(&self, live: holds::LiveHolds) -> Result<()> {
        let caps = [
            (live.of_hold_key, self.per_hold_key, "hold_key", "this hold key (call)"),
            (live.of_api_key, self.per_api_key, "api_key", "this API key"),
            (live.in_tenant, self.per_tenant, "tenant", "this tenant"),
        ];
        for (count, cap, subject, whose) in caps {
            if count >= i64::from(cap) {
                return Err(Error::LimitReached {
                    reason: "HOLD_LIMIT_REACHED",
                    subject,
                    limit: u64::from(cap),
                    message: format!(
                        "{whose} already has {count} live hold(s), the most allowed is {cap}; \
                         book or release one first"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The expiry `ttl` from `at` of a hold made at `created`: an asked-for
    /// TTL past the hold's total lifetime is refused, the default TTL is
    /// shortened to it (and refused once nothing is left of it).
    fn expiry(&self, created: DateTime<Utc>, at: DateTime<Utc>, ttl: Ttl) -> Result<DateTime<Utc>> {
        let end_of_life = created + self.max_lifetime;
        let new_expiry = match ttl {
            Ttl::Asked(seconds) => at + chrono::Duration::seconds(seconds),
            Ttl::Default => (at + chrono::Duration::seconds(DEFAULT_TTL_SECONDS)).min(end_of_life),
        };
        if new_expiry > end_of_life || new_expiry <= at {
            return Err(Error::LimitReached {
                reason: "HOLD_LIFETIME_EXCEEDED",
                subject: "hold_lifetime",
                limit: u64::try_from(self.max_lifetime.num_seconds()).unwrap_or(0),
                message: format!(
                    "a hold lives at most {} s from its creation; it can be extended to {} at the latest",
                    self.max_lifetime.num_seconds(),
                    end_of_life.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            });
        }
        Ok(new_expiry)
    }
}

/// A hold's time to live: asked for in the request, or the default.
#[derive(Debug, Clone, Copy)]
enum Ttl {
    Asked(i64),
    Default,
}

impl Default for HoldLimits {
    fn default() -> Self {
        Self::from_config(&crate::config::Config::default())
    }
}

/// A validated HoldSlot request.
pub struct HoldRequest {
    request_id: String,
    fingerprint: Vec<u8>,
    branch_id: BranchId,
    service_id: ServiceId,
    staff_id: StaffId,
    start: DateTime<Utc>,
    hold_key: String,
    ttl: Ttl,
    api_key_id: Uuid,
}

impl HoldRequest {
    /// `api_key_id`: the key the caller authenticated with (counted by the
    /// per-key cap).
    pub fn decode(req: pb::HoldSlotRequest, api_key_id: Uuid) -> Result<Self> {
        let mut v = Violations::new();
        if req.request_id.is_empty() {
            v.add("request_id", "is required");
        }
        let branch_id = v.take_err(BranchId::parse("branch_id", &req.branch_id));
        let service_id = v.take_err(ServiceId::parse("service_id", &req.service_id));
        let staff_id = v.take_err(StaffId::parse("staff_id", &req.staff_id));
        let start = req.start_time.as_ref().and_then(instant);
        if start.is_none() {
            v.add("start_time", "is required");
        }
        validate_hold_key(&mut v, "hold_key", &req.hold_key);
        let ttl = ttl_of(&mut v, req.ttl.as_ref());
        v.finish()?;
        validate_request_id(&req.request_id)?;
        let (Some(branch_id), Some(service_id), Some(staff_id), Some(start)) = (branch_id, service_id, staff_id, start)
        else {
            return Err(Error::Internal("validated fields missing".into()));
        };
        let fingerprint = fingerprint(&pb::HoldSlotRequest { request_id: String::new(), ..req.clone() });
        Ok(Self {
            request_id: req.request_id,
            fingerprint,
            branch_id,
            service_id,
            staff_id,
            start,
            hold_key: req.hold_key,
            ttl,
            api_key_id,
        })
    }
}

/// Holds a bookable, free slot; a taken one answers SLOT_TAKEN with alternatives.
pub async fn hold(ops: &Operations, tenant: TenantId, req: HoldRequest) -> Result<pb::HoldSlotResponse> {
    let config = ops.store.tenant_config(tenant).await?;
    let result = ops
        .store
        .write_with(tenant, async |tx| {
            let at = now();
            create_once(tx, "HoldSlot", &req.request_id, &req.fingerprint, async {
                let expire_time = ops.hold_limits.expiry(at, at, req.ttl)?;
                ops.hold_limits.check(holds::live_counts(tx, &req.hold_key, req.api_key_id, at).await?)?;
                let slot =
                    check_bookable(tx, &config, req.branch_id.0, req.service_id.0, req.staff_id.0, req.start, at)
                        .await?;
                let id = Uuid::now_v7();
                let claim = Claim {
                    id,
                    staff_id: slot.placement.staff_id,
                    kind: ClaimKind::Hold,
                    block_start: slot.placement.block_start,
                    block_end: slot.placement.block_end,
                    expire_time: Some(expire_time),
                };
                slot_claims::claim(tx, &claim, at).await?;
                let row = hold::Model {
                    tenant_id: tenant.0,
                    id,
                    branch_id: req.branch_id.0,
                    service_id: req.service_id.0,
                    staff_id: req.staff_id.0,
                    start_time: slot.placement.start,
                    end_time: slot.placement.end,
                    hold_key: req.hold_key.clone(),
                    expire_time,
                    state: holds::ACTIVE.into(),
                    appointment_id: None,
                    create_time: at,
                    update_time: at,
                    api_key_id: Some(req.api_key_id),
                };
                holds::insert(tx, &row).await?;
                Ok(pb::HoldSlotResponse { hold: Some(hold_proto(row, at)) })
            })
            .await
        })
        .await;
    match result {
        Ok(out) => Ok(out),
        Err(err) => Err(with_alternatives(ops, tenant, req.branch_id.0, req.service_id.0, req.start, err).await),
    }
}

/// Gives a live hold of `hold_key` a new expiry, `ttl` from now.
pub async fn extend(
    ops: &Operations,
    tenant: TenantId,
    id: Uuid,
    hold_key: &str,
    ttl: Option<&prost_types::Duration>,
) -> Result<hold::Model> {
    let mut v = Violations::new();
    validate_hold_key(&mut v, "hold_key", hold_key);
    let ttl = ttl_of(&mut v, ttl);
    v.finish()?;
    ops.store
        .write_with(tenant, async |tx| {
            let at = now();
            let mut row = holds::get(tx, id).await?;
            ensure_live_and_owned(&row, hold_key, at)?;
            let expire_time = ops.hold_limits.expiry(row.create_time, at, ttl)?;
            row.expire_time = expire_time;
            row.update_time = at;
            holds::extend(tx, &row, at).await?;
            Ok(row)
        })
        .await
}

/// Releases a hold of `hold_key`; an ended hold is returned as it is
/// (releasing is idempotent).
pub async fn release(ops: &Operations, tenant: TenantId, id: Uuid, hold_key: &str) -> Result<hold::Model> {
    let mut v = Violations::new();
    validate_hold_key(&mut v, "hold_key", hold_key);
    v.finish()?;
    ops.store
        .write_with(tenant, async |tx| {
            let at = now();
            let mut row = holds::get(tx, id).await?;
            ensure_owned(&row, hold_key)?;
            if row.state == holds::ACTIVE && row.expire_time > at {
                give_back(tx, &row, at).await?;
                row.state = holds::RELEASED.into();
                row.update_time = at;
            }
            Ok(row)
        })
        .await
}

/// Releases every active hold of `hold_key` (a call's holds when it ends),
/// inside the caller's transaction. Returns their ids.
pub async fn release_all_of(tx: &TenantTx, hold_key: &str, at: DateTime<Utc>) -> Result<Vec<Uuid>> {
    let active = holds::active_with_key(tx, hold_key).await?;
    let mut released = Vec::with_capacity(active.len());
    for row in active {
        give_back(tx, &row, at).await?;
        released.push(row.id);
    }
    Ok(released)
}

/// The hold ends as released and its time is free again.
async fn give_back(tx: &TenantTx, hold: &hold::Model, at: DateTime<Utc>) -> Result<()> {
    holds::release(tx, hold.id, at).await?;
    slot_claims::release(tx, hold.id, hold.staff_id).await
}

/// A live hold of `hold_key`, read to be booked (or rescheduled onto).
pub async fn live_hold(tx: &TenantTx, id: Uuid, hold_key: &str, at: DateTime<Utc>) -> Result<hold::Model> {
    let hold = holds::get(tx, id).await?;
    ensure_live_and_owned(&hold, hold_key, at)?;
    Ok(hold)
}

/// Hands a live hold's time over to appointment `appointment_id`: the hold's
/// claim gives way (the appointment claims the same time next, in the same
/// transaction) and the hold ends as converted.
pub async fn hand_over(tx: &TenantTx, hold: &hold::Model, appointment_id: Uuid, at: DateTime<Utc>) -> Result<()> {
    slot_claims::release(tx, hold.id, hold.staff_id).await?;
    holds::convert(tx, hold.id, appointment_id, at).await
}

pub fn validate_hold_key(v: &mut Violations, field: &str, key: &str) {
    if key.is_empty() || key.chars().count() > 128 || key.chars().any(char::is_control) {
        v.add(field, "must be 1 to 128 printable characters");
    }
}

fn ttl_of(v: &mut Violations, ttl: Option<&prost_types::Duration>) -> Ttl {
    match ttl {
        None => Ttl::Default,
        Some(d) if d.seconds <= 0 || d.seconds > MAX_TTL_SECONDS || d.nanos != 0 => {
            v.add("ttl", "must be whole seconds, more than 0 and at most 30 minutes");
            Ttl::Default
        }
        Some(d) => Ttl::Asked(d.seconds),
    }
}

/// A hold id from a request.
pub fn parse_hold_id(text: &str) -> Result<Uuid> {
    if text.is_empty() {
        return Err(Error::invalid("id", "is required"));
    }
    Uuid::try_parse(text).map_err(|_| Error::invalid("id", "must be a UUID"))
}

/// Only the holder (the call that made the hold) may use it.
fn ensure_owned(row: &hold::Model, hold_key: &str) -> Result<()> {
    if row.hold_key == hold_key {
        Ok(())
    } else {
        Err(Error::PermissionDenied {
            reason: "HOLD_NOT_OWNED",
            message: "the hold belongs to another hold key".into(),
        })
    }
}

/// The hold is still active and belongs to `hold_key`.
fn ensure_live_and_owned(row: &hold::Model, hold_key: &str, at: DateTime<Utc>) -> Result<()> {
    ensure_owned(row, hold_key)?;
    if row.state != holds::ACTIVE || row.expire_time <= at {
        return Err(Error::HoldExpired { appointment_id: row.appointment_id });
    }
    Ok(())
}
