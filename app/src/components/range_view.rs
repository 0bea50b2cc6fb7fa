//! The time-range half of the dashboard: presets and a custom from–to, the
//! choice of plays or listening time, all kept in the URL so a view can be
//! shared; then rankings, most skipped songs, the listening clock, listening
//! over time and how plays split up, for that range. Fetched again whenever
//! the pushed figures change, so the range view is live too.

use chrono::{DateTime, Datelike, Duration, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::ranking::{
    albums_ranked, artists_ranked, song_path, songs_ranked, ChartDownloads, RankingPanel,
};
use super::time_charts::{render_clock, render_over_time};
use crate::api::get_range_view;
use crate::format;
use crate::range::{
    Bucket, ClockCell, DateRange, Metric, Preset, RangeQuery, RangeView, Share, Shares,
    SkippedSong, TimePoint,
};

/// The range the URL asks for, or why it cannot be read.
pub fn query_from_url() -> Memo<Result<RangeQuery, String>> {
    let params = use_query_map();
    Memo::new(move |_| {
        let params = params.read();
        RangeQuery::parse(
            params.get_str("preset"),
            params.get_str("from"),
            params.get_str("to"),
            params.get_str("by"),
        )
    })
}

/// A range as a person reads it: its first and last day.
pub fn describe_range(range: DateRange) -> String {
    match (range.from, range.to) {
        (None, None) => "All time".into(),
        (Some(from), None) => format!("From {from}"),
        (None, Some(to)) => format!("Until {}", to - Duration::days(1)),
        (Some(from), Some(to)) if to - from == Duration::days(1) => format!("{from}"),
        (Some(from), Some(to)) => format!("{from} to {}", to - Duration::days(1)),
    }
}

#[component]
pub fn RangeExplorer(
    /// Changes whenever the pushed figures change.
    version: Signal<Option<DateTime<Utc>>>,
) -> impl IntoView {
    let query = query_from_url();
    let view_data = Resource::new(
        move || (query.get(), version.get()),
        |(query, _)| async move {
            match query {
                Ok(query) => get_range_view(query)
                    .await
                    .map_err(|error| error.to_string()),
                Err(error) => Err(error),
            }
        },
    );
    view! {
        <section class="range" aria-labelledby="range-title">
            <h2 id="range-title">"Explore a time range"</h2>
            <RangeControls query=Signal::derive(move || query.get().unwrap_or_default()) />
            <Suspense fallback=|| view! { <p class="loading">"Adding up the range…"</p> }>
                {move || {
                    view_data
                        .get()
                        .map(|result| match result {
                            Ok(view) => view! { <RangeBody view /> }.into_any(),
                            Err(error) => {
                                view! { <p class="notice" role="alert">{format!("This range cannot be shown: {error}")}</p> }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// Presets and the metric as links, the custom range as a plain form: all
/// work with the keyboard, and without scripts.
#[component]
fn RangeControls(query: Signal<RangeQuery>) -> impl IntoView {
    let presets = Preset::ALL.map(|preset| {
        let label = match preset {
            Preset::Last7Days => "Last 7 days",
            Preset::Last30Days => "Last 30 days",
            Preset::LatestYear => "Latest year",
            Preset::AllTime => "All time",
        };
        let href = move || {
            let chosen = RangeQuery {
                preset: Some(preset),
                from: None,
                to: None,
                metric: query.get().metric,
            };
            format!("/?{}", chosen.to_query_string())
        };
        let current = move || {
            let query = query.get();
            let active = query.preset == Some(preset)
                || (preset == Preset::AllTime
                    && query.preset.is_none()
                    && query.from.is_none()
                    && query.to.is_none());
            active.then_some("true")
        };
        view! { <a class="chip" href=href aria-current=current>{label}</a> }
    });
    let metrics =
        [(Metric::Plays, "Plays"), (Metric::Time, "Listening time")].map(|(metric, label)| {
            let href = move || {
                format!(
                    "/?{}",
                    RangeQuery {
                        metric,
                        ..query.get()
                    }
                    .to_query_string()
                )
            };
            let current = move || (query.get().metric == metric).then_some("true");
            view! { <a class="chip" href=href aria-current=current>{label}</a> }
        });
    let from = move || {
        query
            .get()
            .from
            .map(|day| day.to_string())
            .unwrap_or_default()
    };
    let to = move || {
        query
            .get()
            .to
            .map(|day| day.to_string())
            .unwrap_or_default()
    };
    let by = move || query.get().metric.key();
    view! {
        <nav class="range-controls" aria-label="Time range">
            <div class="chips" role="group" aria-label="Preset ranges">{presets}</div>
            <form class="custom-range" method="get" action="/">
                <label>"From " <input type="date" name="from" value=from /></label>
                <label>"To (excluded) " <input type="date" name="to" value=to /></label>
                <input type="hidden" name="by" value=by />
                <button type="submit">"Show range"</button>
            </form>
            <div class="chips" role="group" aria-label="Rank by">{metrics}</div>
        </nav>
    }
}

#[component]
fn RangeBody(view: RangeView) -> impl IntoView {
    let RangeView {
        query,
        range,
        plays,
        ms_played,
        top_songs,
        top_artists,
        top_albums,
        most_skipped,
        clock,
        bucket,
        over_time,
        shares,
        ..
    } = view;
    let caption = format!(
        "{}: {} listens, {} hours",
        describe_range(range),
        format::count(plays),
        format::hours(ms_played)
    );
    if plays == 0 {
        return view! {
            <p class="range-caption">{caption}</p>
            <p class="notice">"No listens in this range. Pick another one above."</p>
        }
        .into_any();
    }
    let qs = query.to_query_string();
    view! {
        <p class="range-caption" aria-live="polite">{caption}</p>
        <div class="panels three">
            <RankingPanel id="range-songs" title="Top songs in range" what="Song" rows=songs_ranked(top_songs) metric=query.metric download=("/charts/top-songs".to_string(), qs.clone()) />
            <RankingPanel id="range-artists" title="Top artists in range" what="Artist" rows=artists_ranked(top_artists) metric=query.metric download=("/charts/top-artists".to_string(), qs.clone()) />
            <RankingPanel id="range-albums" title="Top albums in range" what="Album" rows=albums_ranked(top_albums) metric=query.metric download=("/charts/top-albums".to_string(), qs.clone()) />
        </div>
        <div class="panels">
            <OverTimePanel heading="Listening over time" chart_label="Listening hours over time" points=over_time bucket download_query=qs.clone() />
            <ClockPanel cells=clock qs=qs.clone() />
        </div>
        <div class="panels">
            <SkippedPanel songs=most_skipped />
            <SharesPanel shares />
        </div>
    }
    .into_any()
}

/// Listening over time as an area chart and, as its text alternative, a table.
#[component]
pub fn OverTimePanel(
    heading: &'static str,
    /// The chart's accessible name.
    chart_label: &'static str,
    points: Vec<TimePoint>,
    bucket: Bucket,
    /// The range's URL parameters, when the chart can be downloaded.
    #[prop(optional)]
    download_query: Option<String>,
) -> impl IntoView {
    let svg = render_over_time(&points, bucket)
        .unwrap_or_else(|error| format!("<p>Chart unavailable: {error}</p>"));
    let step = move |point: &TimePoint| match bucket {
        Bucket::Month => format!("{:04}-{:02}", point.start.year(), point.start.month()),
        _ => point.start.to_string(),
    };
    let rows = points
        .iter()
        .map(|point| view! { <tr><td>{step(point)}</td><td class="num">{format::count(point.plays)}</td><td class="num">{format::hours(point.ms_played)}</td></tr> })
        .collect_view();
    let heading_id = format!("{}-title", heading.to_lowercase().replace(' ', "-"));
    let labelled_by = heading_id.clone();
    view! {
        <section class="panel" aria-labelledby=labelled_by>
            <h2 id=heading_id>{heading}</h2>
            <div class="chart" role="img" aria-label=chart_label inner_html=svg></div>
            {download_query.map(|query| view! { <ChartDownloads path="/charts/over-time".to_string() query /> })}
            <details>
                <summary>"The figures as a table"</summary>
                <table aria-label=heading>
                    <thead><tr><th scope="col">"From"</th><th scope="col" class="num">"Plays"</th><th scope="col" class="num">"Hours"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </section>
    }
}

#[component]
fn ClockPanel(cells: Vec<ClockCell>, qs: String) -> impl IntoView {
    let svg =
        render_clock(&cells).unwrap_or_else(|error| format!("<p>Chart unavailable: {error}</p>"));
    const WEEKDAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let rows = WEEKDAYS
        .iter()
        .enumerate()
        .map(|(weekday, name)| {
            let hours = cells
                .iter()
                .filter(|cell| usize::from(cell.weekday) == weekday)
                .map(|cell| view! { <td class="num">{format::hours(cell.ms_played)}</td> })
                .collect_view();
            view! { <tr><th scope="row">{*name}</th>{hours}</tr> }
        })
        .collect_view();
    let hour_headers = (0..24)
        .map(|hour| view! { <th scope="col" class="num">{format!("{hour:02}")}</th> })
        .collect_view();
    view! {
        <section class="panel" aria-labelledby="clock-title">
            <h2 id="clock-title">"Listening clock"</h2>
            <div class="chart" role="img" aria-label="Listening hours by weekday and hour of the day, UTC" inner_html=svg></div>
            <ChartDownloads path="/charts/listening-clock".to_string() query=qs />
            <details>
                <summary>"Hours by weekday and hour (UTC) as a table"</summary>
                <div class="scroll">
                    <table aria-label="Listening clock">
                        <thead><tr><th scope="col">"Day"</th>{hour_headers}</tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </details>
        </section>
    }
}

#[component]
fn SkippedPanel(songs: Vec<SkippedSong>) -> impl IntoView {
    let empty = songs.is_empty();
    let rows = songs
        .into_iter()
        .map(|song| {
            view! {
                <tr>
                    <td class="rank">{song.rank}</td>
                    <td><a class="title" href=song_path(&song.track_uri)>{song.track_name}</a><span class="subtitle">{song.artist_name}</span></td>
                    <td class="num">{format::count(song.skips)}</td>
                    <td class="num">{format::count(song.plays)}</td>
                    <td class="num">{format!("{:.0} %", song.skip_rate * 100.0)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel" aria-labelledby="skipped-title">
            <h2 id="skipped-title">"Most skipped songs"</h2>
            <p class="hint">"Songs with at least 5 plays in the range, most skips first."</p>
            {empty.then(|| view! { <p class="notice">"No song was skipped in this range."</p> })}
            <table aria-label="Most skipped songs">
                <thead><tr><th scope="col">"#"</th><th scope="col">"Song"</th><th scope="col" class="num">"Skips"</th><th scope="col" class="num">"Plays"</th><th scope="col" class="num">"Skip rate"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

#[component]
fn SharesPanel(shares: Shares) -> impl IntoView {
    let plays = shares.plays.max(1);
    let percent = move |n: i64| format!("{:.0} %", n as f64 * 100.0 / plays as f64);
    let table = move |caption: &'static str, rows: Vec<Share>| {
        let body = rows
            .into_iter()
            .take(8)
            .map(|share| view! { <tr><td>{share.label}</td><td class="num">{format::count(share.plays)}</td><td class="num">{percent(share.plays)}</td></tr> })
            .collect_view();
        view! {
            <table aria-label=caption>
                <caption>{caption}</caption>
                <thead><tr><th scope="col">"What"</th><th scope="col" class="num">"Plays"</th><th scope="col" class="num">"Share"</th></tr></thead>
                <tbody>{body}</tbody>
            </table>
        }
    };
    view! {
        <section class="panel" aria-labelledby="shares-title">
            <h2 id="shares-title">"How you listen"</h2>
            <p>{format!("Shuffle on for {} of plays.", percent(shares.shuffled))}</p>
            {table("Platforms", shares.platforms)}
            {table("How tracks started", shares.reason_start)}
            {table("How tracks ended", shares.reason_end)}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_with_their_last_day() {
        let range = DateRange::parse(Some("2024-01-01"), Some("2024-02-01")).unwrap();
        assert_eq!(describe_range(range), "2024-01-01 to 2024-01-31");
        let one_day = DateRange::parse(Some("2024-01-01"), Some("2024-01-02")).unwrap();
        assert_eq!(describe_range(one_day), "2024-01-01");
        assert_eq!(describe_range(DateRange::ALL_TIME), "All time");
    }
}
