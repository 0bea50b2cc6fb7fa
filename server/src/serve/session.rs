//! Signing in and out, and the links that do it once: the first (admin)
//! account's setup link, invitations, one-time sign-in links, and share
//! links. Plain HTML forms post here, so the pages work with the keyboard
//! and without scripts; every answer is a redirect to a page that says what
//! happened.
//!
//! A failed sign-in answers the same, after the same work (one argon2id
//! check), whether the name exists or not. Attempts are throttled per name
//! and per client address: past the allowance, `429` with `Retry-After`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

use super::auth::{Auth, Viewer, SESSION_COOKIE, SHARE_COOKIE};
use super::client::TrustedProxy;
use super::origin::SiteOrigin;
use crate::accounts::password::{self, PasswordDigest};
use crate::accounts::throttle::{Allowance, RetryAfter, Throttle};
use crate::accounts::token::{Secret, SecretKind};
use crate::accounts::{PersonName, Role};
use crate::store::accounts::{AccountError, LinkPurpose};

/// Failed sign-ins allowed per name within the window.
const PER_NAME: Allowance = Allowance {
    failures: 10,
    window: std::time::Duration::from_secs(15 * 60),
};
/// Failed sign-ins allowed per client address within the window.
const PER_ADDRESS: Allowance = Allowance {
    failures: 50,
    window: std::time::Duration::from_secs(15 * 60),
};

/// What the sign-in handlers share.
#[derive(Clone)]
pub struct Sessions {
    pub auth: Auth,
    pub site: SiteOrigin,
    proxy: TrustedProxy,
    throttles: Arc<Mutex<(Throttle, Throttle)>>,
}

impl Sessions {
    pub fn new(auth: Auth, site: SiteOrigin) -> Self {
        Self {
            auth,
            site,
            proxy: TrustedProxy::default(),
            throttles: Arc::new(Mutex::new((
                Throttle::new(PER_NAME),
                Throttle::new(PER_ADDRESS),
            ))),
        }
    }

    /// Believes the client addresses `proxy` forwards, for throttling.
    pub fn behind(mut self, proxy: TrustedProxy) -> Self {
        self.proxy = proxy;
        self
    }

    fn throttles(&self) -> std::sync::MutexGuard<'_, (Throttle, Throttle)> {
        self.throttles
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A cookie holding a secret: script-proof, same-site, `Secure` over https.
    fn cookie(
        &self,
        name: &'static str,
        value: String,
        max_age: Option<chrono::Duration>,
    ) -> Cookie<'static> {
        let mut cookie = Cookie::build((name, value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.site.secure())
            .path("/")
            .build();
        if let Some(age) = max_age {
            cookie.set_max_age(time::Duration::seconds(age.num_seconds()));
        }
        cookie
    }

    fn removal(&self, name: &'static str) -> Cookie<'static> {
        let mut cookie = self.cookie(name, String::new(), None);
        cookie.make_removal();
        cookie
    }

    /// Starts a session for an account, ending the one the browser had.
    async fn start_session(&self, jar: CookieJar, key: &str) -> Result<CookieJar, Response> {
        if let Some(old) = jar
            .get(SESSION_COOKIE)
            .and_then(|cookie| Secret::presented(SecretKind::Session, cookie.value()))
        {
            let hash = old.hash();
            self.auth.forget(&hash);
            let _ = self.auth.store().end_session(&hash).await;
        }
        let secret = self
            .auth
            .store()
            .create_session(key)
            .await
            .map_err(unavailable)?;
        let cookie = self.cookie(
            SESSION_COOKIE,
            secret.expose().to_string(),
            Some(self.auth.idle_expiry()),
        );
        Ok(jar.remove(self.removal(SHARE_COOKIE)).add(cookie))
    }
}

pub fn routes() -> Router<Sessions> {
    Router::new()
        .route("/sign-in", post(sign_in))
        .route("/sign-in/link/{secret}", get(sign_in_by_link))
        .route("/sign-out", post(sign_out))
        .route("/setup", post(set_up))
        .route("/invite", post(accept_invite))
        .route("/share/leave", post(leave_share))
        .route("/share/{secret}", get(open_share))
}

fn unavailable(error: impl std::fmt::Display) -> Response {
    tracing::warn!("an account change failed: {error}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html("<p>The accounts cannot be reached right now. Go back and try again in a moment.</p>"),
    )
        .into_response()
}

/// Where to go after signing in: a page of this site only.
fn local_target(next: Option<&str>) -> String {
    match next {
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => {
            next.to_string()
        }
        _ => "/".to_string(),
    }
}

#[derive(Deserialize)]
struct SignInForm {
    name: String,
    password: String,
    next: Option<String>,
}

fn too_many(RetryAfter(wait): RetryAfter) -> Response {
    let minutes = wait.as_secs().div_ceil(60);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, wait.as_secs().to_string())],
        Html(format!(
            "<!DOCTYPE html><title>Too many attempts</title><p>Too many failed sign-ins. \
             Try again in {minutes} minute(s).</p><p><a href=\"/sign-in\">Back to sign-in</a></p>"
        )),
    )
        .into_response()
}

