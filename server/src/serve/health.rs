//! `GET /healthz`: the process is up. `GET /readyz`: Kafka and MongoDB answer.
//! `GET /metrics`: Prometheus metrics.

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
use crate::stream::{check_reachable, client_config, describe, KafkaUnreachable};

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::serve_metrics))
}

/// A Kafka client kept only to ask the cluster whether it answers.
pub struct KafkaProbe {
    client: BaseProducer,
    brokers: String,
}

impl KafkaProbe {
    pub fn new(brokers: &str) -> Result<Self, KafkaUnreachable> {
        let client = client_config(brokers)
            .create()
            .map_err(|error| KafkaUnreachable {
                brokers: brokers.to_string(),
                detail: describe(&error),
            })?;
        Ok(Self {
            client,
            brokers: brokers.to_string(),
        })
    }

    pub async fn check(self: Arc<Self>) -> Result<(), String> {
        tokio::task::spawn_blocking(move || {
            check_reachable(self.client.client(), &self.brokers, CHECK_TIMEOUT)
                .map_err(|error| error.to_string())
        })
        .await
        .unwrap_or_else(|error| Err(format!("the Kafka check did not finish: {error}")))
    }
}

async fn readyz(State(state): State<AppState>) -> Response {
    let mongodb = async {
        tokio::time::timeout(CHECK_TIMEOUT, state.store.ping())
            .await
            .map_err(|_| "MongoDB did not answer within 2 s".to_string())?
            .map_err(|error| error.to_string())
    };
    let (kafka, mongodb) = tokio::join!(state.kafka.clone().check(), mongodb);
    let verdict = |result: &Result<(), String>| match result {
        Ok(()) => "ok".to_string(),
        Err(error) => error.clone(),
    };
    let body = json!({
        "status": if kafka.is_ok() && mongodb.is_ok() { "ready" } else { "unavailable" },
        "kafka": verdict(&kafka),
        "mongodb": verdict(&mongodb),
    });
    let status = if kafka.is_ok() && mongodb.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
