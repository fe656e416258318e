//! The vocabulary of webhooks: event types, the states of subscriptions,
//! deliveries and inbox entries, inbound providers, and the validation of a
//! subscription URL and a provider secret. Pure: no I/O, no name resolution.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// The longest subscription URL accepted.
pub const MAX_URL_CHARS: usize = 2048;
/// The longest provider secret accepted.
pub const MAX_PROVIDER_SECRET_CHARS: usize = 256;
/// How long a rotated-out subscription secret keeps signing.
pub const PREVIOUS_SECRET_VALIDITY: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// An outbound event type. `WebhookTest` is sent only by SendTestEvent and
/// cannot be subscribed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    AppointmentCreated,
    AppointmentUpdated,
    AppointmentCancelled,
    AppointmentRescheduled,
    CustomerCreated,
    CustomerUpdated,
    CallStarted,
    CallEnded,
    CallAnalyzed,
    WebhookTest,
}

impl EventType {
    /// The types a subscription may name, in the contract's order.
    pub const SUBSCRIBABLE: [EventType; 9] = [
        EventType::AppointmentCreated,
        EventType::AppointmentUpdated,
        EventType::AppointmentCancelled,
        EventType::AppointmentRescheduled,
        EventType::CustomerCreated,
        EventType::CustomerUpdated,
        EventType::CallStarted,
        EventType::CallEnded,
        EventType::CallAnalyzed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::AppointmentCreated => "appointment.created",
            EventType::AppointmentUpdated => "appointment.updated",
            EventType::AppointmentCancelled => "appointment.cancelled",
            EventType::AppointmentRescheduled => "appointment.rescheduled",
            EventType::CustomerCreated => "customer.created",
            EventType::CustomerUpdated => "customer.updated",
            EventType::CallStarted => "call.started",
            EventType::CallEnded => "call.ended",
            EventType::CallAnalyzed => "call.analyzed",
            EventType::WebhookTest => "webhook.test",
        }
    }

    /// A type a subscription may name.
    pub fn parse_subscribable(text: &str) -> Result<Self, &'static str> {
        if text == EventType::WebhookTest.as_str() {
            return Err("webhook.test is sent only by SendTestEvent and cannot be subscribed to");
        }
        Self::SUBSCRIBABLE.into_iter().find(|t| t.as_str() == text).ok_or(
            "is not an event type; known: appointment.created, appointment.updated, appointment.cancelled, \
             appointment.rescheduled, customer.created, customer.updated, call.started, call.ended, call.analyzed",
        )
    }
}

/// Whether a subscription receives events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionState {
    Active,
    Disabled,
}

impl SubscriptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Active => "active",
            SubscriptionState::Disabled => "disabled",
        }
    }

    pub fn from_stored(text: &str) -> Self {
        if text == "active" { SubscriptionState::Active } else { SubscriptionState::Disabled }
    }
}

/// The state of one delivery attempt (a `delivery_attempts` row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptStatus {
    /// Scheduled at its attempt time, or in flight.
    Pending,
    Succeeded,
    /// Failed; another attempt is scheduled.
    Failed,
    /// Failed (or dropped) with no further attempt.
    DeadLettered,
}

impl AttemptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Pending => "pending",
            AttemptStatus::Succeeded => "succeeded",
            AttemptStatus::Failed => "failed",
            AttemptStatus::DeadLettered => "dead_lettered",
        }
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        [AttemptStatus::Pending, AttemptStatus::Succeeded, AttemptStatus::Failed, AttemptStatus::DeadLettered]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The state of one event's delivery to one subscription (a `deliveries` row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// An attempt is due at next_attempt_time (or in flight).
    Pending,
    Succeeded,
    DeadLettered,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Succeeded => "succeeded",
            DeliveryState::DeadLettered => "dead_lettered",
        }
    }
}

/// A provider that posts events to an inbound endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboundProvider {
    Calcom,
    Retell,
    StandardWebhooks,
}

