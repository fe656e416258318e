//! The limiter shared by all replicas: one Lua script runs GCRA over the
//! API key's and the tenant's bucket in a single atomic step, on Redis'
//! clock (`TIME`), so replicas with skewed clocks agree.
//!
//! A bucket is one string key holding its theoretical arrival time (TAT) in
//! microseconds; it expires when the TAT passes, since a bucket past its TAT
//! is the same as a fresh one.
use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisResult, Script};

use super::{Limit, Verdict};
use crate::config::Quota;
use crate::domain::ids::{ApiKeyId, TenantId};

/// KEYS[1]: the key's bucket; KEYS[2] (optional): the tenant's.
/// ARGV[2i-1], ARGV[2i]: emission interval and burst tolerance of bucket i,
/// in microseconds. Admits only if every bucket allows, and writes only then.
/// Returns {1} when admitted, else {0, i, wait_us} for the bucket that needs
/// the longest wait.
const GCRA_LUA: &str = r#"
-- Redis < 5 would refuse writes after the non-deterministic TIME otherwise.
redis.replicate_commands()
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local new_tats = {}
local worst, worst_wait = 0, 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local stored = redis.call('GET', KEYS[i])
  local tat = now
  if stored then tat = math.max(tonumber(stored), now) end
  local new_tat = tat + interval
  local wait = new_tat - tolerance - now
  if wait > worst_wait then worst, worst_wait = i, wait end
  new_tats[i] = new_tat
end
if worst > 0 then return {0, worst, worst_wait} end
for i = 1, #KEYS do
  local ttl_ms = math.ceil((new_tats[i] - now) / 1000)
  -- %d keeps all digits; tostring would round microsecond TATs.
  redis.call('SET', KEYS[i], string.format('%d', new_tats[i]), 'PX', string.format('%d', ttl_ms))
end
return {1}
"#;

/// Sent as EVALSHA, falling back to EVAL once after a Redis restart.
static GCRA_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(GCRA_LUA));

/// A connect attempt that takes longer than this fails, so a black-holed
/// Redis is noticed and retried rather than waited on.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub(super) struct SharedGcra {
    /// Reconnects by itself after I/O errors.
    connection: ConnectionManager,
    key_prefix: String,
}

impl SharedGcra {
    /// Returns at once: the connection is made on first use, so a Redis that
    /// is down cannot hold up the server's start.
    pub(super) fn connect_lazily(url: &str, key_prefix: String) -> RedisResult<Self> {
        let client = redis::Client::open(url)?;
        // Few retries inside one reconnect: callers wait at most the Redis
        // timeout anyway, and a failed reconnect is retried on the next use.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self { connection, key_prefix })
    }

    pub(super) async fn ping(&self) -> RedisResult<()> {
        redis::cmd("PING").exec_async(&mut self.connection.clone()).await
    }

    /// Decides one call against the key's bucket and, when the call acts on
    /// a tenant, the tenant's bucket too.
    pub(super) async fn check(
        &self,
        key: ApiKeyId,
        key_quota: Quota,
        tenant: Option<(TenantId, Quota)>,
    ) -> RedisResult<Verdict> {
        let mut invocation = GCRA_SCRIPT.prepare_invoke();
        let (interval, tolerance) = gcra_micros(key_quota);
        invocation.key(self.key_bucket(key)).arg(interval).arg(tolerance);
        if let Some((tenant, quota)) = tenant {
            let (interval, tolerance) = gcra_micros(quota);
            invocation.key(self.tenant_bucket(tenant)).arg(interval).arg(tolerance);
        }
        let reply: Vec<i64> = invocation.invoke_async(&mut self.connection.clone()).await?;
        parse_reply(&reply)
    }

    pub(super) fn key_bucket(&self, key: ApiKeyId) -> String {
        format!("{}key:{key}", self.key_prefix)
    }

    pub(super) fn tenant_bucket(&self, tenant: TenantId) -> String {
        format!("{}tenant:{tenant}", self.key_prefix)
    }
}

/// The emission interval T = 1 s / rate and the burst tolerance T * burst,
/// in microseconds. Zeros in the config are read as 1, as governor does.
fn gcra_micros(quota: Quota) -> (u64, u64) {
    let interval = (1_000_000 / u64::from(quota.per_second.max(1))).max(1);
    (interval, interval * u64::from(quota.burst.max(1)))
}

fn parse_reply(reply: &[i64]) -> RedisResult<Verdict> {
    match *reply {
        [1] => Ok(Verdict::Allowed),
        [0, bucket, wait_us] => {
            let limit = if bucket == 1 { Limit::ApiKey } else { Limit::Tenant };
            let retry_after = Duration::from_micros(u64::try_from(wait_us).unwrap_or(0));
            Ok(Verdict::Denied { limit, retry_after })
        }
        _ => Err(redis::RedisError::from((redis::ErrorKind::Parse, "unexpected reply from the GCRA script"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_become_microsecond_intervals_and_tolerances() {
        assert_eq!(gcra_micros(Quota { per_second: 20, burst: 40 }), (50_000, 2_000_000));
        assert_eq!(gcra_micros(Quota { per_second: 0, burst: 0 }), (1_000_000, 1_000_000));
        assert_eq!(gcra_micros(Quota { per_second: u32::MAX, burst: 1 }), (1, 1));
    }

    #[test]
    fn script_replies_name_the_binding_limit() {
        assert_eq!(parse_reply(&[1]).unwrap(), Verdict::Allowed);
        let tenant = parse_reply(&[0, 2, 250_000]).unwrap();
        assert_eq!(tenant, Verdict::Denied { limit: Limit::Tenant, retry_after: Duration::from_millis(250) });
        let key = parse_reply(&[0, 1, 7]).unwrap();
        assert_eq!(key, Verdict::Denied { limit: Limit::ApiKey, retry_after: Duration::from_micros(7) });
        assert!(parse_reply(&[]).is_err());
    }
}
