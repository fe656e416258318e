//! The periodic Cal.com import: every `calcom_import_interval_secs`, each
//! connected tenant's event types and schedule are imported again
//! (`operations::calcom_import`; idempotent, so replicas running it at
//! once only repeat each other's reads).
use std::time::Duration;

use crate::calcom::CalcomClient;
use crate::domain::ids::TenantId;
use crate::store::{Store, calcom};

/// Runs forever; 0 seconds turns it off.
pub async fn run_periodically(store: Store, client: CalcomClient, interval_secs: u64) {
    if interval_secs == 0 {
        return;
    }
    let interval = Duration::from_secs(interval_secs);
    loop {
        tokio::time::sleep(interval).await;
        let tenants = match connected(&store).await {
            Ok(tenants) => tenants,
            Err(err) => {
                tracing::warn!(error = %err, "Cal.com import: could not list connected tenants");
                continue;
            }
        };
        for tenant in tenants {
            let tenant = TenantId(tenant);
            if let Err(err) = crate::operations::calcom_import::import(&store, &client, tenant).await {
                tracing::warn!(%tenant, error = %err, "Cal.com import failed; the next run tries again");
            }
        }
    }
}

async fn connected(store: &Store) -> crate::error::Result<Vec<uuid::Uuid>> {
    let tx = store.platform_read().await?;
    let tenants = calcom::connected_tenants(&tx).await?;
    tx.commit().await?;
    Ok(tenants)
}
