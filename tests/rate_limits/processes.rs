//! Rate limits at the server's edge: two server processes sharing one Redis
//! admit a key's quota once between them, a tenant's keys share the tenant's
//! quota, refusals carry RetryInfo and `retry-after`, and with Redis
//! unreachable each process limits on its own instead of failing calls.

use std::time::{Duration, Instant};

use crate::common;
use askpro::config::Quota;
use askpro::proto::tenant::v1 as pb;
use askpro::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use common::process::Workdir;
use common::{Backend, TestServer, as_tenant, authed, closed_port, create_named_key, create_tenant, reason, redis_url};
use tonic::transport::Channel;
use tonic::{Code, Status};

async fn list_branches(client: &mut TenantServiceClient<Channel>, key: &str) -> Result<(), Status> {
    client.list_branches(authed(pb::ListBranchesRequest::default(), key)).await.map(drop)
}

/// Asserts `status` is a rate-limit refusal of `limit` with its details.
#[track_caller]
fn assert_refusal(status: &Status, limit: &str) {
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(status), "RATE_LIMITED");
    let details = tonic_types::StatusExt::get_error_details(status);
    assert_eq!(details.error_info().and_then(|i| i.metadata.get("limit")).map(String::as_str), Some(limit));
    let delay = details.retry_info().and_then(|r| r.retry_delay).expect("RetryInfo");
    assert!(delay > Duration::ZERO && delay <= Duration::from_secs(2), "retry in {delay:?}");
    let retry_after = status.metadata().get("retry-after").expect("a retry-after header").to_str().unwrap();
    let seconds: u64 = retry_after.parse().expect("whole seconds");
    assert!((1..=2).contains(&seconds), "retry-after {seconds}");
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_sharing_redis_admit_a_keys_quota_once_not_twice() {
    let Some(redis) = redis_url("the shared-limit test") else { return };
    const BURST: u32 = 10;
    let workdir = Workdir::new()
        .with_env("ASKPRO_REDIS_URL", &redis)
        // Generous: a slow first connection must not send calls to the fallback.
        .with_env("ASKPRO_REDIS_TIMEOUT_MS", "2000")
        .with_env("ASKPRO_RATE_LIMIT_PER_KEY", &format!("{{per_second=1,burst={BURST}}}"))
        .with_env("ASKPRO_RATE_LIMIT_PER_TENANT", "{per_second=1000,burst=1000}");
    let created = workdir.run(&["platform-key", "create", "--name", "limits"], "platform-key").await;
    assert!(created.status.success(), "{}", created.stderr);
    let platform = created.stdout.trim().to_owned();
    // One after the other: the second finds the migrations applied.
    let mut a = workdir.serve(&[], "a").await;
    let mut b = workdir.serve(&[], "b").await;

    let mut client_a = a.tenants().await;
    let mut client_b = b.tenants().await;
    let tenant = create_tenant(&mut client_a, &platform, "Salon Geteilt").await;
    let key =
        create_named_key(&mut client_b, as_tenant(&platform, &tenant.id), pb::ApiKeyScope::ReadOnly, "reader").await;

    // Alternate between the two processes as a load balancer would.
    let started = Instant::now();
    let (mut admitted, mut refused) = ([0u32; 2], [0u32; 2]);
    let mut a_refusal = None;
    for n in 0..(3 * BURST) {
        let side = (n % 2) as usize;
        let client = if side == 0 { &mut client_a } else { &mut client_b };
        match list_branches(client, &key).await {
            Ok(()) => admitted[side] += 1,
            Err(status) => {
                assert_refusal(&status, "api_key");
                refused[side] += 1;
                a_refusal.get_or_insert(status);
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = admitted[0] + admitted[1];
    // The burst, plus what one call per second refills meanwhile; two
    // separate limits would have admitted twice the burst.
    let ceiling = BURST + elapsed.ceil() as u32 + 1;
    assert!(total >= BURST, "the burst is admitted: {admitted:?}");
    assert!(total <= ceiling, "admitted {total} ({admitted:?}) in {elapsed:.2} s; the shared quota allows {ceiling}");
    assert!(admitted.iter().all(|&n| n > 0) && refused.iter().all(|&n| n > 0), "{admitted:?} {refused:?}");

    let metrics = String::from_utf8(common::http::get(a.addr, "/metrics").await.body).expect("UTF-8");
    let rejections = metric(&metrics, "askpro_rate_limit_rejections_total{limit=\"api_key\"}");
    assert!(rejections >= f64::from(refused[0]), "process a counted {rejections} rejections\n{metrics}");
    assert_eq!(metric(&metrics, "askpro_rate_limit_fallback_total"), 0.0, "Redis decided every call");

    drop((client_a, client_b));
    assert!(a.terminate().await.success());
    assert!(b.terminate().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_one_tenant_share_the_tenants_quota() {
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.rate_limit_per_tenant = Quota { per_second: 1, burst: 40 };
    })
    .await
    .expect("sqlite");
    // The fixture's own set-up calls use part of the tenant's burst.
    let tenant = server.tenant("Salon Gemeinsam").await;
    let mut client = server.tenants();
    let mut refusal = None;
    for n in 0..80 {
        let key = if n % 2 == 0 { &tenant.agent } else { &tenant.reader };
        if let Err(status) = list_branches(&mut client, key).await {
            refusal = Some(status);
            break;
        }
    }
    let refusal = refusal.expect("two keys together run into the tenant's quota");
    assert_refusal(&refusal, "tenant");
    // Now every key of the tenant is refused, also one that was not used yet.
    let status = list_branches(&mut client, &tenant.admin).await.expect_err("the tenant's quota is used up");
    assert_refusal(&status, "tenant");
    // Health probes are never limited.
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel.clone());
    let probe = tonic_health::pb::HealthCheckRequest { service: String::new() };
    health.check(probe).await.expect("health is exempt");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_falls_back_to_in_process_limits() {
    const BURST: u32 = 5;
    let port = closed_port();
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.redis_url = Some(secrecy::SecretString::from(format!("redis://127.0.0.1:{port}/")));
        c.rate_limit_per_key = Quota { per_second: 1, burst: BURST };
    })
    .await
    .expect("sqlite");
    // The platform key has no tenant: only its own quota applies.
    let mut client = server.tenants();
    let started = Instant::now();
    let mut outcomes = Vec::new();
    for _ in 0..(2 * BURST) {
        outcomes.push(client.list_tenants(authed(pb::ListTenantsRequest::default(), server.platform_key())).await);
    }
    let took = started.elapsed();
    let admitted = outcomes.iter().filter(|o| o.is_ok()).count() as u32;
    assert!((BURST..=BURST + 1).contains(&admitted), "in-process limits admitted {admitted} of {}", outcomes.len());
    let refusal = outcomes.into_iter().find_map(Result::err).expect("a refusal");
    assert_refusal(&refusal, "api_key");
    assert!(took < Duration::from_secs(3), "an unreachable Redis must not slow calls down: {took:?}");

    let metrics = String::from_utf8(common::http::get(server.addr, "/metrics").await.body).expect("UTF-8");
    assert!(metric(&metrics, "askpro_rate_limit_fallback_total") >= f64::from(2 * BURST), "{metrics}");
    server.stop().await;
}
