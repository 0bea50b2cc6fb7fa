//! Pushes the dashboard's figures to open pages as server-sent events
//! (`GET /api/live`): a `dashboard` event as soon as a page connects, then
//! one each time the figures or the pipeline's health change. Streams end
//! when the server stops, so a graceful shutdown never waits on open pages.

use std::convert::Infallible;
use std::time::Duration;

use app::api::DASHBOARD_ROWS;
use app::model::Limit;
use app::source::Analytics;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::timeout;

use super::live::Figures;
use super::AppState;

/// How often a connection looks at the pipeline's health between changes of the figures.
const HEALTH_EVERY: Duration = Duration::from_secs(2);
/// How soon a page's browser tries again after the stream drops.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/live", get(live))
}

/// What one open page's stream waits on.
struct Follower {
    analytics: Analytics,
    changes: watch::Receiver<Figures>,
    closing: watch::Receiver<bool>,
    last_sent: Option<String>,
    _permit: OwnedSemaphorePermit,
}

async fn live(State(state): State<AppState>) -> Response {
    // Each open stream holds one of the permits until it ends.
    let Ok(permit) = state.live_streams.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "30")],
            Json(json!({ "error": "too many live streams are open; the page retries by itself" })),
        )
            .into_response();
    };
    let follower = Follower {
        analytics: state.analytics.clone(),
        changes: state.changes.clone(),
        closing: state.closing.clone(),
        last_sent: None,
        _permit: permit,
    };
    let events = futures::stream::unfold(follower, |mut follower| async move {
        let event = follower.next_event().await?;
        Some((Ok::<_, Infallible>(event), follower))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

impl Follower {
    /// The next figures that differ from the last sent; `None` once the server stops.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if *self.closing.borrow() {
                return None;
            }
            let limit = Limit::clamped(DASHBOARD_ROWS);
            if let Ok(dashboard) = self.analytics.0.dashboard(limit).await {
                let body = serde_json::to_string(&dashboard).ok();
                if body.is_some() && body != self.last_sent {
                    self.last_sent.clone_from(&body);
                    return Some(
                        Event::default()
                            .event("dashboard")
                            .retry(RECONNECT_AFTER)
                            .data(body.unwrap_or_default()),
                    );
                }
            }
            tokio::select! {
                changed = timeout(HEALTH_EVERY, self.changes.changed()) => {
                    if matches!(changed, Ok(Err(_))) {
                        return None;
                    }
                }
                _ = self.closing.changed() => return None,
            }
        }
    }
}
