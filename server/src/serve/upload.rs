//! Imports from the page: `POST /api/imports?name=…` takes an upload (the
//! request body is the file), `GET /api/imports` lists the running import
//! and the history, `GET /api/imports/progress` pushes the running import as
//! server-sent events. The upload is written to disk as it arrives, never
//! held whole in memory, and imported only once it arrived whole; see
//! [`crate::import::web`].

use std::convert::Infallible;
use std::path::Path;
use std::time::Duration;

use app::imports::{ImportReport, IMPORTS_PATH, IMPORT_PROGRESS_PATH};
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use super::auth::Viewer;
use super::push::StreamSlot;
use super::AppState;
use crate::page_import::{Reservation, UploadRefused};

/// How often the progress of an import is pushed, at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The routes of imports; served without the small body limit and the
/// request timeout of the other routes (an upload may be large and slow).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(IMPORTS_PATH, get(list).post(upload))
        .route(IMPORT_PROGRESS_PATH, get(progress))
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    /// The file's name on the person's computer.
    name: Option<String>,
    /// Import it even if its content was imported before.
    #[serde(default)]
    again: bool,
}

async fn upload(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<UploadQuery>,
    request: Request,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    let name = query.name.as_deref().unwrap_or("upload");
    let reservation = match state.imports.reserve(&viewer.person, name, declared).await {
        Ok(reservation) => reservation,
        Err(refused) => return refusal(refused),
    };
    let received = match receive(request.into_body(), &reservation).await {
        Ok(received) => received,
        Err(response) => return response,
    };
    if let Some(declared) = declared.filter(|&declared| declared != received) {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "the upload arrived incomplete ({received} of {declared} bytes); nothing was \
                 imported. Upload the file again"
            ),
        );
    }
    match reservation.start(received, query.again).await {
        Ok(report) => (StatusCode::ACCEPTED, Json(report)).into_response(),
        Err(refused) => refusal(refused),
    }
}

/// Writes the request body to the reservation's file as it arrives; the
/// bytes received, or the answer when it cannot be taken whole.
async fn receive(body: Body, reservation: &Reservation) -> Result<u64, Response> {
    let limit = reservation.max_upload_bytes();
    let mut file = create_private(&reservation.spool)
        .await
        .map_err(|error| refusal(UploadRefused::Spool(error.to_string())))?;
    let mut received = 0u64;
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|error| {
            refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "the upload stopped before its end ({error}); nothing was imported. \
                     Upload the file again"
                ),
            )
        })?;
        received += chunk.len() as u64;
        if received > limit {
            return Err(refusal(UploadRefused::TooLarge {
                bytes: received,
                limit,
            }));
        }
        file.write_all(&chunk)
            .await
            .map_err(|error| refusal(UploadRefused::Spool(error.to_string())))?;
    }
    file.flush()
        .await
        .map_err(|error| refusal(UploadRefused::Spool(error.to_string())))?;
    Ok(received)
}

/// A new file only the server's user may read.
async fn create_private(path: &Path) -> std::io::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).await
}

fn refusal(refused: UploadRefused) -> Response {
    let status = match &refused {
        UploadRefused::Busy { .. } => StatusCode::CONFLICT,
        UploadRefused::Throttled { retry_after, .. } => {
            let seconds = retry_after.as_secs().max(1).to_string();
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, seconds)],
                Json(json!({ "error": refused.to_string() })),
            )
                .into_response();
        }
        UploadRefused::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        UploadRefused::NotHistory(_) => StatusCode::UNPROCESSABLE_ENTITY,
        UploadRefused::Unrecorded => StatusCode::SERVICE_UNAVAILABLE,
        UploadRefused::Spool(error) => {
            tracing::error!("an upload cannot be kept: {error}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    refuse(status, refused.to_string())
}

fn refuse(status: StatusCode, error: String) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

async fn list(State(state): State<AppState>, Extension(viewer): Extension<Viewer>) -> Response {
    match state.imports.overview(&viewer.person).await {
        Ok(imports) => Json(imports).into_response(),
        Err(error) => refuse(StatusCode::SERVICE_UNAVAILABLE, error),
    }
}

/// The running import as it goes, ending with its outcome; `204` (the
/// browser then does not retry) when none runs.
async fn progress(State(state): State<AppState>, Extension(viewer): Extension<Viewer>) -> Response {
    let Some(progress) = state.imports.progress(&viewer.person) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let Ok(permit) = state.live_streams.clone().try_acquire_owned() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many live streams are open; the page retries by itself".into(),
        );
    };
    let Some(slot) = state
        .open_streams
        .take(&viewer.person, state.live_streams_per_person, permit)
    else {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "you have too many live streams open (close some pages)".into(),
        );
    };
    let follower = ProgressFollower {
        progress,
        closing: state.closing.clone(),
        _slot: slot,
    };
    let events = futures::stream::unfold(Some(follower), |follower| async move {
        let mut follower = follower?;
        let report = follower.progress.borrow_and_update().clone();
        let next = follower.next(&report).await.then_some(follower);
        Some((Ok::<_, Infallible>(progress_event(&report)), next))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// One page following an import; holds one of the person's live streams.
struct ProgressFollower {
    progress: watch::Receiver<ImportReport>,
    /// Becomes true when the server starts to stop: the stream then ends.
    closing: watch::Receiver<bool>,
    _slot: StreamSlot,
}

impl ProgressFollower {
    /// Waits for the report to change after `sent`; false once `sent` was the last.
    async fn next(&mut self, sent: &ImportReport) -> bool {
        if !sent.is_running() {
            return false;
        }
        if *self.closing.borrow() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(PROGRESS_EVERY) => {}
            _ = self.closing.changed() => return false,
        }
        // An import's last report is sent before it ends: the channel
        // closes only after it was seen.
        tokio::select! {
            changed = self.progress.changed() => changed.is_ok(),
            _ = self.closing.changed() => false,
        }
    }
}

fn progress_event(report: &ImportReport) -> Event {
    Event::default()
        .event("import")
        .json_data(report)
        .unwrap_or_else(|_| Event::default().event("import"))
}
