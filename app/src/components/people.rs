//! The administrator's page: who shares this server (names and counts,
//! never what they listen to), invitations, and disabling or removing an
//! account.

use leptos::prelude::*;

use super::interactive;
use crate::account_api::{get_people, Invite, RemovePerson, SetDisabled};
use crate::format;
use crate::model::PersonRow;

#[component]
pub fn PeoplePage() -> impl IntoView {
    let ready = interactive();
    let invite = ServerAction::<Invite>::new();
    let set_disabled = ServerAction::<SetDisabled>::new();
    let remove = ServerAction::<RemovePerson>::new();
    let people = Resource::new(
        move || {
            (
                invite.version().get(),
                set_disabled.version().get(),
                remove.version().get(),
            )
        },
        |_| get_people(),
    );
    let failure = move || {
        [
            set_disabled.value().get().and_then(Result::err),
            remove.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .map(|error| view! { <p class="notice stale" role="alert">{error.to_string()}</p> })
        .collect_view()
    };
    view! {
        <h2 class="page-title">"People"</h2>
        <div class="panels">
            <section class="panel" aria-labelledby="people-heading">
                <h2 id="people-heading">"Accounts"</h2>
                {failure}
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || people.get().map(|people| match people {
                        Ok(view) => view! { <PeopleTable people=view.people set_disabled remove /> }.into_any(),
                        Err(error) => view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any(),
                    })}
                </Suspense>
            </section>
            <section class="panel" aria-labelledby="invite-heading">
                <h2 id="invite-heading">"Invite someone"</h2>
                <p class="hint">"An invitation is a link that creates one account, within a week."</p>
                <ActionForm action=invite attr:class="account-form">
                    <label>"They will be"
                        <select name="admin">
                            <option value="false" selected>"a member"</option>
                            <option value="true">"an administrator"</option>
                        </select>
                    </label>
                    <button type="submit" disabled=move || !ready.get() class="primary">"Make an invitation link"</button>
                </ActionForm>
                {move || invite.value().get().map(|result| match result {
                    Ok(link) => view! {
                        <div class="notice secret" role="status">
                            <p>"Send this link to the person you invite; it works once:"</p>
                            <code>{link}</code>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any(),
                })}
                <Suspense fallback=|| ()>
                    {move || people.get().and_then(Result::ok).map(|view| {
                        let open = view.invites.len();
                        let rows = view.invites.into_iter().map(|invite| view! {
                            <li>{format!("by {}, {}, until {}", invite.invited_by,
                                if invite.admin { "administrator" } else { "member" },
                                format::moment(invite.expires_at))}</li>
                        }).collect_view();
                        view! { <p class="hint">{format!("Invitations not used yet: {open}")}</p><ul class="plain">{rows}</ul> }
                    })}
                </Suspense>
            </section>
        </div>
    }
}

#[component]
fn PeopleTable(
    people: Vec<PersonRow>,
    set_disabled: ServerAction<SetDisabled>,
    remove: ServerAction<RemovePerson>,
) -> impl IntoView {
    let ready = interactive();
    let rows = people
        .into_iter()
        .map(|person| {
            let name = person.name.clone();
            let toggle = if person.disabled { "Enable" } else { "Disable" };
            let toggle_label = format!("{toggle} {name}");
            let disable_to = (!person.disabled).to_string();
            let remove_label = format!("Remove {name}");
            let confirm = format!("remove {name} and all their listening");
            let (name_for_toggle, name_for_remove) = (name.clone(), name.clone());
            view! {
                <tr>
                    <td class="title">{name}</td>
                    <td>{if person.admin { "administrator" } else { "member" }}</td>
                    <td>{if person.disabled { "disabled" } else { "active" }}</td>
                    <td class="num">{format::count(person.listens)}</td>
                    <td>{format::moment(person.created_at)}</td>
                    <td class="actions">
                        <ActionForm action=set_disabled>
                            <input type="hidden" name="name" value=name_for_toggle />
                            <input type="hidden" name="disabled" value=disable_to />
                            <button type="submit" disabled=move || !ready.get() class="link-button" aria-label=toggle_label>{toggle}</button>
                        </ActionForm>
                        <ActionForm action=remove>
                            <input type="hidden" name="name" value=name_for_remove />
                            <label class="confirm">
                                <input type="checkbox" required />
                                {confirm}
                            </label>
                            <button type="submit" disabled=move || !ready.get() class="link-button danger" aria-label=remove_label>"Remove"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="ranking" aria-label="Accounts">
            <thead><tr><th>"Name"</th><th>"Role"</th><th>"State"</th><th class="num">"Listens"</th><th>"Since"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
