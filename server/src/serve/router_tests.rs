//! The public router in process (`tower::ServiceExt::oneshot`), without any
//! service: every route the router has, read from the router itself so that
//! a new one cannot be forgotten, answers a request without a session as it
//! must.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::Router;
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;

use super::ask::Asker;
use super::auth::{needs, Auth, Needs};
use super::health::KafkaProbe;
use super::live::LiveAnalytics;
use super::origin::SiteOrigin;
use super::owners::{Directory, Instance};
use super::peer::PeerClient;
use super::session::Sessions;
use super::{router, AppState};
use crate::config::{HttpSettings, KafkaSettings, MongoSettings, UploadSettings};
use crate::page_import::WebImports;
use crate::rollup::held::Held;
use crate::status::PipelineStatus;
use crate::store::Store;

/// The public router; the store and the broker point at addresses where
/// nothing answers, so no figures are there.
async fn public_router() -> Router {
    router_with(Held::default()).await.0
}

/// The public router answering from `held`, figures held in memory only,
/// and its sessions (tests may tell them who a secret proves).
pub(super) async fn router_with(held: Held) -> (Router, Auth) {
    let store = Store::connect(&MongoSettings {
        uri: "mongodb://127.0.0.1:1".into(),
        database: "unused".into(),
    })
    .await
    .expect("a valid address");
    let kafka = KafkaSettings {
        brokers: "127.0.0.1:1".into(),
        topic: "unused".into(),
        partitions: 1,
        dead_letter_retention_days: 7,
        security: Default::default(),
    };
    let (_, closing) = tokio::sync::watch::channel(false);
    let figures = store.for_topic(&kafka.topic);
    // Nobody else owns anything: every question is answered from `held`.
    let directory = Directory::new(Instance::new("http://127.0.0.1:1".into()));
    let asker = Asker::new(
        held,
        directory.clone(),
        PeerClient::new(Default::default()),
        figures.clone(),
    );
    let state = AppState {
        live: Arc::new(LiveAnalytics::start(
            figures,
            PipelineStatus::default(),
            asker,
            directory,
            Default::default(),
        )),
        store: store.clone(),
        kafka: Arc::new(KafkaProbe::new(&kafka).expect("a client")),
        kafka_settings: Arc::new(kafka.clone()),
        closing,
        live_streams: Arc::new(tokio::sync::Semaphore::new(4)),
        live_streams_per_person: 2,
        open_streams: Default::default(),
        stories_ahead: Default::default(),
        imports: WebImports::new(
            &UploadSettings {
                max_upload_bytes: 1 << 20,
                uploads_per_hour: 2,
                upload_dir: None,
            },
            Default::default(),
            Arc::new(kafka),
            store.for_topic("router_tests"),
        ),
    };
    let settings = HttpSettings {
        public_url: None,
        metrics_addr: "127.0.0.1:0".parse().unwrap(),
        max_connections: 16,
        header_read_timeout_secs: 10,
        request_timeout_secs: 10,
        max_live_streams: 4,
        max_live_streams_per_person: 2,
        trusted_proxy: None,
    };
    let site = SiteOrigin::new(None, "127.0.0.1:3000".parse().unwrap());
    let auth = Auth::new(store, chrono::Duration::days(14));
    let sessions = Sessions::new(auth.clone(), site);
    let options = LeptosOptions::builder()
        .output_name("spotify-analytics")
        .build();
    (router(options, state, &settings, sessions), auth)
}

/// The paths of the router's routes, read from its own description (axum
/// lists each route's path there); parameters filled in with `x`.
fn route_paths(router: &Router) -> Vec<String> {
    let description = format!("{router:?}");
    let routes = description
        .split("fallback_router")
        .next()
        .unwrap_or_default();
    let Some((_, paths)) = routes.split_once("paths: {") else {
        return Vec::new();
    };
    let mut found: Vec<String> = paths
        .split("RouteId(")
        .filter_map(|entry| {
            let start = entry.find('"')? + 1;
            let end = start + entry[start..].find('"')?;
            Some(fill_parameters(&entry[start..end]))
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

fn fill_parameters(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "x"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn answer(router: &Router, method: Method, path: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:3000")
        .header("origin", "http://127.0.0.1:3000")
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (response.status(), location)
}

#[tokio::test]
async fn every_route_without_a_session_leads_to_sign_in_or_is_refused() {
    let router = public_router().await;
    let paths = route_paths(&router);
    assert!(
        paths.len() > 15 && paths.contains(&"/api/top-songs".to_string()),
        "the route table was not read: {paths:?}"
    );
    let mut checked = 0;
    for path in &paths {
        for method in [Method::GET, Method::POST] {
            let (status, location) = answer(&router, method.clone(), path).await;
            let page = method == Method::GET
                && !["/api/", "/rpc/", "/charts/"]
                    .iter()
                    .any(|prefix| path.starts_with(prefix));
            match needs(&method, path) {
                Needs::Nobody => assert!(
                    !status.is_server_error() || path == "/readyz",
                    "{method} {path}: {status}"
                ),
                _ if page => {
                    assert_eq!(status, StatusCode::SEE_OTHER, "{method} {path}");
                    assert!(
                        location.starts_with("/sign-in?next="),
                        "{method} {path}: {location}"
                    );
                }
                _ => assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}"),
            }
            checked += 1;
        }
    }
    eprintln!(
        "{checked} requests to {} routes without a session",
        paths.len()
    );
}

#[tokio::test]
async fn a_malformed_token_is_refused_and_says_how_to_authenticate() {
    let router = public_router().await;
    let request = Request::builder()
        .uri("/api/summary")
        .header("host", "127.0.0.1:3000")
        .header("authorization", "Bearer not-a-token")
        .body(Body::empty())
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}
