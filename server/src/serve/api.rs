//! The JSON API that users of the older Python system call:
//! `GET /api/top-songs`, `GET /api/top-artists` and `GET /api/summary`.

use std::collections::HashMap;

use app::model::{Limit, Summary, TopArtist, TopSong};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::json;

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
    #[error("no such endpoint; the API has /api/top-songs, /api/top-artists and /api/summary")]
    NotFound,
    #[error("this endpoint answers GET only")]
    WrongMethod,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::WrongMethod => StatusCode::METHOD_NOT_ALLOWED,
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

fn limit(params: Params) -> Result<Limit, ApiError> {
    let Query(params) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    Limit::parse(params.get("limit").map(String::as_str)).map_err(ApiError::BadRequest)
}

async fn top_songs(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Vec<TopSong>>, ApiError> {
    let limit = limit(params)?;
    let songs = state.analytics.0.top_songs(limit).await;
    songs
        .map(Json)
        .map_err(|e| ApiError::Unavailable(e.to_string()))
}

async fn top_artists(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Vec<TopArtist>>, ApiError> {
    let limit = limit(params)?;
    let artists = state.analytics.0.top_artists(limit).await;
    artists
        .map(Json)
        .map_err(|e| ApiError::Unavailable(e.to_string()))
}

async fn summary(State(state): State<AppState>) -> Result<Json<Summary>, ApiError> {
    let summary = state.analytics.0.summary().await;
    summary
        .map(Json)
        .map_err(|e| ApiError::Unavailable(e.to_string()))
}
