//! The dashboard page: totals, top songs and top artists, refreshed live.

use std::time::Duration;

use leptos::prelude::*;

use super::bar_chart::{Bar, BarChart};
use crate::api::{get_dashboard, DASHBOARD_ROWS};
use crate::format;
use crate::model::{Dashboard, Summary, TopArtist, TopSong};

/// How often the open page asks for fresh figures.
const REFRESH_EVERY: Duration = Duration::from_millis(1500);

#[component]
pub fn DashboardPage() -> impl IntoView {
    // Server-rendered first, then replaced by each successful refresh.
    let first_load = Resource::new(|| (), |_| get_dashboard(DASHBOARD_ROWS));
    let refreshed = RwSignal::new(None::<Dashboard>);
    let refresh_error = RwSignal::new(None::<String>);
    keep_refreshing(refreshed, refresh_error);

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
                    .map(|error| format!("Refreshing failed ({error}); retrying."))
                    .or(load_error.map(|error| format!("The figures cannot be loaded: {error}")))
                    .or_else(|| dashboard.as_ref().and_then(|d| d.health.problem.clone()));
                Some(view! {
                    <StaleNotice problem />
                    {dashboard.map(|dashboard| view! { <DashboardBody dashboard /> })}
                })
            }}
        </Suspense>
    }
}

/// Polls the server in the browser; effects never run during server rendering.
fn keep_refreshing(
    refreshed: RwSignal<Option<Dashboard>>,
    refresh_error: RwSignal<Option<String>>,
) {
    Effect::new(move |_| {
        let in_flight = StoredValue::new(false);
        let handle = set_interval_with_handle(
            move || {
                if in_flight.get_value() {
                    return;
                }
                in_flight.set_value(true);
                leptos::task::spawn_local(async move {
                    match get_dashboard(DASHBOARD_ROWS).await {
                        Ok(dashboard) => {
                            refreshed.set(Some(dashboard));
                            refresh_error.set(None);
                        }
                        Err(error) => refresh_error.set(Some(error.to_string())),
                    }
                    in_flight.set_value(false);
                });
            },
            REFRESH_EVERY,
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
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

#[component]
fn DashboardBody(dashboard: Dashboard) -> impl IntoView {
    let Dashboard {
        summary,
        top_songs,
        top_artists,
        ..
    } = dashboard;
    if summary.events == 0 {
        return view! { <EmptyState /> }.into_any();
    }
    let as_of = summary.updated_at.map(|ts| {
        format!(
            "Figures as of {}, refreshed live.",
            format::moment_seconds(ts)
        )
    });
    view! {
        <p class="freshness">{as_of}</p>
        <Totals summary />
        <div class="panels">
            <TopSongsPanel songs=top_songs />
            <TopArtistsPanel artists=top_artists />
        </div>
    }
    .into_any()
}

#[component]
fn EmptyState() -> impl IntoView {
    view! {
        <section class="empty" aria-labelledby="empty-title">
            <h2 id="empty-title">"No listens counted yet"</h2>
            <p>
                "Figures appear here within a second of the first listen reaching Kafka. "
                "Stream some listening history with the producer:"
            </p>
            <pre><code>"cargo run --release --bin producer -- --file data/spotify_history.csv"</code></pre>
        </section>
    }
}

#[component]
fn Totals(summary: Summary) -> impl IntoView {
    let last_listen = summary
        .last_listen
        .map(format::moment)
        .unwrap_or_else(|| "—".into());
    view! {
        <section class="totals" aria-label="Totals">
            <Stat label="Listens" value=format::count(summary.events) />
            <Stat label="Listening hours" value=format::hours(summary.ms_played) />
            <Stat label="Songs" value=format::count(summary.songs) />
            <Stat label="Artists" value=format::count(summary.artists) />
            <Stat label="Latest listen" value=last_listen small=true />
        </section>
    }
}

#[component]
fn Stat(
    label: &'static str,
    value: String,
    /// For longer values such as dates.
    #[prop(optional)]
    small: bool,
) -> impl IntoView {
    view! {
        <div class="stat">
            <span class="stat-value" class:small=small>{value}</span>
            <span class="stat-label">{label}</span>
        </div>
    }
}

fn plays_text(plays: i64) -> String {
    match plays {
        1 => "1 play".into(),
        n => format!("{} plays", format::count(n)),
    }
}

/// One row of a ranking, whatever is ranked.
struct Ranked {
    rank: u32,
    /// Text of the bar in the chart.
    label: String,
    title: String,
    subtitle: Option<String>,
    plays: i64,
    ms_played: i64,
    skips: i64,
}

#[component]
fn TopSongsPanel(songs: Vec<TopSong>) -> impl IntoView {
    let rows = songs
        .into_iter()
        .map(|song| Ranked {
            rank: song.rank,
            label: format!("{}. {} — {}", song.rank, song.track_name, song.artist_name),
            subtitle: Some(format!("{} · {}", song.artist_name, song.album_name)),
            title: song.track_name,
            plays: song.plays,
            ms_played: song.ms_played,
            skips: song.skips,
        })
        .collect();
    view! { <RankingPanel id="top-songs" title="Top songs" what="Song" rows /> }
}

#[component]
fn TopArtistsPanel(artists: Vec<TopArtist>) -> impl IntoView {
    let rows = artists
        .into_iter()
        .map(|artist| Ranked {
            rank: artist.rank,
            label: format!("{}. {}", artist.rank, artist.artist_name),
            title: artist.artist_name,
            subtitle: None,
            plays: artist.plays,
            ms_played: artist.ms_played,
            skips: artist.skips,
        })
        .collect();
    view! { <RankingPanel id="top-artists" title="Top artists" what="Artist" rows /> }
}

/// A ranking as a bar chart and, as its text alternative, a table.
#[component]
fn RankingPanel(
    id: &'static str,
    title: &'static str,
    /// Header of the name column.
    what: &'static str,
    rows: Vec<Ranked>,
) -> impl IntoView {
    let bars = rows
        .iter()
        .map(|row| Bar {
            label: row.label.clone(),
            value: row.plays as f64,
            value_text: plays_text(row.plays),
        })
        .collect::<Vec<_>>();
    let body = rows
        .into_iter()
        .map(|row| {
            view! {
                <tr>
                    <td class="rank">{row.rank}</td>
                    <td>
                        <span class="title">{row.title}</span>
                        {row.subtitle.map(|text| view! { <span class="subtitle">{text}</span> })}
                    </td>
                    <td class="num">{format::count(row.plays)}</td>
                    <td class="num">{format::duration(row.ms_played)}</td>
                    <td class="num">{format::count(row.skips)}</td>
                </tr>
            }
        })
        .collect_view();
    let heading_id = format!("{id}-title");
    let labelled_by = heading_id.clone();
    view! {
        <section class="panel" aria-labelledby=labelled_by>
            <h2 id=heading_id>{title}</h2>
            <BarChart title=format!("{title} by plays") bars />
            <table aria-label=title>
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        <th scope="col">{what}</th>
                        <th scope="col" class="num">"Plays"</th>
                        <th scope="col" class="num">"Time"</th>
                        <th scope="col" class="num">"Skips"</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </section>
    }
}
