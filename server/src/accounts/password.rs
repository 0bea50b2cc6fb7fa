//! Passwords, stored only as argon2id hashes (PHC strings with their own
//! salt and parameters). Checking a sign-in costs one hash computation
//! whether or not the account exists, so the time of an answer does not tell
//! which names exist.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted: hashing is costly, so its input is bounded.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must be at most {MAX_PASSWORD_BYTES} bytes long")]
    TooLong,
}

/// A password's argon2id hash in PHC form (`$argon2id$v=19$m=…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordDigest(pub String);

impl PasswordDigest {
    /// Hashes a new password after checking that it may be one.
    pub fn new(password: &str) -> Result<Self, WeakPassword> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(WeakPassword::TooLong);
        }
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(WeakPassword::TooShort);
        }
        Ok(Self(hash(password)))
    }

    /// Whether `password` is the one hashed here.
    pub fn matches(&self, password: &str) -> bool {
        verify(&self.0, password)
    }
}

/// Checks `password` against `digest`, or against a stand-in of the same
/// cost when there is no account, and answers whether it matched.
pub fn check(digest: Option<&PasswordDigest>, password: &str) -> bool {
    static STAND_IN: LazyLock<String> = LazyLock::new(|| hash("no account has this password"));
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match digest {
        Some(digest) => digest.matches(password),
        None => {
            verify(&STAND_IN, password);
            false
        }
    }
}

fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes are a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password of bounded length")
        .to_string()
}

fn verify(digest: &str, password: &str) -> bool {
    PasswordHash::new(digest).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_matches_its_digest_and_nothing_else() {
        let digest = PasswordDigest::new("correct horse battery").unwrap();
        assert!(digest.0.starts_with("$argon2id$"));
        assert!(!digest.0.contains("correct horse"));
        assert!(digest.matches("correct horse battery"));
        assert!(!digest.matches("correct horse battery "));
        assert!(check(Some(&digest), "correct horse battery"));
        assert!(!check(None, "correct horse battery"));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let a = PasswordDigest::new("correct horse battery").unwrap();
        let b = PasswordDigest::new("correct horse battery").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn weak_and_overlong_passwords_are_refused() {
        assert_eq!(PasswordDigest::new("short"), Err(WeakPassword::TooShort));
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(PasswordDigest::new(&long), Err(WeakPassword::TooLong));
        assert!(!check(None, &long));
    }
}
