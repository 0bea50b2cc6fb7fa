//! Who is asking. Every request is matched to a person by, in this order,
//! its API token (`Authorization: Bearer sat_…`), its share-link cookie
//! (read-only, someone's shared dashboard) or its session cookie; a request
//! that needs a person and has none is sent to the sign-in page (pages) or
//! answered `401` (everything else). Only the sign-in, setup, invite and
//! share-link pages, the site's assets and the health checks need nobody.
//!
//! What a secret proves is looked up by the secret's hash, and remembered
//! for [`REMEMBER_FOR`] (looked up again in the background while in use):
//! a revoked token or ended session stops working at once on this server,
//! and within that time on the others. While MongoDB
//! cannot be read, what was proven before keeps holding, so people keep
//! reading the last figures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use axum_extra::extract::cookie::CookieJar;
use serde_json::json;

use crate::accounts::token::{Secret, SecretHash, SecretKind};
use crate::accounts::{Account, AccountState, PersonId, PersonName, Role};
use crate::store::accounts::{API_TOKENS, SESSIONS};
use crate::store::{Store, StoreError};
use crate::zone::Zone;

/// The session cookie: an opaque secret, its hash kept server-side.
pub const SESSION_COOKIE: &str = "sa_session";
/// The cookie of a share link being viewed.
pub const SHARE_COOKIE: &str = "sa_share";
/// How long what a secret proves is remembered before it is looked up again.
pub const REMEMBER_FOR: Duration = Duration::from_secs(5);
/// Past this age, a secret in use is looked up again in the background
/// while what it proved keeps being used: requests wait on MongoDB only
/// for a secret unused for [`REMEMBER_FOR`] (one at every expiry held back
/// every request of a busy script).
const REFRESH_AFTER: Duration = Duration::from_secs(2);
/// How often a session's last use is written down (its idle expiry counts from it).
const TOUCH_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// The person a request acts for, and how it proved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub person: PersonId,
    /// The account's name key (its name without regard to case).
    pub key: String,
    pub name: PersonName,
    pub role: Role,
    pub access: Access,
    /// Where their days and hours are (their setting).
    pub zone: Zone,
}

/// How a request proved who it acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A session of the person, or one of their API tokens.
    Owner,
    /// A share link: the person's figures, read-only.
    SharedLink,
}

