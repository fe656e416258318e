//! One port serving everything: the five AskPro services, gRPC health,
//! reflection (v1 and v1alpha), grpc-web for browsers, and plain HTTP routes.
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use http::{HeaderName, HeaderValue, Method};
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::access::ApiKeyCache;
use crate::api::AppState;
use crate::api::appointment::AppointmentApi;
use crate::api::availability::AvailabilityApi;
use crate::api::integration::IntegrationApi;
use crate::api::tenant::TenantApi;
use crate::api::webhook::WebhookApi;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::health::{HealthMonitor, HealthReport};
use crate::layers::around::AroundLayer;
use crate::layers::auth::Authenticate;
use crate::layers::client_address::ResolveClientAddress;
use crate::layers::deadline::EnforceDeadline;
use crate::layers::grpc_web::BrowserGrpcLayer;
use crate::layers::load_shed::ShedLoad;
use crate::layers::observe::ObserveCalls;
use crate::layers::panics;
use crate::layers::rate_limit::LimitRate;
use crate::layers::request_id::AssignRequestId;
use crate::proto::appointment::v1::appointment_service_server::AppointmentServiceServer;
use crate::proto::availability::v1::availability_service_server::AvailabilityServiceServer;
use crate::proto::integration::v1::integration_service_server::IntegrationServiceServer;
use crate::proto::tenant::v1::tenant_service_server::TenantServiceServer;
use crate::proto::webhook::v1::webhook_service_server::WebhookServiceServer;

/// The services this server serves, by name (defined beside the contracts).
pub use crate::proto::SERVICE_NAMES;
use crate::rate_limit::RateLimiter;
use crate::store::Store;

/// Connects to the database and applies migrations.
pub async fn prepare(config: Config) -> Result<AppState> {
    let store = Store::connect(&config).await?;
    store.migrate().await?;
    seal_plain_text_secrets(&store).await;
    tokio::task::spawn_blocking(crate::domain::phone::warm_up).await.map_err(Error::internal)?;
    let hold_limits = crate::operations::holds::HoldLimits::from_config(&config);
    let ops = crate::operations::Operations::new(store.clone(), hold_limits, config.max_watch_streams_per_tenant);
    let keys = ApiKeyCache::new(Duration::from_secs(config.api_key_cache_secs));
    let breakers = crate::calcom::Breakers::new(
        config.calcom_breaker_failures,
        Duration::from_secs(config.calcom_breaker_open_secs),
    );
    let calcom = crate::calcom::CalcomClient::new(
        config.webhook_allow_http_loopback,
        config.calcom_timeout(),
        Arc::new(breakers),
    );
    let calcom_busy = Arc::new(crate::calcom::BusyTimes::new(
        calcom.clone(),
        Duration::from_secs(config.calcom_busy_ttl_secs),
        config.calcom_busy_days,
    ));
    let failed_attempts = Arc::new(crate::access::FailedAttempts::new(config.unauthenticated_limit_per_address));
    Ok(AppState { store, ops, config: Arc::new(config), keys, calcom, calcom_busy, failed_attempts })
}

