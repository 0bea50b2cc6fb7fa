//! Pushes a person's dashboard figures to their open pages as server-sent
//! events (`GET /api/live`): a `dashboard` event as soon as a page connects,
//! then one each time their figures or the pipeline's health change. The
//! event is made once per change and shared by all their pages. Streams end
//! when the server stops, so a graceful shutdown never waits on open pages;
//! each person, and everyone together, may hold only so many open.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::api::DASHBOARD_ROWS;
use app::model::Limit;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::json;
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::timeout;

use super::auth::Viewer;
use super::live::{Figures, LiveAnalytics};
use super::warm::StoriesAhead;
use super::AppState;
use crate::accounts::PersonId;
use crate::zone::Zone;

/// How often a connection looks at the pipeline's health between changes of the figures.
const HEALTH_EVERY: Duration = Duration::from_secs(2);
/// How soon a page's browser tries again after the stream drops.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/live", get(live))
}

/// Live streams open per person, counted so one person cannot take them all.
#[derive(Clone, Default)]
pub struct OpenStreams(Arc<Mutex<HashMap<PersonId, usize>>>);

/// One open stream of a person; counted until dropped.
pub(super) struct StreamSlot {
    open: OpenStreams,
    person: PersonId,
    _permit: OwnedSemaphorePermit,
}

impl OpenStreams {
    /// A slot for one more stream of `person`, unless they hold `most`.
    pub(super) fn take(
        &self,
        person: &PersonId,
        most: usize,
        permit: OwnedSemaphorePermit,
    ) -> Option<StreamSlot> {
        let mut open = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(person.clone()).or_default();
        if *count >= most {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            open: self.clone(),
            person: person.clone(),
            _permit: permit,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .open
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.person) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.person);
            }
        }
    }
}

/// What one open page's stream waits on.
struct Follower {
    person: PersonId,
    /// Works out their year reviews and discoveries ahead each time
    /// figures are sent, once those settle, in their `zone`.
    stories_ahead: StoriesAhead,
    zone: Zone,
    live: Arc<LiveAnalytics>,
    changes: watch::Receiver<Figures>,
    closing: watch::Receiver<bool>,
    last_sent: Option<Arc<str>>,
    _slot: StreamSlot,
}

/// A stream refused: `503` when the server has none left, `429` when the
/// person holds their share.
fn too_many(status: StatusCode, what: &str) -> Response {
    (
        status,
        [(header::RETRY_AFTER, "30")],
        Json(json!({ "error": format!("{what}; the page retries by itself") })),
    )
        .into_response()
}

async fn live(State(state): State<AppState>, Extension(viewer): Extension<Viewer>) -> Response {
    let Ok(permit) = state.live_streams.clone().try_acquire_owned() else {
        return too_many(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many live streams are open",
        );
    };
    let Some(slot) = state
        .open_streams
        .take(&viewer.person, state.live_streams_per_person, permit)
    else {
        return too_many(
            StatusCode::TOO_MANY_REQUESTS,
            "you have too many live streams open (close some pages)",
        );
    };
    let follower = Follower {
        person: viewer.person.clone(),
        stories_ahead: state.stories_ahead.clone(),
        zone: viewer.zone,
        live: state.live.clone(),
        changes: state.live.changes(),
        closing: state.closing.clone(),
        last_sent: None,
        _slot: slot,
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
            let rows = Limit::clamped(DASHBOARD_ROWS);
            if let Ok(payload) = self.live.dashboard_payload(&self.person, rows).await {
                let changed = self
                    .last_sent
                    .as_ref()
                    .is_none_or(|sent| !Arc::ptr_eq(sent, &payload) && **sent != *payload);
                if changed {
                    let theirs = self.live.for_person(&self.person, self.zone);
                    self.stories_ahead.warm(theirs, self.closing.clone());
                    self.last_sent = Some(payload.clone());
                    return Some(
                        Event::default()
                            .event("dashboard")
                            .retry(RECONNECT_AFTER)
                            .data(payload.as_ref()),
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
