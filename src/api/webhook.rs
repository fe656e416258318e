//! WebhookService. Subscriptions, deliveries and inbound endpoints arrive with
//! the webhooks milestone; until then every method answers UNIMPLEMENTED with
//! what it waits for.
use crate::api::not_yet_served;
use crate::proto::webhook::v1::webhook_service_server::WebhookService;
use crate::proto::webhook::v1::*;

#[derive(Default)]
pub struct WebhookApi;

#[tonic::async_trait]
impl WebhookService for WebhookApi {
    not_yet_served! {
        "arrives with inbound and outbound webhooks";
        create_subscription(CreateSubscriptionRequest) -> CreateSubscriptionResponse = "WebhookService.CreateSubscription";
        get_subscription(GetSubscriptionRequest) -> GetSubscriptionResponse = "WebhookService.GetSubscription";
        list_subscriptions(ListSubscriptionsRequest) -> ListSubscriptionsResponse = "WebhookService.ListSubscriptions";
        update_subscription(UpdateSubscriptionRequest) -> UpdateSubscriptionResponse = "WebhookService.UpdateSubscription";
        delete_subscription(DeleteSubscriptionRequest) -> DeleteSubscriptionResponse = "WebhookService.DeleteSubscription";
        rotate_subscription_secret(RotateSubscriptionSecretRequest) -> RotateSubscriptionSecretResponse = "WebhookService.RotateSubscriptionSecret";
        send_test_event(SendTestEventRequest) -> SendTestEventResponse = "WebhookService.SendTestEvent";
        list_deliveries(ListDeliveriesRequest) -> ListDeliveriesResponse = "WebhookService.ListDeliveries";
        redeliver_event(RedeliverEventRequest) -> RedeliverEventResponse = "WebhookService.RedeliverEvent";
        create_inbound_endpoint(CreateInboundEndpointRequest) -> CreateInboundEndpointResponse = "WebhookService.CreateInboundEndpoint";
        get_inbound_endpoint(GetInboundEndpointRequest) -> GetInboundEndpointResponse = "WebhookService.GetInboundEndpoint";
        list_inbound_endpoints(ListInboundEndpointsRequest) -> ListInboundEndpointsResponse = "WebhookService.ListInboundEndpoints";
        update_inbound_endpoint(UpdateInboundEndpointRequest) -> UpdateInboundEndpointResponse = "WebhookService.UpdateInboundEndpoint";
        delete_inbound_endpoint(DeleteInboundEndpointRequest) -> DeleteInboundEndpointResponse = "WebhookService.DeleteInboundEndpoint";
        list_inbound_events(ListInboundEventsRequest) -> ListInboundEventsResponse = "WebhookService.ListInboundEvents";
    }
}
