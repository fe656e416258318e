//! The one error type of the service and its one mapping to `tonic::Status`.
//!
//! It depends on the domain (whose `Invalid` it wraps) and on tonic, nothing
//! else of the crate: the store turns database errors into it
//! (`store::db_error`), the layers and handlers return it.
//!
//! Every layer (validation, storage, handlers) returns `Error`; only
//! `From<Error> for Status` decides codes and details, so clients see the same
//! status for the same failure wherever it arises. Messages never carry
//! secrets or raw database text.
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The ErrorInfo domain of every AskPro error.
pub const ERROR_DOMAIN: &str = "askpro";

/// A free slot offered instead of a taken one (RFC 3339 texts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternativeSlot {
    pub start_time: String,
    pub local_start_time: String,
    pub staff_id: String,
}

pub use crate::domain::error::FieldViolation;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid argument")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{resource} not found")]
    NotFound { resource: &'static str },
    #[error("{resource} already exists: {detail}")]
    AlreadyExists { resource: &'static str, detail: String },
    #[error("etag does not match the current version")]
    EtagMismatch,
    #[error("request_id was already used with different content")]
    RequestIdReused,
    #[error("{message}")]
    FailedPrecondition { reason: &'static str, message: String },
    /// The hold is no longer live: expired, released, or already booked
    /// (then `appointment_id` names the appointment made from it, so a
    /// retrying caller learns its booking went through).
    #[error("the hold has expired, was released or was already booked")]
    HoldExpired { appointment_id: Option<uuid::Uuid> },
    /// The customer already has `appointment_id` at that time, and the tenant
    /// does not allow one customer's appointments to overlap.
    #[error("the customer already has an appointment at that time")]
    CustomerDoubleBooked { appointment_id: uuid::Uuid },
    /// The start is not a bookable slot; `rule` names the rule it breaks
    /// (`domain::slots::NotOffered::rule`: "closed_day", "minimum_notice", ...).
    #[error("{message}")]
    NotBookable { rule: &'static str, message: String },
    #[error("{message}")]
    Unauthenticated { reason: &'static str, message: &'static str },
    #[error("{message}")]
    PermissionDenied { reason: &'static str, message: String },
    /// The key's scope does not grant the method; `needed` is the least
    /// scope that does.
    #[error("this method needs an API key of scope {needed} or above")]
    ScopeInsufficient { needed: crate::domain::scope::Scope, held: crate::domain::scope::Scope },
    /// A serialization failure, deadlock or racing insert: the transaction
    /// runner retries the whole RPC transaction; callers see ABORTED only
    /// when retries run out.
    #[error("concurrent modification")]
    Conflict,
    /// The commit found that cached configuration the transaction relied on
    /// changed meanwhile (the webhook subscriptions' version, see
    /// `subscriptions::wanting`): the commit forgets the tenant's cached
    /// configuration, and the runner retries as for `Conflict`.
    #[error("concurrent modification of the configuration")]
    StaleConfig,
    /// The time is claimed by another appointment or live hold.
    #[error("the slot is taken")]
    SlotTaken { alternatives: Vec<AlternativeSlot> },
    #[error("{dependency} is unavailable")]
    Unavailable { dependency: &'static str },
    /// An outside service (Cal.com) failed, was slow, or refused to be
    /// called now; `message` says how, and is safe to show (never a key).
    #[error("{dependency}: {message}")]
    Upstream { dependency: &'static str, message: String, retry_after: Duration },
    /// The call's deadline (`grpc-timeout`, or the server default) passed.
    #[error("deadline exceeded")]
    DeadlineExceeded,
    /// The caller's quota is used up; `limit` says which one ("api_key" or
    /// "tenant").
    #[error("rate limit of the {limit} exceeded")]
    RateLimited { limit: &'static str, retry_after: Duration },
    /// A cap on what one caller may keep at once is reached (live holds of a
    /// hold key, an API key or a tenant; a hold's total lifetime): `reason`
    /// is the ErrorInfo reason, `subject` what is capped, `limit` the cap.
    #[error("{message}")]
    LimitReached { reason: &'static str, subject: &'static str, limit: u64, message: String },
    /// The server runs as many calls as it may; another replica, or this one
    /// a moment later, can take the call.
    #[error("server overloaded")]
    Overloaded,
    #[error("not implemented: {0}")]
    NotImplemented(&'static str),
    /// Anything unexpected. The text is logged, never sent to the caller.
    #[error("internal error: {0}")]
    Internal(String),
    /// Another live customer already has this phone number; the caller gets
    /// its id so a voice agent can continue with that customer.
    #[error("a customer with this phone number exists")]
    CustomerExists { customer_id: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        Error::Internal(err.to_string())
    }

    /// Whether the transaction runner should run the transaction again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Conflict | Error::StaleConfig)
    }
}

impl From<crate::domain::error::Invalid> for Error {
    fn from(invalid: crate::domain::error::Invalid) -> Self {
        Error::InvalidArgument(invalid.0)
    }
}

/// An error reply lists at most this many field violations (the first ones)
/// and says how many there were: grpcio clients refuse trailers over 16 KiB.
const MAX_VIOLATIONS_SHOWN: usize = 20;
/// The status message names the first few of them.
const MAX_VIOLATIONS_IN_MESSAGE: usize = 5;
/// A field path or description in an error reply is cut to this many
/// characters: twenty of each in the details and five in the message stay
/// well under 16 KiB.
const MAX_FIELD_CHARS: usize = 100;
const MAX_DESCRIPTION_CHARS: usize = 200;

fn bounded_text(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn status_with(code: Code, message: String, reason: &str, details: ErrorDetails) -> Status {
    let mut details = details;
    details.set_error_info(reason, ERROR_DOMAIN, std::collections::HashMap::new());
    Status::with_error_details(code, message, details)
}

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        let plain = ErrorDetails::new();
        match err {
            Error::InvalidArgument(violations) => {
                let total = violations.len();
                let shown: Vec<FieldViolation> = violations
                    .into_iter()
                    .take(MAX_VIOLATIONS_SHOWN)
                    .map(|v| {
                        FieldViolation::new(
                            bounded_text(&v.field, MAX_FIELD_CHARS),
                            bounded_text(&v.description, MAX_DESCRIPTION_CHARS),
                        )
                    })
                    .collect();
                // The message repeats the first few; the details list twenty
                // (the trailers carry the message twice: alone and in them).
                let mut summary = shown
                    .iter()
                    .take(MAX_VIOLATIONS_IN_MESSAGE)
                    .map(|v| match v.field.as_str() {
                        // A violation of the request as a whole.
                        "" => v.description.clone(),
                        field => format!("{field}: {}", v.description),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                if total > MAX_VIOLATIONS_IN_MESSAGE {
                    summary.push_str(&format!("; and {} more", total - MAX_VIOLATIONS_IN_MESSAGE));
                }
                let mut details = ErrorDetails::with_bad_request(
                    shown
                        .into_iter()
                        .map(|v| tonic_types::FieldViolation::new(v.field, v.description))
                        .collect::<Vec<_>>(),
                );
                // How many there were in all, when not all are listed.
                let metadata = std::collections::HashMap::from([("violations".to_owned(), total.to_string())]);
                details.set_error_info("INVALID_ARGUMENT", ERROR_DOMAIN, metadata);
                Status::with_error_details(Code::InvalidArgument, summary, details)
            }
            Error::NotFound { resource } => {
                let mut details = ErrorDetails::new();
                details.set_resource_info(resource, "", "", format!("{resource} not found"));
                status_with(Code::NotFound, format!("{resource} not found"), "RESOURCE_NOT_FOUND", details)
            }
            Error::AlreadyExists { resource, detail } => status_with(
                Code::AlreadyExists,
                format!("{resource} already exists: {detail}"),
                "RESOURCE_EXISTS",
                plain,
            ),
            Error::EtagMismatch => status_with(
                Code::Aborted,
                "etag does not match the current version; read the resource again".into(),
                "ETAG_MISMATCH",
                plain,
            ),
            Error::RequestIdReused => {
                let details = ErrorDetails::with_bad_request_violation(
                    "request_id",
                    "already used for a request with different content",
                );
                status_with(
                    Code::InvalidArgument,
                    "request_id was already used with different content".into(),
                    "REQUEST_ID_REUSED",
                    details,
                )
            }
            Error::FailedPrecondition { reason, message } => {
                status_with(Code::FailedPrecondition, message, reason, plain)
            }
            Error::HoldExpired { appointment_id } => {
                let (message, metadata) = match appointment_id {
                    Some(id) => (
                        format!("the hold was already booked: appointment {id}"),
                        std::collections::HashMap::from([("appointment_id".to_owned(), id.to_string())]),
                    ),
                    None => ("the hold has expired or was released".to_owned(), std::collections::HashMap::new()),
                };
                let mut details = ErrorDetails::new();
                details.set_error_info("HOLD_EXPIRED", ERROR_DOMAIN, metadata);
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            Error::CustomerDoubleBooked { appointment_id } => {
                let metadata =
                    std::collections::HashMap::from([("appointment_id".to_owned(), appointment_id.to_string())]);
                let mut details = ErrorDetails::new();
                details.set_error_info("CUSTOMER_DOUBLE_BOOKED", ERROR_DOMAIN, metadata);
                Status::with_error_details(
                    Code::FailedPrecondition,
                    format!(
                        "the customer already has appointment {appointment_id} at that time; this tenant does not \
                         allow overlapping appointments of one customer"
                    ),
                    details,
                )
            }
            Error::NotBookable { rule, message } => {
                // PreconditionFailure names the rule (type) and the field
                // (subject); ErrorInfo keeps the reason clients branch on.
                let mut details = ErrorDetails::with_precondition_failure_violation(rule, "start_time", &message);
                let metadata = std::collections::HashMap::from([("rule".to_owned(), rule.to_owned())]);
                details.set_error_info("FAILED_PRECONDITION", ERROR_DOMAIN, metadata);
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            Error::Unauthenticated { reason, message } => {
                status_with(Code::Unauthenticated, message.into(), reason, plain)
            }
            Error::PermissionDenied { reason, message } => status_with(Code::PermissionDenied, message, reason, plain),
            Error::ScopeInsufficient { needed, held } => {
                let message = format!(
                    "this method needs an API key of scope {} or above; this key has {}",
                    needed.contract_name(),
                    held.contract_name()
                );
                let metadata = std::collections::HashMap::from([
                    ("required_scope".to_owned(), needed.contract_name().to_owned()),
                    ("key_scope".to_owned(), held.contract_name().to_owned()),
                ]);
                let mut details = ErrorDetails::new();
                details.set_error_info("SCOPE_INSUFFICIENT", ERROR_DOMAIN, metadata);
                Status::with_error_details(Code::PermissionDenied, message, details)
            }
            Error::Conflict | Error::StaleConfig => {
                let details = ErrorDetails::with_retry_info(Some(Duration::from_millis(100)));
                status_with(
                    Code::Aborted,
                    "concurrent modification; retry the call".into(),
                    "CONCURRENT_MODIFICATION",
                    details,
                )
            }
            Error::SlotTaken { alternatives } => {
                // Alternatives travel in ErrorInfo metadata (documented in the
                // availability and appointment contracts).
                let mut metadata = std::collections::HashMap::new();
                for (index, alt) in alternatives.iter().take(3).enumerate() {
                    let n = index + 1;
                    metadata.insert(format!("alternative_{n}_start_time"), alt.start_time.clone());
                    metadata.insert(format!("alternative_{n}_local_start_time"), alt.local_start_time.clone());
                    metadata.insert(format!("alternative_{n}_staff_id"), alt.staff_id.clone());
                }
                let mut details = ErrorDetails::new();
                details.set_error_info("SLOT_TAKEN", ERROR_DOMAIN, metadata);
                Status::with_error_details(
                    Code::AlreadyExists,
                    format!("the slot is taken; {} alternative(s) in the error details", alternatives.len().min(3)),
                    details,
                )
            }
            Error::Unavailable { dependency } => {
                let details = ErrorDetails::with_retry_info(Some(Duration::from_secs(1)));
                status_with(
                    Code::Unavailable,
                    format!("{dependency} is unavailable; retry later"),
                    "DEPENDENCY_UNAVAILABLE",
                    details,
                )
            }
            Error::Upstream { dependency, message, retry_after } => {
                let metadata = std::collections::HashMap::from([("dependency".to_owned(), dependency.to_owned())]);
                let mut details = ErrorDetails::with_retry_info(Some(retry_after));
                details.set_error_info("DEPENDENCY_UNAVAILABLE", ERROR_DOMAIN, metadata);
                Status::with_error_details(Code::Unavailable, format!("{dependency}: {message}"), details)
            }
            Error::DeadlineExceeded => status_with(
                Code::DeadlineExceeded,
                "the deadline passed before the call wrote anything; nothing was changed".into(),
                "DEADLINE_EXCEEDED",
                plain,
            ),
            Error::RateLimited { limit, retry_after } => {
                let mut metadata = std::collections::HashMap::from([("limit".to_owned(), limit.to_owned())]);
                metadata.insert("retry_after_ms".into(), retry_after.as_millis().to_string());
                let mut details = ErrorDetails::with_retry_info(Some(retry_after));
                details.set_error_info("RATE_LIMITED", ERROR_DOMAIN, metadata);
                Status::with_error_details(
                    Code::ResourceExhausted,
                    format!("rate limit of the {limit} exceeded; retry in {} ms", retry_after.as_millis()),
                    details,
                )
            }
            Error::LimitReached { reason, subject, limit, message } => {
                let metadata = std::collections::HashMap::from([
                    ("subject".to_owned(), subject.to_owned()),
                    ("limit".to_owned(), limit.to_string()),
                ]);
                let mut details = ErrorDetails::new();
                details.set_error_info(reason, ERROR_DOMAIN, metadata);
                details.add_quota_failure_violation(subject, message.clone());
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            Error::Overloaded => {
                let details = ErrorDetails::with_retry_info(Some(Duration::from_millis(200)));
                status_with(
                    Code::Unavailable,
                    "the server is at its concurrency limit; retry shortly".into(),
                    "OVERLOADED",
                    details,
                )
            }
            Error::NotImplemented(what) => {
                status_with(Code::Unimplemented, format!("not implemented yet: {what}"), "NOT_IMPLEMENTED", plain)
            }
            Error::Internal(text) => {
                tracing::error!(error = %text, "internal error");
                status_with(Code::Internal, "internal error".into(), "INTERNAL", plain)
            }
            Error::CustomerExists { customer_id } => {
                let metadata = std::collections::HashMap::from([("customer_id".to_owned(), customer_id)]);
                let mut details = ErrorDetails::new();
                details.set_error_info("RESOURCE_EXISTS", ERROR_DOMAIN, metadata);
                Status::with_error_details(
                    Code::AlreadyExists,
                    "customer already exists: a customer with this phone number exists".to_owned(),
                    details,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    #[test]
    fn an_error_reply_stays_small_however_many_fields_are_wrong() {
        let long = "x".repeat(5_000);
        let violations =
            (0..500).map(|i| FieldViolation::new(format!("{long}[{i}]"), format!("unknown: {long}"))).collect();
        let status = Status::from(Error::InvalidArgument(violations));
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let listed = details.bad_request().expect("a BadRequest").field_violations.len();
        assert_eq!(listed, MAX_VIOLATIONS_SHOWN, "the first twenty");
        let info = details.error_info().expect("an ErrorInfo");
        assert_eq!(info.metadata.get("violations").map(String::as_str), Some("500"), "and how many in all");
        assert!(status.message().ends_with("; and 495 more"), "{}", &status.message()[status.message().len() - 40..]);
        // The trailers carry the details base64-encoded, beside the message.
        let trailer_bytes = status.details().len() * 4 / 3 + status.message().len();
        assert!(trailer_bytes < 16 * 1024, "{trailer_bytes} bytes of trailers");
    }

    #[test]
    fn a_short_list_is_shown_whole() {
        let status = Status::from(Error::invalid("page_size", "must not be negative"));
        assert_eq!(status.message(), "page_size: must not be negative");
        let details = status.get_error_details();
        assert_eq!(details.error_info().expect("info").reason, "INVALID_ARGUMENT");
        assert_eq!(details.bad_request().expect("bad request").field_violations.len(), 1);
    }
}
