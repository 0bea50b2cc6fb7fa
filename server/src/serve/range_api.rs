//! The JSON API of time ranges (and of a year's calendar, `/api/calendar`,
//! what each month discovered, `/api/discoveries`, and a year's or a
//! month's review, `/api/review`):
//! every range endpoint takes `from` and `to` (ISO
//! dates, from included, to excluded, UTC) or a `preset`
//! (`last-7-days`, `last-30-days`, `latest-year`, `all-time`), and is
//! answered from the person's aggregates, by this server or the one that
//! holds them (see [`super::ask`]). `/api/top-songs` and `/api/top-artists`
//! answer from them too when a range or `by` is given, in the same shape as
//! always.

use app::model::Limit;
use app::range::{Bucket, RangeQuery};
use app::review::{parse_period, SessionGap, REVIEW_PATH};
use app::stories::{parse_year, CALENDAR_PATH, DISCOVERIES_PATH};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;

use super::answer::{stale_reason, with_stale, ApiError};
use super::auth::Viewer;
use super::query::{ApiQuery, RangeArgs};
use super::AppState;
use crate::rollup::held::Freshness;
use crate::rollup::question::{Question, Refusal};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/range", get(bounds))
        .route("/api/top-albums", get(top_albums))
        .route("/api/most-skipped", get(most_skipped))
        .route("/api/listening-clock", get(listening_clock))
        .route("/api/over-time", get(over_time))
        .route("/api/shares", get(shares))
        .route("/api/skips", get(skips))
        .route("/api/sessions", get(sessions))
        .route("/api/artists/{name}", get(artist))
        .route("/api/songs/{uri}", get(song))
        .route(CALENDAR_PATH, get(calendar))
        .route(DISCOVERIES_PATH, get(discoveries))
        .route(REVIEW_PATH, get(review))
}

/// What `/api/calendar` takes: the year, alone.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarArgs {
    year: Option<String>,
}

/// The query parameters of a range endpoint, read and checked.
pub struct RangeParams {
    pub query: RangeQuery,
    pub limit: Limit,
    args: RangeArgs,
}

impl RangeParams {
    pub fn read(args: RangeArgs) -> Result<Self, ApiError> {
        let query = RangeQuery::parse(
            args.preset.as_deref(),
            args.from.as_deref(),
            args.to.as_deref(),
            args.by.as_deref(),
        )
        .map_err(ApiError::BadRequest)?;
        Ok(Self {
            query,
            limit: Limit::parse(args.limit.as_deref()).map_err(ApiError::BadRequest)?,
            args,
        })
    }

    /// True when the request asks about a range or an order, not just the all-time leaderboard.
    pub fn asks_for_a_range(&self) -> bool {
        let args = &self.args;
        args.preset.is_some() || args.from.is_some() || args.to.is_some() || args.by.is_some()
    }

    fn min_plays(&self) -> Result<i64, ApiError> {
        match self
            .args
            .min_plays
            .as_deref()
            .map(|raw| raw.trim().parse::<i64>())
        {
            None => Ok(crate::rollup::query::MIN_PLAYS_TO_RANK_SKIPS),
            Some(Ok(n)) if (1..=1_000_000).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::BadRequest(
                "min_plays must be a whole number from 1 to 1000000".into(),
            )),
        }
    }

    fn bucket(&self) -> Result<Bucket, ApiError> {
        Bucket::parse(self.args.bucket.as_deref()).map_err(ApiError::BadRequest)
    }
}

/// Answers the question the parameters make, for the person asking.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    ApiQuery(args): ApiQuery<RangeArgs>,
    question: impl FnOnce(RangeParams) -> Result<Question, ApiError>,
) -> Response {
    match RangeParams::read(args).and_then(question) {
        Ok(question) => ask(state, viewer, &question).await,
        Err(error) => error.into_response(),
    }
}

