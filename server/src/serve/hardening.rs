//! What every response carries and every request must respect: the host
//! and origin checks, security headers with a per-response script nonce,
//! `Cache-Control: no-store` on everything personal, limits on request
//! bodies, query strings and time, client errors answered as such (4xx), and
//! a panic anywhere answered as a JSON 500 instead of a dropped connection.

use std::any::Any;

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use super::csp;
use super::origin::{check_host, check_same_origin, SiteOrigin};
use crate::config::HttpSettings;

/// Largest request body: server-function calls are a few bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest query string: the API takes a few short parameters.
pub const MAX_QUERY_BYTES: usize = 2048;

/// Hardens `router`, and `uploads` alike but for the body limit and the
/// request timeout (uploads keep only the timeout between two parts of a body).
pub fn harden(
    router: Router,
    uploads: Router,
    settings: &HttpSettings,
    site: SiteOrigin,
) -> Router {
    let headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Not `no-referrer`: browsers then send `Origin: null` with forms, which the
        // same-origin check must refuse. Links to other sites carry no referrer.
        (header::REFERRER_POLICY, "same-origin"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    let timeout = settings.request_timeout();
    let mut router = router
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .merge(uploads)
        .layer(RequestBodyTimeoutLayer::new(timeout))
        .layer(middleware::from_fn(client_errors))
        .layer(middleware::from_fn(limit_query))
        .layer(middleware::from_fn_with_state(
            site.clone(),
            check_same_origin,
        ))
        .layer(CatchPanicLayer::custom(answer_panic))
        .layer(middleware::from_fn(no_store_unless_asset))
        .layer(middleware::from_fn(csp::with_nonce));
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router.layer(middleware::from_fn_with_state(site, check_host))
}

/// A handler that panicked: the request fails alone, with a JSON 500; the
/// panic itself is logged.
fn answer_panic(panic: Box<dyn Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!("a request handler panicked: {what}");
    let error = "the server failed to answer this request; the failure was logged. Try again,                  and tell the server's administrator if it persists";
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": error })),
    )
        .into_response()
}

/// Listening history is personal: no response may be kept by a browser or a
/// proxy, except the site's own assets (wasm, scripts, styles, the icon).
async fn no_store_unless_asset(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let asset = path.starts_with("/pkg/") || path == "/favicon.ico";
    let mut response = next.run(request).await;
    if !asset {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Server functions answer 500 to arguments they cannot read, and the body
/// limit answers in plain text (what a handler answers in JSON passes as it is): both become client errors, the first keeping
/// the server-function error encoding the dashboard's client decodes. A server
/// function that cannot read the aggregates answers 503.
async fn client_errors(request: Request, next: Next) -> Response {
    let server_function = request.uri().path().starts_with("/rpc/");
    let response = next.run(request).await;
    let explained = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes().starts_with(b"application/json"));
    match response.status() {
        // A handler's own refusal already says why (an upload over its limit, say).
        _ if explained => response,
        StatusCode::REQUEST_TIMEOUT => (
            StatusCode::REQUEST_TIMEOUT,
            Json(json!({ "error": "the request took too long to send or to answer; try again" })),
        )
            .into_response(),
        StatusCode::PAYLOAD_TOO_LARGE => {
            let error = format!("the request body is larger than {MAX_BODY_BYTES} bytes");
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({ "error": error })),
            )
                .into_response()
        }
        StatusCode::INTERNAL_SERVER_ERROR if server_function => {
            let (mut parts, body) = response.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            if bytes.starts_with(b"Args|") || bytes.starts_with(b"MissingArg|") {
                parts.status = StatusCode::BAD_REQUEST;
            } else if bytes.starts_with(b"ServerError|") {
                parts.status = StatusCode::SERVICE_UNAVAILABLE;
            }
            Response::from_parts(parts, axum::body::Body::from(bytes))
        }
        _ => response,
    }
}

async fn limit_query(request: Request, next: Next) -> Response {
    if request
        .uri()
        .query()
        .is_some_and(|query| query.len() > MAX_QUERY_BYTES)
    {
        let error = format!("the query string is longer than {MAX_QUERY_BYTES} bytes");
        return (StatusCode::URI_TOO_LONG, Json(json!({ "error": error }))).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::{get, post};
    use std::time::Duration;
    use tower::ServiceExt;

    fn settings(request_timeout_secs: u64) -> HttpSettings {
        HttpSettings {
            public_url: None,
            metrics_addr: "127.0.0.1:0".parse().unwrap(),
            max_connections: 16,
            header_read_timeout_secs: 1,
            request_timeout_secs,
            max_live_streams: 1,
            max_live_streams_per_person: 1,
            trusted_proxy: None,
        }
    }

    fn hardened() -> Router {
        let routes = Router::new()
            .route(
                "/boom",
                get(|| async { panic!("a bug in a handler") as &'static str }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route("/change", post(|| async { "changed" }))
            .route("/pkg/app.js", get(|| async { "asset" }));
        let site = SiteOrigin::new(None, "127.0.0.1:3000".parse().unwrap());
        harden(routes, Router::new(), &settings(1), site)
    }

    fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1:3000");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    async fn send(request: Request) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = hardened().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_json_500_with_the_security_headers() {
        let (status, headers, body) = send(request("GET", "/boom", &[])).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("\"error\""), "{body}");
        assert!(!body.contains("a bug in a handler"), "{body}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["cache-control"], "no-store");
    }

    #[tokio::test]
    async fn a_request_that_takes_too_long_answers_408() {
        let (status, _, body) = send(request("GET", "/slow", &[])).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert!(body.contains("\"error\""), "{body}");
    }

    #[tokio::test]
    async fn only_the_server_s_own_names_are_answered() {
        let mut foreign = request("GET", "/pkg/app.js", &[]);
        foreign
            .headers_mut()
            .insert("host", HeaderValue::from_static("evil.example:3000"));
        let (status, _, body) = send(foreign).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
        let mut check = request("GET", "/healthz", &[]);
        check
            .headers_mut()
            .insert("host", HeaderValue::from_static("10.0.0.7:3000"));
        assert_eq!(
            send(check).await.0,
            StatusCode::NOT_FOUND,
            "health checks pass the host check"
        );
    }

    #[tokio::test]
    async fn changes_must_come_from_the_site_s_own_pages() {
        let origin = "http://127.0.0.1:3000";
        let allowed = send(request("POST", "/change", &[("origin", origin)])).await;
        assert_eq!(allowed.0, StatusCode::OK);
        let by_referer = send(request(
            "POST",
            "/change",
            &[("referer", "http://localhost:3000/settings")],
        ))
        .await;
        assert_eq!(by_referer.0, StatusCode::OK);
        for headers in [
            vec![],
            vec![("origin", "http://evil.example")],
            vec![("origin", "null")],
            vec![("referer", "http://127.0.0.1:3000.evil.example/")],
        ] {
            let (status, _, body) = send(request("POST", "/change", &headers)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}: {body}");
        }
    }

    #[tokio::test]
    async fn personal_responses_are_never_cached_and_each_has_its_own_script_nonce() {
        let (_, first, _) = send(request("GET", "/boom", &[])).await;
        let (_, second, _) = send(request("GET", "/boom", &[])).await;
        let policy = |headers: &axum::http::HeaderMap| {
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .to_string()
        };
        assert!(policy(&first).contains("'nonce-"));
        assert_ne!(policy(&first), policy(&second));
        let (_, asset, _) = send(request("GET", "/pkg/app.js", &[])).await;
        assert!(!asset.contains_key("cache-control"));
    }
}
