//! ListAvailableSlots: free slots of a service at a branch, in time order.
use chrono::{DateTime, Duration, Utc};
use jiff::tz::TimeZone;
use tonic::Request;
use uuid::Uuid;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::calcom::Freshness;
use crate::convert::{instant, timestamp};
use crate::domain::ids::{BranchId, ServiceId, StaffId};
use crate::domain::local_time::rfc3339_local;
use crate::domain::page::PageRequest;
use crate::domain::slots::{SlotQuery, available_slots};
use crate::domain::validate::{TimeZoneName, Violations};
use crate::error::{Error, Result};
use crate::operations::bookable::{rules, time_zone};
use crate::proto::availability::v1 as pb;
use crate::store::calendar;

const MAX_RANGE_DAYS: i64 = 62;
const DEFAULT_SLOTS: i32 = 100;
const MAX_SLOTS: i32 = 1000;

pub async fn list(
    state: &AppState,
    request: Request<pb::ListAvailableSlotsRequest>,
) -> Result<pb::ListAvailableSlotsResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let mut v = Violations::new();
    let branch_id = v.take_err(BranchId::parse("branch_id", &req.branch_id));
    let service_id = v.take_err(ServiceId::parse("service_id", &req.service_id));
    let staff_ids: Vec<Uuid> = v
        .at_most("staff_ids", &req.staff_ids, crate::domain::validate::MAX_STAFF_FILTER)
        .iter()
        .enumerate()
        .filter_map(|(i, id)| v.take_err(StaffId::parse(&format!("staff_ids[{i}]"), id)))
        .map(|id| id.0)
        .collect();
    let range = time_range(&mut v, req.time_range.as_ref());
    let output_zone =
        if req.time_zone.is_empty() { None } else { v.take("time_zone", TimeZoneName::parse(&req.time_zone)) };
    if req.page_size < 0 {
        v.add("page_size", "must not be negative");
    }
    v.finish()?;
    let (Some(branch_id), Some(service_id), Some((from, to))) = (branch_id, service_id, range) else {
        return Err(Error::Internal("validated fields missing".into()));
    };
    let filter = format!("slots;{branch_id};{service_id};{:?};{from};{to};{}", req.staff_ids, req.time_zone);
    // Slots have no id; the page token's key is the last slot's start and staff.
    let page = PageRequest::parse(0, &req.page_token, tenant.0, &filter)?;
    let after = page.after_key();
    let limit = match req.page_size {
        0 => DEFAULT_SLOTS,
        n => n.min(MAX_SLOTS),
    } as usize;

    let now = Utc::now();
    let config = state.store.tenant_config(tenant).await?;
    let branch = config.branch(branch_id.0)?;
    let service = config.service(service_id.0)?;
    let offering = config.offering(branch_id.0, service_id.0);
    let chosen = if staff_ids.is_empty() {
        offering
    } else {
        for id in &staff_ids {
            // Unknown (or another tenant's) staff is NOT_FOUND, as everywhere.
            config.staff(*id)?;
            if !offering.contains(id) {
                return Err(Error::FailedPrecondition {
                    reason: "FAILED_PRECONDITION",
                    message: format!("staff member {id} does not offer this service at this branch"),
                });
            }
        }
        staff_ids
    };
    let mut calendars = calendar::load(&state.store, tenant, &config, &chosen, from, to, now).await?;
    let (calcom_busy, freshness) = state
        .calcom_busy
        .of(&state.store, tenant, &config, &chosen, from - Duration::days(1), to + Duration::days(1))
        .await?;
    for calendar in &mut calendars {
        if let Some(busy) = calcom_busy.get(&calendar.staff_id) {
            calendar.busy.extend_from_slice(busy);
            calendar.busy.sort_unstable();
        }
    }

    let branch_zone = time_zone(branch)?;
    let query = SlotQuery {
        time_zone: branch_zone.clone(),
        from: from.timestamp(),
        to: to.timestamp(),
        now: now.timestamp(),
        rules: rules(service),
    };
    let mut slots: Vec<_> = available_slots(&query, &calendars)
        .into_iter()
        .filter(|s| after.is_none_or(|(start, staff)| (s.start, s.staff_id) > (start, staff)))
        .take(limit + 1)
        .collect();
    let next_page_token = if slots.len() > limit {
        slots.truncate(limit);
        slots.last().map(|s| page.token_for_key(s.start, s.staff_id)).unwrap_or_default()
    } else {
        String::new()
    };
    let zone = match &output_zone {
        Some(name) => TimeZone::get(name.as_str()).map_err(Error::internal)?,
        None => branch_zone,
    };
    let zone_name = output_zone.map(|z| z.into_inner()).unwrap_or_else(|| branch.time_zone.clone());
    Ok(pb::ListAvailableSlotsResponse {
        slots: slots
            .into_iter()
            .map(|s| pb::Slot {
                staff_id: s.staff_id.to_string(),
                start_time: DateTime::from_timestamp(s.start, 0).map(timestamp),
                end_time: DateTime::from_timestamp(s.end, 0).map(timestamp),
                local_start_time: rfc3339_local(&zone, s.start),
                local_end_time: rfc3339_local(&zone, s.end),
            })
            .collect(),
        next_page_token,
        time_zone: zone_name,
        external_calendar: external_calendar(freshness) as i32,
    })
}

fn external_calendar(freshness: Freshness) -> pb::ExternalCalendarState {
    match freshness {
        Freshness::NotInvolved => pb::ExternalCalendarState::Unspecified,
        Freshness::Current => pb::ExternalCalendarState::Current,
        Freshness::Stale => pb::ExternalCalendarState::Stale,
        Freshness::Unavailable => pb::ExternalCalendarState::Unavailable,
    }
}

/// A required range of at most 62 days, start before end.
fn time_range(
    v: &mut Violations,
    range: Option<&crate::proto::r#type::v1::TimeRange>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let Some(range) = range else {
        v.add("time_range", "is required");
        return None;
    };
    let start = range.start_time.as_ref().and_then(instant);
    let end = range.end_time.as_ref().and_then(instant);
    match (start, end) {
        (None, _) => v.add("time_range.start_time", "is required"),
        (_, None) => v.add("time_range.end_time", "is required"),
        (Some(s), Some(e)) if e <= s => v.add("time_range.end_time", "must be after start_time"),
        (Some(s), Some(e)) if e - s > chrono::Duration::days(MAX_RANGE_DAYS) => {
            v.add("time_range", format!("must be at most {MAX_RANGE_DAYS} days long"))
        }
        (Some(s), Some(e)) => return Some((s, e)),
    }
    None
}
