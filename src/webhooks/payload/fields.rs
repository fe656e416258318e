//! Path-aware field access: errors name the exact path and never quote a value.
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{MAX_BODY_BYTES, PayloadError};

pub(super) fn parse_json(body: &[u8]) -> Result<Value, PayloadError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(PayloadError::TooLarge);
    }
    // serde_json stops at 128 levels of nesting with an error, never a stack overflow.
    serde_json::from_slice(body).map_err(|e| PayloadError::Json { line: e.line(), column: e.column() })
}

/// A JSON object and the path that led to it, for error messages.
pub(super) struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub(super) fn root(value: &'a Value) -> Result<Self, PayloadError> {
        match value {
            Value::Object(map) => Ok(Self { path: String::new(), map }),
            _ => Err(PayloadError::InvalidField { field: "(body)".to_owned(), expected: "a JSON object" }),
        }
    }

    pub(super) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    pub(super) fn invalid(&self, key: &str, expected: &'static str) -> PayloadError {
        PayloadError::InvalidField { field: self.path_of(key), expected }
    }

    /// The value at `key`; JSON null counts as absent.
    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn required(&self, key: &str) -> Result<&'a Value, PayloadError> {
        self.get(key).ok_or_else(|| PayloadError::MissingField(self.path_of(key)))
    }

    /// Every string taken from a payload passes here: control characters
    /// (a NUL, which PostgreSQL cannot store) are refused as in gRPC requests.
    fn text(&self, key: &str, text: &'a str) -> Result<&'a str, PayloadError> {
        // The rule of `domain::validate::has_control_character`, written out:
        // this file is also compiled into the fuzz crate, which has no domain.
        if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
            return Err(self.invalid(key, "a string without control characters"));
        }
        Ok(text)
    }

    /// A required, non-empty string.
    pub(super) fn string(&self, key: &str) -> Result<&'a str, PayloadError> {
        match self.required(key)?.as_str() {
            Some(text) if !text.is_empty() => self.text(key, text),
            _ => Err(self.invalid(key, "a non-empty string")),
        }
    }

    /// A required string that may be empty (e.g. a name).
    pub(super) fn string_or_empty(&self, key: &str) -> Result<&'a str, PayloadError> {
        let text = self.required(key)?.as_str().ok_or_else(|| self.invalid(key, "a string"))?;
        self.text(key, text)
    }

    /// An optional string; absent, null and "" are all `None`.
    pub(super) fn opt_string(&self, key: &str) -> Result<Option<&'a str>, PayloadError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) if text.is_empty() => Ok(None),
            Some(Value::String(text)) => self.text(key, text).map(Some),
            Some(_) => Err(self.invalid(key, "a string")),
        }
    }

    pub(super) fn opt_i64(&self, key: &str) -> Result<Option<i64>, PayloadError> {
        self.get(key).map(|v| v.as_i64().ok_or_else(|| self.invalid(key, "an integer"))).transpose()
    }

    pub(super) fn object(&self, key: &str) -> Result<Fields<'a>, PayloadError> {
        match self.required(key)? {
            Value::Object(map) => Ok(Fields { path: self.path_of(key), map }),
            _ => Err(self.invalid(key, "an object")),
        }
    }

    /// An optional object, kept as JSON.
    pub(super) fn opt_object_value(&self, key: &str) -> Result<Option<Value>, PayloadError> {
        match self.get(key) {
            None => Ok(None),
            Some(value @ Value::Object(_)) => Ok(Some(value.clone())),
            Some(_) => Err(self.invalid(key, "an object")),
        }
    }

    /// A required array whose every element is an object.
    pub(super) fn objects(&self, key: &str) -> Result<Vec<Fields<'a>>, PayloadError> {
        let Value::Array(items) = self.required(key)? else {
            return Err(self.invalid(key, "an array"));
        };
        let path = self.path_of(key);
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(map) => Ok(Fields { path: format!("{path}[{i}]"), map }),
                _ => Err(PayloadError::InvalidField { field: format!("{path}[{i}]"), expected: "an object" }),
            })
            .collect()
    }

    pub(super) fn rfc3339(&self, key: &str) -> Result<DateTime<Utc>, PayloadError> {
        self.opt_rfc3339(key)?.ok_or_else(|| PayloadError::MissingField(self.path_of(key)))
    }

    pub(super) fn opt_rfc3339(&self, key: &str) -> Result<Option<DateTime<Utc>>, PayloadError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        value
            .as_str()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|t| Some(t.with_timezone(&Utc)))
            .ok_or_else(|| self.invalid(key, "an RFC 3339 timestamp"))
    }

    /// Optional Unix milliseconds.
    pub(super) fn opt_millis(&self, key: &str) -> Result<Option<DateTime<Utc>>, PayloadError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        value
            .as_i64()
            .filter(|ms| *ms >= 0)
            .and_then(DateTime::from_timestamp_millis)
            .map(Some)
            .ok_or_else(|| self.invalid(key, "Unix milliseconds"))
    }
}
