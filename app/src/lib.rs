//! The dashboard of the listening-analytics system, as a Leptos app.
//!
//! - [`model`]: the types the page, the server functions and the JSON API share;
//! - [`range`]: questions about a time range and their answers; [`stories`]:
//!   the calendar of listening days and its streaks; [`review`]: a year's or a month's review;
//! - [`api`]: the server functions the page calls; [`account_api`]: those of
//!   the settings and people pages;
//! - `source` (server only): the read interface the server implements over MongoDB;
//! - [`imports`]: what the Import page and the server exchange about an import;
//! - [`components`]: the pages and their charts; [`pages`]: the pages
//!   other than the dashboard, loaded when first shown; [`format`]: how figures read.
//!
//! The crate compiles for the server (`ssr`) and for the browser (`hydrate`).

// Deeply nested view types of the dashboard need a deeper limit in the browser build.
#![recursion_limit = "256"]

pub mod account_api;
pub mod api;
pub mod cleanup;
pub mod codec;
pub mod components;
pub mod format;
pub mod imports;
pub mod locale;
pub mod model;
pub mod overview;
pub mod pages;
pub mod range;
pub mod reader_zone;
pub mod refusal;
pub mod review;
pub mod skips;
#[cfg(feature = "ssr")]
pub mod source;
pub mod stories;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Html, Meta, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    Lazy, ParamSegment, StaticSegment,
};

use api::get_viewer;
use components::dashboard::DashboardPage;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The server provides the reader's conventions and zone with each
    // request; the browser reads them back from the page.
    #[cfg(feature = "hydrate")]
    {
        provide_context(std::sync::Arc::new(locale::from_page()));
        reader_zone::provide(reader_zone::from_page());
    }
    let reader = locale::current();
    let conventions = serde_json::to_string(&*reader).unwrap_or_default();
    let zone = reader_zone::current().name().to_string();
    view! {
        <Html {..} lang=reader.tag.clone() data-format=conventions data-zone=zone />
        <Title text="Listening analytics" />
        <Meta name="description" content="Live analytics of Spotify listening history" />
        <Router>
            <header class="topbar">
                <h1><a href="/" class="home">"Listening analytics"</a></h1>
                <span class="tagline">"Spotify listening history, live from Kafka"</span>
                <AccountBar />
                <components::theme::ThemeSwitch />
            </header>
            <main>
                <Routes fallback=|| view! { <p class="notice">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=DashboardPage />
                    <Route path=StaticSegment("artists") view={Lazy::<pages::Artists>::new()} />
                    <Route path=(StaticSegment("artists"), ParamSegment("name")) view={Lazy::<pages::Artist>::new()} />
                    <Route path=StaticSegment("songs") view={Lazy::<pages::Songs>::new()} />
                    <Route path=(StaticSegment("songs"), ParamSegment("uri")) view={Lazy::<pages::Song>::new()} />
                    <Route path=StaticSegment("sign-in") view={Lazy::<pages::SignIn>::new()} />
                    <Route path=StaticSegment("settings") view={Lazy::<pages::Settings>::new()} />
                    <Route path=StaticSegment("import") view={Lazy::<pages::Import>::new()} />
                    <Route path=StaticSegment("review") view={Lazy::<pages::YearReview>::new()} />
                    <Route path=(StaticSegment("review"), ParamSegment("period")) view={Lazy::<pages::YearReview>::new()} />
                    <Route path=StaticSegment("admin") view={Lazy::<pages::People>::new()} />
                    <Route path=(StaticSegment("setup"), ParamSegment("token")) view={Lazy::<pages::Setup>::new()} />
                    <Route path=(StaticSegment("invite"), ParamSegment("token")) view={Lazy::<pages::Invite>::new()} />
                </Routes>
            </main>
        </Router>
    }
}

/// The app's pages, the current one marked (`aria-current="page"`); a
/// share link's visitor sees those that only read.
#[component]
fn MainNav(owner: bool) -> impl IntoView {
    let links: &[(&str, &str)] = if owner {
        &[
            ("/", "Overview"),
            ("/review", "Review"),
            ("/artists", "Artists"),
            ("/songs", "Songs"),
            ("/import", "Import"),
            ("/settings", "Settings"),
        ]
    } else {
        &[
            ("/", "Overview"),
            ("/review", "Review"),
            ("/artists", "Artists"),
            ("/songs", "Songs"),
        ]
    };
    let links = links
        .iter()
        .map(|&(href, label)| view! { <li><A href=href exact={href == "/"}>{label}</A></li> })
        .collect_view();
    view! {
        <nav class="main-nav" aria-label="Main">
            <ul>{links}</ul>
        </nav>
    }
}

/// Who is signed in, with the way out; or whose shared dashboard this is.
#[component]
fn AccountBar() -> impl IntoView {
    let viewer = Resource::new(|| (), |_| get_viewer());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let viewer = viewer.get()?.ok()??;
                Some(if viewer.shared {
                    view! {
                        <MainNav owner=false />
                        <nav class="account-bar" aria-label="Account">
                            <span>{format!("{}'s shared dashboard (read-only)", viewer.name)}</span>
                            <form method="post" action="/share/leave">
                                <button type="submit" class="link-button">"Leave"</button>
                            </form>
                        </nav>
                    }
                    .into_any()
                } else {
                    view! {
                        <MainNav owner=true />
                        <nav class="account-bar" aria-label="Account">
                            <span>"Signed in as " <strong>{viewer.name.clone()}</strong></span>
                            {viewer.admin.then(|| view! { <a href="/admin">"People"</a> })}
                            <form method="post" action="/sign-out">
                                <button type="submit" class="link-button">"Sign out"</button>
                            </form>
                        </nav>
                    }
                    .into_any()
                })
            }}
        </Suspense>
    }
}
