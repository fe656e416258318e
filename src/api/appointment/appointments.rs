//! CreateAppointment, GetAppointment, ListAppointments, UpdateAppointment,
//! CancelAppointment, RescheduleAppointment, ConfirmAppointment, MarkNoShow,
//! CompleteAppointment.
//!
//! Time is secured by slot claims (see `store::slot_claims`): booking claims
//! the buffered range, cancelling releases it, rescheduling moves it in place
//! so the new time is secured before the old one is freed.
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use tonic::Request;
use uuid::Uuid;

use super::convert;
use crate::api::AppState;
use crate::api::availability::holds::{ensure_live_and_owned, validate_hold_key};
use crate::api::booking::{check_bookable, rules, with_alternatives};
use crate::api::context::tenant_of;
use crate::api::convert::instant;
use crate::api::field_mask::UpdateMask;
use crate::api::idempotency::{create_once, fingerprint, validate_request_id};
use crate::domain::appointment::{Source, Status};
use crate::domain::ids::{BranchId, ServiceId, StaffId, TenantId};
use crate::domain::page::PageRequest;
use crate::domain::phone::PhoneNumber;
use crate::domain::validate::{RegionCode, Violations, free_text, optional_email};
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;
use crate::store::appointments::{self, AppointmentFilter};
use crate::store::customers::{self, NewCustomer};
use crate::store::entities::appointment;
use crate::store::slot_claims::{self, Claim, ClaimKind};
use crate::store::{TenantTx, check_etag, holds, now, retry, services};

/// Where the booked time comes from.
#[derive(Clone)]
enum SlotChoice {
    Hold { id: Uuid, key: String },
    Explicit { branch: Uuid, service: Uuid, staff: Uuid, start: DateTime<Utc> },
}

#[derive(Clone)]
enum CustomerChoice {
    Existing(Uuid),
    New { phone_number: String, display_name: String, email: String },
}

fn parse_uuid(v: &mut Violations, field: &str, text: &str) -> Option<Uuid> {
    if text.is_empty() {
        v.add(field, "is required");
        return None;
    }
    v.take(field, Uuid::try_parse(text).map_err(|_| "must be a UUID"))
}

