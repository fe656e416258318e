//! The one typed configuration: defaults, then an optional TOML file, then
//! `ASKPRO_<SETTING>` environment variables (e.g. `ASKPRO_LISTEN`,
//! `ASKPRO_DATABASE_URL`). Nothing else in the code reads the environment.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Log output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON when stdout is not a terminal, human-readable otherwise.
    #[default]
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Text,
}

/// A GCRA quota: a sustained rate with room for a burst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// Calls per second admitted in the long run.
    pub per_second: u32,
    /// Calls admitted at once after a quiet spell.
    pub burst: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address of the one port serving gRPC, grpc-web and HTTP.
    pub listen: SocketAddr,
    /// `sqlite://path?mode=rwc` (default, embedded) or `postgres://...`.
    /// Secret: a URL can carry a password.
    pub database_url: SecretString,
    /// Maximum pooled database connections; 0 (the default): 16 on
    /// PostgreSQL, 4 on SQLite (see `database_pool_size`).
    pub database_max_connections: u32,
    /// PostgreSQL only: the role every transaction switches to (`SET LOCAL
    /// ROLE`), created by the migrations without ownership of any table, so
    /// row-level security applies. Empty: stay the connecting role (use this
    /// when the URL already logs in as a non-owner role).
    pub database_app_role: String,
    /// Origins allowed to call through grpc-web; `["*"]` allows any (keys,
    /// not cookies, authenticate calls, so this is safe as a default).
    pub cors_allowed_origins: Vec<String>,
    /// Log format: auto, json or text.
    pub log_format: LogFormat,
    /// tracing `EnvFilter` directives, e.g. `info,askpro=debug`.
    pub log_filter: String,
    /// After SIGTERM the server reports NOT_SERVING (readiness) but keeps
    /// accepting calls for this long, while Kubernetes removes the pod from
    /// its endpoints and clients stop sending; then it stops accepting.
    pub shutdown_delay_secs: u64,
    /// How long in-flight calls may then take to finish. Delay plus grace
    /// (5 + 20 s by default) stays under Kubernetes' default
    /// terminationGracePeriodSeconds of 30, so the kill never cuts a drain.
    pub shutdown_grace_period_secs: u64,
    /// `redis://host:port/db`. When set, rate limits are shared by every
    /// replica through Redis; unset, each process limits on its own.
    /// Secret: a URL can carry a password.
    pub redis_url: Option<SecretString>,
    /// The longest a Redis call may take before the in-process limiter
    /// decides instead.
    pub redis_timeout_ms: u64,
    /// Turns rate limiting off entirely (benchmarks).
    pub rate_limit_enabled: bool,
    /// Calls per second, and burst, one API key may make.
    pub rate_limit_per_key: Quota,
    /// Calls per second, and burst, all keys of one tenant may make together.
    pub rate_limit_per_tenant: Quota,
    /// Per-tenant replacements of `rate_limit_per_tenant`, keyed by tenant id.
    pub rate_limit_tenant_overrides: BTreeMap<String, Quota>,
    /// The deadline of a call that sends no `grpc-timeout`, in seconds.
    pub default_deadline_secs: u64,
    /// The longest deadline a call gets, in seconds: a longer `grpc-timeout`
    /// (up to 99999999 hours is legal) is shortened to it. Streams are not
    /// bounded by it once they started.
    pub max_deadline_secs: u64,
    /// Calls the whole server runs at once; beyond it calls are shed with
    /// UNAVAILABLE (health checks are never shed).
    pub max_concurrent_calls: usize,
    /// Inbound webhook requests (`/webhooks/inbound/...`) the server runs at
    /// once, counted apart from `max_concurrent_calls`: slow or many webhook
    /// POSTs cannot take the API's share. Beyond it they are answered 503.
    pub max_concurrent_webhooks: usize,
    /// How often one client address may fail (an unknown or wrong API key, an
    /// unknown webhook token, a bad webhook signature): a GCRA quota. Over
    /// it, the address gets RESOURCE_EXHAUSTED (429 for webhooks) instead of
    /// a lookup until the quota refills; keys this replica verified lately
    /// still pass.
    pub unauthenticated_limit_per_address: Quota,
    /// The proxies (CIDRs or addresses) whose `X-Forwarded-For` is believed
    /// when they connect; empty: the TCP peer is the client.
    pub trusted_proxies: Vec<String>,
    /// Calls one connection runs at once; further calls on it wait.
    pub max_concurrent_calls_per_connection: usize,
    /// The largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// A connection is closed (GOAWAY) after this many seconds so clients
    /// reconnect and load spreads over new replicas.
    pub max_connection_age_secs: u64,
    /// How long calls on a connection past its age may still run.
    pub max_connection_age_grace_secs: u64,
    /// How often the database (and Redis) are checked for health.
    pub health_check_interval_secs: u64,
    /// How long an API key's verified lookup is reused before it is read
    /// again; a revocation reaches other replicas within this time.
    pub api_key_cache_secs: u64,
    /// Keep what reads need in memory (each tenant's booking configuration,
    /// staff time off and busy time for the coming weeks, customers by
    /// phone number with their upcoming appointments), invalidated on every
    /// change (other replicas hear of it through PostgreSQL notifications).
    /// Off: every call reads the database. `config_cache` is its old name.
    #[serde(alias = "config_cache")]
    pub caches: bool,
    /// Accept webhook subscription URLs with plain http to a loopback host
    /// (localhost, 127.0.0.0/8, ::1), and deliver to loopback addresses.
    /// For development and tests only: otherwise a tenant could make the
    /// server post to services on its own machine. Private and link-local
    /// addresses stay refused either way.
    pub webhook_allow_http_loopback: bool,
    /// The delay before each retry of a failed webhook delivery, in seconds;
    /// after the last one the delivery is dead-lettered. Each delay gets up to
    /// 10% random jitter.
    pub webhook_retry_schedule_secs: Vec<u64>,
    /// How long one delivery attempt may take, connect to last byte.
    pub webhook_attempt_timeout_secs: u64,
    /// Run the webhook delivery worker in this process. Off, the outbox
    /// still fills and other replicas (with it on) deliver: delivery can run
    /// on dedicated replicas.
    pub webhook_delivery_enabled: bool,
    /// How many days outbound events (once every delivery is finished), their
    /// delivery logs and inbound inbox records are kept; 0 keeps them forever.
    pub webhook_retention_days: u32,
    /// The delay before each retry of a failed Cal.com sync, in seconds;
    /// after the last one the sync is dead-lettered (RetryCalcomSync queues
    /// it again). Each delay gets up to 10% random jitter.
    pub calcom_retry_schedule_secs: Vec<u64>,
    /// How long one call to Cal.com may take (also bounded by the calling
    /// RPC's deadline).
    pub calcom_timeout_ms: u64,
    /// Outages in a row (timeouts, 5xx, 429, no connection) that open a
    /// tenant connection's circuit breaker.
    pub calcom_breaker_failures: u32,
    /// How long an open breaker makes no call before one trial (longer when
    /// Cal.com's Retry-After asks for more).
    pub calcom_breaker_open_secs: u64,
    /// Run the Cal.com sync worker in this process (like
    /// `webhook_delivery_enabled`: syncs may run on dedicated replicas).
    pub calcom_sync_enabled: bool,
    /// How often every connected tenant's event types and schedule are
    /// imported from Cal.com again (ImportFromCalcom runs it on demand); 0
    /// turns the periodic import off.
    pub calcom_import_interval_secs: u64,
    /// How long Cal.com's busy times are used before they are read again
    /// (a Cal.com webhook makes them be read at once).
    pub calcom_busy_ttl_secs: u64,
    /// How many days ahead Cal.com's busy times are read and kept.
    pub calcom_busy_days: u32,
    /// Key-encryption keys for secrets at rest (base64 of 32 random bytes),
    /// the sealing key first, older ones after it (they still open what they
    /// sealed until `askpro rotate-secrets` re-seals it). Empty: the keys in
    /// `secrets_key_file`. Secret.
    pub secrets_keys: Vec<SecretString>,
    /// The key file used when `secrets_keys` is empty: one base64 key per
    /// line, the sealing key first. Created with a random key when absent.
    pub secrets_key_file: PathBuf,
    /// How long the first answers of create calls are kept for retries with
    /// the same request_id, in hours (at least 1); older records are deleted
    /// hourly, and a retry after that creates anew.
    pub idempotency_retention_hours: u32,
    /// WatchAppointments streams one tenant may keep open on one server;
    /// more answer RESOURCE_EXHAUSTED (WATCH_LIMIT_REACHED).
    pub max_watch_streams_per_tenant: usize,
    /// Webhook deliveries one server makes at once, over all destinations.
    pub webhook_max_in_flight: usize,
    /// Webhook deliveries to one subscription (destination) at once: a slow
    /// or hanging receiver holds at most this many, never the others' turn.
    pub webhook_max_in_flight_per_destination: usize,
    /// The longest a hold may live from its creation, however often
    /// ExtendHold is called: an extension past it answers RESOURCE_EXHAUSTED.
    pub hold_max_lifetime_secs: u64,
    /// Live holds one hold key (one call) may have at once.
    pub hold_limit_per_hold_key: u32,
    /// Live holds made with one API key at once.
    pub hold_limit_per_api_key: u32,
    /// Live holds in one tenant at once.
    pub hold_limit_per_tenant: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:50051".parse().expect("valid default address"),
            database_url: SecretString::from("sqlite://data/askpro.db?mode=rwc"),
            database_max_connections: 0,
            database_app_role: "askpro_app".into(),
            cors_allowed_origins: vec!["*".into()],
            log_format: LogFormat::Auto,
            log_filter: "info".into(),
            shutdown_delay_secs: 5,
            shutdown_grace_period_secs: 20,
            redis_url: None,
            redis_timeout_ms: 50,
            rate_limit_enabled: true,
            rate_limit_per_key: Quota { per_second: 20, burst: 40 },
            rate_limit_per_tenant: Quota { per_second: 50, burst: 100 },
            rate_limit_tenant_overrides: BTreeMap::new(),
            default_deadline_secs: 30,
            max_deadline_secs: 300,
            max_concurrent_calls: 1024,
            max_concurrent_calls_per_connection: 128,
            max_concurrent_webhooks: 512,
            unauthenticated_limit_per_address: Quota { per_second: 10, burst: 200 },
            trusted_proxies: Vec::new(),
            max_message_bytes: 4 * 1024 * 1024,
            max_connection_age_secs: 600,
            max_connection_age_grace_secs: 30,
            health_check_interval_secs: 5,
            api_key_cache_secs: 5,
            caches: true,
            webhook_allow_http_loopback: false,
            webhook_retry_schedule_secs: vec![5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600],
            webhook_attempt_timeout_secs: 15,
            webhook_delivery_enabled: true,
            webhook_retention_days: 30,
            calcom_retry_schedule_secs: vec![10, 60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600, 12 * 3600, 24 * 3600],
            calcom_timeout_ms: 10_000,
            calcom_breaker_failures: 5,
            calcom_breaker_open_secs: 30,
            calcom_sync_enabled: true,
            calcom_import_interval_secs: 6 * 3600,
            calcom_busy_ttl_secs: 120,
            calcom_busy_days: 14,
            max_watch_streams_per_tenant: 100,
            webhook_max_in_flight: 64,
            webhook_max_in_flight_per_destination: 4,
            secrets_keys: Vec::new(),
            secrets_key_file: PathBuf::from("data/secrets.key"),
            idempotency_retention_hours: 72,
            hold_max_lifetime_secs: 3600,
            hold_limit_per_hold_key: 10,
            hold_limit_per_api_key: 1000,
            hold_limit_per_tenant: 2000,
        }
    }
}

