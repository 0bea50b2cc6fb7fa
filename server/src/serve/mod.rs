//! The HTTP side: the server-rendered dashboard (with its server functions),
//! the JSON API and the health endpoints, on one axum router.

pub mod api;
mod charts;
mod hardening;
pub mod health;
mod live;
mod push;
pub mod range_api;

use std::sync::Arc;

use app::source::Analytics;
use app::{shell, App};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};

use crate::store::Store;
use health::KafkaProbe;
pub use live::LiveAnalytics;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub analytics: Analytics,
    pub store: Store,
    pub kafka: Arc<KafkaProbe>,
    /// The rollups by day, for questions about time ranges.
    pub ranges: range_api::Ranges,
    /// Changes of the figures, pushed to open pages.
    pub changes: tokio::sync::watch::Receiver<live::Figures>,
    /// Becomes true when the server starts to stop: pushed streams then end.
    pub closing: tokio::sync::watch::Receiver<bool>,
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
        .merge(push::routes())
        .merge(range_api::routes())
        .merge(charts::routes())
        .with_state(state)
        .merge(site)
        .layer(axum::middleware::from_fn(crate::metrics::track_requests));
    hardening::harden(routes)
}
