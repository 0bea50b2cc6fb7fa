//! The HTTP side: the server-rendered dashboard (with its server functions),
//! the JSON API and the health endpoints on the public router; metrics and
//! the detailed readiness report on a router for monitoring only.

mod account_services;
mod answer;
pub mod api;
pub mod ask;
mod assets;
pub mod auth;
mod cards;
mod charts;
pub mod client;
mod csp;
mod drawn;
#[cfg(test)]
mod figures_tests;
mod hardening;
pub mod health;
pub mod listener;
mod live;
mod locale;
mod merged;
pub mod origin;
pub mod owners;
pub mod peer;
mod push;
pub mod query;
pub mod range_api;
#[cfg(test)]
mod router_tests;
pub mod session;
mod upload;
pub mod warm;

use std::sync::Arc;

use app::reader_zone::ReaderZone;
use app::source::Analytics;
use app::{shell, App};
use axum::Router;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};

use crate::config::{HttpSettings, KafkaSettings};
use crate::page_import::WebImports;
use crate::store::Store;
use account_services::{Administration, PersonSettings};
use app::model::ViewerInfo;
use app::source::{Accounts, People};
use auth::{Access, Auth, Viewer};
use axum::http::request::Parts;
use health::KafkaProbe;
pub use live::LiveAnalytics;
use origin::SiteOrigin;
use session::Sessions;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Everyone's latest figures; each request reads only its person's.
    pub live: Arc<LiveAnalytics>,
    pub store: Store,
    pub kafka: Arc<KafkaProbe>,
    /// How to reach the listens topic, for control events.
    pub kafka_settings: Arc<KafkaSettings>,
    /// Becomes true when the server starts to stop: pushed streams then end.
    pub closing: tokio::sync::watch::Receiver<bool>,
    /// Live streams that may still be opened, by anyone.
    pub live_streams: Arc<tokio::sync::Semaphore>,
    /// Most live streams one person may hold open.
    pub live_streams_per_person: usize,
    /// Live streams open, per person.
    pub open_streams: push::OpenStreams,
    /// Imports started from the page.
    pub imports: WebImports,
    /// Works out the year reviews and discoveries of people whose dashboard is open.
    pub stories_ahead: warm::StoriesAhead,
}

/// The whole public site: JSON API, health checks, the dashboard and its
/// assets, signing in and out; every request matched to the person it acts for.
pub fn router(
    options: LeptosOptions,
    state: AppState,
    settings: &HttpSettings,
    sessions: Sessions,
) -> Router {
    let mut options = options;
    let naming = assets::detect_naming(&mut options);
    let live = state.live.clone();
    let kafka = state.kafka_settings.clone();
    let imports = state.imports.clone();
    let (auth, site) = (sessions.auth.clone(), sessions.site.clone());
    let clean_ups = account_services::CleanUps::default();
    let context = move || {
        let parts = use_context::<Parts>();
        // The script nonce of this response's Content-Security-Policy.
        if let Some(nonce) = parts.as_ref().and_then(csp::nonce_of) {
            provide_context(nonce);
        }
        if let Some(parts) = &parts {
            provide_context(Arc::new(locale::of_request(&parts.headers)));
        }
        if let Some(viewer) = parts
            .as_ref()
            .and_then(|parts| parts.extensions.get::<Viewer>())
        {
            provide_viewer(viewer, &live, &kafka, &imports, &auth, &site, &clean_ups);
        }
    };
    let asset_routes = assets::routes(&options, naming);
    let site_routes = Router::new()
        .leptos_routes_with_context(&options, generate_route_list(App), context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context(context, shell))
        .with_state(options);
    let (auth, site) = (sessions.auth.clone(), sessions.site.clone());
    let uploads = upload::routes()
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            auth.clone(),
            auth::identify,
        ))
        .layer(axum::middleware::from_fn(crate::metrics::track_requests));
    let routes = api::routes()
        .merge(health::routes())
        .merge(push::routes())
        .merge(range_api::routes())
        .merge(charts::routes())
        .merge(cards::routes())
        .with_state(state)
        .merge(session::routes().with_state(sessions))
        .merge(asset_routes)
        .merge(site_routes)
        .layer(axum::middleware::from_fn_with_state(auth, auth::identify))
        .layer(axum::middleware::from_fn(crate::metrics::track_requests));
    hardening::harden(routes, uploads, settings, site)
}

/// What the pages and server functions of one request may use, for the
/// person it acts for: their own figures, who they are, their own settings
/// (not through a share link), and the people page for administrators.
fn provide_viewer(
    viewer: &Viewer,
    live: &Arc<LiveAnalytics>,
    kafka: &Arc<KafkaSettings>,
    imports: &WebImports,
    auth: &Auth,
    site: &SiteOrigin,
    clean_ups: &account_services::CleanUps,
) {
    provide_context(Analytics(Arc::new(
        live.for_person(&viewer.person, viewer.zone),
    )));
    let zone = viewer.zone;
    app::reader_zone::provide(ReaderZone::new(
        zone.name(),
        Arc::new(move |at: DateTime<Utc>| Some(zone.local(at.timestamp_millis()))),
    ));
    provide_context(ViewerInfo {
        name: viewer.name.to_string(),
        admin: viewer.is_admin(),
        shared: viewer.access == Access::SharedLink,
    });
    if viewer.access == Access::Owner {
        provide_context(Accounts(Arc::new(PersonSettings {
            viewer: viewer.clone(),
            auth: auth.clone(),
            site: site.clone(),
            kafka: kafka.clone(),
            imports: imports.clone(),
            live: live.clone(),
            clean_ups: clean_ups.clone(),
        })));
    }
    if viewer.is_admin() {
        provide_context(People(Arc::new(Administration {
            viewer: viewer.clone(),
            auth: auth.clone(),
            site: site.clone(),
            live: live.clone(),
            kafka: kafka.clone(),
            imports: imports.clone(),
        })));
    }
}

/// Prometheus metrics and the detailed readiness report (hosts and
/// reasons): for monitoring on an internal address, never the public one.
pub fn monitoring_router(state: AppState) -> Router {
    health::monitoring_routes().with_state(state)
}