impl Config {
    /// Loads defaults, then `file` (or `askpro.toml` in the working directory
    /// when present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let toml = match file {
            Some(path) => Toml::file_exact(path),
            None => Toml::file(PathBuf::from("askpro.toml")),
        };
        Figment::new().merge(toml).merge(Env::prefixed("ASKPRO_").ignore(&["CONFIG"])).extract().map_err(Box::new)
    }

    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms.max(1))
    }

    pub fn webhook_attempt_timeout(&self) -> Duration {
        Duration::from_secs(self.webhook_attempt_timeout_secs.max(1))
    }

    pub fn calcom_timeout(&self) -> Duration {
        Duration::from_millis(self.calcom_timeout_ms.max(1))
    }

    pub fn default_deadline(&self) -> Duration {
        Duration::from_secs(self.default_deadline_secs.max(1)).min(self.max_deadline())
    }

    pub fn max_deadline(&self) -> Duration {
        Duration::from_secs(self.max_deadline_secs.max(1))
    }

    /// The database pool's size: `database_max_connections`, or by database
    /// when it is 0. SQLite writes one transaction at a time (the store's
    /// write gate) and 2-core machines gain nothing from more than four
    /// readers, while each connection keeps its own page cache, prepared
    /// statements and worker thread (about 4 MB: `askpro bench` against a
    /// server alone peaked at 184 MB with 16, 128 MB with 4, at the same
    /// calls per second; docs/benchmarks.md).
    pub fn database_pool_size(&self) -> u32 {
        match self.database_max_connections {
            0 if self.is_postgres() => 16,
            0 => 4,
            size => size,
        }
    }

    pub fn is_postgres(&self) -> bool {
        use secrecy::ExposeSecret;
        let url = self.database_url.expose_secret();
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }
}

