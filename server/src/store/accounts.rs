//! Accounts and their secrets in MongoDB, each read by exact `_id` (the
//! only lookup FerretDB answers without a scan of more than a few documents):
//!
//! - `people`: one document per account, `_id` = the name without regard to
//!   case (so a name is taken once), with its person id, role, state and
//!   argon2id password hash;
//! - `sessions`, `api_tokens`, `share_links`, `one_time_links`: `_id` = the
//!   SHA-256 of the secret handed out, never the secret itself, with the
//!   account it belongs to (`person`, the name key).

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::{is_duplicate_key, Store, StoreError};
use crate::accounts::password::PasswordDigest;
use crate::accounts::token::{Secret, SecretHash, SecretKind};
use crate::accounts::{Account, AccountState, PersonId, PersonName, Role};
use crate::zone::Zone;

pub const PEOPLE: &str = "people";
pub const SESSIONS: &str = "sessions";
pub const API_TOKENS: &str = "api_tokens";
pub const SHARE_LINKS: &str = "share_links";
pub const ONE_TIME_LINKS: &str = "one_time_links";

/// Why an account cannot be changed as asked.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the name {0} is taken")]
    NameTaken(PersonName),
    #[error("there is no account named {0}")]
    NoSuchAccount(PersonName),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Serialize, Deserialize)]
struct PersonDocument {
    #[serde(rename = "_id")]
    key: String,
    id: PersonId,
    name: PersonName,
    role: Role,
    state: AccountState,
    password: String,
    created_at: i64,
    /// Absent in accounts made before time zones were a setting: UTC.
    #[serde(default, deserialize_with = "lenient_zone")]
    time_zone: Zone,
}

/// A stored zone that the zone database no longer knows reads as UTC,
/// rather than making the account unreadable (and its settings with it).
fn lenient_zone<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Zone, D::Error> {
    let name = String::deserialize(deserializer)?;
    Ok(Zone::parse(&name).unwrap_or_else(|unknown| {
        tracing::warn!(%unknown, "a stored time zone is unknown; UTC is used");
        Zone::UTC
    }))
}

impl PersonDocument {
    fn into_account(self) -> Account {
        Account {
            id: self.id,
            name: self.name,
            role: self.role,
            state: self.state,
            password: PasswordDigest(self.password),
            created_at: moment(self.created_at),
            zone: self.time_zone,
        }
    }
}

/// A session, token or share link: whose it is and when it was made and used.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SecretDocument {
    #[serde(rename = "_id")]
    hash: String,
    /// The account's name key.
    person: String,
    created_at: i64,
    last_used: i64,
    /// A token's label, as its owner named it.
    #[serde(default)]
    label: String,
}

/// An invitation not yet used nor expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInvite {
    /// The name of the admin who made it.
    pub invited_by: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// What a one-time link does when it is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "purpose", rename_all = "kebab-case")]
pub enum LinkPurpose {
    /// Creates the first account, an admin one.
    Setup,
    /// Creates an account with this role.
    Invite { role: Role, invited_by: String },
    /// Signs this account (its name key) in.
    SignIn { person: String },
}

#[derive(Debug, Serialize, Deserialize)]
struct LinkDocument {
    #[serde(rename = "_id")]
    hash: String,
    #[serde(flatten)]
    purpose: LinkPurpose,
    created_at: i64,
    expires_at: i64,
}

/// A one-time link, taken: it works no more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenLink {
    pub purpose: LinkPurpose,
    pub expired: bool,
}

/// A person's API token as listed on their settings page: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// The start of the token's hash: enough to tell tokens apart and revoke one.
    pub id: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
}

/// Characters of a token's hash that identify it on the settings page.
const TOKEN_ID_CHARS: usize = 12;

