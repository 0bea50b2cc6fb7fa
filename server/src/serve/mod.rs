//! The HTTP side: the server-rendered dashboard (with its server functions),
//! the JSON API and the health endpoints, on one axum router.

pub mod api;
mod hardening;
pub mod health;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::model::{Dashboard, Limit, PipelineHealth, Summary, TopArtist, TopSong};
use app::source::{Analytics, AnalyticsSource, SourceError};
use app::{shell, App};
use async_trait::async_trait;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};

use crate::status::PipelineStatus;
use crate::store::leaderboard::Leaderboards;
use crate::store::Store;
use health::KafkaProbe;

/// How long a reader waits for MongoDB before serving the last figures read.
const READ_PATIENCE: Duration = Duration::from_secs(1);
/// Figures read this recently are served again without asking MongoDB: under
/// heavy read load the database sees a few reads a second, not one per request.
const REUSE_FOR: Duration = Duration::from_millis(200);

/// The published leaderboards, as the dashboard and the API read them.
pub struct LiveAnalytics {
    store: Store,
    topic: String,
    status: PipelineStatus,
    /// The last leaderboards read and when: reused for [`REUSE_FOR`], and
    /// served, flagged as not current, while MongoDB cannot be read.
    last_read: Mutex<Option<(Instant, Leaderboards)>>,
}

impl LiveAnalytics {
    pub fn new(store: Store, topic: String, status: PipelineStatus) -> Self {
        Self {
            store,
            topic,
            status,
            last_read: Mutex::default(),
        }
    }

    async fn leaderboards(&self) -> Result<Leaderboards, SourceError> {
        let last_read = self.last_read.lock().ok().and_then(|last| last.clone());
        if let Some((read_at, leaderboards)) = &last_read {
            if read_at.elapsed() < REUSE_FOR {
                return Ok(leaderboards.clone());
            }
        }
        let read = tokio::time::timeout(READ_PATIENCE, self.store.leaderboards(&self.topic));
        let read = match read.await {
            Ok(read) => read.map_err(|error| error.to_string()),
            Err(_) => Err(format!("MongoDB did not answer within {READ_PATIENCE:?}")),
        };
        match read {
            Ok(leaderboards) => {
                self.status.reads_ok();
                if let Ok(mut last_read) = self.last_read.lock() {
                    *last_read = Some((Instant::now(), leaderboards.clone()));
                }
                Ok(leaderboards)
            }
            Err(error) => match last_read {
                Some((_, leaderboards)) => {
                    self.status.reads_failing(error);
                    Ok(leaderboards)
                }
                None => Err(SourceError(error)),
            },
        }
    }
}

fn first<T>(mut rows: Vec<T>, limit: Limit) -> Vec<T> {
    rows.truncate(limit.get() as usize);
    rows
}

#[async_trait]
impl AnalyticsSource for LiveAnalytics {
    async fn summary(&self) -> Result<Summary, SourceError> {
        Ok(self.leaderboards().await?.summary)
    }

    async fn top_songs(&self, limit: Limit) -> Result<Vec<TopSong>, SourceError> {
        Ok(first(self.leaderboards().await?.top_songs, limit))
    }

    async fn top_artists(&self, limit: Limit) -> Result<Vec<TopArtist>, SourceError> {
        Ok(first(self.leaderboards().await?.top_artists, limit))
    }

    async fn dashboard(&self, limit: Limit) -> Result<Dashboard, SourceError> {
        let leaderboards = self.leaderboards().await?;
        Ok(Dashboard {
            summary: leaderboards.summary,
            top_songs: first(leaderboards.top_songs, limit),
            top_artists: first(leaderboards.top_artists, limit),
            health: self.health(),
        })
    }

    fn health(&self) -> PipelineHealth {
        PipelineHealth {
            problem: self.status.problem(),
        }
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub analytics: Analytics,
    pub store: Store,
    pub kafka: Arc<KafkaProbe>,
}

/// The whole site: JSON API, health checks, the dashboard and its assets.
pub fn router(options: LeptosOptions, state: AppState) -> Router {
    let analytics = state.analytics.clone();
    let context = move || provide_context(analytics.clone());
    let site = Router::new()
        .leptos_routes_with_context(&options, generate_route_list(App), context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context(context, shell))
        .with_state(options);
    let routes = api::routes()
        .merge(health::routes())
        .with_state(state)
        .merge(site)
        .layer(axum::middleware::from_fn(crate::metrics::track_requests));
    hardening::harden(routes)
}
