//! The body of the range view, rendered on the server: rankings, the
//! listening clock, listening over time, most skipped songs and how plays
//! split up, for one range.
//!
//! The browser receives it as HTML and only puts it in place (see
//! [`super::range_view::RangeExplorer`]): none of it changes until the range
//! or the figures do, and then the server renders it again. Its views, its
//! charts and the reading of its figures stay out of the page's WebAssembly
//! (a sixth of it); links in it are still followed by the router.

use leptos::prelude::*;

use super::bar_chart::ChartSvg;

use super::range_view::{describe_range, OverTimePanel};
use super::ranking::{
    albums_ranked, artists_ranked, song_path, songs_ranked, ChartDownloads, RankingPanel,
};
use super::time_charts::render_clock;
use crate::format;
use crate::range::{ClockCell, RangeTotals, RangeView, Share, Shares, SkippedSong, WEEKDAY_NAMES};

/// The body of the range view as HTML, under an owner of its own below the
/// request's (whose arena it needs). It holds no resource or suspense, so
/// it takes none of the page's hydration ids.
pub fn render(view: RangeView) -> String {
    Owner::new().with(|| view! { <RangeBody view /> }.to_html())
}

#[component]
fn RangeBody(view: RangeView) -> impl IntoView {
    let RangeView {
        query,
        range,
        totals:
            RangeTotals {
                plays,
                ms_played,
                songs,
                artists,
            },
        top_songs,
        top_artists,
        top_albums,
        most_skipped,
        clock,
        bucket,
        over_time,
        shares,
        time_zone,
        ..
    } = view;
    let caption = format!("{} (days in {time_zone})", describe_range(range));
    if plays == 0 {
        return view! {
            <p class="range-caption">{caption}</p>
            <p class="notice">"No listens in this range. Pick another one above."</p>
        }
        .into_any();
    }
    let qs = query.to_query_string();
    view! {
        <p class="range-caption">{caption}</p>
        <section class="totals" aria-label="Totals" aria-live="polite">
            <Stat label="Listens" value=format::count(plays) />
            <Stat label="Listening hours" value=format::hours(ms_played) />
            <Stat label="Songs" value=format::count(songs) />
            <Stat label="Artists" value=format::count(artists) />
        </section>
        <div class="panels three">
            <RankingPanel id="top-songs" title="Top songs" what="Song" rows=songs_ranked(top_songs) metric=query.metric download=("/charts/top-songs".to_string(), qs.clone()) />
            <RankingPanel id="top-artists" title="Top artists" what="Artist" rows=artists_ranked(top_artists) metric=query.metric download=("/charts/top-artists".to_string(), qs.clone()) />
            <RankingPanel id="top-albums" title="Top albums" what="Album" rows=albums_ranked(top_albums) metric=query.metric download=("/charts/top-albums".to_string(), qs.clone()) />
        </div>
        <div class="panels">
            <OverTimePanel heading="Listening over time" chart_label="Listening hours over time" points=over_time bucket download_query=qs.clone() />
            <ClockPanel cells=clock qs=qs.clone() time_zone />
        </div>
        <div class="panels">
            <SkippedPanel songs=most_skipped />
            <SharesPanel shares />
        </div>
    }
    .into_any()
}

#[component]
fn Stat(label: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="stat">
            <span class="stat-value">{value}</span>
            <span class="stat-label">{label}</span>
        </div>
    }
}

#[component]
fn ClockPanel(cells: Vec<ClockCell>, qs: String, time_zone: String) -> impl IntoView {
    let svg = render_clock(&cells, &time_zone)
        .unwrap_or_else(|error| format!("<p>Chart unavailable: {error}</p>"));
    let rows = WEEKDAY_NAMES
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
            <ChartSvg label=format!("Listening hours by weekday and hour of the day, {time_zone}") svg />
            <ChartDownloads path="/charts/listening-clock".to_string() query=qs />
            <details>
                <summary>{format!("Hours by weekday and hour ({time_zone}) as a table")}</summary>
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
    use crate::model::TopSong;
    use crate::range::{DateRange, RangeQuery};

    #[test]
    fn the_body_names_its_range_and_escapes_names() {
        let view = RangeView {
            range: DateRange::parse(Some("2024-01-01"), Some("2024-02-01")).unwrap(),
            totals: RangeTotals {
                plays: 3,
                ms_played: 5_400_000,
                songs: 1,
                artists: 1,
            },
            top_songs: vec![TopSong {
                rank: 1,
                track_uri: "spotify:track:1".into(),
                track_name: "<b>Rock & Roll</b>".into(),
                artist_name: "Alpha".into(),
                album_name: "Album".into(),
                plays: 3,
                ms_played: 5_400_000,
                skips: 0,
            }],
            query: RangeQuery::default(),
            ..RangeView::default()
        };
        let html = render(view);
        assert!(html.contains("2024-01-01 to 2024-01-31 (days in"), "{html}");
        for stat in [
            ">3</span><span class=\"stat-label\">Listens",
            ">1.5</span><span class=\"stat-label\">Listening hours",
        ] {
            assert!(html.contains(stat), "{stat} missing: {html}");
        }
        assert!(
            html.contains("&lt;b&gt;Rock &amp; Roll&lt;/b&gt;"),
            "{html}"
        );
        assert!(!html.contains("<b>Rock"), "{html}");
        for panel in [
            "Top songs",
            "Listening clock",
            "Most skipped songs",
            "How you listen",
        ] {
            assert!(html.contains(panel), "{panel} missing: {html}");
        }
    }

    #[test]
    fn an_empty_range_says_so() {
        let html = render(RangeView::default());
        assert!(html.contains("No listens in this range"), "{html}");
        assert!(!html.contains("Listening clock"), "{html}");
    }
}
