//! A local Cal.com API v2 for tests, speaking the wire format of
//! docs/calcom-v2-wire.md: bearer `cal_` keys, `cal-api-version` per
//! endpoint (a wrong or missing one is refused, as the old shape would not
//! parse), `{status, data}` envelopes, `{status:"error", timestamp, path,
//! error:{code, message, details}}` errors, 201 on create and reschedule.
//! Scriptable: fail with a status (503, 500, 429 with Retry-After, 401) for
//! the next n calls or until told otherwise, answer slowly, and change its
//! data between calls. It records every request it answered.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub const VALID_KEY: &str = "cal_live_0123456789abcdef0123456789ab";
pub const EVENT_TYPE_ID: i64 = 1201;
pub const EVENT_TYPE_MINUTES: i64 = 30;

/// One booking Cal.com holds.
#[derive(Clone, Debug)]
pub struct FakeBooking {
    pub id: i64,
    pub uid: String,
    pub status: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub event_type_id: i64,
    pub attendee: Value,
    pub metadata: BTreeMap<String, Value>,
    pub created_at: DateTime<Utc>,
    pub rescheduled_to_uid: Option<String>,
    pub rescheduled_from_uid: Option<String>,
}

impl FakeBooking {
    pub fn askpro_id(&self) -> Option<String> {
        self.metadata.get("askproAppointmentId").and_then(|v| v.as_str()).map(str::to_owned)
    }

    fn json(&self) -> Value {
        let iso = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut out = json!({
            "id": self.id, "uid": self.uid, "title": "Haircut", "description": "",
            "hosts": [{"id": 42, "name": "Anna", "email": "anna@salon.example", "displayEmail": "anna@salon.example",
                       "username": "anna", "timeZone": "Europe/Berlin"}],
            "status": self.status, "start": iso(self.start), "end": iso(self.end),
            "duration": (self.end - self.start).num_minutes(), "eventTypeId": self.event_type_id,
            "eventType": {"id": self.event_type_id, "slug": "haircut"}, "location": "", "absentHost": false,
            "createdAt": iso(self.created_at), "updatedAt": null, "metadata": self.metadata,
            "attendees": [self.attendee], "guests": [], "bookingFieldsResponses": {},
        });
        if let Some(uid) = &self.rescheduled_to_uid {
            out["rescheduledToUid"] = json!(uid);
        }
        if let Some(uid) = &self.rescheduled_from_uid {
            out["rescheduledFromUid"] = json!(uid);
        }
        out
    }
}

/// A request the fake answered.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub api_version: Option<String>,
    pub request_id: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct Script {
    /// Answer every request with this status (until cleared).
    down: Option<u16>,
    /// Answer the next n requests with this status.
    fail_next: Vec<u16>,
    /// Wait this long before answering (after applying a booking change).
    delay: Duration,
    retry_after_secs: Option<u64>,
    /// Close every new connection before reading a byte.
    drop_connections: bool,
}

#[derive(Default)]
struct Data {
    bookings: Vec<FakeBooking>,
    next_id: i64,
    seen: Vec<Seen>,
    script: Script,
    /// Event types: id -> their GET /v2/event-types/{id} data.
    event_types: BTreeMap<i64, Value>,
    /// What GET /v2/schedules answers.
    schedules: Vec<Value>,
}

/// An event type as GET /v2/event-types/{id} answers it.
pub fn event_type_json(id: i64, minutes: i64) -> Value {
    json!({
        "id": id, "lengthInMinutes": minutes, "title": "Haircut", "slug": "haircut", "description": "",
        "locations": [], "bookingFields": [], "disableGuests": false, "slotInterval": null,
        "minimumBookingNotice": 120, "beforeEventBuffer": 0, "afterEventBuffer": 0, "recurrence": null,
        "metadata": {}, "price": 0, "currency": "eur", "lockTimeZoneToggleOnBookingPage": false,
        "forwardParamsSuccessRedirect": true, "successRedirectUrl": null, "isInstantEvent": false,
        "scheduleId": null, "hidden": false, "bookingRequiresAuthentication": false, "ownerId": 42,
        "users": [], "bookingUrl": "https://cal.com/anna/haircut",
    })
}

