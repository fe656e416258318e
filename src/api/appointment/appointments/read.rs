//! GetAppointment and ListAppointments.

use chrono::DateTime;
use tonic::Request;

use super::parse_id;
use crate::access::{call_of, tenant_of};
use crate::api::{AppState, call_scope};
use crate::convert::appointment as convert;
use crate::convert::instant;
use crate::domain::ids::{BranchId, StaffId};
use crate::domain::page::PageRequest;
use crate::domain::validate::Violations;
use crate::error::Result;
use crate::proto::appointment::v1 as pb;
use crate::store::appointments::{self, AppointmentFilter};

/// Statuses a filter may name (there are five).
const MAX_STATUSES: usize = 5;

pub async fn get(state: &AppState, request: Request<pb::GetAppointmentRequest>) -> Result<pb::GetAppointmentResponse> {
    let tenant = tenant_of(&request)?;
    let id = parse_id(&request.get_ref().id)?;
    call_scope::ensure_appointment(state, tenant, call_of(&request).as_ref(), id).await?;
    let row = state.store.read_with(tenant, async |tx| appointments::get(tx, id).await).await?;
    Ok(pb::GetAppointmentResponse { appointment: Some(convert::appointment(row)) })
}

pub async fn list(
    state: &AppState,
    request: Request<pb::ListAppointmentsRequest>,
) -> Result<pb::ListAppointmentsResponse> {
    let tenant = tenant_of(&request)?;
    let call = call_of(&request);
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
    filter.staff_ids = v
        .at_most("staff_ids", &req.staff_ids, crate::domain::validate::MAX_STAFF_FILTER)
        .iter()
        .enumerate()
        .filter_map(|(i, id)| v.take_err(StaffId::parse(&format!("staff_ids[{i}]"), id)))
        .map(|id| id.0)
        .collect();
    if !req.customer_id.is_empty() {
        filter.customer_id = v.uuid("customer_id", &req.customer_id);
    }
    if let Some(call) = &call {
        // A call lists its caller's appointments only (none before they are a customer).
        let Some(own) = call_scope::callers_customer(state, tenant, call).await? else {
            return Ok(pb::ListAppointmentsResponse::default());
        };
        if filter.customer_id.is_some_and(|asked| asked != own) {
            return Ok(pb::ListAppointmentsResponse::default());
        }
        filter.customer_id = Some(own);
    }
    if !req.branch_id.is_empty() {
        filter.branch_id = v.take_err(BranchId::parse("branch_id", &req.branch_id)).map(|b| b.0);
    }
    for (i, status) in v.at_most("statuses", &req.statuses, MAX_STATUSES).iter().enumerate() {
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
    let mut rows = appointments::list_from_days(&state.store, tenant, &filter, after, page.fetch_limit()).await?;
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
