//! Cleaning one's figures from the page: leave an artist, an album, a song
//! or a song's plays in a time window out of every figure (on the artist
//! and song pages), and the list of what is left out, each put back with
//! one button (in Settings). Only the owner of the figures sees them, never
//! a share link.

use leptos::prelude::*;

use super::interactive;
use crate::account_api::{get_exclusions, CleanUp};
use crate::api::get_viewer;
use crate::cleanup::{CleanUpShown, Exclusion, ExclusionView};
use crate::format;

/// What a button leaves out: the hidden fields of its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Artist {
        artist: String,
    },
    Song {
        track_uri: String,
        artist: String,
        album: String,
    },
}

/// Whether the page is its owner's (not a share link's): what may change figures.
fn owner() -> impl Fn() -> bool + Copy {
    let viewer = Resource::new(|| (), |_| get_viewer());
    move || {
        viewer
            .get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|viewer| !viewer.shared)
    }
}

/// What came of the clean-up a detail page made, said above its figures
/// (which it shows again: they may be gone).
#[component]
pub fn CleanUpOutcome(action: ServerAction<CleanUp>) -> impl IntoView {
    move || {
        action.value().get().map(|result| match result {
            Ok(shown) => {
                let said = match shown {
                    CleanUpShown::Now => "Left out of your figures. ",
                    CleanUpShown::Later => "Sent: your figures leave these plays out once counting catches up (reload in a moment). ",
                };
                view! {
                    <p class="notice" role="status">{said}<a href="/settings#clean-up-heading">"Put it back in Settings"</a>"."</p>
                }
                .into_any()
            }
            Err(error) => view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any(),
        })
    }
}

/// The buttons that leave what a detail page shows out of the figures,
/// through the page's `action` (see [`CleanUpOutcome`]).
#[component]
pub fn ExcludeControls(target: Target, action: ServerAction<CleanUp>) -> impl IntoView {
    let owner = owner();
    let ready = interactive();
    let clean_up = action;
    let forms = move || {
        match target.clone() {
        Target::Artist { artist } => view! {
            <ActionForm action=clean_up attr:class="buttons">
                <input type="hidden" name="action" value="exclude" />
                <input type="hidden" name="kind" value="artist" />
                <input type="hidden" name="artist" value=artist />
                <button type="submit" disabled=move || !ready.get()>"Leave this artist out of my figures"</button>
            </ActionForm>
        }
        .into_any(),
        Target::Song {
            track_uri,
            artist,
            album,
        } => {
            let album_form = (!album.is_empty()).then(|| {
                view! {
                    <ActionForm action=clean_up>
                        <input type="hidden" name="action" value="exclude" />
                        <input type="hidden" name="kind" value="album" />
                        <input type="hidden" name="artist" value=artist />
                        <input type="hidden" name="album" value=album />
                        <button type="submit" disabled=move || !ready.get()>"Leave its album out"</button>
                    </ActionForm>
                }
            });
            let song_uri = track_uri.clone();
            view! {
                <div class="buttons">
                    <ActionForm action=clean_up>
                        <input type="hidden" name="action" value="exclude" />
                        <input type="hidden" name="kind" value="song" />
                        <input type="hidden" name="track_uri" value=song_uri />
                        <button type="submit" disabled=move || !ready.get()>"Leave this song out of my figures"</button>
                    </ActionForm>
                    {album_form}
                </div>
                <ActionForm action=clean_up attr:class="account-form window-form">
                    <input type="hidden" name="action" value="exclude" />
                    <input type="hidden" name="kind" value="plays" />
                    <input type="hidden" name="track_uri" value=track_uri />
                    <label>"Plays from" <input type="datetime-local" name="from" required /></label>
                    <label>"until" <input type="datetime-local" name="to" required /></label>
                    <button type="submit" disabled=move || !ready.get()>"Remove these plays"</button>
                </ActionForm>
                <p class="hint">"Times are on your clocks (your time zone in Settings); a play counts where it ended."</p>
            }
            .into_any()
        }
    }
    };
    view! {
        <Suspense fallback=|| ()>
            {move || owner().then(|| view! {
                <section class="panel clean-up" aria-labelledby="exclude-heading">
                    <h2 id="exclude-heading">"Clean up"</h2>
                    <p class="hint">"Plays that were not really yours (a child on your account, a song left looping) can be left out of every figure, and put back exactly as they were."</p>
                    {forms()}
                </section>
            })}
        </Suspense>
    }
}