pub async fn create(
    state: &AppState,
    request: Request<pb::CreateAppointmentRequest>,
) -> Result<pb::CreateAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let mut v = Violations::new();
    if req.request_id.is_empty() {
        v.add("request_id", "is required");
    }
    let slot = match &req.slot {
        None => {
            v.add("slot", "is required: from_hold or explicit_slot");
            None
        }
        Some(pb::create_appointment_request::Slot::FromHold(hold)) => {
            let id = parse_uuid(&mut v, "from_hold.hold_id", &hold.hold_id);
            validate_hold_key(&mut v, "from_hold.hold_key", &hold.hold_key);
            id.map(|id| SlotChoice::Hold { id, key: hold.hold_key.clone() })
        }
        Some(pb::create_appointment_request::Slot::ExplicitSlot(slot)) => {
            let branch = parse_uuid(&mut v, "explicit_slot.branch_id", &slot.branch_id);
            let service = parse_uuid(&mut v, "explicit_slot.service_id", &slot.service_id);
            let staff = parse_uuid(&mut v, "explicit_slot.staff_id", &slot.staff_id);
            let start = slot.start_time.as_ref().and_then(instant);
            if start.is_none() {
                v.add("explicit_slot.start_time", "is required");
            }
            match (branch, service, staff, start) {
                (Some(branch), Some(service), Some(staff), Some(start)) => {
                    Some(SlotChoice::Explicit { branch, service, staff, start })
                }
                _ => None,
            }
        }
    };
    let customer = match &req.customer {
        None => {
            v.add("customer", "is required: customer_id or new_customer");
            None
        }
        Some(pb::create_appointment_request::Customer::CustomerId(id)) => {
            parse_uuid(&mut v, "customer_id", id).map(CustomerChoice::Existing)
        }
        Some(pb::create_appointment_request::Customer::NewCustomer(input)) => {
            if input.phone_number.trim().is_empty() {
                v.add("new_customer.phone_number", "is required");
            }
            let display_name = v.take("new_customer.display_name", free_text(&input.display_name, 200));
            let email = v.take("new_customer.email", optional_email(&input.email));
            Some(CustomerChoice::New {
                phone_number: input.phone_number.clone(),
                display_name: display_name.unwrap_or_default(),
                email: email.unwrap_or_default(),
            })
        }
    };
    let source = match pb::AppointmentSource::try_from(req.source) {
        Ok(pb::AppointmentSource::Unspecified) => Some(Source::PartnerApi),
        Ok(pb::AppointmentSource::PhoneAgent) => Some(Source::PhoneAgent),
        Ok(pb::AppointmentSource::Frontend) => Some(Source::Frontend),
        Ok(pb::AppointmentSource::PartnerApi) => Some(Source::PartnerApi),
        Ok(pb::AppointmentSource::Calcom) | Err(_) => {
            v.add("source", "must be PHONE_AGENT, FRONTEND or PARTNER_API (Cal.com bookings arrive by webhook)");
            None
        }
    };
    let initial = match convert::status_from(req.initial_status) {
        None if req.initial_status == 0 => Some(Status::Confirmed),
        Some(status @ (Status::Pending | Status::Confirmed)) => Some(status),
        _ => {
            v.add("initial_status", "must be PENDING or CONFIRMED");
            None
        }
    };
    let notes = v.take("notes", free_text(&req.notes, 2000));
    if req.call_id.chars().count() > 128 {
        v.add("call_id", "must be at most 128 characters");
    }
    v.finish()?;
    validate_request_id(&req.request_id)?;
    let (Some(slot), Some(customer), Some(source), Some(initial), Some(notes)) =
        (slot, customer, source, initial, notes)
    else {
        return Err(Error::Internal("validated fields missing".into()));
    };

    let fingerprint = fingerprint(&pb::CreateAppointmentRequest { request_id: String::new(), ..req.clone() });
    let created = AtomicBool::new(false);
    let result = retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        let out = create_once(&tx, "CreateAppointment", &req.request_id, &fingerprint, async {
            let id = Uuid::now_v7();
            let booked = secure_slot(&tx, &slot, id, at).await?;
            let customer = resolve_customer(&tx, &customer, &booked.region_code).await?;
            let row = appointment::Model {
                tenant_id: tenant.0,
                id,
                branch_id: booked.branch_id,
                service_id: booked.service_id,
                staff_id: booked.staff_id,
                customer_id: customer.id,
                start_time: booked.start,
                end_time: booked.end,
                status: initial.as_str().into(),
                source: source.as_str().into(),
                notes: notes.clone(),
                cancel_reason: String::new(),
                call_id: req.call_id.clone(),
                external_booking_uid: String::new(),
                revision: 1,
                create_time: at,
                update_time: at,
            };
            appointments::insert(&tx, &row).await?;
            created.store(true, Ordering::Relaxed);
            Ok(pb::CreateAppointmentResponse {
                appointment: Some(convert::appointment(row)),
                customer: Some(convert::customer(customer)),
            })
        })
        .await?;
        tx.commit().await?;
        Ok(out)
    })
    .await;
    match result {
        Ok(out) => {
            if created.load(Ordering::Relaxed)
                && let Some(appointment) = &out.appointment
            {
                state.feed.publish(tenant, pb::AppointmentChange::Created, appointment.clone()).await;
            }
            Ok(out)
        }
        Err(err) => Err(match &slot {
            SlotChoice::Explicit { branch, service, start, .. } => {
                with_alternatives(state, tenant, *branch, *service, *start, err).await
            }
            SlotChoice::Hold { id, .. } => match hold_origin(state, tenant, *id).await {
                Some((branch, service, start)) => with_alternatives(state, tenant, branch, service, start, err).await,
                None => err,
            },
        }),
    }
}

