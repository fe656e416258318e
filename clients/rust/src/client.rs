//! `AskPro`: one channel with the API key, tenant and default deadline added
//! to every call by an interceptor, typed clients for each service, and
//! wrappers for the unary calls that add request ids, retries and typed errors.
use std::time::Duration;

use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

use crate::error::Error;
use crate::proto::appointment::v1 as ap;
use crate::proto::appointment::v1::appointment_service_client::AppointmentServiceClient;
use crate::proto::availability::v1 as av;
use crate::proto::availability::v1::availability_service_client::AvailabilityServiceClient;
use crate::proto::integration::v1::integration_service_client::IntegrationServiceClient;
use crate::proto::tenant::v1 as tn;
use crate::proto::tenant::v1::tenant_service_client::TenantServiceClient;
use crate::proto::webhook::v1::webhook_service_client::WebhookServiceClient;
use crate::retry::RetryPolicy;

/// The channel every generated client of this crate runs on.
pub type AuthedChannel = InterceptedService<Channel, Credentials>;

/// The deadline a call gets when the caller set none.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// Adds `authorization: Bearer <key>`, `x-askpro-tenant-id` (platform keys
/// acting for a tenant) and the default deadline to every request.
#[derive(Clone, Debug)]
pub struct Credentials {
    authorization: AsciiMetadataValue,
    tenant: Option<AsciiMetadataValue>,
    deadline: Duration,
}

impl Interceptor for Credentials {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let metadata = request.metadata_mut();
        metadata.insert("authorization", self.authorization.clone());
        if let Some(tenant) = &self.tenant {
            metadata.insert("x-askpro-tenant-id", tenant.clone());
        }
        // A deadline the caller set on the request wins over the default.
        if !metadata.contains_key("grpc-timeout") {
            request.set_timeout(self.deadline);
        }
        Ok(request)
    }
}

/// Configures an [`AskPro`] client.
#[derive(Clone, Debug)]
pub struct Builder {
    target: String,
    api_key: String,
    tenant: Option<String>,
    deadline: Duration,
    retry: RetryPolicy,
}

impl Builder {
    /// The default deadline of every call (10 s unless set).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Retries on UNAVAILABLE (4 attempts, 100 ms to 2 s backoff unless set).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Acts for this tenant (`x-askpro-tenant-id`); only platform keys need it.
    pub fn tenant(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant = Some(tenant_id.into());
        self
    }

    /// Connects now; fails if the server cannot be reached.
    pub async fn connect(self) -> Result<AskPro, Error> {
        let channel = Endpoint::from_shared(self.target.clone())?.connect().await?;
        self.with_channel(channel)
    }

    /// Connects on the first call (whose failure is UNAVAILABLE, and retried).
    pub fn connect_lazy(self) -> Result<AskPro, Error> {
        let channel = Endpoint::from_shared(self.target.clone())?.connect_lazy();
        self.with_channel(channel)
    }

    /// Uses a channel built elsewhere (TLS, custom timeouts, a balancer).
    pub fn with_channel(self, channel: Channel) -> Result<AskPro, Error> {
        let authorization: AsciiMetadataValue = MetadataValue::try_from(format!("Bearer {}", self.api_key))
            .map_err(|_| Error::InvalidMetadata("authorization"))?;
        let tenant = match &self.tenant {
            Some(id) => {
                Some(MetadataValue::try_from(id.as_str()).map_err(|_| Error::InvalidMetadata("x-askpro-tenant-id"))?)
            }
            None => None,
        };
        let credentials = Credentials { authorization, tenant, deadline: self.deadline };
        Ok(AskPro { channel, credentials, retry: self.retry })
    }
}

/// A connection to an AskPro server with one API key.
#[derive(Clone, Debug)]
pub struct AskPro {
    channel: Channel,
    credentials: Credentials,
    retry: RetryPolicy,
}

impl AskPro {
    /// Connects to `target` (e.g. `http://127.0.0.1:50051`) with default
    /// deadline and retries.
    pub async fn connect(target: impl Into<String>, api_key: impl Into<String>) -> Result<Self, Error> {
        Self::builder(target, api_key).connect().await
    }

    /// A builder for deadline, retries and tenant.
    pub fn builder(target: impl Into<String>, api_key: impl Into<String>) -> Builder {
        Builder {
            target: target.into(),
            api_key: api_key.into(),
            tenant: None,
            deadline: DEFAULT_DEADLINE,
            retry: RetryPolicy::default(),
        }
    }

    /// The same connection acting for `tenant_id` (for platform keys).
    pub fn for_tenant(&self, tenant_id: &str) -> Result<Self, Error> {
        let tenant = MetadataValue::try_from(tenant_id).map_err(|_| Error::InvalidMetadata("x-askpro-tenant-id"))?;
        let mut copy = self.clone();
        copy.credentials.tenant = Some(tenant);
        Ok(copy)
    }

    /// The same connection with another API key (and no tenant override).
    pub fn with_api_key(&self, api_key: &str) -> Result<Self, Error> {
        let authorization = MetadataValue::try_from(format!("Bearer {api_key}"))
            .map_err(|_| Error::InvalidMetadata("authorization"))?;
        let mut copy = self.clone();
        copy.credentials.authorization = authorization;
        copy.credentials.tenant = None;
        Ok(copy)
    }

