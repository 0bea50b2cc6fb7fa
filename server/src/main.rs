//! The web server: serves the dashboard and the JSON API, and runs the Kafka
//! consumer task that keeps the aggregates current.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use server::config::{ServerCommand, ServerConfig};
use server::page_import::WebImports;
use server::rollup::held::Held;
use server::serve::ask::Asker;
use server::serve::auth::Auth;
use server::serve::client::TrustedProxy;
use server::serve::health::KafkaProbe;
use server::serve::listener::{self, ConnectionLimits};
use server::serve::origin::SiteOrigin;
use server::serve::owners::{Directory, Instance};
use server::serve::peer::{self, PeerClient, PeerKey, PeerState};
use server::serve::session::Sessions;
use server::serve::{monitoring_router, router, AppState, LiveAnalytics};
use server::status::PipelineStatus;
use server::store::accounts::LinkPurpose;
use server::store::leaderboard::WrittenSignal;
use server::store::{Store, StoreError, TopicStore};
use server::stream::consume::ConsumerTask;
use server::stream::publisher::Publisher;
use tokio::sync::watch;
use tracing::info;

/// How long a stopping server waits for the consumer to finish its batch.
const CONSUMER_STOP_TIMEOUT: Duration = Duration::from_secs(4);
/// How long a stopping server waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a stopping server waits for work on blocking threads (an
/// import from the page reading its file) once it has stopped.
const BLOCKING_STOP_TIMEOUT: Duration = Duration::from_secs(2);

fn main() -> anyhow::Result<()> {
    tune_allocator();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(run());
    runtime.shutdown_timeout(BLOCKING_STOP_TIMEOUT);
    outcome
}