/// Branch, service and start of a hold, to find alternatives after it failed.
async fn hold_origin(state: &AppState, tenant: TenantId, hold_id: Uuid) -> Option<(Uuid, Uuid, DateTime<Utc>)> {
    let tx = state.store.read(tenant).await.ok()?;
    let hold = holds::get(&tx, hold_id).await.ok()?;
    tx.commit().await.ok()?;
    Some((hold.branch_id, hold.service_id, hold.start_time))
}

/// The time an appointment got, and what it needs to know about its branch.
struct Booked {
    branch_id: Uuid,
    service_id: Uuid,
    staff_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    region_code: String,
}

/// Claims the slot for appointment `id`: a live hold of the caller's is
/// converted (its claim handed over in the same transaction); an explicit
/// slot must be bookable and free.
async fn secure_slot(tx: &TenantTx, slot: &SlotChoice, id: Uuid, at: DateTime<Utc>) -> Result<Booked> {
    match slot {
        SlotChoice::Hold { id: hold_id, key } => {
            let hold = holds::get(tx, *hold_id).await?;
            ensure_live_and_owned(&hold, key, at)?;
            let service = services::get(tx, ServiceId(hold.service_id)).await?;
            let branch = crate::store::branches::get(tx, BranchId(hold.branch_id)).await?.row;
            let (block_start, block_end) = rules(&service).blocked_range(hold.start_time.timestamp());
            slot_claims::release(tx, hold.id).await?;
            let claim = Claim {
                id,
                staff_id: hold.staff_id,
                kind: ClaimKind::Appointment,
                block_start: DateTime::from_timestamp(block_start, 0).unwrap_or(hold.start_time),
                block_end: DateTime::from_timestamp(block_end, 0).unwrap_or(hold.end_time),
                expire_time: None,
            };
            slot_claims::claim(tx, &claim, at).await?;
            holds::convert(tx, hold.id, id, at).await?;
            Ok(Booked {
                branch_id: hold.branch_id,
                service_id: hold.service_id,
                staff_id: hold.staff_id,
                start: hold.start_time,
                end: hold.end_time,
                region_code: branch.region_code,
            })
        }
        SlotChoice::Explicit { branch, service, staff, start } => {
            let slot = check_bookable(tx, *branch, *service, *staff, *start, at).await?;
            let claim = Claim {
                id,
                staff_id: slot.staff_id,
                kind: ClaimKind::Appointment,
                block_start: slot.block_start,
                block_end: slot.block_end,
                expire_time: None,
            };
            slot_claims::claim(tx, &claim, at).await?;
            Ok(Booked {
                branch_id: *branch,
                service_id: *service,
                staff_id: *staff,
                start: slot.start,
                end: slot.end,
                region_code: slot.branch.region_code,
            })
        }
    }
}

async fn resolve_customer(
    tx: &TenantTx,
    choice: &CustomerChoice,
    region_code: &str,
) -> Result<crate::store::entities::customer::Model> {
    match choice {
        CustomerChoice::Existing(id) => customers::get(tx, *id).await,
        CustomerChoice::New { phone_number, display_name, email } => {
            let region = RegionCode::parse(region_code).map_err(|e| Error::Internal(e.into()))?;
            let phone = PhoneNumber::parse(phone_number, &region)
                .map_err(|description| Error::invalid("new_customer.phone_number", description))?;
            let new = NewCustomer {
                phone_number: phone.as_str().to_owned(),
                display_name: display_name.clone(),
                email: email.clone(),
                notes: String::new(),
            };
            Ok(customers::find_or_create(tx, new).await?.0)
        }
    }
}

fn parse_id(text: &str) -> Result<Uuid> {
    let mut v = Violations::new();
    let id = parse_uuid(&mut v, "id", text);
    v.finish()?;
    id.ok_or_else(|| Error::invalid("id", "is required"))
}

