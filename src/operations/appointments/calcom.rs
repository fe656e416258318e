//! Keeping an appointment's Cal.com copy in step with AskPro: a change made
//! in AskPro to an appointment of a staff member linked to Cal.com queues
//! the copy (`store::calcom::queue`) in the change's own transaction, so the
//! sync happens exactly when the change does and never holds up the caller
//! (the worker, `jobs::calcom_sync`, talks to Cal.com after the commit).
//! Changes the inbound mirror makes came from Cal.com and queue nothing.
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::operations::Operations;
use crate::store::TenantTx;
use crate::store::calcom::{self, KnownCopy};
use crate::store::entities::appointment;

/// Where a change to an appointment comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// A call to AskPro (gRPC, a voice agent, a webhook that is not Cal.com's).
    AskPro,
    /// A Cal.com webhook: Cal.com has it already.
    Calcom,
}

/// Queues `after`'s Cal.com copy when its staff member (or the one it had,
/// `before`) is linked. A mirrored appointment's first queueing records
/// the Cal.com booking it came from, so the copy moves that booking.
pub(super) async fn follow(
    ops: &Operations,
    tx: &TenantTx,
    before: Option<&appointment::Model>,
    after: &appointment::Model,
    origin: Origin,
    at: DateTime<Utc>,
) -> Result<()> {
    if origin == Origin::Calcom {
        return Ok(());
    }
    let config = ops.store.tenant_config(tx.tenant()).await?;
    if config.calcom_links.is_empty() {
        return Ok(());
    }
    let linked = |staff_id| config.calcom_links.contains_key(&staff_id);
    if !linked(after.staff_id) && !before.is_some_and(|b| linked(b.staff_id)) {
        return Ok(());
    }
    let known = match before {
        Some(before) if !before.external_booking_uid.is_empty() => {
            KnownCopy { uid: before.external_booking_uid.clone(), start: Some(before.start_time) }
        }
        _ => KnownCopy::default(),
    };
    calcom::queue(tx, after.id, known, at);
    Ok(())
}
