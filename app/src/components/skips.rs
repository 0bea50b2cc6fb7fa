//! The dashboard's skips section, for the range in the URL: its body is
//! rendered on the server ([`super::skips_body`]) like the range view's,
//! and fetched again whenever the range or the pushed figures change.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::range_view::{query_from_url, rendered, RenderedBody};
use crate::api::get_skips_body;

#[component]
pub fn SkipsSection(
    /// Changes whenever the pushed figures change.
    version: Signal<Option<DateTime<Utc>>>,
) -> impl IntoView {
    let range = query_from_url();
    let body = Resource::new(
        move || (range.get(), version.get()),
        |(range, _)| async move { rendered(get_skips_body(range?).await) },
    );
    view! {
        <section class="range skips" id="skips" aria-labelledby="skips-title">
            <h2 id="skips-title">"Skips"</h2>
            <RenderedBody body class="skips-body" loading="Counting skips…" failed="The skips cannot be shown" />
        </section>
    }
}