/// Sets two parameters of glibc's allocator (an operator's own
/// `MALLOC_ARENA_MAX` or `MALLOC_MMAP_THRESHOLD_` is left as set):
/// - two arenas instead of one per busy thread (up to eight per core):
///   memory freed in one arena is not reused by threads of another, and
///   with counting, serving and Kafka's threads that kept about 30 MiB of
///   freed memory over 100 people's import (peak RSS 311–317 MiB against
///   281–287 MiB with two);
/// - blocks of 1 MiB and more in memory mapped apart, always: glibc raises
///   that bound as large blocks are freed, after which a growing vector's
///   old copies stay in the heap as holes. Peak RSS 157–168 → 145–153 MiB
///   importing a million-listen upload, 250–272 → 247–248 MiB over 100
///   people's import, with no more CPU (at 256 KiB, mapping and unmapping
///   cost 15% more of the server's CPU).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunings = [
            ("MALLOC_ARENA_MAX", libc::M_ARENA_MAX, 2),
            ("MALLOC_MMAP_THRESHOLD_", libc::M_MMAP_THRESHOLD, 1 << 20),
        ];
        for (variable, parameter, value) in tunings {
            if std::env::var_os(variable).is_some() {
                continue;
            }
            // SAFETY: mallopt only sets a parameter of the allocator, here
            // before any other thread exists; both take any positive value
            // (the mapping bound up to 32 MiB on 64-bit systems).
            if unsafe { libc::mallopt(parameter, value) } == 0 {
                eprintln!(
                    "note: the allocator refused {variable}={value}; memory use may be higher"
                );
            }
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let mut config = ServerConfig::parse();
    server::init_logging();
    if let Some(ServerCommand::Accounts(command)) = config.command.take() {
        let store = Store::connect(&config.mongo).await?;
        store.ping().await?;
        let public_url = match &config.http.public_url {
            Some(url) => SiteOrigin::new(Some(url), ([127, 0, 0, 1], 0).into())
                .public_url()
                .to_string(),
            None => format!(
                "http://{}",
                std::env::var("LEPTOS_SITE_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into())
            ),
        };
        config.kafka.load_secrets()?;
        let outcome = server::admin::run(&store, &config.kafka, &public_url, command).await;
        store.shutdown().await;
        return outcome;
    }
    config.kafka.load_secrets()?;
    let leptos = leptos::config::get_configuration(None)
        .context("reading the Leptos settings (LEPTOS_* environment variables)")?
        .leptos_options;
    let site_addr = leptos.site_addr;
    eprintln!("{}", config.describe(&site_addr.to_string()));

    let store = Store::connect(&config.mongo).await?;
    let figures = store.for_topic(&config.kafka.topic);
    refuse_other_layouts(&figures).await?;
    let status = PipelineStatus::default();
    let (stop, stopping) = watch::channel(false);
    let held = Held::default();
    let written = WrittenSignal::default();
    // Counting runs on a thread of its own: reading a backlog from Kafka
    // does not yield between messages, and folding and deflating a batch
    // take milliseconds; on the runtime serving requests, they held back
    // the requests queued behind them.
    let counting = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("counting")
        .enable_all()
        .build()
        .context("starting the counting thread")?;
    let consumer = counting.spawn(
        ConsumerTask {
            kafka: config.kafka.clone(),
            group_id: config.group_id.clone(),
            group_instance_id: config.group_instance_id.clone(),
            batching: config.batching.clone(),
            store: figures.clone(),
            status: status.clone(),
            shutdown: stopping,
            held: held.clone(),
            leaderboards: Publisher::start(figures.clone(), status.clone(), written.clone()),
        }
        .run(),
    );

    let (close, closing) = watch::channel(false);
    // Where the other servers ask this one about the partitions it owns.
    let peer_listener = tokio::net::TcpListener::bind(config.peers.addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} for the other servers; set PEER_ADDR to a free address",
                config.peers.addr
            )
        })?;
    let peer_addr = peer_listener.local_addr()?;
    let peer_url = config.peers.url.clone().unwrap_or_else(|| {
        if peer_addr.ip().is_unspecified() {
            tracing::warn!(
                "the peer address {peer_addr} is every interface: set PEER_URL to how the other servers reach it"
            );
        }
        format!("http://{peer_addr}")
    });
    let me = Instance::new(peer_url);
    let peer_key = PeerKey::fetch(store.clone());
    let directory = Directory::new(me.clone());
    directory.start(figures.clone(), held.clone(), closing.clone());
    let asker = Asker::new(
        held.clone(),
        directory.clone(),
        PeerClient::new(peer_key.clone()),
        figures.clone(),
    );
    let peer_state = PeerState {
        held,
        me,
        status: status.clone(),
        key: peer_key,
    };
    let live = LiveAnalytics::start(figures, status, asker, directory, written);
    let state = AppState {
        live: Arc::new(live),
        store: store.clone(),
        kafka: Arc::new(KafkaProbe::new(&config.kafka)?),
        kafka_settings: Arc::new(config.kafka.clone()),
        closing: closing.clone(),
        live_streams: Arc::new(tokio::sync::Semaphore::new(
            config.http.max_live_streams as usize,
        )),
        live_streams_per_person: config.http.max_live_streams_per_person as usize,
        open_streams: Default::default(),
        stories_ahead: Default::default(),
        imports: WebImports::new(
            &config.uploads,
            config.archive.limits(),
            Arc::new(config.kafka.clone()),
            store.for_topic(&config.kafka.topic),
        ),
    };
    // Imports from the page the server stopped during go on; leftovers of
    // its upload folder go before any upload can arrive.
    state.imports.resume_interrupted().await;
    let listener = tokio::net::TcpListener::bind(site_addr)
        .await
        .with_context(|| {
            format!("cannot listen on {site_addr}; set LEPTOS_SITE_ADDR to a free address")
        })?;
    let address = listener.local_addr()?;
    let site = SiteOrigin::new(config.http.public_url.as_ref(), address);
    if address.ip().is_unspecified() && config.http.public_url.is_none() {
        tracing::warn!(
            "listening on every interface without PUBLIC_URL: only the loopback names are \
             answered; set PUBLIC_URL to the address people use"
        );
    }
    let monitoring = tokio::net::TcpListener::bind(config.http.metrics_addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} for metrics; set METRICS_ADDR to a free address",
                config.http.metrics_addr
            )
        })?;
    // Scripts and tests read these lines to find the server.
    announce(&format!("metrics on http://{}", monitoring.local_addr()?));
    announce(&format!("peers on http://{peer_addr}"));
    announce(&format!("listening on http://{address}"));
    info!("dashboard at {}", site.public_url());
    let limits = ConnectionLimits {
        max_connections: config.http.max_connections as usize,
        header_read_timeout: config.http.header_read_timeout(),
        drain_timeout: DRAIN_TIMEOUT,
    };
    let stopping_peers = closing.clone();
    let peers = tokio::spawn(listener::serve(
        peer_listener,
        peer::routes(peer_state),
        limits,
        async move {
            let mut stopping = stopping_peers;
            let _ = stopping.wait_for(|closing| *closing).await;
        },
    ));
    let stopping_monitoring = closing.clone();
    let monitoring = tokio::spawn(listener::serve(
        monitoring,
        monitoring_router(state.clone()),
        limits,
        async move {
            let mut stopping = stopping_monitoring;
            let _ = stopping.wait_for(|closing| *closing).await;
        },
    ));
    let auth = Auth::new(
        store.clone(),
        chrono::Duration::days(i64::from(config.session_idle_days)),
    );
    tokio::spawn(prune_sessions(auth.clone()));
    offer_setup_link(&store, &site).await;
    let sessions = Sessions::new(auth, site).behind(TrustedProxy(config.http.trusted_proxy));
    let imports = state.imports.clone();
    let public = router(leptos, state, &config.http, sessions);
    listener::serve(listener, public, limits, async move {
        stop_signal().await;
        // Ends the pushed streams, which would otherwise hold the shutdown open.
        let _ = close.send(true);
        // Imports from the page end where they are; the next start resumes them.
        imports.pause_all();
    })
    .await;
    let _ = monitoring.await;
    let _ = peers.await;

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
    counting.shutdown_background();
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