async fn sign_in(
    State(sessions): State<Sessions>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Response {
    let peer = peer.map(|Extension(ConnectInfo(peer))| peer);
    let address = sessions
        .proxy
        .client_of(peer, &headers)
        .map_or_else(|| "unknown".to_string(), |client| client.to_string());
    let name_key = form.name.trim().to_ascii_lowercase();
    let now = Instant::now();
    {
        let mut throttles = sessions.throttles();
        let (by_name, by_address) = &mut *throttles;
        if let Err(wait) = by_address
            .check(&address, now)
            .and(by_name.check(&name_key, now))
        {
            return too_many(wait);
        }
    }
    let account = match PersonName::parse(&form.name) {
        Ok(name) => match sessions.auth.store().account(&name.key()).await {
            Ok(account) => account,
            Err(error) => return unavailable(error),
        },
        Err(_) => None,
    };
    let password = form.password;
    let digest = account.as_ref().map(|account| account.password.clone());
    // The same work whether the account exists or not.
    let matched = tokio::task::spawn_blocking(move || password::check(digest.as_ref(), &password))
        .await
        .unwrap_or(false);
    let next = local_target(form.next.as_deref());
    let active =
        account.filter(|account| matched && account.state == crate::accounts::AccountState::Active);
    let Some(account) = active else {
        let mut throttles = sessions.throttles();
        throttles.0.record_failure(&name_key, now);
        throttles.1.record_failure(&address, now);
        let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        return Redirect::to(&format!("/sign-in?failed&next={next}")).into_response();
    };
    sessions.throttles().0.record_success(&name_key);
    match sessions.start_session(jar, &account.name.key()).await {
        Ok(jar) => (jar, Redirect::to(&next)).into_response(),
        Err(response) => response,
    }
}

async fn sign_out(State(sessions): State<Sessions>, jar: CookieJar) -> Response {
    if let Some(secret) = jar
        .get(SESSION_COOKIE)
        .and_then(|cookie| Secret::presented(SecretKind::Session, cookie.value()))
    {
        let hash = secret.hash();
        sessions.auth.forget(&hash);
        if let Err(error) = sessions.auth.store().end_session(&hash).await {
            return unavailable(error);
        }
    }
    let jar = jar
        .remove(sessions.removal(SESSION_COOKIE))
        .remove(sessions.removal(SHARE_COOKIE));
    (jar, Redirect::to("/sign-in?signed-out")).into_response()
}

async fn sign_in_by_link(
    State(sessions): State<Sessions>,
    Path(secret): Path<String>,
    jar: CookieJar,
) -> Response {
    let Some(secret) = Secret::presented(SecretKind::SignInLink, &secret) else {
        return Redirect::to("/sign-in?link-used").into_response();
    };
    let taken = match sessions.auth.store().take_link(&secret.hash()).await {
        Ok(taken) => taken,
        Err(error) => return unavailable(error),
    };
    match taken {
        Some(link) if !link.expired => match link.purpose {
            LinkPurpose::SignIn { person } => match sessions.start_session(jar, &person).await {
                Ok(jar) => (jar, Redirect::to("/")).into_response(),
                Err(response) => response,
            },
            _ => Redirect::to("/sign-in?link-used").into_response(),
        },
        _ => Redirect::to("/sign-in?link-used").into_response(),
    }
}

#[derive(Deserialize)]
struct NewAccountForm {
    token: String,
    name: String,
    password: String,
}

/// Checks a new account's name and password before a one-time link is
/// spent on it; answers the page to go back to with the problem.
async fn check_new_account(
    sessions: &Sessions,
    form: &NewAccountForm,
    page: &str,
) -> Result<(PersonName, PasswordDigest), Response> {
    let back = |problem: &str| {
        Redirect::to(&format!("{page}/{}?problem={problem}", form.token.trim())).into_response()
    };
    let name = PersonName::parse(&form.name).map_err(|_| back("name"))?;
    match sessions.auth.store().account(&name.key()).await {
        Ok(Some(_)) => return Err(back("name-taken")),
        Ok(None) => {}
        Err(error) => return Err(unavailable(error)),
    }
    let password = form.password.clone();
    let digest = tokio::task::spawn_blocking(move || PasswordDigest::new(&password))
        .await
        .map_err(unavailable)?
        .map_err(|_| back("password"))?;
    Ok((name, digest))
}

async fn set_up(
    State(sessions): State<Sessions>,
    jar: CookieJar,
    Form(form): Form<NewAccountForm>,
) -> Response {
    let store = sessions.auth.store();
    match store.accounts().await {
        Ok(accounts) if !accounts.is_empty() => {
            return Redirect::to("/sign-in?set-up-already").into_response()
        }
        Ok(_) => {}
        Err(error) => return unavailable(error),
    }
    let Some(secret) = Secret::presented(SecretKind::Setup, form.token.trim()) else {
        return Redirect::to("/sign-in?link-used").into_response();
    };
    let (name, digest) = match check_new_account(&sessions, &form, "/setup").await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    create_through_link(&sessions, jar, &secret, name, digest, |purpose| {
        matches!(purpose, LinkPurpose::Setup).then_some(Role::Admin)
    })
    .await
}

async fn accept_invite(
    State(sessions): State<Sessions>,
    jar: CookieJar,
    Form(form): Form<NewAccountForm>,
) -> Response {
    let Some(secret) = Secret::presented(SecretKind::Invite, form.token.trim()) else {
        return Redirect::to("/sign-in?link-used").into_response();
    };
    let (name, digest) = match check_new_account(&sessions, &form, "/invite").await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    create_through_link(
        &sessions,
        jar,
        &secret,
        name,
        digest,
        |purpose| match purpose {
            LinkPurpose::Invite { role, .. } => Some(*role),
            _ => None,
        },
    )
    .await
}

/// Spends a one-time link on a new account with the role the link grants,
/// and signs the new account in.
async fn create_through_link(
    sessions: &Sessions,
    jar: CookieJar,
    secret: &Secret,
    name: PersonName,
    digest: PasswordDigest,
    role_of: impl Fn(&LinkPurpose) -> Option<Role>,
) -> Response {
    let store = sessions.auth.store();
    let taken = match store.take_link(&secret.hash()).await {
        Ok(taken) => taken,
        Err(error) => return unavailable(error),
    };
    let Some(role) = taken
        .filter(|link| !link.expired)
        .and_then(|link| role_of(&link.purpose))
    else {
        return Redirect::to("/sign-in?link-used").into_response();
    };
    match store.create_account(&name, digest, role).await {
        Ok(account) => {
            tracing::info!("account {} created ({role:?})", account.name);
            match sessions.start_session(jar, &account.name.key()).await {
                Ok(jar) => (jar, Redirect::to("/")).into_response(),
                Err(response) => response,
            }
        }
        Err(AccountError::NameTaken(_)) => Redirect::to("/sign-in?link-used").into_response(),
        Err(error) => unavailable(error),
    }
}

/// Where a share link may lead once opened: `?to=` a review page.
#[derive(Debug, Default, Deserialize)]
struct ShareTarget {
    to: Option<String>,
}

async fn open_share(
    State(sessions): State<Sessions>,
    Path(secret): Path<String>,
    Query(target): Query<ShareTarget>,
    jar: CookieJar,
) -> Response {
    let owner = match Secret::presented(SecretKind::ShareLink, &secret) {
        Some(secret) => match sessions.auth.store().share_link_owner(&secret.hash()).await {
            Ok(owner) => owner.map(|_| secret),
            Err(error) => return unavailable(error),
        },
        None => None,
    };
    match owner {
        Some(secret) => {
            let cookie = sessions.cookie(SHARE_COOKIE, secret.expose().to_string(), None);
            // Only a review page: a link must not lead anywhere else.
            let to = (target.to.as_deref())
                .and_then(app::review::review_page)
                .unwrap_or_else(|| "/".into());
            (jar.add(cookie), Redirect::to(&to)).into_response()
        }
        None => Redirect::to("/sign-in?share-ended").into_response(),
    }
}

async fn leave_share(
    State(sessions): State<Sessions>,
    jar: CookieJar,
    viewer: Option<Extension<Viewer>>,
) -> Response {
    let jar = jar.remove(sessions.removal(SHARE_COOKIE));
    let signed_in =
        viewer.is_some_and(|Extension(viewer)| viewer.access == super::auth::Access::Owner);
    let target = if signed_in { "/" } else { "/sign-in" };
    (jar, Redirect::to(target)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_sign_in_only_pages_of_this_site_are_visited() {
        assert_eq!(
            local_target(Some("/artists/x?from=2024-01-01")),
            "/artists/x?from=2024-01-01"
        );
        for outside in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "evil",
        ] {
            assert_eq!(local_target(Some(outside)), "/", "{outside}");
        }
        assert_eq!(local_target(None), "/");
    }

    async fn sessions(public_url: &str) -> Sessions {
        let settings = crate::config::MongoSettings {
            uri: "mongodb://127.0.0.1:1".into(),
            database: "unused".into(),
        };
        let store = crate::store::Store::connect(&settings).await.unwrap();
        let url = crate::config::parse_public_url(public_url).unwrap();
        let site = SiteOrigin::new(Some(&url), "127.0.0.1:3000".parse().unwrap());
        Sessions::new(Auth::new(store, chrono::Duration::days(14)), site)
    }

    #[tokio::test]
    async fn session_cookies_are_out_of_scripts_reach_same_site_and_secure_over_https() {
        let over_https = sessions("https://music.example.org").await;
        let cookie = over_https
            .cookie(
                SESSION_COOKIE,
                "sas_x".into(),
                Some(chrono::Duration::days(14)),
            )
            .to_string();
        for part in [
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=1209600",
        ] {
            assert!(cookie.contains(part), "{part} missing: {cookie}");
        }
        let over_http = sessions("http://192.168.1.5:3000").await;
        let cookie = over_http
            .cookie(SESSION_COOKIE, "sas_x".into(), None)
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && !cookie.contains("Secure"),
            "{cookie}"
        );
    }
}
