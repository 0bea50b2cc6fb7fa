//! The settings and people pages' services over the accounts store, each
//! made for one request and bound to the person it acts for, so a server
//! function can only ever change its caller's own account (or, for an
//! administrator, accounts' names and states, never their listens).

use app::cleanup::{
    CleanUpChange, CleanUpRequest, CleanUpShown, Exclusion, ExclusionView, MAX_EXCLUSIONS,
};
use app::imports::Imports;
use app::model::{InviteRow, PeopleView, PersonRow, SettingsView, TokenRow};
use app::refusal::Refusal;
use app::source::{AccountError, AccountSettings, PeopleAdmin};
use async_trait::async_trait;

use std::sync::{Arc, Mutex};

use super::auth::{Auth, Viewer};
use super::live::LiveAnalytics;
use super::origin::SiteOrigin;
use crate::accounts::password::{self, PasswordDigest};
use crate::accounts::throttle::{Allowance, RetryAfter, Throttle};
use crate::accounts::{AccountState, PersonId, PersonName, Role};
use crate::admin::{self, RemovalError};
use crate::config::KafkaSettings;
use crate::page_import::{Stopped, WebImports};
use crate::rollup::held::Freshness;
use crate::rollup::question::{Answer, Question, Refusal as QuestionRefused};
use crate::store::accounts::LinkPurpose;
use crate::stream::control;
use crate::zone::Zone;

/// Longest label of an API token.
const MAX_LABEL_CHARS: usize = 60;
/// How long a clean-up waits for the figures to show it before it answers
/// (it takes effect later still, if counting is behind).
const CLEAN_UP_SHOWN_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);
/// How long an invitation works.
const INVITE_VALID_FOR: chrono::Duration = chrono::Duration::days(7);

/// A failure of the store, said without its details (logged instead).
fn unavailable(error: impl std::fmt::Display) -> AccountError {
    tracing::warn!("an account change failed: {error}");
    AccountError::new(
        Refusal::Unavailable,
        "the accounts cannot be reached right now; try again in a moment",
    )
}

/// What a person reads when their figures cannot be read (the reason,
/// which may name hosts, goes to the log).
fn figures_unreadable(error: impl std::fmt::Display) -> AccountError {
    tracing::warn!("a person's exclusions could not be read: {error}");
    AccountError::new(
        Refusal::Unavailable,
        "your figures cannot be read right now; try again in a moment",
    )
}

/// The signed-in person's own account.
pub struct PersonSettings {
    pub viewer: Viewer,
    pub auth: Auth,
    pub site: SiteOrigin,
    pub kafka: Arc<KafkaSettings>,
    pub imports: WebImports,
    pub live: Arc<LiveAnalytics>,
    pub clean_ups: CleanUps,
}

/// Clean-ups each person made lately, shared by every request: each counts
/// all of a person's listens again where they are held, so a person may
/// make [`CLEAN_UPS_PER_MINUTE`] a minute.
#[derive(Clone)]
pub struct CleanUps(Arc<Mutex<Throttle>>);

/// How many clean-ups a person may make in a minute.
pub const CLEAN_UPS_PER_MINUTE: usize = 30;

impl Default for CleanUps {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Throttle::new(Allowance {
            failures: CLEAN_UPS_PER_MINUTE,
            window: std::time::Duration::from_secs(60),
        }))))
    }
}

impl CleanUps {
    /// Counts one more for `person`, unless they made their allowance.
    fn admit(&self, person: &PersonId) -> Result<(), AccountError> {
        let mut throttle = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = std::time::Instant::now();
        throttle.check(person.as_str(), now).map_err(|RetryAfter(wait)| {
            AccountError::new(Refusal::TooMany, format!(
                "that is {CLEAN_UPS_PER_MINUTE} changes in a minute, the most there may be: try again in {} s",
                wait.as_secs().max(1)
            ))
        })?;
        throttle.record_failure(person.as_str(), now);
        Ok(())
    }
}

