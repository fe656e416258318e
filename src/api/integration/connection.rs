//! ConnectCalcom, GetCalcomConnection, DisconnectCalcom.
//!
//! Saving tests before it stores: the key with GET /v2/me, every linked
//! event type with GET /v2/event-types/{id} (which also gives its default
//! length). A key Cal.com refuses is INVALID_ARGUMENT on `api_key`, an
//! unknown event type on its link; Cal.com failing is UNAVAILABLE. These
//! calls bypass the tenant's circuit breaker: they are the administrator's
//! explicit check, and a new key or URL must be testable while an old one
//! keeps failing.
use std::collections::{BTreeMap, HashSet};

use secrecy::{ExposeSecret, SecretString};
use tonic::Request;
use uuid::Uuid;

use crate::access::tenant_of;
use crate::api::AppState;
use crate::calcom::{CalcomError, Connection, DEFAULT_BASE_URL};
use crate::convert::integration as convert;
use crate::domain::ids::{StaffId, TenantId};
use crate::domain::validate::{Violations, optional_email};
use crate::domain::webhook::SubscriptionUrl;
use crate::error::{Error, Result};
use crate::proto::integration::v1 as pb;
use crate::store::entities::{calcom_connection, calcom_staff_link};
use crate::store::{TenantTx, calcom, now, staff};

/// The most staff links one connection holds.
const MAX_LINKS: usize = 500;
/// The longest API key accepted.
const MAX_KEY_CHARS: usize = 256;
/// The longest Cal.com e-mail of a link.
const MAX_EMAIL_CHARS: usize = 254;

/// A link as requested, checked for form.
#[derive(Clone)]
struct RequestedLink {
    staff_id: Uuid,
    event_type_id: i64,
    calcom_user_id: i64,
    calcom_email: String,
}

pub async fn connect(
    state: &AppState,
    request: Request<pb::ConnectCalcomRequest>,
) -> Result<pb::ConnectCalcomResponse> {
    let tenant = tenant_of(&request)?;
    let req = request.into_inner();
    let input = req.connection.unwrap_or_default();
    let mut v = Violations::new();
    let base_url = if input.base_url.is_empty() { DEFAULT_BASE_URL.to_owned() } else { input.base_url.clone() };
    let base_url = v
        .take("connection.base_url", SubscriptionUrl::parse(&base_url, state.config.webhook_allow_http_loopback))
        .map(|url| url.into_inner().trim_end_matches('/').to_owned());
    if !req.api_key.is_empty() {
        v.take("api_key", check_key(&req.api_key));
    }
    let links = requested_links(&mut v, &input.staff_links);
    v.finish()?;
    let base_url = base_url.unwrap_or_default();

    // The stored key when none is sent; every linked staff member must exist.
    let stored_key = state
        .store
        .read_with(tenant, async |tx| {
            for (i, link) in links.iter().enumerate() {
                staff_must_exist(tx, i, link.staff_id).await?;
            }
            calcom::connection(tx).await?.map(|row| calcom::api_key(tx.secrets(), &row)).transpose()
        })
        .await?;
    let api_key = match (req.api_key.is_empty(), stored_key) {
        (false, _) => SecretString::from(req.api_key.clone()),
        (true, Some(stored)) => stored,
        (true, None) => return Err(Error::invalid("api_key", "is required when the tenant is not connected yet")),
    };
    let connection = Connection::new(tenant, &base_url, api_key.clone());

    let account = state.calcom.me(&connection).await.map_err(|err| match err {
        CalcomError::Auth { status, message } => {
            Error::invalid("api_key", format!("Cal.com refused the key ({status}): {message}"))
        }
        CalcomError::NotFound { .. } => {
            Error::invalid("connection.base_url", "has no Cal.com API v2 (GET /v2/me answered 404)")
        }
        other => Error::from(other),
    })?;
    let lengths = event_type_lengths(state, &connection, &links).await?;

    let at = now();
    let row = calcom_connection::Model {
        tenant_id: tenant.0,
        base_url,
        api_key: api_key.expose_secret().to_owned(),
        account_user_id: account.id,
        account_username: account.username,
        account_email: account.email,
        account_time_zone: account.time_zone,
        create_time: at,
        update_time: at,
    };
    let link_rows: Vec<calcom_staff_link::Model> = links
        .iter()
        .map(|link| calcom_staff_link::Model {
            tenant_id: tenant.0,
            staff_id: link.staff_id,
            event_type_id: link.event_type_id,
            event_type_length: lengths[&link.event_type_id],
            calcom_user_id: link.calcom_user_id,
            calcom_email: link.calcom_email.clone(),
        })
        .collect();
    state
        .store
        .write_with(tenant, async |tx| {
            for (i, link) in links.iter().enumerate() {
                staff_must_exist(tx, i, link.staff_id).await?;
            }
            calcom::save(tx, row.clone(), link_rows.clone()).await
        })
        .await?;
    tracing::info!(%tenant, links = links.len(), "Cal.com connection saved");
    Ok(pb::ConnectCalcomResponse { connection: Some(current(state, tenant).await?) })
}