#[derive(Clone)]
pub struct FakeCalcom {
    pub addr: SocketAddr,
    data: Arc<Mutex<Data>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl FakeCalcom {
    pub async fn start() -> Self {
        let data = Arc::new(Mutex::new(Data {
            next_id: 9000,
            event_types: BTreeMap::from([(EVENT_TYPE_ID, event_type_json(EVENT_TYPE_ID, EVENT_TYPE_MINUTES))]),
            schedules: vec![json!({
                "id": 254, "ownerId": 42, "name": "Working hours", "timeZone": "Europe/Berlin",
                "availability": [{"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
                                  "startTime": "09:00", "endTime": "17:00"}],
                "isDefault": true, "overrides": [],
            })],
            ..Data::default()
        }));
        let app = axum::Router::new()
            .route("/v2/me", get(me))
            .route("/v2/event-types/{id}", get(event_type))
            .route("/v2/schedules", get(schedules))
            .route("/v2/bookings", post(create_booking).get(list_bookings))
            .route("/v2/bookings/{uid}", get(get_booking))
            .route("/v2/bookings/{uid}/cancel", post(cancel_booking))
            .route("/v2/bookings/{uid}/reschedule", post(reschedule_booking))
            .with_state(data.clone());
        // One request per connection, so dropping new connections stops every call.
        let app = app.layer(axum::middleware::map_response(|mut response: Response| async move {
            response.headers_mut().insert("connection", axum::http::HeaderValue::from_static("close"));
            response
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake Cal.com");
        let addr = listener.local_addr().expect("address");
        let listener = Dropping { inner: listener, data: data.clone() };
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, data, task: Arc::new(task) }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Data) -> T) -> T {
        f(&mut self.data.lock().unwrap())
    }

    /// New connections are closed at once (no HTTP answer) until told otherwise.
    pub fn drop_connections(&self, dropping: bool) {
        self.with(|d| d.script.drop_connections = dropping);
    }

    /// Every request answers `status` until `up()`.
    pub fn down(&self, status: u16) {
        self.with(|d| d.script.down = Some(status));
    }

    pub fn up(&self) {
        self.with(|d| d.script.down = None);
    }

    /// The next requests answer these statuses, one each.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.with(|d| d.script.fail_next = statuses.iter().rev().copied().collect());
    }

    pub fn retry_after(&self, seconds: Option<u64>) {
        self.with(|d| d.script.retry_after_secs = seconds);
    }

    /// Answers take this long (a booking change is applied first).
    pub fn slow(&self, delay: Duration) {
        self.with(|d| d.script.delay = delay);
    }

    /// Changes an event type's fields (merged into what it has).
    pub fn change_event_type(&self, id: i64, fields: Value) {
        self.with(|d| {
            let entry = d.event_types.entry(id).or_insert_with(|| event_type_json(id, EVENT_TYPE_MINUTES));
            for (key, value) in fields.as_object().cloned().unwrap_or_default() {
                entry[key] = value;
            }
        });
    }

    /// Replaces what GET /v2/schedules answers.
    pub fn set_schedules(&self, schedules: Vec<Value>) {
        self.with(|d| d.schedules = schedules);
    }

    pub fn bookings(&self) -> Vec<FakeBooking> {
        self.with(|d| d.bookings.clone())
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.with(|d| d.seen.clone())
    }

    /// A booking made in Cal.com itself (not through AskPro).
    pub fn add_booking(&self, start: DateTime<Utc>, minutes: i64) -> String {
        self.with(|d| {
            d.next_id += 1;
            let uid = format!("calcom{}", d.next_id);
            d.bookings.push(FakeBooking {
                id: d.next_id,
                uid: uid.clone(),
                status: "accepted".into(),
                start,
                end: start + chrono::TimeDelta::minutes(minutes),
                event_type_id: EVENT_TYPE_ID,
                attendee: json!({"name": "Walk-in", "email": "walk-in@example.com", "timeZone": "Europe/Berlin"}),
                metadata: BTreeMap::new(),
                created_at: Utc::now(),
                rescheduled_to_uid: None,
                rescheduled_from_uid: None,
            });
            uid
        })
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

/// The fake's listener: closes new connections while told to.
struct Dropping {
    inner: tokio::net::TcpListener,
    data: Arc<Mutex<Data>>,
}

impl axum::serve::Listener for Dropping {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.inner.accept().await else { continue };
            if self.data.lock().unwrap().script.drop_connections {
                drop(stream);
                continue;
            }
            return (stream, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

type Shared = State<Arc<Mutex<Data>>>;

fn error(status: StatusCode, path: &str, code: &str, message: &str) -> Response {
    let body = json!({
        "status": "error",
        "timestamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "path": path,
        "error": {"code": code, "message": message,
                  "details": {"message": message, "error": status.canonical_reason(), "statusCode": status.as_u16()}},
    });
    (status, Json(body)).into_response()
}

fn success(status: StatusCode, data: Value) -> Response {
    (status, Json(json!({"status": "success", "data": data}))).into_response()
}

/// What every handler does first: record, apply the script, check the key
/// and the version. `Err` is the answer.
#[allow(clippy::result_large_err, reason = "the error is the response itself, made once per request")]
fn gate(
    data: &Shared,
    headers: &HeaderMap,
    uri: &Uri,
    method: &str,
    version: Option<&[&str]>,
) -> Result<Duration, Response> {
    let mut d = data.lock().unwrap();
    let path = uri.path().to_owned();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut seen = Seen {
        method: method.into(),
        path: path.clone(),
        api_version: header("cal-api-version"),
        request_id: header("x-request-id"),
        status: 200,
    };
    let scripted = d.script.down.or_else(|| d.script.fail_next.pop());
    let answer = if let Some(status) = scripted {
        let status = StatusCode::from_u16(status).unwrap();
        let mut response = match status.as_u16() {
            401 => error(status, &path, "UnauthorizedException", "Invalid API Key"),
            429 => error(
                status,
                &path,
                "ThrottlerException",
                "CustomThrottlerGuard - Too many requests. Please try again later.",
            ),
            _ => error(status, &path, "InternalServerErrorException", "Internal server error"),
        };
        if status.as_u16() == 429
            && let Some(seconds) = d.script.retry_after_secs
        {
            response.headers_mut().insert("retry-after", seconds.to_string().parse().unwrap());
        }
        Err(response)
    } else if header("authorization").as_deref() != Some(&format!("Bearer {VALID_KEY}")) {
        Err(error(StatusCode::UNAUTHORIZED, &path, "UnauthorizedException", "Invalid API Key"))
    } else if let Some(accepted) = version
        && !seen.api_version.as_deref().is_some_and(|v| accepted.contains(&v))
    {
        Err(error(StatusCode::BAD_REQUEST, &path, "BadRequestException", "cal-api-version is missing or unsupported"))
    } else {
        Ok(d.script.delay)
    };
    seen.status = match &answer {
        Ok(_) => 200,
        Err(response) => response.status().as_u16(),
    };
    d.seen.push(seen);
    answer
}

const BOOKINGS: &[&str] = &["2024-08-13", "2026-02-25"];

async fn me(State(data): Shared, headers: HeaderMap, uri: Uri) -> Response {
    let delay = match gate(&State(data.clone()), &headers, &uri, "GET", None) {
        Ok(delay) => delay,
        Err(answer) => return answer,
    };
    tokio::time::sleep(delay).await;
    success(
        StatusCode::OK,
        json!({
            "id": 42, "username": "anna", "email": "anna@salon.example", "name": "Anna", "avatarUrl": null, "bio": null,
            "timeFormat": 24, "defaultScheduleId": 7, "weekStart": "Monday", "timeZone": "Europe/Berlin",
            "locale": "de", "organizationId": null,
        }),
    )
}

async fn event_type(State(data): Shared, headers: HeaderMap, uri: Uri, Path(id): Path<i64>) -> Response {
    if let Err(answer) = gate(&State(data.clone()), &headers, &uri, "GET", Some(&["2024-06-14"])) {
        return answer;
    }
    let found = data.lock().unwrap().event_types.get(&id).cloned();
    match found {
        Some(event_type) => success(StatusCode::OK, event_type),
        None => {
            error(StatusCode::NOT_FOUND, uri.path(), "NotFoundException", &format!("Event type with id={id} not found"))
        }
    }
}

async fn schedules(State(data): Shared, headers: HeaderMap, uri: Uri) -> Response {
    if let Err(answer) = gate(&State(data.clone()), &headers, &uri, "GET", Some(&["2024-06-11"])) {
        return answer;
    }
    let schedules = data.lock().unwrap().schedules.clone();
    success(StatusCode::OK, Value::Array(schedules))
}

async fn create_booking(State(data): Shared, headers: HeaderMap, uri: Uri, body: axum::body::Bytes) -> Response {
    let delay = match gate(&State(data.clone()), &headers, &uri, "POST", Some(BOOKINGS)) {
        Ok(delay) => delay,
        Err(answer) => return answer,
    };
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, uri.path(), "BadRequestException", "body is not JSON");
    };
    let start = input["start"].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    let event_type_id = input["eventTypeId"].as_i64();
    let attendee = &input["attendee"];
    let (Some(start), Some(event_type_id)) = (start, event_type_id) else {
        return error(StatusCode::BAD_REQUEST, uri.path(), "BadRequestException", "start and eventTypeId are required");
    };
    if attendee["name"].as_str().is_none() || attendee["timeZone"].as_str().is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            uri.path(),
            "BadRequestException",
            "attendee.name and attendee.timeZone are required",
        );
    }
    if attendee["email"].as_str().is_none() && attendee["phoneNumber"].as_str().is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            uri.path(),
            "BadRequestException",
            "At least one contact method (email or phone number) must be provided",
        );
    }
    let booking = {
        let mut d = data.lock().unwrap();
        let Some(default_minutes) = d.event_types.get(&event_type_id).and_then(|e| e["lengthInMinutes"].as_i64())
        else {
            return error(StatusCode::NOT_FOUND, uri.path(), "NotFoundException", "Event type not found");
        };
        let minutes = input["lengthInMinutes"].as_i64().unwrap_or(default_minutes);
        let start = start.with_timezone(&Utc);
        d.next_id += 1;
        let booking = FakeBooking {
            id: d.next_id,
            uid: format!("uid{}x{}", d.next_id, uuid::Uuid::now_v7().simple()),
            status: "accepted".into(),
            start,
            end: start + chrono::TimeDelta::minutes(minutes),
            event_type_id,
            attendee: attendee.clone(),
            metadata: serde_json::from_value(input["metadata"].clone()).unwrap_or_default(),
            created_at: Utc::now(),
            rescheduled_to_uid: None,
            rescheduled_from_uid: None,
        };
        d.bookings.push(booking.clone());
        booking
    };
    tokio::time::sleep(delay).await;
    success(StatusCode::CREATED, booking.json())
}