fn moment(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

impl Store {
    fn typed<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.db.collection(name)
    }

    /// Creates an account; refused when the name (without regard to case) is taken.
    pub async fn create_account(
        &self,
        name: &PersonName,
        password: PasswordDigest,
        role: Role,
    ) -> Result<Account, AccountError> {
        let document = PersonDocument {
            key: name.key(),
            id: PersonId::generate(),
            name: name.clone(),
            role,
            state: AccountState::Active,
            password: password.0,
            created_at: Utc::now().timestamp_millis(),
            time_zone: Zone::UTC,
        };
        match self
            .typed::<PersonDocument>(PEOPLE)
            .insert_one(&document)
            .await
        {
            Ok(_) => Ok(document.into_account()),
            Err(error) if is_duplicate_key(&error) => Err(AccountError::NameTaken(name.clone())),
            Err(error) => Err(self.error(error).into()),
        }
    }

    /// The account of this name key (a name without regard to case).
    pub async fn account(&self, key: &str) -> Result<Option<Account>, StoreError> {
        Ok(self
            .typed::<PersonDocument>(PEOPLE)
            .find_one(doc! { "_id": key })
            .await
            .map_err(|e| self.error(e))?
            .map(PersonDocument::into_account))
    }

    /// Every account, by name.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let mut accounts: Vec<Account> = self
            .typed::<PersonDocument>(PEOPLE)
            .find(doc! {})
            .await
            .map_err(|e| self.error(e))?
            .try_collect::<Vec<_>>()
            .await
            .map_err(|e| self.error(e))?
            .into_iter()
            .map(PersonDocument::into_account)
            .collect();
        accounts.sort_by_key(|account| account.name.key());
        Ok(accounts)
    }

    async fn update_account(
        &self,
        name: &PersonName,
        change: Document,
    ) -> Result<(), AccountError> {
        let updated = self
            .collection(PEOPLE)
            .update_one(doc! { "_id": name.key() }, doc! { "$set": change })
            .await
            .map_err(|e| self.error(e))?;
        if updated.matched_count == 0 {
            return Err(AccountError::NoSuchAccount(name.clone()));
        }
        Ok(())
    }

    /// Sets the time zone an account's days and hours are in.
    pub async fn set_time_zone(&self, name: &PersonName, zone: Zone) -> Result<(), AccountError> {
        self.update_account(name, doc! { "time_zone": zone.name() })
            .await
    }

    /// Replaces an account's password and ends its sessions.
    pub async fn set_password(
        &self,
        name: &PersonName,
        password: PasswordDigest,
    ) -> Result<(), AccountError> {
        self.update_account(name, doc! { "password": password.0 })
            .await?;
        self.delete_secrets_of(SESSIONS, &name.key()).await?;
        Ok(())
    }

    /// Enables or disables an account; disabling ends its sessions.
    pub async fn set_account_state(
        &self,
        name: &PersonName,
        state: AccountState,
    ) -> Result<(), AccountError> {
        let state_text = match state {
            AccountState::Active => "active",
            AccountState::Disabled => "disabled",
        };
        self.update_account(name, doc! { "state": state_text })
            .await?;
        if state == AccountState::Disabled {
            self.delete_secrets_of(SESSIONS, &name.key()).await?;
        }
        Ok(())
    }

    /// Removes an account with its sessions, tokens and share link; answers
    /// the removed account (its figures are removed by the caller).
    pub async fn remove_account(&self, name: &PersonName) -> Result<Account, AccountError> {
        let key = name.key();
        let account = self
            .account(&key)
            .await?
            .ok_or_else(|| AccountError::NoSuchAccount(name.clone()))?;
        for collection in [SESSIONS, API_TOKENS, SHARE_LINKS] {
            self.delete_secrets_of(collection, &key).await?;
        }
        self.collection(PEOPLE)
            .delete_one(doc! { "_id": &key })
            .await
            .map_err(|e| self.error(e))?;
        Ok(account)
    }

    async fn delete_secrets_of(&self, collection: &str, key: &str) -> Result<(), StoreError> {
        self.collection(collection)
            .delete_many(doc! { "person": key })
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    async fn insert_secret(
        &self,
        collection: &str,
        kind: SecretKind,
        key: &str,
        label: &str,
    ) -> Result<Secret, StoreError> {
        let secret = Secret::generate(kind);
        let now = Utc::now().timestamp_millis();
        let document = SecretDocument {
            hash: secret.hash().0,
            person: key.to_string(),
            created_at: now,
            last_used: now,
            label: label.to_string(),
        };
        self.typed::<SecretDocument>(collection)
            .insert_one(&document)
            .await
            .map_err(|e| self.error(e))?;
        Ok(secret)
    }

    async fn find_secret(
        &self,
        collection: &str,
        hash: &SecretHash,
    ) -> Result<Option<SecretDocument>, StoreError> {
        self.typed::<SecretDocument>(collection)
            .find_one(doc! { "_id": &hash.0 })
            .await
            .map_err(|e| self.error(e))
    }

    async fn secrets_of(
        &self,
        collection: &str,
        key: &str,
    ) -> Result<Vec<SecretDocument>, StoreError> {
        self.typed::<SecretDocument>(collection)
            .find(doc! { "person": key })
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))
    }

    /// Starts a session for an account (its name key).
    pub async fn create_session(&self, key: &str) -> Result<Secret, StoreError> {
        self.insert_secret(SESSIONS, SecretKind::Session, key, "")
            .await
    }

    /// The account key of a session and when it was last used.
    pub async fn session(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        Ok(self
            .find_secret(SESSIONS, hash)
            .await?
            .map(|session| (session.person, moment(session.last_used))))
    }

    /// Notes that a session, token or share link was used now.
    pub async fn touch_secret(
        &self,
        collection: &str,
        hash: &SecretHash,
    ) -> Result<(), StoreError> {
        self.collection(collection)
            .update_one(
                doc! { "_id": &hash.0 },
                doc! { "$set": { "last_used": Utc::now().timestamp_millis() } },
            )
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    pub async fn end_session(&self, hash: &SecretHash) -> Result<(), StoreError> {
        self.collection(SESSIONS)
            .delete_one(doc! { "_id": &hash.0 })
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Deletes the sessions idle for longer than `idle`, so the collection stays small.
    pub async fn prune_sessions(&self, idle: Duration) -> Result<(), StoreError> {
        let cutoff = (Utc::now() - idle).timestamp_millis();
        self.collection(SESSIONS)
            .delete_many(doc! { "last_used": { "$lt": cutoff } })
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// A new API token for an account; the secret is shown once and never stored.
    pub async fn create_token(&self, key: &str, label: &str) -> Result<Secret, StoreError> {
        self.insert_secret(API_TOKENS, SecretKind::ApiToken, key, label)
            .await
    }

    /// The account key of an API token.
    pub async fn token_owner(&self, hash: &SecretHash) -> Result<Option<String>, StoreError> {
        Ok(self
            .find_secret(API_TOKENS, hash)
            .await?
            .map(|token| token.person))
    }

    /// An account's tokens, newest first.
    pub async fn tokens_of(&self, key: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let mut tokens: Vec<TokenInfo> = self
            .secrets_of(API_TOKENS, key)
            .await?
            .into_iter()
            .map(|token| TokenInfo {
                id: token.hash.chars().take(TOKEN_ID_CHARS).collect(),
                label: token.label,
                created_at: moment(token.created_at),
                last_used: (token.last_used != token.created_at).then(|| moment(token.last_used)),
            })
            .collect();
        tokens.sort_by_key(|token| std::cmp::Reverse(token.created_at));
        Ok(tokens)
    }

    /// Revokes an account's token by the id its settings page shows; false if there is none.
    pub async fn revoke_token(&self, key: &str, id: &str) -> Result<bool, StoreError> {
        if id.len() != TOKEN_ID_CHARS {
            return Ok(false);
        }
        let Some(token) = self
            .secrets_of(API_TOKENS, key)
            .await?
            .into_iter()
            .find(|token| token.hash.starts_with(id))
        else {
            return Ok(false);
        };
        self.collection(API_TOKENS)
            .delete_one(doc! { "_id": &token.hash, "person": key })
            .await
            .map(|deleted| deleted.deleted_count == 1)
            .map_err(|e| self.error(e))
    }

    /// A new share link for an account, replacing the one it had.
    pub async fn replace_share_link(&self, key: &str) -> Result<Secret, StoreError> {
        self.delete_secrets_of(SHARE_LINKS, key).await?;
        self.insert_secret(SHARE_LINKS, SecretKind::ShareLink, key, "")
            .await
    }

    pub async fn remove_share_link(&self, key: &str) -> Result<(), StoreError> {
        self.delete_secrets_of(SHARE_LINKS, key).await
    }

    pub async fn has_share_link(&self, key: &str) -> Result<bool, StoreError> {
        Ok(!self.secrets_of(SHARE_LINKS, key).await?.is_empty())
    }

    /// The account key of a share link.
    pub async fn share_link_owner(&self, hash: &SecretHash) -> Result<Option<String>, StoreError> {
        Ok(self
            .find_secret(SHARE_LINKS, hash)
            .await?
            .map(|link| link.person))
    }

    /// A link that works once, until `valid_for` has passed.
    pub async fn create_link(
        &self,
        purpose: LinkPurpose,
        valid_for: Duration,
    ) -> Result<Secret, StoreError> {
        let kind = match purpose {
            LinkPurpose::Setup => SecretKind::Setup,
            LinkPurpose::Invite { .. } => SecretKind::Invite,
            LinkPurpose::SignIn { .. } => SecretKind::SignInLink,
        };
        let secret = Secret::generate(kind);
        let now = Utc::now();
        let document = LinkDocument {
            hash: secret.hash().0,
            purpose,
            created_at: now.timestamp_millis(),
            expires_at: (now + valid_for).timestamp_millis(),
        };
        self.typed::<LinkDocument>(ONE_TIME_LINKS)
            .insert_one(&document)
            .await
            .map_err(|e| self.error(e))?;
        Ok(secret)
    }

    /// Takes a one-time link: it works for the first caller only, and
    /// whether it worked or had expired, it is gone.
    pub async fn take_link(&self, hash: &SecretHash) -> Result<Option<TakenLink>, StoreError> {
        let links = self.typed::<LinkDocument>(ONE_TIME_LINKS);
        let Some(link) = links
            .find_one(doc! { "_id": &hash.0 })
            .await
            .map_err(|e| self.error(e))?
        else {
            return Ok(None);
        };
        let deleted = links
            .delete_one(doc! { "_id": &hash.0 })
            .await
            .map_err(|e| self.error(e))?;
        if deleted.deleted_count == 0 {
            // Someone else took it first.
            return Ok(None);
        }
        Ok(Some(TakenLink {
            purpose: link.purpose,
            expired: link.expires_at < Utc::now().timestamp_millis(),
        }))
    }

    /// Deletes setup links: a new one is made at each start without accounts.
    pub async fn remove_setup_links(&self) -> Result<(), StoreError> {
        self.collection(ONE_TIME_LINKS)
            .delete_many(doc! { "purpose": "setup" })
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Invites not yet used nor expired, newest first.
    pub async fn open_invites(&self) -> Result<Vec<OpenInvite>, StoreError> {
        let now = Utc::now().timestamp_millis();
        let mut invites: Vec<OpenInvite> = self
            .typed::<LinkDocument>(ONE_TIME_LINKS)
            .find(doc! { "purpose": "invite" })
            .await
            .map_err(|e| self.error(e))?
            .try_collect::<Vec<_>>()
            .await
            .map_err(|e| self.error(e))?
            .into_iter()
            .filter(|link| link.expires_at >= now)
            .filter_map(|link| match link.purpose {
                LinkPurpose::Invite { role, invited_by } => Some(OpenInvite {
                    invited_by,
                    role,
                    expires_at: moment(link.expires_at),
                }),
                _ => None,
            })
            .collect();
        invites.sort_by_key(|invite| std::cmp::Reverse(invite.expires_at));
        Ok(invites)
    }
}
