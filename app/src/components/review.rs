//! The review of a year or a month (`/review/2023`, `/review/2023-07`;
//! `/review` is the latest year with listens): totals against the period
//! before, rankings with how they moved, discoveries and the period's
//! moments, each a table that reads without its styling.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::ranking::{artist_path, song_path};
use crate::account_api::Share;
use crate::api::{get_review, get_viewer};
use crate::format;
use crate::model::{TopArtist, TopSong};
use crate::range::{SkippedSong, TopAlbum};
use crate::review::{
    weekday_name, Movement, Period, Ranked, Review, Sessions, Totals, FINISHED_MIN_PLAYS,
};

/// How `now` compares with `before`: `+12% on 2022`, `−3% on 2022`, or
/// nothing to compare with.
pub fn change(now: i64, before: i64, period_before: &str) -> String {
    if before == 0 {
        return format!("no listens in {period_before}");
    }
    let percent = ((now - before) as f64 * 100.0 / before as f64).round() as i64;
    match percent {
        0 => format!("as much as in {period_before}"),
        up if up > 0 => format!("+{}% on {period_before}", format::count(up)),
        down => format!("−{}% on {period_before}", format::count(-down)),
    }
}

/// `14:00–15:00 (Asia/Tokyo)`.
pub fn hour_span(hour: u8, time_zone: &str) -> String {
    format!("{hour:02}:00–{:02}:00 ({time_zone})", (hour + 1) % 24)
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let params = use_params_map();
    let review = Resource::new(
        move || params.read().get("period"),
        |period| async move {
            let period = crate::review::parse_period(period.as_deref())?;
            get_review(period).await.map_err(|error| error.to_string())
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Putting the review together…"</p> }>
            {move || review.get().map(|result| match result {
                Ok(review) => review_view(review).into_any(),
                Err(error) => view! {
                    <p><a href="/">"← Back to the dashboard"</a></p>
                    <p class="notice" role="alert">{format!("This review cannot be shown: {error}")}</p>
                }.into_any(),
            })}
        </Suspense>
    }
}

fn review_view(review: Review) -> impl IntoView {
    let period = review.period;
    let before = period.previous().label();
    let title = format!("Your {}", period.label());
    let navigation = navigation(&review);
    let body = if review.is_empty() {
        view! { <p class="notice">{format!("No listens in {}. Pick another period above.", period.label())}</p> }.into_any()
    } else {
        view! {
            {totals(review.totals, review.before, &before)}
            {moments(&review)}
            <div class="panels review-panels">
                {songs_table(review.top_songs)}
                {artists_table(review.top_artists)}
                {albums_table(review.top_albums)}
                {discoveries(review.new_artists, review.new_songs, review.top_discoveries)}
                {skipped_table(review.most_skipped)}
                {finished_table(review.finished_every_time)}
            </div>
            {card(period, review.totals)}
        }
        .into_any()
    };
    view! {
        <p><a href="/">"← Back to the dashboard"</a></p>
        <h2 class="page-title">{title}</h2>
        {navigation}
        {body}
    }
}

/// The shareable card: a preview, its files, and a share link to the review.
fn card(period: Period, totals: Totals) -> impl IntoView {
    let file = |name: &str| format!("/cards/{period}/{name}");
    let alt = format!(
        "The card of {}: {} listening hours, {} plays, the top songs and artists",
        period.label(),
        format::hours(totals.ms_played),
        format::count(totals.plays)
    );
    view! {
        <section class="panel review-card" id="review-card" aria-labelledby="review-card-title">
            <h3 id="review-card-title">"Your card"</h3>
            // A phone shows the story card: the wide one's text would be too small there.
            <picture>
                <source media="(max-width: 900px)" srcset=file("story.svg") width="1080" height="1920" />
                <img src=file("wide.svg") alt=alt width="1200" height="630" />
            </picture>
            <p class="downloads">
                "Download: "
                <a href=file("wide.png") download="">"PNG 1200×630"</a>" · "
                <a href=file("story.png") download="">"PNG 1080×1920 (story)"</a>" · "
                <a href=file("wide.svg") download="">"SVG"</a>" · "
                <a href=file("story.svg") download="">"SVG (story)"</a>
            </p>
            <ShareReview period />
        </section>
    }
}

/// For the owner of the figures: a share link that opens this review.
#[component]
fn ShareReview(period: Period) -> impl IntoView {
    let viewer = Resource::new(|| (), |_| get_viewer());
    let share = ServerAction::<Share>::new();
    let ready = super::interactive();
    let owner = move || {
        viewer
            .get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|viewer| !viewer.shared)
    };
    let shared = move || {
        share.value().get().map(|result| match result {
            Ok(link) => view! {
                <div class="notice secret" role="status">
                    <p>"Anyone with this link sees this review and your dashboard, read-only, until you stop sharing in Settings. Copy it now: it is not shown again."</p>
                    <code>{format!("{link}?to={}", period.page())}</code>
                </div>
            }
            .into_any(),
            Err(error) => view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <Suspense fallback=|| ()>
            {move || owner().then(|| view! {
                <ActionForm action=share>
                    <button type="submit" disabled=move || !ready.get()>"Make a share link to this review"</button>
                </ActionForm>
                <p class="hint">"A new share link replaces your previous one, which stops working."</p>
                {shared}
            })}
        </Suspense>
    }
}

/// Links to the periods around, those with listens.
fn navigation(review: &Review) -> impl IntoView {
    let period = review.period;
    let within = |other: Period| {
        let (Some(first), Some(last)) = (review.first_day, review.last_day) else {
            return false;
        };
        other.first_day() <= last && other.next().first_day() > first
    };
    let link = |other: Period, text: String| {
        within(other).then(|| view! { <a href=other.page()>{text}</a> })
    };
    let months = (review.months.iter())
        .map(|month| {
            let month = Period::month_of(month.start);
            view! { <li><a href=month.page()>{month.label()}</a></li> }
        })
        .collect_view();
    view! {
        <nav class="review-nav" aria-label="Other periods">
            {link(period.previous(), format!("← {}", period.previous().label()))}
            {matches!(period, Period::Month(..)).then(|| view! { <a href=period.whole_year().page()>{format!("All of {}", period.year())}</a> })}
            {link(period.next(), format!("{} →", period.next().label()))}
        </nav>
        {matches!(period, Period::Year(_)).then(|| view! { <ul class="review-months" aria-label="Months of the year">{months}</ul> })}
    }
}

fn totals(now: Totals, then: Totals, before: &str) -> impl IntoView {
    view! {
        <section class="totals" aria-label="Totals">
            <div class="stat">
                <span class="stat-value">{format::hours(now.ms_played)}</span>
                <span class="stat-label">"Listening hours"</span>
                <span class="stat-change">{change(now.ms_played, then.ms_played, before)}</span>
            </div>
            <div class="stat">
                <span class="stat-value">{format::count(now.plays)}</span>
                <span class="stat-label">"Plays"</span>
                <span class="stat-change">{change(now.plays, then.plays, before)}</span>
            </div>
        </section>
    }
}

/// The period's moments, as a list of facts.
fn moments(review: &Review) -> impl IntoView {
    let fact = |term: &'static str, text: Option<String>| {
        text.map(|text| view! { <div class="fact"><dt>{term}</dt><dd>{text}</dd></div> })
    };
    let first_listen = review.top_song_first_listen.as_ref().and_then(|first| {
        let top = &review.top_songs.first()?.row;
        Some(format!(
            "{} — you first played it on {}",
            top.track_name,
            first.at.date_naive()
        ))
    });
    view! {
        <dl class="moments" aria-label="Moments">
            {fact("Top song", first_listen)}
            {fact("Most-played day", review.most_played_day.map(|day| format!("{}: {} plays, {}", format::day(day.start), format::count(day.plays), format::duration(day.ms_played))))}
            {fact("Longest streak", review.longest_streak.map(|streak| format!("{} days in a row, {} to {}", streak.days, format::day(streak.first), format::day(streak.last))))}
            {fact("Listening sessions", sessions(&review.sessions))}
            {fact("Busiest hour", review.busiest_hour.map(|busiest| format!("{}: {}", hour_span(busiest.at.0, &review.time_zone), format::duration(busiest.ms_played))))}
            {fact("Busiest weekday", review.busiest_weekday.map(|busiest| format!("{}: {}", weekday_name(busiest.at.0), format::duration(busiest.ms_played))))}
        </dl>
    }
}

/// How many sessions, and the longest: `41 sessions, 3.2 a week; the
/// longest 2023-05-02, 3 h 10 min (52 listens)`.
fn sessions(sessions: &Sessions) -> Option<String> {
    let longest = sessions.longest.first()?;
    Some(format!(
        "{} sessions, {:.1} a week; the longest on {}, {} ({} listens)",
        format::count(sessions.count),
        sessions.per_week,
        format::day(longest.start.date_naive()),
        format::duration((longest.end - longest.start).num_milliseconds()),
        format::count(longest.listens)
    ))
}

/// A ranking's movement cell.
fn movement(rank: u32, before: Option<u32>) -> impl IntoView {
    let movement = Movement::of(rank, before);
    let class = match movement {
        Movement::New => "move new",
        Movement::Up(_) => "move up",
        Movement::Down(_) => "move down",
        Movement::Same => "move same",
    };
    view! { <td class=class><span aria-hidden="true">{movement.mark()}</span><span class="visually-hidden">{movement.spoken()}</span></td> }
}

/// A table of a ranking: rank, movement, name and its figures.
fn table(
    id: &'static str,
    heading: &'static str,
    columns: &'static [&'static str],
    rows: Vec<AnyView>,
    note: Option<String>,
) -> impl IntoView {
    let heads = columns
        .iter()
        .map(|column| view! { <th scope="col">{*column}</th> })
        .collect_view();
    view! {
        <section class="panel" id=id aria-labelledby=format!("{id}-title")>
            <h3 id=format!("{id}-title")>{heading}</h3>
            {if rows.is_empty() {
                view! { <p>"None in this period."</p> }.into_any()
            } else {
                view! {
                    <table class="ranking-table" aria-labelledby=format!("{id}-title")>
                        <thead><tr>{heads}</tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
                .into_any()
            }}
            {note.map(|note| view! { <p class="hint">{note}</p> })}
        </section>
    }
}

/// A song's cell: its name, linked to its page, over its artist.
fn song_cell(track_uri: &str, track_name: &str, artist_name: &str) -> impl IntoView {
    view! { <td><a class="title" href=song_path(track_uri)>{track_name.to_string()}</a><span class="subtitle">{artist_name.to_string()}</span></td> }
}

fn songs_table(songs: Vec<Ranked<TopSong>>) -> impl IntoView {
    let rows = songs
        .into_iter()
        .map(|Ranked { row, rank_before }| {
            view! { <tr><td>{row.rank}</td>{movement(row.rank, rank_before)}{song_cell(&row.track_uri, &row.track_name, &row.artist_name)}<td>{format::count(row.plays)}</td><td>{format::duration(row.ms_played)}</td></tr> }.into_any()
        })
        .collect();
    table(
        "review-songs",
        "Top songs",
        &["#", "Move", "Song", "Plays", "Time"],
        rows,
        None,
    )
}

fn artists_table(artists: Vec<Ranked<TopArtist>>) -> impl IntoView {
    let rows = artists
        .into_iter()
        .map(|Ranked { row, rank_before }| {
            view! { <tr><td>{row.rank}</td>{movement(row.rank, rank_before)}<td><a class="title" href=artist_path(&row.artist_name)>{row.artist_name.clone()}</a></td><td>{format::count(row.plays)}</td><td>{format::duration(row.ms_played)}</td></tr> }.into_any()
        })
        .collect();
    table(
        "review-artists",
        "Top artists",
        &["#", "Move", "Artist", "Plays", "Time"],
        rows,
        None,
    )
}

fn albums_table(albums: Vec<Ranked<TopAlbum>>) -> impl IntoView {
    let rows = albums
        .into_iter()
        .map(|Ranked { row, rank_before }| {
            view! { <tr><td>{row.rank}</td>{movement(row.rank, rank_before)}<td><span class="title">{row.album_name.clone()}</span><a class="subtitle" href=artist_path(&row.artist_name)>{row.artist_name.clone()}</a></td><td>{format::count(row.plays)}</td><td>{format::duration(row.ms_played)}</td></tr> }.into_any()
        })
        .collect();
    table(
        "review-albums",
        "Top albums",
        &["#", "Move", "Album", "Plays", "Time"],
        rows,
        None,
    )
}

fn discoveries(new_artists: i64, new_songs: i64, top: Vec<TopArtist>) -> impl IntoView {
    let table = (!top.is_empty()).then(|| {
        let rows = top
            .into_iter()
            .map(|artist| {
                view! { <tr><td>{artist.rank}</td><td><a class="title" href=artist_path(&artist.artist_name)>{artist.artist_name.clone()}</a></td><td>{format::count(artist.plays)}</td><td>{format::duration(artist.ms_played)}</td></tr> }
            })
            .collect_view();
        view! {
            <table class="ranking-table" aria-labelledby="review-discoveries-title">
                <thead><tr><th scope="col">"#"</th><th scope="col">"New artist"</th><th scope="col">"Plays"</th><th scope="col">"Time"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    view! {
        <section class="panel" id="review-discoveries" aria-labelledby="review-discoveries-title">
            <h3 id="review-discoveries-title">"Discoveries"</h3>
            <p class="discovered">{format!("{} new artists and {} new songs, first heard in this period.", format::count(new_artists), format::count(new_songs))}</p>
            {table}
        </section>
    }
}

fn skipped_table(songs: Vec<SkippedSong>) -> impl IntoView {
    let rows = songs
        .into_iter()
        .map(|song| {
            let rate = format!("{}%", (song.skip_rate * 100.0).round() as i64);
            let cell = song_cell(&song.track_uri, &song.track_name, &song.artist_name);
            view! { <tr><td>{song.rank}</td>{cell}<td>{format::count(song.skips)}</td><td>{format::count(song.plays)}</td><td>{rate}</td></tr> }.into_any()
        })
        .collect();
    table(
        "review-skipped",
        "Most skipped",
        &["#", "Song", "Skips", "Plays", "Rate"],
        rows,
        None,
    )
}

fn finished_table(songs: Vec<TopSong>) -> impl IntoView {
    let rows = songs
        .into_iter()
        .map(|song| view! { <tr><td>{song.rank}</td>{song_cell(&song.track_uri, &song.track_name, &song.artist_name)}<td>{format::count(song.plays)}</td></tr> }.into_any())
        .collect();
    let note = format!(
        "Songs played at least {FINISHED_MIN_PLAYS} times in the period, never skipped, each to its end."
    );
    table(
        "review-finished",
        "Finished every time",
        &["#", "Song", "Plays"],
        rows,
        Some(note),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reads_as_a_percentage_of_the_period_before() {
        assert_eq!(change(112, 100, "2022"), "+12% on 2022");
        assert_eq!(change(97, 100, "2022"), "−3% on 2022");
        assert_eq!(change(100, 100, "2022"), "as much as in 2022");
        assert_eq!(change(5, 0, "2022"), "no listens in 2022");
        assert_eq!(hour_span(23, "UTC"), "23:00–00:00 (UTC)");
    }
}