impl Viewer {
    fn of(account: Account, access: Access) -> Self {
        Self {
            person: account.id,
            key: account.name.key(),
            name: account.name,
            role: account.role,
            zone: account.zone,
            access,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.access == Access::Owner && self.role == Role::Admin
    }
}

/// Matches requests to people; cloning shares the store and what is remembered.
#[derive(Clone)]
pub struct Auth(Arc<AuthInner>);

struct AuthInner {
    store: Store,
    /// A session unused this long has ended.
    idle_expiry: chrono::Duration,
    remembered: Mutex<HashMap<SecretHash, Remembered>>,
}

/// What a secret proved, and when it was looked up.
#[derive(Debug, Clone)]
struct Remembered {
    viewer: Option<Viewer>,
    at: Instant,
    /// A look-up is under way in the background.
    refreshing: bool,
}

/// What was remembered of a secret when a request came with it.
enum Recall {
    /// Looked up less than [`REMEMBER_FOR`] ago; `refresh` when this
    /// request starts the look-up in the background.
    Current {
        viewer: Option<Viewer>,
        refresh: bool,
    },
    /// Older: looked up again now, and used only if MongoDB cannot answer.
    Expired(Option<Viewer>),
}

impl Remembered {
    fn now(viewer: Option<Viewer>) -> Self {
        Self {
            viewer,
            at: Instant::now(),
            refreshing: false,
        }
    }
}

impl Auth {
    pub fn new(store: Store, idle_expiry: chrono::Duration) -> Self {
        Self(Arc::new(AuthInner {
            store,
            idle_expiry,
            remembered: Mutex::new(HashMap::new()),
        }))
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn idle_expiry(&self) -> chrono::Duration {
        self.0.idle_expiry
    }

    /// The person a request acts for, if any.
    pub async fn viewer_of(&self, headers: &HeaderMap) -> Result<Option<Viewer>, StoreError> {
        if let Some(bearer) = bearer_token(headers) {
            // A token that is not one proves nothing, whatever the cookies say.
            let Some(secret) = Secret::presented(SecretKind::ApiToken, bearer) else {
                return Ok(None);
            };
            return self.remembered(&secret, Access::Owner).await;
        }
        let jar = CookieJar::from_headers(headers);
        if let Some(secret) = jar
            .get(SHARE_COOKIE)
            .and_then(|cookie| Secret::presented(SecretKind::ShareLink, cookie.value()))
        {
            if let Some(viewer) = self.remembered(&secret, Access::SharedLink).await? {
                return Ok(Some(viewer));
            }
        }
        match jar
            .get(SESSION_COOKIE)
            .and_then(|cookie| Secret::presented(SecretKind::Session, cookie.value()))
        {
            Some(secret) => self.remembered(&secret, Access::Owner).await,
            None => Ok(None),
        }
    }

    async fn remembered(
        &self,
        secret: &Secret,
        access: Access,
    ) -> Result<Option<Viewer>, StoreError> {
        let hash = secret.hash();
        let known = self.lock().get_mut(&hash).map(|known| {
            let age = known.at.elapsed();
            if age >= REMEMBER_FOR {
                return Recall::Expired(known.viewer.clone());
            }
            let refresh = age >= REFRESH_AFTER && !known.refreshing;
            known.refreshing |= refresh;
            Recall::Current {
                viewer: known.viewer.clone(),
                refresh,
            }
        });
        let known = match known {
            Some(Recall::Current { viewer, refresh }) => {
                if refresh {
                    let (auth, secret) = (self.clone(), secret.clone());
                    tokio::spawn(async move { auth.refresh(&secret, access).await });
                }
                return Ok(viewer);
            }
            Some(Recall::Expired(viewer)) => Some(viewer),
            None => None,
        };
        let viewer = match self.look_up(secret, &hash, access).await {
            Ok(viewer) => viewer,
            // While the database is down nothing can be revoked either: what
            // was proven before still holds, so the last figures stay readable.
            Err(error) => match known {
                Some(viewer) => return Ok(viewer),
                None => return Err(error),
            },
        };
        let mut remembered = self.lock();
        // Bounded: forget everything rather than grow without limit.
        if remembered.len() > 10_000 {
            remembered.clear();
        }
        remembered.insert(hash, Remembered::now(viewer.clone()));
        Ok(viewer)
    }

    /// Looks a secret in use up again, off the request that found it
    /// getting old; what it proves now replaces what was remembered,
    /// unless it was forgotten meanwhile (revoked: looked up anew).
    async fn refresh(&self, secret: &Secret, access: Access) {
        let hash = secret.hash();
        let looked_up = self.look_up(secret, &hash, access).await;
        let mut remembered = self.lock();
        let Some(known) = remembered.get_mut(&hash).filter(|known| known.refreshing) else {
            return;
        };
        match looked_up {
            Ok(viewer) => *known = Remembered::now(viewer),
            Err(_) => known.refreshing = false,
        }
    }

    async fn look_up(
        &self,
        secret: &Secret,
        hash: &SecretHash,
        access: Access,
    ) -> Result<Option<Viewer>, StoreError> {
        let store = &self.0.store;
        let key = match secret.kind() {
            SecretKind::ApiToken => {
                let owner = store.token_owner(hash).await?;
                if owner.is_some() {
                    store.touch_secret(API_TOKENS, hash).await?;
                }
                owner
            }
            SecretKind::ShareLink => store.share_link_owner(hash).await?,
            SecretKind::Session => match store.session(hash).await? {
                Some((_, last_used)) if chrono::Utc::now() - last_used > self.0.idle_expiry => {
                    store.end_session(hash).await?;
                    None
                }
                Some((key, last_used)) => {
                    if chrono::Utc::now() - last_used > TOUCH_EVERY {
                        store.touch_secret(SESSIONS, hash).await?;
                    }
                    Some(key)
                }
                None => None,
            },
            SecretKind::Invite
            | SecretKind::Setup
            | SecretKind::SignInLink
            | SecretKind::PeerKey => None,
        };
        let Some(key) = key else {
            return Ok(None);
        };
        Ok(store
            .account(&key)
            .await?
            .filter(|account| account.state == AccountState::Active)
            .map(|account| Viewer::of(account, access)))
    }

    /// Forgets what a secret proved: it is looked up again on its next use.
    pub fn forget(&self, hash: &SecretHash) {
        self.lock().remove(hash);
    }

    /// Remembers that `secret` proves `viewer`, as a look-up would: lets
    /// tests in process act as a person without a database.
    #[cfg(test)]
    pub fn remember(&self, secret: &Secret, viewer: Viewer) {
        self.lock()
            .insert(secret.hash(), Remembered::now(Some(viewer)));
    }

    /// Forgets everything remembered of a person (after a change to their
    /// account, tokens or share link).
    pub fn forget_person(&self, key: &str) {
        self.lock()
            .retain(|_, known| known.viewer.as_ref().is_none_or(|viewer| viewer.key != key));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SecretHash, Remembered>> {
        self.0
            .remembered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// What a path needs of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Open to anyone: sign-in, setup, invites, share links, assets, health.
    Nobody,
    /// A person: their own session or token, or someone's share link.
    Reader,
    /// The person themself (settings, their tokens, deleting their data).
    Owner,
    /// An administrator (people and invites).
    Admin,
}

/// What `path` needs; requests are matched by path, so no route can be
/// added without falling under one of these.
pub fn needs(method: &Method, path: &str) -> Needs {
    let open_pages = ["/sign-in", "/sign-in/", "/setup", "/invite", "/share"];
    if path == "/healthz"
        || path == "/readyz"
        || path == "/favicon.ico"
        || path.starts_with("/pkg/")
        || open_pages
            .iter()
            .any(|open| path == *open || path.starts_with(&format!("{open}/")))
    {
        return Needs::Nobody;
    }
    if path == "/admin" || path.starts_with("/rpc/admin/") {
        return Needs::Admin;
    }
    if path == "/settings"
        || path == "/import"
        || path == "/api/imports"
        || path.starts_with("/api/imports/")
        || path == "/sign-out"
        || path.starts_with("/rpc/account/")
        || (method != Method::GET && method != Method::HEAD && !path.starts_with("/rpc/"))
    {
        return Needs::Owner;
    }
    Needs::Reader
}

/// Finds who a request acts for and lets it through only if that is enough
/// for its path.
pub async fn identify(State(auth): State<Auth>, mut request: Request, next: Next) -> Response {
    let need = needs(request.method(), request.uri().path());
    let viewer = match auth.viewer_of(request.headers()).await {
        Ok(viewer) => viewer,
        // Open pages and health checks answer whether or not accounts can be read.
        Err(_) if need == Needs::Nobody => None,
        Err(error) => {
            tracing::warn!("checking who a request is from failed: {error}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "accounts cannot be checked right now; try again in a moment" })),
            )
                .into_response();
        }
    };
    let allowed = match (&viewer, need) {
        (_, Needs::Nobody) => true,
        (Some(_), Needs::Reader) => true,
        (Some(viewer), Needs::Owner) => viewer.access == Access::Owner,
        (Some(viewer), Needs::Admin) => viewer.is_admin(),
        (None, _) => false,
    };
    if let Some(viewer) = viewer.clone() {
        request.extensions_mut().insert(viewer);
    }
    if allowed {
        return next.run(request).await;
    }
    if viewer.is_some() {
        // Signed in, but this is not theirs to see: as if it did not exist.
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such page" })),
        )
            .into_response();
    }
    let path = request.uri().path();
    let page = request.method() == Method::GET
        && !["/api/", "/rpc/", "/charts/"]
            .iter()
            .any(|prefix| path.starts_with(prefix));
    if page {
        let next_page = request
            .uri()
            .path_and_query()
            .map_or("/", |target| target.as_str());
        let encoded: String = form_urlencoded::byte_serialize(next_page.as_bytes()).collect();
        return Redirect::to(&format!("/sign-in?next={encoded}")).into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        Json(json!({
            "error": "sign in first, or send a personal API token (created on the settings page) as Authorization: Bearer …"
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_falls_under_a_need() {
        let get = Method::GET;
        let post = Method::POST;
        for open in [
            "/sign-in",
            "/setup/sau_x",
            "/invite/sai_x",
            "/share/sal_x",
            "/healthz",
            "/pkg/a.wasm",
        ] {
            assert_eq!(needs(&get, open), Needs::Nobody, "{open}");
        }
        assert_eq!(needs(&post, "/sign-in"), Needs::Nobody);
        for read in [
            "/",
            "/api/top-songs",
            "/api/live",
            "/charts/top-songs.svg",
            "/artists/x",
            "/metrics",
        ] {
            assert_eq!(needs(&get, read), Needs::Reader, "{read}");
        }
        assert_eq!(needs(&post, "/rpc/dashboard"), Needs::Reader);
        assert_eq!(needs(&get, "/settings"), Needs::Owner);
        // An import history is the person's own, not a share link's.
        assert_eq!(needs(&get, "/import"), Needs::Owner);
        assert_eq!(needs(&get, "/api/imports"), Needs::Owner);
        assert_eq!(needs(&get, "/api/imports/progress"), Needs::Owner);
        assert_eq!(needs(&post, "/api/imports"), Needs::Owner);
        assert_eq!(needs(&post, "/rpc/account/create_token"), Needs::Owner);
        assert_eq!(needs(&post, "/sign-out"), Needs::Owner);
        assert_eq!(needs(&post, "/anything-else"), Needs::Owner);
        assert_eq!(needs(&get, "/admin"), Needs::Admin);
        assert_eq!(needs(&post, "/rpc/admin/invite"), Needs::Admin);
        // Look-alikes are not open.
        assert_eq!(needs(&get, "/sign-instead"), Needs::Reader);
        assert_eq!(needs(&get, "/sharepoint"), Needs::Reader);
    }

    #[test]
    fn a_bearer_token_is_read_from_the_authorization_header() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer sat_abc ".parse().unwrap());
        assert_eq!(bearer_token(&headers), Some("sat_abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
    }
}
