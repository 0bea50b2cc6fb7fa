//! The Artists and Songs pages: the range's whole ranking (up to
//! [`LIST_ROWS`]), each row leading to its page, with the presets and the
//! metric as links kept in the URL like the overview's.

use leptos::prelude::*;

use super::range_view::{describe_range, query_from_url};
use super::ranking::{artists_ranked, songs_ranked, RankingTable};
use crate::api::{get_rankings, LIST_ROWS};
use crate::range::{Metric, Preset, RangeQuery, RangeView};

/// Which ranking a list page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listed {
    Artists,
    Songs,
}

impl Listed {
    fn path(self) -> &'static str {
        match self {
            Listed::Artists => "/artists",
            Listed::Songs => "/songs",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Listed::Artists => "Artists",
            Listed::Songs => "Songs",
        }
    }
}

/// The presets and the metric as links to this page.
fn chips(listed: Listed, query: RangeQuery) -> impl IntoView {
    let presets = [
        (Preset::Last30Days, "Last 30 days"),
        (Preset::LatestYear, "Latest year"),
        (Preset::AllTime, "All time"),
    ]
    .map(|(preset, label)| {
        let chosen = RangeQuery {
            preset: Some(preset),
            from: None,
            to: None,
            metric: query.metric,
        };
        let current = query.is_preset(preset).then_some("true");
        view! {
            <a class="chip" href=format!("{}?{}", listed.path(), chosen.to_query_string()) aria-current=current>{label}</a>
        }
    });
    let metrics =
        [(Metric::Plays, "Plays"), (Metric::Time, "Listening time")].map(|(metric, label)| {
            let chosen = RangeQuery { metric, ..query };
            let current = (query.metric == metric).then_some("true");
            view! {
                <a class="chip" href=format!("{}?{}", listed.path(), chosen.to_query_string()) aria-current=current>{label}</a>
            }
        });
    view! {
        <nav class="range-controls" aria-label="Time range">
            <div class="chips" role="group" aria-label="Preset ranges">{presets}</div>
            <div class="chips" role="group" aria-label="Rank by">{metrics}</div>
        </nav>
    }
}

fn body(listed: Listed, view: RangeView) -> impl IntoView {
    let (rows, what) = match listed {
        Listed::Artists => (artists_ranked(view.top_artists), "Artist"),
        Listed::Songs => (songs_ranked(view.top_songs), "Song"),
    };
    let how_many = if rows.len() >= LIST_ROWS as usize {
        format!("the first {LIST_ROWS}")
    } else {
        format!("all {}", rows.len())
    };
    let caption = format!(
        "{} ({}), by {}: {how_many}",
        describe_range(view.range),
        view.time_zone,
        match view.query.metric {
            Metric::Plays => "plays",
            Metric::Time => "listening time",
        }
    );
    let empty = rows.is_empty();
    view! {
        <p class="range-caption">{caption}</p>
        <section class="panel">
            {if empty {
                view! { <p>"No listens in this range."</p> }.into_any()
            } else {
                view! { <div class="table-scroll"><RankingTable label=listed.title() what rows /></div> }.into_any()
            }}
        </section>
    }
}

#[component]
fn ListPage(listed: Listed) -> impl IntoView {
    let query = query_from_url();
    let view_of = Resource::new(
        move || query.get(),
        |query| async move {
            let query = query?;
            get_rankings(query).await.map_err(|error| error.to_string())
        },
    );
    view! {
        <h2 class="page-title">{listed.title()}</h2>
        {move || query.get().ok().map(|query| chips(listed, query))}
        <Suspense fallback=|| view! { <p class="loading">"Loading the ranking…"</p> }>
            {move || view_of.get().map(|result| match result {
                Ok(view) => body(listed, view).into_any(),
                Err(error) => view! { <p class="notice" role="alert">{format!("This ranking cannot be shown: {error}")}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
pub fn ArtistsPage() -> impl IntoView {
    view! { <ListPage listed=Listed::Artists /> }
}

#[component]
pub fn SongsPage() -> impl IntoView {
    view! { <ListPage listed=Listed::Songs /> }
}
