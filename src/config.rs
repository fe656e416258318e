//! The one typed configuration: defaults, then an optional TOML file, then
//! `ASKPRO_<SETTING>` environment variables (e.g. `ASKPRO_LISTEN`,
//! `ASKPRO_DATABASE_URL`). Nothing else in the code reads the environment.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address of the one port serving gRPC, grpc-web and HTTP.
    pub listen: SocketAddr,
    /// `sqlite://path?mode=rwc` (default, embedded) or `postgres://...`.
    /// Secret: a URL can carry a password.
    pub database_url: SecretString,
    /// Maximum pooled database connections.
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
    /// How long a shutdown (SIGTERM) waits for in-flight calls to finish.
    pub shutdown_grace_period_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:50051".parse().expect("valid default address"),
            database_url: SecretString::from("sqlite://data/askpro.db?mode=rwc"),
            database_max_connections: 16,
            database_app_role: "askpro_app".into(),
            cors_allowed_origins: vec!["*".into()],
            log_format: LogFormat::Auto,
            log_filter: "info".into(),
            shutdown_grace_period_secs: 30,
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

    pub fn is_postgres(&self) -> bool {
        use secrecy::ExposeSecret;
        let url = self.database_url.expose_secret();
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }
}

#[cfg(test)]
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
}