pub async fn get(state: &AppState, request: Request<pb::GetAppointmentRequest>) -> Result<pb::GetAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let id = parse_id(&request.get_ref().id)?;
    let tx = state.store.read(tenant).await?;
    let row = appointments::get(&tx, id).await?;
    tx.commit().await?;
    Ok(pb::GetAppointmentResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn list(
    state: &AppState,
    request: Request<pb::ListAppointmentsRequest>,
) -> Result<pb::ListAppointmentsResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let mut v = Violations::new();
    let mut filter = AppointmentFilter::default();
    if let Some(range) = &req.time_range {
        filter.from = range.start_time.as_ref().and_then(instant);
        filter.to = range.end_time.as_ref().and_then(instant);
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && to <= from
        {
            v.add("time_range.end_time", "must be after start_time");
        }
    }
    filter.staff_ids = req
        .staff_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| v.take_err(StaffId::parse(&format!("staff_ids[{i}]"), id)))
        .map(|id| id.0)
        .collect();
    if !req.customer_id.is_empty() {
        filter.customer_id = parse_uuid(&mut v, "customer_id", &req.customer_id);
    }
    if !req.branch_id.is_empty() {
        filter.branch_id = v.take_err(BranchId::parse("branch_id", &req.branch_id)).map(|b| b.0);
    }
    for (i, status) in req.statuses.iter().enumerate() {
        match convert::status_from(*status) {
            Some(status) => filter.statuses.push(status.as_str().into()),
            None => v.add(format!("statuses[{i}]"), "is not a status"),
        }
    }
    v.finish()?;
    let filter_text = format!(
        "appointments;{:?};{:?};{:?};{:?};{:?};{:?}",
        filter.from, filter.to, filter.staff_ids, filter.customer_id, filter.branch_id, filter.statuses
    );
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, &filter_text)?;
    let after = page.after_key().and_then(|(micros, id)| Some((DateTime::from_timestamp_micros(micros)?, id)));
    let tx = state.store.read(tenant).await?;
    let mut rows = appointments::list(&tx, &filter, after, page.fetch_limit()).await?;
    tx.commit().await?;
    let next_page_token = if rows.len() as u64 > page.size {
        rows.truncate(page.size as usize);
        rows.last().map(|r| page.token_for_key(r.start_time.timestamp_micros(), r.id)).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(pb::ListAppointmentsResponse {
        appointments: rows.into_iter().map(convert::appointment).collect(),
        next_page_token,
    })
}

pub async fn update(
    state: &AppState,
    request: Request<pb::UpdateAppointmentRequest>,
) -> Result<pb::UpdateAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let input = req.appointment.unwrap_or_default();
    let mut v = Violations::new();
    let id = parse_uuid(&mut v, "appointment.id", &input.id);
    let _mask = UpdateMask::parse(req.update_mask.as_ref(), &["notes"])?;
    let notes = v.take("appointment.notes", free_text(&input.notes, 2000));
    v.finish()?;
    let (Some(id), Some(notes)) = (id, notes) else { return Err(Error::Internal("validated fields missing".into())) };
    let row = change(state, tenant, id, &input.etag, |row, _| {
        row.notes = notes.clone();
        Ok(true)
    })
    .await?;
    Ok(pb::UpdateAppointmentResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn cancel(
    state: &AppState,
    request: Request<pb::CancelAppointmentRequest>,
) -> Result<pb::CancelAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = parse_id(&req.id)?;
    validate_request_id(&req.request_id)?;
    let reason = free_text(&req.reason, 500).map_err(|d| Error::invalid("reason", d))?;
    let fingerprint = fingerprint(&pb::CancelAppointmentRequest { request_id: String::new(), ..req.clone() });
    let changed = AtomicBool::new(false);
    let out = retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        let out = create_once(&tx, "CancelAppointment", &req.request_id, &fingerprint, async {
            let current = appointments::get(&tx, id).await?;
            check_etag(&req.etag, current.revision)?;
            let mut next = current.clone();
            next.status = transition(&current, Status::Cancelled)?.as_str().into();
            next.cancel_reason = reason.clone();
            next.revision += 1;
            next.update_time = at;
            appointments::save_revision(&tx, &current, &next).await?;
            slot_claims::release(&tx, id).await?;
            changed.store(true, Ordering::Relaxed);
            Ok(pb::CancelAppointmentResponse { appointment: Some(convert::appointment(next)) })
        })
        .await?;
        tx.commit().await?;
        Ok(out)
    })
    .await?;
    if changed.load(Ordering::Relaxed)
        && let Some(appointment) = &out.appointment
    {
        state.feed.publish(tenant, pb::AppointmentChange::Cancelled, appointment.clone()).await;
    }
    Ok(out)
}

