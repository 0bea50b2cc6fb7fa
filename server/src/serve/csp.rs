//! Content Security Policy with a fresh nonce for every response: the
//! page's own inline scripts (Leptos' hydration script and the chunks of a
//! streamed page) carry the nonce and run; a script injected through data (an
//! artist called `<script>…`) has none and never runs, even if it reached the
//! page.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::Nonce;

/// Gives the request a nonce (Leptos reads it from the request, see
/// [`nonce_of`]) and the response the policy that admits it.
pub async fn with_nonce(mut request: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    if let Ok(policy) = HeaderValue::from_str(&policy(&nonce, development())) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// The nonce [`with_nonce`] gave this request, for the page's scripts.
pub fn nonce_of(parts: &axum::http::request::Parts) -> Option<Nonce> {
    parts.extensions.get::<Nonce>().cloned()
}

/// `cargo leptos watch` reloads the page over a WebSocket of its own; only
/// then may the page open one.
fn development() -> bool {
    std::env::var_os("LEPTOS_WATCH").is_some()
}

/// Scripts only from this origin or with the nonce, wasm compiled from this
/// origin, connections only back to it (plus the reload socket in
/// development), no framing, no plugins. Styles stay inline-capable: the
/// charts' SVG carries style attributes, and styles cannot run code.
fn policy(nonce: &Nonce, development: bool) -> String {
    let connect = if development {
        "'self' ws: wss:"
    } else {
        "'self'"
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src {connect}; \
         object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_need_the_nonce_and_sockets_only_open_in_development() {
        let nonce = Nonce::new();
        let production = policy(&nonce, false);
        let scripts = production
            .split(';')
            .find(|directive| directive.trim().starts_with("script-src"))
            .unwrap();
        assert!(scripts.contains(&format!("'nonce-{nonce}'")));
        assert!(!scripts.contains("unsafe-inline"));
        assert!(!production.contains("ws:"));
        assert!(policy(&nonce, true).contains("connect-src 'self' ws: wss:"));
    }
}
