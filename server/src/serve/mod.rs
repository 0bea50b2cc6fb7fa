//! The HTTP side: the server-rendered dashboard (with its server functions),
//! the JSON API and the health endpoints, on one axum router.

pub mod api;
mod hardening;
pub mod health;

use std::sync::Arc;

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

/// The published leaderboards, as the dashboard and the API read them.
pub struct LiveAnalytics {
    pub store: Store,
    pub status: PipelineStatus,
}

impl LiveAnalytics {
    async fn leaderboards(&self) -> Result<Leaderboards, SourceError> {
        self.store
            .leaderboards()
            .await
            .map_err(|error| SourceError(error.to_string()))
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