pub async fn reschedule(
    state: &AppState,
    request: Request<pb::RescheduleAppointmentRequest>,
) -> Result<pb::RescheduleAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let mut v = Violations::new();
    let id = parse_uuid(&mut v, "id", &req.id);
    let new_staff = if req.staff_id.is_empty() { None } else { parse_uuid(&mut v, "staff_id", &req.staff_id) };
    let start = req.start_time.as_ref().and_then(instant);
    if start.is_none() && req.hold.is_none() {
        v.add("start_time", "is required unless a hold is given");
    }
    let hold = req.hold.as_ref().and_then(|h| {
        validate_hold_key(&mut v, "hold.hold_key", &h.hold_key);
        parse_uuid(&mut v, "hold.hold_id", &h.hold_id).map(|hold_id| (hold_id, h.hold_key.clone()))
    });
    v.finish()?;
    validate_request_id(&req.request_id)?;
    let Some(id) = id else { return Err(Error::Internal("validated fields missing".into())) };
    let fingerprint = fingerprint(&pb::RescheduleAppointmentRequest { request_id: String::new(), ..req.clone() });
    let changed = AtomicBool::new(false);
    let previous_staff = std::sync::Mutex::new(None::<Uuid>);
    let result = retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        let out = create_once(&tx, "RescheduleAppointment", &req.request_id, &fingerprint, async {
            let current = appointments::get(&tx, id).await?;
            check_etag(&req.etag, current.revision)?;
            let status: Status = current.status.parse().map_err(Error::Internal)?;
            if !status.is_active() {
                return Err(illegal(status, "rescheduled"));
            }
            let mut next = current.clone();
            match &hold {
                Some((hold_id, key)) => {
                    let hold = holds::get(&tx, *hold_id).await?;
                    ensure_live_and_owned(&hold, key, at)?;
                    if start.is_some_and(|s| s != hold.start_time) {
                        return Err(Error::invalid("start_time", "must be empty or equal the hold's start time"));
                    }
                    if new_staff.is_some_and(|s| s != hold.staff_id) {
                        return Err(Error::invalid("staff_id", "must be empty or equal the hold's staff member"));
                    }
                    if hold.branch_id != current.branch_id || hold.service_id != current.service_id {
                        return Err(Error::FailedPrecondition {
                            reason: "FAILED_PRECONDITION",
                            message: "the hold is for another branch or service".into(),
                        });
                    }
                    let service = services::get(&tx, ServiceId(current.service_id)).await?;
                    let (bs, be) = rules(&service).blocked_range(hold.start_time.timestamp());
                    // The hold's claim gives way to the appointment's, moved in place.
                    slot_claims::release(&tx, hold.id).await?;
                    slot_claims::move_claim(&tx, id, hold.staff_id, ts(bs), ts(be), at).await?;
                    holds::convert(&tx, hold.id, id, at).await?;
                    next.staff_id = hold.staff_id;
                    next.start_time = hold.start_time;
                    next.end_time = hold.end_time;
                }
                None => {
                    let staff = new_staff.unwrap_or(current.staff_id);
                    let start = start.ok_or_else(|| Error::invalid("start_time", "is required"))?;
                    let slot = check_bookable(&tx, current.branch_id, current.service_id, staff, start, at).await?;
                    slot_claims::move_claim(&tx, id, staff, slot.block_start, slot.block_end, at).await?;
                    next.staff_id = staff;
                    next.start_time = slot.start;
                    next.end_time = slot.end;
                }
            }
            next.revision += 1;
            next.update_time = at;
            appointments::save_revision(&tx, &current, &next).await?;
            changed.store(true, Ordering::Relaxed);
            if let Ok(mut previous) = previous_staff.lock() {
                *previous = Some(current.staff_id);
            }
            Ok(pb::RescheduleAppointmentResponse { appointment: Some(convert::appointment(next)) })
        })
        .await?;
        tx.commit().await?;
        Ok(out)
    })
    .await;
    match result {
        Ok(out) => {
            if changed.load(Ordering::Relaxed)
                && let Some(appointment) = &out.appointment
            {
                state
                    .feed
                    .publish_moved(tenant, appointment.clone(), previous_staff.lock().ok().and_then(|p| *p))
                    .await;
            }
            Ok(out)
        }
        Err(err @ Error::SlotTaken { .. }) => {
            // Alternatives need the appointment's branch and service.
            let tx = state.store.read(tenant).await?;
            let current = appointments::get(&tx, id).await?;
            tx.commit().await?;
            let from = start.unwrap_or(current.start_time);
            Err(with_alternatives(state, tenant, current.branch_id, current.service_id, from, err).await)
        }
        Err(err) => Err(err),
    }
}

