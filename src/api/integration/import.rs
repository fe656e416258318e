//! ImportFromCalcom.
use tonic::Request;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::error::Result;
use crate::operations::calcom_import::{self, Change, ChangeKind};
use crate::proto::integration::v1 as pb;

pub async fn import(
    state: &AppState,
    request: Request<pb::ImportFromCalcomRequest>,
) -> Result<pb::ImportFromCalcomResponse> {
    let tenant = tenant_of(&request)?;
    let changes = calcom_import::import(&state.store, &state.calcom, tenant).await?;
    Ok(pb::ImportFromCalcomResponse { changes: changes.into_iter().map(change).collect() })
}

fn change(change: Change) -> pb::ImportChange {
    let kind = match change.kind {
        ChangeKind::ServiceCreated => pb::ImportChangeKind::ServiceCreated,
        ChangeKind::ServiceUpdated => pb::ImportChangeKind::ServiceUpdated,
        ChangeKind::ServiceOffered => pb::ImportChangeKind::ServiceOffered,
        ChangeKind::WorkingHoursReplaced => pb::ImportChangeKind::WorkingHoursReplaced,
        ChangeKind::DateOverrideSet => pb::ImportChangeKind::DateOverrideSet,
        ChangeKind::Skipped => pb::ImportChangeKind::Skipped,
    };
    pb::ImportChange {
        kind: kind as i32,
        subject_id: change.subject_id.map(|id| id.to_string()).unwrap_or_default(),
        description: change.description,
    }
}
