//! Retries: UNAVAILABLE is retried with backoff up to the attempt limit,
//! ALREADY_EXISTS (and every other code) never.
mod common;

use std::time::Duration;

use askpro_client::tenant::v1 as tn;
use askpro_client::tonic::Code;
use askpro_client::{AskPro, Error, RetryPolicy};
use common::{ScriptedServer, TestServer};

fn quick(max_attempts: u32) -> RetryPolicy {
    RetryPolicy { max_attempts, initial_backoff: Duration::from_millis(20), max_backoff: Duration::from_millis(200) }
}

async fn client(target: String, retry: RetryPolicy) -> AskPro {
    AskPro::builder(target, "key").retry(retry).connect().await.expect("connect")
}

#[tokio::test]
async fn unavailable_is_retried_until_the_server_answers() {
    let (server, target) = ScriptedServer::start(&[Code::Unavailable, Code::Unavailable, Code::NotFound]).await;
    let error = client(target, quick(5)).await.get_tenant(tn::GetTenantRequest::default()).await.expect_err("404");
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    assert_eq!(server.calls(), 3, "two retries, then the answer");
}

#[tokio::test]
async fn retries_stop_after_max_attempts() {
    let (server, target) = ScriptedServer::start(&[Code::Unavailable]).await;
    let error = client(target, quick(4)).await.get_tenant(tn::GetTenantRequest::default()).await.expect_err("down");
    assert!(matches!(error, Error::Unavailable(_)), "{error:?}");
    assert_eq!(server.calls(), 4);
}

#[tokio::test]
async fn already_exists_is_never_retried() {
    let (server, target) = ScriptedServer::start(&[Code::AlreadyExists, Code::Ok]).await;
    let error =
        client(target, quick(5)).await.create_tenant(tn::CreateTenantRequest::default()).await.expect_err("exists");
    assert!(matches!(error, Error::AlreadyExists(_)), "{error:?}");
    assert_eq!(server.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waits_for_a_server_that_starts_listening_later() {
    // Reserve a port, free it, and start the real server on it a little later:
    // the first attempts find nothing listening (UNAVAILABLE).
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("address");
    let server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        TestServer::start_on(tokio::net::TcpListener::bind(addr).await.expect("rebind")).await
    });
    // The platform key only exists once the server does; a wrong key proves
    // the call reached it: UNAUTHENTICATED comes from the server, not the socket.
    let client = AskPro::builder(format!("http://{addr}"), "not-a-key")
        .retry(RetryPolicy { max_attempts: 30, ..quick(30) })
        .connect_lazy()
        .expect("lazy channel");
    let error = client.list_branches(tn::ListBranchesRequest::default()).await.expect_err("unauthenticated");
    assert!(matches!(error, Error::Unauthenticated(_)), "{error:?}");
    let server = server.await.expect("server task");
    let platform = client.with_api_key(&server.platform_key).expect("key");
    platform.list_tenants(tn::ListTenantsRequest::default()).await.expect("list tenants after the retries");
}
