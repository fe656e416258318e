//! WebhookService: outbound subscriptions and their deliveries, inbound
//! provider endpoints and their inbox. The trait implementation only
//! dispatches; each resource has its own module. Every method needs the
//! tenant admin scope (checked by the auth layer, see `access::permissions`).
//!
//! Secrets (subscription signing secrets, provider secrets) never reach an
//! error message or a log line: validation messages describe, never echo.
mod deliveries;
mod inbound;
mod subscriptions;

use tonic::{Request, Response, Status};

use super::AppState;
use crate::error::{Error, Result};
use crate::proto::webhook::v1::webhook_service_server::WebhookService;
use crate::proto::webhook::v1::*;

pub struct WebhookApi {
    state: AppState,
}

impl WebhookApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// Wraps a handler result into a tonic response, mapping the error once.
fn respond<T>(result: Result<T>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

/// The contract makes request_id required on every non-idempotent webhook
/// call (unlike the optional one of TenantService creates).
fn required_request_id(request_id: &str) -> Result<()> {
    if request_id.is_empty() {
        return Err(Error::invalid("request_id", "is required (a UUID is recommended)"));
    }
    crate::operations::idempotency::validate_request_id(request_id)
}

#[tonic::async_trait]
impl WebhookService for WebhookApi {
    async fn create_subscription(
        &self,
        r: Request<CreateSubscriptionRequest>,
    ) -> Result<Response<CreateSubscriptionResponse>, Status> {
        respond(subscriptions::create(&self.state, r).await)
    }
    async fn get_subscription(
        &self,
        r: Request<GetSubscriptionRequest>,
    ) -> Result<Response<GetSubscriptionResponse>, Status> {
        respond(subscriptions::get(&self.state, r).await)
    }
    async fn list_subscriptions(
        &self,
        r: Request<ListSubscriptionsRequest>,
    ) -> Result<Response<ListSubscriptionsResponse>, Status> {
        respond(subscriptions::list(&self.state, r).await)
    }
    async fn update_subscription(
        &self,
        r: Request<UpdateSubscriptionRequest>,
    ) -> Result<Response<UpdateSubscriptionResponse>, Status> {
        respond(subscriptions::update(&self.state, r).await)
    }
    async fn delete_subscription(
        &self,
        r: Request<DeleteSubscriptionRequest>,
    ) -> Result<Response<DeleteSubscriptionResponse>, Status> {
        respond(subscriptions::delete(&self.state, r).await)
    }
    async fn rotate_subscription_secret(
        &self,
        r: Request<RotateSubscriptionSecretRequest>,
    ) -> Result<Response<RotateSubscriptionSecretResponse>, Status> {
        respond(subscriptions::rotate_secret(&self.state, r).await)
    }
    async fn send_test_event(
        &self,
        r: Request<SendTestEventRequest>,
    ) -> Result<Response<SendTestEventResponse>, Status> {
        respond(deliveries::send_test_event(&self.state, r).await)
    }
    async fn list_deliveries(
        &self,
        r: Request<ListDeliveriesRequest>,
    ) -> Result<Response<ListDeliveriesResponse>, Status> {
        respond(deliveries::list(&self.state, r).await)
    }
    async fn redeliver_event(
        &self,
        r: Request<RedeliverEventRequest>,
    ) -> Result<Response<RedeliverEventResponse>, Status> {
        respond(deliveries::redeliver(&self.state, r).await)
    }
    async fn create_inbound_endpoint(
        &self,
        r: Request<CreateInboundEndpointRequest>,
    ) -> Result<Response<CreateInboundEndpointResponse>, Status> {
        respond(inbound::create(&self.state, r).await)
    }
    async fn get_inbound_endpoint(
        &self,
        r: Request<GetInboundEndpointRequest>,
    ) -> Result<Response<GetInboundEndpointResponse>, Status> {
        respond(inbound::get(&self.state, r).await)
    }
    async fn list_inbound_endpoints(
        &self,
        r: Request<ListInboundEndpointsRequest>,
    ) -> Result<Response<ListInboundEndpointsResponse>, Status> {
        respond(inbound::list(&self.state, r).await)
    }
    async fn update_inbound_endpoint(
        &self,
        r: Request<UpdateInboundEndpointRequest>,
    ) -> Result<Response<UpdateInboundEndpointResponse>, Status> {
        respond(inbound::update(&self.state, r).await)
    }
    async fn delete_inbound_endpoint(
        &self,
        r: Request<DeleteInboundEndpointRequest>,
    ) -> Result<Response<DeleteInboundEndpointResponse>, Status> {
        respond(inbound::delete(&self.state, r).await)
    }
    async fn list_inbound_events(
        &self,
        r: Request<ListInboundEventsRequest>,
    ) -> Result<Response<ListInboundEventsResponse>, Status> {
        respond(inbound::list_events(&self.state, r).await)
    }
}
