//! WatchAppointments: the caller tenant's appointment changes as a server
//! stream (works over grpc-web too), with a heartbeat after 30 quiet seconds
//! so proxies keep the stream open and clients notice a dead one.
use std::pin::Pin;
use std::time::Duration;

use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Status};

use crate::access::tenant_of;
use crate::api::AppState;
use crate::convert::timestamp;
use crate::domain::ids::{BranchId, StaffId};
use crate::domain::validate::Violations;
use crate::error::Result;
use crate::proto::appointment::v1 as pb;
use crate::store::{branches, now};

pub type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchAppointmentsResponse, Status>> + Send>>;

const HEARTBEAT: Duration = Duration::from_secs(30);

pub async fn watch(state: &AppState, request: Request<pb::WatchAppointmentsRequest>) -> Result<WatchStream> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let mut v = Violations::new();
    let staff: Vec<String> = v
        .at_most("staff_ids", &req.staff_ids, crate::domain::validate::MAX_STAFF_FILTER)
        .iter()
        .enumerate()
        .filter_map(|(i, id)| v.take_err(StaffId::parse(&format!("staff_ids[{i}]"), id)))
        .map(|id| id.to_string())
        .collect();
    let branch = if req.branch_id.is_empty() { None } else { v.take_err(BranchId::parse("branch_id", &req.branch_id)) };
    v.finish()?;
    if let Some(branch) = branch {
        // A foreign or unknown branch is NOT_FOUND, not an empty stream.
        let tx = state.store.read(tenant).await?;
        branches::get(&tx, branch).await?;
        tx.commit().await?;
    }
    let branch = branch.map(|b| b.to_string());

    // Subscribe before answering, so no change after the call returns is missed.
    let changes = BroadcastStream::new(state.ops.feed.subscribe(tenant)?).filter_map(move |event| match event {
        Ok(event) if event.tenant == tenant => {
            let a = &event.appointment;
            let staff_matches = staff.contains(&a.staff_id)
                || event.previous_staff_id.as_ref().is_some_and(|previous| staff.contains(previous));
            let wanted = (staff.is_empty() || staff_matches) && branch.as_ref().is_none_or(|b| *b == a.branch_id);
            wanted.then(|| {
                Ok(pb::WatchAppointmentsResponse {
                    change: event.change as i32,
                    appointment: Some(event.appointment.clone()),
                    // The change's commit time, not the time it is sent.
                    change_time: a.update_time.or_else(|| Some(timestamp(now()))),
                })
            })
        }
        Ok(_) => None,
        Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Err(Status::aborted(format!(
            "the watcher fell {missed} changes behind; list appointments again and re-open the stream"
        )))),
    });
    let mut interval = tokio::time::interval(HEARTBEAT);
    interval.reset();
    let heartbeats = IntervalStream::new(interval).map(|_| {
        Ok(pb::WatchAppointmentsResponse {
            change: pb::AppointmentChange::Heartbeat as i32,
            appointment: None,
            change_time: Some(timestamp(now())),
        })
    });
    Ok(Box::pin(changes.merge(heartbeats)))
}