async fn get_booking(State(data): Shared, headers: HeaderMap, uri: Uri, Path(uid): Path<String>) -> Response {
    if let Err(answer) = gate(&State(data.clone()), &headers, &uri, "GET", Some(BOOKINGS)) {
        return answer;
    }
    let found = data.lock().unwrap().bookings.iter().find(|b| b.uid == uid).cloned();
    match found {
        Some(booking) => success(StatusCode::OK, booking.json()),
        None => error(
            StatusCode::NOT_FOUND,
            uri.path(),
            "NotFoundException",
            &format!("Booking with uid={uid} was not found"),
        ),
    }
}

async fn list_bookings(
    State(data): Shared,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    if let Err(answer) = gate(&State(data.clone()), &headers, &uri, "GET", Some(BOOKINGS)) {
        return answer;
    }
    let after = query.get("afterCreatedAt").and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    let after_start = query.get("afterStart").and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    let before_end = query.get("beforeEnd").and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    let statuses: Option<Vec<String>> = query.get("status").map(|s| s.split(',').map(str::to_owned).collect());
    let now = Utc::now();
    // Cal.com's status filter: upcoming/past (accepted, by time), unconfirmed (pending), cancelled.
    let wanted = |b: &FakeBooking| {
        statuses.as_ref().is_none_or(|wanted| {
            let kind = match b.status.as_str() {
                "cancelled" | "rejected" => "cancelled",
                "pending" => "unconfirmed",
                _ if b.end < now => "past",
                _ => "upcoming",
            };
            wanted.iter().any(|w| w == kind)
        })
    };
    let take: usize = query.get("take").and_then(|s| s.parse().ok()).unwrap_or(100).min(250);
    let skip: usize = query.get("skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let bookings = data.lock().unwrap().bookings.clone();
    let matching: Vec<Value> = bookings
        .iter()
        .filter(|b| after.is_none_or(|a| b.created_at >= a))
        .filter(|b| after_start.is_none_or(|a| b.start >= a))
        .filter(|b| before_end.is_none_or(|e| b.end <= e))
        .filter(|b| wanted(b))
        .skip(skip)
        .take(take)
        .map(FakeBooking::json)
        .collect();
    (StatusCode::OK, Json(json!({"status": "success", "data": matching}))).into_response()
}

async fn cancel_booking(
    State(data): Shared,
    headers: HeaderMap,
    uri: Uri,
    Path(uid): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let delay = match gate(&State(data.clone()), &headers, &uri, "POST", Some(BOOKINGS)) {
        Ok(delay) => delay,
        Err(answer) => return answer,
    };
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let result = {
        let mut d = data.lock().unwrap();
        match d.bookings.iter_mut().find(|b| b.uid == uid) {
            None => Err(error(StatusCode::NOT_FOUND, uri.path(), "NotFoundException", "booking not found")),
            Some(b) if b.status == "cancelled" => Err(error(
                StatusCode::BAD_REQUEST,
                uri.path(),
                "BadRequestException",
                "This booking has already been cancelled.",
            )),
            Some(b) => {
                b.status = "cancelled".into();
                let mut out = b.json();
                out["cancellationReason"] = input["cancellationReason"].clone();
                Ok(out)
            }
        }
    };
    tokio::time::sleep(delay).await;
    match result {
        Ok(out) => success(StatusCode::OK, out),
        Err(answer) => answer,
    }
}

async fn reschedule_booking(
    State(data): Shared,
    headers: HeaderMap,
    uri: Uri,
    Path(uid): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let delay = match gate(&State(data.clone()), &headers, &uri, "POST", Some(BOOKINGS)) {
        Ok(delay) => delay,
        Err(answer) => return answer,
    };
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(start) = input["start"].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) else {
        return error(StatusCode::BAD_REQUEST, uri.path(), "BadRequestException", "start is required");
    };
    let result = {
        let mut d = data.lock().unwrap();
        d.next_id += 1;
        let id = d.next_id;
        match d.bookings.iter().position(|b| b.uid == uid) {
            None => Err(error(StatusCode::NOT_FOUND, uri.path(), "NotFoundException", "booking not found")),
            Some(i) if d.bookings[i].status != "accepted" && d.bookings[i].status != "pending" => Err(error(
                StatusCode::BAD_REQUEST,
                uri.path(),
                "BadRequestException",
                "Only accepted or pending bookings can be rescheduled",
            )),
            Some(i) => {
                let start = start.with_timezone(&Utc);
                let mut new = d.bookings[i].clone();
                new.id = id;
                new.uid = format!("uid{id}x{}", uuid::Uuid::now_v7().simple());
                new.end = start + (new.end - new.start);
                new.start = start;
                new.created_at = Utc::now();
                new.rescheduled_from_uid = Some(uid.clone());
                let old = &mut d.bookings[i];
                old.status = "cancelled".into();
                old.rescheduled_to_uid = Some(new.uid.clone());
                let out = new.json();
                d.bookings.push(new);
                Ok(out)
            }
        }
    };
    tokio::time::sleep(delay).await;
    match result {
        Ok(out) => success(StatusCode::CREATED, out),
        Err(answer) => answer,
    }
}
