//! Rate limits shared through a real Redis (ASKPRO_TEST_REDIS_URL), and the
//! in-process fallback when Redis is unreachable. Each test writes under its
//! own key prefix and deletes it at the end (the keys also expire by
//! themselves within seconds, should a test fail first).
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use askpro::config::{Config, Quota};
use askpro::domain::ids::{ApiKeyId, TenantId};
use askpro::error::Error;
use askpro::rate_limit::RateLimiter;
use secrecy::SecretString;

use crate::common::{closed_port, redis_url};

const GENEROUS: Quota = Quota { per_second: 1000, burst: 1000 };

/// A key prefix no other test or CI run uses.
fn unique_prefix() -> String {
    format!("askpro:test:rl:{}:", uuid::Uuid::now_v7())
}

fn config(redis_url: &str, per_key: Quota, per_tenant: Quota) -> Config {
    Config {
        redis_url: Some(SecretString::from(redis_url.to_owned())),
        // Generous, so a slow first connect does not send a test to the fallback.
        redis_timeout_ms: 2000,
        rate_limit_enabled: true,
        rate_limit_per_key: per_key,
        rate_limit_per_tenant: per_tenant,
        ..Config::default()
    }
}

/// Direct access to the test Redis, to look at and remove a test's keys.
struct TestRedis {
    connection: redis::aio::MultiplexedConnection,
    prefix: String,
}

impl TestRedis {
    async fn connect(url: &str, prefix: &str) -> Self {
        let client = redis::Client::open(url).expect("ASKPRO_TEST_REDIS_URL is a Redis URL");
        let connection = client.get_multiplexed_async_connection().await.expect("the test Redis is reachable");
        Self { connection, prefix: prefix.to_owned() }
    }

    async fn keys(&mut self) -> Vec<String> {
        redis::cmd("KEYS").arg(format!("{}*", self.prefix)).query_async(&mut self.connection).await.unwrap()
    }

    async fn pttl(&mut self, key: &str) -> i64 {
        redis::cmd("PTTL").arg(key).query_async(&mut self.connection).await.unwrap()
    }

    async fn clean_up(mut self) {
        for key in self.keys().await {
            let _: i64 = redis::cmd("DEL").arg(key).query_async(&mut self.connection).await.unwrap();
        }
    }
}

async fn admitted(limiter: &RateLimiter, key: ApiKeyId, tenant: Option<TenantId>, calls: usize) -> usize {
    let mut admitted = 0;
    for _ in 0..calls {
        if limiter.check(key, tenant).await.is_ok() {
            admitted += 1;
        }
    }
    admitted
}

fn fallback_decisions() -> u64 {
    askpro::metrics::render()
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{} ", askpro::metrics::RATE_LIMIT_FALLBACK_TOTAL)))
        .map_or(0, |value| value.trim().parse::<f64>().unwrap() as u64)
}

#[tokio::test]
async fn two_replicas_sharing_redis_admit_the_quota_once_not_twice() {
    let Some(url) = redis_url("the Redis rate-limit tests") else { return };
    let prefix = unique_prefix();
    // Slow refills keep the buckets (and their expiry) around for a look.
    let config = config(&url, Quota { per_second: 1, burst: 5 }, Quota { per_second: 1, burst: 100 });
    let first = RateLimiter::with_key_prefix(&config, &prefix).await;
    let second = RateLimiter::with_key_prefix(&config, &prefix).await;
    assert!(first.uses_redis());
    let (key, tenant) = (ApiKeyId::generate(), Some(TenantId::generate()));

    let mut total = 0;
    for _ in 0..10 {
        total += admitted(&first, key, tenant, 1).await + admitted(&second, key, tenant, 1).await;
    }
    // One more cell may drip in if the loop spans a second.
    assert!((5..=6).contains(&total), "two replicas admitted {total} calls of a burst of 5");

    let mut redis = TestRedis::connect(&url, &prefix).await;
    let keys = redis.keys().await;
    assert_eq!(keys.len(), 2, "one bucket for the key, one for the tenant: {keys:?}");
    for key in &keys {
        let ttl = redis.pttl(key).await;
        assert!(ttl > 0 && ttl <= 7000, "a bucket expires once full again, not never: {key} has PTTL {ttl}");
    }
    redis.clean_up().await;
}

#[tokio::test]
async fn retry_after_is_the_time_until_the_next_call_is_admitted() {
    let Some(url) = redis_url("the Redis rate-limit tests") else { return };
    let prefix = unique_prefix();
    let limiter =
        RateLimiter::with_key_prefix(&config(&url, Quota { per_second: 2, burst: 1 }, GENEROUS), &prefix).await;
    let key = ApiKeyId::generate();

    limiter.check(key, None).await.expect("the first call is admitted");
    let retry_after = match limiter.check(key, None).await {
        Err(Error::RateLimited { limit: "api_key", retry_after }) => retry_after,
        other => panic!("expected an api_key rate limit, got {other:?}"),
    };
    assert!(
        retry_after > Duration::from_millis(400) && retry_after <= Duration::from_millis(500),
        "one emission interval at 2/s is 500 ms, got {retry_after:?}"
    );
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    limiter.check(key, None).await.expect("admitted again after retry_after");
    TestRedis::connect(&url, &prefix).await.clean_up().await;
}

