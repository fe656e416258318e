//! CreateStaff, GetStaff, ListStaff, UpdateStaff, DeleteStaff.
use tonic::Request;
use uuid::Uuid;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::api::field_mask::UpdateMask;
use crate::convert::tenant as convert;
use crate::domain::ids::{BranchId, ServiceId, StaffId, TenantId};
use crate::domain::page::PageRequest;
use crate::domain::validate::{DisplayName, Violations, optional_email};
use crate::error::{FieldViolation, Result};
use crate::operations::idempotency::{create_once, fingerprint, validate_request_id};
use crate::proto::tenant::v1 as pb;
use crate::store::staff::{self, NewStaff, StaffChanges};

const UPDATABLE: &[&str] = &["branch_id", "display_name", "email", "service_ids"];
const MAX_SERVICES: usize = 200;

pub async fn create(state: &AppState, request: Request<pb::CreateStaffRequest>) -> Result<pb::CreateStaffResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    validate_request_id(&req.request_id)?;
    let input = req.staff.clone().unwrap_or_default();
    let mut v = Violations::new();
    let branch_id = v.take_err(BranchId::parse("staff.branch_id", &input.branch_id));
    let display_name = v.take("staff.display_name", DisplayName::parse(&input.display_name));
    let email = v.take("staff.email", optional_email(&input.email));
    let service_ids = service_ids(&mut v, &input.service_ids);
    v.extend(missing_references(state, tenant, branch_id.map(|b| b.0), Some(&service_ids)).await?);
    v.finish()?;
    let fingerprint = fingerprint(&pb::CreateStaffRequest { request_id: String::new(), ..req.clone() });
    state
        .store
        .write_with(tenant, async |tx| {
            create_once(tx, "CreateStaff", &req.request_id, &fingerprint, async {
                let new = NewStaff {
                    branch_id: branch_id.map(|b| b.0).unwrap_or_default(),
                    display_name: display_name.clone().map(DisplayName::into_inner).unwrap_or_default(),
                    email: email.clone().unwrap_or_default(),
                    service_ids: service_ids.clone(),
                };
                let member = staff::create(tx, new).await?;
                Ok(pb::CreateStaffResponse { staff: Some(convert::staff(member)) })
            })
            .await
        })
        .await
}

pub async fn get(state: &AppState, request: Request<pb::GetStaffRequest>) -> Result<pb::GetStaffResponse> {
    let tenant = tenant_of(&request)?;
    let id = StaffId::parse("id", &request.get_ref().id)?;
    let member = state.store.read_with(tenant, async |tx| staff::get(tx, id).await).await?;
    Ok(pb::GetStaffResponse { staff: Some(convert::staff(member)) })
}

pub async fn list(state: &AppState, request: Request<pb::ListStaffRequest>) -> Result<pb::ListStaffResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let branch_id = if req.branch_id.is_empty() { None } else { Some(BranchId::parse("branch_id", &req.branch_id)?.0) };
    let filter = format!("staff;branch={}", req.branch_id);
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, &filter)?;
    let mut rows = state.store.read_with(tenant, async |tx| staff::list(tx, &page, branch_id).await).await?;
    let next_page_token = page.finish(&mut rows, |m| m.row.id);
    Ok(pb::ListStaffResponse { staff: rows.into_iter().map(convert::staff).collect(), next_page_token })
}

pub async fn update(state: &AppState, request: Request<pb::UpdateStaffRequest>) -> Result<pb::UpdateStaffResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let input = req.staff.unwrap_or_default();
    let id = StaffId::parse("staff.id", &input.id)?;
    let mask = UpdateMask::parse(req.update_mask.as_ref(), UPDATABLE)?;
    let mut v = Violations::new();
    let mut changes = StaffChanges::default();
    if mask.has("branch_id") {
        changes.branch_id = v.take_err(BranchId::parse("staff.branch_id", &input.branch_id)).map(|b| b.0);
    }
    if mask.has("display_name") {
        changes.display_name =
            v.take("staff.display_name", DisplayName::parse(&input.display_name)).map(DisplayName::into_inner);
    }
    if mask.has("email") {
        changes.email = v.take("staff.email", optional_email(&input.email));
    }
    if mask.has("service_ids") {
        changes.service_ids = Some(service_ids(&mut v, &input.service_ids));
    }
    v.extend(missing_references(state, tenant, changes.branch_id, changes.service_ids.as_deref()).await?);
    v.finish()?;
    let member = state
        .store
        .write_with(tenant, async |tx| {
            let changes = StaffChanges {
                branch_id: changes.branch_id,
                display_name: changes.display_name.clone(),
                email: changes.email.clone(),
                service_ids: changes.service_ids.clone(),
            };
            staff::update(tx, id, changes, &input.etag).await
        })
        .await?;
    Ok(pb::UpdateStaffResponse { staff: Some(convert::staff(member)) })
}

pub async fn delete(state: &AppState, request: Request<pb::DeleteStaffRequest>) -> Result<pb::DeleteStaffResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = StaffId::parse("id", &req.id)?;
    state
        .store
        .write_with(tenant, async |tx| {
            staff::delete(tx, id, &req.etag).await?;
            Ok(())
        })
        .await?;
    Ok(pb::DeleteStaffResponse {})
}

/// Unknown branch and service references, checked before the write so they
/// are reported with every other bad field.
async fn missing_references(
    state: &AppState,
    tenant: TenantId,
    branch_id: Option<Uuid>,
    service_ids: Option<&[Uuid]>,
) -> Result<Vec<FieldViolation>> {
    state.store.read_with(tenant, async |tx| staff::missing_references(tx, branch_id, service_ids).await).await
}

fn service_ids(v: &mut Violations, ids: &[String]) -> Vec<Uuid> {
    if ids.len() > MAX_SERVICES {
        v.add("staff.service_ids", format!("at most {MAX_SERVICES} services"));
        return Vec::new();
    }
    ids.iter()
        .enumerate()
        .filter_map(|(i, id)| v.take_err(ServiceId::parse(&format!("staff.service_ids[{i}]"), id)))
        .map(|id| id.0)
        .collect()
}