#[async_trait]
impl AccountSettings for PersonSettings {
    async fn exclusions(&self) -> Result<Vec<ExclusionView>, AccountError> {
        let asked = Question::Exclusions.in_zone(self.viewer.zone);
        let answered = self
            .live
            .ask(&self.viewer.person, &asked, Freshness::Current)
            .await
            .map_err(|error| figures_unreadable(error.0))?;
        match &*answered.answer {
            Ok(Answer::Exclusions(views)) => Ok(views
                .iter()
                .cloned()
                .map(|view| in_zone(view, self.viewer.zone))
                .collect()),
            Ok(_) => Err(AccountError::new(
                Refusal::Unavailable,
                "the server answered another question",
            )),
            Err(QuestionRefused::BadRequest(why)) => Err(AccountError::new(Refusal::Invalid, why)),
            Err(QuestionRefused::NoSuch(why)) => Err(AccountError::new(Refusal::NotFound, why)),
            Err(unanswered) => Err(figures_unreadable(unanswered)),
        }
    }

    async fn clean_up(&self, request: CleanUpRequest) -> Result<CleanUpShown, AccountError> {
        let zone = self.viewer.zone;
        let change = request
            .change(|local| zone.instant_of(local))
            .map_err(|bad| AccountError::new(Refusal::Invalid, bad.to_string()))?;
        self.clean_ups.admit(&self.viewer.person)?;
        let now = self.exclusions().await?;
        let known = now.iter().any(|view| &view.exclusion == change.exclusion());
        match &change {
            CleanUpChange::Exclude(_) if !known && now.len() >= MAX_EXCLUSIONS => {
                return Err(AccountError::new(
                    Refusal::Conflict,
                    format!(
                    "you have {MAX_EXCLUSIONS} exclusions already: put some back before adding more"
                ),
                ));
            }
            CleanUpChange::Include(_) if !known => {
                return Err(AccountError::new(
                    Refusal::Conflict,
                    "that is not left out of your figures: nothing to put back",
                ));
            }
            _ => {}
        }
        let wanted = (
            change.exclusion().clone(),
            matches!(change, CleanUpChange::Exclude(_)),
        );
        let partitions = self.live.partitions_of(&self.viewer.person);
        control::clean_up(&self.kafka, &self.viewer.person, change, &partitions)
            .await
            .map_err(|unreachable| {
                tracing::warn!("a clean-up could not be sent: {unreachable}");
                AccountError::new(Refusal::Unavailable,
                    "the message broker cannot take the change right now; nothing changed, try again in a moment",
                )
            })?;
        // The page shows the figures next: wait (a little) until they follow.
        let (exclusion, in_force) = wanted;
        let deadline = tokio::time::Instant::now() + CLEAN_UP_SHOWN_WITHIN;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            let now = self.exclusions().await?;
            if now.iter().any(|view| view.exclusion == exclusion) == in_force {
                return Ok(CleanUpShown::Now);
            }
        }
        Ok(CleanUpShown::Later)
    }

    async fn imports(&self) -> Result<Imports, AccountError> {
        self.imports
            .overview(&self.viewer.person)
            .await
            .map_err(|error| AccountError::new(Refusal::Unavailable, error))
    }

    async fn settings(&self) -> Result<SettingsView, AccountError> {
        let store = self.auth.store();
        let tokens = store
            .tokens_of(&self.viewer.key)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|token| TokenRow {
                id: token.id,
                label: token.label,
                created_at: token.created_at,
                last_used: token.last_used,
            })
            .collect();
        Ok(SettingsView {
            name: self.viewer.name.to_string(),
            time_zone: self.viewer.zone.name().to_string(),
            time_zones: Zone::names().map(str::to_string).collect(),
            tokens,
            sharing: store
                .has_share_link(&self.viewer.key)
                .await
                .map_err(unavailable)?,
        })
    }

    async fn set_time_zone(&self, name: &str) -> Result<String, AccountError> {
        let zone = Zone::parse(name).map_err(|unknown| {
            AccountError::new(
                Refusal::Invalid,
                format!("{unknown}: pick one from the list"),
            )
        })?;
        self.auth
            .store()
            .set_time_zone(&self.viewer.name, zone)
            .await
            .map_err(|error| match error {
                crate::store::accounts::AccountError::NoSuchAccount(_) => {
                    AccountError::new(Refusal::NotFound, "your account no longer exists")
                }
                other => unavailable(other),
            })?;
        // Requests acting for them read their account again, with the zone.
        self.auth.forget_person(&self.viewer.key);
        Ok(zone.name().to_string())
    }

    async fn create_token(&self, label: &str) -> Result<String, AccountError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
            return Err(AccountError::new(
                Refusal::Invalid,
                format!(
                "give the token a label of 1 to {MAX_LABEL_CHARS} characters, to recognise it later"
            ),
            ));
        }
        let token = self
            .auth
            .store()
            .create_token(&self.viewer.key, label)
            .await
            .map_err(unavailable)?;
        Ok(token.expose().to_string())
    }

    async fn revoke_token(&self, id: &str) -> Result<(), AccountError> {
        let revoked = self
            .auth
            .store()
            .revoke_token(&self.viewer.key, id)
            .await
            .map_err(unavailable)?;
        self.auth.forget_person(&self.viewer.key);
        if revoked {
            Ok(())
        } else {
            Err(AccountError::new(
                Refusal::NotFound,
                "there is no such token; it may be revoked already",
            ))
        }
    }

    async fn share(&self) -> Result<String, AccountError> {
        let link = self
            .auth
            .store()
            .replace_share_link(&self.viewer.key)
            .await
            .map_err(unavailable)?;
        self.auth.forget_person(&self.viewer.key);
        Ok(format!(
            "{}/share/{}",
            self.site.public_url(),
            link.expose()
        ))
    }

    async fn stop_sharing(&self) -> Result<(), AccountError> {
        self.auth
            .store()
            .remove_share_link(&self.viewer.key)
            .await
            .map_err(unavailable)?;
        self.auth.forget_person(&self.viewer.key);
        Ok(())
    }

    async fn change_password(&self, current: &str, new: &str) -> Result<(), AccountError> {
        let store = self.auth.store();
        let account = store
            .account(&self.viewer.key)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| AccountError::new(Refusal::NotFound, "your account no longer exists"))?;
        let (current, new) = (current.to_string(), new.to_string());
        let digest = account.password.clone();
        let checked = tokio::task::spawn_blocking(move || {
            if !password::check(Some(&digest), &current) {
                return Err(AccountError::new(
                    Refusal::Forbidden,
                    "the current password is not right",
                ));
            }
            PasswordDigest::new(&new)
                .map_err(|weak| AccountError::new(Refusal::Invalid, weak.to_string()))
        })
        .await
        .map_err(unavailable)??;
        store
            .set_password(&account.name, checked)
            .await
            .map_err(unavailable)?;
        self.auth.forget_person(&self.viewer.key);
        Ok(())
    }

    async fn delete_data(&self, confirm: &str) -> Result<(), AccountError> {
        if !confirm
            .trim()
            .eq_ignore_ascii_case(self.viewer.name.as_str())
        {
            return Err(AccountError::new(
                Refusal::Invalid,
                "type your name exactly as you sign in, to confirm",
            ));
        }
        // What their running import sent must come before the deletion.
        refuse_unless_stopped(self.imports.stop(&self.viewer.person).await)?;
        admin::forget_data(self.auth.store(), &self.kafka, &self.viewer.person)
            .await
            .map_err(removal_failed)?;
        tracing::info!("{} asked to delete their data", self.viewer.name);
        Ok(())
    }
}

