//! The web server: serves the dashboard and the JSON API, and runs the Kafka
//! consumer task that keeps the aggregates current.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::source::Analytics;
use clap::Parser;
use server::config::ServerConfig;
use server::serve::health::KafkaProbe;
use server::serve::range_api::Ranges;
use server::serve::{router, AppState, LiveAnalytics};
use server::status::PipelineStatus;
use server::store::Store;
use server::stream::consume::ConsumerTask;
use tokio::sync::watch;
use tracing::info;

/// How long a stopping server waits for the consumer to finish its batch.
const CONSUMER_STOP_TIMEOUT: Duration = Duration::from_secs(4);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = ServerConfig::parse();
    server::init_logging();
    let leptos = leptos::config::get_configuration(None)
        .context("reading the Leptos settings (LEPTOS_* environment variables)")?
        .leptos_options;
    let site_addr = leptos.site_addr;
    eprintln!("{}", config.describe(&site_addr.to_string()));

    let store = Store::connect(&config.mongo).await?;
    let status = PipelineStatus::default();
    let (stop, stopping) = watch::channel(false);
    let consumer = tokio::spawn(
        ConsumerTask {
            kafka: config.kafka.clone(),
            group_id: config.group_id.clone(),
            group_instance_id: config.group_instance_id.clone(),
            batching: config.batching.clone(),
            store: store.clone(),
            status: status.clone(),
            shutdown: stopping,
        }
        .run(),
    );

    let ranges = Ranges::default();
    let live = LiveAnalytics::start(
        store.clone(),
        config.kafka.topic.clone(),
        status,
        ranges.clone(),
    );
    let (close, closing) = watch::channel(false);
    let state = AppState {
        changes: live.changes(),
        analytics: Analytics(Arc::new(live)),
        store,
        kafka: Arc::new(KafkaProbe::new(&config.kafka.brokers)?),
        closing,
        ranges,
    };
    let listener = tokio::net::TcpListener::bind(site_addr)
        .await
        .with_context(|| {
            format!("cannot listen on {site_addr}; set LEPTOS_SITE_ADDR to a free address")
        })?;
    let address = listener.local_addr()?;
    // Scripts and tests read this line to find the server.
    println!("listening on http://{address}");
    info!("dashboard at http://{address}");
    axum::serve(listener, router(leptos, state))
        .with_graceful_shutdown(async move {
            stop_signal().await;
            // Ends the pushed streams, which would otherwise hold the shutdown open.
            let _ = close.send(true);
        })
        .await?;

    info!("stopping: finishing the batch in flight");
    let _ = stop.send(true);
    if tokio::time::timeout(CONSUMER_STOP_TIMEOUT, consumer)
        .await
        .is_err()
    {
        tracing::warn!(
            "the consumer did not stop in time; its batch will be read again on restart"
        );
        // Leaving now is safe: whatever was not journaled is read again.
        std::process::exit(0);
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}
