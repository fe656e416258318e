//! Log set-up: JSON lines or human-readable text on stderr, filtered by
//! `log_filter`. Stdout stays free for command output (`seed demo --json`).
//!
//! Every line passes `redact` before it is written: the code never logs a
//! secret on purpose, and this is the net under that rule for what a
//! library, an error text or a future log statement might echo.
use std::io::{self, IsTerminal, Write};
use std::sync::LazyLock;

use regex::{Captures, Regex};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Installs the log subscriber. Lines are formatted on the calling thread
/// and written (redacted) by a background thread, so a call never waits for
/// stderr; keep the returned guard alive until exit, dropping it flushes.
/// When the buffer (128k lines) is full, new lines are dropped rather than
/// stalling calls.
pub fn init(config: &Config) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match config.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let (writer, guard) = tracing_appender::non_blocking(RedactingWriter);
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(!json);
    // A second init (tests that start several servers) keeps the first.
    let installed = if json {
        // The call span's fields (method, request_id) ride on every line of
        // the call; the span list would repeat them.
        builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init()
    } else {
        builder.try_init()
    };
    if installed.is_err() {
        return None;
    }
    log_panics();
    Some(guard)
}

/// Panics go through the log like everything else: one JSON line, redacted,
/// instead of the default hook's free text on stderr.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(panic = %message, location, "panic");
    }));
}

/// stderr, with every written line redacted.
struct RedactingWriter;

impl Write for RedactingWriter {
    // tracing-subscriber formats an event completely and the non-blocking
    // writer hands it over whole: each call here is one whole line.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        io::stderr().lock().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// What never reaches a log: API key secrets (the id part stays, it is
/// public and useful), bearer tokens, webhook secrets and signatures, Retell
/// API keys (`key_...`) and Cal.com API keys (`cal_live_...`); and personal
/// data, which appears masked: phone numbers in E.164 (+49151*****89) and in
/// national or spaced forms (0151 *******9), e-mail addresses
/// (a***@e***.de). UUIDs and decimal numbers pass untouched (matched first,
/// so an all-digit UUID group or a fraction is never taken for a phone
/// number). A secret with no recognisable
/// form (a tenant-chosen Cal.com webhook secret) is only kept out by the
/// code, which never logs secrets.
static SECRETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)",
        r"|(?P<decimal>\b\d+\.\d+)",
        r"|(?P<key>ak_[0-9a-f]{32}_)[0-9a-f]{48}",
        r"|(?P<bearer>(?i:bearer)\s+)[^\s,;\x22\\]+",
        r"|(?P<whsec>whsec_)[A-Za-z0-9+/=_-]+",
        r"|(?P<v1>v1,)[A-Za-z0-9+/]{20,}={0,2}",
        r"|(?P<retell>v=\d+,d=)[0-9a-fA-F]{16,}",
        r"|(?P<retell_key>\bkey_)[A-Za-z0-9]{12,}",
        r"|(?P<calcom_key>\bcal_(?:live_|test_)?)[A-Za-z0-9]{12,}",
        r"|(?P<email>\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b",
        r"|(?P<phone>\+[1-9][0-9]{7,14})\b",
        r"|(?P<spaced_phone>(?:\+|\(0|\b0)[1-9]?\d(?:[ ()/.-]{0,2}\d){6,14})\b",
    ))
    .expect("the redaction pattern compiles")
});

pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    // A line whose only matches are kept (UUIDs, decimals) is not copied.
    let is_kept = |caps: &Captures| caps.name("uuid").is_some() || caps.name("decimal").is_some();
    if SECRETS.captures_iter(text).all(|caps| is_kept(&caps)) {
        return std::borrow::Cow::Borrowed(text);
    }
    SECRETS.replace_all(text, |caps: &Captures| {
        if let Some(kept) = caps.name("uuid").or_else(|| caps.name("decimal")) {
            return kept.as_str().to_owned();
        }
        for kept in ["key", "bearer", "whsec", "v1", "retell", "retell_key", "calcom_key"] {
            if let Some(prefix) = caps.name(kept) {
                return format!("{}[redacted]", prefix.as_str());
            }
        }
        if let Some(email) = caps.name("email") {
            return mask_email(email.as_str());
        }
        if let Some(phone) = caps.name("phone") {
            return crate::domain::phone::mask(phone.as_str());
        }
        match caps.name("spaced_phone") {
            Some(phone) => mask_digits(phone.as_str()),
            None => "[redacted]".to_owned(),
        }
    })
}

