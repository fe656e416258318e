//! One port serving everything: the four AskPro services, gRPC health,
//! reflection (v1 and v1alpha), grpc-web for browsers, and plain HTTP routes.
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use http::{HeaderName, HeaderValue, Method};
use sea_orm::ConnectionTrait;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::api::AppState;
use crate::api::appointment::AppointmentApi;
use crate::api::availability::AvailabilityApi;
use crate::api::tenant::TenantApi;
use crate::api::webhook::WebhookApi;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::layers::auth::AuthLayer;
use crate::layers::grpc_web::BrowserGrpcLayer;
use crate::proto::appointment::v1::appointment_service_server::AppointmentServiceServer;
use crate::proto::availability::v1::availability_service_server::AvailabilityServiceServer;
use crate::proto::tenant::v1::tenant_service_server::TenantServiceServer;
use crate::proto::webhook::v1::webhook_service_server::WebhookServiceServer;
use crate::store::Store;

/// The gRPC service names health reports on (besides "" for the server).
pub const SERVICE_NAMES: [&str; 4] = [
    <TenantServiceServer<TenantApi> as NamedService>::NAME,
    <AvailabilityServiceServer<AvailabilityApi> as NamedService>::NAME,
    <AppointmentServiceServer<AppointmentApi> as NamedService>::NAME,
    <WebhookServiceServer<WebhookApi> as NamedService>::NAME,
];

/// Connects to the database and applies migrations.
pub async fn prepare(config: Config) -> Result<AppState> {
    let store = Store::connect(&config).await?;
    store.migrate().await?;
    let feed = crate::api::feed::AppointmentFeed::new(&store);
    Ok(AppState { store, config: Arc::new(config), feed })
}

/// Serves on `listener` until `shutdown` completes, then stops accepting,
/// reports NOT_SERVING and lets in-flight calls finish.
pub async fn serve(state: AppState, listener: TcpListener, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
    let cleanup = tokio::spawn(crate::jobs::hold_cleanup::run_periodically(state.store.clone()));
    let feed_listener = tokio::spawn(state.feed.clone().listen());
    let statistics = tokio::spawn(crate::jobs::sqlite_statistics::run_periodically(state.store.clone()));
    let (health, health_service) = tonic_health::server::health_reporter();
    set_all(&health, ServingStatus::Serving).await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(Error::internal)?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(Error::internal)?;

    let grpc = Routes::builder()
        .add_service(TenantServiceServer::new(TenantApi::new(state.clone())))
        .add_service(AvailabilityServiceServer::new(AvailabilityApi::new(state.clone())))
        .add_service(AppointmentServiceServer::new(AppointmentApi::new(state.clone())))
        .add_service(WebhookServiceServer::new(WebhookApi))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .clone()
        .routes();
    let http = axum::Router::new().route("/health", get(health_json)).with_state(state.clone());
    let routes = Routes::from(grpc.into_axum_router().merge(http));

    let drain = {
        let health = health.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections, draining in-flight calls");
            set_all(&health, ServingStatus::NotServing).await;
        }
    };
    let served = tonic::transport::Server::builder()
        .accept_http1(true)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .layer(cors(&state.config))
        .layer(BrowserGrpcLayer)
        .layer(AuthLayer::new(state.store.clone()))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming(listener), drain)
        .await
        .map_err(Error::internal);
    cleanup.abort();
    feed_listener.abort();
    statistics.abort();
    served
}

/// Accepted connections with TCP_NODELAY: small gRPC frames must not wait
/// for Nagle's algorithm (a 40 ms stall per call against delayed ACKs).
fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

async fn set_all(health: &HealthReporter, status: ServingStatus) {
    health.set_service_status("", status).await;
    for name in SERVICE_NAMES {
        health.set_service_status(name, status).await;
    }
}

/// CORS for grpc-web: browsers must be allowed to send the gRPC-Web and auth
/// headers and to read the gRPC status trailers-in-headers.
fn cors(config: &Config) -> CorsLayer {
    let origins = if config.cors_allowed_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(config.cors_allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    let header = HeaderName::from_static;
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::POST, Method::GET, Method::OPTIONS])
        .allow_headers([
            header("authorization"),
            header("content-type"),
            header("x-api-key"),
            header("x-askpro-tenant-id"),
            header("x-grpc-web"),
            header("x-user-agent"),
            header("grpc-timeout"),
            header("x-request-id"),
        ])
        .expose_headers([
            header("grpc-status"),
            header("grpc-message"),
            header("grpc-status-details-bin"),
            header("x-request-id"),
        ])
        .max_age(Duration::from_secs(24 * 3600))
}

/// `GET /health`: the server's view of its dependencies, as JSON.
async fn health_json(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (http::StatusCode, axum::Json<serde_json::Value>) {
    let database_up = state.store.connection().execute_unprepared("SELECT 1").await.is_ok();
    let status = if database_up { http::StatusCode::OK } else { http::StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::json!({
        "status": if database_up { "serving" } else { "not_serving" },
        "components": { "database": if database_up { "up" } else { "down" } },
    });
    (status, axum::Json(body))
}