    /// The retry policy the wrappers use.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The raw generated clients, with key and deadline but without retries,
    /// request ids or typed errors: for streams and calls without a wrapper.
    pub fn tenants(&self) -> TenantServiceClient<AuthedChannel> {
        TenantServiceClient::with_interceptor(self.channel.clone(), self.credentials.clone())
    }
    pub fn availability(&self) -> AvailabilityServiceClient<AuthedChannel> {
        AvailabilityServiceClient::with_interceptor(self.channel.clone(), self.credentials.clone())
    }
    pub fn appointments(&self) -> AppointmentServiceClient<AuthedChannel> {
        AppointmentServiceClient::with_interceptor(self.channel.clone(), self.credentials.clone())
    }
    pub fn webhooks(&self) -> WebhookServiceClient<AuthedChannel> {
        WebhookServiceClient::with_interceptor(self.channel.clone(), self.credentials.clone())
    }
    pub fn integrations(&self) -> IntegrationServiceClient<AuthedChannel> {
        IntegrationServiceClient::with_interceptor(self.channel.clone(), self.credentials.clone())
    }

    /// Runs one unary call under the retry policy and types its error.
    /// `call` gets a fresh copy of the request on each attempt.
    pub async fn call<Req, Resp, F, Fut>(&self, request: Req, mut call: F) -> Result<Resp, Error>
    where
        Req: Clone,
        F: FnMut(Req) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<Resp>, Status>>,
    {
        self.retry.run(|| call(request.clone())).await.map(tonic::Response::into_inner).map_err(Error::from)
    }
}

/// Fills an empty `request_id` with a fresh UUIDv7, once, before the first
/// attempt, so that retries of a create are deduplicated by the server.
fn ensure_request_id(request_id: &mut String) {
    if request_id.is_empty() {
        *request_id = uuid::Uuid::now_v7().to_string();
    }
}

macro_rules! unary {
    ($service:ident: $($method:ident($req:ty) -> $resp:ty $(, $id:ident)?;)*) => {
        impl AskPro {
            $(
                #[doc = concat!("`", stringify!($method), "` with retries on UNAVAILABLE and typed errors",
                    $(" (an empty `", stringify!($id), "` is generated)",)? ".")]
                #[allow(unused_mut)]
                pub async fn $method(&self, mut request: $req) -> Result<$resp, Error> {
                    $(ensure_request_id(&mut request.$id);)?
                    let client = self.$service();
                    self.call(request, move |r| {
                        let mut client = client.clone();
                        async move { client.$method(r).await }
                    })
                    .await
                }
            )*
        }
    };
}

unary! { tenants:
    create_tenant(tn::CreateTenantRequest) -> tn::CreateTenantResponse, request_id;
    get_tenant(tn::GetTenantRequest) -> tn::GetTenantResponse;
    list_tenants(tn::ListTenantsRequest) -> tn::ListTenantsResponse;
    create_branch(tn::CreateBranchRequest) -> tn::CreateBranchResponse, request_id;
    get_branch(tn::GetBranchRequest) -> tn::GetBranchResponse;
    list_branches(tn::ListBranchesRequest) -> tn::ListBranchesResponse;
    create_staff(tn::CreateStaffRequest) -> tn::CreateStaffResponse, request_id;
    get_staff(tn::GetStaffRequest) -> tn::GetStaffResponse;
    list_staff(tn::ListStaffRequest) -> tn::ListStaffResponse;
    create_service(tn::CreateServiceRequest) -> tn::CreateServiceResponse, request_id;
    get_service(tn::GetServiceRequest) -> tn::GetServiceResponse;
    list_services(tn::ListServicesRequest) -> tn::ListServicesResponse;
    create_api_key(tn::CreateApiKeyRequest) -> tn::CreateApiKeyResponse;
}

unary! { availability:
    get_working_hours(av::GetWorkingHoursRequest) -> av::GetWorkingHoursResponse;
    set_working_hours(av::SetWorkingHoursRequest) -> av::SetWorkingHoursResponse;
    create_time_off(av::CreateTimeOffRequest) -> av::CreateTimeOffResponse, request_id;
    list_available_slots(av::ListAvailableSlotsRequest) -> av::ListAvailableSlotsResponse;
    hold_slot(av::HoldSlotRequest) -> av::HoldSlotResponse, request_id;
    get_hold(av::GetHoldRequest) -> av::GetHoldResponse;
    extend_hold(av::ExtendHoldRequest) -> av::ExtendHoldResponse;
    release_hold(av::ReleaseHoldRequest) -> av::ReleaseHoldResponse;
}

unary! { appointments:
    create_appointment(ap::CreateAppointmentRequest) -> ap::CreateAppointmentResponse, request_id;
    get_appointment(ap::GetAppointmentRequest) -> ap::GetAppointmentResponse;
    list_appointments(ap::ListAppointmentsRequest) -> ap::ListAppointmentsResponse;
    cancel_appointment(ap::CancelAppointmentRequest) -> ap::CancelAppointmentResponse, request_id;
    reschedule_appointment(ap::RescheduleAppointmentRequest) -> ap::RescheduleAppointmentResponse, request_id;
    confirm_appointment(ap::ConfirmAppointmentRequest) -> ap::ConfirmAppointmentResponse;
    create_customer(ap::CreateCustomerRequest) -> ap::CreateCustomerResponse, request_id;
    get_customer(ap::GetCustomerRequest) -> ap::GetCustomerResponse;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_request_id_gets_a_uuid_v7_and_a_given_one_is_kept() {
        let mut empty = String::new();
        ensure_request_id(&mut empty);
        assert_eq!(uuid::Uuid::parse_str(&empty).expect("a uuid").get_version_num(), 7);
        let mut given = "mine".to_owned();
        ensure_request_id(&mut given);
        assert_eq!(given, "mine");
    }
}
