//! Why a server function refused, which the HTTP status of its answer says
//! too: a script calling `/rpc/…` tells a request to fix (4xx) from a
//! server to wait for (503) without reading the words, which are for people.

/// What kind of refusal an answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request cannot be done as asked (400): a blank label, a weak
    /// password, a name that is not one.
    Invalid,
    /// Not for this caller (403): a wrong current password, one's own
    /// account, a page a share link does not open.
    Forbidden,
    /// What it names is not there (404).
    NotFound,
    /// It clashes with what is (409): nothing to put back, an import not
    /// yet ended, the most exclusions there may be.
    Conflict,
    /// Too many in a short time (429).
    TooMany,
    /// The server cannot do it now (503): the database or the broker does
    /// not answer. Also what a server function's own failure answers.
    Unavailable,
}

impl Refusal {
    /// The HTTP status of an answer refusing this way.
    pub fn status(self) -> u16 {
        match self {
            Refusal::Invalid => 400,
            Refusal::Forbidden => 403,
            Refusal::NotFound => 404,
            Refusal::Conflict => 409,
            Refusal::TooMany => 429,
            Refusal::Unavailable => 503,
        }
    }
}

/// The error a server function answers with, its status set to `refusal`'s
/// when it answers a call of its own (`/rpc/…`). Run in place while a page
/// is drawn, it leaves the page's status alone: the page shows the error.
#[cfg(feature = "ssr")]
pub fn refused(
    refusal: Refusal,
    message: impl std::fmt::Display,
) -> leptos::prelude::ServerFnError {
    use leptos::prelude::use_context;
    let called = use_context::<http::request::Parts>()
        .is_some_and(|request| request.uri.path().starts_with("/rpc/"));
    if let (true, Some(response)) = (called, use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(status) = http::StatusCode::from_u16(refusal.status()) {
            response.set_status(status);
        }
    }
    leptos::prelude::ServerFnError::new(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_client_errors_but_one() {
        let all = [
            Refusal::Invalid,
            Refusal::Forbidden,
            Refusal::NotFound,
            Refusal::Conflict,
            Refusal::TooMany,
            Refusal::Unavailable,
        ];
        let client: Vec<_> = all
            .iter()
            .filter(|refusal| refusal.status() < 500)
            .collect();
        assert_eq!(client.len(), all.len() - 1);
        assert_eq!(Refusal::Unavailable.status(), 503);
    }
}
