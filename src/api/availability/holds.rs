//! HoldSlot, GetHold, ExtendHold, ReleaseHold: a slot kept for a caller while
//! the voice agent talks, claimed like an appointment until it expires.
use chrono::{DateTime, Utc};
use tonic::Request;
use uuid::Uuid;

use crate::api::AppState;
use crate::api::booking::{check_bookable, with_alternatives};
use crate::api::context::tenant_of;
use crate::api::convert::{instant, timestamp};
use crate::api::idempotency::{create_once, fingerprint, validate_request_id};
use crate::domain::ids::{BranchId, ServiceId, StaffId};
use crate::domain::validate::Violations;
use crate::error::{Error, Result};
use crate::proto::availability::v1 as pb;
use crate::store::entities::hold;
use crate::store::slot_claims::{self, Claim, ClaimKind};
use crate::store::{holds, now, retry};

const DEFAULT_TTL_SECONDS: i64 = 5 * 60;
const MAX_TTL_SECONDS: i64 = 30 * 60;

pub fn to_proto(row: hold::Model, now: DateTime<Utc>) -> pb::Hold {
    let state = match row.state.as_str() {
        holds::RELEASED => pb::HoldState::Released,
        holds::CONVERTED => pb::HoldState::Converted,
        _ if row.expire_time <= now => pb::HoldState::Expired,
        _ => pb::HoldState::Active,
    };
    pb::Hold {
        id: row.id.to_string(),
        service_id: row.service_id.to_string(),
        staff_id: row.staff_id.to_string(),
        branch_id: row.branch_id.to_string(),
        start_time: Some(timestamp(row.start_time)),
        end_time: Some(timestamp(row.end_time)),
        hold_key: row.hold_key,
        expire_time: Some(timestamp(row.expire_time)),
        create_time: Some(timestamp(row.create_time)),
        state: state as i32,
        appointment_id: row.appointment_id.map(|id| id.to_string()).unwrap_or_default(),
    }
}

pub fn validate_hold_key(v: &mut Violations, field: &str, key: &str) {
    if key.is_empty() || key.chars().count() > 128 || key.chars().any(char::is_control) {
        v.add(field, "must be 1 to 128 printable characters");
    }
}

fn ttl_seconds(v: &mut Violations, ttl: Option<&prost_types::Duration>) -> i64 {
    match ttl {
        None => DEFAULT_TTL_SECONDS,
        Some(d) if d.seconds <= 0 || d.seconds > MAX_TTL_SECONDS || d.nanos != 0 => {
            v.add("ttl", "must be whole seconds, more than 0 and at most 30 minutes");
            DEFAULT_TTL_SECONDS
        }
        Some(d) => d.seconds,
    }
}

pub async fn hold(state: &AppState, request: Request<pb::HoldSlotRequest>) -> Result<pb::HoldSlotResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
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
    let ttl = ttl_seconds(&mut v, req.ttl.as_ref());
    v.finish()?;
    validate_request_id(&req.request_id)?;
    let (Some(branch_id), Some(service_id), Some(staff_id), Some(start)) = (branch_id, service_id, staff_id, start)
    else {
        return Err(Error::Internal("validated fields missing".into()));
    };
    let fingerprint = fingerprint(&pb::HoldSlotRequest { request_id: String::new(), ..req.clone() });
    let result = retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        let out = create_once(&tx, "HoldSlot", &req.request_id, &fingerprint, async {
            let slot = check_bookable(&tx, branch_id.0, service_id.0, staff_id.0, start, at).await?;
            let expire_time = at + chrono::Duration::seconds(ttl);
            let id = Uuid::now_v7();
            let claim = Claim {
                id,
                staff_id: slot.staff_id,
                kind: ClaimKind::Hold,
                block_start: slot.block_start,
                block_end: slot.block_end,
                expire_time: Some(expire_time),
            };
            slot_claims::claim(&tx, &claim, at).await?;
            let row = hold::Model {
                tenant_id: tenant.0,
                id,
                branch_id: branch_id.0,
                service_id: service_id.0,
                staff_id: staff_id.0,
                start_time: slot.start,
                end_time: slot.end,
                hold_key: req.hold_key.clone(),
                expire_time,
                state: holds::ACTIVE.into(),
                appointment_id: None,
                create_time: at,
                update_time: at,
            };
            holds::insert(&tx, &row).await?;
            Ok(pb::HoldSlotResponse { hold: Some(to_proto(row, at)) })
        })
        .await?;
        tx.commit().await?;
        Ok(out)
    })
    .await;
    match result {
        Ok(out) => Ok(out),
        Err(err) => Err(with_alternatives(state, tenant, branch_id.0, service_id.0, start, err).await),
    }
}

pub async fn get(state: &AppState, request: Request<pb::GetHoldRequest>) -> Result<pb::GetHoldResponse> {
    let tenant = tenant_of(&request)?;
    let id = parse_hold_id(&request.get_ref().id)?;
    let row = state.store.read_with(tenant, async |tx| holds::get(tx, id).await).await?;
    Ok(pb::GetHoldResponse { hold: Some(to_proto(row, now())) })
}

pub async fn extend(state: &AppState, request: Request<pb::ExtendHoldRequest>) -> Result<pb::ExtendHoldResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = parse_hold_id(&req.id)?;
    let mut v = Violations::new();
    validate_hold_key(&mut v, "hold_key", &req.hold_key);
    let ttl = ttl_seconds(&mut v, req.ttl.as_ref());
    v.finish()?;
    let row = retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        let mut row = holds::get(&tx, id).await?;
        ensure_live_and_owned(&row, &req.hold_key, at)?;
        row.expire_time = at + chrono::Duration::seconds(ttl);
        row.update_time = at;
        holds::extend(&tx, id, row.expire_time, at).await?;
        tx.commit().await?;
        Ok(row)
    })
    .await?;
    Ok(pb::ExtendHoldResponse { hold: Some(to_proto(row, now())) })
}

pub async fn release(state: &AppState, request: Request<pb::ReleaseHoldRequest>) -> Result<pb::ReleaseHoldResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = parse_hold_id(&req.id)?;
    let mut v = Violations::new();
    validate_hold_key(&mut v, "hold_key", &req.hold_key);
    v.finish()?;
    let row = retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        let mut row = holds::get(&tx, id).await?;
        ensure_owned(&row, &req.hold_key)?;
        // Releasing is idempotent: an ended hold is returned as it is.
        if row.state == holds::ACTIVE && row.expire_time > at {
            slot_claims::release(&tx, id).await?;
            holds::release(&tx, id, at).await?;
            row.state = holds::RELEASED.into();
            row.update_time = at;
        }
        tx.commit().await?;
        Ok(row)
    })
    .await?;
    Ok(pb::ReleaseHoldResponse { hold: Some(to_proto(row, now())) })
}

fn parse_hold_id(text: &str) -> Result<Uuid> {
    if text.is_empty() {
        return Err(Error::invalid("id", "is required"));
    }
    Uuid::try_parse(text).map_err(|_| Error::invalid("id", "must be a UUID"))
}

/// Only the holder (the call that made the hold) may use it.
pub fn ensure_owned(row: &hold::Model, hold_key: &str) -> Result<()> {
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
pub fn ensure_live_and_owned(row: &hold::Model, hold_key: &str, at: DateTime<Utc>) -> Result<()> {
    ensure_owned(row, hold_key)?;
    if row.state != holds::ACTIVE || row.expire_time <= at {
        return Err(Error::FailedPrecondition {
            reason: "HOLD_EXPIRED",
            message: "the hold has expired, was released or was already booked".into(),
        });
    }
    Ok(())
}
