//! The dashboard's listening sessions, for the range in the URL and the
//! pause it names (`gap`, minutes): the body is rendered on the server
//! ([`super::sessions_body`]) and fetched again whenever the range, the
//! pause or the pushed figures change.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::range_view::{query_from_url, rendered, RenderedBody};
use crate::api::get_sessions_body;
use crate::review::SessionGap;

#[component]
pub fn SessionsSection(
    /// Changes whenever the pushed figures change.
    version: Signal<Option<DateTime<Utc>>>,
) -> impl IntoView {
    let params = use_query_map();
    let gap = Memo::new(move |_| SessionGap::parse(params.read().get_str("gap")));
    let range = query_from_url();
    let body = Resource::new(
        move || (range.get(), gap.get(), version.get()),
        |(range, gap, _)| async move { rendered(get_sessions_body(range?, Some(gap?.minutes())).await) },
    );
    view! {
        <section class="range sessions" id="sessions" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Listening sessions"</h2>
            <RenderedBody body class="sessions-body" loading="Finding sessions…" failed="The sessions cannot be shown" />
        </section>
    }
}
