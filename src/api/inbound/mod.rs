//! `POST /webhooks/inbound/<path_token>`: provider webhooks (Cal.com, Retell,
//! Standard Webhooks). The token names the endpoint and so the tenant; the
//! raw body is verified with the endpoint's secret; then the inbox row and
//! the event's effect are written in one tenant transaction, so a provider's
//! retry finds the row and changes nothing.
//!
//! The token is looked up before the body is read: a request to an unknown
//! token is answered 404 without reading a byte of its body. Unknown tokens
//! and bad signatures count as failed attempts of the client address
//! (`access::FailedAttempts`); an address over its quota is answered 429 with
//! Retry-After before any lookup.
//!
//! Answers: 404 unknown or deleted endpoint, 413 body over 1 MiB, 401 any
//! signature rejection (nothing stored), 400 an authentic body AskPro cannot
//! read (stored REJECTED with the path-precise reason), 429 too many failed
//! attempts from the address, 200 otherwise (PROCESSED, IGNORED, or REJECTED
//! such as "slot taken"; a known event key too), 503 when nothing could be
//! stored now (database down, retries spent, too many webhooks at once).
mod retell;
mod standard;

use std::net::IpAddr;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use uuid::Uuid;

use crate::api::AppState;
use crate::domain::ids::{InboundEndpointId, TenantId};
use crate::domain::webhook::{InboundEventStatus, InboundProvider};
use crate::error::{Error, Result};
use crate::layers::client_address::ClientAddress;
use crate::operations::appointments::{MirrorOutcome, mirror_calcom};
use crate::store::entities::{call, inbound_endpoint};
use crate::store::inbound_events::{self, NewInboundEvent};
use crate::store::{inbound_endpoints, now, retry};
use crate::webhooks::payload::{self, CalComEvent, EventIdentity, PayloadError, RetellEvent, StandardEvent};
use crate::webhooks::verify::{self, Scheme};

/// An authentic body, read per provider.
enum Parsed {
    CalCom(CalComEvent),
    Retell(RetellEvent),
    Standard(StandardEvent),
}

/// What an event did: its inbox row's status and references, and what to
/// tell the provider and the change feed.
#[derive(Default)]
struct Outcome {
    status: Option<InboundEventStatus>,
    reason: String,
    appointment_id: Option<Uuid>,
    call_id: Option<Uuid>,
    customer_id: Option<Uuid>,
}

impl Outcome {
    fn processed() -> Self {
        Self { status: Some(InboundEventStatus::Processed), ..Default::default() }
    }

    fn ignored(reason: impl Into<String>) -> Self {
        Self { status: Some(InboundEventStatus::Ignored), reason: reason.into(), ..Default::default() }
    }

    /// Not applied; the transaction that tried is discarded, so nothing of a
    /// half-done effect remains, and the inbox row is written on its own.
    fn rejected(reason: impl Into<String>) -> Self {
        Self { status: Some(InboundEventStatus::Rejected), reason: reason.into(), ..Default::default() }
    }

    /// A recorded call event, linked to its call and customer.
    fn recorded(call: call::Model) -> Self {
        Self { call_id: Some(call.id), customer_id: call.customer_id, ..Self::processed() }
    }

    /// What mirroring a Cal.com event did.
    fn mirrored(outcome: MirrorOutcome) -> Self {
        match outcome {
            MirrorOutcome::Applied { appointment_id, customer_id } => {
                Self { appointment_id: Some(appointment_id), customer_id: Some(customer_id), ..Self::processed() }
            }
            MirrorOutcome::Ignored { reason, appointment_id } => Self { appointment_id, ..Self::ignored(reason) },
            MirrorOutcome::Rejected { reason } => Self::rejected(reason),
        }
    }

    fn status(&self) -> InboundEventStatus {
        self.status.unwrap_or(InboundEventStatus::Processed)
    }
}

/// The answer to the provider.
struct Answer {
    status: StatusCode,
    body: Option<Value>,
}

/// Answer this long before the call's deadline: when the deadline layer
/// steps in, its answer is a gRPC status carried in an HTTP 200, which a
/// provider would take for success.
const ANSWER_MARGIN: std::time::Duration = std::time::Duration::from_millis(50);

