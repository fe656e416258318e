//! Booking: an appointment from a live hold of the caller or from an
//! explicit slot, for an existing customer or one found or created by phone
//! number (CreateAppointment; later the voice-agent tools).
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{NewAppointment, claim_time, record_new};
use crate::convert::appointment::status_from;
use crate::convert::instant;
use crate::domain::appointment::{Source, Status};
use crate::domain::ids::TenantId;
use crate::domain::phone::PhoneNumber;
use crate::domain::validate::{RegionCode, Violations, free_text, optional_email};
use crate::error::{Error, Result};
use crate::operations::bookable::{Placement, check_bookable, ensure_customer_free, rules, with_alternatives};
use crate::operations::holds::{hand_over, live_hold, validate_hold_key};
use crate::operations::idempotency::{create_once, fingerprint, validate_request_id};
use crate::operations::{Operations, customers};
use crate::proto::appointment::v1 as pb;
use crate::store::entities::customer;
use crate::store::{TenantConfig, TenantTx, holds, now};

/// Where the booked time comes from.
#[derive(Clone)]
enum SlotChoice {
    Hold { id: Uuid, key: String },
    Explicit { branch: Uuid, service: Uuid, staff: Uuid, start: DateTime<Utc> },
}

/// Whom the appointment is for.
#[derive(Clone)]
enum CustomerChoice {
    Existing(Uuid),
    New { phone_number: String, display_name: String, email: String },
}

/// A validated CreateAppointment request.
pub struct BookRequest {
    request_id: String,
    fingerprint: Vec<u8>,
    slot: SlotChoice,
    customer: CustomerChoice,
    source: Source,
    initial_status: Status,
    notes: String,
    call_id: String,
}

