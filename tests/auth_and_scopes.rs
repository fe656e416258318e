//! Authentication and authorization against the live server: every AskPro RPC
//! needs a valid key, the permission table in `api::permissions` is what the
//! server enforces for each scope, key management behaves as documented, and
//! the unauthenticated surfaces (health, reflection, grpc-web/CORS, plain
//! HTTP) are reachable.
mod common;

use std::time::Duration;

use askpro::access::permissions;
use askpro::domain::scope::{Permission, Scope};
use askpro::proto::tenant::v1 as pb;
use common::http::http1;
use common::{Key, as_tenant, authed, expect_code, reason, violated_fields, with_key};
use http::uri::PathAndQuery;
use prost::Message;
use secrecy::ExposeSecret;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// Upper bound for any single call or HTTP exchange.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// One RPC of the compiled contracts.
#[derive(Clone, Debug)]
struct Method {
    /// `/askpro.tenant.v1.TenantService/ListBranches`
    path: String,
    /// `TenantService`
    service: String,
    /// `ListBranches`
    name: String,
    server_streaming: bool,
}

/// Every RPC of every AskPro service, from the descriptors the server embeds.
fn all_methods() -> Vec<Method> {
    let set = prost_types::FileDescriptorSet::decode(askpro::proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let mut methods = Vec::new();
    for file in &set.file {
        if !file.package().starts_with("askpro.") {
            continue;
        }
        for service in &file.service {
            for method in &service.method {
                methods.push(Method {
                    path: format!("/{}.{}/{}", file.package(), service.name(), method.name()),
                    service: service.name().to_owned(),
                    name: method.name().to_owned(),
                    server_streaming: method.server_streaming == Some(true),
                });
            }
        }
    }
    assert!(methods.len() > 60, "expected the four AskPro services, found {} methods", methods.len());
    methods
}

/// Calls `method` with an empty message (zero bytes, which every request type
/// decodes) through a raw client; a server stream is opened and dropped.
async fn call_raw(channel: &Channel, method: &Method, request: Request<()>) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    let path = PathAndQuery::try_from(method.path.as_str()).expect("valid path");
    let call = async {
        grpc.ready().await.map_err(|e| Status::unknown(format!("channel not ready: {e}")))?;
        if method.server_streaming {
            let codec = tonic_prost::ProstCodec::<(), ()>::default();
            grpc.server_streaming(request, path, codec).await.map(drop)
        } else {
            let codec = tonic_prost::ProstCodec::<(), ()>::default();
            grpc.unary(request, path, codec).await.map(drop)
        }
    };
    tokio::time::timeout(CALL_TIMEOUT, call).await.unwrap_or_else(|_| panic!("{} timed out", method.path))
}

fn describe(result: &Result<(), Status>) -> String {
    match result {
        Ok(()) => "OK".into(),
        Err(status) => format!("{:?} reason={:?} message={:?}", status.code(), reason(status), status.message()),
    }
}

// ---------------------------------------------------------------------------
// a. No key.

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

// ---------------------------------------------------------------------------
// b. Bad keys.

async fn list_branches(server: &common::TestServer, request: Request<pb::ListBranchesRequest>) -> Result<(), Status> {
    let mut client = server.tenants();
    let call = client.list_branches(request);
    tokio::time::timeout(CALL_TIMEOUT, call).await.expect("ListBranches timed out").map(drop)
}

#[track_caller]
fn assert_invalid_key(result: Result<(), Status>, what: &str) {
    match result {
        Err(status) if status.code() == Code::Unauthenticated && reason(&status) == "API_KEY_INVALID" => {}
        other => panic!("{what}: expected UNAUTHENTICATED/API_KEY_INVALID, got {}", describe(&other)),
    }
}

/// The key with its last hex character replaced by another hex character.
fn with_wrong_secret(key: &str) -> String {
    let mut chars: Vec<char> = key.chars().collect();
    let last = chars.last_mut().expect("non-empty key");
    *last = if *last == '0' { '1' } else { '0' };
    chars.into_iter().collect()
}

