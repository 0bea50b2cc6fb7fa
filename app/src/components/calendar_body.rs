//! The body of the calendar of listening days, rendered on the server (as
//! the range view's body is, see [`super::range_body`]): the year's
//! heatmap, its streaks, links to the years around it, the year by month
//! as a table for those who do not see the chart, and what its months
//! discovered.

use chrono::{Datelike, NaiveDate};
use leptos::prelude::*;

use super::bar_chart::ChartSvg;

use super::time_charts::{render_calendar, MONTHS};
use crate::format;
use crate::overview::OverviewPlace;
use crate::stories::{Calendar, DiscoveryMonth, Streak};

/// The calendar's body as HTML, with what the year's months discovered;
/// its year links keep the rest of the overview's `place`.
pub fn render(
    calendar: Calendar,
    discoveries: Vec<DiscoveryMonth>,
    place: &OverviewPlace,
) -> String {
    let place = *place;
    Owner::new().with(|| {
        view! {
            <CalendarBody calendar place />
            <DiscoveriesTable discoveries />
        }
        .to_html()
    })
}

fn year_link(place: OverviewPlace, year: i32) -> String {
    OverviewPlace {
        year: Some(year),
        ..place
    }
    .href(Some("calendar"))
}

/// A streak as read, or `none` when there is none.
fn describe(streak: Option<Streak>, none: &str) -> String {
    match streak {
        None => none.into(),
        Some(Streak { days: 1, first, .. }) => format!("1 day ({first})"),
        Some(Streak { first, last, days }) => format!("{days} days ({first} to {last})"),
    }
}

#[component]
fn CalendarBody(calendar: Calendar, place: OverviewPlace) -> impl IntoView {
    let year = calendar.year;
    let previous = calendar
        .first_year
        .filter(|&first| first < year)
        .map(|_| year - 1);
    let next = calendar
        .last_year
        .filter(|&last| last > year)
        .map(|_| year + 1);
    let link = |year: Option<i32>, rel: &'static str, label: fn(i32) -> String| {
        year.map(
            |year| view! { <a class="chip" href=year_link(place, year) rel=rel>{label(year)}</a> },
        )
    };
    let caption = format!(
        "{year}: {} listening days, {} listens, {} hours (days in {})",
        format::count(calendar.days.len() as i64),
        format::count(calendar.plays()),
        format::hours(calendar.ms_played()),
        calendar.time_zone,
    );
    let svg = render_calendar(year, &calendar.days, &calendar.time_zone)
        .unwrap_or_else(|error| format!("<p>Chart unavailable: {error}</p>"));
    view! {
        <nav class="chips calendar-years" aria-label="Years">
            {link(previous, "prev", |year| format!("← {year}"))}
            <span class="chip" aria-current="true">{year}</span>
            {link(next, "next", |year| format!("{year} →"))}
        </nav>
        <p class="range-caption" aria-live="polite">{caption}</p>
        <ChartSvg class="calendar-chart" label=format!("Listening hours per day of {year}, darker for more") svg />
        <ul class="streaks" aria-label="Streaks of days in a row with listens">
            <li><strong>"Longest streak in "{year}": "</strong>{describe(calendar.longest_in_year, "none")}</li>
            <li><strong>"Longest streak ever: "</strong>{describe(calendar.longest, "none")}</li>
            <li><strong>"Current streak: "</strong>{describe(calendar.current, "none (no listens today or yesterday)")}</li>
        </ul>
        <MonthsTable year days=calendar.days />
    }
}

/// The year by month: days with listens, listens and hours.
#[component]
fn MonthsTable(year: i32, days: Vec<crate::range::TimePoint>) -> impl IntoView {
    let rows = MONTHS
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let month = index as u32 + 1;
            let of_month: Vec<_> = days
                .iter()
                .filter(|day| day.start.month() == month)
                .collect();
            let plays: i64 = of_month.iter().map(|day| day.plays).sum();
            let ms: i64 = of_month.iter().map(|day| day.ms_played).sum();
            let in_month = NaiveDate::from_ymd_opt(year, month, 1).map_or(0, |first| {
                let next = first.checked_add_months(chrono::Months::new(1));
                next.map_or(0, |next| (next - first).num_days())
            });
            view! {
                <tr>
                    <th scope="row">{*name}</th>
                    <td class="num">{format!("{} of {in_month}", of_month.len())}</td>
                    <td class="num">{format::count(plays)}</td>
                    <td class="num">{format::hours(ms)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <details>
            <summary>{format!("{year} by month as a table")}</summary>
            <div class="scroll">
                <table aria-label=format!("Listening days of {year} by month")>
                    <thead><tr><th scope="col">"Month"</th><th scope="col" class="num">"Days with listens"</th><th scope="col" class="num">"Listens"</th><th scope="col" class="num">"Hours"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </details>
    }
}

/// What each month of the year discovered: new artists and songs, and the
/// share of its listening that went to songs first heard in it.
#[component]
fn DiscoveriesTable(discoveries: Vec<DiscoveryMonth>) -> impl IntoView {
    if discoveries.is_empty() {
        return None;
    }
    let year = discoveries[0].month.year();
    let rows = discoveries
        .into_iter()
        .map(|month| {
            let name = MONTHS[month.month.month0() as usize];
            view! {
                <tr>
                    <th scope="row">{name}</th>
                    <td class="num">{format::count(month.new_artists)}</td>
                    <td class="num">{format::count(month.new_songs)}</td>
                    <td class="num">{format!("{:.0} %", month.new_share() * 100.0)}</td>
                </tr>
            }
        })
        .collect_view();
    Some(view! {
        <h3 id="discoveries-title">{format!("Discoveries in {year}")}</h3>
        <div class="scroll">
            <table aria-labelledby="discoveries-title">
                <thead><tr><th scope="col">"Month"</th><th scope="col" class="num">"New artists"</th><th scope="col" class="num">"New songs"</th><th scope="col" class="num">"Listening to new songs"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    })
}
