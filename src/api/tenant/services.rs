//! CreateService, GetService, ListServices, UpdateService, DeleteService.
use tonic::Request;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::api::field_mask::UpdateMask;
use crate::convert::tenant as convert;
use crate::domain::ids::ServiceId;
use crate::domain::page::PageRequest;
use crate::domain::validate::{DisplayName, Violations, free_text, minutes_within};
use crate::error::Result;
use crate::operations::idempotency::{create_once, fingerprint, validate_request_id};
use crate::proto::tenant::v1 as pb;
use crate::store::services::{self, NewService, ServiceChanges, ServiceTimings};

const UPDATABLE: &[&str] = &[
    "display_name",
    "description",
    "duration",
    "buffer_before",
    "buffer_after",
    "minimum_notice",
    "booking_horizon",
    "slot_step",
];

const DAY: i64 = 24 * 60;

/// Limits (minutes) and defaults of each timing field.
struct Limit {
    field: &'static str,
    min: i64,
    max: i64,
    default: Option<i64>,
}

const DURATION: Limit = Limit { field: "duration", min: 5, max: DAY, default: None };
const BUFFER_BEFORE: Limit = Limit { field: "buffer_before", min: 0, max: 4 * 60, default: Some(0) };
const BUFFER_AFTER: Limit = Limit { field: "buffer_after", min: 0, max: 4 * 60, default: Some(0) };
const MINIMUM_NOTICE: Limit = Limit { field: "minimum_notice", min: 0, max: 30 * DAY, default: Some(0) };
const BOOKING_HORIZON: Limit = Limit { field: "booking_horizon", min: DAY, max: 730 * DAY, default: Some(60 * DAY) };
const SLOT_STEP: Limit = Limit { field: "slot_step", min: 5, max: 4 * 60, default: Some(15) };

/// Reads one timing field; `required` decides whether a missing value falls
/// back to the default (create) or stays unset (update of a masked field).
fn timing(v: &mut Violations, limit: &Limit, value: Option<&prost_types::Duration>, required: bool) -> Option<i32> {
    let path = format!("service.{}", limit.field);
    match v.take(&path, minutes_within(value, limit.min, limit.max)) {
        Some(Some(minutes)) => Some(minutes as i32),
        Some(None) if limit.default.is_some() => limit.default.map(|d| d as i32),
        Some(None) if required => {
            v.add(path, "is required");
            None
        }
        _ => None,
    }
}

pub async fn create(state: &AppState, request: Request<pb::CreateServiceRequest>) -> Result<pb::CreateServiceResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    validate_request_id(&req.request_id)?;
    let s = req.service.clone().unwrap_or_default();
    let mut v = Violations::new();
    let display_name = v.take("service.display_name", DisplayName::parse(&s.display_name));
    let description = v.take("service.description", free_text(&s.description, 2000));
    let timings = ServiceTimings {
        duration: timing(&mut v, &DURATION, s.duration.as_ref(), true).unwrap_or_default(),
        buffer_before: timing(&mut v, &BUFFER_BEFORE, s.buffer_before.as_ref(), true).unwrap_or_default(),
        buffer_after: timing(&mut v, &BUFFER_AFTER, s.buffer_after.as_ref(), true).unwrap_or_default(),
        minimum_notice: timing(&mut v, &MINIMUM_NOTICE, s.minimum_notice.as_ref(), true).unwrap_or_default(),
        booking_horizon: timing(&mut v, &BOOKING_HORIZON, s.booking_horizon.as_ref(), true).unwrap_or_default(),
        slot_step: timing(&mut v, &SLOT_STEP, s.slot_step.as_ref(), true).unwrap_or_default(),
    };
    v.finish()?;
    let fingerprint = fingerprint(&pb::CreateServiceRequest { request_id: String::new(), ..req.clone() });
    state
        .store
        .write_with(tenant, async |tx| {
            create_once(tx, "CreateService", &req.request_id, &fingerprint, async {
                let new = NewService {
                    display_name: display_name.clone().map(DisplayName::into_inner).unwrap_or_default(),
                    description: description.clone().unwrap_or_default(),
                    timings: timings.clone(),
                };
                let row = services::create(tx, new).await?;
                Ok(pb::CreateServiceResponse { service: Some(convert::service(row)) })
            })
            .await
        })
        .await
}

pub async fn get(state: &AppState, request: Request<pb::GetServiceRequest>) -> Result<pb::GetServiceResponse> {
    let tenant = tenant_of(&request)?;
    let id = ServiceId::parse("id", &request.get_ref().id)?;
    let row = state.store.read_with(tenant, async |tx| services::get(tx, id).await).await?;
    Ok(pb::GetServiceResponse { service: Some(convert::service(row)) })
}

pub async fn list(state: &AppState, request: Request<pb::ListServicesRequest>) -> Result<pb::ListServicesResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, "services")?;
    let mut rows = state.store.read_with(tenant, async |tx| services::list(tx, &page).await).await?;
    let next_page_token = page.finish(&mut rows, |r| r.id);
    Ok(pb::ListServicesResponse { services: rows.into_iter().map(convert::service).collect(), next_page_token })
}

pub async fn update(state: &AppState, request: Request<pb::UpdateServiceRequest>) -> Result<pb::UpdateServiceResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let s = req.service.unwrap_or_default();
    let id = ServiceId::parse("service.id", &s.id)?;
    let mask = UpdateMask::parse(req.update_mask.as_ref(), UPDATABLE)?;
    let mut v = Violations::new();
    let mut timing_if = |limit: &Limit, value: Option<&prost_types::Duration>| {
        if mask.has(limit.field) { timing(&mut v, limit, value, true) } else { None }
    };
    let duration = timing_if(&DURATION, s.duration.as_ref());
    let buffer_before = timing_if(&BUFFER_BEFORE, s.buffer_before.as_ref());
    let buffer_after = timing_if(&BUFFER_AFTER, s.buffer_after.as_ref());
    let minimum_notice = timing_if(&MINIMUM_NOTICE, s.minimum_notice.as_ref());
    let booking_horizon = timing_if(&BOOKING_HORIZON, s.booking_horizon.as_ref());
    let slot_step = timing_if(&SLOT_STEP, s.slot_step.as_ref());
    let display_name = mask
        .has("display_name")
        .then(|| v.take("service.display_name", DisplayName::parse(&s.display_name)).map(DisplayName::into_inner))
        .flatten();
    let description =
        mask.has("description").then(|| v.take("service.description", free_text(&s.description, 2000))).flatten();
    v.finish()?;
    let row = state
        .store
        .write_with(tenant, async |tx| {
            let changes = ServiceChanges {
                display_name: display_name.clone(),
                description: description.clone(),
                duration,
                buffer_before,
                buffer_after,
                minimum_notice,
                booking_horizon,
                slot_step,
            };
            services::update(tx, id, changes, &s.etag).await
        })
        .await?;
    Ok(pb::UpdateServiceResponse { service: Some(convert::service(row)) })
}

pub async fn delete(state: &AppState, request: Request<pb::DeleteServiceRequest>) -> Result<pb::DeleteServiceResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = ServiceId::parse("id", &req.id)?;
    state
        .store
        .write_with(tenant, async |tx| {
            services::delete(tx, id, &req.etag).await?;
            Ok(())
        })
        .await?;
    Ok(pb::DeleteServiceResponse {})
}
