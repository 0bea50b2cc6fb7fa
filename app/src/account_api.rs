//! Server functions of the settings and people pages. Their paths say who
//! may call them: `/rpc/account/…` the signed-in person themself (never
//! through a share link), `/rpc/admin/…` administrators only; the server
//! refuses anyone else before they run.

use leptos::prelude::*;

use crate::cleanup::{CleanUpAction, CleanUpShown, ExclusionKind, ExclusionView};
use crate::model::{PeopleView, SettingsView};
#[cfg(feature = "ssr")]
use crate::refusal::{refused, Refusal};

#[cfg(feature = "ssr")]
fn accounts() -> Result<std::sync::Arc<dyn crate::source::AccountSettings>, ServerFnError> {
    use_context::<crate::source::Accounts>()
        .map(|accounts| accounts.0)
        .ok_or_else(|| refused(Refusal::Forbidden, "sign in to change your settings"))
}

#[cfg(feature = "ssr")]
fn people() -> Result<std::sync::Arc<dyn crate::source::PeopleAdmin>, ServerFnError> {
    use_context::<crate::source::People>()
        .map(|people| people.0)
        .ok_or_else(|| refused(Refusal::Forbidden, "only administrators manage people"))
}

#[cfg(feature = "ssr")]
fn failed(error: crate::source::AccountError) -> ServerFnError {
    refused(error.refusal, error.message)
}

#[server(prefix = "/rpc/account", endpoint = "settings", output = crate::codec::JsonText)]
pub async fn get_settings() -> Result<SettingsView, ServerFnError> {
    accounts()?.settings().await.map_err(failed)
}

#[server(prefix = "/rpc/account", endpoint = "imports", output = crate::codec::JsonText)]
pub async fn get_imports() -> Result<crate::imports::Imports, ServerFnError> {
    accounts()?.imports().await.map_err(failed)
}

#[server(prefix = "/rpc/account", endpoint = "create_token", output = crate::codec::JsonText)]
pub async fn create_token(label: String) -> Result<String, ServerFnError> {
    accounts()?.create_token(&label).await.map_err(failed)
}

#[server(prefix = "/rpc/account", endpoint = "revoke_token", output = crate::codec::JsonText)]
pub async fn revoke_token(id: String) -> Result<(), ServerFnError> {
    accounts()?.revoke_token(&id).await.map_err(failed)
}

#[server(prefix = "/rpc/account", endpoint = "share", output = crate::codec::JsonText)]
pub async fn share() -> Result<String, ServerFnError> {
    accounts()?.share().await.map_err(failed)
}

#[server(prefix = "/rpc/account", endpoint = "stop_sharing", output = crate::codec::JsonText)]
pub async fn stop_sharing() -> Result<(), ServerFnError> {
    accounts()?.stop_sharing().await.map_err(failed)
}

#[server(prefix = "/rpc/account", endpoint = "change_password", output = crate::codec::JsonText)]
pub async fn change_password(current: String, new: String) -> Result<(), ServerFnError> {
    accounts()?
        .change_password(&current, &new)
        .await
        .map_err(failed)?;
    leptos_axum::redirect("/sign-in?password-changed");
    Ok(())
}

#[server(prefix = "/rpc/account", endpoint = "set_time_zone", output = crate::codec::JsonText)]
pub async fn set_time_zone(time_zone: String) -> Result<String, ServerFnError> {
    accounts()?.set_time_zone(&time_zone).await.map_err(failed)
}

#[server(prefix = "/rpc/account", endpoint = "exclusions", output = crate::codec::JsonText)]
pub async fn get_exclusions() -> Result<Vec<ExclusionView>, ServerFnError> {
    accounts()?.exclusions().await.map_err(failed)
}

/// Leaves plays out of the caller's figures, or puts them back (see
/// [`crate::cleanup::CleanUpRequest`] for what each kind needs); answers
/// once the figures show it, or after a few seconds if counting is behind.
#[server(prefix = "/rpc/account", endpoint = "clean_up", output = crate::codec::JsonText)]
pub async fn clean_up(
    action: CleanUpAction,
    kind: ExclusionKind,
    artist: Option<String>,
    album: Option<String>,
    track_uri: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> Result<CleanUpShown, ServerFnError> {
    let request = crate::cleanup::CleanUpRequest {
        action,
        kind,
        artist,
        album,
        track_uri,
        from,
        to,
    };
    accounts()?.clean_up(request).await.map_err(failed)
}

#[server(prefix = "/rpc/account", endpoint = "delete_data", output = crate::codec::JsonText)]
pub async fn delete_data(confirm: String) -> Result<(), ServerFnError> {
    accounts()?.delete_data(&confirm).await.map_err(failed)
}

#[server(prefix = "/rpc/admin", endpoint = "people", output = crate::codec::JsonText)]
pub async fn get_people() -> Result<PeopleView, ServerFnError> {
    people()?.people().await.map_err(failed)
}

#[server(prefix = "/rpc/admin", endpoint = "invite", output = crate::codec::JsonText)]
pub async fn invite(admin: bool) -> Result<String, ServerFnError> {
    people()?.invite(admin).await.map_err(failed)
}

#[server(prefix = "/rpc/admin", endpoint = "set_disabled", output = crate::codec::JsonText)]
pub async fn set_disabled(name: String, disabled: bool) -> Result<(), ServerFnError> {
    people()?
        .set_disabled(&name, disabled)
        .await
        .map_err(failed)
}

#[server(prefix = "/rpc/admin", endpoint = "remove", output = crate::codec::JsonText)]
pub async fn remove_person(name: String) -> Result<(), ServerFnError> {
    people()?.remove(&name).await.map_err(failed)
}
