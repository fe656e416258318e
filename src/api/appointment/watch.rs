//! WatchAppointments: the tenant's appointment changes as a server stream.
use std::pin::Pin;

use tokio_stream::Stream;
use tonic::{Request, Status};

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::proto::appointment::v1 as pb;

pub type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchAppointmentsResponse, Status>> + Send>>;

pub async fn watch(_state: &AppState, _request: Request<pb::WatchAppointmentsRequest>) -> Result<WatchStream> {
    Err(Error::NotImplemented("AppointmentService.WatchAppointments (arrives with the availability and booking core)"))
}
