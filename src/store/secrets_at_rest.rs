//! The sealed secrets of each table (see `crate::secrets`): where each one
//! lives (its associated data) and re-sealing them all, for a server start
//! (values stored in plain text before sealing existed) and for a key
//! rotation (`askpro rotate-secrets`: everything not under the current key).
use sea_orm::sea_query::{Expr, IntoCondition};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::{calcom_connection, inbound_endpoint, subscription};
use super::{PlatformTx, Store};
use crate::error::Result;
use crate::secrets::{Place, SecretBox};
use secrecy::ExposeSecret;

pub fn subscription(tenant: Uuid, id: Uuid) -> Place {
    Place { table: "subscriptions", tenant, row: id }
}

pub fn inbound_endpoint(tenant: Uuid, id: Uuid) -> Place {
    Place { table: "inbound_endpoints", tenant, row: id }
}

/// A tenant has at most one Cal.com connection: the tenant is the row.
pub fn calcom_connection(tenant: Uuid) -> Place {
    Place { table: "calcom_connections", tenant, row: tenant }
}

/// The LIKE pattern of a sealed value.
const SEALED: &str = "sealed:v1:%";

/// Which stored values to seal again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reseal {
    /// Only values in plain text (every server start).
    PlainText,
    /// Every value not sealed under the current key (key rotation).
    NotCurrent,
}

/// Seals again what `which` selects, in every tenant, in one transaction.
/// Returns how many values it sealed.
pub async fn reseal(store: &Store, which: Reseal) -> Result<u64> {
    let tx = store.platform().await?;
    let secrets = store.secrets();
    let due = |stored: &str| match which {
        Reseal::PlainText => !SecretBox::is_sealed(stored),
        Reseal::NotCurrent => !secrets.is_current(stored),
    };
    let again = |place: &Place, stored: &str| -> Result<String> {
        Ok(secrets.seal(place, secrets.open(place, stored)?.expose_secret()))
    };
    let mut sealed = 0;
    let subscriptions = subscription::Entity::find()
        .filter(selected(
            which,
            sea_orm::Condition::any()
                .add(subscription::Column::Secret.not_like(SEALED))
                .add(subscription::Column::PreviousSecret.not_like(SEALED)),
        ))
        .all(tx.conn())
        .await?;
    for row in subscriptions {
        let place = subscription(row.tenant_id, row.id);
        let previous_due = row.previous_secret.as_deref().is_some_and(due);
        if !due(&row.secret) && !previous_due {
            continue;
        }
        let secret = if due(&row.secret) { again(&place, &row.secret)? } else { row.secret.clone() };
        let previous = match &row.previous_secret {
            Some(stored) if due(stored) => Some(again(&place, stored)?),
            other => other.clone(),
        };
        sealed += u64::from(due(&row.secret)) + u64::from(previous_due);
        update_subscription(&tx, &row, secret, previous).await?;
    }
    let endpoints = inbound_endpoint::Entity::find()
        .filter(selected(which, inbound_endpoint::Column::Secret.not_like(SEALED)))
        .all(tx.conn())
        .await?;
    for row in endpoints {
        if due(&row.secret) {
            let secret = again(&inbound_endpoint(row.tenant_id, row.id), &row.secret)?;
            inbound_endpoint::Entity::update_many()
                .col_expr(inbound_endpoint::Column::Secret, Expr::value(secret))
                .filter(inbound_endpoint::Column::TenantId.eq(row.tenant_id))
                .filter(inbound_endpoint::Column::Id.eq(row.id))
                .exec(tx.conn())
                .await?;
            sealed += 1;
        }
    }
    let connections = calcom_connection::Entity::find()
        .filter(selected(which, calcom_connection::Column::ApiKey.not_like(SEALED)))
        .all(tx.conn())
        .await?;
    for row in connections {
        if due(&row.api_key) {
            let api_key = again(&calcom_connection(row.tenant_id), &row.api_key)?;
            calcom_connection::Entity::update_many()
                .col_expr(calcom_connection::Column::ApiKey, Expr::value(api_key))
                .filter(calcom_connection::Column::TenantId.eq(row.tenant_id))
                .exec(tx.conn())
                .await?;
            sealed += 1;
        }
    }
    tx.commit().await?;
    Ok(sealed)
}

/// At a start nearly every value is sealed already: only the others are
/// read. A rotation reads them all.
fn selected(which: Reseal, plain_text: impl IntoCondition) -> sea_orm::Condition {
    match which {
        Reseal::PlainText => sea_orm::Condition::all().add(plain_text),
        Reseal::NotCurrent => sea_orm::Condition::all(),
    }
}

async fn update_subscription(
    tx: &PlatformTx,
    row: &subscription::Model,
    secret: String,
    previous: Option<String>,
) -> Result<()> {
    subscription::Entity::update_many()
        .col_expr(subscription::Column::Secret, Expr::value(secret))
        .col_expr(subscription::Column::PreviousSecret, Expr::value(previous))
        .filter(subscription::Column::TenantId.eq(row.tenant_id))
        .filter(subscription::Column::Id.eq(row.id))
        .exec(tx.conn())
        .await?;
    Ok(())
}
