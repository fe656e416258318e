//! Another tenant's ids are NOT_FOUND; only tenant admins manage webhooks.

use super::*;

async fn another_tenants_ids_are_not_found(server: &TestServer) {
    let a = server.tenant("Salon A").await;
    let b = server.tenant("Salon B").await;
    let mut c = server.webhooks();
    let sub =
        create_subscription(server, &a.admin, subscription("https://example.com/a", &[])).await.subscription.unwrap();
    let event_id = send_test_event(server, &a.admin, &sub.id).await;
    let endpoint = create_endpoint(server, &a.admin, pb::InboundProvider::Calcom, "secret-a").await;

    let mut statuses = vec![
        c.get_subscription(authed(pb::GetSubscriptionRequest { id: sub.id.clone() }, &b.admin)).await.map(|_| ()),
        c.update_subscription(authed(
            pb::UpdateSubscriptionRequest {
                subscription: Some(pb::Subscription {
                    id: sub.id.clone(),
                    description: "x".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["description"]),
            },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.delete_subscription(authed(
            pb::DeleteSubscriptionRequest { id: sub.id.clone(), etag: String::new() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.rotate_subscription_secret(authed(
            pb::RotateSubscriptionSecretRequest { id: sub.id.clone(), request_id: request_id() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.send_test_event(authed(
            pb::SendTestEventRequest { request_id: request_id(), subscription_id: sub.id.clone() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.list_deliveries(authed(
            pb::ListDeliveriesRequest { subscription_id: sub.id.clone(), ..Default::default() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.redeliver_event(authed(
            pb::RedeliverEventRequest {
                request_id: request_id(),
                subscription_id: sub.id.clone(),
                event_id: event_id.clone(),
            },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.get_inbound_endpoint(authed(pb::GetInboundEndpointRequest { id: endpoint.id.clone() }, &b.admin))
            .await
            .map(|_| ()),
        c.update_inbound_endpoint(authed(
            pb::UpdateInboundEndpointRequest {
                endpoint: Some(pb::InboundEndpoint { id: endpoint.id.clone(), ..Default::default() }),
                update_mask: None,
                secret: "stolen".into(),
            },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.delete_inbound_endpoint(authed(
            pb::DeleteInboundEndpointRequest { id: endpoint.id.clone(), etag: String::new() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
        c.list_inbound_events(authed(
            pb::ListInboundEventsRequest { endpoint_id: endpoint.id.clone(), ..Default::default() },
            &b.admin,
        ))
        .await
        .map(|_| ()),
    ];
    for (index, result) in statuses.drain(..).enumerate() {
        let status = result.expect_err(&format!("call {index} must fail"));
        assert_eq!(status.code(), Code::NotFound, "call {index}: {status:?}");
        assert_eq!(reason(&status), "RESOURCE_NOT_FOUND");
    }
    // B's lists are empty; A's things are untouched.
    let listed = c.list_subscriptions(authed(pb::ListSubscriptionsRequest::default(), &b.admin)).await.unwrap();
    assert!(listed.into_inner().subscriptions.is_empty());
    let listed = c.list_inbound_endpoints(authed(pb::ListInboundEndpointsRequest::default(), &b.admin)).await.unwrap();
    assert!(listed.into_inner().endpoints.is_empty());
    let got = c.get_subscription(authed(pb::GetSubscriptionRequest { id: sub.id.clone() }, &a.admin)).await.unwrap();
    assert_eq!(got.into_inner().subscription.unwrap().etag, sub.etag);
    assert_eq!(deliveries_of(server, &a.admin, &sub.id).await.len(), 1);
}

async fn only_tenant_admins_manage_webhooks(server: &TestServer) {
    let tenant = server.tenant("Salon Scope").await;
    let mut c = server.webhooks();
    for key in [&tenant.agent, &tenant.reader] {
        let listed = c.list_subscriptions(authed(pb::ListSubscriptionsRequest::default(), key)).await;
        assert_eq!(reason(&expect_code(listed, Code::PermissionDenied)), "SCOPE_INSUFFICIENT");
        let created = c
            .create_subscription(authed(
                pb::CreateSubscriptionRequest {
                    request_id: request_id(),
                    subscription: Some(subscription("https://example.com/", &[])),
                },
                key,
            ))
            .await;
        expect_code(created, Code::PermissionDenied);
        let events = c.list_inbound_events(authed(pb::ListInboundEventsRequest::default(), key)).await;
        expect_code(events, Code::PermissionDenied);
    }
}

on_both_databases!(another_tenants_ids_are_not_found, only_tenant_admins_manage_webhooks,);
