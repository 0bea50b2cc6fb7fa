//! What every response carries and every request must respect: security
//! headers, limits on request bodies and query strings, and client errors
//! answered as such (4xx) rather than as server errors.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Largest request body: server-function calls are a few bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest query string: the API takes one short parameter.
pub const MAX_QUERY_BYTES: usize = 2048;

/// Scripts, styles and wasm from this origin only; the inline hydration
/// script and wasm compilation are what Leptos needs.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; \
     frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

pub fn harden(router: Router) -> Router {
    let headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    let mut router = router
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(client_errors))
        .layer(middleware::from_fn(limit_query));
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// Server functions answer 500 to arguments they cannot read, and the body
/// limit answers in plain text: both become client errors, the first keeping
/// the server-function error encoding the dashboard's client decodes. A server
/// function that cannot read the aggregates answers 503.
async fn client_errors(request: Request, next: Next) -> Response {
    let server_function = request.uri().path().starts_with("/rpc/");
    let response = next.run(request).await;
    match response.status() {
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