/// With no account yet, makes a link that creates the first (admin)
/// account, and says where it is; it works once, for a day.
async fn offer_setup_link(store: &Store, site: &SiteOrigin) {
    let made = async {
        if !store.accounts().await?.is_empty() {
            return Ok(None);
        }
        store.remove_setup_links().await?;
        store
            .create_link(LinkPurpose::Setup, chrono::Duration::days(1))
            .await
            .map(Some)
    };
    match made.await {
        Ok(Some(link)) => {
            let url = format!("{}/setup/{}", site.public_url(), link.expose());
            tracing::warn!("no account yet: create the first (admin) account at {url} (works once, for 24 hours), or run `server accounts add NAME --admin`");
            announce(&format!("setup link: {url}"));
        }
        Ok(None) => {}
        Err(error) => tracing::warn!("cannot check for accounts yet ({error}); restart the server once MongoDB answers to get a setup link"),
    }
}

/// Deletes sessions idle past their expiry, hourly.
async fn prune_sessions(auth: Auth) {
    loop {
        if let Err(error) = auth.store().prune_sessions(auth.idle_expiry()).await {
            tracing::debug!("pruning idle sessions failed: {error}");
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

/// A line on standard output for scripts to read; nobody reading it is no failure.
fn announce(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Stops at once, saying what to do, when the database holds figures this
/// version cannot read (an earlier layout, or another topic's); when MongoDB
/// does not answer yet, the consumer checks again once it does.
async fn refuse_other_layouts(figures: &TopicStore) -> anyhow::Result<()> {
    match figures.check_layout().await {
        Err(error @ (StoreError::EarlierLayout | StoreError::OtherTopic { .. })) => {
            Err(anyhow::anyhow!(error))
        }
        _ => Ok(()),
    }
}
