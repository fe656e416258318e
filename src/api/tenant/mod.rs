//! TenantService: tenants, branches, staff, services and API keys. The trait
//! implementation only dispatches; each resource has its own module.
mod api_keys;
mod branches;
mod services;
mod staff;
mod tenants;

use tonic::{Request, Response, Status};

use super::AppState;
use crate::proto::tenant::v1::tenant_service_server::TenantService;
use crate::proto::tenant::v1::*;

pub struct TenantApi {
    state: AppState,
}

impl TenantApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// Wraps a handler result into a tonic response, mapping the error once.
fn respond<T>(result: crate::error::Result<T>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl TenantService for TenantApi {
    async fn create_tenant(&self, r: Request<CreateTenantRequest>) -> Result<Response<CreateTenantResponse>, Status> {
        respond(tenants::create(&self.state, r).await)
    }
    async fn get_tenant(&self, r: Request<GetTenantRequest>) -> Result<Response<GetTenantResponse>, Status> {
        respond(tenants::get(&self.state, r).await)
    }
    async fn list_tenants(&self, r: Request<ListTenantsRequest>) -> Result<Response<ListTenantsResponse>, Status> {
        respond(tenants::list(&self.state, r).await)
    }
    async fn update_tenant(&self, r: Request<UpdateTenantRequest>) -> Result<Response<UpdateTenantResponse>, Status> {
        respond(tenants::update(&self.state, r).await)
    }

    async fn create_branch(&self, r: Request<CreateBranchRequest>) -> Result<Response<CreateBranchResponse>, Status> {
        respond(branches::create(&self.state, r).await)
    }
    async fn get_branch(&self, r: Request<GetBranchRequest>) -> Result<Response<GetBranchResponse>, Status> {
        respond(branches::get(&self.state, r).await)
    }
    async fn list_branches(&self, r: Request<ListBranchesRequest>) -> Result<Response<ListBranchesResponse>, Status> {
        respond(branches::list(&self.state, r).await)
    }
    async fn update_branch(&self, r: Request<UpdateBranchRequest>) -> Result<Response<UpdateBranchResponse>, Status> {
        respond(branches::update(&self.state, r).await)
    }
    async fn delete_branch(&self, r: Request<DeleteBranchRequest>) -> Result<Response<DeleteBranchResponse>, Status> {
        respond(branches::delete(&self.state, r).await)
    }

    async fn create_staff(&self, r: Request<CreateStaffRequest>) -> Result<Response<CreateStaffResponse>, Status> {
        respond(staff::create(&self.state, r).await)
    }
    async fn get_staff(&self, r: Request<GetStaffRequest>) -> Result<Response<GetStaffResponse>, Status> {
        respond(staff::get(&self.state, r).await)
    }
    async fn list_staff(&self, r: Request<ListStaffRequest>) -> Result<Response<ListStaffResponse>, Status> {
        respond(staff::list(&self.state, r).await)
    }
    async fn update_staff(&self, r: Request<UpdateStaffRequest>) -> Result<Response<UpdateStaffResponse>, Status> {
        respond(staff::update(&self.state, r).await)
    }
    async fn delete_staff(&self, r: Request<DeleteStaffRequest>) -> Result<Response<DeleteStaffResponse>, Status> {
        respond(staff::delete(&self.state, r).await)
    }

    async fn create_service(
        &self,
        r: Request<CreateServiceRequest>,
    ) -> Result<Response<CreateServiceResponse>, Status> {
        respond(services::create(&self.state, r).await)
    }
    async fn get_service(&self, r: Request<GetServiceRequest>) -> Result<Response<GetServiceResponse>, Status> {
        respond(services::get(&self.state, r).await)
    }
    async fn list_services(&self, r: Request<ListServicesRequest>) -> Result<Response<ListServicesResponse>, Status> {
        respond(services::list(&self.state, r).await)
    }
    async fn update_service(
        &self,
        r: Request<UpdateServiceRequest>,
    ) -> Result<Response<UpdateServiceResponse>, Status> {
        respond(services::update(&self.state, r).await)
    }
    async fn delete_service(
        &self,
        r: Request<DeleteServiceRequest>,
    ) -> Result<Response<DeleteServiceResponse>, Status> {
        respond(services::delete(&self.state, r).await)
    }

    async fn create_api_key(&self, r: Request<CreateApiKeyRequest>) -> Result<Response<CreateApiKeyResponse>, Status> {
        respond(api_keys::create(&self.state, r).await)
    }
    async fn list_api_keys(&self, r: Request<ListApiKeysRequest>) -> Result<Response<ListApiKeysResponse>, Status> {
        respond(api_keys::list(&self.state, r).await)
    }
    async fn revoke_api_key(&self, r: Request<RevokeApiKeyRequest>) -> Result<Response<RevokeApiKeyResponse>, Status> {
        respond(api_keys::revoke(&self.state, r).await)
    }
    async fn list_platform_api_keys(
        &self,
        r: Request<ListPlatformApiKeysRequest>,
    ) -> Result<Response<ListPlatformApiKeysResponse>, Status> {
        respond(api_keys::list_platform(&self.state, r).await)
    }
    async fn revoke_platform_api_key(
        &self,
        r: Request<RevokePlatformApiKeyRequest>,
    ) -> Result<Response<RevokePlatformApiKeyResponse>, Status> {
        respond(api_keys::revoke_platform(&self.state, r).await)
    }
}
