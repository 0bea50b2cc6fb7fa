//! Detail pages of one artist (`/artists/<name>`) and one song
//! (`/songs/<uri>`): totals, first and last listen, plays over time and, for
//! an artist, their top songs, for the range in the URL like the dashboard;
//! and their rank history over all time.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::clean_up::{CleanUpOutcome, ExcludeControls, Target};
use super::range_view::{describe_range, query_from_url, OverTimePanel};
use super::rank_history::RankHistoryPanel;
use super::ranking::{artist_path, songs_ranked, RankingPanel};
use crate::account_api::CleanUp;
use crate::api::{get_artist, get_song};
use crate::format;
use crate::range::{Bucket, DateRange, RangeQuery};

/// Back to the dashboard, keeping the range.
fn back_link(query: RangeQuery) -> impl IntoView {
    view! { <p><a href=format!("/?{}", query.to_query_string())>"← Back to the dashboard"</a></p> }
}

fn facts(
    plays: i64,
    ms_played: i64,
    skips: i64,
    first: Option<chrono::NaiveDate>,
    last: Option<chrono::NaiveDate>,
) -> impl IntoView {
    let day = |d: Option<chrono::NaiveDate>| d.map(format::day).unwrap_or_else(|| "—".into());
    view! {
        <section class="totals" aria-label="Totals">
            <div class="stat"><span class="stat-value">{format::count(plays)}</span><span class="stat-label">"Plays"</span></div>
            <div class="stat"><span class="stat-value">{format::hours(ms_played)}</span><span class="stat-label">"Listening hours"</span></div>
            <div class="stat"><span class="stat-value">{format::count(skips)}</span><span class="stat-label">"Skips"</span></div>
            <div class="stat"><span class="stat-value small">{day(first)}</span><span class="stat-label">"First listen"</span></div>
            <div class="stat"><span class="stat-value small">{day(last)}</span><span class="stat-label">"Last listen"</span></div>
        </section>
    }
}

fn range_of(query: RangeQuery) -> String {
    match query.preset {
        Some(_) => "the chosen range".into(),
        None => describe_range(DateRange {
            from: query.from,
            to: query.to,
        }),
    }
}

#[component]
pub fn ArtistPage() -> impl IntoView {
    let params = use_params_map();
    let query = query_from_url();
    let clean_up = ServerAction::<CleanUp>::new();
    let detail = Resource::new(
        move || {
            (
                params.read().get("name").unwrap_or_default(),
                query.get(),
                clean_up.version().get(),
            )
        },
        |(name, query, _)| async move {
            let query = query?;
            get_artist(name, query)
                .await
                .map_err(|error| error.to_string())
        },
    );
    view! {
        <CleanUpOutcome action=clean_up />
        <Suspense fallback=|| view! { <p class="loading">"Loading the artist…"</p> }>
            {move || detail.get().map(|result| {
                let query = query.get().unwrap_or_default();
                match result {
                    Ok(Some(artist)) => view! {
                        {back_link(query)}
                        <h2 class="page-title">{artist.artist_name.clone()}</h2>
                        <p class="range-caption">{format!("Artist, {}", range_of(query))}</p>
                        {facts(artist.plays, artist.ms_played, artist.skips, artist.first_listen, artist.last_listen)}
                        <div class="panels">
                            <RankingPanel id="artist-songs" title="Top songs" what="Song" rows=songs_ranked(artist.top_songs) metric=query.metric />
                            <OverTimePanel heading="Plays over time" chart_label="Listening hours per month" points=artist.over_time bucket=Bucket::Month />
                        </div>
                        <div class="panels">
                            <RankHistoryPanel history=artist.rank_history charted="artists" />
                            <ExcludeControls target=Target::Artist { artist: artist.artist_name.clone() } action=clean_up />
                        </div>
                    }.into_any(),
                    Ok(None) => view! { {back_link(query)} <p class="notice" role="alert">"No listens of this artist."</p> }.into_any(),
                    Err(error) => view! { {back_link(query)} <p class="notice" role="alert">{format!("This artist cannot be shown: {error}")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn SongPage() -> impl IntoView {
    let params = use_params_map();
    let query = query_from_url();
    let clean_up = ServerAction::<CleanUp>::new();
    let detail = Resource::new(
        move || {
            (
                params.read().get("uri").unwrap_or_default(),
                query.get(),
                clean_up.version().get(),
            )
        },
        |(uri, query, _)| async move {
            let query = query?;
            get_song(uri, query)
                .await
                .map_err(|error| error.to_string())
        },
    );
    view! {
        <CleanUpOutcome action=clean_up />
        <Suspense fallback=|| view! { <p class="loading">"Loading the song…"</p> }>
            {move || detail.get().map(|result| {
                let query = query.get().unwrap_or_default();
                match result {
                    Ok(Some(song)) => view! {
                        {back_link(query)}
                        <h2 class="page-title">{song.song.track_name.clone()}</h2>
                        <p class="range-caption">
                            <a href=artist_path(&song.song.artist_name)>{song.song.artist_name.clone()}</a>
                            {(!song.song.album_name.is_empty()).then(|| format!(" · {}", song.song.album_name))}
                            {format!(" · {}", range_of(query))}
                        </p>
                        {facts(song.song.plays, song.song.ms_played, song.song.skips, song.first_listen, song.last_listen)}
                        <div class="panels">
                            <OverTimePanel heading="Plays over time" chart_label="Listening hours per month" points=song.over_time bucket=Bucket::Month />
                            <RankHistoryPanel history=song.rank_history charted="songs" />
                        </div>
                        <div class="panels">
                            <ExcludeControls target=Target::Song {
                                track_uri: song.song.track_uri.clone(),
                                artist: song.song.artist_name.clone(),
                                album: song.song.album_name.clone(),
                            } action=clean_up />
                        </div>
                    }.into_any(),
                    Ok(None) => view! { {back_link(query)} <p class="notice" role="alert">"No listens of this song."</p> }.into_any(),
                    Err(error) => view! { {back_link(query)} <p class="notice" role="alert">{format!("This song cannot be shown: {error}")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
