//! IntegrationService: the tenant's Cal.com connection and the state of its
//! appointments' Cal.com copies. The trait implementation only dispatches.
//! Every method needs the tenant admin scope (`access::permissions`).
//!
//! The API key is input only: it is sent to Cal.com and stored, and never
//! returned, logged or echoed in an error.
mod connection;
mod import;
mod syncs;

use tonic::{Request, Response, Status};

use super::AppState;
use crate::error::Result;
use crate::proto::integration::v1::integration_service_server::IntegrationService;
use crate::proto::integration::v1::*;

pub struct IntegrationApi {
    state: AppState,
}

impl IntegrationApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// Wraps a handler result into a tonic response, mapping the error once.
fn respond<T>(result: Result<T>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl IntegrationService for IntegrationApi {
    async fn connect_calcom(
        &self,
        r: Request<ConnectCalcomRequest>,
    ) -> Result<Response<ConnectCalcomResponse>, Status> {
        respond(connection::connect(&self.state, r).await)
    }
    async fn get_calcom_connection(
        &self,
        r: Request<GetCalcomConnectionRequest>,
    ) -> Result<Response<GetCalcomConnectionResponse>, Status> {
        respond(connection::get(&self.state, r).await)
    }
    async fn disconnect_calcom(
        &self,
        r: Request<DisconnectCalcomRequest>,
    ) -> Result<Response<DisconnectCalcomResponse>, Status> {
        respond(connection::disconnect(&self.state, r).await)
    }
    async fn import_from_calcom(
        &self,
        r: Request<ImportFromCalcomRequest>,
    ) -> Result<Response<ImportFromCalcomResponse>, Status> {
        respond(import::import(&self.state, r).await)
    }
    async fn get_calcom_sync(
        &self,
        r: Request<GetCalcomSyncRequest>,
    ) -> Result<Response<GetCalcomSyncResponse>, Status> {
        respond(syncs::get(&self.state, r).await)
    }
    async fn list_calcom_syncs(
        &self,
        r: Request<ListCalcomSyncsRequest>,
    ) -> Result<Response<ListCalcomSyncsResponse>, Status> {
        respond(syncs::list(&self.state, r).await)
    }
    async fn retry_calcom_sync(
        &self,
        r: Request<RetryCalcomSyncRequest>,
    ) -> Result<Response<RetryCalcomSyncResponse>, Status> {
        respond(syncs::retry(&self.state, r).await)
    }
}
