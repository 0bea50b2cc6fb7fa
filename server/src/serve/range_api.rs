//! The JSON API of time ranges: every endpoint takes `from` and `to` (ISO
//! dates, from included, to excluded, UTC) or a `preset`
//! (`last-7-days`, `last-30-days`, `latest-year`, `all-time`), and answers
//! from the rollups in memory. `/api/top-songs` and `/api/top-artists` answer
//! from them too when a range or `by` is given, in the same shape as always.

use app::model::Limit;
use app::range::{Bucket, DateRange, Metric, RangeQuery};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::json;

use super::answer::{figures_with_health, ApiError};
use super::auth::Viewer;
use super::query::{ApiQuery, RangeArgs};
use super::AppState;
use crate::accounts::PersonId;
use crate::aggregate::Aggregates;
use crate::rollup::held::Held;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/range", get(bounds))
        .route("/api/top-albums", get(top_albums))
        .route("/api/most-skipped", get(most_skipped))
        .route("/api/listening-clock", get(listening_clock))
        .route("/api/over-time", get(over_time))
        .route("/api/shares", get(shares))
        .route("/api/artists/{name}", get(artist))
        .route("/api/songs/{uri}", get(song))
}

/// The query parameters of a range endpoint, read and checked.
pub struct RangeParams {
    pub range: DateRange,
    pub metric: Metric,
    pub limit: Limit,
    args: RangeArgs,
}

impl RangeParams {
    pub fn read(args: RangeArgs, held: &Held, person: &PersonId) -> Result<Self, ApiError> {
        let query = RangeQuery::parse(
            args.preset.as_deref(),
            args.from.as_deref(),
            args.to.as_deref(),
            args.by.as_deref(),
        )
        .map_err(ApiError::BadRequest)?;
        Ok(Self {
            range: held.ask(person, |aggregates| aggregates.resolve(&query)),
            metric: query.metric,
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

    fn rows(&self) -> usize {
        self.limit.get() as usize
    }
}

/// Answers `question` about the range the parameters ask for.
fn answer<T: serde::Serialize>(
    state: &AppState,
    viewer: &Viewer,
    ApiQuery(args): ApiQuery<RangeArgs>,
    question: impl FnOnce(&RangeParams, &Aggregates) -> Result<T, ApiError>,
) -> Response {
    let person = &viewer.person;
    let asked = match RangeParams::read(args, &state.held, person) {
        Ok(asked) => asked,
        Err(error) => return error.into_response(),
    };
    match state
        .held
        .ask(person, |aggregates| question(&asked, aggregates))
    {
        Ok(value) => figures_with_health(state, value),
        Err(error) => error.into_response(),
    }
}

async fn bounds(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked, index| {
        let (first, last) = index.bounds();
        Ok(
            json!({ "first_day": first, "last_day": last, "from": asked.range.from, "to": asked.range.to }),
        )
    })
}

async fn top_albums(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked, index| {
        Ok(index.top_albums(asked.range, asked.metric, asked.rows()))
    })
}

async fn most_skipped(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked, index| {
        Ok(index.most_skipped(asked.range, asked.min_plays()?, asked.rows()))
    })
}

async fn listening_clock(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked, index| {
        Ok(index.clock(asked.range))
    })
}

/// Most steps a time series answers, so a long range cannot ask for millions of days.
const MAX_STEPS: i64 = 20_000;

async fn over_time(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked, index| {
        let bucket = asked.bucket()?;
        let (first, last) = index.bounds();
        let from = asked.range.from.or(first);
        let to = asked
            .range
            .to
            .or(last.map(|day| day + chrono::Duration::days(1)));
        if let (Some(from), Some(to)) = (from, to) {
            let days = (to - from).num_days();
            let steps = match bucket {
                Bucket::Day => days,
                Bucket::Week => days / 7,
                Bucket::Month => days / 28,
            };
            if steps > MAX_STEPS {
                return Err(ApiError::BadRequest(format!(
                    "{from} to {to} is about {steps} steps; at most {MAX_STEPS}: choose a longer bucket or a shorter range"
                )));
            }
        }
        Ok(index.over_time(asked.range, bucket))
    })
}

async fn shares(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked, index| {
        Ok(index.shares(asked.range))
    })
}

async fn artist(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked, index| {
        index
            .artist_detail(&name, asked.range, asked.rows())
            .ok_or_else(|| {
                ApiError::NoSuch(format!(
                    "no listens of an artist named {:?}",
                    app::format::ellipsize(&name, 80)
                ))
            })
    })
}

async fn song(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(uri): Path<String>,
    params: ApiQuery<RangeArgs>,
) -> Response {
    answer(&state, &viewer, params, |asked, index| {
        index.song_detail(&uri, asked.range).ok_or_else(|| {
            ApiError::NoSuch(format!(
                "no listens of a song {:?}",
                app::format::ellipsize(&uri, 80)
            ))
        })
    })
}

/// `/api/top-songs` and `/api/top-artists` with a range: the same shape, from the rollups.
pub fn ranked(state: &AppState, person: &PersonId, asked: RangeParams, artists: bool) -> Response {
    let rows = asked.rows();
    if artists {
        let value = state.held.ask(person, |aggregates| {
            aggregates.top_artists_in(asked.range, asked.metric, rows)
        });
        figures_with_health(state, value)
    } else {
        let value = state.held.ask(person, |aggregates| {
            aggregates.top_songs_in(asked.range, asked.metric, rows)
        });
        figures_with_health(state, value)
    }
}