/// An exclusion's window written on the person's clocks.
fn in_zone(mut view: ExclusionView, zone: Zone) -> ExclusionView {
    if let Exclusion::Plays { from, to, .. } = &view.exclusion {
        let (from, to) = (
            zone.local(from.timestamp_millis()),
            zone.local(to.timestamp_millis()),
        );
        let to_format = if from.date() == to.date() {
            "%H:%M"
        } else {
            "%Y-%m-%d %H:%M"
        };
        view.window = Some(format!(
            "{} – {} ({zone})",
            from.format("%Y-%m-%d %H:%M"),
            to.format(to_format)
        ));
    }
    view
}

/// A deletion goes on only once no import of the person runs.
fn refuse_unless_stopped(stopped: Stopped) -> Result<(), AccountError> {
    let why = match stopped {
        Stopped::Yes => return Ok(()),
        Stopped::StillEnding => {
            "an import of this person is still ending (the message broker is slow to take it)"
        }
        Stopped::Elsewhere => {
            "an import of this person runs on another server of this site (the Import page \
             shows it)"
        }
    };
    Err(AccountError::new(
        Refusal::Conflict,
        format!("{why}, so nothing was deleted yet; try again once it has ended"),
    ))
}

/// A removal that failed, said without hosts (logged instead).
fn removal_failed(error: RemovalError) -> AccountError {
    match error {
        RemovalError::Account(crate::store::accounts::AccountError::NoSuchAccount(name)) => {
            AccountError::new(
                Refusal::NotFound,
                format!("there is no account named {name}"),
            )
        }
        RemovalError::Kafka(error) => {
            tracing::warn!("a removal could not be sent: {error}");
            AccountError::new(
                Refusal::Unavailable,
                "the message broker does not answer, so nothing was removed; try again in a moment",
            )
        }
        other => unavailable(other),
    }
}