impl InboundProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            InboundProvider::Calcom => "calcom",
            InboundProvider::Retell => "retell",
            InboundProvider::StandardWebhooks => "standard_webhooks",
        }
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        [InboundProvider::Calcom, InboundProvider::Retell, InboundProvider::StandardWebhooks]
            .into_iter()
            .find(|p| p.as_str() == text)
    }

    /// Checks a provider's signing secret: 1 to 256 printable characters
    /// without spaces, and for Standard Webhooks "whsec_" followed by
    /// non-empty base64. The error never repeats the secret.
    pub fn check_secret(self, secret: &str) -> Result<(), &'static str> {
        if secret.is_empty() {
            return Err("is required");
        }
        if secret.chars().count() > MAX_PROVIDER_SECRET_CHARS {
            return Err("must be at most 256 characters");
        }
        if secret.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("must not contain spaces or control characters");
        }
        if self == InboundProvider::StandardWebhooks {
            const LENIENT: GeneralPurpose = GeneralPurpose::new(
                &alphabet::STANDARD,
                GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
            );
            let key = secret.strip_prefix("whsec_").map(|encoded| LENIENT.decode(encoded));
            if !matches!(key, Some(Ok(bytes)) if !bytes.is_empty()) {
                return Err("must be a Standard Webhooks secret: \"whsec_\" followed by base64");
            }
        }
        Ok(())
    }
}

/// What became of a received provider event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboundEventStatus {
    Processed,
    Rejected,
    Ignored,
}

impl InboundEventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InboundEventStatus::Processed => "processed",
            InboundEventStatus::Rejected => "rejected",
            InboundEventStatus::Ignored => "ignored",
        }
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        [InboundEventStatus::Processed, InboundEventStatus::Rejected, InboundEventStatus::Ignored]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A URL events may be POSTed to.
///
/// Checked here: https (http only for a loopback host, and only when the
/// server allows it), at most 2048 characters, and no IP literal that is
/// private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), link-local
/// (169.254/16, fe80::/10), loopback (127/8, ::1, also the name "localhost";
/// allowed with `allow_loopback`) or unspecified. A host *name* that resolves
/// to such an address cannot be judged without resolving it, and DNS may
/// change after the check; the delivery worker refuses it when it connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionUrl(String);

impl SubscriptionUrl {
    pub fn parse(text: &str, allow_loopback: bool) -> Result<Self, &'static str> {
        if text.is_empty() {
            return Err("is required");
        }
        if text.chars().count() > MAX_URL_CHARS {
            return Err("must be at most 2048 characters");
        }
        let uri: http::Uri = text.parse().map_err(|_| "is not a valid absolute URL")?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err("is not a valid absolute URL");
        };
        let host = authority.host();
        if host.is_empty() {
            return Err("has no host");
        }
        let address = host_address(host);
        let loopback = match address {
            Some(ip) => ip.is_loopback(),
            None => is_localhost_name(host),
        };
        match scheme.to_ascii_lowercase().as_str() {
            "https" => {}
            "http" if loopback && allow_loopback => {}
            "http" if loopback => {
                return Err("must use https (http is allowed only for loopback hosts when the server permits it)");
            }
            _ => return Err("must use https"),
        }
        if loopback && !allow_loopback {
            return Err("must not point at a loopback address");
        }
        // Loopback was decided above.
        if let Some(refused) = address.and_then(|ip| refused_destination(ip, true)) {
            return Err(match refused {
                Refused::Private => "must not point at a private address",
                Refused::LinkLocal => "must not point at a link-local address",
                Refused::Loopback | Refused::Reserved => "must point at a public unicast address",
            });
        }
        Ok(Self(text.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The IP address of a URL host that is an IP literal (IPv6 in brackets);
/// an IPv4-mapped IPv6 address counts as its IPv4 address.
fn host_address(host: &str) -> Option<IpAddr> {
    let ip: IpAddr = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => IpAddr::V6(v6.parse::<Ipv6Addr>().ok()?),
        None => IpAddr::V4(host.parse::<Ipv4Addr>().ok()?),
    };
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    })
}

