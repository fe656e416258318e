//! Authentication: every RPC needs a valid key, in the right header, and the
//! tenant header is only for platform keys; path variants do not slip past.

use super::*;

async fn every_rpc_without_a_key_is_unauthenticated(server: &common::TestServer) {
    let methods = all_methods();
    let mut wrong = Vec::new();
    for method in &methods {
        let result = call_raw(&server.channel, method, Request::new(())).await;
        let ok = matches!(&result, Err(s) if s.code() == Code::Unauthenticated && reason(s) == "API_KEY_MISSING");
        if !ok {
            wrong.push(format!("{}: {}", method.path, describe(&result)));
        }
    }
    assert!(wrong.is_empty(), "calls without a key must be UNAUTHENTICATED/API_KEY_MISSING:\n{}", wrong.join("\n"));
}

async fn malformed_and_unknown_keys_are_invalid(server: &common::TestServer) {
    let tenant = server.tenant("Salon Keys").await;
    let req = pb::ListBranchesRequest::default;
    list_branches(server, authed(req(), &tenant.reader)).await.expect("the real key works");

    assert_invalid_key(list_branches(server, authed(req(), "ak_nope")).await, "malformed key");
    let never_stored = askpro::domain::api_key::issue();
    assert_invalid_key(
        list_branches(server, authed(req(), never_stored.full_key.expose_secret())).await,
        "well-formed key never stored",
    );
    let wrong = with_wrong_secret(&tenant.reader);
    assert_ne!(wrong, tenant.reader);
    assert_invalid_key(list_branches(server, authed(req(), &wrong)).await, "right id, wrong secret");
    // The key with the right secret still works afterwards.
    list_branches(server, authed(req(), &tenant.reader)).await.expect("the real key still works");
}

async fn revoked_key_is_unauthenticated(server: &common::TestServer) {
    let tenant = server.tenant("Salon Revoked").await;
    let created = create_key(server, &tenant.admin, pb::ApiKeyScope::Agent, None).await;
    let id = created.api_key.expect("api key").id;
    list_branches(server, authed(pb::ListBranchesRequest::default(), &created.secret)).await.expect("works before");
    server.tenants().revoke_api_key(authed(pb::RevokeApiKeyRequest { id }, &tenant.admin)).await.expect("revoke");
    assert_invalid_key(
        list_branches(server, authed(pb::ListBranchesRequest::default(), &created.secret)).await,
        "revoked key",
    );
    // Other keys of the tenant are unaffected.
    list_branches(server, authed(pb::ListBranchesRequest::default(), &tenant.agent)).await.expect("other key works");
}

async fn expired_key_is_unauthenticated(server: &common::TestServer) {
    let tenant = server.tenant("Salon Expiry").await;
    // Whole microseconds: what both databases store.
    let expire_at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let expire_at = chrono::DateTime::from_timestamp_micros(expire_at.timestamp_micros()).expect("valid time");
    let created = create_key(server, &tenant.admin, pb::ApiKeyScope::ReadOnly, Some(timestamp(expire_at))).await;
    assert_eq!(created.api_key.as_ref().and_then(|k| k.expire_time), Some(timestamp(expire_at)));
    list_branches(server, authed(pb::ListBranchesRequest::default(), &created.secret))
        .await
        .expect("a key works before it expires");
    // Wait until just past the expiry (bounded: at most ~2 s).
    let remaining = (expire_at - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(remaining + Duration::from_millis(100)).await;
    assert_invalid_key(
        list_branches(server, authed(pb::ListBranchesRequest::default(), &created.secret)).await,
        "expired key",
    );
}

async fn non_bearer_authorization_is_missing_key(server: &common::TestServer) {
    let tenant = server.tenant("Salon Basic").await;
    let mut request = Request::new(pb::ListBranchesRequest::default());
    request.metadata_mut().insert("authorization", "Basic xyz".parse().unwrap());
    let status = list_branches(server, request).await.expect_err("Basic is no API key");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(reason(&status), "API_KEY_MISSING");

    // Even a real key under another scheme is not accepted.
    let mut request = Request::new(pb::ListBranchesRequest::default());
    request.metadata_mut().insert("authorization", format!("Basic {}", tenant.reader).parse().unwrap());
    let status = list_branches(server, request).await.expect_err("Basic with a real key");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(reason(&status), "API_KEY_MISSING");
}

async fn x_api_key_header_authenticates(server: &common::TestServer) {
    let tenant = server.tenant("Salon Header").await;
    let mut request = Request::new(pb::ListBranchesRequest::default());
    request.metadata_mut().insert("x-api-key", tenant.reader.parse().unwrap());
    let branches = server.tenants().list_branches(request).await.expect("x-api-key works").into_inner().branches;
    assert_eq!(branches.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), vec![tenant.branch.id.as_str()]);

    let mut request = Request::new(pb::ListBranchesRequest::default());
    request.metadata_mut().insert("x-api-key", with_wrong_secret(&tenant.reader).parse().unwrap());
    assert_invalid_key(list_branches(server, request).await, "x-api-key with a wrong secret");
}

