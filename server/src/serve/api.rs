//! The JSON API that users of the older Python system call:
//! `GET /api/top-songs`, `GET /api/top-artists` and `GET /api/summary`.
//! While the figures may not be current (Kafka or MongoDB in trouble, the
//! last figures read served because MongoDB cannot be read), responses carry
//! an `X-Data-Stale` header saying why.

use app::model::{Summary, TopArtist, TopSong};
use app::source::{AnalyticsSource, SourceError};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Extension;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;

use super::auth::Viewer;
use super::query::{ApiQuery, RangeArgs};
use super::range_api::{self, RangeParams};
use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/top-songs", get(top_songs))
        .route("/api/top-artists", get(top_artists))
        .route("/api/summary", get(summary))
        .route("/api/{*rest}", any(unknown_endpoint))
        .method_not_allowed_fallback(wrong_method)
}

async fn unknown_endpoint() -> ApiError {
    ApiError::NotFound
}

async fn wrong_method() -> ApiError {
    ApiError::WrongMethod
}

/// Every failure of the API, answered as `{"error": "..."}` with a fitting status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the aggregates cannot be read right now: {0}")]
    Unavailable(String),
    #[error("no such endpoint; the API has /api/top-songs, /api/top-artists, /api/top-albums, /api/most-skipped, /api/listening-clock, /api/over-time, /api/shares, /api/artists/NAME, /api/songs/URI, /api/range, /api/summary and /api/live (server-sent events)")]
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
fn figures<T: Serialize>(state: &AppState, read: Result<T, SourceError>) -> Response {
    match read {
        Ok(value) => figures_with_health(state, value),
        Err(error) => ApiError::Unavailable(error.to_string()).into_response(),
    }
}

/// Figures read as JSON, flagged when they may not be current.
pub fn figures_with_health<T: Serialize>(state: &AppState, value: T) -> Response {
    let mut response = Json(value).into_response();
    if let Some(problem) = state.live.health().problem {
        if let Ok(reason) = HeaderValue::from_str(&header_text(&problem)) {
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

async fn top_songs(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(args): ApiQuery<RangeArgs>,
) -> Response {
    let person = &viewer.person;
    match RangeParams::read(args, &state.ranges, person) {
        Ok(asked) if asked.asks_for_a_range() => range_api::ranked(&state, person, asked, false),
        Ok(asked) => figures::<Vec<TopSong>>(
            &state,
            state.live.for_person(person).top_songs(asked.limit).await,
        ),
        Err(error) => error.into_response(),
    }
}

async fn top_artists(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(args): ApiQuery<RangeArgs>,
) -> Response {
    let person = &viewer.person;
    match RangeParams::read(args, &state.ranges, person) {
        Ok(asked) if asked.asks_for_a_range() => range_api::ranked(&state, person, asked, true),
        Ok(asked) => figures::<Vec<TopArtist>>(
            &state,
            state.live.for_person(person).top_artists(asked.limit).await,
        ),
        Err(error) => error.into_response(),
    }
}

async fn summary(State(state): State<AppState>, Extension(viewer): Extension<Viewer>) -> Response {
    figures::<Summary>(
        &state,
        state.live.for_person(&viewer.person).summary().await,
    )
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
