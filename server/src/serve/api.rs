//! The JSON API that users of the older Python system call:
//! `GET /api/top-songs`, `GET /api/top-artists` and `GET /api/summary`.
//! While the figures may not be current (Kafka or MongoDB in trouble, the
//! last figures read served because MongoDB cannot be read), responses carry
//! an `X-Data-Stale` header saying why.

use app::model::{Summary, TopArtist, TopSong};
use app::source::AnalyticsSource;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Extension;
use axum::Router;

use super::answer::{figures, ApiError};
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

async fn top_songs(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(args): ApiQuery<RangeArgs>,
) -> Response {
    match RangeParams::read(args) {
        Ok(asked) if asked.asks_for_a_range() => {
            range_api::ranked(&state, &viewer, asked, false).await
        }
        Ok(asked) => figures::<Vec<TopSong>>(
            &state,
            state
                .live
                .for_person(&viewer.person, viewer.zone)
                .top_songs(asked.limit)
                .await,
        ),
        Err(error) => error.into_response(),
    }
}

async fn top_artists(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(args): ApiQuery<RangeArgs>,
) -> Response {
    match RangeParams::read(args) {
        Ok(asked) if asked.asks_for_a_range() => {
            range_api::ranked(&state, &viewer, asked, true).await
        }
        Ok(asked) => figures::<Vec<TopArtist>>(
            &state,
            state
                .live
                .for_person(&viewer.person, viewer.zone)
                .top_artists(asked.limit)
                .await,
        ),
        Err(error) => error.into_response(),
    }
}

async fn summary(State(state): State<AppState>, Extension(viewer): Extension<Viewer>) -> Response {
    figures::<Summary>(
        &state,
        state
            .live
            .for_person(&viewer.person, viewer.zone)
            .summary()
            .await,
    )
}
