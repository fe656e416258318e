//! CreateTenant, GetTenant, ListTenants, UpdateTenant.
use tonic::Request;
use uuid::Uuid;

use crate::access::caller;
use crate::api::AppState;
use crate::api::field_mask::UpdateMask;
use crate::convert::tenant as convert;
use crate::domain::ids::TenantId;
use crate::domain::page::PageRequest;
use crate::domain::scope::Scope;
use crate::domain::validate::{DisplayName, RegionCode, TimeZoneName, Violations};
use crate::error::{Error, Result};
use crate::operations::idempotency::{create_once, fingerprint, validate_request_id};
use crate::proto::tenant::v1 as pb;
use crate::store::tenants::{self, NewTenant, TenantChanges};

pub async fn create(state: &AppState, request: Request<pb::CreateTenantRequest>) -> Result<pb::CreateTenantResponse> {
    let req = request.into_inner();
    validate_request_id(&req.request_id)?;
    let input = req.tenant.clone().unwrap_or_default();
    let mut v = Violations::new();
    let display_name = v.take("tenant.display_name", DisplayName::parse(&input.display_name));
    let time_zone = v.take("tenant.time_zone", TimeZoneName::parse(&input.time_zone));
    let region_code = v.take("tenant.region_code", RegionCode::parse(&input.region_code));
    let caller_disclosure = match input.caller_disclosure {
        0 => Some(Default::default()),
        value => convert::caller_disclosure_from(value),
    };
    if caller_disclosure.is_none() {
        v.add("tenant.caller_disclosure", "must be FULL, FIRST_NAME_AND_DAY or NONE");
    }
    v.finish()?;
    let new = || NewTenant {
        display_name: display_name.clone().map(DisplayName::into_inner).unwrap_or_default(),
        time_zone: time_zone.clone().map(TimeZoneName::into_inner).unwrap_or_default(),
        region_code: region_code.clone().map(RegionCode::into_inner).unwrap_or_default(),
        allow_overlapping_customer_appointments: input.allow_overlapping_customer_appointments,
        caller_disclosure: caller_disclosure.unwrap_or_default(),
    };
    let fingerprint = fingerprint(&pb::CreateTenantRequest { request_id: String::new(), ..req.clone() });
    state
        .store
        .platform_write_with(async |tx| {
            create_once(tx, "CreateTenant", &req.request_id, &fingerprint, async {
                let row = tenants::create(tx, new()).await?;
                Ok(pb::CreateTenantResponse { tenant: Some(convert::tenant(row)) })
            })
            .await
        })
        .await
}

/// The tenant a Get/Update of `id` acts on: a platform admin may name any
/// tenant; anyone else only their own, and another id is NOT_FOUND.
fn target_tenant<T>(request: &Request<T>, id: &str) -> Result<TenantId> {
    let id = TenantId::parse("id", id)?;
    let caller = caller(request)?;
    let own = caller.tenant.map(|t| t == id).unwrap_or(false);
    if caller.scope == Scope::PlatformAdmin || own { Ok(id) } else { Err(Error::NotFound { resource: "tenant" }) }
}

pub async fn get(state: &AppState, request: Request<pb::GetTenantRequest>) -> Result<pb::GetTenantResponse> {
    let tenant = target_tenant(&request, &request.get_ref().id)?;
    let row = state.store.read_with(tenant, async |tx| tenants::get(tx).await).await?;
    Ok(pb::GetTenantResponse { tenant: Some(convert::tenant(row)) })
}

pub async fn list(state: &AppState, request: Request<pb::ListTenantsRequest>) -> Result<pb::ListTenantsResponse> {
    let req = request.into_inner();
    let page = PageRequest::parse(req.page_size, &req.page_token, Uuid::nil(), "tenants")?;
    let mut rows = {
        let tx = state.store.platform_read().await?;
        let out = tenants::list(&tx, &page).await?;
        tx.commit().await?;
        out
    };
    let next_page_token = page.finish(&mut rows, |r| r.id);
    Ok(pb::ListTenantsResponse { tenants: rows.into_iter().map(convert::tenant).collect(), next_page_token })
}

pub async fn update(state: &AppState, request: Request<pb::UpdateTenantRequest>) -> Result<pb::UpdateTenantResponse> {
    let input = request.get_ref().tenant.clone().unwrap_or_default();
    let tenant = target_tenant(&request, &input.id).map_err(|err| match err {
        Error::InvalidArgument(_) => Error::invalid("tenant.id", "must be a UUID"),
        other => other,
    })?;
    let mask = UpdateMask::parse(
        request.get_ref().update_mask.as_ref(),
        &["display_name", "time_zone", "region_code", "allow_overlapping_customer_appointments", "caller_disclosure"],
    )?;
    let mut v = Violations::new();
    let mut changes = TenantChanges::default();
    if mask.has("display_name") {
        changes.display_name =
            v.take("tenant.display_name", DisplayName::parse(&input.display_name)).map(DisplayName::into_inner);
    }
    if mask.has("time_zone") {
        changes.time_zone =
            v.take("tenant.time_zone", TimeZoneName::parse(&input.time_zone)).map(TimeZoneName::into_inner);
    }
    if mask.has("region_code") {
        changes.region_code =
            v.take("tenant.region_code", RegionCode::parse(&input.region_code)).map(RegionCode::into_inner);
    }
    if mask.has("allow_overlapping_customer_appointments") {
        changes.allow_overlapping_customer_appointments = Some(input.allow_overlapping_customer_appointments);
    }
    if mask.has("caller_disclosure") {
        changes.caller_disclosure = convert::caller_disclosure_from(input.caller_disclosure);
        if changes.caller_disclosure.is_none() {
            v.add("tenant.caller_disclosure", "must be FULL, FIRST_NAME_AND_DAY or NONE");
        }
    }
    v.finish()?;
    let row = state
        .store
        .write_with(tenant, async |tx| {
            let changes = TenantChanges {
                display_name: changes.display_name.clone(),
                time_zone: changes.time_zone.clone(),
                region_code: changes.region_code.clone(),
                allow_overlapping_customer_appointments: changes.allow_overlapping_customer_appointments,
                caller_disclosure: changes.caller_disclosure,
            };
            tenants::update(tx, changes, &input.etag).await
        })
        .await?;
    Ok(pb::UpdateTenantResponse { tenant: Some(convert::tenant(row)) })
}