#[tokio::test]
async fn keys_of_one_tenant_share_the_tenant_quota() {
    let Some(url) = redis_url("the Redis rate-limit tests") else { return };
    let prefix = unique_prefix();
    let config = config(&url, GENEROUS, Quota { per_second: 1, burst: 4 });
    let (first, second) =
        (RateLimiter::with_key_prefix(&config, &prefix).await, RateLimiter::with_key_prefix(&config, &prefix).await);
    let tenant = Some(TenantId::generate());

    assert_eq!(admitted(&first, ApiKeyId::generate(), tenant, 2).await, 2);
    assert_eq!(admitted(&second, ApiKeyId::generate(), tenant, 2).await, 2);
    match first.check(ApiKeyId::generate(), tenant).await {
        Err(Error::RateLimited { limit: "tenant", .. }) => {}
        other => panic!("a fresh key of an exhausted tenant is refused by the tenant limit, got {other:?}"),
    }
    // A platform key acting on no tenant is limited per key only.
    assert_eq!(admitted(&first, ApiKeyId::generate(), None, 10).await, 10);
    TestRedis::connect(&url, &prefix).await.clean_up().await;
}

#[tokio::test]
async fn a_refused_call_uses_neither_bucket() {
    let Some(url) = redis_url("the Redis rate-limit tests") else { return };
    let prefix = unique_prefix();
    let limiter = RateLimiter::with_key_prefix(
        &config(&url, Quota { per_second: 1, burst: 2 }, Quota { per_second: 1, burst: 1 }),
        &prefix,
    )
    .await;
    let key = ApiKeyId::generate();
    let busy_tenant = Some(TenantId::generate());

    assert_eq!(admitted(&limiter, key, busy_tenant, 5).await, 1);
    // The four calls the tenant refused left the key's second cell unused.
    limiter.check(key, Some(TenantId::generate())).await.expect("the key's second cell is still there");
    match limiter.check(key, Some(TenantId::generate())).await {
        Err(Error::RateLimited { limit: "api_key", .. }) => {}
        other => panic!("expected the key's limit, got {other:?}"),
    }
    TestRedis::connect(&url, &prefix).await.clean_up().await;
}

#[tokio::test]
async fn a_tenant_override_replaces_the_tenant_quota_for_that_tenant() {
    let Some(url) = redis_url("the Redis rate-limit tests") else { return };
    let prefix = unique_prefix();
    let big = TenantId::generate();
    let mut config = config(&url, GENEROUS, Quota { per_second: 1, burst: 2 });
    config.rate_limit_tenant_overrides = BTreeMap::from([(big.to_string(), Quota { per_second: 1, burst: 8 })]);
    let limiter = RateLimiter::with_key_prefix(&config, &prefix).await;

    assert_eq!(admitted(&limiter, ApiKeyId::generate(), Some(big), 20).await, 8);
    assert_eq!(admitted(&limiter, ApiKeyId::generate(), Some(TenantId::generate()), 20).await, 2);
    TestRedis::connect(&url, &prefix).await.clean_up().await;
}

/// A loopback port nothing listens on (for now).
#[tokio::test]
async fn an_unreachable_redis_falls_back_to_in_process_limits_without_delay() {
    askpro::metrics::handle();
    let url = format!("redis://127.0.0.1:{}/", closed_port());
    let mut config = config(&url, Quota { per_second: 1, burst: 3 }, GENEROUS);
    config.redis_timeout_ms = 50;
    let limiter = RateLimiter::with_key_prefix(&config, &unique_prefix()).await;
    assert!(limiter.uses_redis(), "configured, though unreachable");
    let fallbacks_before = fallback_decisions();

    let started = Instant::now();
    let key = ApiKeyId::generate();
    let admitted = admitted(&limiter, key, Some(TenantId::generate()), 30).await;
    let took = started.elapsed();

    assert_eq!(admitted, 3, "the in-process limiter still limits");
    assert!(took < Duration::from_millis(500), "30 decisions took {took:?}: the back-off should skip Redis");
    assert!(fallback_decisions() >= fallbacks_before + 30, "every decision made in process is counted");
}

#[tokio::test]
async fn limits_are_shared_through_redis_again_once_it_is_back() {
    let Some(url) = redis_url("the Redis rate-limit tests") else { return };
    let redis_address = host_and_port(&url);
    let port = closed_port();
    let proxied_url = url.replacen(&redis_address, &format!("127.0.0.1:{port}"), 1);
    let prefix = unique_prefix();
    // A one-second refill keeps a bucket in Redis long enough to be seen.
    let mut config = config(&proxied_url, Quota { per_second: 1, burst: 1000 }, GENEROUS);
    config.redis_timeout_ms = 50;
    let limiter = RateLimiter::with_key_prefix(&config, &prefix).await;
    let key = ApiKeyId::generate();
    assert_eq!(admitted(&limiter, key, None, 3).await, 3, "decided in process while Redis is away");

    // Redis "comes back": the port now leads to the test Redis.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the port is still free");
    let proxy = tokio::spawn(forward_all(listener, redis_address));

    let mut redis = TestRedis::connect(&url, &prefix).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis.keys().await.is_empty() {
        assert!(Instant::now() < deadline, "the limiter never went back to Redis");
        limiter.check(key, None).await.expect("a generous quota admits");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    proxy.abort();
    redis.clean_up().await;
}

/// `host:port` of a `redis://[user:password@]host:port/db` URL.
fn host_and_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority).to_owned()
}

async fn forward_all(listener: tokio::net::TcpListener, upstream: String) {
    while let Ok((mut client, _)) = listener.accept().await {
        let upstream = upstream.clone();
        tokio::spawn(async move {
            if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
    }
}
