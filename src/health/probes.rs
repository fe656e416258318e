//! The checks themselves: one for the database over a connection of its own,
//! one for Redis. Each answers with a short error kind, never a message.
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, RuntimeErr};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::{Instant, timeout};

/// One check's outcome. `error` is a short kind ("timeout", "connection", ...),
/// never a message: driver messages can carry host names or URLs.
#[derive(Clone, Copy, Debug)]
pub(super) struct Check {
    pub error: Option<&'static str>,
    pub latency: Duration,
    pub checked_at: DateTime<Utc>,
}

pub(super) async fn timed(limit: Duration, probe: impl Future<Output = Result<(), &'static str>>) -> Check {
    let started = Instant::now();
    let error = match timeout(limit, probe).await {
        Ok(result) => result.err(),
        Err(_) => Some("timeout"),
    };
    Check { error, latency: started.elapsed(), checked_at: Utc::now() }
}

/// `SELECT 1` over a connection that belongs to the check alone. Through the
/// request pool a saturated pool would read as "database down" and take every
/// replica out of the load balancer under load; this connection never waits
/// behind calls, so only a database that does not answer fails it. Opened on
/// first use and dropped after any failure (or a check cut by its timeout),
/// so the next check reconnects instead of reusing a hung connection.
pub(super) struct DatabaseProbe {
    url: SecretString,
    connect_timeout: Duration,
    connection: tokio::sync::Mutex<Option<DatabaseConnection>>,
}

impl DatabaseProbe {
    pub(super) fn new(url: SecretString, connect_timeout: Duration) -> Self {
        Self { url, connect_timeout, connection: tokio::sync::Mutex::new(None) }
    }

    pub(super) async fn ping(&self) -> Result<(), &'static str> {
        let mut slot = self.connection.lock().await;
        let connection = match slot.take() {
            Some(connection) => connection,
            None => self.connect().await.map_err(|e| database_error_kind(&e))?,
        };
        connection.execute_unprepared("SELECT 1").await.map_err(|e| database_error_kind(&e))?;
        *slot = Some(connection);
        Ok(())
    }

    async fn connect(&self) -> Result<DatabaseConnection, DbErr> {
        let mut options = ConnectOptions::new(self.url.expose_secret().to_owned());
        options
            .max_connections(1)
            .min_connections(0)
            .connect_timeout(self.connect_timeout)
            .acquire_timeout(self.connect_timeout)
            // The check's own SELECT 1 is the test.
            .test_before_acquire(false)
            .sqlx_logging(false);
        Database::connect(options).await
    }
}

fn database_error_kind(err: &DbErr) -> &'static str {
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => "connection",
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => "connection",
            _ => "query",
        },
        _ => "query",
    }
}

/// PINGs Redis over one multiplexed connection, opened on first use and
/// dropped after any failure so the next check reconnects. (Not a
/// `ConnectionManager`: a health check wants Redis's state now, not after a
/// reconnect backoff.)
pub(super) struct RedisProbe {
    /// `None` when the URL does not parse; reported as "invalid_url".
    client: Option<redis::Client>,
    connection: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
}

impl RedisProbe {
    pub(super) fn new(url: &str) -> Self {
        Self { client: redis::Client::open(url).ok(), connection: tokio::sync::Mutex::new(None) }
    }

    pub(super) async fn ping(&self) -> Result<(), &'static str> {
        let client = self.client.as_ref().ok_or("invalid_url")?;
        let mut slot = self.connection.lock().await;
        // Taken out of the slot: if this check fails or times out, it is not put back.
        let mut connection = match slot.take() {
            Some(connection) => connection,
            None => client.get_multiplexed_async_connection().await.map_err(|e| redis_error_kind(&e))?,
        };
        let _: String = redis::cmd("PING").query_async(&mut connection).await.map_err(|e| redis_error_kind(&e))?;
        *slot = Some(connection);
        Ok(())
    }
}

fn redis_error_kind(err: &redis::RedisError) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connection_refusal() {
        "connection_refused"
    } else if err.is_io_error() {
        "connection"
    } else if err.kind() == redis::ErrorKind::AuthenticationFailed {
        "authentication"
    } else {
        "response"
    }
}
