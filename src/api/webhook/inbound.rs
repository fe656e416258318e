//! CreateInboundEndpoint, GetInboundEndpoint, ListInboundEndpoints,
//! UpdateInboundEndpoint, DeleteInboundEndpoint, ListInboundEvents.
//!
//! A provider secret is input only: it is stored to verify the provider's
//! requests and never returned, echoed in an error, or logged.
use tonic::Request;

use super::required_request_id;
use crate::access::tenant_of;
use crate::api::AppState;
use crate::convert::webhook as convert;
use crate::domain::ids::InboundEndpointId;
use crate::domain::page::PageRequest;
use crate::domain::validate::{DisplayName, Violations};
use crate::domain::webhook::{InboundEventStatus, InboundProvider};
use crate::error::{Error, Result};
use crate::operations::idempotency::{create_once, fingerprint};
use crate::proto::webhook::v1 as pb;
use crate::store::inbound_endpoints::{self, InboundEndpointChanges, NewInboundEndpoint};
use crate::store::inbound_events::{self, InboundEventFilter};

pub async fn create(
    state: &AppState,
    request: Request<pb::CreateInboundEndpointRequest>,
) -> Result<pb::CreateInboundEndpointResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    required_request_id(&req.request_id)?;
    let input = req.endpoint.clone().unwrap_or_default();
    let mut v = Violations::new();
    let provider = convert::provider_from(input.provider);
    if provider.is_none() {
        v.add("endpoint.provider", "is required: CALCOM, RETELL or STANDARD_WEBHOOKS");
    }
    let display_name = optional_name(&mut v, &input.display_name);
    if let Some(provider) = provider {
        v.take("secret", provider.check_secret(&req.secret));
    } else if req.secret.is_empty() {
        v.add("secret", "is required");
    }
    v.finish()?;
    let new = NewInboundEndpoint {
        provider: provider.unwrap_or(InboundProvider::StandardWebhooks),
        display_name,
        secret: req.secret.clone(),
    };
    let fingerprint = fingerprint(&pb::CreateInboundEndpointRequest { request_id: String::new(), ..req.clone() });
    state
        .store
        .write_with(tenant, async |tx| {
            create_once(tx, "CreateInboundEndpoint", &req.request_id, &fingerprint, async {
                let row = inbound_endpoints::create(tx, new.clone()).await?;
                Ok(pb::CreateInboundEndpointResponse { endpoint: Some(convert::inbound_endpoint(row)) })
            })
            .await
        })
        .await
}

pub async fn get(
    state: &AppState,
    request: Request<pb::GetInboundEndpointRequest>,
) -> Result<pb::GetInboundEndpointResponse> {
    let tenant = tenant_of(&request)?;
    let id = InboundEndpointId::parse("id", &request.get_ref().id)?;
    let row = state.store.read_with(tenant, async |tx| inbound_endpoints::get(tx, id).await).await?;
    Ok(pb::GetInboundEndpointResponse { endpoint: Some(convert::inbound_endpoint(row)) })
}

pub async fn list(
    state: &AppState,
    request: Request<pb::ListInboundEndpointsRequest>,
) -> Result<pb::ListInboundEndpointsResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, "inbound_endpoints")?;
    let mut rows = state.store.read_with(tenant, async |tx| inbound_endpoints::list(tx, &page).await).await?;
    let next_page_token = page.finish(&mut rows, |r| r.id);
    Ok(pb::ListInboundEndpointsResponse {
        endpoints: rows.into_iter().map(convert::inbound_endpoint).collect(),
        next_page_token,
    })
}

