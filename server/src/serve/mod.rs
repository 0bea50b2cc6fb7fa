//! The HTTP side: the server-rendered dashboard (with its server functions),
//! the JSON API and the health endpoints, on one axum router.

pub mod api;
pub mod health;

use std::sync::Arc;

use app::model::{Limit, PipelineHealth, Summary, TopArtist, TopSong};
use app::source::{Analytics, AnalyticsSource, SourceError};
use app::{shell, App};
use async_trait::async_trait;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};

use crate::status::PipelineStatus;
use crate::store::{Store, StoreError};
use health::KafkaProbe;

/// The aggregates as the dashboard and the API read them.
pub struct LiveAnalytics {
    pub store: Store,
    pub status: PipelineStatus,
}

fn unavailable(error: StoreError) -> SourceError {
    SourceError(error.to_string())
}

#[async_trait]
impl AnalyticsSource for LiveAnalytics {
    async fn summary(&self) -> Result<Summary, SourceError> {
        self.store.summary().await.map_err(unavailable)
    }

    async fn top_songs(&self, limit: Limit) -> Result<Vec<TopSong>, SourceError> {
        self.store.top_songs(limit.get()).await.map_err(unavailable)
    }

    async fn top_artists(&self, limit: Limit) -> Result<Vec<TopArtist>, SourceError> {
        self.store
            .top_artists(limit.get())
            .await
            .map_err(unavailable)
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
    api::routes()
        .merge(health::routes())
        .with_state(state)
        .merge(site)
}
