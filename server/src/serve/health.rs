//! `GET /healthz`: the process is up. `GET /readyz`: Kafka and MongoDB
//! answer; publicly only ready or not, on the monitoring address with the
//! reasons (which name hosts). `GET /metrics` (monitoring address only):
//! Prometheus metrics.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rdkafka::producer::{BaseProducer, Producer};
use serde_json::json;

use super::AppState;
use crate::config::KafkaSettings;
use crate::stream::{check_reachable, client_config, describe, KafkaUnreachable};

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
}

pub fn monitoring_routes() -> Router<AppState> {
    Router::new()
        .route("/readyz", get(readyz_detailed))
        .route("/metrics", get(metrics))
}

/// `GET /metrics`, with the listens held here as of now.
async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    let (counted, followed) = state.live.listens_held();
    let held = &crate::metrics::METRICS.listens_held;
    held.with_label_values(&["counted"]).set(counted);
    held.with_label_values(&["followed"]).set(followed);
    crate::metrics::serve_metrics().await
}

/// A Kafka client kept only to ask the cluster whether it answers.
pub struct KafkaProbe {
    client: BaseProducer,
    brokers: String,
}

impl KafkaProbe {
    pub fn new(kafka: &KafkaSettings) -> Result<Self, KafkaUnreachable> {
        let client = client_config(kafka)
            .create()
            .map_err(|error| KafkaUnreachable {
                brokers: kafka.brokers.clone(),
                detail: describe(&error),
            })?;
        Ok(Self {
            client,
            brokers: kafka.brokers.clone(),
        })
    }

    pub async fn check(self: Arc<Self>) -> Result<(), String> {
        tokio::task::spawn_blocking(move || {
            check_reachable(self.client.client(), &self.brokers, CHECK_TIMEOUT)
                .map(|_| ())
                .map_err(|error| error.to_string())
        })
        .await
        .unwrap_or_else(|error| Err(format!("the Kafka check did not finish: {error}")))
    }
}

/// Whether Kafka and MongoDB answer, and if not, why.
async fn check(state: &AppState) -> (Result<(), String>, Result<(), String>) {
    let mongodb = async {
        tokio::time::timeout(CHECK_TIMEOUT, state.store.ping())
            .await
            .map_err(|_| "MongoDB did not answer within 2 s".to_string())?
            .map_err(|error| error.to_string())
    };
    tokio::join!(state.kafka.clone().check(), mongodb)
}

fn status_of(ready: bool) -> (StatusCode, &'static str) {
    if ready {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    }
}

/// Ready or not, nothing more: the reasons name hosts.
async fn readyz(State(state): State<AppState>) -> Response {
    let (kafka, mongodb) = check(&state).await;
    let (status, word) = status_of(kafka.is_ok() && mongodb.is_ok());
    (status, Json(json!({ "status": word }))).into_response()
}

async fn readyz_detailed(State(state): State<AppState>) -> Response {
    let (kafka, mongodb) = check(&state).await;
    let verdict = |result: &Result<(), String>| match result {
        Ok(()) => "ok".to_string(),
        Err(error) => error.clone(),
    };
    let (status, word) = status_of(kafka.is_ok() && mongodb.is_ok());
    let body = json!({
        "status": word,
        "kafka": verdict(&kafka),
        "mongodb": verdict(&mongodb),
    });
    (status, Json(body)).into_response()
}