/// Only display_name is in the mask; a new secret travels in its own field,
/// so a mask may be empty when only the secret changes.
pub async fn update(
    state: &AppState,
    request: Request<pb::UpdateInboundEndpointRequest>,
) -> Result<pb::UpdateInboundEndpointResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let input = req.endpoint.unwrap_or_default();
    let id = InboundEndpointId::parse("endpoint.id", &input.id)?;
    let paths = req.update_mask.as_ref().map(|m| m.paths.as_slice()).unwrap_or_default();
    if let Some(path) = paths.iter().find(|p| p.as_str() != "display_name") {
        return Err(Error::invalid(
            "update_mask",
            format!("{path:?} cannot be updated; updatable fields: display_name"),
        ));
    }
    if paths.is_empty() && req.secret.is_empty() {
        return Err(Error::invalid("update_mask", "names nothing to change and no new secret is given"));
    }
    let mut v = Violations::new();
    let mut changes = InboundEndpointChanges::default();
    if !paths.is_empty() {
        changes.display_name = Some(optional_name(&mut v, &input.display_name));
    }
    v.finish()?;
    let secret = (!req.secret.is_empty()).then(|| req.secret.clone());
    let row = state
        .store
        .write_with(tenant, async |tx| {
            let mut changes = changes.clone();
            if let Some(secret) = &secret {
                // The rules depend on the endpoint's provider.
                let current = inbound_endpoints::get(tx, id).await?;
                let provider = InboundProvider::from_stored(&current.provider)
                    .ok_or_else(|| Error::Internal("inbound endpoint with an unknown provider".into()))?;
                provider.check_secret(secret).map_err(|why| Error::invalid("secret", why))?;
                changes.secret = Some(secret.clone());
            }
            inbound_endpoints::update(tx, id, changes, &input.etag).await
        })
        .await?;
    Ok(pb::UpdateInboundEndpointResponse { endpoint: Some(convert::inbound_endpoint(row)) })
}

pub async fn delete(
    state: &AppState,
    request: Request<pb::DeleteInboundEndpointRequest>,
) -> Result<pb::DeleteInboundEndpointResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = InboundEndpointId::parse("id", &req.id)?;
    state
        .store
        .write_with(tenant, async |tx| {
            inbound_endpoints::delete(tx, id, &req.etag).await?;
            Ok(())
        })
        .await?;
    Ok(pb::DeleteInboundEndpointResponse {})
}

pub async fn list_events(
    state: &AppState,
    request: Request<pb::ListInboundEventsRequest>,
) -> Result<pb::ListInboundEventsResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let endpoint_id = if req.endpoint_id.is_empty() {
        None
    } else {
        Some(InboundEndpointId::parse("endpoint_id", &req.endpoint_id)?)
    };
    let status = match pb::InboundEventStatus::try_from(req.status) {
        Ok(pb::InboundEventStatus::Unspecified) => None,
        Ok(pb::InboundEventStatus::Processed) => Some(InboundEventStatus::Processed),
        Ok(pb::InboundEventStatus::Rejected) => Some(InboundEventStatus::Rejected),
        Ok(pb::InboundEventStatus::Ignored) => Some(InboundEventStatus::Ignored),
        Err(_) => return Err(Error::invalid("status", "is not an InboundEventStatus")),
    };
    let filter_text = format!("inbound_events;endpoint={};status={}", req.endpoint_id, req.status);
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, &filter_text)?;
    let filter = InboundEventFilter { endpoint_id, status };
    let mut rows = state
        .store
        .read_with(tenant, async |tx| {
            // A deleted endpoint's inbox stays listable; an unknown id is NOT_FOUND.
            if let Some(id) = endpoint_id
                && !inbound_endpoints::exists_including_deleted(tx, id).await?
            {
                return Err(Error::NotFound { resource: "inbound endpoint" });
            }
            inbound_events::list(tx, &filter, &page).await
        })
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.id);
    Ok(pb::ListInboundEventsResponse {
        events: rows.into_iter().map(convert::inbound_event).collect(),
        next_page_token,
    })
}

/// A display name that may be empty: at most 200 characters, no control characters.
fn optional_name(v: &mut Violations, text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    v.take("endpoint.display_name", DisplayName::parse(text)).map(DisplayName::into_inner).unwrap_or_default()
}
