//! CreateBranch, GetBranch, ListBranches, UpdateBranch, DeleteBranch.
use tonic::Request;

use crate::api::AppState;
use crate::api::context::tenant_of;
use crate::api::convert;
use crate::api::field_mask::UpdateMask;
use crate::api::idempotency::{create_once, fingerprint, validate_request_id};
use crate::domain::ids::BranchId;
use crate::domain::page::PageRequest;
use crate::domain::phone::PhoneNumber;
use crate::domain::validate::{DisplayName, RegionCode, TimeZoneName, Violations, free_text};
use crate::error::{Error, Result};
use crate::proto::tenant::v1 as pb;
use crate::store::branches::{self, BranchChanges, NewBranch};
use crate::store::retry;
use crate::store::{TenantTx, tenants};

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
    let region_code = optional_region(&mut v, &input.region_code);
    let address = v.take("branch.address", free_text(&input.address, 500));
    check_phone_count(&mut v, &input.phone_numbers);
    v.finish()?;
    let fingerprint = fingerprint(&pb::CreateBranchRequest { request_id: String::new(), ..req.clone() });
    retry(|| async {
        let owned = state.store.write(tenant).await?;
        let tx = &owned;
        let out = create_once(tx, "CreateBranch", &req.request_id, &fingerprint, async {
            let region = effective_region(tx, region_code.clone()).await?;
            let phone_numbers = parse_phone_numbers(&input.phone_numbers, &region)?;
            let new = NewBranch {
                display_name: display_name.clone().map(DisplayName::into_inner).unwrap_or_default(),
                time_zone: time_zone.clone().map(TimeZoneName::into_inner).unwrap_or_default(),
                region_code: region.into_inner(),
                address: address.clone().unwrap_or_default(),
                phone_numbers,
            };
            let branch = branches::create(tx, new).await?;
            Ok(pb::CreateBranchResponse { branch: Some(convert::branch(branch)) })
        })
        .await?;
        owned.commit().await?;
        Ok(out)
    })
    .await
}

pub async fn get(state: &AppState, request: Request<pb::GetBranchRequest>) -> Result<pb::GetBranchResponse> {
    let tenant = tenant_of(&request)?;
    let id = BranchId::parse("id", &request.get_ref().id)?;
    let branch = {
        let tx = state.store.read(tenant).await?;
        let out = branches::get(&tx, id).await?;
        tx.commit().await?;
        out
    };
    Ok(pb::GetBranchResponse { branch: Some(convert::branch(branch)) })
}

pub async fn list(state: &AppState, request: Request<pb::ListBranchesRequest>) -> Result<pb::ListBranchesResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, "branches")?;
    let mut rows = {
        let tx = state.store.read(tenant).await?;
        let out = branches::list(&tx, &page).await?;
        tx.commit().await?;
        out
    };
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
    let display_name = mask
        .has("display_name")
        .then(|| v.take("branch.display_name", DisplayName::parse(&input.display_name)).map(DisplayName::into_inner))
        .flatten();
    let time_zone = mask
        .has("time_zone")
        .then(|| v.take("branch.time_zone", TimeZoneName::parse(&input.time_zone)).map(TimeZoneName::into_inner))
        .flatten();
    let region_code = if mask.has("region_code") { optional_region(&mut v, &input.region_code) } else { None };
    let address = mask.has("address").then(|| v.take("branch.address", free_text(&input.address, 500))).flatten();
    if mask.has("phone_numbers") {
        check_phone_count(&mut v, &input.phone_numbers);
    }
    v.finish()?;
    let branch = retry(|| async {
        let owned = state.store.write(tenant).await?;
        let tx = &owned;
        let out = {
            let current = branches::get(tx, id).await?;
            let region = match &region_code {
                Some(region) => region.clone(),
                None if mask.has("region_code") => effective_region(tx, None).await?,
                None => RegionCode::parse(&current.row.region_code).map_err(|e| Error::Internal(e.into()))?,
            };
            let phone_numbers = if mask.has("phone_numbers") {
                Some(parse_phone_numbers(&input.phone_numbers, &region)?)
            } else {
                None
            };
            let changes = BranchChanges {
                display_name: display_name.clone(),
                time_zone: time_zone.clone(),
                region_code: mask.has("region_code").then(|| region.clone().into_inner()),
                address: address.clone(),
                phone_numbers,
            };
            branches::update(tx, id, changes, &input.etag).await
        }?;
        owned.commit().await?;
        Ok(out)
    })
    .await?;
    Ok(pb::UpdateBranchResponse { branch: Some(convert::branch(branch)) })
}

pub async fn delete(state: &AppState, request: Request<pb::DeleteBranchRequest>) -> Result<pb::DeleteBranchResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = BranchId::parse("id", &req.id)?;
    retry(|| async {
        let tx = state.store.write(tenant).await?;
        branches::delete(&tx, id, &req.etag).await?;
        tx.commit().await
    })
    .await?;
    Ok(pb::DeleteBranchResponse {})
}

fn optional_region(v: &mut Violations, text: &str) -> Option<RegionCode> {
    if text.is_empty() { None } else { v.take("branch.region_code", RegionCode::parse(text)) }
}

fn check_phone_count(v: &mut Violations, numbers: &[String]) {
    if numbers.len() > MAX_PHONE_NUMBERS {
        v.add("branch.phone_numbers", format!("at most {MAX_PHONE_NUMBERS} numbers per branch"));
    }
}

/// The branch's own region, or the tenant's when none is given.
async fn effective_region(tx: &TenantTx, region: Option<RegionCode>) -> Result<RegionCode> {
    match region {
        Some(region) => Ok(region),
        None => {
            let tenant = tenants::get(tx).await?;
            RegionCode::parse(&tenant.region_code).map_err(|e| Error::Internal(e.into()))
        }
    }
}

fn parse_phone_numbers(numbers: &[String], region: &RegionCode) -> Result<Vec<String>> {
    let mut v = Violations::new();
    let parsed: Vec<String> = numbers
        .iter()
        .enumerate()
        .filter_map(|(i, n)| v.take(&format!("branch.phone_numbers[{i}]"), PhoneNumber::parse(n, region)))
        .map(|n| n.as_str().to_owned())
        .collect();
    v.finish()?;
    Ok(parsed)
}
