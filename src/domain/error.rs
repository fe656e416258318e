//! The domain's own error: which fields of a request are invalid, and why.
//!
//! The domain depends on nothing above it; the service error
//! (`crate::error::Error`) wraps this one and maps it to a gRPC status.

/// One invalid request field: its path (`branch.time_zone`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

/// A request the domain refuses: every bad field at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid argument")]
pub struct Invalid(pub Vec<FieldViolation>);

impl Invalid {
    /// One bad field.
    pub fn field(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self(vec![FieldViolation::new(field, description)])
    }
}

pub type Result<T, E = Invalid> = std::result::Result<T, E>;