/// Serves on `listener` until `shutdown` completes, then stops accepting,
/// reports NOT_SERVING and lets in-flight calls finish.
pub async fn serve(state: AppState, listener: TcpListener, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
    // Before anything records: values recorded earlier would be lost.
    crate::metrics::handle();
    let cleanup = tokio::spawn(crate::jobs::hold_cleanup::run_periodically(state.store.clone()));
    let feed_listener = tokio::spawn(state.ops.feed.clone().listen());
    let cache_listener = tokio::spawn(crate::store::caches::listen(state.store.clone()));
    let cache_warm_up = tokio::spawn(crate::store::caches::warm_up(state.store.clone()));
    let statistics = tokio::spawn(crate::jobs::sqlite_statistics::run_periodically(state.store.clone()));
    let worker = crate::jobs::webhook_delivery::Worker::new(state.store.clone(), &state.config);
    let delivers = state.config.webhook_delivery_enabled;
    let webhooks = tokio::spawn(async move {
        // Off, this replica only fills the outbox; others deliver.
        if delivers {
            worker.run().await;
        }
    });
    let sync_worker = crate::jobs::calcom_sync::Worker::new(
        state.store.clone(),
        state.calcom.clone(),
        state.calcom_busy.clone(),
        &state.config,
    );
    let syncs = state.config.calcom_sync_enabled;
    let calcom_syncs = tokio::spawn(async move {
        if syncs {
            sync_worker.run().await;
        }
    });
    let calcom_busy_warm_up = tokio::spawn(warm_calcom_busy(state.store.clone(), state.calcom_busy.clone()));
    let calcom_imports = tokio::spawn(crate::jobs::calcom_import::run_periodically(
        state.store.clone(),
        state.calcom.clone(),
        state.config.calcom_import_interval_secs,
    ));
    let idempotency_retention = tokio::spawn(crate::jobs::idempotency_retention::run_periodically(
        state.store.clone(),
        state.config.idempotency_retention_hours,
    ));
    let retention = tokio::spawn(crate::jobs::webhook_retention::run_periodically(
        state.store.clone(),
        state.config.webhook_retention_days,
    ));
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health = HealthMonitor::new(&state.config, reporter);
    // Measured before the port serves anything: the first status is real.
    health.check_now().await;
    let health_checks = tokio::spawn(health.clone().run_periodically());
    let calcom_health = health.watch_calcom(state.calcom.breakers().clone());

    // The google.rpc error details too, so grpcurl, buf curl and Postman can
    // show ErrorInfo, BadRequest, RetryInfo and ResourceInfo decoded.
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(Error::internal)?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(Error::internal)?;

    // Messages above the limit are refused by tonic with OUT_OF_RANGE, naming
    // the size and the limit.
    let max = state.config.max_message_bytes;
    let grpc = Routes::builder()
        .add_service(
            TenantServiceServer::new(TenantApi::new(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            AvailabilityServiceServer::new(AvailabilityApi::new(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            AppointmentServiceServer::new(AppointmentApi::new(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            WebhookServiceServer::new(WebhookApi::new(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            IntegrationServiceServer::new(IntegrationApi::new(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .clone()
        .routes();
    let http = axum::Router::new()
        .route("/health", get(health_json).with_state(health.clone()))
        .route("/readyz", get(health_json).with_state(health.clone()))
        .route("/livez", get(alive))
        .route("/metrics", get(crate::api::metrics::scrape))
        // The handler reads the body itself, after the token lookup, up to
        // webhooks::payload::MAX_BODY_BYTES.
        .route("/webhooks/inbound/{path_token}", axum::routing::post(crate::api::inbound::receive))
        .with_state(state.clone());
    let routes = Routes::from(grpc.into_axum_router().merge(http));

    // Shutdown: readiness goes NOT_SERVING at once, calls are still served
    // for `shutdown_delay_secs` (Kubernetes keeps routing to the pod until its
    // endpoint is removed), then the listener closes and in-flight calls
    // drain (bounded by the grace period in main).
    let drain = {
        let health = health.clone();
        let delay = Duration::from_secs(state.config.shutdown_delay_secs);
        async move {
            shutdown.await;
            health.drain().await;
            tracing::info!(delay_secs = delay.as_secs(), "shutting down: NOT_SERVING, still accepting calls");
            tokio::time::sleep(delay).await;
            tracing::info!("shutting down: no new connections, draining in-flight calls");
        }
    };
    let config = &state.config;
    let client_address = ResolveClientAddress::new(&config.trusted_proxies).map_err(Error::Internal)?;
    let limiter = RateLimiter::new(config).await;
    tracing::info!(enabled = limiter.is_enabled(), shared_through_redis = limiter.uses_redis(), "rate limits");
    // The layer order, and why, is documented in `crate::layers`.
    let served = tonic::transport::Server::builder()
        .accept_http1(true)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .concurrency_limit_per_connection(config.max_concurrent_calls_per_connection.max(1))
        .max_connection_age(Duration::from_secs(config.max_connection_age_secs.max(1)))
        .max_connection_age_grace(Duration::from_secs(config.max_connection_age_grace_secs))
        .layer(cors(config))
        .layer(BrowserGrpcLayer)
        .layer(AroundLayer(crate::layers::content_type::RequireGrpcContentType))
        .layer(AroundLayer(AssignRequestId))
        .layer(AroundLayer(client_address))
        .layer(AroundLayer(ObserveCalls))
        .layer(panics::layer())
        .layer(AroundLayer(ShedLoad::new(config.max_concurrent_calls, config.max_concurrent_webhooks)))
        .layer(AroundLayer(EnforceDeadline::new(config.default_deadline(), config.max_deadline())))
        .layer(AroundLayer(Authenticate::new(state.store.clone(), state.keys.clone(), state.failed_attempts.clone())))
        .layer(AroundLayer(LimitRate::new(limiter)))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming(listener), drain)
        .await
        .map_err(Error::internal);
    cleanup.abort();
    feed_listener.abort();
    cache_listener.abort();
    cache_warm_up.abort();
    statistics.abort();
    webhooks.abort();
    retention.abort();
    idempotency_retention.abort();
    calcom_syncs.abort();
    calcom_imports.abort();
    calcom_busy_warm_up.abort();
    health_checks.abort();
    calcom_health.abort();
    served
}

/// Seals secrets stored in plain text before sealing existed. Best effort: a
/// failure (another replica sealing at the same moment) leaves them readable
/// as they are, and the next start tries again.
async fn seal_plain_text_secrets(store: &Store) {
    use crate::store::secrets_at_rest::{Reseal, reseal};
    match reseal(store, Reseal::PlainText).await {
        Ok(0) => {}
        Ok(sealed) => tracing::info!(sealed, "sealed secrets stored in plain text"),
        Err(err) => {
            tracing::warn!(error = %err, "could not seal secrets stored in plain text; will retry at the next start")
        }
    }
}

/// Fills Cal.com's busy times once after start and again on every warm-up
/// request (`askpro warm-caches`).
async fn warm_calcom_busy(store: Store, busy: Arc<crate::calcom::BusyTimes>) {
    busy.warm(&store).await;
    loop {
        store.caches().warm_requested().await;
        busy.warm(&store).await;
    }
}

/// Accepted connections with TCP_NODELAY: small gRPC frames must not wait
/// for Nagle's algorithm (a 40 ms stall per call against delayed ACKs).
fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
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

/// `GET /health` and `GET /readyz`: the last result of the background
/// dependency checks (no query per request); fields in [`HealthReport`]. 503
/// while the database is down or the server drains.
async fn health_json(
    axum::extract::State(health): axum::extract::State<HealthMonitor>,
) -> (http::StatusCode, axum::Json<HealthReport>) {
    let report = health.report();
    (report.http_status(), axum::Json(report))
}

/// `GET /livez`: 200 while the process answers HTTP, whatever its
/// dependencies (Kubernetes' liveness probe; readiness is `/readyz`).
async fn alive() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "alive" }))
}

#[cfg(test)]
mod tests {
    use tonic::server::NamedService;

    use super::*;

    #[test]
    fn health_reports_on_the_services_the_server_serves() {
        let served = [
            <TenantServiceServer<TenantApi> as NamedService>::NAME,
            <AvailabilityServiceServer<AvailabilityApi> as NamedService>::NAME,
            <AppointmentServiceServer<AppointmentApi> as NamedService>::NAME,
            <WebhookServiceServer<WebhookApi> as NamedService>::NAME,
            <IntegrationServiceServer<IntegrationApi> as NamedService>::NAME,
        ];
        assert_eq!(crate::proto::SERVICE_NAMES, served);
    }
}
