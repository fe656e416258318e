//! `askpro platform-key ...`: platform-admin keys from the command line,
//! the only place they are created. They expire (90 days unless told
//! otherwise), are listed with their last use, and are revoked here or with
//! RevokePlatformApiKey. A platform key reaches every tenant, so one that
//! leaks must not stay valid forever by default.
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::domain::api_key;
use crate::domain::ids::ApiKeyId;
use crate::domain::page::PageRequest;
use crate::error::{Error, Result};
use crate::store::entities::api_key::Model as ApiKeyRow;
use crate::store::{Store, api_keys};

/// How long a platform key made without `--expire-days` lives.
pub const DEFAULT_LIFETIME_DAYS: u32 = 90;

/// A new platform-admin key: the whole key is shown once.
pub struct Created {
    pub row: ApiKeyRow,
    pub full_key: SecretString,
}

/// Creates a key named `name` expiring after `expire_days` (None: never).
pub async fn create(store: &Store, name: String, expire_days: Option<u32>) -> Result<Created> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    let expire_time = expire_days.map(|days| crate::store::now() + chrono::Duration::days(i64::from(days.max(1))));
    let issued = api_key::issue();
    let tx = store.platform().await?;
    let row = api_keys::create_platform_admin_until(&tx, &issued, name, expire_time).await?;
    tx.commit().await?;
    Ok(Created { row, full_key: issued.full_key })
}

/// Every platform-admin key (revoked ones too with `show_revoked`).
pub async fn list(store: &Store, show_revoked: bool) -> Result<Vec<ApiKeyRow>> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let filter = format!("platform_api_keys;revoked={show_revoked}");
        let page = PageRequest::parse(500, &token, uuid::Uuid::nil(), &filter)?;
        let tx = store.platform_read().await?;
        let mut rows = api_keys::list_platform(&tx, &page, show_revoked).await?;
        tx.commit().await?;
        token = page.finish(&mut rows, |r| r.id);
        all.extend(rows);
        if token.is_empty() {
            return Ok(all);
        }
    }
}

/// Revokes a platform-admin key by id.
pub async fn revoke(store: &Store, id: &str) -> Result<ApiKeyRow> {
    let id = ApiKeyId::parse("id", id)?;
    let tx = store.platform().await?;
    let row = api_keys::revoke_platform(&tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// One key as `platform-key list --json` prints it.
#[derive(Serialize)]
pub struct Listed {
    pub id: String,
    pub name: String,
    pub create_time: String,
    pub expire_time: Option<String>,
    pub revoke_time: Option<String>,
    pub last_use_time: Option<String>,
}

impl From<&ApiKeyRow> for Listed {
    fn from(row: &ApiKeyRow) -> Self {
        let text = |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self {
            id: row.id.to_string(),
            name: row.display_name.clone(),
            create_time: text(row.create_time),
            expire_time: row.expire_time.map(text),
            revoke_time: row.revoke_time.map(text),
            last_use_time: row.last_use_time.map(text),
        }
    }
}

/// A table for people: id, name, created, expires, last used, revoked.
pub fn render(rows: &[ApiKeyRow]) -> String {
    let mut out = format!(
        "{:<36}  {:<24}  {:<20}  {:<20}  {:<20}  {}\n",
        "id", "name", "created", "expires", "last used", "revoked"
    );
    for row in rows {
        let listed = Listed::from(row);
        let or_dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
        out += &format!(
            "{:<36}  {:<24}  {:<20}  {:<20}  {:<20}  {}\n",
            listed.id,
            listed.name.chars().take(24).collect::<String>(),
            listed.create_time,
            listed.expire_time.clone().unwrap_or_else(|| "never".into()),
            or_dash(&listed.last_use_time),
            or_dash(&listed.revoke_time),
        );
    }
    out
}

/// The key to print once.
pub fn shown_once(created: &Created) -> &str {
    created.full_key.expose_secret()
}
