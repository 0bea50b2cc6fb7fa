//! Secrets handed to people and kept only as hashes: session cookies, API
//! tokens, share links, invite and setup links. Each is 32 random bytes,
//! written with a prefix saying what it is (so a leaked one is recognised);
//! the store keeps its SHA-256, enough for secrets this long, so a copy of
//! the database lets nobody sign in.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// What a secret is for; its prefix says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    Session,
    ApiToken,
    ShareLink,
    Invite,
    Setup,
    SignInLink,
    /// What servers of one deployment prove themselves with to each other.
    PeerKey,
}

impl SecretKind {
    fn prefix(self) -> &'static str {
        match self {
            SecretKind::Session => "sas_",
            SecretKind::ApiToken => "sat_",
            SecretKind::ShareLink => "sal_",
            SecretKind::Invite => "sai_",
            SecretKind::Setup => "sau_",
            SecretKind::SignInLink => "san_",
            SecretKind::PeerKey => "sap_",
        }
    }
}

/// A secret as given to a person; never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    kind: SecretKind,
    text: String,
}

/// A secret's SHA-256 in hex: what the store keeps and looks up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretHash(pub String);

impl Secret {
    pub fn generate(kind: SecretKind) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            kind,
            text: format!("{}{}", kind.prefix(), hex(&bytes)),
        }
    }

    /// A secret as presented by a client, if it has the form of one of `kind`.
    pub fn presented(kind: SecretKind, text: &str) -> Option<Self> {
        let body = text.strip_prefix(kind.prefix())?;
        (body.len() == 64 && body.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Self {
            kind,
            text: text.into(),
        })
    }

    pub fn kind(&self) -> SecretKind {
        self.kind
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash(hex(&Sha256::digest(self.text.as_bytes())))
    }

    pub fn expose(&self) -> &str {
        &self.text
    }
}

/// Keeps secrets out of logs and debug output.
impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_recognised_only_as_its_own_kind() {
        let token = Secret::generate(SecretKind::ApiToken);
        assert!(token.expose().starts_with("sat_"));
        assert_eq!(token.expose().len(), 4 + 64);
        assert_eq!(
            Secret::presented(SecretKind::ApiToken, token.expose()),
            Some(token.clone())
        );
        assert_eq!(Secret::presented(SecretKind::Session, token.expose()), None);
        assert_eq!(Secret::presented(SecretKind::ApiToken, "sat_abc"), None);
        assert_eq!(format!("{token:?}"), "Secret(…)");
    }

    #[test]
    fn secrets_differ_and_so_do_their_hashes() {
        let a = Secret::generate(SecretKind::Session);
        let b = Secret::generate(SecretKind::Session);
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash(), a.clone().hash());
        assert_eq!(a.hash().0.len(), 64);
        assert!(!a.hash().0.contains(&a.expose()[4..]));
    }
}