fn is_localhost_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Why events may not go to an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// 127.0.0.0/8, ::1 (allowed only when the configuration says so).
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, carrier-grade NAT 100.64/10, fc00::/7.
    Private,
    /// 169.254/16 (cloud metadata lives here), fe80::/10.
    LinkLocal,
    /// Unspecified, broadcast, multicast, documentation and reserved ranges.
    Reserved,
}

impl Refused {
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Loopback => "a loopback address",
            Refused::Private => "a private address",
            Refused::LinkLocal => "a link-local address",
            Refused::Reserved => "a reserved or non-unicast address",
        }
    }
}

/// Whether (and why not) webhook events may go to `ip`: public unicast only,
/// loopback when allowed. Checked on URL literals at subscription time and on
/// every resolved address at delivery time. An IPv4-mapped IPv6 address
/// counts as its IPv4 address.
pub fn refused_destination(ip: IpAddr, allow_loopback: bool) -> Option<Refused> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    if ip.is_loopback() {
        return (!allow_loopback).then_some(Refused::Loopback);
    }
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_private() || (a == 100 && (64..128).contains(&b)) {
                Some(Refused::Private)
            } else if v4.is_link_local() {
                Some(Refused::LinkLocal)
            } else if v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
            {
                Some(Refused::Reserved)
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if (first & 0xfe00) == 0xfc00 {
                Some(Refused::Private)
            } else if (first & 0xffc0) == 0xfe80 {
                Some(Refused::LinkLocal)
            } else if v6.is_unspecified() || v6.is_multicast() {
                Some(Refused::Reserved)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_to_public_hosts_pass() {
        for url in ["https://example.com/hooks", "https://8.8.8.8:8443/x?y=1", "https://[2001:db8::1]/a"] {
            assert!(SubscriptionUrl::parse(url, false).is_ok(), "{url}");
        }
    }

    #[test]
    fn http_and_internal_addresses_are_refused() {
        let refused = [
            "http://example.com/",
            "ftp://example.com/",
            "example.com/path",
            "https://10.1.2.3/",
            "https://172.20.0.1/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://localhost/",
            "https://0.0.0.0/",
        ];
        for url in refused {
            assert!(SubscriptionUrl::parse(url, false).is_err(), "{url}");
        }
        assert!(SubscriptionUrl::parse(&format!("https://example.com/{}", "a".repeat(2048)), false).is_err());
    }

    #[test]
    fn loopback_http_needs_the_setting() {
        for url in ["http://127.0.0.1:8080/hook", "http://localhost:9000/", "http://[::1]/", "https://127.0.0.2/"] {
            assert!(SubscriptionUrl::parse(url, false).is_err(), "{url}");
            assert!(SubscriptionUrl::parse(url, true).is_ok(), "{url}");
        }
        // The setting opens loopback only, not private networks or plain http elsewhere.
        assert!(SubscriptionUrl::parse("http://10.0.0.1/", true).is_err());
        assert!(SubscriptionUrl::parse("http://example.com/", true).is_err());
    }

    #[test]
    fn event_types_are_the_contract_list() {
        assert_eq!(EventType::parse_subscribable("call.ended"), Ok(EventType::CallEnded));
        assert!(EventType::parse_subscribable("webhook.test").is_err());
        assert!(EventType::parse_subscribable("appointment.deleted").is_err());
    }

    #[test]
    fn provider_secrets() {
        assert!(InboundProvider::Calcom.check_secret("s3cret").is_ok());
        assert!(InboundProvider::Calcom.check_secret("").is_err());
        assert!(InboundProvider::Retell.check_secret(&"k".repeat(257)).is_err());
        assert!(InboundProvider::StandardWebhooks.check_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        assert!(InboundProvider::StandardWebhooks.check_secret("plain").is_err());
        assert!(InboundProvider::StandardWebhooks.check_secret("whsec_").is_err());
    }
}
