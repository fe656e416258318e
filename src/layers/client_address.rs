//! The address a request comes from: the TCP peer, or, when the peer is a
//! trusted proxy (`trusted_proxies`), the nearest address in
//! `X-Forwarded-For` that is not one. Without trusted proxies the header is
//! ignored: anyone can write it, and believing it would let a caller pick
//! the address its failures are counted against.
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::{HeaderMap, Request, Response};
use ipnet::IpNet;
use tower::Service;

use super::around::Around;

/// The client address of a request, put into its extensions by
/// `ResolveClientAddress` (absent when the connection has no TCP peer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The layer that resolves it.
#[derive(Clone, Default)]
pub struct ResolveClientAddress {
    trusted: Arc<Vec<IpNet>>,
}

impl ResolveClientAddress {
    /// `trusted`: CIDRs (or single addresses) of the proxies in front of
    /// the server.
    pub fn new(trusted: &[String]) -> Result<Self, String> {
        let trusted = trusted
            .iter()
            .map(|text| {
                let text = text.trim();
                text.parse::<IpNet>()
                    .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("trusted_proxies: {text:?} is not an IP address or CIDR"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { trusted: Arc::new(trusted) })
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: the peer itself unless it is a trusted
    /// proxy; then the right-most `X-Forwarded-For` entry that is not
    /// trusted (entries to its left were written by the client and prove
    /// nothing). An unreadable entry stops the walk at the last trusted hop.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        let mut client = peer;
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop.trim()) else { return client };
            client = ip;
            if !self.is_trusted(ip) {
                return ip;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: an address, maybe with a port.
fn parse_hop(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().or_else(|| text.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

impl Around for ResolveClientAddress {
    async fn around<S, B, RB>(&self, mut request: Request<B>, mut inner: S) -> Result<Response<RB>, S::Error>
    where
        S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
        S::Future: Send,
        S::Error: Send,
        B: Send + 'static,
        RB: Default + Send + 'static,
    {
        let peer = request
            .extensions()
            .get::<tonic::transport::server::TcpConnectInfo>()
            .and_then(|info| info.remote_addr())
            .map(|address| address.ip());
        if let Some(peer) = peer {
            let client = self.resolve(peer, request.headers());
            request.extensions_mut().insert(ClientAddress(client));
        }
        inner.call(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let resolve = ResolveClientAddress::new(&[]).unwrap();
        assert_eq!(resolve.resolve(ip("203.0.113.9"), &forwarded(&["198.51.100.1"])), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let resolve = ResolveClientAddress::new(&["10.0.0.0/8".into(), "192.0.2.7".into()]).unwrap();
        // The client wrote a fake first entry; the proxies appended the real one.
        let headers = forwarded(&["1.1.1.1, 198.51.100.20", "10.1.2.3"]);
        assert_eq!(resolve.resolve(ip("192.0.2.7"), &headers), ip("198.51.100.20"));
        assert_eq!(resolve.resolve(ip("10.9.9.9"), &forwarded(&["198.51.100.20:4711"])), ip("198.51.100.20"));
        // An untrusted peer is the client, whatever it claims.
        assert_eq!(resolve.resolve(ip("203.0.113.9"), &headers), ip("203.0.113.9"));
        // Only trusted hops: the left-most of them.
        assert_eq!(resolve.resolve(ip("10.0.0.1"), &forwarded(&["10.0.0.2"])), ip("10.0.0.2"));
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(resolve.resolve(ip("10.0.0.1"), &forwarded(&["nonsense"])), ip("10.0.0.1"));
    }

    #[test]
    fn bad_proxy_entries_are_refused_at_start() {
        assert!(ResolveClientAddress::new(&["10.0.0.0/33".into()]).is_err());
        assert!(ResolveClientAddress::new(&["proxy.local".into()]).is_err());
    }
}
