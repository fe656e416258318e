//! Authentication and authorization against the live server: every AskPro RPC
//! needs a valid key, the permission table in `api::permissions` is what the
//! server enforces for each scope, key management behaves as documented, and
//! the unauthenticated surfaces (health, reflection, grpc-web/CORS, plain
//! HTTP) are reachable.

mod authentication;
#[path = "../common/mod.rs"]
mod common;
mod key_management;
mod open_surfaces;
mod platform_keys;
mod scopes;

use std::time::Duration;

use askpro::access::permissions;
use askpro::domain::scope::{Permission, Scope};
use askpro::proto::tenant::v1 as pb;
use common::http::http1;
use common::{Key, as_tenant, authed, contains, expect_code, reason, violated_fields, with_key};
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

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}
