//! The body of the dashboard's sessions section, rendered on the server (as
//! the range view's body is, see [`super::range_body`]): how many listening
//! sessions the range held and how many a week, the pause that ends one
//! (chosen with links that keep the range), and the longest sessions.

use leptos::prelude::*;

use super::range_view::describe_range;
use crate::format;
use crate::overview::OverviewPlace;
use crate::review::{SessionGap, SessionsView};

/// Pauses offered, in minutes.
const GAPS: [u32; 4] = [15, 30, 60, 120];

/// The section's body as HTML; its links keep the rest of the overview's `place`.
pub fn render(view: SessionsView, place: &OverviewPlace) -> String {
    let place = *place;
    Owner::new().with(|| view! { <SessionsBody view place /> }.to_html())
}

/// `1 h` or `45 min`.
fn pause(gap: SessionGap) -> String {
    match gap.minutes() {
        minutes if minutes % 60 == 0 => format!("{} h", minutes / 60),
        minutes => format!("{minutes} min"),
    }
}

#[component]
fn SessionsBody(view: SessionsView, place: OverviewPlace) -> impl IntoView {
    let SessionsView {
        range,
        time_zone,
        gap,
        sessions,
    } = view;
    let chips = GAPS
        .into_iter()
        .filter_map(|minutes| SessionGap::try_from(minutes).ok())
        .map(|choice| {
            let href = OverviewPlace {
                gap: choice,
                ..place
            }
            .href(Some("sessions"));
            let current = (choice == gap).then_some("true");
            view! { <a class="chip" href=href aria-current=current>{pause(choice)}</a> }
        })
        .collect_view();
    let caption = format!(
        "{} sessions in {}, {:.1} a week; a pause of more than {} ends one (times in {time_zone})",
        format::count(sessions.count),
        describe_range(range),
        sessions.per_week,
        pause(gap),
    );
    let rows = sessions
        .longest
        .iter()
        .map(|session| {
            view! {
                <tr>
                    <th scope="row">{format::local_moment(session.start.naive_local())}</th>
                    <td class="num">{format::duration((session.end - session.start).num_milliseconds())}</td>
                    <td class="num">{format::count(session.listens)}</td>
                    <td class="num">{format::duration(session.ms_played)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <nav class="chips" aria-label="Pause that ends a session">{chips}</nav>
        <p class="range-caption">{caption}</p>
        <div class="scroll">
            <table class="ranking" aria-label="Longest sessions">
                <thead><tr><th scope="col">"Began"</th><th scope="col" class="num">"Length"</th><th scope="col" class="num">"Listens"</th><th scope="col" class="num">"Listening time"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
