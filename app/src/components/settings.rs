//! The signed-in person's own settings: their time zone, password, personal
//! API tokens, the share link of their dashboard, what they left out of
//! their figures, and deleting their data. Secrets are shown
//! once, right after they are made; the page lists tokens by label and date
//! only.

use leptos::prelude::*;

use super::clean_up::CleanUpPanel;
use super::interactive;
use crate::account_api::{
    get_settings, ChangePassword, CreateToken, DeleteData, RevokeToken, SetTimeZone, Share,
    StopSharing,
};
use crate::format;

/// The one-time display of a new secret, or the error of the action.
fn shown_once(result: Option<Result<String, ServerFnError>>, what: &'static str) -> impl IntoView {
    result.map(|result| match result {
        Ok(secret) => view! {
            <div class="notice secret" role="status">
                <p>{format!("Your new {what}; copy it now, it is not shown again:")}</p>
                <code>{secret}</code>
            </div>
        }
        .into_any(),
        Err(error) => {
            view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any()
        }
    })
}

fn action_error<T: Clone + Send + Sync + 'static>(
    result: Option<Result<T, ServerFnError>>,
) -> impl IntoView {
    result
        .and_then(Result::err)
        .map(|error| view! { <p class="notice stale" role="alert">{error.to_string()}</p> })
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let ready = interactive();
    let create_token = ServerAction::<CreateToken>::new();
    let revoke_token = ServerAction::<RevokeToken>::new();
    let share = ServerAction::<Share>::new();
    let stop_sharing = ServerAction::<StopSharing>::new();
    let change_password = ServerAction::<ChangePassword>::new();
    let delete_data = ServerAction::<DeleteData>::new();
    let set_time_zone = ServerAction::<SetTimeZone>::new();
    let settings = Resource::new(
        move || {
            (
                create_token.version().get(),
                revoke_token.version().get(),
                share.version().get(),
                stop_sharing.version().get(),
                set_time_zone.version().get(),
            )
        },
        |_| get_settings(),
    );
    // Moments written from now on (this page's tokens among them) read on
    // the new zone's clocks at once.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(Ok(zone)) = set_time_zone.value().get() {
            crate::reader_zone::change_to(&zone);
        }
    });
    view! {
        <h2 class="page-title">"Settings"</h2>
        <div class="panels">
            <section class="panel" aria-labelledby="zone-heading">
                <h2 id="zone-heading">"Time zone"</h2>
                <p class="hint">"Your days, hours, weeks, months and years begin at this zone's midnights, daylight-saving changes included: on every page, chart, review and in the JSON API."</p>
                <Suspense fallback=|| ()>
                    {move || settings.get().and_then(Result::ok).map(|settings| view! {
                        <TimeZoneForm current=settings.time_zone zones=settings.time_zones action=set_time_zone />
                    })}
                </Suspense>
                {move || set_time_zone.value().get().map(|result| match result {
                    Ok(zone) => view! { <p class="notice" role="status">{format!("Your figures are now in {zone}.")}</p> }.into_any(),
                    Err(error) => view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </section>
            <section class="panel" aria-labelledby="tokens-heading">
                <h2 id="tokens-heading">"API tokens"</h2>
                <p class="hint">"A token reads your figures from the JSON API: send it as "<code>"Authorization: Bearer …"</code>"."</p>
                <ActionForm action=create_token attr:class="account-form">
                    <label>"Label" <input name="label" required maxlength="60" placeholder="e.g. my weekly script" /></label>
                    <button type="submit" disabled=move || !ready.get() class="primary">"Create a token"</button>
                </ActionForm>
                {move || shown_once(create_token.value().get(), "API token")}
                {move || action_error(revoke_token.value().get())}
                <Suspense fallback=|| ()>
                    {move || settings.get().map(|settings| match settings {
                        Ok(settings) => view! { <TokenTable tokens=settings.tokens revoke=revoke_token /> }.into_any(),
                        Err(error) => view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any(),
                    })}
                </Suspense>
            </section>
            <section class="panel" aria-labelledby="share-heading">
                <h2 id="share-heading">"Share link"</h2>
                <p class="hint">"Anyone with the link sees your dashboard, read-only, until you stop sharing or make a new link."</p>
                <Suspense fallback=|| ()>
                    {move || settings.get().and_then(Result::ok).map(|settings| {
                        let label = if settings.sharing { "Make a new link (the old one stops working)" } else { "Share my dashboard" };
                        view! {
                            <p>{if settings.sharing { "Your dashboard is shared." } else { "Your dashboard is not shared." }}</p>
                            <div class="buttons">
                                <ActionForm action=share><button type="submit" disabled=move || !ready.get() class="primary">{label}</button></ActionForm>
                                {settings.sharing.then(|| view! {
                                    <ActionForm action=stop_sharing><button type="submit" disabled=move || !ready.get()>"Stop sharing"</button></ActionForm>
                                })}
                            </div>
                        }
                    })}
                </Suspense>
                {move || shown_once(share.value().get(), "share link")}
                {move || action_error(stop_sharing.value().get())}
            </section>
            <section class="panel" aria-labelledby="password-heading">
                <h2 id="password-heading">"Password"</h2>
                <ActionForm action=change_password attr:class="account-form">
                    <label>"Current password" <input name="current" type="password" autocomplete="current-password" required /></label>
                    <label>"New password (at least 10 characters)" <input name="new" type="password" autocomplete="new-password" required minlength="10" /></label>
                    <button type="submit" disabled=move || !ready.get() class="primary">"Change the password"</button>
                </ActionForm>
                <p class="hint">"Every session ends, this one too: sign in again with the new password."</p>
                {move || action_error(change_password.value().get())}
            </section>
            <CleanUpPanel />
            <section class="panel" aria-labelledby="delete-heading">
                <h2 id="delete-heading">"Delete my data"</h2>
                <p class="hint">"Removes every listen counted for you so far, from every page, chart and figure, and the record of the files you imported. Your account stays; what you import later counts anew. Listens stay in the message log until its retention ends, unread."</p>
                <ActionForm action=delete_data attr:class="account-form">
                    <label>"Type your name to confirm" <input name="confirm" required autocomplete="off" /></label>
                    <button type="submit" disabled=move || !ready.get() class="primary danger">"Delete my data"</button>
                </ActionForm>
                {move || delete_data.value().get().map(|result| match result {
                    Ok(()) => view! { <p class="notice" role="status">"Your listening data is being deleted; the figures show it within a few seconds."</p> }.into_any(),
                    Err(error) => view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </section>
        </div>
    }
}

/// The zone in use, a field to choose another from the list, and the
/// browser's own zone offered when it differs.
#[component]
fn TimeZoneForm(
    current: String,
    zones: Vec<String>,
    action: ServerAction<SetTimeZone>,
) -> impl IntoView {
    let ready = interactive();
    let chosen = RwSignal::new(current.clone());
    let browser = RwSignal::new(None::<String>);
    Effect::new(move |_| browser.set(browser_time_zone()));
    let options = zones
        .into_iter()
        .map(|zone| view! { <option value=zone></option> })
        .collect_view();
    let offer = move || {
        let zone = browser.get().filter(|zone| *zone != chosen.get())?;
        let label = format!("Use this browser's zone, {zone}");
        Some(view! {
            <button type="button" class="link-button" on:click=move |_| chosen.set(zone.clone())>{label}</button>
        })
    };
    view! {
        <p>"Your figures are in "<strong>{current}</strong>"."</p>
        <ActionForm action attr:class="account-form">
            <label>"Time zone"
                <input name="time_zone" list="time-zones" required maxlength="64" autocomplete="off"
                    prop:value=move || chosen.get() on:input=move |event| chosen.set(event_target_value(&event)) />
            </label>
            <datalist id="time-zones">{options}</datalist>
            <button type="submit" disabled=move || !ready.get() class="primary">"Set the time zone"</button>
        </ActionForm>
        {offer}
    }
}

/// The time zone the browser's clock is set to, as an IANA name.
fn browser_time_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let format =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
            .ok()?
            .as_string()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

#[component]
fn TokenTable(
    tokens: Vec<crate::model::TokenRow>,
    revoke: ServerAction<RevokeToken>,
) -> impl IntoView {
    let ready = interactive();
    if tokens.is_empty() {
        return view! { <p class="hint">"No tokens yet."</p> }.into_any();
    }
    let rows = tokens
        .into_iter()
        .map(|token| {
            let used = token.last_used.map(format::moment).unwrap_or_else(|| "never".into());
            view! {
                <tr>
                    <td>{token.label.clone()}</td>
                    <td>{format::moment(token.created_at)}</td>
                    <td>{used}</td>
                    <td>
                        <ActionForm action=revoke>
                            <input type="hidden" name="id" value=token.id.clone() />
                            <button type="submit" disabled=move || !ready.get() class="link-button" aria-label=format!("Revoke the token {}", token.label)>"Revoke"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="ranking" aria-label="API tokens">
            <thead><tr><th>"Label"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
