//! The dashboard's components.

pub mod bar_chart;
pub mod calendar;
#[cfg(feature = "ssr")]
pub mod calendar_body;
pub mod clean_up;
pub mod dashboard;
pub mod detail;
pub mod import;
pub mod lists;
pub mod people;
#[cfg(feature = "ssr")]
pub mod range_body;
pub mod range_view;
pub mod rank_history;
pub mod ranking;
pub mod review;
#[cfg(feature = "ssr")]
pub mod review_card;
pub mod sessions;
pub mod sessions_body;
pub mod settings;
pub mod sign_in;
pub mod skips;
pub mod skips_body;
pub mod theme;
pub mod time_charts;

use leptos::prelude::*;

/// Whether the page's code runs in the browser yet: false while it is
/// rendered on the server and until it is hydrated. Buttons of forms that
/// need that code stay disabled until then (posted without it, a form's
/// answer, such as a token shown once, would be lost).
pub fn interactive() -> ReadSignal<bool> {
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    ready
}
