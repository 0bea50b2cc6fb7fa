//! The listening-analytics pipeline, stage by stage:
//!
//! ```text
//! ingest  →  stream   →  aggregate  →  store    →  serve
//! (files)    (Kafka)     (pure fold)   (MongoDB)   (axum + Leptos)
//! ```
//!
//! - [`accounts`]: people, their passwords and the secrets that prove who they are;
//! - [`event`]: the one event type, [`event::ListenEvent`];
//! - [`ingest`]: readers that turn history files into events or rejections;
//! - [`import`]: one import of a person's history files, what became of each
//!   record, and the registry of imports it checks;
//! - [`page_import`]: imports uploaded from the page, one per person at a
//!   time, resumed exactly after a restart;
//! - [`stream`]: sending to Kafka ([`stream::send`]), the consumer task
//!   ([`stream::consume`]) and the dead-letter topic;
//! - [`aggregate`]: the pure fold of events into per-batch deltas;
//! - [`rollup`]: the same listens by day, and time-range questions answered from them;
//! - [`store`]: MongoDB collections, the exactly-once batch journal, top-k reads;
//! - [`serve`]: the HTTP router: dashboard, JSON API, health;
//! - [`admin`]: `server accounts …`, managing accounts from a shell;
//! - [`config`]: settings from flags and environment; [`status`]: pipeline health;
//!   [`metrics`]: Prometheus metrics;
//! - [`sample`]: the generator of realistic sample history.

pub mod accounts;
pub mod admin;
pub mod aggregate;
pub mod config;
pub mod event;
pub mod import;
pub mod ingest;
pub mod metrics;
pub mod page_import;
pub mod rollup;
pub mod sample;
pub mod serve;
pub mod status;
pub mod store;
pub mod stream;
pub mod zone;

/// Logs to stderr; `RUST_LOG` picks what is shown, `LOG_FORMAT=json` writes
/// one JSON object per line for log collectors. Lines that cannot be written
/// are dropped.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rdkafka=warn,usvg=error"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // When stderr is gone (its reader exited), logging must not turn into
        // a panic inside a Kafka callback: that left a stopping server hanging.
        .log_internal_errors(false);
    if std::env::var("LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json")) {
        logs.json().init();
    } else {
        logs.init();
    }
}
