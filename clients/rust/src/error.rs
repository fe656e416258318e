//! The typed error of every call: the gRPC status with its rich details
//! (google.rpc ErrorInfo, BadRequest, RetryInfo) decoded, and SLOT_TAKEN's
//! alternatives parsed out of the ErrorInfo metadata.
use std::collections::HashMap;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// What the server said, beyond the status code.
#[derive(Clone, Debug, Default)]
pub struct Details {
    /// The status message.
    pub message: String,
    /// ErrorInfo reason (UPPER_SNAKE, e.g. `SLOT_TAKEN`), if sent.
    pub reason: Option<String>,
    /// ErrorInfo metadata.
    pub metadata: HashMap<String, String>,
    /// BadRequest field violations.
    pub violations: Vec<FieldViolation>,
    /// RetryInfo delay: how long the server asks the caller to wait.
    pub retry_delay: Option<Duration>,
}

/// One BadRequest field violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// A free slot offered instead of one that was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alternative {
    /// RFC 3339 start in UTC.
    pub start_time: String,
    /// RFC 3339 start with the branch's offset.
    pub local_start_time: String,
    pub staff_id: String,
}

/// Why a call failed. Details are boxed to keep `Result<_, Error>` small.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The slot is no longer free (ALREADY_EXISTS with reason SLOT_TAKEN).
    #[error("slot taken: {}", .details.message)]
    SlotTaken { alternatives: Vec<Alternative>, details: Box<Details> },
    #[error("invalid argument: {}", .0.message)]
    InvalidArgument(Box<Details>),
    #[error("unauthenticated: {}", .0.message)]
    Unauthenticated(Box<Details>),
    #[error("permission denied: {}", .0.message)]
    PermissionDenied(Box<Details>),
    #[error("not found: {}", .0.message)]
    NotFound(Box<Details>),
    #[error("already exists: {}", .0.message)]
    AlreadyExists(Box<Details>),
    #[error("failed precondition: {}", .0.message)]
    FailedPrecondition(Box<Details>),
    #[error("aborted: {}", .0.message)]
    Aborted(Box<Details>),
    /// Rate limited; `retry_delay` says when to try again.
    #[error("resource exhausted: {}", .0.message)]
    ResourceExhausted(Box<Details>),
    #[error("deadline exceeded: {}", .0.message)]
    DeadlineExceeded(Box<Details>),
    /// Still unavailable after the configured retries.
    #[error("unavailable: {}", .0.message)]
    Unavailable(Box<Details>),
    /// Any other status code.
    #[error("{code:?}: {}", .details.message)]
    Other { code: Code, details: Box<Details> },
    /// The target could not be parsed or connected to.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The API key or tenant id cannot be sent as gRPC metadata.
    #[error("invalid metadata value for {0}")]
    InvalidMetadata(&'static str),
}

impl Error {
    /// The gRPC code, or `None` for errors raised before a call was made.
    pub fn code(&self) -> Option<Code> {
        Some(match self {
            Error::SlotTaken { .. } | Error::AlreadyExists(_) => Code::AlreadyExists,
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::Unauthenticated(_) => Code::Unauthenticated,
            Error::PermissionDenied(_) => Code::PermissionDenied,
            Error::NotFound(_) => Code::NotFound,
            Error::FailedPrecondition(_) => Code::FailedPrecondition,
            Error::Aborted(_) => Code::Aborted,
            Error::ResourceExhausted(_) => Code::ResourceExhausted,
            Error::DeadlineExceeded(_) => Code::DeadlineExceeded,
            Error::Unavailable(_) => Code::Unavailable,
            Error::Other { code, .. } => *code,
            Error::Transport(_) | Error::InvalidMetadata(_) => return None,
        })
    }

    /// The decoded details, for errors that came from the server.
    pub fn details(&self) -> Option<&Details> {
        match self {
            Error::SlotTaken { details, .. } | Error::Other { details, .. } => Some(details.as_ref()),
            Error::InvalidArgument(d)
            | Error::Unauthenticated(d)
            | Error::PermissionDenied(d)
            | Error::NotFound(d)
            | Error::AlreadyExists(d)
            | Error::FailedPrecondition(d)
            | Error::Aborted(d)
            | Error::ResourceExhausted(d)
            | Error::DeadlineExceeded(d)
            | Error::Unavailable(d) => Some(d.as_ref()),
            Error::Transport(_) | Error::InvalidMetadata(_) => None,
        }
    }

    /// The ErrorInfo reason, if the server sent one.
    pub fn reason(&self) -> Option<&str> {
        self.details().and_then(|d| d.reason.as_deref())
    }
}

impl From<Status> for Error {
    fn from(status: Status) -> Self {
        let rich = status.get_error_details();
        let info = rich.error_info();
        let details = Box::new(Details {
            message: status.message().to_owned(),
            reason: info.map(|i| i.reason.clone()),
            metadata: info.map(|i| i.metadata.clone()).unwrap_or_default(),
            violations: rich
                .bad_request()
                .map(|b| {
                    b.field_violations
                        .iter()
                        .map(|v| FieldViolation { field: v.field.clone(), description: v.description.clone() })
                        .collect()
                })
                .unwrap_or_default(),
            retry_delay: rich.retry_info().and_then(|r| r.retry_delay),
        });
        match status.code() {
            Code::AlreadyExists if details.reason.as_deref() == Some("SLOT_TAKEN") => {
                Error::SlotTaken { alternatives: alternatives(&details.metadata), details }
            }
            Code::AlreadyExists => Error::AlreadyExists(details),
            Code::InvalidArgument => Error::InvalidArgument(details),
            Code::Unauthenticated => Error::Unauthenticated(details),
            Code::PermissionDenied => Error::PermissionDenied(details),
            Code::NotFound => Error::NotFound(details),
            Code::FailedPrecondition => Error::FailedPrecondition(details),
            Code::Aborted => Error::Aborted(details),
            Code::ResourceExhausted => Error::ResourceExhausted(details),
            Code::DeadlineExceeded => Error::DeadlineExceeded(details),
            Code::Unavailable => Error::Unavailable(details),
            code => Error::Other { code, details },
        }
    }
}

/// Reads `alternative_<n>_{start_time,local_start_time,staff_id}` for n = 1, 2, …
/// until the first missing number.
fn alternatives(metadata: &HashMap<String, String>) -> Vec<Alternative> {
    let field = |n: usize, name: &str| metadata.get(&format!("alternative_{n}_{name}")).cloned();
    (1..)
        .map_while(|n| {
            Some(Alternative {
                start_time: field(n, "start_time")?,
                local_start_time: field(n, "local_start_time").unwrap_or_default(),
                staff_id: field(n, "staff_id").unwrap_or_default(),
            })
        })
        .collect()
}
