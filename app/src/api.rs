//! Server functions: how the hydrated page asks the server for data (and
//! for the range view's body, rendered here).

use leptos::prelude::*;

use crate::model::{Dashboard, ViewerInfo};
use crate::overview::OverviewPlace;
use crate::range::{ArtistDetail, RangeQuery, RangeView, SongDetail};
use crate::review::{Period, Review};

/// How many rows each ranking of the dashboard shows.
pub const DASHBOARD_ROWS: u32 = 10;

/// Everything the dashboard shows, in one round trip.
#[server(prefix = "/rpc", endpoint = "dashboard", output = crate::codec::JsonText)]
pub async fn get_dashboard(rows: u32) -> Result<Dashboard, ServerFnError> {
    use crate::model::Limit;
    use crate::source::Analytics;

    let Analytics(source) = use_context::<Analytics>()
        .ok_or_else(|| ServerFnError::new("the analytics source is not configured"))?;
    let limit = Limit::parse(Some(&rows.to_string()))
        .map_err(|bad| crate::refusal::refused(crate::refusal::Refusal::Invalid, bad))?;
    source.dashboard(limit).await.map_err(unread)
}

/// The analytics source, or a server error saying it is missing.
#[cfg(feature = "ssr")]
fn source() -> Result<std::sync::Arc<dyn crate::source::AnalyticsSource>, ServerFnError> {
    use_context::<crate::source::Analytics>()
        .map(|analytics| analytics.0)
        .ok_or_else(|| ServerFnError::new("the analytics source is not configured"))
}

/// A server function's answer when the figures cannot be read (503).
#[cfg(feature = "ssr")]
fn unread(error: crate::source::SourceError) -> ServerFnError {
    use crate::refusal::{refused, Refusal};
    refused(
        Refusal::Unavailable,
        format!("the figures cannot be read: {error}"),
    )
}

/// The body of the range view for `query`, as HTML rendered here (see
/// [`crate::components::range_body`]).
#[server(prefix = "/rpc", endpoint = "range", output = crate::codec::JsonText)]
pub async fn get_range_body(query: RangeQuery) -> Result<String, ServerFnError> {
    use crate::model::Limit;
    let view = source()?
        .range_view(&query, Limit::clamped(DASHBOARD_ROWS))
        .await
        .map_err(unread)?;
    Ok(crate::components::range_body::render(view))
}

/// How many rows the Artists and Songs pages rank.
pub const LIST_ROWS: u32 = 100;

/// The range view of `query` with [`LIST_ROWS`]-long rankings: what the
/// Artists and Songs pages list.
#[server(prefix = "/rpc", endpoint = "rankings", output = crate::codec::JsonText)]
pub async fn get_rankings(query: RangeQuery) -> Result<RangeView, ServerFnError> {
    use crate::model::Limit;
    source()?
        .range_view(&query, Limit::clamped(LIST_ROWS))
        .await
        .map_err(unread)
}

/// The calendar of listening days of the place's year (the latest with
/// listens when `None`) and what its months discovered, as HTML rendered
/// here (see [`crate::components::calendar_body`]); its year links keep
/// the rest of the place.
#[server(prefix = "/rpc", endpoint = "calendar", output = crate::codec::JsonText)]
pub async fn get_calendar_body(place: OverviewPlace) -> Result<String, ServerFnError> {
    use chrono::Datelike;
    let source = source()?;
    let calendar = source.calendar(place.year).await.map_err(unread)?;
    let mut discoveries = source.discoveries().await.map_err(unread)?;
    discoveries.retain(|month| month.month.year() == calendar.year);
    Ok(crate::components::calendar_body::render(
        calendar,
        discoveries,
        &place,
    ))
}

/// The listening sessions of the place's range (a pause longer than its
/// gap ending one), as HTML rendered here (see
/// [`crate::components::sessions_body`]); its links keep the rest of the place.
#[server(prefix = "/rpc", endpoint = "sessions", output = crate::codec::JsonText)]
pub async fn get_sessions_body(place: OverviewPlace) -> Result<String, ServerFnError> {
    let view = source()?
        .sessions(&place.range, place.gap)
        .await
        .map_err(unread)?;
    Ok(crate::components::sessions_body::render(view, &place))
}

/// Skips over the range `query`, as HTML rendered here (see
/// [`crate::components::skips_body`]).
#[server(prefix = "/rpc", endpoint = "skips", output = crate::codec::JsonText)]
pub async fn get_skips_body(query: RangeQuery) -> Result<String, ServerFnError> {
    use crate::model::Limit;
    let story = source()?
        .skips(&query, Limit::clamped(DASHBOARD_ROWS))
        .await
        .map_err(unread)?;
    Ok(crate::components::skips_body::render(story))
}

/// The review of a year or a month (the latest year with listens when `None`).
#[server(prefix = "/rpc", endpoint = "review", output = crate::codec::JsonText)]
pub async fn get_review(period: Option<Period>) -> Result<Review, ServerFnError> {
    source()?.review(period).await.map_err(unread)
}

/// One artist over a range; `None` when never listened to.
#[server(prefix = "/rpc", endpoint = "artist", output = crate::codec::JsonText)]
pub async fn get_artist(
    name: String,
    query: RangeQuery,
) -> Result<Option<ArtistDetail>, ServerFnError> {
    source()?.artist_detail(&name, &query).await.map_err(unread)
}

/// One song over a range; `None` when never listened to.
#[server(prefix = "/rpc", endpoint = "song", output = crate::codec::JsonText)]
pub async fn get_song(
    track_uri: String,
    query: RangeQuery,
) -> Result<Option<SongDetail>, ServerFnError> {
    source()?
        .song_detail(&track_uri, &query)
        .await
        .map_err(unread)
}

/// Who is looking: `None` on the pages open to anyone (signing in).
#[server(prefix = "/rpc", endpoint = "viewer", output = crate::codec::JsonText)]
pub async fn get_viewer() -> Result<Option<ViewerInfo>, ServerFnError> {
    Ok(use_context::<ViewerInfo>())
}
