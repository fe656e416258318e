//! Correlation ids: the `x-request-id` of a call, taken from the caller when
//! it is well-formed, generated otherwise. It is returned in the response
//! metadata, recorded in every log line of the call (the call's tracing
//! span), and available to outbound HTTP calls and webhook deliveries made
//! on the call's behalf through `current()`.
use std::fmt;
use std::future::Future;

/// The metadata key, in requests and responses.
pub const HEADER: &str = "x-request-id";

/// The longest id accepted from a caller; longer ones are replaced.
pub const MAX_LEN: usize = 128;

/// A validated correlation id: 1 to 128 characters of `A-Z a-z 0-9 . _ : -`,
/// so it is safe in headers, log lines and URLs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// The caller's id if it is well-formed.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty()
            && text.len() <= MAX_LEN
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        ok.then(|| Self(text.to_owned()))
    }

    /// A new id (UUIDv7: unique, and sortable by time in log searches).
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// The caller's id when well-formed, a new one otherwise.
    pub fn from_header(value: Option<&http::HeaderValue>) -> Self {
        value.and_then(|v| v.to_str().ok()).and_then(Self::parse).unwrap_or_else(Self::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

tokio::task_local! {
    static CURRENT: RequestId;
}

/// Runs `work` as the call with correlation id `id`.
pub async fn scope<F: Future>(id: RequestId, work: F) -> F::Output {
    CURRENT.scope(id, work).await
}

/// The correlation id of the call being served, if any (outbound calls send
/// it on).
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_ids_are_kept() {
        for id in ["abc", "0190a1b2-7c3d-7000-8000-000000000001", "trace:1.2_x", &"a".repeat(MAX_LEN)] {
            assert_eq!(RequestId::parse(id).map(|r| r.0), Some(id.to_owned()), "{id}");
        }
    }

    #[test]
    fn malformed_or_oversized_ids_are_refused() {
        for id in ["", "has space", "line\nbreak", "quote\"", "ünïcode", "{json}", &"a".repeat(MAX_LEN + 1)] {
            assert_eq!(RequestId::parse(id), None, "{id:?}");
        }
    }

    #[test]
    fn a_refused_or_missing_header_gets_a_generated_id() {
        let bad = http::HeaderValue::from_static("not ok!");
        let generated = RequestId::from_header(Some(&bad));
        assert!(uuid::Uuid::parse_str(generated.as_str()).is_ok());
        assert_ne!(RequestId::from_header(None), RequestId::from_header(None));
        let good = http::HeaderValue::from_static("call-42");
        assert_eq!(RequestId::from_header(Some(&good)).as_str(), "call-42");
    }

    #[tokio::test]
    async fn the_current_id_is_visible_inside_the_call_only() {
        assert_eq!(current(), None);
        let id = RequestId::generate();
        let seen = scope(id.clone(), async { current() }).await;
        assert_eq!(seen, Some(id));
    }
}
