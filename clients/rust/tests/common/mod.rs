//! Test harness: the real AskPro server in this process on 127.0.0.1 over a
//! SQLite file in a temporary folder, with a platform admin key, and a
//! scripted gRPC server that answers with given status codes.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use askpro::config::{Config, Quota};
use askpro_client::tonic::codegen::{Context, Poll, Service, http};
use askpro_client::tonic::server::NamedService;
use askpro_client::tonic::{Code, Status};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub struct TestServer {
    pub addr: SocketAddr,
    pub platform_key: String,
    _dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.expect("bind")).await
    }

    /// Starts the server on a listener the caller bound.
    pub async fn start_on(listener: TcpListener) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("askpro.db").display());
        let unthrottled = Quota { per_second: 1_000_000, burst: 1_000_000 };
        let config = Config {
            database_url: SecretString::from(url),
            database_max_connections: 5,
            log_filter: "warn".into(),
            rate_limit_per_key: unthrottled,
            rate_limit_per_tenant: unthrottled,
            secrets_key_file: dir.path().join("secrets.key"),
            ..Config::default()
        };
        let state = askpro::server::prepare(config).await.expect("server prepares");
        let issued = askpro::domain::api_key::issue();
        let tx = state.store.platform().await.expect("platform tx");
        askpro::store::api_keys::create_platform_admin(&tx, &issued, "client test platform admin".into())
            .await
            .expect("platform key");
        tx.commit().await.expect("commit");
        let platform_key = issued.full_key.expose_secret().to_owned();

        let addr = listener.local_addr().expect("address");
        let (shutdown, signal) = oneshot::channel::<()>();
        tokio::spawn(askpro::server::serve(state, listener, async move {
            let _ = signal.await;
        }));
        Self { addr, platform_key, _dir: dir, shutdown: Some(shutdown) }
    }

    pub fn target(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// A TenantService that answers each call with the next scripted code (the
/// last one repeats) and counts the calls.
#[derive(Clone)]
pub struct ScriptedServer {
    codes: Arc<Mutex<VecDeque<Code>>>,
    calls: Arc<AtomicUsize>,
}

impl NamedService for ScriptedServer {
    const NAME: &'static str = "askpro.tenant.v1.TenantService";
}

impl Service<http::Request<askpro_client::tonic::body::Body>> for ScriptedServer {
    type Response = http::Response<askpro_client::tonic::body::Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<askpro_client::tonic::body::Body>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let code = {
            let mut codes = self.codes.lock().expect("codes");
            if codes.len() > 1 { codes.pop_front() } else { codes.front().copied() }.expect("a scripted code")
        };
        std::future::ready(Ok(Status::new(code, "scripted").into_http()))
    }
}

impl ScriptedServer {
    /// Serves on 127.0.0.1:0 and returns the server and its target URL.
    pub async fn start(codes: &[Code]) -> (Self, String) {
        let server = Self { codes: Arc::new(Mutex::new(codes.iter().copied().collect())), calls: Arc::default() };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let service = server.clone();
        tokio::spawn(
            askpro_client::tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream_listener(listener)),
        );
        (server, format!("http://{addr}"))
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn tokio_stream_listener(listener: TcpListener) -> askpro_client::tonic::transport::server::TcpIncoming {
    askpro_client::tonic::transport::server::TcpIncoming::from(listener)
}