/// The route's handler. The body arrives unread (`Body`): it is read only
/// for a known endpoint.
pub async fn receive(
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let address = client.map(|Extension(client)| client.0);
    let work = handle(state, token, address, headers, body);
    let Some(deadline) = crate::deadline::current() else { return work.await };
    // A cut-off after the commit is harmless: the provider's retry is a known event key.
    match tokio::time::timeout_at(deadline.checked_sub(ANSWER_MARGIN).unwrap_or(deadline), work).await {
        Ok(response) => response,
        Err(_elapsed) => failure(&Error::DeadlineExceeded, None),
    }
}

async fn handle(state: AppState, token: String, address: Option<IpAddr>, headers: HeaderMap, body: Body) -> Response {
    if let Err(err) = state.failed_attempts.admit(address) {
        return too_many_failures(&err);
    }
    let endpoint = match find_endpoint(&state, &token).await {
        Ok(Some(endpoint)) => endpoint,
        Ok(None) => {
            state.failed_attempts.record(address);
            return StatusCode::NOT_FOUND.into_response();
        }
        Err(err) => return failure(&err, None),
    };
    // Reading stops at MAX_BODY_BYTES: a longer body is never buffered.
    let body = match axum::body::to_bytes(body, payload::MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(err) if is_too_large(&err) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let Some(provider) = InboundProvider::from_stored(&endpoint.provider) else {
        return failure(&Error::Internal(format!("stored provider {:?}", endpoint.provider)), Some(endpoint.id));
    };
    let scheme = match provider {
        InboundProvider::Calcom => Scheme::CalCom,
        InboundProvider::Retell => Scheme::Retell,
        InboundProvider::StandardWebhooks => Scheme::StandardWebhooks,
    };
    let secret = match inbound_endpoints::secret(state.store.secrets(), &endpoint) {
        Ok(secret) => secret,
        Err(err) => return failure(&err, Some(endpoint.id)),
    };
    let verified = match verify::verify(scheme, secret.expose_secret(), &headers, &body, Utc::now()) {
        Ok(verified) => verified,
        Err(rejection) => {
            // The code only: never the secret, the signature or the body.
            tracing::info!(endpoint_id = %endpoint.id, reason = rejection.code(), "inbound webhook refused");
            state.failed_attempts.record(address);
            return StatusCode::UNAUTHORIZED.into_response();
        }
    };
    let identity = payload::identify(&verified, &body);
    let parsed = match provider {
        InboundProvider::Calcom => payload::parse_calcom(&body).map(Parsed::CalCom),
        InboundProvider::Retell => payload::parse_retell(&body).map(Parsed::Retell),
        InboundProvider::StandardWebhooks => payload::parse_standard(&body).map(Parsed::Standard),
    };
    let tenant = TenantId(endpoint.tenant_id);
    let endpoint_id = InboundEndpointId(endpoint.id);
    if provider == InboundProvider::Calcom {
        // An authentic word from Cal.com: whatever it says, its busy times
        // are read afresh for the next slot list.
        state.calcom_busy.forget(tenant);
    }
    match process(&state, tenant, endpoint_id, provider, &identity, &parsed).await {
        Ok(answer) => match answer.body {
            Some(body) => (answer.status, axum::Json(body)).into_response(),
            None => answer.status.into_response(),
        },
        Err(err) => failure(&err, Some(endpoint.id)),
    }
}

/// Whether reading the body failed on the size limit (axum wraps
/// http-body-util's `LengthLimitError`) rather than the connection.
fn is_too_large(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// 429 with Retry-After: the address failed too often lately.
fn too_many_failures(err: &Error) -> Response {
    let wait = match err {
        Error::RateLimited { retry_after, .. } => retry_after.as_millis().div_ceil(1000).max(1),
        _ => 1,
    };
    (StatusCode::TOO_MANY_REQUESTS, [(http::header::RETRY_AFTER, wait.to_string())]).into_response()
}

async fn find_endpoint(state: &AppState, token: &str) -> Result<Option<inbound_endpoint::Model>> {
    let tx = state.store.platform_read().await?;
    let found = inbound_endpoints::find_by_path_token(&tx, token).await?;
    tx.commit().await?;
    Ok(found)
}

/// Nothing was stored: 503 asks the provider to retry later (500 for a
/// fault of ours, which a retry may still get past).
fn failure(err: &Error, endpoint_id: Option<Uuid>) -> Response {
    let status = match err {
        Error::Unavailable { .. }
        | Error::DeadlineExceeded
        | Error::Conflict
        | Error::StaleConfig
        | Error::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    tracing::warn!(endpoint_id = ?endpoint_id, status = status.as_u16(), error = %err, "inbound webhook not processed");
    status.into_response()
}

/// Dedup and effect in one transaction (retried on conflicts).
async fn process(
    state: &AppState,
    tenant: TenantId,
    endpoint_id: InboundEndpointId,
    provider: InboundProvider,
    identity: &EventIdentity,
    parsed: &std::result::Result<Parsed, PayloadError>,
) -> Result<Answer> {
    retry(|| async {
        let at = now();
        let tx = state.store.write(tenant).await?;
        // Retell's inbound-call webhook wants its answer on every delivery,
        // a retried one included; it is a read, so it is computed first.
        let inbound_answer = match parsed {
            Ok(Parsed::Retell(RetellEvent::Inbound(call))) => {
                let disclosure = state.store.tenant_config(tenant).await?.caller_disclosure;
                Some(retell::answer_inbound(&tx, call, at, disclosure).await?)
            }
            _ => None,
        };
        let body = inbound_answer.as_ref().map(|(body, _)| body.clone());
        if inbound_events::find(&tx, endpoint_id, &identity.key).await?.is_some() {
            tx.commit().await?;
            return Ok(Answer { status: StatusCode::OK, body });
        }
        let (outcome, http_status) = match parsed {
            Err(err) => (Outcome::rejected(err.to_string()), StatusCode::BAD_REQUEST),
            Ok(parsed) => {
                let applied = match parsed {
                    Parsed::CalCom(event) => mirror_calcom(&state.ops, &tx, event, at).await.map(Outcome::mirrored),
                    Parsed::Retell(RetellEvent::Inbound(_)) => {
                        let customer_id = inbound_answer.as_ref().and_then(|(_, customer)| *customer);
                        Ok(Outcome { customer_id, ..Outcome::processed() })
                    }
                    Parsed::Retell(event) => retell::apply(&tx, event, at).await,
                    Parsed::Standard(event) => standard::apply(&tx, event, at).await,
                };
                match applied {
                    Ok(outcome) => (outcome, StatusCode::OK),
                    Err(Error::SlotTaken { .. }) => (Outcome::rejected("slot taken"), StatusCode::OK),
                    // The event cannot apply as it is; a retry would not help either.
                    Err(
                        err @ (Error::NotFound { .. }
                        | Error::FailedPrecondition { .. }
                        | Error::InvalidArgument(_)
                        | Error::AlreadyExists { .. }
                        | Error::CustomerExists { .. }),
                    ) => (Outcome::rejected(err.to_string()), StatusCode::OK),
                    Err(err) => return Err(err),
                }
            }
        };
        let tx = if outcome.status() == InboundEventStatus::Rejected {
            // Drop first: on SQLite the next write waits for this one's gate.
            drop(tx);
            state.store.write(tenant).await?
        } else {
            tx
        };
        let (_, is_new) =
            inbound_events::insert_if_new(&tx, inbox_row(endpoint_id, provider, identity, &outcome)).await?;
        if !is_new {
            // A copy delivered at the same time won the inbox: this one's
            // effect, and the outbox events it wrote, roll back with `tx`.
            drop(tx);
            return Ok(Answer { status: StatusCode::OK, body });
        }
        tx.commit().await?;
        Ok(Answer { status: http_status, body })
    })
    .await
}

fn inbox_row(
    endpoint_id: InboundEndpointId,
    provider: InboundProvider,
    identity: &EventIdentity,
    outcome: &Outcome,
) -> NewInboundEvent {
    let status = outcome.status();
    let rejected = status == InboundEventStatus::Rejected;
    NewInboundEvent {
        endpoint_id,
        provider,
        event_key: identity.key.clone(),
        event_type: identity.event_type.clone(),
        status,
        rejection_reason: outcome.reason.clone(),
        appointment_id: if rejected { None } else { outcome.appointment_id },
        call_id: if rejected { None } else { outcome.call_id },
        customer_id: if rejected { None } else { outcome.customer_id },
    }
}
