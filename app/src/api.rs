//! Server functions: how the hydrated page asks the server for data.

use leptos::prelude::*;

use crate::model::Dashboard;

/// How many rows each ranking of the dashboard shows.
pub const DASHBOARD_ROWS: u32 = 10;

/// Everything the dashboard shows, in one round trip.
#[server(prefix = "/rpc", endpoint = "dashboard")]
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
