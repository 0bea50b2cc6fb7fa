//! Which names the server answers to, and which pages may send it
//! state-changing requests.
//!
//! - **Host allow-list** (against DNS rebinding): a page on `evil.example`
//!   whose name an attacker points at this server's address sends
//!   `Host: evil.example`; only the public URL's host (`PUBLIC_URL`) and the
//!   loopback names of the listening port are answered. Health checks are
//!   answered whatever the name, for load balancers that use addresses.
//! - **Same-origin check** (against cross-site request forgery): a request
//!   that changes something (any method but GET, HEAD and OPTIONS) is refused
//!   unless its `Origin` (or, when a browser sends none, its `Referer`) is one
//!   of the server's own origins.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The server's own names and origins; cloning shares them.
#[derive(Debug, Clone)]
pub struct SiteOrigin(Arc<Origins>);

#[derive(Debug)]
struct Origins {
    /// `host:port` forms a request's `Host` may take, lowercase.
    hosts: Vec<String>,
    /// `scheme://host[:port]` forms an `Origin` may take, lowercase.
    origins: Vec<String>,
    /// Whether people reach the server over https (cookies are then `Secure`).
    secure: bool,
    /// The address links in logs and mails point at.
    public_url: String,
}

impl SiteOrigin {
    /// The origins of a server listening on `bound`, reached at `public_url`
    /// if given, else through the loopback names of its port.
    pub fn new(public_url: Option<&Uri>, bound: SocketAddr) -> Self {
        let port = bound.port();
        let mut hosts = Vec::new();
        let mut origins = Vec::new();
        let mut add = |scheme: &str, host: &str, port: u16, default_port: u16| {
            let host = host.to_ascii_lowercase();
            hosts.push(format!("{host}:{port}"));
            if port == default_port {
                hosts.push(host.clone());
                origins.push(format!("{scheme}://{host}"));
            } else {
                origins.push(format!("{scheme}://{host}:{port}"));
            }
        };
        for loopback in ["127.0.0.1", "localhost", "[::1]"] {
            add("http", loopback, port, 80);
        }
        match bound.ip() {
            ip if ip.is_unspecified() || ip.is_loopback() => {}
            IpAddr::V4(ip) => add("http", &ip.to_string(), port, 80),
            IpAddr::V6(ip) => add("http", &format!("[{ip}]"), port, 80),
        }
        let (secure, public_url) = match public_url {
            Some(url) => {
                let secure = url.scheme_str() == Some("https");
                let (scheme, default_port) = if secure { ("https", 443) } else { ("http", 80) };
                let host = url.host().unwrap_or_default();
                add(
                    scheme,
                    host,
                    url.port_u16().unwrap_or(default_port),
                    default_port,
                );
                (secure, origins.last().cloned().unwrap_or_default())
            }
            None => (false, format!("http://127.0.0.1:{port}")),
        };
        Self(Arc::new(Origins {
            hosts,
            origins,
            secure,
            public_url,
        }))
    }

    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.0.hosts.contains(&host)
    }

    /// Whether `origin` (an `Origin` header, or a `Referer` URL) is one of ours.
    pub fn allows_origin(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.0.origins.iter().any(|allowed| {
            origin == *allowed
                || origin
                    .strip_prefix(allowed.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    pub fn secure(&self) -> bool {
        self.0.secure
    }

    /// Where people reach the server, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }
}

/// Answers only requests addressed to one of the server's names.
pub async fn check_host(State(site): State<SiteOrigin>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_string()));
    match host {
        Some(host) if site.allows_host(&host) => next.run(request).await,
        _ => refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "this server does not answer to that host name; reach it at the address \
             its administrator set as PUBLIC_URL",
        ),
    }
}

/// Refuses state-changing requests that do not come from the server's own pages.
pub async fn check_same_origin(
    State(site): State<SiteOrigin>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|value| value.to_str().ok());
    match claimed {
        Some(origin) if site.allows_origin(origin) => next.run(request).await,
        _ => refuse(
            StatusCode::FORBIDDEN,
            "this request changes something and did not come from this site's own pages \
             (its Origin is missing or another site's); use the site itself",
        ),
    }
}

fn refuse(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_public_url;

    fn local() -> SiteOrigin {
        SiteOrigin::new(None, "127.0.0.1:3000".parse().unwrap())
    }

    #[test]
    fn a_local_server_answers_to_its_loopback_names_only() {
        let site = local();
        assert!(site.allows_host("127.0.0.1:3000"));
        assert!(site.allows_host("LOCALHOST:3000"));
        assert!(site.allows_host("[::1]:3000"));
        assert!(!site.allows_host("127.0.0.1:3001"));
        assert!(!site.allows_host("evil.example:3000"));
        assert!(!site.allows_host("evil.example"));
        assert!(!site.secure());
        assert_eq!(site.public_url(), "http://127.0.0.1:3000");
    }

    #[test]
    fn the_public_url_adds_its_host_with_and_without_the_default_port() {
        let url = parse_public_url("https://Music.Example.org/").unwrap();
        let site = SiteOrigin::new(Some(&url), "0.0.0.0:3000".parse().unwrap());
        assert!(site.allows_host("music.example.org"));
        assert!(site.allows_host("music.example.org:443"));
        assert!(!site.allows_host("music.example.org.evil.example"));
        assert!(site.allows_origin("https://music.example.org"));
        assert!(site.allows_origin("https://music.example.org/settings"));
        assert!(!site.allows_origin("http://music.example.org"));
        assert!(!site.allows_origin("https://music.example.org.evil.example"));
        assert!(!site.allows_origin("https://music.example.orgx/"));
        assert!(site.secure());
        assert_eq!(site.public_url(), "https://music.example.org");
    }
}
