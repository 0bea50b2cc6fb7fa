//! The pages other than the dashboard, each loaded with its code the first
//! time it is shown: the dashboard's WebAssembly carries only what the
//! dashboard needs. Build with `cargo leptos build --split` (or `watch
//! --split`), as every script here does: it puts each page's code in a file
//! of its own, and without it the page's script imports a module that does
//! not exist, so nothing hydrates.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::components::detail::{ArtistPage, SongPage};
use crate::components::import::ImportPage;
use crate::components::lists::{ArtistsPage, SongsPage};
use crate::components::people::PeoplePage;
use crate::components::review::ReviewPage;
use crate::components::settings::SettingsPage;
use crate::components::sign_in::{InvitePage, SetupPage, SignInPage};

/// A page whose view is loaded when first shown; its data is fetched by
/// the page itself.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        #[doc = concat!("[`", stringify!($page), "`], loaded when first shown.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    };
}

lazy_page!(Artist, ArtistPage);
lazy_page!(Artists, ArtistsPage);
lazy_page!(Songs, SongsPage);
lazy_page!(Song, SongPage);
lazy_page!(SignIn, SignInPage);
lazy_page!(Settings, SettingsPage);
lazy_page!(Import, ImportPage);
lazy_page!(YearReview, ReviewPage);
lazy_page!(People, PeoplePage);
lazy_page!(Setup, SetupPage);
lazy_page!(Invite, InvitePage);
