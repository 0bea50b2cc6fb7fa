//! How the JSON API answers: figures as JSON, with an `X-Data-Stale`
//! header while they may not be current, and every failure as
//! `{"error": "..."}` with a fitting status.

use app::source::SourceError;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

use super::AppState;

/// Every failure of the API, answered as `{"error": "..."}` with a fitting status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the aggregates cannot be read right now: {0}")]
    Unavailable(String),
    #[error("no such endpoint; the API has /api/top-songs, /api/top-artists, /api/top-albums, /api/most-skipped, /api/listening-clock, /api/over-time, /api/shares, /api/skips, /api/sessions, /api/artists/NAME, /api/songs/URI, /api/range, /api/calendar, /api/discoveries, /api/review, /api/summary and /api/live (server-sent events)")]
    NotFound,
    #[error("{0}")]
    NoSuch(String),
    #[error("this endpoint answers GET only")]
    WrongMethod,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotFound | ApiError::NoSuch(_) => StatusCode::NOT_FOUND,
            ApiError::WrongMethod => StatusCode::METHOD_NOT_ALLOWED,
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// Header of responses whose figures may not be current; its value says why.
pub const STALE_HEADER: &str = "x-data-stale";

/// The figures as JSON, flagged when they may not be current.
pub fn figures<T: Serialize>(state: &AppState, read: Result<T, SourceError>) -> Response {
    match read {
        Ok(value) => figures_with_health(state, value),
        Err(error) => ApiError::Unavailable(error.to_string()).into_response(),
    }
}

/// Figures read as JSON, flagged when they may not be current.
pub fn figures_with_health<T: Serialize>(state: &AppState, value: T) -> Response {
    with_stale(Json(value).into_response(), stale_reason(state))
}

/// Why this server's figures may not be current, if they may not.
pub fn stale_reason(state: &AppState) -> Option<String> {
    state.live.health().problem
}

/// `response` flagged with `reason`, when there is one.
pub fn with_stale(mut response: Response, reason: Option<String>) -> Response {
    if let Some(reason) = reason {
        if let Ok(reason) = HeaderValue::from_str(&header_text(&reason)) {
            response.headers_mut().insert(STALE_HEADER, reason);
        }
    }
    response
}

/// `text` as a header value can carry it: printable ASCII, at most 500 characters.
fn header_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .take(500)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_becomes_a_valid_header_value() {
        let text = header_text("MongoDB at «db»: timed out\n");
        assert_eq!(text, "MongoDB at ?db?: timed out?");
        assert!(HeaderValue::from_str(&text).is_ok());
        assert_eq!(header_text(&"x".repeat(2000)).len(), 500);
    }
}
