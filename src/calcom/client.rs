//! The one typed Cal.com API v2 client. Every call: the connection's bearer
//! key, the endpoint's `cal-api-version`, the correlation id (x-request-id),
//! a timeout bounded by the calling RPC's deadline, no redirects, no
//! destination on a private network (the webhook sender's resolver), and
//! the tenant's circuit breaker around it.
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::breaker::Breakers;
use super::error::CalcomError;
use super::wire::{self, Booking, Envelope, ErrorBody};
use crate::domain::ids::TenantId;

/// Where and as whom to call Cal.com.
#[derive(Clone)]
pub struct Connection {
    pub tenant: TenantId,
    /// Without a trailing slash, e.g. "https://api.cal.com".
    pub base_url: String,
    pub api_key: SecretString,
}

impl Connection {
    pub fn new(tenant: TenantId, base_url: &str, api_key: SecretString) -> Self {
        Self { tenant, base_url: base_url.trim_end_matches('/').to_owned(), api_key }
    }
}

/// The wait after a 429 that names none.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// The longest bookings list page Cal.com serves.
const MAX_TAKE: u32 = 250;

#[derive(Clone)]
pub struct CalcomClient {
    http: reqwest::Client,
    timeout: Duration,
    allow_loopback: bool,
    breakers: Arc<Breakers>,
}

