//! People and how they prove who they are: accounts with argon2id passwords
//! ([`password`]), server-side sessions, personal API tokens, share links and
//! one-time setup, invite and sign-in links, all handed out once and kept
//! only as hashes ([`token`]); sign-in attempts are throttled ([`throttle`]).
//! What is stored where is in [`crate::store::accounts`].

pub mod password;
pub mod throttle;
pub mod token;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::zone::Zone;
use password::PasswordDigest;

/// Identifies a person's listens and figures everywhere (the Kafka key, the
/// stored figures): random, never reused, never shown as a name. Removing an
/// account and creating one of the same name makes a new person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(pub String);

impl PersonId {
    /// A new random id: 16 bytes in hex.
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest name of an account.
pub const MAX_NAME_CHARS: usize = 32;

/// The name a person signs in with: 1 to 32 letters, digits, `.`, `_` or
/// `-`, so it is safe in any page, link or log line; names that differ only
/// in case are the same name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

/// Why a text cannot be an account name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a name has 1 to {MAX_NAME_CHARS} characters, each a letter, a digit, '.', '_' or '-' \
     (no spaces)"
)]
pub struct BadName;

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, BadName> {
        let name = raw.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || !name.chars().all(allowed) {
            return Err(BadName);
        }
        Ok(Self(name.to_string()))
    }

    /// The name as the store keys it: without regard to case.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonName {
    type Error = BadName;
    fn try_from(raw: String) -> Result<Self, BadName> {
        Self::parse(&raw)
    }
}

impl From<PersonName> for String {
    fn from(name: PersonName) -> String {
        name.0
    }
}

impl std::fmt::Display for PersonName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an account may do besides reading its own figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Invites people, disables and removes accounts (never reads their listens).
    Admin,
    Member,
}

/// Whether an account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountState {
    Active,
    /// Kept with its figures, but no session, token or share link works.
    Disabled,
}

/// One person's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: PersonId,
    pub name: PersonName,
    pub role: Role,
    pub state: AccountState,
    pub password: PasswordDigest,
    pub created_at: DateTime<Utc>,
    /// The time zone their days and hours are in.
    pub zone: Zone,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_and_case_blind() {
        let name = PersonName::parse(" Ann.Lee-2 ").unwrap();
        assert_eq!(name.as_str(), "Ann.Lee-2");
        assert_eq!(name.key(), "ann.lee-2");
        for bad in [
            "",
            "ann lee",
            "<script>",
            "a\u{202e}b",
            "ann/..",
            "änn",
            &"x".repeat(MAX_NAME_CHARS + 1),
        ] {
            assert_eq!(PersonName::parse(bad), Err(BadName), "{bad:?}");
        }
        assert!(serde_json::from_str::<PersonName>("\"<b>\"").is_err());
    }

    #[test]
    fn person_ids_are_random() {
        let (a, b) = (PersonId::generate(), PersonId::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
    }
}
