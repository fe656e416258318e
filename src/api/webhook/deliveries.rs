//! SendTestEvent, ListDeliveries, RedeliverEvent: the delivery log of a
//! subscription and the two ways to put an event (back) into it. The
//! attempts themselves are made by the delivery worker.
use tonic::Request;

use super::required_request_id;
use crate::access::tenant_of;
use crate::api::AppState;
use crate::convert::webhook as convert;
use crate::domain::ids::{SubscriptionId, WebhookEventId};
use crate::domain::page::PageRequest;
use crate::domain::webhook::AttemptStatus;
use crate::error::{Error, Result};
use crate::operations::idempotency::{create_once, fingerprint};
use crate::proto::webhook::v1 as pb;
use crate::store::deliveries::{self, AttemptFilter};
use crate::store::{outbox, subscriptions};

pub async fn send_test_event(
    state: &AppState,
    request: Request<pb::SendTestEventRequest>,
) -> Result<pb::SendTestEventResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = SubscriptionId::parse("subscription_id", &req.subscription_id)?;
    required_request_id(&req.request_id)?;
    let fingerprint = fingerprint(&pb::SendTestEventRequest { request_id: String::new(), ..req.clone() });
    let correlation = crate::correlation::current().map(|id| id.as_str().to_owned()).unwrap_or_default();
    state
        .store
        .write_with(tenant, async |tx| {
            create_once(tx, "SendTestEvent", &req.request_id, &fingerprint, async {
                let event_id = outbox::record_test(tx, id, &correlation).await?;
                Ok(pb::SendTestEventResponse { event_id: event_id.to_string() })
            })
            .await
        })
        .await
}

pub async fn list(state: &AppState, request: Request<pb::ListDeliveriesRequest>) -> Result<pb::ListDeliveriesResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let subscription_id = SubscriptionId::parse("subscription_id", &req.subscription_id)?;
    let event_id = if req.event_id.is_empty() { None } else { Some(WebhookEventId::parse("event_id", &req.event_id)?) };
    let status = match pb::DeliveryStatus::try_from(req.status) {
        Ok(pb::DeliveryStatus::Unspecified) => None,
        Ok(pb::DeliveryStatus::Pending) => Some(AttemptStatus::Pending),
        Ok(pb::DeliveryStatus::Succeeded) => Some(AttemptStatus::Succeeded),
        Ok(pb::DeliveryStatus::Failed) => Some(AttemptStatus::Failed),
        Ok(pb::DeliveryStatus::DeadLettered) => Some(AttemptStatus::DeadLettered),
        Err(_) => return Err(Error::invalid("status", "is not a DeliveryStatus")),
    };
    let filter_text =
        format!("deliveries;subscription={};event={};status={}", subscription_id, req.event_id, req.status);
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, &filter_text)?;
    let filter = AttemptFilter { event_id, status };
    let mut rows = state
        .store
        .read_with(tenant, async |tx| {
            subscriptions::get(tx, subscription_id).await?;
            deliveries::list_attempts(tx, subscription_id, &filter, &page).await
        })
        .await?;
    let next_page_token = page.finish(&mut rows, |r| r.id);
    Ok(pb::ListDeliveriesResponse { deliveries: rows.into_iter().map(convert::delivery).collect(), next_page_token })
}

pub async fn redeliver(
    state: &AppState,
    request: Request<pb::RedeliverEventRequest>,
) -> Result<pb::RedeliverEventResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let subscription_id = SubscriptionId::parse("subscription_id", &req.subscription_id)?;
    let event_id = WebhookEventId::parse("event_id", &req.event_id)?;
    required_request_id(&req.request_id)?;
    let fingerprint = fingerprint(&pb::RedeliverEventRequest { request_id: String::new(), ..req.clone() });
    state
        .store
        .write_with(tenant, async |tx| {
            create_once(tx, "RedeliverEvent", &req.request_id, &fingerprint, async {
                let attempt =
                    deliveries::redeliver(tx, &subscriptions::get(tx, subscription_id).await?, event_id).await?;
                Ok(pb::RedeliverEventResponse { delivery: Some(convert::delivery(attempt)) })
            })
            .await
        })
        .await
}
