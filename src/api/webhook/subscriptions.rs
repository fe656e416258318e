//! CreateSubscription, GetSubscription, ListSubscriptions,
//! UpdateSubscription, DeleteSubscription, RotateSubscriptionSecret.
//!
//! A signing secret is returned by the call that made it and by a retry with
//! the same request_id. The idempotency record keeps the answer without the
//! secret: a retry reads the subscription's current secret (sealed at rest,
//! see `crate::secrets`), so a secret is never stored outside its row.
use tonic::Request;

use super::required_request_id;
use crate::access::tenant_of;
use crate::api::AppState;
use crate::api::field_mask::UpdateMask;
use crate::convert::webhook as convert;
use crate::domain::ids::SubscriptionId;
use crate::domain::page::PageRequest;
use crate::domain::validate::{Violations, free_text};
use crate::domain::webhook::{EventType, SubscriptionState, SubscriptionUrl};
use crate::error::Result;
use crate::operations::idempotency::{create_once, fingerprint};
use crate::proto::webhook::v1 as pb;
use crate::store::TenantTx;
use crate::store::subscriptions::{self, NewSubscription, SubscriptionChanges};
use crate::webhooks::sign::generate_secret;
use secrecy::ExposeSecret;

const UPDATABLE: &[&str] = &["url", "event_types", "description", "state"];
const MAX_DESCRIPTION_CHARS: usize = 500;

pub async fn create(
    state: &AppState,
    request: Request<pb::CreateSubscriptionRequest>,
) -> Result<pb::CreateSubscriptionResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    required_request_id(&req.request_id)?;
    let input = req.subscription.clone().unwrap_or_default();
    let mut v = Violations::new();
    let url = v.take("subscription.url", SubscriptionUrl::parse(&input.url, state.config.webhook_allow_http_loopback));
    let event_types = event_types(&mut v, &input.event_types);
    let description = v.take("subscription.description", free_text(&input.description, MAX_DESCRIPTION_CHARS));
    let sub_state = match pb::SubscriptionState::try_from(input.state) {
        Ok(pb::SubscriptionState::Unspecified | pb::SubscriptionState::Active) => SubscriptionState::Active,
        Ok(pb::SubscriptionState::Disabled) => SubscriptionState::Disabled,
        Err(_) => {
            v.add("subscription.state", "must be ACTIVE or DISABLED");
            SubscriptionState::Active
        }
    };
    v.finish()?;
    let new = NewSubscription {
        url: url.map(SubscriptionUrl::into_inner).unwrap_or_default(),
        event_types,
        description: description.unwrap_or_default(),
        state: sub_state,
    };
    let fingerprint = fingerprint(&pb::CreateSubscriptionRequest { request_id: String::new(), ..req.clone() });
    let secret = generate_secret();
    state
        .store
        .write_with(tenant, async |tx| {
            let mut response = create_once(tx, "CreateSubscription", &req.request_id, &fingerprint, async {
                let row = subscriptions::create(tx, new.clone(), &secret).await?;
                Ok(pb::CreateSubscriptionResponse {
                    subscription: Some(convert::subscription(row)),
                    secret: String::new(),
                })
            })
            .await?;
            response.secret = current_secret(tx, response.subscription.as_ref()).await?;
            Ok(response)
        })
        .await
}

pub async fn get(
    state: &AppState,
    request: Request<pb::GetSubscriptionRequest>,
) -> Result<pb::GetSubscriptionResponse> {
    let tenant = tenant_of(&request)?;
    let id = SubscriptionId::parse("id", &request.get_ref().id)?;
    let row = state.store.read_with(tenant, async |tx| subscriptions::get(tx, id).await).await?;
    Ok(pb::GetSubscriptionResponse { subscription: Some(convert::subscription(row)) })
}

pub async fn list(
    state: &AppState,
    request: Request<pb::ListSubscriptionsRequest>,
) -> Result<pb::ListSubscriptionsResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let page = PageRequest::parse(req.page_size, &req.page_token, tenant.0, "subscriptions")?;
    let mut rows = state.store.read_with(tenant, async |tx| subscriptions::list(tx, &page).await).await?;
    let next_page_token = page.finish(&mut rows, |r| r.id);
    Ok(pb::ListSubscriptionsResponse {
        subscriptions: rows.into_iter().map(convert::subscription).collect(),
        next_page_token,
    })
}