async fn create_key(
    server: &common::TestServer,
    admin: &str,
    scope: pb::ApiKeyScope,
    expire_time: Option<prost_types::Timestamp>,
) -> pb::CreateApiKeyResponse {
    server
        .tenants()
        .create_api_key(authed(
            pb::CreateApiKeyRequest {
                api_key: Some(pb::ApiKey {
                    display_name: format!("{scope:?} test key"),
                    scope: scope as i32,
                    expire_time,
                    ..Default::default()
                }),
            },
            admin,
        ))
        .await
        .expect("create key")
        .into_inner()
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

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
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

// ---------------------------------------------------------------------------
// c. The scope matrix.

#[test]
fn permission_table_spot_checks() {
    let tenant = |m: &str| format!("/askpro.tenant.v1.TenantService/{m}");
    let availability = |m: &str| format!("/askpro.availability.v1.AvailabilityService/{m}");
    let appointment = |m: &str| format!("/askpro.appointment.v1.AppointmentService/{m}");
    let webhook = |m: &str| format!("/askpro.webhook.v1.WebhookService/{m}");
    let expected = [
        (tenant("CreateTenant"), Permission::Platform),
        (tenant("ListTenants"), Permission::Platform),
        (tenant("ListBranches"), Permission::Read),
        (tenant("CreateApiKey"), Permission::Administer),
        (tenant("ListApiKeys"), Permission::Administer),
        (availability("HoldSlot"), Permission::Book),
        (availability("ListAvailableSlots"), Permission::Read),
        (availability("SetWorkingHours"), Permission::Administer),
        (appointment("CreateAppointment"), Permission::Book),
        (appointment("WatchAppointments"), Permission::Read),
        (appointment("DeleteCustomer"), Permission::Administer),
        (webhook("ListSubscriptions"), Permission::Administer),
    ];
    for (path, permission) in expected {
        assert_eq!(permissions::required(&path), Some(permission), "{path}");
    }
    for method in all_methods() {
        assert!(permissions::required(&method.path).is_some(), "{} has no permission", method.path);
    }
}

async fn scope_matrix_matches_the_permission_table(server: &common::TestServer) {
    let tenant = server.tenant("Salon Matrix").await;
    let platform = server.platform_key();
    let callers: [(&str, Key<'_>, Scope); 5] = [
        ("platform admin (no tenant header)", Key::Tenant(platform), Scope::PlatformAdmin),
        ("platform admin as tenant", as_tenant(platform, &tenant.id), Scope::PlatformAdmin),
        ("tenant admin", Key::Tenant(&tenant.admin), Scope::TenantAdmin),
        ("agent", Key::Tenant(&tenant.agent), Scope::Agent),
        ("read-only", Key::Tenant(&tenant.reader), Scope::ReadOnly),
    ];
    let methods = all_methods();
    let mut wrong = Vec::new();
    for (label, key, scope) in callers {
        let mut denied = 0;
        for method in &methods {
            let permission = permissions::required(&method.path).expect("every method has a permission");
            let result = call_raw(&server.channel, method, with_key((), key)).await;
            let code = result.as_ref().err().map(Status::code);
            if scope.grants(permission) {
                if matches!(code, Some(Code::PermissionDenied | Code::Unauthenticated)) {
                    wrong.push(format!("{label} {} ({permission:?}) must pass: {}", method.path, describe(&result)));
                }
                // An empty request is a client mistake, never a server fault.
                if matches!(code, Some(Code::Internal | Code::Unknown)) {
                    wrong.push(format!("{label} {} with an empty request: {}", method.path, describe(&result)));
                }
            } else {
                denied += 1;
                let ok = matches!(&result, Err(s) if s.code() == Code::PermissionDenied && reason(s) == "SCOPE_INSUFFICIENT");
                if !ok {
                    wrong.push(format!(
                        "{label} {} ({permission:?}) must be PERMISSION_DENIED/SCOPE_INSUFFICIENT: {}",
                        method.path,
                        describe(&result)
                    ));
                }
            }
        }
        // The matrix is not vacuous: only platform admins may do everything.
        assert_eq!(denied == 0, scope == Scope::PlatformAdmin, "{label}: {denied} methods denied");
    }
    assert!(wrong.is_empty(), "scope matrix mismatches:\n{}", wrong.join("\n"));
    // Nothing in the matrix broke the fixture's keys.
    list_branches(server, authed(pb::ListBranchesRequest::default(), &tenant.reader))
        .await
        .expect("reader still works");
}

// ---------------------------------------------------------------------------
// d. Every method of the contracts is served.

async fn every_rpc_is_served(server: &common::TestServer) {
    let tenant = server.tenant("Salon Served").await;
    let mut wrong = Vec::new();
    let mut checked = 0;
    for method in all_methods() {
        let result = call_raw(&server.channel, &method, authed((), &tenant.admin)).await;
        checked += 1;
        if matches!(&result, Err(s) if s.code() == Code::Unimplemented) {
            wrong.push(format!(
                "{}.{} must be served, not UNIMPLEMENTED: {}",
                method.service,
                method.name,
                describe(&result)
            ));
        }
    }
    assert!(checked > 60, "expected the four services, checked {checked} methods");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------
// e. API key management.

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

async fn created_key_secret_is_shown_once(server: &common::TestServer) {
    let tenant = server.tenant("Salon Once").await;
    let created = create_key(server, &tenant.admin, pb::ApiKeyScope::Agent, None).await;
    let key = created.api_key.clone().expect("api key");
    assert_eq!(key.scope, pb::ApiKeyScope::Agent as i32);
    let hex_id = key.key_prefix.strip_prefix("ak_").expect("key_prefix starts with ak_");
    assert!(is_lower_hex(hex_id, 32), "key_prefix {:?} is ak_<32 hex>", key.key_prefix);
    assert_eq!(hex_id, uuid::Uuid::parse_str(&key.id).expect("id is a UUID").simple().to_string());
    let secret_part = created
        .secret
        .strip_prefix(&format!("{}_", key.key_prefix))
        .unwrap_or_else(|| panic!("secret {:?} starts with key_prefix_", created.secret));
    assert!(is_lower_hex(secret_part, 48), "secret part is 48 hex characters");
    // The key object in the create response carries no secret either.
    assert!(!contains(&key.encode_to_vec(), secret_part.as_bytes()));

    let list = server
        .tenants()
        .list_api_keys(authed(pb::ListApiKeysRequest { show_revoked: true, ..Default::default() }, &tenant.admin))
        .await
        .expect("list keys")
        .into_inner();
    let listed = list.api_keys.iter().find(|k| k.id == key.id).expect("new key listed");
    assert_eq!(listed.key_prefix, key.key_prefix);
    assert!(!contains(&list.encode_to_vec(), secret_part.as_bytes()), "ListApiKeys must never return a secret");
    // The secret works as a key.
    list_branches(server, authed(pb::ListBranchesRequest::default(), &created.secret)).await.expect("secret works");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

async fn create_api_key_rejects_platform_and_unspecified_scopes(server: &common::TestServer) {
    let tenant = server.tenant("Salon Scopes").await;
    let mut client = server.tenants();
    for scope in [pb::ApiKeyScope::PlatformAdmin, pb::ApiKeyScope::Unspecified] {
        let request = pb::CreateApiKeyRequest {
            api_key: Some(pb::ApiKey { display_name: "sneaky".into(), scope: scope as i32, ..Default::default() }),
        };
        let status = expect_code(client.create_api_key(authed(request, &tenant.admin)).await, Code::InvalidArgument);
        assert_eq!(violated_fields(&status), vec!["api_key.scope"], "{scope:?}");
    }
    // Not even a platform admin acting on the tenant may mint one through the API.
    let request = pb::CreateApiKeyRequest {
        api_key: Some(pb::ApiKey {
            display_name: "sneaky".into(),
            scope: pb::ApiKeyScope::PlatformAdmin as i32,
            ..Default::default()
        }),
    };
    let status = expect_code(
        client.create_api_key(with_key(request, as_tenant(server.platform_key(), &tenant.id))).await,
        Code::InvalidArgument,
    );
    assert_eq!(violated_fields(&status), vec!["api_key.scope"]);
    // Nothing was created.
    let keys = client
        .list_api_keys(authed(pb::ListApiKeysRequest { show_revoked: true, ..Default::default() }, &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .api_keys;
    assert_eq!(keys.len(), 3, "only the fixture's keys: {keys:?}");
}

async fn list_api_keys_hides_revoked_unless_asked(server: &common::TestServer) {
    let tenant = server.tenant("Salon Hidden").await;
    let mut client = server.tenants();
    let created = create_key(server, &tenant.admin, pb::ApiKeyScope::ReadOnly, None).await;
    let id = created.api_key.expect("key").id;
    let listed = |show_revoked: bool| {
        let mut client = server.tenants();
        let admin = tenant.admin.clone();
        async move {
            client
                .list_api_keys(authed(pb::ListApiKeysRequest { show_revoked, ..Default::default() }, &admin))
                .await
                .expect("list keys")
                .into_inner()
                .api_keys
        }
    };
    assert!(listed(false).await.iter().any(|k| k.id == id), "active key listed");
    client.revoke_api_key(authed(pb::RevokeApiKeyRequest { id: id.clone() }, &tenant.admin)).await.expect("revoke");
    let active = listed(false).await;
    assert!(!active.iter().any(|k| k.id == id), "revoked key hidden by default");
    assert_eq!(active.len(), 3, "the fixture's three keys remain");
    assert!(active.iter().all(|k| k.revoke_time.is_none()));
    let all = listed(true).await;
    let revoked = all.iter().find(|k| k.id == id).expect("revoked key listed with show_revoked");
    assert!(revoked.revoke_time.is_some());
    assert_eq!(all.len(), 4);
}

async fn revoking_twice_returns_the_same_revoke_time(server: &common::TestServer) {
    let tenant = server.tenant("Salon Twice").await;
    let mut client = server.tenants();
    let created = create_key(server, &tenant.admin, pb::ApiKeyScope::Agent, None).await;
    let id = created.api_key.expect("key").id;
    let first = client
        .revoke_api_key(authed(pb::RevokeApiKeyRequest { id: id.clone() }, &tenant.admin))
        .await
        .expect("first revoke")
        .into_inner()
        .api_key
        .expect("key");
    let first_time = first.revoke_time.expect("revoke_time set");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = client
        .revoke_api_key(authed(pb::RevokeApiKeyRequest { id: id.clone() }, &tenant.admin))
        .await
        .expect("second revoke")
        .into_inner()
        .api_key
        .expect("key");
    assert_eq!(second.revoke_time, Some(first_time), "revoking again changes nothing");
    assert_eq!(second, first, "the whole key is returned unchanged");
    let listed = client
        .list_api_keys(authed(pb::ListApiKeysRequest { show_revoked: true, ..Default::default() }, &tenant.admin))
        .await
        .unwrap()
        .into_inner()
        .api_keys;
    let stored = listed.iter().find(|k| k.id == id).expect("listed");
    assert_eq!(stored.revoke_time, Some(first_time), "the stored revoke_time is the one returned");
}

// ---------------------------------------------------------------------------
// f. Health and reflection without a key.

async fn health_needs_no_key_and_reports_serving(server: &common::TestServer) {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let mut client = HealthClient::new(server.channel.clone());
    let names = std::iter::once("").chain(askpro::server::SERVICE_NAMES);
    for name in names {
        let response =
            tokio::time::timeout(CALL_TIMEOUT, client.check(Request::new(HealthCheckRequest { service: name.into() })))
                .await
                .expect("health check timed out")
                .unwrap_or_else(|s| panic!("health {name:?}: {s:?}"))
                .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "health of {name:?}");
    }
    let status = client
        .check(Request::new(HealthCheckRequest { service: "askpro.nope.v1.NopeService".into() }))
        .await
        .expect_err("unknown service");
    assert_eq!(status.code(), Code::NotFound);
}

const ASKPRO_SERVICES: [&str; 4] = [
    "askpro.tenant.v1.TenantService",
    "askpro.availability.v1.AvailabilityService",
    "askpro.appointment.v1.AppointmentService",
    "askpro.webhook.v1.WebhookService",
];

async fn reflection_lists_the_services_without_a_key(server: &common::TestServer) {
    assert_eq!(askpro::server::SERVICE_NAMES, ASKPRO_SERVICES);

    // v1
    {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut client = ServerReflectionClient::new(server.channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let names = tokio::time::timeout(CALL_TIMEOUT, async {
            let mut stream =
                client.server_reflection_info(tokio_stream::once(request)).await.expect("reflection v1").into_inner();
            let response = stream.message().await.expect("v1 response").expect("one v1 response");
            match response.message_response {
                Some(MessageResponse::ListServicesResponse(list)) => {
                    list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
                }
                other => panic!("unexpected v1 response {other:?}"),
            }
        })
        .await
        .expect("reflection v1 timed out");
        for service in ASKPRO_SERVICES {
            assert!(names.iter().any(|n| n == service), "v1 lists {service}: {names:?}");
        }
    }
    // v1alpha
    {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        let mut client = ServerReflectionClient::new(server.channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let names = tokio::time::timeout(CALL_TIMEOUT, async {
            let mut stream = client
                .server_reflection_info(tokio_stream::iter(vec![request]))
                .await
                .expect("reflection v1alpha")
                .into_inner();
            let response = stream.message().await.expect("v1alpha response").expect("one v1alpha response");
            match response.message_response {
                Some(MessageResponse::ListServicesResponse(list)) => {
                    list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
                }
                other => panic!("unexpected v1alpha response {other:?}"),
            }
        })
        .await
        .expect("reflection v1alpha timed out");
        for service in ASKPRO_SERVICES {
            assert!(names.iter().any(|n| n == service), "v1alpha lists {service}: {names:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// g. grpc-web, CORS and plain HTTP/1.1.

/// Splits a grpc-web body into (flags, payload) frames.
fn grpc_web_frames(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !body.is_empty() {
        assert!(body.len() >= 5, "truncated frame header");
        let flags = body[0];
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        assert!(body.len() >= 5 + len, "truncated frame");
        frames.push((flags, body[5..5 + len].to_vec()));
        body = &body[5 + len..];
    }
    frames
}

async fn grpc_web_over_http1_with_cors(server: &common::TestServer) {
    let tenant = server.tenant("Salon Browser").await;
    let head = format!(
        "POST /askpro.tenant.v1.TenantService/ListBranches HTTP/1.1\r\n\
         Host: {addr}\r\n\
         Content-Type: application/grpc-web+proto\r\n\
         Accept: application/grpc-web+proto\r\n\
         X-Grpc-Web: 1\r\n\
         Origin: http://localhost:5173\r\n\
         Authorization: Bearer {key}\r\n\
         Content-Length: 5\r\n\
         Connection: close\r\n\r\n",
        addr = server.addr,
        key = tenant.reader,
    );
    let response = http1(server.addr, &head, &[0, 0, 0, 0, 0]).await;
    assert_eq!(response.status, 200, "headers {:?}", response.headers);
    assert!(response.header("access-control-allow-origin").is_some(), "CORS allow-origin: {:?}", response.headers);
    let exposed = response.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(exposed.contains("grpc-status"), "expose-headers {exposed:?}");
    assert!(
        response.header("content-type").is_some_and(|t| t.starts_with("application/grpc-web")),
        "content-type {:?}",
        response.header("content-type")
    );
    let frames = grpc_web_frames(&response.body);
    let data = frames.iter().find(|(flags, _)| *flags == 0).expect("a data frame");
    let listed = pb::ListBranchesResponse::decode(data.1.as_slice()).expect("ListBranchesResponse");
    assert_eq!(listed.branches.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), vec![tenant.branch.id.as_str()]);
    assert!(contains(&response.body, tenant.branch.id.as_bytes()));
    let trailer = frames.iter().find(|(flags, _)| *flags == 0x80).expect("a trailer frame");
    let trailer = String::from_utf8_lossy(&trailer.1).to_ascii_lowercase();
    assert!(trailer.contains("grpc-status:0"), "trailer {trailer:?}");

    // Without a key the same request is UNAUTHENTICATED, readable by the browser.
    let anonymous = head.replace(&format!("Authorization: Bearer {}\r\n", tenant.reader), "");
    let response = http1(server.addr, &anonymous, &[0, 0, 0, 0, 0]).await;
    assert_eq!(response.status, 200);
    assert!(response.header("access-control-allow-origin").is_some());
    let status = response.header("grpc-status").map(str::to_owned).or_else(|| {
        grpc_web_frames(&response.body).into_iter().find(|(flags, _)| *flags == 0x80).and_then(|(_, t)| {
            String::from_utf8_lossy(&t)
                .lines()
                .find_map(|l| l.strip_prefix("grpc-status:").map(|s| s.trim().to_owned()))
        })
    });
    assert_eq!(status.as_deref(), Some("16"), "UNAUTHENTICATED over grpc-web");
}

async fn cors_preflight_allows_grpc_web_headers(server: &common::TestServer) {
    let head = format!(
        "OPTIONS /askpro.tenant.v1.TenantService/ListBranches HTTP/1.1\r\n\
         Host: {addr}\r\n\
         Origin: http://localhost:5173\r\n\
         Access-Control-Request-Method: POST\r\n\
         Access-Control-Request-Headers: authorization,content-type,x-grpc-web\r\n\
         Content-Length: 0\r\n\
         Connection: close\r\n\r\n",
        addr = server.addr,
    );
    let response = http1(server.addr, &head, &[]).await;
    assert!((200..300).contains(&response.status), "preflight status {} {:?}", response.status, response.headers);
    assert!(response.header("access-control-allow-origin").is_some(), "{:?}", response.headers);
    let methods = response.header("access-control-allow-methods").unwrap_or_default().to_ascii_uppercase();
    assert!(methods.contains("POST"), "allow-methods {methods:?}");
    let allowed = response.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    for header in ["authorization", "content-type", "x-grpc-web"] {
        assert!(allowed.contains(header), "allow-headers {allowed:?} lacks {header}");
    }
}

async fn plain_http_health_is_json(server: &common::TestServer) {
    let head = format!("GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr);
    let response = http1(server.addr, &head, &[]).await;
    assert_eq!(response.status, 200);
    assert!(
        response.header("content-type").is_some_and(|t| t.starts_with("application/json")),
        "content-type {:?}",
        response.header("content-type")
    );
    let json: serde_json::Value = serde_json::from_slice(&response.body).expect("JSON body");
    assert_eq!(json["status"], "serving", "{json}");
    assert_eq!(json["components"]["database"]["status"], "up", "{json}");
}

on_both_databases!(
    every_rpc_without_a_key_is_unauthenticated,
    malformed_and_unknown_keys_are_invalid,
    revoked_key_is_unauthenticated,
    expired_key_is_unauthenticated,
    non_bearer_authorization_is_missing_key,
    x_api_key_header_authenticates,
    tenant_header_is_only_for_platform_keys,
    scope_matrix_matches_the_permission_table,
    every_rpc_is_served,
    created_key_secret_is_shown_once,
    create_api_key_rejects_platform_and_unspecified_scopes,
    list_api_keys_hides_revoked_unless_asked,
    revoking_twice_returns_the_same_revoke_time,
    health_needs_no_key_and_reports_serving,
    reflection_lists_the_services_without_a_key,
    grpc_web_over_http1_with_cors,
    cors_preflight_allows_grpc_web_headers,
    plain_http_health_is_json,
);

// ---------------------------------------------------------------------------
// Path variants do not slip past authentication.

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

on_both_databases!(path_variants_never_reach_a_handler_without_a_key);
