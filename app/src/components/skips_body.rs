//! The body of the dashboard's skips section, rendered on the server (as
//! the range view's body is, see [`super::range_body`]): the share of plays
//! skipped over the range (a chart, and its table for those who do not see
//! it), the songs skipped within their first seconds most often, and how
//! tracks ended on each platform.

use leptos::prelude::*;

use super::bar_chart::ChartSvg;

use super::range_view::describe_range;
use super::ranking::{artist_path, song_path};
use super::time_charts::render_skip_rate;
use crate::format;
use crate::skips::{PlatformEndings, SkipStory, EARLY_SKIP_MS};

/// The section's body as HTML.
pub fn render(story: SkipStory) -> String {
    let range = describe_range(story.range);
    Owner::new().with(|| view! { <SkipsBody story range /> }.to_html())
}

/// `12.5%`.
fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "—".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

#[component]
fn SkipsBody(story: SkipStory, range: String) -> impl IntoView {
    let plays: i64 = story.over_time.iter().map(|point| point.plays).sum();
    let skips: i64 = story.over_time.iter().map(|point| point.skips).sum();
    if plays == 0 {
        return view! { <p class="notice">{format!("No listens in {range}.")}</p> }.into_any();
    }
    let caption = format!(
        "{} of {} plays skipped ({}) in {range}; days in {}",
        format::count(skips),
        format::count(plays),
        percent(skips, plays),
        story.time_zone
    );
    let svg = render_skip_rate(&story.over_time, story.bucket)
        .unwrap_or_else(|error| format!("<p>Chart unavailable: {error}</p>"));
    let steps = (story.over_time.iter().filter(|point| point.plays > 0))
        .map(|point| {
            view! {
                <tr>
                    <th scope="row">{format::day(point.start)}</th>
                    <td class="num">{format::count(point.plays)}</td>
                    <td class="num">{format::count(point.skips)}</td>
                    <td class="num">{percent(point.skips, point.plays)}</td>
                </tr>
            }
        })
        .collect_view();
    let none_early = story.early.is_empty().then(|| {
        view! { <p class="hint">{format!("No song was skipped within its first {} seconds in this range.", EARLY_SKIP_MS / 1000)}</p> }
    });
    let early = story
        .early
        .into_iter()
        .map(|song| {
            view! {
                <tr>
                    <td class="num">{song.rank}</td>
                    <td>
                        <a class="title" href=song_path(&song.track_uri)>{song.track_name}</a>
                        <span class="sub"><a href=artist_path(&song.artist_name)>{song.artist_name.clone()}</a></span>
                    </td>
                    <td class="num">{format::count(song.early_skips)}</td>
                    <td class="num">{format::count(song.plays)}</td>
                </tr>
            }
        })
        .collect_view();
    let platforms = story.platforms.into_iter().map(platform_row).collect_view();
    view! {
        <p class="range-caption">{caption}</p>
        <div class="panels">
            <section class="panel" aria-labelledby="skip-rate-title">
                <h3 id="skip-rate-title">"Share of plays skipped"</h3>
                <ChartSvg label="Share of plays skipped over time".to_string() svg />
                <details>
                    <summary>"The figures as a table"</summary>
                    <div class="scroll">
                        <table aria-label="Skips over time">
                            <thead><tr><th scope="col">"From"</th><th scope="col" class="num">"Plays"</th><th scope="col" class="num">"Skipped"</th><th scope="col" class="num">"Share"</th></tr></thead>
                            <tbody>{steps}</tbody>
                        </table>
                    </div>
                </details>
            </section>
            <section class="panel" aria-labelledby="early-skips-title">
                <h3 id="early-skips-title">{format!("Skipped in the first {} seconds", EARLY_SKIP_MS / 1000)}</h3>
                <table class="ranking" aria-label="Skipped early">
                    <thead><tr><th scope="col">"#"</th><th scope="col">"Song"</th><th scope="col" class="num">"Early skips"</th><th scope="col" class="num">"Plays"</th></tr></thead>
                    <tbody>{early}</tbody>
                </table>
                {none_early}
            </section>
        </div>
        <section class="panel" aria-labelledby="endings-title">
            <h3 id="endings-title">"How tracks ended, by platform"</h3>
            <div class="scroll">
                <table class="ranking" aria-label="Endings by platform">
                    <thead><tr><th scope="col">"Platform"</th><th scope="col" class="num">"Plays"</th><th scope="col" class="num">"Skipped"</th><th scope="col">"Ended by"</th></tr></thead>
                    <tbody>{platforms}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

/// A platform's row: its plays, its share skipped, its ways of ending.
fn platform_row(platform: PlatformEndings) -> impl IntoView {
    let endings = (platform.endings.iter())
        .map(|ending| format!("{} {}", ending.label, percent(ending.plays, platform.plays)))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <tr>
            <th scope="row">{platform.platform}</th>
            <td class="num">{format::count(platform.plays)}</td>
            <td class="num">{percent(platform.skips, platform.plays)}</td>
            <td>{endings}</td>
        </tr>
    }
}
