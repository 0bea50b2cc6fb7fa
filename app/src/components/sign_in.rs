//! The pages open to anyone: signing in, creating the first account from
//! the setup link, and joining through an invitation. Each is a plain form
//! that posts to the server, which answers with a redirect; what went wrong
//! comes back as a word in the URL and is said here in a sentence (never
//! echoed from the URL itself).

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The sentence for a word the server put in the URL.
fn message(query: &leptos_router::params::ParamsMap) -> Option<(&'static str, bool)> {
    let said = |key: &str| query.get(key).is_some();
    if said("failed") {
        Some((
            "That name and password do not match an account. Check both and try again.",
            true,
        ))
    } else if said("signed-out") {
        Some(("You are signed out.", false))
    } else if said("link-used") {
        Some((
            "That link has been used or has expired. Ask for a new one, or sign in.",
            true,
        ))
    } else if said("share-ended") {
        Some((
            "That share link no longer works: its owner turned it off or made a new one.",
            true,
        ))
    } else if said("set-up-already") {
        Some(("This server has accounts already: sign in, or ask its administrator for an invitation.", true))
    } else {
        None
    }
}

fn problem_text(problem: Option<String>) -> Option<&'static str> {
    match problem.as_deref() {
        Some("name") => {
            Some("A name has 1 to 32 characters: letters, digits, '.', '_' or '-' (no spaces).")
        }
        Some("name-taken") => Some("That name is taken; choose another."),
        Some("password") => Some("A password has at least 10 characters."),
        _ => None,
    }
}

fn notice(text: Option<(&'static str, bool)>) -> impl IntoView {
    text.map(|(text, problem)| {
        let class = if problem { "notice stale" } else { "notice" };
        view! { <p class=class role="status">{text}</p> }
    })
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    view! {
        <section class="panel form-panel">
            <h2>"Sign in"</h2>
            {move || notice(message(&query.read()))}
            <form method="post" action="/sign-in" class="account-form">
                <input type="hidden" name="next" value=next />
                <label>"Name" <input name="name" autocomplete="username" required autofocus /></label>
                <label>"Password" <input name="password" type="password" autocomplete="current-password" required /></label>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
        </section>
    }
}

/// The form of a new account, for the setup link or an invitation.
#[component]
fn NewAccountForm(title: &'static str, action: &'static str, intro: &'static str) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.read().get("token").unwrap_or_default();
    view! {
        <section class="panel form-panel">
            <h2>{title}</h2>
            <p>{intro}</p>
            {move || problem_text(query.read().get("problem")).map(|text| view! { <p class="notice stale" role="status">{text}</p> })}
            <form method="post" action=action class="account-form">
                <input type="hidden" name="token" value=token />
                <label>"Name" <input name="name" autocomplete="username" required autofocus maxlength="32" pattern="[A-Za-z0-9._\\-]{1,32}" /></label>
                <label>"Password (at least 10 characters)" <input name="password" type="password" autocomplete="new-password" required minlength="10" /></label>
                <button type="submit" class="primary">"Create the account"</button>
            </form>
        </section>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    view! {
        <NewAccountForm
            title="Create the first account"
            action="/setup"
            intro="This account administers the server: it invites the people who share it. Only their names and counts are shown to it, never their listening."
        />
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    view! {
        <NewAccountForm
            title="Join this listening dashboard"
            action="/invite"
            intro="Choose the name you will sign in with and a password. Your listening is yours: others on this server see only your name."
        />
    }
}
