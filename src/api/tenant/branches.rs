//! CreateBranch, GetBranch, ListBranches, UpdateBranch, DeleteBranch.
use tonic::Request;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::api::field_mask::UpdateMask;
use crate::convert::tenant as convert;
use crate::domain::ids::{BranchId, TenantId};
use crate::domain::page::PageRequest;
use crate::domain::phone::PhoneNumber;
use crate::domain::validate::{DisplayName, RegionCode, TimeZoneName, Violations, free_text};
use crate::error::{Error, Result};
use crate::operations::idempotency::{create_once, fingerprint, validate_request_id};
use crate::proto::tenant::v1 as pb;
use crate::store::branches::{self, BranchChanges, NewBranch};
use crate::store::tenants;

const UPDATABLE: &[&str] = &["display_name", "time_zone", "region_code", "phone_numbers", "address"];
const MAX_PHONE_NUMBERS: usize = 20;

pub async fn create(state: &AppState, request: Request<pb::CreateBranchRequest>) -> Result<pb::CreateBranchResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    validate_request_id(&req.request_id)?;
    let input = req.branch.clone().unwrap_or_default();
    let mut v = Violations::new();
    let display_name = v.take("branch.display_name", DisplayName::parse(&input.display_name));
    let time_zone = v.take("branch.time_zone", TimeZoneName::parse(&input.time_zone));
    let region = match optional_region(&mut v, &input.region_code) {
        Some(region) => region,
        None => tenant_region(state, tenant).await?,
    };
    let phone_numbers = phone_numbers(&mut v, &input.phone_numbers, &region);
    let address = v.take("branch.address", free_text(&input.address, 500));
    v.finish()?;
    let new = NewBranch {
        display_name: display_name.map(DisplayName::into_inner).unwrap_or_default(),
        time_zone: time_zone.map(TimeZoneName::into_inner).unwrap_or_default(),
        region_code: region.into_inner(),
        address: address.unwrap_or_default(),
        phone_numbers,
    };
    let fingerprint = fingerprint(&pb::CreateBranchRequest { request_id: String::new(), ..req.clone() });
    state
        .store
        .write_with(tenant, async |tx| {
            create_once(tx, "CreateBranch", &req.request_id, &fingerprint, async {
                let branch = branches::create(tx, new.clone()).await?;
                Ok(pb::CreateBranchResponse { branch: Some(convert::branch(branch)) })
            })
            .await
        })
        .await
}

pub async fn get(state: &AppState, request: Request<pb::GetBranchRequest>) -> Result<pb::GetBranchResponse> {
    let tenant = tenant_of(&request)?;
    let id = BranchId::parse("id", &request.get_ref().id)?;
    let branch = state.store.read_with(tenant, async |tx| branches::get(tx, id).await).await?;
    Ok(pb::GetBranchResponse { branch: Some(convert::branch(branch)) })
}

pub async fn list(state: &AppState, request: Request<pb::ListBranchesRequest>) -> Result<pb::ListBranchesResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, "branches")?;
    let mut rows = state.store.read_with(tenant, async |tx| branches::list(tx, &page).await).await?;
    let next_page_token = page.finish(&mut rows, |b| b.row.id);
    Ok(pb::ListBranchesResponse { branches: rows.into_iter().map(convert::branch).collect(), next_page_token })
}

pub async fn update(state: &AppState, request: Request<pb::UpdateBranchRequest>) -> Result<pb::UpdateBranchResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let input = req.branch.unwrap_or_default();
    let id = BranchId::parse("branch.id", &input.id)?;
    let mask = UpdateMask::parse(req.update_mask.as_ref(), UPDATABLE)?;
    let mut v = Violations::new();
    let mut changes = BranchChanges::default();
    if mask.has("display_name") {
        changes.display_name =
            v.take("branch.display_name", DisplayName::parse(&input.display_name)).map(DisplayName::into_inner);
    }
    if mask.has("time_zone") {
        changes.time_zone =
            v.take("branch.time_zone", TimeZoneName::parse(&input.time_zone)).map(TimeZoneName::into_inner);
    }
    if mask.has("address") {
        changes.address = v.take("branch.address", free_text(&input.address, 500));
    }
    // Phone numbers are read in the branch's region after the update.
    let new_region = if mask.has("region_code") {
        Some(match optional_region(&mut v, &input.region_code) {
            Some(region) => region,
            None => tenant_region(state, tenant).await?,
        })
    } else {
        None
    };
    if mask.has("phone_numbers") {
        let region = match &new_region {
            Some(region) => region.clone(),
            None => branch_region(state, tenant, id).await?,
        };
        changes.phone_numbers = Some(phone_numbers(&mut v, &input.phone_numbers, &region));
    }
    changes.region_code = new_region.map(RegionCode::into_inner);
    v.finish()?;
    let branch =
        state.store.write_with(tenant, async |tx| branches::update(tx, id, changes.clone(), &input.etag).await).await?;
    Ok(pb::UpdateBranchResponse { branch: Some(convert::branch(branch)) })
}

pub async fn delete(state: &AppState, request: Request<pb::DeleteBranchRequest>) -> Result<pb::DeleteBranchResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = BranchId::parse("id", &req.id)?;
    state
        .store
        .write_with(tenant, async |tx| {
            branches::delete(tx, id, &req.etag).await?;
            Ok(())
        })
        .await?;
    Ok(pb::DeleteBranchResponse {})
}

fn optional_region(v: &mut Violations, text: &str) -> Option<RegionCode> {
    if text.is_empty() { None } else { v.take("branch.region_code", RegionCode::parse(text)) }
}

async fn tenant_region(state: &AppState, tenant: TenantId) -> Result<RegionCode> {
    let row = state.store.read_with(tenant, async |tx| tenants::get(tx).await).await?;
    RegionCode::parse(&row.region_code).map_err(|e| Error::Internal(e.into()))
}

async fn branch_region(state: &AppState, tenant: TenantId, id: BranchId) -> Result<RegionCode> {
    let branch = state.store.read_with(tenant, async |tx| branches::get(tx, id).await).await?;
    RegionCode::parse(&branch.row.region_code).map_err(|e| Error::Internal(e.into()))
}

/// Parses every number (E.164 out), recording each bad one by its index.
fn phone_numbers(v: &mut Violations, numbers: &[String], region: &RegionCode) -> Vec<String> {
    if numbers.len() > MAX_PHONE_NUMBERS {
        v.add("branch.phone_numbers", format!("at most {MAX_PHONE_NUMBERS} numbers per branch"));
        return Vec::new();
    }
    numbers
        .iter()
        .enumerate()
        .filter_map(|(i, n)| v.take(&format!("branch.phone_numbers[{i}]"), PhoneNumber::parse(n, region)))
        .map(|n| n.as_str().to_owned())
        .collect()
}