/// Asks `question` about the viewer's listens, wherever they are held.
pub async fn ask(state: &AppState, viewer: &Viewer, question: &Question) -> Response {
    // Clients asking again and again are answered at once, from figures of
    // at most a second ago while they change (said in `X-Data-Stale`).
    let asked = question.clone().in_zone(viewer.zone);
    let answered = match state
        .live
        .ask(&viewer.person, &asked, Freshness::Recent)
        .await
    {
        Ok(answered) => answered,
        Err(error) => return ApiError::Unavailable(error.to_string()).into_response(),
    };
    let answer = match &*answered.answer {
        Ok(answer) => answer,
        Err(Refusal::BadRequest(why)) => return ApiError::BadRequest(why.clone()).into_response(),
        Err(Refusal::NoSuch(why)) => return ApiError::NoSuch(why.clone()).into_response(),
        Err(refused @ Refusal::Unanswered(_)) => {
            return ApiError::Unavailable(refused.to_string()).into_response()
        }
    };
    let json = match answer.to_json() {
        Ok(json) => json,
        Err(error) => return ApiError::Unavailable(error.to_string()).into_response(),
    };
    let response = ([(header::CONTENT_TYPE, "application/json")], json).into_response();
    with_stale(response, answered.stale.or_else(|| stale_reason(state)))
}

async fn bounds(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked| {
        Ok(Question::Bounds { query: asked.query })
    })
    .await
}

async fn top_albums(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked| {
        Ok(Question::TopAlbums {
            query: asked.query,
            limit: asked.limit,
        })
    })
    .await
}

async fn most_skipped(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked| {
        Ok(Question::MostSkipped {
            query: asked.query,
            min_plays: asked.min_plays()?,
            limit: asked.limit,
        })
    })
    .await
}

async fn listening_clock(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked| {
        Ok(Question::Clock { query: asked.query })
    })
    .await
}

async fn over_time(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked| {
        Ok(Question::OverTime {
            query: asked.query,
            bucket: asked.bucket()?,
        })
    })
    .await
}

async fn sessions(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked| {
        Ok(Question::Sessions {
            query: asked.query,
            gap: SessionGap::parse(asked.args.gap.as_deref()).map_err(ApiError::BadRequest)?,
        })
    })
    .await
}

async fn skips(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked| {
        Ok(Question::Skips {
            query: asked.query,
            limit: asked.limit,
        })
    })
    .await
}

async fn shares(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked| {
        Ok(Question::Shares { query: asked.query })
    })
    .await
}

async fn artist(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked| {
        Ok(Question::Artist {
            name,
            query: asked.query,
            limit: asked.limit,
        })
    })
    .await
}

async fn song(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(uri): Path<String>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked| {
        Ok(Question::Song {
            uri,
            query: asked.query,
        })
    })
    .await
}

/// A year's listening days and streaks.
async fn calendar(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(args): ApiQuery<CalendarArgs>,
) -> Response {
    match parse_year(args.year.as_deref()) {
        Ok(year) => ask(&state, &viewer, &Question::calendar(year, viewer.zone)).await,
        Err(error) => ApiError::BadRequest(error).into_response(),
    }
}

/// What each month discovered; it takes no parameters.
async fn discoveries(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(NoArgs {}): ApiQuery<NoArgs>,
) -> Response {
    ask(&state, &viewer, &Question::Discoveries).await
}

/// What `/api/review` takes: the period, alone.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewArgs {
    period: Option<String>,
}

/// A year's or a month's review.
async fn review(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(args): ApiQuery<ReviewArgs>,
) -> Response {
    match parse_period(args.period.as_deref()) {
        Ok(period) => ask(&state, &viewer, &Question::Review { period }).await,
        Err(error) => ApiError::BadRequest(error).into_response(),
    }
}

/// What an endpoint without parameters takes: none (any is refused).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

/// `/api/top-songs` and `/api/top-artists` with a range: the same shape, from the listens.
pub async fn ranked(
    state: &AppState,
    viewer: &Viewer,
    asked: RangeParams,
    artists: bool,
) -> Response {
    let (query, limit) = (asked.query, asked.limit);
    let question = if artists {
        Question::TopArtists { query, limit }
    } else {
        Question::TopSongs { query, limit }
    };
    ask(state, viewer, &question).await
}
