//! Prometheus metrics of the pipeline and the HTTP server, served at `GET /metrics`.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    exponential_buckets, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter,
    IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Every metric of the process, registered once.
pub struct Metrics {
    registry: Registry,
    pub events_counted: IntCounter,
    pub dead_letters: IntCounterVec,
    pub batch_events: Histogram,
    pub flush_seconds: Histogram,
    pub mongodb_seconds: HistogramVec,
    pub partition_lag: IntGaugeVec,
    pub listens_held: IntGaugeVec,
    pub http_requests: IntCounterVec,
    pub http_seconds: HistogramVec,
    pub stories_worked_out: IntCounterVec,
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new_custom(Some("spotify_analytics".into()), None)
            .expect("a valid metric prefix");
        let latency = exponential_buckets(0.001, 2.0, 15).expect("valid buckets");
        // Answers take a millisecond or less: buckets from 125 µs tell a
        // 1 ms answer from a 2 ms one (and 16 s at the top, as above).
        let answering = exponential_buckets(0.000_125, 2.0, 18).expect("valid buckets");
        let metrics = Self {
            events_counted: IntCounter::new(
                "events_counted_total",
                "Listen events counted into the aggregates",
            )
            .expect("valid metric"),
            dead_letters: IntCounterVec::new(
                Opts::new(
                    "dead_letters_total",
                    "Messages set aside on the dead-letter topic, by reason",
                ),
                &["reason"],
            )
            .expect("valid metric"),
            batch_events: Histogram::with_opts(
                HistogramOpts::new("batch_events", "Messages per micro-batch")
                    .buckets(exponential_buckets(1.0, 4.0, 8).expect("valid buckets")),
            )
            .expect("valid metric"),
            flush_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "batch_flush_seconds",
                    "Time to journal and publish a micro-batch",
                )
                .buckets(latency.clone()),
            )
            .expect("valid metric"),
            mongodb_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "mongodb_write_seconds",
                    "MongoDB write latency, by operation",
                )
                .buckets(latency.clone()),
                &["operation"],
            )
            .expect("valid metric"),
            partition_lag: IntGaugeVec::new(
                Opts::new(
                    "consumer_lag_messages",
                    "Messages of a partition not yet consumed",
                ),
                &["partition"],
            )
            .expect("valid metric"),
            listens_held: IntGaugeVec::new(
                Opts::new(
                    "listens_held",
                    "Listens held in memory, of partitions counted here or followed here",
                ),
                &["keeper"],
            )
            .expect("valid metric"),
            http_requests: IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests, by route and status"),
                &["route", "status"],
            )
            .expect("valid metric"),
            http_seconds: HistogramVec::new(
                HistogramOpts::new("http_request_seconds", "HTTP request latency, by route")
                    .buckets(answering),
                &["route"],
            )
            .expect("valid metric"),
            stories_worked_out: IntCounterVec::new(
                Opts::new(
                    "stories_worked_out_total",
                    "Reviews of a year or a month, and months' discoveries, worked out from \
                     the listens (not read from those kept), by story",
                ),
                &["story"],
            )
            .expect("valid metric"),
            registry,
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 10] = [
            Box::new(metrics.events_counted.clone()),
            Box::new(metrics.dead_letters.clone()),
            Box::new(metrics.batch_events.clone()),
            Box::new(metrics.flush_seconds.clone()),
            Box::new(metrics.mongodb_seconds.clone()),
            Box::new(metrics.partition_lag.clone()),
            Box::new(metrics.listens_held.clone()),
            Box::new(metrics.http_requests.clone()),
            Box::new(metrics.http_seconds.clone()),
            Box::new(metrics.stories_worked_out.clone()),
        ];
        for collector in collectors {
            metrics
                .registry
                .register(collector)
                .expect("each metric registered once");
        }
        metrics
    }

    /// Times a MongoDB write of the given kind.
    pub fn mongodb_timer(&self, operation: &str) -> prometheus::HistogramTimer {
        self.mongodb_seconds
            .with_label_values(&[operation])
            .start_timer()
    }

    /// Notes how long MongoDB took for a write of the given kind made in
    /// parts, with other work between them.
    pub fn mongodb_observe(&self, operation: &str, took: std::time::Duration) {
        self.mongodb_seconds
            .with_label_values(&[operation])
            .observe(took.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// `GET /metrics`.
pub async fn serve_metrics() -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        METRICS.render(),
    )
        .into_response()
}

/// Counts and times every request by its route pattern (never by raw path,
/// which would let clients create unbounded label values).
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    METRICS
        .http_seconds
        .with_label_values(&[route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    METRICS
        .http_requests
        .with_label_values(&[route.as_str(), response.status().as_str()])
        .inc();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_in_the_text_format() {
        METRICS.events_counted.inc_by(3);
        METRICS.dead_letters.with_label_values(&["not_json"]).inc();
        METRICS.partition_lag.with_label_values(&["0"]).set(7);
        METRICS.mongodb_timer("journal").observe_duration();
        METRICS
            .http_requests
            .with_label_values(&["/api/summary", "200"])
            .inc();
        let text = METRICS.render();
        for name in [
            "spotify_analytics_events_counted_total",
            "spotify_analytics_dead_letters_total{reason=\"not_json\"}",
            "spotify_analytics_consumer_lag_messages{partition=\"0\"} 7",
            "spotify_analytics_batch_flush_seconds_bucket",
            "spotify_analytics_mongodb_write_seconds",
            "spotify_analytics_http_requests_total",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
