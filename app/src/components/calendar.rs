//! The dashboard's calendar of listening days: one year at a time (the
//! `year` in the URL, else the latest with listens), its body rendered on
//! the server ([`super::calendar_body`]) like the range view's, and fetched
//! again whenever the pushed figures change.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::range_view::{place_from_url, rendered, RenderedBody};
use crate::api::get_calendar_body;

#[component]
pub fn CalendarSection(
    /// Changes whenever the pushed figures change.
    version: Signal<Option<DateTime<Utc>>>,
) -> impl IntoView {
    let place = place_from_url();
    let body = Resource::new(
        move || (place.get(), version.get()),
        |(place, _)| async move { rendered(get_calendar_body(place?).await) },
    );
    view! {
        <section class="range calendar" id="calendar" aria-labelledby="calendar-title">
            <h2 id="calendar-title">"Listening days"</h2>
            <RenderedBody body class="calendar-body" loading="Laying out the year…" failed="The calendar cannot be shown" />
        </section>
    }
}
