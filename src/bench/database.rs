//! The database a bench runs on: a fresh SQLite file, a fresh PostgreSQL
//! database (dropped afterwards), or the target server's own database.
use std::path::PathBuf;

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use uuid::Uuid;

use super::options::BenchArgs;

pub enum BenchDatabase {
    /// A SQLite file in a folder of its own under the system's temp folder.
    Sqlite { folder: PathBuf, url: String },
    /// A database created on `admin_url` for this run.
    Postgres { admin_url: String, name: String, url: String },
    /// The target server's database: used, never removed.
    Existing { url: String },
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl BenchDatabase {
    pub async fn provision(args: &BenchArgs) -> anyhow::Result<Self> {
        match (&args.target, &args.database_url) {
            (Some(_), Some(url)) => Ok(Self::Existing { url: url.clone() }),
            (Some(_), None) => anyhow::bail!("--target needs --database-url: the database the target server uses"),
            (None, Some(admin_url)) => {
                if !is_postgres(admin_url) {
                    anyhow::bail!(
                        "without --target, --database-url must be a PostgreSQL administrative URL \
                         (SQLite runs always use a fresh temporary file)"
                    );
                }
                let name = format!("askpro_bench_{}", Uuid::now_v7().simple());
                let admin = Database::connect(admin_url.as_str()).await.context("connecting to --database-url")?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .context("creating the bench database")?;
                admin.close().await.ok();
                let url = with_database(admin_url, &name);
                Ok(Self::Postgres { admin_url: admin_url.clone(), name, url })
            }
            (None, None) => {
                let folder = std::env::temp_dir().join(format!("askpro-bench-{}", Uuid::now_v7().simple()));
                std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
                let url = format!("sqlite://{}?mode=rwc", folder.join("askpro.db").display());
                Ok(Self::Sqlite { folder, url })
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } | Self::Existing { url } => url,
        }
    }

    /// What to call the database in the output (never the URL: it can hold a password).
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite { folder, .. } => format!("fresh SQLite file in {}", folder.display()),
            Self::Postgres { name, .. } => format!("fresh PostgreSQL database {name} (dropped at the end)"),
            Self::Existing { .. } => "the target server's database".into(),
        }
    }

    /// Removes what `provision` made. Runs after errors too.
    pub async fn remove(self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite { folder, .. } => {
                std::fs::remove_dir_all(&folder).with_context(|| format!("removing {}", folder.display()))
            }
            Self::Postgres { admin_url, name, .. } => {
                let admin =
                    Database::connect(admin_url.as_str()).await.context("connecting to drop the bench database")?;
                // FORCE ends the pool's connections that may still be open.
                let forced = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                if forced.is_err() {
                    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await?;
                }
                admin.close().await.ok();
                Ok(())
            }
            Self::Existing { .. } => Ok(()),
        }
    }
}

/// Replaces the database name in a PostgreSQL URL, keeping any query string.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map(|(b, q)| (b, Some(q))).unwrap_or((url, None));
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[scheme_end..].find('/') {
        Some(index) => &base[..scheme_end + index],
        None => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

/// The scratch table of the raw-insert baseline.
pub const SCRATCH_TABLE: &str = "bench_scratch";

pub async fn create_scratch_table(db: &impl ConnectionTrait) -> anyhow::Result<()> {
    let id_type = match db.get_database_backend() {
        DbBackend::Postgres => "uuid",
        _ => "blob",
    };
    db.execute_unprepared(&format!(
        "CREATE TABLE IF NOT EXISTS {SCRATCH_TABLE} (id {id_type} PRIMARY KEY, payload text NOT NULL)"
    ))
    .await?;
    Ok(())
}

pub async fn drop_scratch_table(db: &impl ConnectionTrait) -> anyhow::Result<()> {
    db.execute_unprepared(&format!("DROP TABLE IF EXISTS {SCRATCH_TABLE}")).await?;
    Ok(())
}

/// "SQLite 3.46.0" or "PostgreSQL 15.20 (...)".
pub async fn server_version(db: &impl ConnectionTrait) -> String {
    let backend = db.get_database_backend();
    let (name, sql) = match backend {
        DbBackend::Postgres => ("PostgreSQL", "SHOW server_version"),
        _ => ("SQLite", "SELECT sqlite_version()"),
    };
    let version = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get_by_index::<String>(0).ok())
        .unwrap_or_else(|| "(version unknown)".into());
    format!("{name} {version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_and_the_query_kept() {
        assert_eq!(with_database("postgres://u:p@h:5432/postgres", "b"), "postgres://u:p@h:5432/b");
        assert_eq!(with_database("postgres://h/postgres?sslmode=disable", "b"), "postgres://h/b?sslmode=disable");
        assert_eq!(with_database("postgres://h", "b"), "postgres://h/b");
    }
}