pub async fn confirm(
    state: &AppState,
    request: Request<pb::ConfirmAppointmentRequest>,
) -> Result<pb::ConfirmAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let row = set_status(state, tenant, &req.id, &req.etag, Status::Confirmed, false).await?;
    Ok(pb::ConfirmAppointmentResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn mark_no_show(state: &AppState, request: Request<pb::MarkNoShowRequest>) -> Result<pb::MarkNoShowResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let row = set_status(state, tenant, &req.id, &req.etag, Status::NoShow, true).await?;
    Ok(pb::MarkNoShowResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn complete(
    state: &AppState,
    request: Request<pb::CompleteAppointmentRequest>,
) -> Result<pb::CompleteAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let row = set_status(state, tenant, &req.id, &req.etag, Status::Completed, true).await?;
    Ok(pb::CompleteAppointmentResponse { appointment: Some(convert::appointment(row)) })
}

/// Moves an appointment to `to`. Already there: returned unchanged, whatever
/// the etag (a retried call). `after_start`: only once the appointment began.
async fn set_status(
    state: &AppState,
    tenant: TenantId,
    id: &str,
    etag: &str,
    to: Status,
    after_start: bool,
) -> Result<appointment::Model> {
    let id = parse_id(id)?;
    change(state, tenant, id, etag, |row, at| {
        let from: Status = row.status.parse().map_err(Error::Internal)?;
        if from == to {
            return Ok(false);
        }
        transition(row, to)?;
        if after_start && at < row.start_time {
            return Err(Error::FailedPrecondition {
                reason: "FAILED_PRECONDITION",
                message: format!("an appointment can be marked {to} only after it started"),
            });
        }
        row.status = to.as_str().into();
        Ok(true)
    })
    .await
}

/// Loads, edits and saves one appointment with optimistic concurrency.
/// `edit` returns whether it changed anything; unchanged rows skip the etag
/// check and the write.
async fn change(
    state: &AppState,
    tenant: TenantId,
    id: Uuid,
    etag: &str,
    edit: impl Fn(&mut appointment::Model, DateTime<Utc>) -> Result<bool>,
) -> Result<appointment::Model> {
    let (row, changed) = retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        let current = appointments::get(&tx, id).await?;
        let mut next = current.clone();
        if !edit(&mut next, at)? {
            return Ok((current, false));
        }
        check_etag(etag, current.revision)?;
        next.revision += 1;
        next.update_time = at;
        appointments::save_revision(&tx, &current, &next).await?;
        tx.commit().await?;
        Ok((next, true))
    })
    .await?;
    if changed {
        state.feed.publish(tenant, pb::AppointmentChange::Updated, convert::appointment(row.clone())).await;
    }
    Ok(row)
}

fn transition(row: &appointment::Model, to: Status) -> Result<Status> {
    let from: Status = row.status.parse().map_err(Error::Internal)?;
    from.transition(to).map_err(|_| illegal(from, &format!("changed to {to}")))
}

fn illegal(from: Status, what: &str) -> Error {
    Error::FailedPrecondition {
        reason: "ILLEGAL_STATE_TRANSITION",
        message: format!("a {from} appointment cannot be {what}"),
    }
}

fn ts(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}
