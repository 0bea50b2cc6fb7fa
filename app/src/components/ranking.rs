//! Rankings of songs, artists and albums: a bar chart and, as its text
//! alternative, a table whose names link to their detail pages.

use leptos::prelude::*;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::bar_chart::{Bar, BarChart};
use crate::format;
use crate::model::{TopArtist, TopSong};
use crate::range::{Metric, TopAlbum};

/// One row of a ranking, whatever is ranked.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub rank: u32,
    /// Text of the bar in the chart.
    pub label: String,
    pub title: String,
    /// The detail page of what is ranked, if it has one.
    pub href: Option<String>,
    pub subtitle: Option<String>,
    pub plays: i64,
    pub ms_played: i64,
    pub skips: i64,
}

/// The path of an artist's page.
pub fn artist_path(name: &str) -> String {
    format!("/artists/{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

/// The path of a song's page.
pub fn song_path(track_uri: &str) -> String {
    format!(
        "/songs/{}",
        utf8_percent_encode(track_uri, NON_ALPHANUMERIC)
    )
}

pub fn songs_ranked(songs: Vec<TopSong>) -> Vec<Ranked> {
    songs
        .into_iter()
        .map(|song| Ranked {
            rank: song.rank,
            label: format!("{}. {} — {}", song.rank, song.track_name, song.artist_name),
            href: Some(song_path(&song.track_uri)),
            subtitle: Some(if song.album_name.is_empty() {
                song.artist_name.clone()
            } else {
                format!("{} · {}", song.artist_name, song.album_name)
            }),
            title: song.track_name,
            plays: song.plays,
            ms_played: song.ms_played,
            skips: song.skips,
        })
        .collect()
}

pub fn artists_ranked(artists: Vec<TopArtist>) -> Vec<Ranked> {
    artists
        .into_iter()
        .map(|artist| Ranked {
            rank: artist.rank,
            label: format!("{}. {}", artist.rank, artist.artist_name),
            href: Some(artist_path(&artist.artist_name)),
            title: artist.artist_name,
            subtitle: None,
            plays: artist.plays,
            ms_played: artist.ms_played,
            skips: artist.skips,
        })
        .collect()
}

pub fn albums_ranked(albums: Vec<TopAlbum>) -> Vec<Ranked> {
    albums
        .into_iter()
        .map(|album| Ranked {
            rank: album.rank,
            label: format!(
                "{}. {} — {}",
                album.rank, album.album_name, album.artist_name
            ),
            href: Some(artist_path(&album.artist_name)),
            subtitle: Some(album.artist_name),
            title: album.album_name,
            plays: album.plays,
            ms_played: album.ms_played,
            skips: album.skips,
        })
        .collect()
}

fn plays_text(plays: i64) -> String {
    match plays {
        1 => "1 play".into(),
        n => format!("{} plays", format::count(n)),
    }
}

/// The bars of a ranking, as long as plays or listening time.
pub fn ranking_bars(rows: &[Ranked], metric: Metric) -> Vec<Bar> {
    rows.iter()
        .map(|row| match metric {
            Metric::Plays => Bar {
                label: row.label.clone(),
                value: row.plays as f64,
                value_text: plays_text(row.plays),
            },
            Metric::Time => Bar {
                label: row.label.clone(),
                value: row.ms_played as f64,
                value_text: format!("{} h", format::hours(row.ms_played)),
            },
        })
        .collect()
}

/// A ranking as a bar chart and, as its text alternative, a table.
#[component]
pub fn RankingPanel(
    id: &'static str,
    title: &'static str,
    /// Header of the name column.
    what: &'static str,
    rows: Vec<Ranked>,
    metric: Metric,
    /// Where the chart can be downloaded, without the extension (`/charts/top-songs?…`).
    #[prop(optional)]
    download: Option<(String, String)>,
) -> impl IntoView {
    let bars = ranking_bars(&rows, metric);
    let heading_id = format!("{id}-title");
    let labelled_by = heading_id.clone();
    let by = match metric {
        Metric::Plays => "plays",
        Metric::Time => "listening time",
    };
    view! {
        <section class="panel" aria-labelledby=labelled_by>
            <h2 id=heading_id>{title}</h2>
            <BarChart title=format!("{title} by {by}") bars />
            {download.map(|(path, query)| view! { <ChartDownloads path query /> })}
            <RankingTable label=title what rows />
        </section>
    }
}

/// A ranking as a table: rank, what is ranked (linked to its page), plays,
/// time and skips.
#[component]
pub fn RankingTable(
    /// What a screen reader calls the table.
    label: &'static str,
    /// Header of the name column.
    what: &'static str,
    rows: Vec<Ranked>,
) -> impl IntoView {
    let body = rows
        .into_iter()
        .map(|row| {
            let title = match row.href {
                Some(href) => view! { <a class="title" href=href>{row.title}</a> }.into_any(),
                None => view! { <span class="title">{row.title}</span> }.into_any(),
            };
            view! {
                <tr>
                    <td class="rank">{row.rank}</td>
                    <td>
                        {title}
                        {row.subtitle.map(|text| view! { <span class="subtitle">{text}</span> })}
                    </td>
                    <td class="num">{format::count(row.plays)}</td>
                    <td class="num">{format::duration(row.ms_played)}</td>
                    <td class="num">{format::count(row.skips)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table aria-label=label>
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
    }
}

/// Links that download a chart as drawn on the server.
#[component]
pub fn ChartDownloads(
    /// `/charts/<name>`, without the extension.
    path: String,
    /// The range's URL parameters.
    query: String,
) -> impl IntoView {
    view! {
        <p class="downloads">
            "Download: "
            <a href=format!("{path}.svg?{query}") download="">"SVG"</a>
            " · "
            <a href=format!("{path}.png?{query}") download="">"PNG"</a>
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_paths_encode_names() {
        assert_eq!(artist_path("AC/DC"), "/artists/AC%2FDC");
        assert_eq!(
            song_path("spotify:track:abc"),
            "/songs/spotify%3Atrack%3Aabc"
        );
    }

    #[test]
    fn bars_follow_the_chosen_metric() {
        let rows = songs_ranked(vec![TopSong {
            rank: 1,
            track_uri: "spotify:track:a".into(),
            track_name: "A".into(),
            artist_name: "B".into(),
            album_name: String::new(),
            plays: 3,
            ms_played: 7_200_000,
            skips: 0,
        }]);
        assert_eq!(ranking_bars(&rows, Metric::Plays)[0].value_text, "3 plays");
        assert_eq!(ranking_bars(&rows, Metric::Time)[0].value, 7_200_000.0);
        assert_eq!(rows[0].subtitle.as_deref(), Some("B"));
    }
}
