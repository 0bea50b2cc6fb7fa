//! Server functions: how the hydrated page asks the server for data (and
//! for the range view's body, rendered here).

use leptos::prelude::*;

use crate::model::{Dashboard, ViewerInfo};
use crate::range::{ArtistDetail, RangeQuery, SongDetail};

/// How many rows each ranking of the dashboard shows.
pub const DASHBOARD_ROWS: u32 = 10;

/// Everything the dashboard shows, in one round trip.
#[server(prefix = "/rpc", endpoint = "dashboard", output = crate::codec::JsonText)]
pub async fn get_dashboard(rows: u32) -> Result<Dashboard, ServerFnError> {
    use crate::model::Limit;
    use crate::source::Analytics;

    let Analytics(source) = use_context::<Analytics>()
        .ok_or_else(|| ServerFnError::new("the analytics source is not configured"))?;
    let limit = Limit::parse(Some(&rows.to_string())).map_err(ServerFnError::new)?;
    source
        .dashboard(limit)
        .await
        .map_err(|error| ServerFnError::new(format!("the aggregates cannot be read: {error}")))
}

/// The analytics source, or a server error saying it is missing.
#[cfg(feature = "ssr")]
fn source() -> Result<std::sync::Arc<dyn crate::source::AnalyticsSource>, ServerFnError> {
    use_context::<crate::source::Analytics>()
        .map(|analytics| analytics.0)
        .ok_or_else(|| ServerFnError::new("the analytics source is not configured"))
}

/// The body of the range view for `query`, as HTML rendered here (see
/// [`crate::components::range_body`]).
#[server(prefix = "/rpc", endpoint = "range", output = crate::codec::JsonText)]
pub async fn get_range_body(query: RangeQuery) -> Result<String, ServerFnError> {
    use crate::model::Limit;
    let view = source()?
        .range_view(&query, Limit::clamped(DASHBOARD_ROWS))
        .await
        .map_err(|error| ServerFnError::new(format!("the figures cannot be read: {error}")))?;
    Ok(crate::components::range_body::render(view))
}

/// One artist over a range; `None` when never listened to.
#[server(prefix = "/rpc", endpoint = "artist", output = crate::codec::JsonText)]
pub async fn get_artist(
    name: String,
    query: RangeQuery,
) -> Result<Option<ArtistDetail>, ServerFnError> {
    source()?
        .artist_detail(&name, &query)
        .await
        .map_err(|error| ServerFnError::new(format!("the figures cannot be read: {error}")))
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
        .map_err(|error| ServerFnError::new(format!("the figures cannot be read: {error}")))
}

/// Who is looking: `None` on the pages open to anyone (signing in).
#[server(prefix = "/rpc", endpoint = "viewer", output = crate::codec::JsonText)]
pub async fn get_viewer() -> Result<Option<ViewerInfo>, ServerFnError> {
    Ok(use_context::<ViewerInfo>())
}