/// What a person reads for an exclusion's kind.
fn kind_of(exclusion: &Exclusion) -> &'static str {
    match exclusion {
        Exclusion::Artist { .. } => "Artist",
        Exclusion::Album { .. } => "Album",
        Exclusion::Song { .. } => "Song",
        Exclusion::Plays { .. } => "Plays",
    }
}

/// The hidden fields that name an exclusion, to put it back.
fn fields(exclusion: &Exclusion) -> impl IntoView {
    let hidden = |name: &'static str, value: String| {
        view! { <input type="hidden" name=name value=value /> }
    };
    match exclusion.clone() {
        Exclusion::Artist { artist } => {
            vec![hidden("kind", "artist".into()), hidden("artist", artist)]
        }
        Exclusion::Album { artist, album } => vec![
            hidden("kind", "album".into()),
            hidden("artist", artist),
            hidden("album", album),
        ],
        Exclusion::Song { track_uri } => {
            vec![
                hidden("kind", "song".into()),
                hidden("track_uri", track_uri),
            ]
        }
        Exclusion::Plays {
            track_uri,
            from,
            to,
        } => vec![
            hidden("kind", "plays".into()),
            hidden("track_uri", track_uri),
            hidden("from", from.to_rfc3339()),
            hidden("to", to.to_rfc3339()),
        ],
    }
}

/// Settings' list of what is left out, each with a button to put it back,
/// and a form to leave an artist out by name.
#[component]
pub fn CleanUpPanel() -> impl IntoView {
    let ready = interactive();
    let clean_up = ServerAction::<CleanUp>::new();
    let exclusions = Resource::new(move || clean_up.version().get(), |_| get_exclusions());
    let rows = move |views: Vec<ExclusionView>| {
        views
            .into_iter()
            .map(|view| {
                view! {
                    <tr>
                        <td>{view.label.clone()}{view.window.clone().map(|window| view! { <br /><small>{window}</small> })}</td>
                        <td>{kind_of(&view.exclusion)}</td>
                        <td class="num">{format::count(view.plays)}</td>
                        <td class="num">{format::hours(view.ms_played)}</td>
                        <td>
                            <ActionForm action=clean_up>
                                <input type="hidden" name="action" value="include" />
                                {fields(&view.exclusion)}
                                <button type="submit" disabled=move || !ready.get()>"Put back"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="panel" aria-labelledby="clean-up-heading">
            <h2 id="clean-up-heading">"Clean-up"</h2>
            <p class="hint">"What you left out of your figures. Leave out a song, an album or a song's plays in a time window from its page; put anything back here, exactly as it was."</p>
            <ActionForm action=clean_up attr:class="account-form">
                <input type="hidden" name="action" value="exclude" />
                <input type="hidden" name="kind" value="artist" />
                <label>"Artist, named as in your listens" <input name="artist" required autocomplete="off" /></label>
                <button type="submit" disabled=move || !ready.get()>"Leave this artist out"</button>
            </ActionForm>
            {move || clean_up.value().get().map(|result| match result {
                Ok(CleanUpShown::Now) => ().into_any(),
                Ok(CleanUpShown::Later) => view! {
                    <p class="notice" role="status">"Sent: your figures follow once counting catches up (reload in a moment)."</p>
                }.into_any(),
                Err(error) => view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any(),
            })}
            <Suspense fallback=|| ()>
                {move || exclusions.get().map(|result| match result {
                    Ok(views) if views.is_empty() => view! { <p id="exclusions-none">"Nothing is left out: every play counts."</p> }.into_any(),
                    Ok(views) => view! {
                        <div class="table-scroll">
                            <table id="exclusions" aria-label="Left out of your figures">
                                <thead><tr><th scope="col">"What"</th><th scope="col">"Kind"</th><th scope="col" class="num">"Plays"</th><th scope="col" class="num">"Hours"</th><th scope="col"><span class="visually-hidden">"Put back"</span></th></tr></thead>
                                <tbody>{rows(views)}</tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
