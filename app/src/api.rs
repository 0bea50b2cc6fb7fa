//! Server functions: how the hydrated page asks the server for data.

use leptos::prelude::*;

use crate::model::Dashboard;

/// How many rows each ranking of the dashboard shows.
pub const DASHBOARD_ROWS: u32 = 10;

/// Everything the dashboard shows, in one round trip.
#[server(prefix = "/rpc")]
pub async fn get_dashboard(rows: u32) -> Result<Dashboard, ServerFnError> {
    use crate::model::Limit;
    use crate::source::Analytics;

    let Analytics(source) = use_context::<Analytics>()
        .ok_or_else(|| ServerFnError::new("the analytics source is not configured"))?;
    let limit = Limit::parse(Some(&rows.to_string())).map_err(ServerFnError::new)?;
    let unavailable = |error: crate::source::SourceError| {
        ServerFnError::new(format!("the aggregates cannot be read: {error}"))
    };
    Ok(Dashboard {
        summary: source.summary().await.map_err(unavailable)?,
        top_songs: source.top_songs(limit).await.map_err(unavailable)?,
        top_artists: source.top_artists(limit).await.map_err(unavailable)?,
        health: source.health(),
    })
}
