//! CreateAppointment: from a live hold of the caller or an explicit slot,
//! for an existing customer or one found or created by phone number.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use tonic::Request;
use uuid::Uuid;

use super::parse_uuid;
use crate::api::AppState;
use crate::api::appointment::convert;
use crate::api::availability::holds::{ensure_live_and_owned, validate_hold_key};
use crate::api::booking::{check_bookable, rules, with_alternatives};
use crate::api::context::tenant_of;
use crate::api::convert::instant;
use crate::api::events;
use crate::api::idempotency::{create_once, fingerprint, validate_request_id};
use crate::domain::appointment::{Source, Status};
use crate::domain::ids::{BranchId, ServiceId, TenantId};
use crate::domain::phone::PhoneNumber;
use crate::domain::validate::{RegionCode, Violations, free_text, optional_email};
use crate::domain::webhook::EventType;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;
use crate::store::appointments::{self};
use crate::store::customers::{self, NewCustomer};
use crate::store::entities::appointment;
use crate::store::slot_claims::{self, Claim, ClaimKind};
use crate::store::{TenantTx, holds, now, retry, services};

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
            let (customer, customer_is_new) = resolve_customer(&tx, &customer, &booked.region_code).await?;
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
            let (appointment, customer) = (convert::appointment(row), convert::customer(customer));
            if customer_is_new {
                events::customer(&tx, EventType::CustomerCreated, &customer).await?;
            }
            events::appointment(&tx, EventType::AppointmentCreated, &appointment).await?;
            created.store(true, Ordering::Relaxed);
            Ok(pb::CreateAppointmentResponse { appointment: Some(appointment), customer: Some(customer) })
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

/// The booking's customer, and whether this booking created it.
async fn resolve_customer(
    tx: &TenantTx,
    choice: &CustomerChoice,
    region_code: &str,
) -> Result<(crate::store::entities::customer::Model, bool)> {
    match choice {
        CustomerChoice::Existing(id) => Ok((customers::get_for_booking(tx, *id).await?, false)),
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
            customers::find_or_create(tx, new).await
        }
    }
}
