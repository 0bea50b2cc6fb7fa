//! The dashboard's calendar of listening days: one year at a time (the
//! `year` in the URL, else the latest with listens), its body rendered on
//! the server ([`super::calendar_body`]) like the range view's, and fetched
//! again whenever the pushed figures change.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::range_view::{query_from_url, rendered, RenderedBody};
use crate::api::get_calendar_body;
use crate::stories::parse_year;

#[component]
pub fn CalendarSection(
    /// Changes whenever the pushed figures change.
    version: Signal<Option<DateTime<Utc>>>,
) -> impl IntoView {
    let params = use_query_map();
    let year = Memo::new(move |_| params.read().get_str("year").map(str::to_string));
    let range = query_from_url();
    let body = Resource::new(
        move || (year.get(), range.get(), version.get()),
        |(year, range, _)| async move {
            let year = parse_year(year.as_deref())?;
            rendered(get_calendar_body(year, range.unwrap_or_default()).await)
        },
    );
    view! {
        <section class="range calendar" id="calendar" aria-labelledby="calendar-title">
            <h2 id="calendar-title">"Listening days"</h2>
            <RenderedBody body class="calendar-body" loading="Laying out the year…" failed="The calendar cannot be shown" />
        </section>
    }
}
