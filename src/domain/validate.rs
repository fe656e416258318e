//! Validated value types for request fields ("parse, don't validate") and a
//! collector that reports every bad field of a request at once.
use jiff::tz::TimeZone;

use super::error::{FieldViolation, Invalid, Result};

/// Staff ids a filter (ListAppointments, WatchAppointments,
/// ListAvailableSlots) may name.
pub const MAX_STAFF_FILTER: usize = 100;

/// Collects field violations; `finish` turns them into one INVALID_ARGUMENT.
#[derive(Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Records the error of a parse and returns its value, if any.
    pub fn take<T>(&mut self, field: &str, parsed: std::result::Result<T, &'static str>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(description) => {
                self.add(field, description);
                None
            }
        }
    }

    /// Records the violations of a typed-id parse (or any `Invalid`).
    pub fn take_err<T>(&mut self, parsed: Result<T>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(Invalid(mut violations)) => {
                self.0.append(&mut violations);
                None
            }
        }
    }

    /// A required UUID field; a missing or malformed one is recorded.
    pub fn uuid(&mut self, field: &str, text: &str) -> Option<uuid::Uuid> {
        if text.is_empty() {
            self.add(field, "is required");
            return None;
        }
        self.take(field, uuid::Uuid::try_parse(text).map_err(|_| "must be a UUID"))
    }

    /// A repeated field of at most `max` entries. Longer, it is recorded
    /// once and no entry is returned, so no entry is checked one by one.
    pub fn at_most<'a, T>(&mut self, field: &str, entries: &'a [T], max: usize) -> &'a [T] {
        if entries.len() > max {
            self.add(field, format!("must have at most {max} entries"));
            return &[];
        }
        entries
    }

    pub fn extend(&mut self, violations: Vec<FieldViolation>) {
        self.0.extend(violations);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() { Ok(()) } else { Err(Invalid(self.0)) }
    }
}

/// A human-readable name: trimmed, 1 to 200 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(text: &str) -> std::result::Result<Self, &'static str> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required");
        }
        if text.chars().count() > 200 {
            return Err("must be at most 200 characters");
        }
        if text.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(text.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Whether `text` holds a control character (Unicode Cc: U+0000-U+001F and
/// U+007F-U+009F) other than tab, line feed and carriage return: refused in
/// every string of every request (`api::request_text`, inbound webhooks).
pub fn has_control_character(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Optional free text with a length limit; control characters other than
/// line breaks are refused.
pub fn free_text(text: &str, max_chars: usize) -> std::result::Result<String, &'static str> {
    if text.chars().count() > max_chars {
        return Err("is too long");
    }
    if has_control_character(text) {
        return Err("must not contain control characters");
    }
    Ok(text.trim().to_owned())
}

/// An e-mail address, loosely checked (one @, something on each side); empty allowed.
pub fn optional_email(text: &str) -> std::result::Result<String, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(String::new());
    }
    if text.len() > 320 {
        return Err("must be at most 320 characters");
    }
    match text.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !text.contains(char::is_whitespace) =>
        {
            Ok(text.to_owned())
        }
        _ => Err("is not an e-mail address"),
    }
}

/// An IANA time zone name known to the bundled time zone database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(text: &str) -> std::result::Result<Self, &'static str> {
        if text.is_empty() {
            return Err("is required");
        }
        if text.len() > 64 {
            return Err("is not an IANA time zone");
        }
        match TimeZone::get(text) {
            Ok(tz) => Ok(Self(tz.iana_name().unwrap_or(text).to_owned())),
            Err(_) => Err("is not an IANA time zone (e.g. \"Europe/Berlin\")"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An ISO 3166-1 alpha-2 region known to the phone-number metadata ("DE").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(text: &str) -> std::result::Result<Self, &'static str> {
        let upper = text.trim().to_ascii_uppercase();
        if upper.len() != 2 || upper.parse::<phonenumber::country::Id>().is_err() {
            return Err("is not an ISO 3166-1 alpha-2 region code (e.g. \"DE\")");
        }
        Ok(Self(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A duration in whole minutes within [min, max], from a protobuf Duration.
pub fn minutes_within(
    value: Option<&prost_types::Duration>,
    min_minutes: i64,
    max_minutes: i64,
) -> std::result::Result<Option<i64>, &'static str> {
    let Some(value) = value else { return Ok(None) };
    if value.nanos != 0 || value.seconds % 60 != 0 {
        return Err("must be whole minutes");
    }
    let minutes = value.seconds / 60;
    if minutes < min_minutes || minutes > max_minutes {
        return Err("is out of range");
    }
    Ok(Some(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_come_from_the_iana_database() {
        assert_eq!(TimeZoneName::parse("Europe/Berlin").unwrap().as_str(), "Europe/Berlin");
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
        assert!(TimeZoneName::parse("").is_err());
    }

    #[test]
    fn region_codes_are_normalized_to_upper_case() {
        assert_eq!(RegionCode::parse("de").unwrap().as_str(), "DE");
        assert!(RegionCode::parse("XX").is_err());
        assert!(RegionCode::parse("DEU").is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Salon  ").unwrap().into_inner(), "Salon");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(201)).is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn durations_must_be_whole_minutes_in_range() {
        let d = |seconds| prost_types::Duration { seconds, nanos: 0 };
        assert_eq!(minutes_within(Some(&d(2700)), 5, 1440), Ok(Some(45)));
        assert!(minutes_within(Some(&d(30)), 5, 1440).is_err());
        assert!(minutes_within(Some(&d(60)), 5, 1440).is_err(), "1 minute is below the minimum");
        assert_eq!(minutes_within(Some(&d(300)), 5, 1440), Ok(Some(5)));
        assert!(minutes_within(Some(&d(3 * 86400)), 5, 1440).is_err());
        assert_eq!(minutes_within(None, 5, 1440), Ok(None));
    }

    #[test]
    fn emails_are_loosely_checked() {
        assert_eq!(optional_email(""), Ok(String::new()));
        assert!(optional_email("anna@example.com").is_ok());
        assert!(optional_email("anna").is_err());
        assert!(optional_email("a b@example.com").is_err());
    }
}