pub async fn get(
    state: &AppState,
    request: Request<pb::GetCalcomConnectionRequest>,
) -> Result<pb::GetCalcomConnectionResponse> {
    let tenant = tenant_of(&request)?;
    Ok(pb::GetCalcomConnectionResponse { connection: Some(current(state, tenant).await?) })
}

pub async fn disconnect(
    state: &AppState,
    request: Request<pb::DisconnectCalcomRequest>,
) -> Result<pb::DisconnectCalcomResponse> {
    let tenant = tenant_of(&request)?;
    state.store.write_with(tenant, async |tx| calcom::delete(tx).await).await?;
    tracing::info!(%tenant, "Cal.com connection removed");
    Ok(pb::DisconnectCalcomResponse {})
}

/// The stored connection with its links, breaker and queue counts.
async fn current(state: &AppState, tenant: TenantId) -> Result<pb::CalcomConnection> {
    let (row, links, counts) = state
        .store
        .read_with(tenant, async |tx| {
            let row = calcom::connection(tx).await?.ok_or(Error::NotFound { resource: "Cal.com connection" })?;
            Ok((row, calcom::links(tx).await?, calcom::counts(tx).await?))
        })
        .await?;
    let hint = convert::key_hint(calcom::api_key(state.store.secrets(), &row)?.expose_secret());
    Ok(convert::connection(row, hint, links, state.calcom.breakers().state(tenant), counts))
}

/// A Cal.com key's form; the text never appears in the answer.
fn check_key(key: &str) -> std::result::Result<(), &'static str> {
    if key.chars().count() > MAX_KEY_CHARS {
        return Err("must be at most 256 characters");
    }
    if !key.starts_with("cal_") {
        return Err("must be a Cal.com API key (it starts with \"cal_\")");
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    Ok(())
}

fn requested_links(v: &mut Violations, input: &[pb::CalcomStaffLink]) -> Vec<RequestedLink> {
    if input.len() > MAX_LINKS {
        v.add("connection.staff_links", format!("has {} entries; at most {MAX_LINKS} are allowed", input.len()));
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let mut links = Vec::with_capacity(input.len());
    for (i, link) in input.iter().enumerate() {
        let field = |name: &str| format!("connection.staff_links[{i}].{name}");
        let staff_id = v.take_err(StaffId::parse(&field("staff_id"), &link.staff_id));
        if let Some(id) = staff_id
            && !seen.insert(id.0)
        {
            v.add(field("staff_id"), "links the same staff member twice");
        }
        if link.event_type_id <= 0 {
            v.add(field("event_type_id"), "is required: the id of a Cal.com event type (a positive number)");
        }
        if link.calcom_user_id < 0 {
            v.add(field("calcom_user_id"), "must not be negative (0 means not known)");
        }
        let email = if link.calcom_email.chars().count() > MAX_EMAIL_CHARS {
            v.add(field("calcom_email"), "must be at most 254 characters");
            None
        } else {
            v.take(&field("calcom_email"), optional_email(&link.calcom_email))
        };
        if let (Some(staff_id), Some(calcom_email)) = (staff_id, email) {
            links.push(RequestedLink {
                staff_id: staff_id.0,
                event_type_id: link.event_type_id,
                calcom_user_id: link.calcom_user_id,
                calcom_email,
            });
        }
    }
    links
}

async fn staff_must_exist(tx: &TenantTx, index: usize, id: Uuid) -> Result<()> {
    match staff::get(tx, StaffId(id)).await {
        Ok(_) => Ok(()),
        Err(Error::NotFound { .. }) => Err(Error::invalid(
            format!("connection.staff_links[{index}].staff_id"),
            "names no staff member of this tenant",
        )),
        Err(err) => Err(err),
    }
}

/// Each linked event type's default length, read from Cal.com (which also
/// proves the key may book it).
async fn event_type_lengths(
    state: &AppState,
    connection: &Connection,
    links: &[RequestedLink],
) -> Result<BTreeMap<i64, i32>> {
    let mut lengths = BTreeMap::new();
    for (i, link) in links.iter().enumerate() {
        if lengths.contains_key(&link.event_type_id) {
            continue;
        }
        let event_type = state.calcom.event_type(connection, link.event_type_id).await.map_err(|err| match err {
            CalcomError::NotFound { .. } | CalcomError::Auth { .. } => Error::invalid(
                format!("connection.staff_links[{i}].event_type_id"),
                format!("Cal.com has no event type {} this key may book", link.event_type_id),
            ),
            other => Error::from(other),
        })?;
        lengths.insert(link.event_type_id, event_type.length_in_minutes);
    }
    Ok(lengths)
}
