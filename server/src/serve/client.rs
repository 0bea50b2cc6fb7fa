//! Where a request comes from, for throttling: the connection's peer, or,
//! behind the reverse proxy named by `TRUSTED_PROXY`, the client address
//! that proxy appended last to `X-Forwarded-For`. Entries before it were
//! written by the client itself and prove nothing, so they are never read.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The proxy whose `X-Forwarded-For` is believed; `None` believes nobody's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrustedProxy(pub Option<IpAddr>);

impl TrustedProxy {
    /// The client's address as far as it can be known; `None` when the
    /// connection's peer is unknown (requests made in process).
    pub fn client_of(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.ip();
        if self.0 != Some(peer) {
            return Some(peer);
        }
        // What the proxy appended is the last entry of the last header line;
        // when it is missing or garbled, the proxy itself is throttled.
        let appended = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|entry| entry.trim().parse::<IpAddr>().ok());
        Some(appended.unwrap_or(peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", line.parse().unwrap());
        }
        headers
    }

    fn peer(address: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(address.parse().unwrap(), 40000))
    }

    #[test]
    fn without_a_trusted_proxy_the_peer_is_the_client_whatever_the_headers_say() {
        let forged = headers(&["203.0.113.9"]);
        let client = TrustedProxy(None).client_of(peer("198.51.100.4"), &forged);
        assert_eq!(client, "198.51.100.4".parse().ok());
    }

    #[test]
    fn behind_the_proxy_the_address_it_appended_is_the_client() {
        let proxy = TrustedProxy("127.0.0.1".parse().ok());
        // The client wrote the first entry itself; the proxy appended the last.
        let forwarded = headers(&["10.9.9.9, 203.0.113.9"]);
        assert_eq!(
            proxy.client_of(peer("127.0.0.1"), &forwarded),
            "203.0.113.9".parse().ok()
        );
        let two_lines = headers(&["10.9.9.9", "2001:db8::7"]);
        assert_eq!(
            proxy.client_of(peer("127.0.0.1"), &two_lines),
            "2001:db8::7".parse().ok()
        );
    }

    #[test]
    fn another_peer_cannot_borrow_the_proxys_trust() {
        let proxy = TrustedProxy("127.0.0.1".parse().ok());
        let forged = headers(&["203.0.113.9"]);
        assert_eq!(
            proxy.client_of(peer("198.51.100.4"), &forged),
            "198.51.100.4".parse().ok()
        );
    }

    #[test]
    fn a_garbled_or_missing_header_throttles_the_proxy_itself() {
        let proxy = TrustedProxy("127.0.0.1".parse().ok());
        for forwarded in [headers(&[]), headers(&["not an address"])] {
            assert_eq!(
                proxy.client_of(peer("127.0.0.1"), &forwarded),
                "127.0.0.1".parse().ok()
            );
        }
        assert_eq!(proxy.client_of(None, &headers(&["203.0.113.9"])), None);
    }
}