#[cfg(test)]
// figment::Jail's closures return figment::Error by value; its API, not ours.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn defaults_use_embedded_sqlite_on_localhost() {
        figment::Jail::expect_with(|_jail| {
            let config = Config::load(None).map_err(|e| *e)?;
            assert_eq!(config.listen.to_string(), "127.0.0.1:50051");
            assert!(config.database_url.expose_secret().starts_with("sqlite://"));
            assert!(!config.is_postgres());
            Ok(())
        });
    }

    #[test]
    fn the_pool_size_follows_the_database_unless_set() {
        let sqlite = Config::default();
        assert_eq!(sqlite.database_pool_size(), 4);
        let postgres = Config { database_url: SecretString::from("postgres://db/askpro"), ..Config::default() };
        assert_eq!(postgres.database_pool_size(), 16);
        let set = Config { database_max_connections: 7, ..postgres };
        assert_eq!(set.database_pool_size(), 7);
    }

    #[test]
    fn caches_are_on_by_default_and_the_old_name_still_switches_them() {
        figment::Jail::expect_with(|jail| {
            assert!(Config::load(None).map_err(|e| *e)?.caches);
            jail.set_env("ASKPRO_CONFIG_CACHE", "false");
            assert!(!Config::load(None).map_err(|e| *e)?.caches);
            jail.clear_env();
            jail.set_env("ASKPRO_CACHES", "false");
            assert!(!Config::load(None).map_err(|e| *e)?.caches);
            Ok(())
        });
    }

    #[test]
    fn environment_overrides_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("askpro.toml", "listen = \"127.0.0.1:7000\"\nlog_filter = \"debug\"")?;
            jail.set_env("ASKPRO_LISTEN", "127.0.0.1:7001");
            jail.set_env("ASKPRO_DATABASE_URL", "postgres://u:hunter2@db/askpro");
            let config = Config::load(None).map_err(|e| *e)?;
            assert_eq!(config.listen.to_string(), "127.0.0.1:7001");
            assert_eq!(config.log_filter, "debug");
            assert!(config.is_postgres());
            assert!(!format!("{config:?}").contains("hunter2"), "secrets must not reach Debug output");
            Ok(())
        });
    }

    #[test]
    fn quotas_and_tenant_overrides_come_from_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "askpro.toml",
                "[rate_limit_per_key]\nper_second = 5\nburst = 10\n\n\
                 [rate_limit_tenant_overrides.0190a1b2-0000-7000-8000-000000000001]\nper_second = 500\nburst = 900\n",
            )?;
            jail.set_env("ASKPRO_RATE_LIMIT_PER_TENANT", "{per_second=7,burst=8}");
            jail.set_env("ASKPRO_REDIS_URL", "redis://:hunter2@127.0.0.1:6379/");
            let config = Config::load(None).map_err(|e| *e)?;
            assert_eq!(config.rate_limit_per_key, Quota { per_second: 5, burst: 10 });
            assert_eq!(config.rate_limit_per_tenant, Quota { per_second: 7, burst: 8 });
            let over = config.rate_limit_tenant_overrides.get("0190a1b2-0000-7000-8000-000000000001");
            assert_eq!(over, Some(&Quota { per_second: 500, burst: 900 }));
            assert!(config.redis_url.is_some());
            assert!(!format!("{config:?}").contains("hunter2"), "the Redis password must not reach Debug output");
            Ok(())
        });
    }
}
