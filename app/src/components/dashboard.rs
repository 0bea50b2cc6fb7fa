//! The overview: how fresh the figures are, updated live as the server
//! pushes them; then one range control that drives every panel below it
//! (totals, rankings, charts, sessions, skips, and the calendar's links),
//! each fetched again as the figures change.

use leptos::prelude::*;

use super::calendar::CalendarSection;
use super::range_view::RangeExplorer;
use super::sessions::SessionsSection;
use super::skips::SkipsSection;
use crate::api::{get_dashboard, DASHBOARD_ROWS};
use crate::format;
use crate::model::{Dashboard, Summary};

#[component]
pub fn DashboardPage() -> impl IntoView {
    // Server-rendered first, then replaced by each successful refresh.
    let first_load = Resource::new(|| (), |_| get_dashboard(DASHBOARD_ROWS));
    let refreshed = RwSignal::new(None::<Dashboard>);
    let refresh_error = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    follow_pushed_figures(refreshed, refresh_error);
    // The figures the page was rendered with count as the first version,
    // so the first push (sent as the stream opens) asks for the range and
    // the calendar again only if the figures changed since.
    let version = Signal::derive(move || match refreshed.get() {
        Some(latest) => latest.summary.updated_at,
        None => first_load
            .get_untracked()
            .and_then(Result::ok)
            .and_then(|first| first.summary.updated_at),
    });

    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the latest figures…"</p> }>
            {move || {
                let first = first_load.get()?;
                let (dashboard, load_error) = match (refreshed.get(), first) {
                    (Some(latest), _) => (Some(latest), None),
                    (None, Ok(first)) => (Some(first), None),
                    (None, Err(error)) => (None, Some(error.to_string())),
                };
                let problem = refresh_error
                    .get()
                    .or(load_error.map(|error| format!("The figures cannot be loaded: {error}")))
                    .or_else(|| dashboard.as_ref().and_then(|d| d.health.problem.clone()));
                Some(view! {
                    <StaleNotice problem />
                    {dashboard.map(|dashboard| view! { <DashboardBody dashboard /> })}
                })
            }}
        </Suspense>
        <RangeExplorer version />
        <CalendarSection version />
        <SessionsSection version />
        <SkipsSection version />
    }
}

/// Where the server pushes the figures as they change (server-sent events).
pub const LIVE_PATH: &str = "/api/live";
/// How long to wait before opening a new stream when the browser gave up on one.
#[cfg(feature = "hydrate")]
const REOPEN_AFTER_MS: i32 = 2000;

/// Follows the figures the server pushes; effects never run during server
/// rendering. While the stream is down, `disconnected` says so; the browser
/// reconnects by itself, and a stream it gave up on is opened anew.
#[cfg(feature = "hydrate")]
fn follow_pushed_figures(
    latest: RwSignal<Option<Dashboard>>,
    disconnected: RwSignal<Option<String>>,
) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    let reopened = RwSignal::new(0u32);
    Effect::new(move |_| {
        reopened.track();
        let Ok(source) = EventSource::new(LIVE_PATH) else {
            disconnected.set(Some("this browser cannot receive live updates".into()));
            return;
        };
        let on_figures = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            match serde_json::from_str::<Dashboard>(&text) {
                Ok(dashboard) => {
                    latest.set(Some(dashboard));
                    disconnected.set(None);
                }
                Err(error) => disconnected.set(Some(format!("an update was unreadable: {error}"))),
            }
        });
        let on_open = Closure::<dyn FnMut()>::new(move || disconnected.set(None));
        let closed_source = source.clone();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            disconnected.set(Some("Live updates are disconnected; reconnecting…".into()));
            if closed_source.ready_state() == EventSource::CLOSED {
                let reopen = Closure::once_into_js(move || reopened.update(|n| *n += 1));
                if let Some(window) = web_sys::window() {
                    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                        reopen.unchecked_ref(),
                        REOPEN_AFTER_MS,
                    );
                }
            }
        });
        let _ = source
            .add_event_listener_with_callback("dashboard", on_figures.as_ref().unchecked_ref());
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // The callbacks live as long as their stream.
        let stream = StoredValue::new_local((source, on_figures, on_open, on_error));
        on_cleanup(move || stream.with_value(|(source, ..)| source.close()));
    });
}

#[component]
fn StaleNotice(problem: Option<String>) -> impl IntoView {
    problem.map(|problem| {
        view! {
            <div class="notice stale" role="status">
                <strong>"Data may be stale. "</strong>
                {problem}
            </div>
        }
    })
}

/// How fresh the figures are, and the latest listen: the live line above
/// the range, whose panels are fetched again as these change.
#[component]
fn DashboardBody(dashboard: Dashboard) -> impl IntoView {
    let Summary {
        events,
        updated_at,
        last_listen,
        ..
    } = dashboard.summary;
    if events == 0 {
        return view! { <EmptyState /> }.into_any();
    }
    let as_of = updated_at.map(|ts| {
        format!(
            "Figures as of {}, refreshed live.",
            format::moment_seconds(ts)
        )
    });
    let latest = last_listen.map(|ts| format!(" Latest listen: {}.", format::moment(ts)));
    view! { <p class="freshness">{as_of}{latest}</p> }.into_any()
}

#[component]
fn EmptyState() -> impl IntoView {
    view! {
        <section class="empty" aria-labelledby="empty-title">
            <h2 id="empty-title">"No listens counted yet"</h2>
            <p>
                "Your figures appear here within a second of your first listen reaching Kafka. "
                "Import your Spotify data (the "<code>"my_spotify_data.zip"</code>
                " Spotify mails you) with the producer, under your name:"
            </p>
            <pre><code>"target/release/producer --person YOUR-NAME --file my_spotify_data.zip"</code></pre>
        </section>
    }
}