async fn tenant_header_is_only_for_platform_keys(server: &common::TestServer) {
    let a = server.tenant("Salon Header A").await;
    let b = server.tenant("Salon Header B").await;
    // A tenant key naming its own tenant is fine.
    list_branches(server, with_key(pb::ListBranchesRequest::default(), as_tenant(&a.reader, &a.id)))
        .await
        .expect("own tenant named");
    // A tenant key naming another tenant is refused.
    let status = list_branches(server, with_key(pb::ListBranchesRequest::default(), as_tenant(&a.reader, &b.id)))
        .await
        .expect_err("foreign tenant named");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(reason(&status), "SCOPE_INSUFFICIENT");
    // A platform key naming a tenant that does not exist.
    let unknown = uuid::Uuid::now_v7().to_string();
    let status =
        list_branches(server, with_key(pb::ListBranchesRequest::default(), as_tenant(server.platform_key(), &unknown)))
            .await
            .expect_err("unknown tenant named");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    // A platform key naming something that is no id.
    let status =
        list_branches(server, with_key(pb::ListBranchesRequest::default(), as_tenant(server.platform_key(), "salon")))
            .await
            .expect_err("garbage tenant id");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(&status), vec!["x-askpro-tenant-id"]);
    // A platform key acting on B sees B's branch only.
    let branches = server
        .tenants()
        .list_branches(with_key(pb::ListBranchesRequest::default(), as_tenant(server.platform_key(), &b.id)))
        .await
        .expect("platform key as tenant B")
        .into_inner()
        .branches;
    assert_eq!(branches.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), vec![b.branch.id.as_str()]);
}

async fn path_variants_never_reach_a_handler_without_a_key(server: &common::TestServer) {
    let tenant = server.tenant("Salon Paths").await;
    let variants = [
        "//askpro.tenant.v1.TenantService/ListTenants",
        "/%61skpro.tenant.v1.TenantService/ListTenants",
        "/askpro.tenant.v1.TenantService/ListTenants/",
        "/askpro.tenant.v1.TenantService//ListTenants",
        "/ASKPRO.tenant.v1.TenantService/ListTenants",
        "/askpro.tenant.v1.TenantService/%4CistTenants",
        "/askpro.tenant.v1.TenantService/ListTenants%2F",
        "/./askpro.tenant.v1.TenantService/ListTenants",
        "/x/../askpro.tenant.v1.TenantService/ListTenants",
        "//askpro.tenant.v1.TenantService/ListBranches",
        "/%61skpro.tenant.v1.TenantService/ListBranches",
    ];
    for path in variants {
        for key in [None, Some(tenant.reader.as_str())] {
            let method =
                Method { path: path.into(), service: String::new(), name: String::new(), server_streaming: false };
            let request = match key {
                None => Request::new(()),
                Some(key) => authed((), key),
            };
            let result = call_raw(&server.channel, &method, request).await;
            assert!(result.is_err(), "{path} with key {key:?} must not be served: {}", describe(&result));
        }
    }
}

on_both_databases!(
    every_rpc_without_a_key_is_unauthenticated,
    malformed_and_unknown_keys_are_invalid,
    revoked_key_is_unauthenticated,
    expired_key_is_unauthenticated,
    non_bearer_authorization_is_missing_key,
    x_api_key_header_authenticates,
    tenant_header_is_only_for_platform_keys,
    path_variants_never_reach_a_handler_without_a_key,
);
