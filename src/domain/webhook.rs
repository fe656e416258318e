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
/// server allows it), at most 2048 characters, and no IP literal that may not
/// be called (see `refused_destination`). The host is read the way the HTTP
/// client reads it (the WHATWG URL rules of the `url` crate), so the forms it
/// turns into an IPv4 address (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`)
/// are judged as that address here, not first at delivery. A host *name* that
/// resolves to a refused address cannot be judged without resolving it, and
/// DNS may change after the check; the delivery worker refuses it when it
/// connects.
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
        let url = url::Url::parse(text).map_err(|_| "is not a valid absolute URL")?;
        let address = match url.host() {
            None => return Err("has no host"),
            Some(url::Host::Domain("")) => return Err("has no host"),
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(_)) => None,
        };
        let loopback = match address {
            Some(ip) => unmapped(ip).is_loopback(),
            None => url.host_str().is_some_and(is_localhost_name),
        };
        match url.scheme() {
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

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is its IPv4 address: the
/// operating system connects to that IPv4 address.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
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
/// counts as its IPv4 address; the IPv6 forms that carry an IPv4 address to
/// a translator (NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, the deprecated
/// IPv4-compatible `::a.b.c.d`) are refused when that address would be, with
/// no loopback exception (a translator's loopback is not ours).
pub fn refused_destination(ip: IpAddr, allow_loopback: bool) -> Option<Refused> {
    let ip = unmapped(ip);
    if ip.is_loopback() {
        return (!allow_loopback).then_some(Refused::Loopback);
    }
    match ip {
        IpAddr::V4(v4) => refused_ipv4(v4),
        IpAddr::V6(v6) => refused_ipv6(v6),
    }
}

fn refused_ipv4(v4: Ipv4Addr) -> Option<Refused> {
    let [a, b, ..] = v4.octets();
    if v4.is_loopback() {
        Some(Refused::Loopback)
    } else if v4.is_private() || (a == 100 && (64..128).contains(&b)) {
        Some(Refused::Private)
    } else if v4.is_link_local() {
        Some(Refused::LinkLocal)
    } else if v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0 && v4.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b))
    {
        Some(Refused::Reserved)
    } else {
        None
    }
}

fn refused_ipv6(v6: Ipv6Addr) -> Option<Refused> {
    let s = v6.segments();
    let embedded = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    if v6.is_unspecified() || v6.is_multicast() {
        Some(Refused::Reserved)
    } else if (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfec0 {
        // Unique local fc00::/7 and the deprecated site-local fec0::/10.
        Some(Refused::Private)
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Some(Refused::LinkLocal)
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // Well-known NAT64 prefix: the translator connects to the IPv4 address.
        refused_ipv4(embedded(s[6], s[7]))
    } else if s[..3] == [0x64, 0xff9b, 1] {
        // Local-use NAT64 (RFC 8215): translates into the operator's own network.
        Some(Refused::Private)
    } else if s[0] == 0x2002 {
        // 6to4: the relay forwards to the IPv4 address in bits 16..48.
        refused_ipv4(embedded(s[1], s[2]))
    } else if s[..6] == [0; 6] {
        // IPv4-compatible (::a.b.c.d, deprecated): never a public destination.
        Some(refused_ipv4(embedded(s[6], s[7])).unwrap_or(Refused::Reserved))
    } else if s[..2] == [0x2001, 0] || s[..2] == [0x2001, 0xdb8] || s[..4] == [0x100, 0, 0, 0] {
        // Teredo (hides an IPv4 client), documentation, discard-only.
        Some(Refused::Reserved)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_to_public_hosts_pass() {
        for url in [
            "https://example.com/hooks",
            "https://8.8.8.8:8443/x?y=1",
            "https://[2606:4700:4700::1111]/a",
            "https://[64:ff9b::808:808]/nat64-to-public",
            "https://[2002:808:808::1]/6to4-to-public",
        ] {
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
            // Other spellings of internal IPv4 addresses, read as the HTTP client reads them.
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0x7f.1/",
            "https://0177.0.0.1/",
            "https://127.1/",
            "https://167772161/",
            "https://0xa9.0xfe.0xa9.0xfe/latest/meta-data",
            "https://3232235777/",
            // IPv6 forms that reach private IPv4 through a translator, and old private ranges.
            "https://[64:ff9b::a00:1]/",
            "https://[64:ff9b::169.254.169.254]/",
            "https://[64:ff9b:1::808:808]/",
            "https://[2002:a00:1::]/",
            "https://[2002:c0a8:101::1]/",
            "https://[::10.0.0.1]/",
            "https://[::127.0.0.1]/",
            "https://[::8.8.8.8]/",
            "https://[fec0::1]/",
            "https://[2001:0:4136:e378::1]/",
            "https://[2001:db8::1]/",
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