impl CalcomClient {
    pub fn new(allow_loopback: bool, timeout: Duration, breakers: Arc<Breakers>) -> Self {
        let http = crate::http_client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("AskPro/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(crate::webhooks::sender::PublicOnly::new(allow_loopback)))
            .build()
            .expect("the HTTP client's fixed configuration is valid");
        Self { http, timeout, allow_loopback, breakers }
    }

    pub fn breakers(&self) -> &Arc<Breakers> {
        &self.breakers
    }

    /// GET /v2/me: who the key belongs to. The connection test: it bypasses
    /// the breaker (an administrator's explicit check).
    pub async fn me(&self, conn: &Connection) -> Result<wire::Me, CalcomError> {
        self.call(conn, Call::get("/v2/me", None, "account").unguarded()).await
    }

    /// GET /v2/event-types/{id}; bypasses the breaker like `me`.
    pub async fn event_type(&self, conn: &Connection, id: i64) -> Result<wire::EventType, CalcomError> {
        let path = format!("/v2/event-types/{id}");
        let call = Call::get(&path, Some(wire::EVENT_TYPES_VERSION), "event type").unguarded();
        let data: Option<wire::EventType> = self.call(conn, call).await?;
        data.ok_or_else(|| CalcomError::NotFound { what: "event type", message: format!("event type {id}") })
    }

    /// GET /v2/event-types/{id} for the import, through the breaker.
    pub async fn event_type_for_import(&self, conn: &Connection, id: i64) -> Result<wire::EventType, CalcomError> {
        let path = format!("/v2/event-types/{id}");
        let data: Option<wire::EventType> =
            self.call(conn, Call::get(&path, Some(wire::EVENT_TYPES_VERSION), "event type")).await?;
        data.ok_or_else(|| CalcomError::NotFound { what: "event type", message: format!("event type {id}") })
    }

    /// GET /v2/schedules: the key's user's schedules.
    pub async fn schedules(&self, conn: &Connection) -> Result<Vec<wire::Schedule>, CalcomError> {
        self.call(conn, Call::get("/v2/schedules", Some(wire::SCHEDULES_VERSION), "schedule")).await
    }

    /// POST /v2/bookings.
    pub async fn create_booking(&self, conn: &Connection, input: &wire::CreateBooking) -> Result<Booking, CalcomError> {
        let body = serde_json::to_vec(input).map_err(|e| CalcomError::BadResponse(e.to_string()))?;
        self.call(conn, Call::post("/v2/bookings", body, "booking")).await
    }

    /// POST /v2/bookings/{uid}/cancel.
    pub async fn cancel_booking(&self, conn: &Connection, uid: &str, reason: &str) -> Result<Booking, CalcomError> {
        let body = wire::CancelBooking { cancellation_reason: reason.to_owned() };
        let body = serde_json::to_vec(&body).map_err(|e| CalcomError::BadResponse(e.to_string()))?;
        self.call(conn, Call::post(&format!("/v2/bookings/{}/cancel", path_segment(uid)), body, "booking")).await
    }

    /// POST /v2/bookings/{uid}/reschedule: Cal.com answers the new booking
    /// (a new uid; the old one is cancelled and points at it).
    pub async fn reschedule_booking(
        &self,
        conn: &Connection,
        uid: &str,
        start: DateTime<Utc>,
        reason: &str,
    ) -> Result<Booking, CalcomError> {
        let body = wire::RescheduleBooking { start, rescheduling_reason: reason.to_owned() };
        let body = serde_json::to_vec(&body).map_err(|e| CalcomError::BadResponse(e.to_string()))?;
        self.call(conn, Call::post(&format!("/v2/bookings/{}/reschedule", path_segment(uid)), body, "booking")).await
    }

    /// GET /v2/bookings/{uid}.
    pub async fn booking(&self, conn: &Connection, uid: &str) -> Result<Booking, CalcomError> {
        let path = format!("/v2/bookings/{}", path_segment(uid));
        self.call(conn, Call::get(&path, Some(wire::BOOKINGS_VERSION), "booking")).await
    }

    /// The booking an earlier attempt made for `appointment_id`, if any:
    /// bookings created since `created_after`, searched for AskPro's
    /// metadata key (Cal.com cannot filter by metadata).
    pub async fn find_booking_of(
        &self,
        conn: &Connection,
        appointment_id: uuid::Uuid,
        created_after: DateTime<Utc>,
    ) -> Result<Option<Booking>, CalcomError> {
        let mut skip = 0u32;
        loop {
            let query = vec![
                ("afterCreatedAt", created_after.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                ("take", MAX_TAKE.to_string()),
                ("skip", skip.to_string()),
            ];
            let call = Call { query, ..Call::get("/v2/bookings", Some(wire::BOOKINGS_VERSION), "booking") };
            let page: Vec<Booking> = self.call(conn, call).await?;
            if let Some(found) = page.iter().find(|b| b.appointment_id() == Some(appointment_id)) {
                return Ok(Some(found.clone()));
            }
            // Bounded: an attempt has a time budget, and 1,000 bookings made
            // since the appointment was queued is far beyond one tenant's pace.
            if page.len() < MAX_TAKE as usize || skip >= 3 * MAX_TAKE {
                return Ok(None);
            }
            skip += MAX_TAKE;
        }
    }

    /// Upcoming and unconfirmed bookings of the key's account that start
    /// after `from` and end before `to` (every page).
    pub async fn bookings_between(
        &self,
        conn: &Connection,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Booking>, CalcomError> {
        let mut all = Vec::new();
        let mut skip = 0u32;
        loop {
            let query = vec![
                ("status", "upcoming,unconfirmed".to_owned()),
                ("afterStart", from.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                ("beforeEnd", to.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                ("take", MAX_TAKE.to_string()),
                ("skip", skip.to_string()),
            ];
            let call = Call { query, ..Call::get("/v2/bookings", Some(wire::BOOKINGS_VERSION), "booking") };
            let page: Vec<Booking> = self.call(conn, call).await?;
            let full = page.len() == MAX_TAKE as usize;
            all.extend(page);
            // Bounded: 2,500 bookings in the window is far beyond one account.
            if !full || skip >= 9 * MAX_TAKE {
                return Ok(all);
            }
            skip += MAX_TAKE;
        }
    }

    async fn call<T: DeserializeOwned>(&self, conn: &Connection, call: Call<'_>) -> Result<T, CalcomError> {
        let operation = call.operation();
        if !call.guarded {
            let result = self.send(conn, &call).await;
            let outcome = result.as_ref().err().map_or("ok", CalcomError::label);
            metrics::counter!(crate::metrics::CALCOM_CALLS_TOTAL, "operation" => operation, "outcome" => outcome)
                .increment(1);
            return result;
        }
        if let Err(open) = self.breakers.permit(conn.tenant) {
            metrics::counter!(crate::metrics::CALCOM_CALLS_TOTAL, "operation" => operation, "outcome" => open.label())
                .increment(1);
            return Err(open);
        }
        let started = Instant::now();
        let result = self.send(conn, &call).await;
        self.breakers.record(conn.tenant, result.as_ref().map(|_| ()));
        let outcome = result.as_ref().err().map_or("ok", CalcomError::label);
        metrics::counter!(crate::metrics::CALCOM_CALLS_TOTAL, "operation" => operation, "outcome" => outcome)
            .increment(1);
        tracing::debug!(operation, outcome, elapsed_ms = started.elapsed().as_millis() as u64, "Cal.com call");
        result
    }

    async fn send<T: DeserializeOwned>(&self, conn: &Connection, call: &Call<'_>) -> Result<T, CalcomError> {
        let mut url = reqwest::Url::parse(&format!("{}{}", conn.base_url, call.path))
            .map_err(|_| CalcomError::Unreachable("the base URL is not a valid URL".into()))?;
        if let Some(why) = crate::webhooks::sender::refused_literal(&url, self.allow_loopback) {
            return Err(CalcomError::Unreachable(why));
        }
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let timeout = crate::deadline::bounded(self.timeout);
        if timeout.is_zero() {
            return Err(CalcomError::Timeout);
        }
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .timeout(timeout)
            .bearer_auth(conn.api_key.expose_secret())
            .header(http::header::ACCEPT, "application/json");
        if let Some(version) = call.version {
            request = request.header("cal-api-version", version);
        }
        if let Some(id) = crate::correlation::current() {
            request = request.header(crate::correlation::HEADER, id.as_str());
        }
        if let Some(body) = &call.body {
            request = request.header(http::header::CONTENT_TYPE, "application/json").body(body.clone());
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            let envelope: Envelope<T> = serde_json::from_slice(&bytes)
                .map_err(|e| CalcomError::BadResponse(format!("{} body: {e}", call.what)))?;
            if envelope.status != "success" {
                return Err(CalcomError::BadResponse(format!("status {:?} in a {status} answer", envelope.status)));
            }
            return Ok(envelope.data);
        }
        Err(status_error(status, &headers, &bytes, call.what))
    }
}

/// One request to make.
struct Call<'a> {
    method: Method,
    path: &'a str,
    version: Option<&'static str>,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    /// What the path names, for NotFound and messages.
    what: &'static str,
    /// Through the tenant's circuit breaker (all but the connection test).
    guarded: bool,
}

impl<'a> Call<'a> {
    fn get(path: &'a str, version: Option<&'static str>, what: &'static str) -> Self {
        Self { method: Method::GET, path, version, query: Vec::new(), body: None, what, guarded: true }
    }

    fn unguarded(self) -> Self {
        Self { guarded: false, ..self }
    }

    fn post(path: &'a str, body: Vec<u8>, what: &'static str) -> Self {
        let version = Some(wire::BOOKINGS_VERSION);
        Self { method: Method::POST, path, version, query: Vec::new(), body: Some(body), what, guarded: true }
    }

    /// The metrics label: the path without ids.
    fn operation(&self) -> &'static str {
        match (self.method.as_str(), self.path) {
            ("GET", "/v2/me") => "get_me",
            ("GET", p) if p.starts_with("/v2/event-types/") => "get_event_type",
            ("GET", "/v2/bookings") => "list_bookings",
            ("GET", "/v2/schedules") => "get_schedules",
            ("GET", _) => "get_booking",
            ("POST", "/v2/bookings") => "create_booking",
            ("POST", p) if p.ends_with("/cancel") => "cancel_booking",
            ("POST", _) => "reschedule_booking",
            _ => "other",
        }
    }
}

/// A booking uid as one path segment (Cal.com's are URL-safe; this keeps a
/// stored value from ever reaching another path).
fn path_segment(uid: &str) -> String {
    url::form_urlencoded::byte_serialize(uid.as_bytes()).collect()
}

fn transport_error(err: reqwest::Error) -> CalcomError {
    if err.is_timeout() {
        return CalcomError::Timeout;
    }
    // reqwest's Display names the URL; the source chain does not need it.
    let mut cause = String::from(if err.is_connect() { "connection failed" } else { "request failed" });
    let mut source = std::error::Error::source(&err);
    while let Some(inner) = source {
        cause = format!("{cause}: {inner}");
        source = inner.source();
    }
    CalcomError::Unreachable(cause.chars().take(300).collect())
}

/// The error an unsuccessful answer means.
fn status_error(status: StatusCode, headers: &HeaderMap, body: &[u8], what: &'static str) -> CalcomError {
    let message = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| match b.error.message {
            serde_json::Value::String(text) => text,
            serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join("; "),
            _ => b.error.code,
        })
        .unwrap_or_default();
    let message: String = message.chars().take(300).collect();
    match status.as_u16() {
        401 | 403 => CalcomError::Auth { status: status.as_u16(), message },
        404 => CalcomError::NotFound { what, message },
        429 => CalcomError::RateLimited { retry_after: retry_after(headers).unwrap_or(DEFAULT_RATE_LIMIT_WAIT) },
        400..=499 => CalcomError::Rejected { status: status.as_u16(), message },
        _ => CalcomError::Server { status: status.as_u16() },
    }
}

/// Retry-After in seconds, else Cal.com's X-RateLimit-Reset-* (seconds left).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = |value: &http::HeaderValue| value.to_str().ok()?.trim().parse::<u64>().ok();
    let asked = headers.get(http::header::RETRY_AFTER).and_then(seconds).or_else(|| {
        headers
            .iter()
            .find(|(name, _)| name.as_str().starts_with("x-ratelimit-reset"))
            .and_then(|(_, value)| seconds(value))
    })?;
    // A reset given as a Unix time, or an absurd wait, falls back to a minute.
    (asked <= 3600).then(|| Duration::from_secs(asked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_by_status() {
        let body = br#"{"status":"error","timestamp":"2030-01-01T00:00:00.000Z","path":"/v2/me",
            "error":{"code":"UnauthorizedException","message":"Invalid API Key","details":{}}}"#;
        let err = status_error(StatusCode::UNAUTHORIZED, &HeaderMap::new(), body, "account");
        assert_eq!(err, CalcomError::Auth { status: 401, message: "Invalid API Key".into() });
        let err = status_error(StatusCode::BAD_REQUEST, &HeaderMap::new(), br#"{"error":{"message":["a","b"]}}"#, "x");
        assert_eq!(err, CalcomError::Rejected { status: 400, message: "a; b".into() });
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>", "x"),
            CalcomError::Server { status: 502 }
        );
    }

    #[test]
    fn rate_limits_honour_retry_after_then_the_reset_header() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-reset-default", "17".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(17)));
        headers.insert(http::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        let err = status_error(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), b"{}", "booking");
        assert_eq!(err, CalcomError::RateLimited { retry_after: DEFAULT_RATE_LIMIT_WAIT });
    }

    #[test]
    fn uids_stay_one_path_segment() {
        assert_eq!(path_segment("abc-DEF_1"), "abc-DEF_1");
        assert_eq!(path_segment("../x?y"), "..%2Fx%3Fy");
    }
}