/// An administrator's view of the people sharing the server.
pub struct Administration {
    pub auth: Auth,
    pub site: SiteOrigin,
    pub viewer: Viewer,
    pub live: Arc<LiveAnalytics>,
    pub kafka: Arc<KafkaSettings>,
    pub imports: WebImports,
}

#[async_trait]
impl PeopleAdmin for Administration {
    async fn people(&self) -> Result<PeopleView, AccountError> {
        let store = self.auth.store();
        let mut people = Vec::new();
        for account in store.accounts().await.map_err(unavailable)? {
            people.push(PersonRow {
                listens: self
                    .live
                    .listens_of(&account.id)
                    .await
                    .map_err(unavailable)?,
                name: account.name.to_string(),
                admin: account.role == Role::Admin,
                disabled: account.state == AccountState::Disabled,
                created_at: account.created_at,
            });
        }
        let invites = store
            .open_invites()
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|invite| InviteRow {
                invited_by: invite.invited_by,
                admin: invite.role == Role::Admin,
                expires_at: invite.expires_at,
            })
            .collect();
        Ok(PeopleView { people, invites })
    }

    async fn invite(&self, admin: bool) -> Result<String, AccountError> {
        let role = if admin { Role::Admin } else { Role::Member };
        let link = self
            .auth
            .store()
            .create_link(
                LinkPurpose::Invite {
                    role,
                    invited_by: self.viewer.name.to_string(),
                },
                INVITE_VALID_FOR,
            )
            .await
            .map_err(unavailable)?;
        Ok(format!(
            "{}/invite/{}",
            self.site.public_url(),
            link.expose()
        ))
    }

    async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), AccountError> {
        let name = PersonName::parse(name)
            .map_err(|bad| AccountError::new(Refusal::Invalid, bad.to_string()))?;
        if disabled && name.key() == self.viewer.key {
            return Err(AccountError::new(
                Refusal::Forbidden,
                "you cannot disable your own account; another administrator can",
            ));
        }
        let state = if disabled {
            AccountState::Disabled
        } else {
            AccountState::Active
        };
        match self.auth.store().set_account_state(&name, state).await {
            Ok(()) => {
                self.auth.forget_person(&name.key());
                Ok(())
            }
            Err(crate::store::accounts::AccountError::NoSuchAccount(name)) => {
                Err(AccountError::new(
                    Refusal::NotFound,
                    format!("there is no account named {name}"),
                ))
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn remove(&self, name: &str) -> Result<(), AccountError> {
        let name = PersonName::parse(name)
            .map_err(|bad| AccountError::new(Refusal::Invalid, bad.to_string()))?;
        if name.key() == self.viewer.key {
            return Err(AccountError::new(
                Refusal::Forbidden,
                "you cannot remove your own account; another administrator can",
            ));
        }
        // Their running import ends first: nothing of theirs is written after.
        if let Ok(Some(account)) = self.auth.store().account(&name.key()).await {
            refuse_unless_stopped(self.imports.stop(&account.id).await)?;
        }
        admin::remove_person(self.auth.store(), &self.kafka, &name)
            .await
            .map_err(removal_failed)?;
        self.auth.forget_person(&name.key());
        tracing::info!("{} removed the account {name}", self.viewer.name);
        Ok(())
    }
}