/// The first character of the mailbox and of the domain, and the top-level
/// domain: enough to tell two addresses apart in an incident, not to mail
/// anyone.
fn mask_email(address: &str) -> String {
    let (local, domain) = address.split_once('@').unwrap_or((address, ""));
    let first = |text: &str| text.chars().next().map(String::from).unwrap_or_default();
    let top_level = domain.rsplit_once('.').map(|(_, tld)| tld).unwrap_or("");
    format!("{}***@{}***.{top_level}", first(local), first(domain))
}

/// A phone number in any spelling: its first four and last digit stay,
/// every other digit becomes `*`, separators stay.
fn mask_digits(number: &str) -> String {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    number
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen <= 4 || seen == digits { c } else { '*' }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_secrets_are_cut_and_ids_kept() {
        let key = format!("ak_{}_{}", "0123456789abcdef".repeat(2), "a1b2c3".repeat(8));
        let line = format!("{{\"message\":\"presented {key}\"}}");
        let out = redact(&line);
        assert!(!out.contains("a1b2c3a1b2c3"), "{out}");
        assert!(out.contains("ak_0123456789abcdef0123456789abcdef_[redacted]"), "{out}");
    }

    #[test]
    fn bearer_tokens_webhook_secrets_and_signatures_are_cut() {
        let line = "authorization: Bearer abc.def-ghi, secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
                    webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= \
                    x-retell-signature: v=1700000000000,d=9f86d081884c7d659a2feaa0c55ad015";
        let out = redact(line);
        for secret in ["abc.def-ghi", "MfKQ9r8GKYqr", "K5oZfzN95Z9U", "9f86d081884c7d65"] {
            assert!(!out.contains(secret), "{secret} survived: {out}");
        }
        assert!(out.contains("Bearer [redacted]") && out.contains("whsec_[redacted]"), "{out}");
    }

    #[test]
    fn phone_numbers_are_masked() {
        let out = redact("caller +491512345689 called +14155550123");
        assert_eq!(out, "caller +49151*****89 called +14155****23");
    }

    #[test]
    fn provider_keys_are_cut() {
        let out = redact("retell key_6ea3c1f0b2a94d8e9f3a1b2c cal.com cal_live_0123456789abcdef0123456789abcdef");
        assert_eq!(out, "retell key_[redacted] cal.com cal_live_[redacted]");
    }

    #[test]
    fn email_addresses_are_masked() {
        let out = redact(r#"{"email":"hans.mueller@salon-mueller.de","to":"x+y@a.io"}"#);
        assert_eq!(out, r#"{"email":"h***@s***.de","to":"x***@a***.io"}"#);
    }

    #[test]
    fn phone_numbers_in_other_spellings_are_masked() {
        for (number, masked) in [
            ("0151 23456789", "0151 *******9"),
            ("0151-234 567 89", "0151-*** *** *9"),
            ("(030) 1234567", "(030) 1*****7"),
            ("+49 151 23456789", "+49 15* *******9"),
            ("004915123456789", "0049**********9"),
        ] {
            assert_eq!(redact(&format!("caller {number} called")), format!("caller {masked} called"), "{number}");
        }
    }

    #[test]
    fn uuids_times_and_numbers_are_not_phone_numbers() {
        for line in [
            r#"{"tenant":"01938475-1234-7123-8123-123456789012","request_id":"019af2c1-0000-7000-8000-000000000001"}"#,
            r#"{"timestamp":"2026-12-07T20:09:15.123456Z","latency_ms":12.5,"count":1234567}"#,
            r#"{"elapsed_s":0.001234567,"address":"127.0.0.1:50051"}"#,
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let line = r#"{"method":"/askpro.appointment.v1.AppointmentService/CreateAppointment","latency_ms":1.5}"#;
        assert!(matches!(redact(line), std::borrow::Cow::Borrowed(_)));
    }
}
