//! The key a bench caller sends with every request.
use tonic::Request;
use tonic::metadata::AsciiMetadataValue;
use uuid::Uuid;

use crate::access::TENANT_HEADER;

/// `authorization: Bearer <key>` (and, for a platform key, the tenant),
/// parsed once and copied into every request.
#[derive(Clone)]
pub struct Credentials {
    authorization: AsciiMetadataValue,
    tenant: Option<AsciiMetadataValue>,
}

impl Credentials {
    pub fn new(key: &str, tenant: Option<Uuid>) -> anyhow::Result<Self> {
        let authorization = format!("Bearer {key}").parse()?;
        let tenant = tenant.map(|t| t.to_string().parse()).transpose()?;
        Ok(Self { authorization, tenant })
    }

    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.metadata_mut().insert("authorization", self.authorization.clone());
        if let Some(tenant) = &self.tenant {
            request.metadata_mut().insert(TENANT_HEADER, tenant.clone());
        }
        request
    }
}