pub async fn update(
    state: &AppState,
    request: Request<pb::UpdateSubscriptionRequest>,
) -> Result<pb::UpdateSubscriptionResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let input = req.subscription.unwrap_or_default();
    let id = SubscriptionId::parse("subscription.id", &input.id)?;
    let mask = UpdateMask::parse(req.update_mask.as_ref(), UPDATABLE)?;
    let mut v = Violations::new();
    let mut changes = SubscriptionChanges::default();
    if mask.has("url") {
        changes.url = v
            .take("subscription.url", SubscriptionUrl::parse(&input.url, state.config.webhook_allow_http_loopback))
            .map(SubscriptionUrl::into_inner);
    }
    if mask.has("event_types") {
        changes.event_types = Some(event_types(&mut v, &input.event_types));
    }
    if mask.has("description") {
        changes.description = v.take("subscription.description", free_text(&input.description, MAX_DESCRIPTION_CHARS));
    }
    if mask.has("state") {
        changes.state = match pb::SubscriptionState::try_from(input.state) {
            Ok(pb::SubscriptionState::Active) => Some(SubscriptionState::Active),
            Ok(pb::SubscriptionState::Disabled) => Some(SubscriptionState::Disabled),
            _ => {
                v.add("subscription.state", "must be ACTIVE or DISABLED");
                None
            }
        };
    }
    v.finish()?;
    let row = state
        .store
        .write_with(tenant, async |tx| subscriptions::update(tx, id, changes.clone(), &input.etag).await)
        .await?;
    Ok(pb::UpdateSubscriptionResponse { subscription: Some(convert::subscription(row)) })
}

pub async fn delete(
    state: &AppState,
    request: Request<pb::DeleteSubscriptionRequest>,
) -> Result<pb::DeleteSubscriptionResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = SubscriptionId::parse("id", &req.id)?;
    state
        .store
        .write_with(tenant, async |tx| {
            subscriptions::delete(tx, id, &req.etag).await?;
            Ok(())
        })
        .await?;
    Ok(pb::DeleteSubscriptionResponse {})
}

pub async fn rotate_secret(
    state: &AppState,
    request: Request<pb::RotateSubscriptionSecretRequest>,
) -> Result<pb::RotateSubscriptionSecretResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let id = SubscriptionId::parse("id", &req.id)?;
    required_request_id(&req.request_id)?;
    let fingerprint = fingerprint(&pb::RotateSubscriptionSecretRequest { request_id: String::new(), ..req.clone() });
    let secret = generate_secret();
    state
        .store
        .write_with(tenant, async |tx| {
            let mut response = create_once(tx, "RotateSubscriptionSecret", &req.request_id, &fingerprint, async {
                let row = subscriptions::rotate_secret(tx, id, &secret).await?;
                let previous_secret_expire_time = row.previous_secret_expire_time.map(crate::convert::timestamp);
                Ok(pb::RotateSubscriptionSecretResponse {
                    subscription: Some(convert::subscription(row)),
                    secret: String::new(),
                    previous_secret_expire_time,
                })
            })
            .await?;
            response.secret = current_secret(tx, response.subscription.as_ref()).await?;
            Ok(response)
        })
        .await
}

/// The answered subscription's current secret, read from its row (on a
/// retry too: the idempotency record holds no secret).
async fn current_secret(tx: &TenantTx, answered: Option<&pb::Subscription>) -> Result<String> {
    let id = SubscriptionId::parse("id", answered.map(|s| s.id.as_str()).unwrap_or_default())
        .map_err(|_| crate::error::Error::Internal("an answer without its subscription".into()))?;
    let row = subscriptions::get(tx, id).await?;
    Ok(subscriptions::current_secret(tx.secrets(), &row)?.expose_secret().to_owned())
}

/// Event types a subscription may list (more than there are, so any
/// selection fits).
const MAX_EVENT_TYPES: usize = 32;

/// Parses the event types, recording each unknown one by its index, and
/// drops repeats (keeping the first).
fn event_types(v: &mut Violations, names: &[String]) -> Vec<EventType> {
    let mut types = Vec::new();
    for (i, name) in v.at_most("subscription.event_types", names, MAX_EVENT_TYPES).iter().enumerate() {
        if let Some(t) = v.take(&format!("subscription.event_types[{i}]"), EventType::parse_subscribable(name))
            && !types.contains(&t)
        {
            types.push(t);
        }
    }
    types
}
