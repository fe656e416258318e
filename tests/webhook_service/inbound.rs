//! Inbound endpoints never return their secret; the inbox deduplicates;
//! calls are upserted by provider call id.

use super::*;

async fn inbound_endpoint_crud_never_returns_the_secret(server: &TestServer) {
    let tenant = server.tenant("Salon Inbound").await;
    let mut c = server.webhooks();
    let secret = "calcom-webhook-secret-7f3a9c";
    let request = pb::CreateInboundEndpointRequest {
        request_id: request_id(),
        endpoint: Some(pb::InboundEndpoint {
            provider: pb::InboundProvider::Calcom as i32,
            display_name: "Cal.com main account".into(),
            ..Default::default()
        }),
        secret: secret.into(),
    };
    let created = c.create_inbound_endpoint(authed(request.clone(), &tenant.admin)).await.unwrap().into_inner();
    assert!(!contains(&created.encode_to_vec(), secret.as_bytes()));
    let endpoint = created.endpoint.clone().unwrap();
    assert_eq!(endpoint.provider, pb::InboundProvider::Calcom as i32);
    let token = endpoint.path.strip_prefix("/webhooks/inbound/").expect("path prefix");
    assert!(token.len() >= 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let retry = c.create_inbound_endpoint(authed(request, &tenant.admin)).await.unwrap().into_inner();
    assert_eq!(retry, created, "idempotent: the same endpoint and path");

    // The inbound route finds it by its token across tenants, with its secret.
    let platform = server.state.store.platform_read().await.unwrap();
    let found = inbound_endpoints::find_by_path_token(&platform, token).await.unwrap().expect("found by token");
    platform.commit().await.unwrap();
    assert_eq!(found.tenant_id.to_string(), tenant.id);
    assert!(found.secret.starts_with("sealed:v1:"), "stored sealed");
    let opened = inbound_endpoints::secret(server.state.store.secrets(), &found).unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&opened), secret);
    assert!(!format!("{found:?}").contains(secret), "Debug output must not show the secret");

    let got = c
        .get_inbound_endpoint(authed(pb::GetInboundEndpointRequest { id: endpoint.id.clone() }, &tenant.admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.endpoint.as_ref(), Some(&endpoint));
    let listed = c
        .list_inbound_endpoints(authed(pb::ListInboundEndpointsRequest::default(), &tenant.admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.endpoints, vec![endpoint.clone()]);
    assert!(!contains(&listed.encode_to_vec(), secret.as_bytes()));

    // Rename; then replace only the secret (empty mask); the path stays.
    let renamed = c
        .update_inbound_endpoint(authed(
            pb::UpdateInboundEndpointRequest {
                endpoint: Some(pb::InboundEndpoint {
                    id: endpoint.id.clone(),
                    etag: endpoint.etag.clone(),
                    display_name: "Cal.com backup".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["display_name"]),
                secret: String::new(),
            },
            &tenant.admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .endpoint
        .unwrap();
    assert_eq!(renamed.display_name, "Cal.com backup");
    assert_eq!(renamed.path, endpoint.path);
    let new_secret = "rotated-by-calcom-55";
    let rekeyed = c
        .update_inbound_endpoint(authed(
            pb::UpdateInboundEndpointRequest {
                endpoint: Some(pb::InboundEndpoint { id: endpoint.id.clone(), ..Default::default() }),
                update_mask: None,
                secret: new_secret.into(),
            },
            &tenant.admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!contains(&rekeyed.encode_to_vec(), new_secret.as_bytes()));
    assert_ne!(rekeyed.endpoint.as_ref().unwrap().etag, renamed.etag);
    let platform = server.state.store.platform_read().await.unwrap();
    let found = inbound_endpoints::find_by_path_token(&platform, token).await.unwrap().unwrap();
    platform.commit().await.unwrap();
    let opened = inbound_endpoints::secret(server.state.store.secrets(), &found).unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&opened), new_secret, "the old secret stops verifying at once");

    let nothing = c
        .update_inbound_endpoint(authed(
            pb::UpdateInboundEndpointRequest {
                endpoint: Some(pb::InboundEndpoint { id: endpoint.id.clone(), ..Default::default() }),
                update_mask: None,
                secret: String::new(),
            },
            &tenant.admin,
        ))
        .await;
    assert_eq!(violated_fields(&expect_code(nothing, Code::InvalidArgument)), vec!["update_mask"]);
    let immutable = c
        .update_inbound_endpoint(authed(
            pb::UpdateInboundEndpointRequest {
                endpoint: Some(pb::InboundEndpoint { id: endpoint.id.clone(), ..Default::default() }),
                update_mask: mask(&["provider"]),
                secret: String::new(),
            },
            &tenant.admin,
        ))
        .await;
    assert_eq!(violated_fields(&expect_code(immutable, Code::InvalidArgument)), vec!["update_mask"]);

    // Delete: Get is NOT_FOUND and the path no longer resolves.
    c.delete_inbound_endpoint(authed(
        pb::DeleteInboundEndpointRequest { id: endpoint.id.clone(), etag: String::new() },
        &tenant.admin,
    ))
    .await
    .unwrap();
    let gone =
        c.get_inbound_endpoint(authed(pb::GetInboundEndpointRequest { id: endpoint.id.clone() }, &tenant.admin)).await;
    expect_code(gone, Code::NotFound);
    let platform = server.state.store.platform_read().await.unwrap();
    assert!(inbound_endpoints::find_by_path_token(&platform, token).await.unwrap().is_none());
    platform.commit().await.unwrap();
}

async fn inbound_endpoint_validation_never_echoes_the_secret(server: &TestServer) {
    let tenant = server.tenant("Salon Inbound Strict").await;
    let mut c = server.webhooks();
    let create = |provider: pb::InboundProvider, display_name: String, secret: &str| pb::CreateInboundEndpointRequest {
        request_id: request_id(),
        endpoint: Some(pb::InboundEndpoint { provider: provider as i32, display_name, ..Default::default() }),
        secret: secret.into(),
    };
    let cases = [
        (create(pb::InboundProvider::Unspecified, String::new(), "s3cret-value"), vec!["endpoint.provider"]),
        (create(pb::InboundProvider::Calcom, String::new(), ""), vec!["secret"]),
        (create(pb::InboundProvider::Retell, String::new(), &"k".repeat(257)), vec!["secret"]),
        (create(pb::InboundProvider::StandardWebhooks, String::new(), "not-a-whsec-secret"), vec!["secret"]),
        (create(pb::InboundProvider::Calcom, "n".repeat(201), "s3cret-value"), vec!["endpoint.display_name"]),
    ];
    for (request, fields) in cases {
        let secret = request.secret.clone();
        let status =
            expect_code(c.create_inbound_endpoint(authed(request, &tenant.admin)).await, Code::InvalidArgument);
        assert_eq!(violated_fields(&status), fields);
        if !secret.is_empty() {
            assert!(!status.message().contains(&secret), "the error must not echo the secret");
            assert!(!contains(status.details(), secret.as_bytes()), "the details must not echo the secret");
        }
    }
    let ok = c
        .create_inbound_endpoint(authed(
            create(pb::InboundProvider::StandardWebhooks, String::new(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            &tenant.admin,
        ))
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

async fn inbox_deduplicates_and_lists_newest_first(server: &TestServer) {
    let tenant = server.tenant("Salon Inbox").await;
    let mut c = server.webhooks();
    let endpoint = create_endpoint(server, &tenant.admin, pb::InboundProvider::Retell, "retell-key").await;
    let second = create_endpoint(server, &tenant.admin, pb::InboundProvider::Retell, "retell-key-2").await;
    let endpoint_id = InboundEndpointId::parse("id", &endpoint.id).unwrap();
    let second_id = InboundEndpointId::parse("id", &second.id).unwrap();
    let event = |endpoint_id, key: &str, status| NewInboundEvent {
        endpoint_id,
        provider: InboundProvider::Retell,
        event_key: key.into(),
        event_type: "call_ended".into(),
        status,
        rejection_reason: if status == InboundEventStatus::Processed { String::new() } else { "no effect".into() },
        appointment_id: None,
        call_id: None,
        customer_id: None,
    };
    let tx = server.state.store.write(tenant.tenant_id()).await.unwrap();
    let (first, new) =
        inbound_events::insert_if_new(&tx, event(endpoint_id, "call_ended:c1", InboundEventStatus::Processed))
            .await
            .unwrap();
    assert!(new);
    let (again, new) =
        inbound_events::insert_if_new(&tx, event(endpoint_id, "call_ended:c1", InboundEventStatus::Ignored))
            .await
            .unwrap();
    assert!(!new, "a known key is not stored again");
    assert_eq!(again, first);
    inbound_events::insert_if_new(&tx, event(endpoint_id, "call_ended:c2", InboundEventStatus::Ignored)).await.unwrap();
    inbound_events::insert_if_new(&tx, event(second_id, "call_ended:c1", InboundEventStatus::Processed)).await.unwrap();
    tx.commit().await.unwrap();

    let list = |endpoint_id: &str, status: pb::InboundEventStatus| pb::ListInboundEventsRequest {
        endpoint_id: endpoint_id.into(),
        status: status as i32,
        ..Default::default()
    };
    let all = c
        .list_inbound_events(authed(list("", pb::InboundEventStatus::Unspecified), &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].id, first.id.to_string(), "newest first");
    let of_first = c
        .list_inbound_events(authed(list(&endpoint.id, pb::InboundEventStatus::Unspecified), &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(
        of_first.iter().map(|e| e.event_key.as_str()).collect::<Vec<_>>(),
        vec!["call_ended:c2", "call_ended:c1"]
    );
    let ignored = c
        .list_inbound_events(authed(list(&endpoint.id, pb::InboundEventStatus::Ignored), &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0].status, pb::InboundEventStatus::Ignored as i32);
    assert_eq!(ignored[0].provider, pb::InboundProvider::Retell as i32);
    assert_eq!(ignored[0].rejection_reason, "no effect");

    // A deleted endpoint's inbox stays listable; an unknown endpoint is NOT_FOUND.
    c.delete_inbound_endpoint(authed(
        pb::DeleteInboundEndpointRequest { id: endpoint.id.clone(), etag: String::new() },
        &tenant.admin,
    ))
    .await
    .unwrap();
    let still = c
        .list_inbound_events(authed(list(&endpoint.id, pb::InboundEventStatus::Unspecified), &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(still.len(), 2);
    let unknown = c
        .list_inbound_events(authed(
            list(&uuid::Uuid::now_v7().to_string(), pb::InboundEventStatus::Unspecified),
            &tenant.admin,
        ))
        .await;
    expect_code(unknown, Code::NotFound);
}

async fn calls_are_upserted_by_provider_call_id(server: &TestServer) {
    let tenant = server.tenant("Salon Calls").await;
    let update = |status, analysis: Option<&str>| calls::CallUpdate {
        provider: InboundProvider::Retell,
        provider_call_id: "call_123".into(),
        status,
        branch_id: None,
        customer_id: None,
        appointment_id: None,
        from_number: Some("+4930123456".into()),
        to_number: None,
        start_time: None,
        end_time: None,
        analysis: analysis.map(str::to_owned),
    };
    let tx = server.state.store.write(tenant.tenant_id()).await.unwrap();
    let (ended, created) = calls::upsert(&tx, update(calls::CallStatus::Ended, None)).await.unwrap();
    assert!(created);
    // A late call_started does not move the status back.
    let (same, created) = calls::upsert(&tx, update(calls::CallStatus::Started, None)).await.unwrap();
    assert!(!created);
    assert_eq!(same.id, ended.id);
    assert_eq!(same.status, "ended");
    let (analyzed, _) = calls::upsert(&tx, update(calls::CallStatus::Analyzed, Some(r#"{"ok":true}"#))).await.unwrap();
    assert_eq!(analyzed.status, "analyzed");
    assert_eq!(analyzed.analysis.as_deref(), Some(r#"{"ok":true}"#));
    let found = calls::find(&tx, InboundProvider::Retell, "call_123").await.unwrap().expect("found");
    assert_eq!(found, analyzed);
    tx.commit().await.unwrap();
}

on_both_databases!(
    inbound_endpoint_crud_never_returns_the_secret,
    inbound_endpoint_validation_never_echoes_the_secret,
    inbox_deduplicates_and_lists_newest_first,
    calls_are_upserted_by_provider_call_id,
);
