//! One outbound webhook POST: Standard Webhooks headers, the correlation id,
//! a 15 s timeout, no redirects, and no destination on a private network.
//!
//! The destination check runs on the addresses a name resolves to, in the
//! resolver reqwest uses for the connection itself, so a name that resolves
//! to 10.0.0.1 (or is changed to, between a check and the connect) is refused
//! just like the literal. Loopback is allowed only when the configuration
//! says so (tests, development).
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::sign::{SigningKey, signature_header};
use crate::domain::webhook::refused_destination;

/// The longest one attempt may take, connect to last byte.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// What a receiver's answer means for the delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Any 2xx.
    Delivered { status: u16 },
    /// 410 Gone: the receiver wants no more events; the subscription is disabled.
    Gone,
    /// Anything else: another status (a redirect too), a timeout, a refused
    /// or unreachable destination. `error` is safe to store and show: it
    /// never contains the URL (which may carry credentials).
    Failed { status: Option<u16>, error: String },
}

/// One POST to make.
pub struct Outgoing<'a> {
    pub url: &'a str,
    /// The event id: the webhook-id header, the same on every attempt.
    pub event_id: &'a str,
    pub body: &'a [u8],
    /// The current secret, and the previous one while a rotation is fresh.
    pub keys: &'a [SigningKey],
    /// The correlation id of the request that caused the event.
    pub request_id: Option<&'a str>,
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_loopback: bool,
}

impl Sender {
    pub fn new(allow_loopback: bool) -> Self {
        Self::with_timeout(allow_loopback, ATTEMPT_TIMEOUT)
    }

    /// A sender with another per-attempt timeout (tests).
    pub fn with_timeout(allow_loopback: bool, timeout: Duration) -> Self {
        let client = crate::http_client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("AskPro-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PublicOnly { allow_loopback }))
            .build()
            .expect("the HTTP client's fixed configuration is valid");
        Self { client, allow_loopback }
    }

    /// POSTs once and classifies the answer, with the attempt's latency.
    pub async fn post(&self, outgoing: &Outgoing<'_>) -> (Outcome, Duration) {
        let started = Instant::now();
        let outcome = self.try_post(outgoing).await;
        (outcome, started.elapsed())
    }

    async fn try_post(&self, outgoing: &Outgoing<'_>) -> Outcome {
        let failed = |error: String| Outcome::Failed { status: None, error };
        let url = match reqwest::Url::parse(outgoing.url) {
            Ok(url) => url,
            Err(_) => return failed("the subscription URL does not parse".into()),
        };
        if let Some(why) = refused_literal(&url, self.allow_loopback) {
            return failed(why);
        }
        let timestamp = chrono::Utc::now().timestamp();
        let signature = signature_header(outgoing.keys, outgoing.event_id, timestamp, outgoing.body);
        let mut request = self
            .client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", outgoing.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(outgoing.body.to_vec());
        if let Some(id) = outgoing.request_id {
            request = request.header(crate::correlation::HEADER, id);
        }
        match request.send().await {
            Ok(response) => classify(response.status().as_u16()),
            Err(err) => failed(describe(&err)),
        }
    }
}

fn classify(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered { status },
        410 => Outcome::Gone,
        300..=399 => Outcome::Failed { status: Some(status), error: "redirects are not followed".into() },
        _ => Outcome::Failed { status: Some(status), error: format!("the receiver answered {status}") },
    }
}

/// reqwest's error text without the URL, with the cause that says what
/// happened (timeout, refused, refused destination).
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".into();
    }
    let mut text = if err.is_connect() { "could not connect".to_owned() } else { "request failed".to_owned() };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if cause_text.starts_with(REFUSED_PREFIX) {
            return cause_text;
        }
        source = cause.source();
        if source.is_none() {
            text = format!("{text}: {cause_text}");
        }
    }
    text
}

const REFUSED_PREFIX: &str = "destination refused";

fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// Whether events may go to `ip` (see `domain::webhook::refused_destination`).
pub fn allowed(ip: IpAddr, allow_loopback: bool) -> Result<(), String> {
    match refused_destination(ip, allow_loopback) {
        None => Ok(()),
        Some(refused) => Err(format!("{REFUSED_PREFIX}: {}", refused.as_str())),
    }
}

/// The resolver reqwest connects through: the system's, minus every address
/// events may not go to. The Cal.com client uses it too (a tenant chooses
/// its base URL).
pub(crate) struct PublicOnly {
    allow_loopback: bool,
}

impl PublicOnly {
    pub(crate) fn new(allow_loopback: bool) -> Self {
        Self { allow_loopback }
    }
}

/// A literal address never reaches the resolver: the refusal for one that
/// may not be called.
pub(crate) fn refused_literal(url: &reqwest::Url, allow_loopback: bool) -> Option<String> {
    literal_ip(url).and_then(|ip| allowed(ip, allow_loopback).err())
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> =
                resolved.iter().copied().filter(|a| allowed(a.ip(), allow_loopback).is_ok()).collect();
            if usable.is_empty() {
                let why = match resolved.first() {
                    Some(address) => allowed(address.ip(), allow_loopback).err().unwrap_or_default(),
                    None => format!("{REFUSED_PREFIX}: the name has no address"),
                };
                return Err(why.into());
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses_pass_and_private_ones_do_not() {
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(allowed(public.parse().unwrap(), false).is_ok(), "{public}");
        }
        for private in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "fc00::1",
            "fe80::1",
            "::",
            "::ffff:10.0.0.1",
            // Translated and tunnelled forms of private IPv4, old site-local IPv6.
            "64:ff9b::a00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:a00:1::1",
            "2002:a9fe:a9fe::1",
            "::10.0.0.1",
            "::8.8.8.8",
            "fec0::1",
            "2001:0:4136:e378::1",
            "64:ff9b::7f00:1",
        ] {
            assert!(allowed(private.parse().unwrap(), true).is_err(), "{private}");
        }
    }

    #[test]
    fn loopback_only_when_allowed() {
        for loopback in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(allowed(loopback.parse().unwrap(), false).is_err(), "{loopback}");
            assert!(allowed(loopback.parse().unwrap(), true).is_ok(), "{loopback}");
        }
    }

    #[test]
    fn answers_are_classified_as_the_contract_says() {
        assert_eq!(classify(200), Outcome::Delivered { status: 200 });
        assert_eq!(classify(204), Outcome::Delivered { status: 204 });
        assert_eq!(classify(410), Outcome::Gone);
        assert!(matches!(classify(301), Outcome::Failed { status: Some(301), .. }));
        assert!(matches!(classify(500), Outcome::Failed { status: Some(500), .. }));
        assert!(matches!(classify(404), Outcome::Failed { status: Some(404), .. }));
    }
}