impl BookRequest {
    pub fn decode(req: pb::CreateAppointmentRequest) -> Result<Self> {
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
                let id = v.uuid("from_hold.hold_id", &hold.hold_id);
                validate_hold_key(&mut v, "from_hold.hold_key", &hold.hold_key);
                id.map(|id| SlotChoice::Hold { id, key: hold.hold_key.clone() })
            }
            Some(pb::create_appointment_request::Slot::ExplicitSlot(slot)) => {
                let branch = v.uuid("explicit_slot.branch_id", &slot.branch_id);
                let service = v.uuid("explicit_slot.service_id", &slot.service_id);
                let staff = v.uuid("explicit_slot.staff_id", &slot.staff_id);
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
                v.uuid("customer_id", id).map(CustomerChoice::Existing)
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
        let initial = match status_from(req.initial_status) {
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
        let (Some(slot), Some(customer), Some(source), Some(initial_status), Some(notes)) =
            (slot, customer, source, initial, notes)
        else {
            return Err(Error::Internal("validated fields missing".into()));
        };
        let fingerprint = fingerprint(&pb::CreateAppointmentRequest { request_id: String::new(), ..req.clone() });
        Ok(Self {
            request_id: req.request_id,
            fingerprint,
            slot,
            customer,
            source,
            initial_status,
            notes,
            call_id: req.call_id,
        })
    }
}

/// Books the appointment: one transaction that claims the time, finds or
/// creates the customer, writes the row and its events. A retry with the
/// same request id returns the first answer; a taken time answers
/// SLOT_TAKEN with alternatives.
pub async fn book(ops: &Operations, tenant: TenantId, req: BookRequest) -> Result<pb::CreateAppointmentResponse> {
    let config = ops.store.tenant_config(tenant).await?;
    let result = ops
        .store
        .write_with(tenant, async |tx| {
            let at = now();
            create_once(tx, "CreateAppointment", &req.request_id, &req.fingerprint, async {
                let (new, region_code) = secure_slot(tx, &config, &req, at).await?;
                let exclusive = !config.allow_overlapping_customer_appointments;
                let (customer, customer_is_new) = resolve_customer(tx, &req.customer, &region_code, exclusive).await?;
                // A customer this booking created has no other appointments.
                if !customer_is_new {
                    let span = (new.placement.start, new.placement.end);
                    ensure_customer_free(tx, &config, customer.id, span, None, locked_by_id(&req.customer)).await?;
                }
                let (appointment, customer) = record_new(ops, tx, new, customer, customer_is_new, at).await?;
                Ok(pb::CreateAppointmentResponse { appointment: Some(appointment), customer: Some(customer) })
            })
            .await
        })
        .await;
    match result {
        Ok(out) => Ok(out),
        Err(err) => Err(match &req.slot {
            SlotChoice::Explicit { branch, service, start, .. } => {
                with_alternatives(ops, tenant, *branch, *service, *start, err).await
            }
            SlotChoice::Hold { id, .. } => match hold_origin(ops, tenant, *id).await {
                Some((branch, service, start)) => with_alternatives(ops, tenant, branch, service, start, err).await,
                None => err,
            },
        }),
    }
}

/// Claims the slot for a new appointment: a live hold of the caller's is
/// handed over (its claim given up and taken again in this transaction); an
/// explicit slot must be bookable and free. Returns the appointment to write
/// and its branch's region (for reading a new customer's number).
async fn secure_slot(
    tx: &TenantTx,
    config: &TenantConfig,
    req: &BookRequest,
    at: DateTime<Utc>,
) -> Result<(NewAppointment, String)> {
    let id = Uuid::now_v7();
    let (branch_id, service_id, placement, region_code) = match &req.slot {
        SlotChoice::Hold { id: hold_id, key } => {
            let hold = live_hold(tx, *hold_id, key, at).await?;
            let service = config.service(hold.service_id)?;
            let branch = config.branch(hold.branch_id)?;
            let (block_start, block_end) = rules(service).blocked_range(hold.start_time.timestamp());
            hand_over(tx, &hold, id, at).await?;
            let placement = Placement {
                staff_id: hold.staff_id,
                start: hold.start_time,
                end: hold.end_time,
                block_start: DateTime::from_timestamp(block_start, 0).unwrap_or(hold.start_time),
                block_end: DateTime::from_timestamp(block_end, 0).unwrap_or(hold.end_time),
            };
            (hold.branch_id, hold.service_id, placement, branch.region_code.clone())
        }
        SlotChoice::Explicit { branch, service, staff, start } => {
            let slot = check_bookable(tx, config, *branch, *service, *staff, *start, at).await?;
            (*branch, *service, slot.placement, slot.branch.region_code)
        }
    };
    let new = NewAppointment {
        id,
        branch_id,
        service_id,
        placement,
        status: req.initial_status,
        source: req.source,
        notes: req.notes.clone(),
        call_id: req.call_id.clone(),
        external_booking_uid: String::new(),
    };
    claim_time(tx, &new, at).await?;
    Ok((new, region_code))
}

/// The booking's customer, and whether this booking created it.
async fn resolve_customer(
    tx: &TenantTx,
    choice: &CustomerChoice,
    region_code: &str,
    exclusive: bool,
) -> Result<(customer::Model, bool)> {
    match choice {
        CustomerChoice::Existing(id) => {
            Ok((crate::store::customers::get_for_booking(tx, *id, exclusive).await?, false))
        }
        CustomerChoice::New { phone_number, display_name, email } => {
            let region = RegionCode::parse(region_code).map_err(|e| Error::Internal(e.into()))?;
            let phone = PhoneNumber::parse(phone_number, &region)
                .map_err(|description| Error::invalid("new_customer.phone_number", description))?;
            customers::find_or_create_by_phone(tx, &phone, display_name, email).await
        }
    }
}

/// Whether `resolve_customer` already locked the customer's row (a customer
/// named by id is read with its lock; one found by number is not).
fn locked_by_id(choice: &CustomerChoice) -> bool {
    matches!(choice, CustomerChoice::Existing(_))
}

/// Branch, service and start of a hold, to find alternatives after it failed.
async fn hold_origin(ops: &Operations, tenant: TenantId, hold_id: Uuid) -> Option<(Uuid, Uuid, DateTime<Utc>)> {
    let hold = ops.store.read_with(tenant, async |tx| holds::get(tx, hold_id).await).await.ok()?;
    Some((hold.branch_id, hold.service_id, hold.start_time))
}
