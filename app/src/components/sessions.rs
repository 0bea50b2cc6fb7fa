//! The dashboard's listening sessions, for the range in the URL and the
//! pause it names (`gap`, minutes): the body is rendered on the server
//! ([`super::sessions_body`]) and fetched again whenever the range, the
//! pause or the pushed figures change.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::range_view::{place_from_url, rendered, RenderedBody};
use crate::api::get_sessions_body;

#[component]
pub fn SessionsSection(
    /// Changes whenever the pushed figures change.
    version: Signal<Option<DateTime<Utc>>>,
) -> impl IntoView {
    let place = place_from_url();
    let body = Resource::new(
        move || (place.get(), version.get()),
        |(place, _)| async move { rendered(get_sessions_body(place?).await) },
    );
    view! {
        <section class="range sessions" id="sessions" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Listening sessions"</h2>
            <RenderedBody body class="sessions-body" loading="Finding sessions…" failed="The sessions cannot be shown" />
        </section>
    }
}
