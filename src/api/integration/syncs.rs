//! GetCalcomSync, ListCalcomSyncs, RetryCalcomSync.
use tonic::Request;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::convert::integration as convert;
use crate::domain::ids::AppointmentId;
use crate::domain::page::PageRequest;
use crate::error::{Error, Result};
use crate::proto::integration::v1 as pb;
use crate::store::calcom;

pub async fn get(state: &AppState, request: Request<pb::GetCalcomSyncRequest>) -> Result<pb::GetCalcomSyncResponse> {
    let tenant = tenant_of(&request)?;
    let id = AppointmentId::parse("appointment_id", &request.get_ref().appointment_id)?;
    let row = state.store.read_with(tenant, async |tx| calcom::get(tx, id.0).await).await?;
    Ok(pb::GetCalcomSyncResponse { sync: Some(convert::sync(row)) })
}

pub async fn list(
    state: &AppState,
    request: Request<pb::ListCalcomSyncsRequest>,
) -> Result<pb::ListCalcomSyncsResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let filter = if req.state == 0 {
        None
    } else {
        Some(convert::sync_state_from(req.state).ok_or_else(|| {
            Error::invalid("state", "must be SYNC_STATE_PENDING, SYNC_STATE_SYNCED or SYNC_STATE_DEAD_LETTERED")
        })?)
    };
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, "calcom_syncs")?;
    let mut rows = state.store.read_with(tenant, async |tx| calcom::list(tx, filter, &page).await).await?;
    let next_page_token = page.finish(&mut rows, |r| r.appointment_id);
    Ok(pb::ListCalcomSyncsResponse { syncs: rows.into_iter().map(convert::sync).collect(), next_page_token })
}

pub async fn retry(
    state: &AppState,
    request: Request<pb::RetryCalcomSyncRequest>,
) -> Result<pb::RetryCalcomSyncResponse> {
    let tenant = tenant_of(&request)?;
    let id = AppointmentId::parse("appointment_id", &request.get_ref().appointment_id)?;
    let row = state.store.write_with(tenant, async |tx| calcom::retry_now(tx, id.0).await).await?;
    Ok(pb::RetryCalcomSyncResponse { sync: Some(convert::sync(row)) })
}
