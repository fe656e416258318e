//! CreateApiKey, ListApiKeys, RevokeApiKey; ListPlatformApiKeys and
//! RevokePlatformApiKey for platform admins.
use secrecy::ExposeSecret;
use tonic::Request;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::convert::tenant as convert;
use crate::domain::api_key;
use crate::domain::ids::ApiKeyId;
use crate::domain::page::PageRequest;
use crate::domain::scope::Scope;
use crate::domain::validate::{DisplayName, Violations};
use crate::error::Result;
use crate::proto::tenant::v1 as pb;
use crate::store::api_keys::{self, NewApiKey};

pub async fn create(state: &AppState, request: Request<pb::CreateApiKeyRequest>) -> Result<pb::CreateApiKeyResponse> {
    let tenant = tenant_of(&request)?;
    let input = request.into_inner().api_key.unwrap_or_default();
    let mut v = Violations::new();
    let display_name = v.take("api_key.display_name", DisplayName::parse(&input.display_name));
    let scope = match pb::ApiKeyScope::try_from(input.scope) {
        Ok(pb::ApiKeyScope::TenantAdmin) => Some(Scope::TenantAdmin),
        Ok(pb::ApiKeyScope::Agent) => Some(Scope::Agent),
        Ok(pb::ApiKeyScope::ReadOnly) => Some(Scope::ReadOnly),
        Ok(pb::ApiKeyScope::PlatformAdmin) => {
            v.add("api_key.scope", "platform-admin keys are created with the askpro command line only");
            None
        }
        Ok(pb::ApiKeyScope::Call) => {
            v.add("api_key.scope", "call credentials are created with CreateCallCredential only");
            None
        }
        _ => {
            v.add("api_key.scope", "must be TENANT_ADMIN, AGENT or READ_ONLY");
            None
        }
    };
    let expire_time = match &input.expire_time {
        None => None,
        Some(ts) => match crate::convert::instant(ts) {
            // Both databases keep microseconds; so does the answer.
            Some(at) if at > chrono::Utc::now() => chrono::DateTime::from_timestamp_micros(at.timestamp_micros()),
            Some(_) => {
                v.add("api_key.expire_time", "must lie in the future");
                None
            }
            None => {
                v.add("api_key.expire_time", "is not a valid timestamp");
                None
            }
        },
    };
    v.finish()?;
    let issued = api_key::issue();
    let new = NewApiKey {
        display_name: display_name.map(DisplayName::into_inner).unwrap_or_default(),
        scope: scope.unwrap_or(Scope::ReadOnly),
        expire_time,
    };
    let row = state.store.write_with(tenant, async |tx| api_keys::create(tx, &issued, new.clone()).await).await?;
    Ok(pb::CreateApiKeyResponse {
        api_key: Some(convert::api_key(row)),
        secret: issued.full_key.expose_secret().to_owned(),
    })
}

pub async fn list(state: &AppState, request: Request<pb::ListApiKeysRequest>) -> Result<pb::ListApiKeysResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let filter = format!("api_keys;revoked={}", req.show_revoked);
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, &filter)?;
    let mut rows = state.store.read_with(tenant, async |tx| api_keys::list(tx, &page, req.show_revoked).await).await?;
    let next_page_token = page.finish(&mut rows, |r| r.id);
    Ok(pb::ListApiKeysResponse { api_keys: rows.into_iter().map(convert::api_key).collect(), next_page_token })
}

pub async fn revoke(state: &AppState, request: Request<pb::RevokeApiKeyRequest>) -> Result<pb::RevokeApiKeyResponse> {
    let tenant = tenant_of(&request)?;
    let id = ApiKeyId::parse("id", &request.get_ref().id)?;
    let row = state.store.write_with(tenant, async |tx| api_keys::revoke(tx, id).await).await?;
    state.keys.invalidate(id);
    Ok(pb::RevokeApiKeyResponse { api_key: Some(convert::api_key(row)) })
}

pub async fn list_platform(
    state: &AppState,
    request: Request<pb::ListPlatformApiKeysRequest>,
) -> Result<pb::ListPlatformApiKeysResponse> {
    let req = request.into_inner();
    let filter = format!("platform_api_keys;revoked={}", req.show_revoked);
    // Page tokens are bound to an owner; the platform's is the nil UUID.
    let page = PageRequest::parse(req.page_size, &req.page_token, uuid::Uuid::nil(), &filter)?;
    let tx = state.store.platform_read().await?;
    let mut rows = api_keys::list_platform(&tx, &page, req.show_revoked).await?;
    tx.commit().await?;
    let next_page_token = page.finish(&mut rows, |r| r.id);
    Ok(pb::ListPlatformApiKeysResponse { api_keys: rows.into_iter().map(convert::api_key).collect(), next_page_token })
}

pub async fn revoke_platform(
    state: &AppState,
    request: Request<pb::RevokePlatformApiKeyRequest>,
) -> Result<pb::RevokePlatformApiKeyResponse> {
    let id = ApiKeyId::parse("id", &request.get_ref().id)?;
    let tx = state.store.platform().await?;
    let row = api_keys::revoke_platform(&tx, id).await?;
    tx.commit().await?;
    state.keys.invalidate(id);
    Ok(pb::RevokePlatformApiKeyResponse { api_key: Some(convert::api_key(row)) })
}
