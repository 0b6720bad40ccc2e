//! Browser logins: a browser cannot put an `Authorization` header on a websocket, so the
//! dashboard logs in once with `POST /login` (`{"name":…,"password":…}`, checked and throttled
//! as Basic logins are) and gets a session cookie that the login layer accepts in place of
//! Basic credentials, on `/ws` and `/rest` alike.
//!
//! - The cookie is `HttpOnly` (scripts cannot read it) and `SameSite=Strict` (other sites'
//!   pages cannot send it, so they can neither call the API nor open the feed as the user).
//! - The token is 32 random bytes; the server keeps only its SHA-256, with the user and an
//!   expiry [`SESSION_TTL`] after login. `POST /logout` ends it.
//! - A session is only as good as its user: one whose user was removed, disabled or moved to
//!   another group no longer logs anyone in.

use super::auth;
use super::error::ApiError;
use super::request::read_body;
use super::{AppState, BODY_LIMIT};
use crate::users::Login;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The cookie's name.
pub const COOKIE: &str = "statewall-session";
/// How long a session lasts from its login.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// Sessions kept at most; beyond, the one closest to its end goes.
pub const MAX_SESSIONS: usize = 1024;

/// Open sessions, by the hash of their token.
#[derive(Default)]
pub struct Sessions {
    open: Mutex<HashMap<[u8; 32], (Login, Instant)>>,
}

fn token_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    /// A new session for `login`; its token.
    pub fn open(&self, login: Login, now: Instant) -> String {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, (_, until)| *until > now);
        if open.len() >= MAX_SESSIONS {
            let first = open
                .iter()
                .min_by_key(|(_, (_, until))| *until)
                .map(|(k, _)| *k);
            if let Some(k) = first {
                open.remove(&k);
            }
        }
        open.insert(token_key(&token), (login, now + SESSION_TTL));
        token
    }

    /// The login of a token, while its session lasts.
    pub fn check(&self, token: &str, now: Instant) -> Option<Login> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&token_key(token))
            .filter(|(_, until)| *until > now)
            .map(|(login, _)| login.clone())
    }

    /// Ends every session: a change to `/user` (a new password, a removed or demoted user) must
    /// not leave a browser logged in on the old terms.
    pub fn close_all(&self) {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub fn close(&self, token: &str) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&token_key(token));
    }
}

/// The session token among the request's cookies.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then(|| value.to_string())
        })
}

/// The login a request's session cookie stands for, if it has a live one and its user is still
/// enabled and in the same group.
pub fn login_of(st: &AppState, headers: &HeaderMap) -> Option<Login> {
    let token = cookie_token(headers)?;
    let login = st.sessions.check(&token, Instant::now())?;
    let still = st.users.list().into_iter().any(|item| {
        let prop = |k: &str| {
            item.props
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.as_str())
        };
        prop("name") == Some(login.user.as_str())
            && prop("group") == Some(login.group.as_str())
            && prop("disabled") != Some("true")
    });
    if !still {
        st.sessions.close(&token);
        return None;
    }
    Some(login)
}

fn cookie(value: &str, max_age: u64) -> HeaderValue {
    let text = format!("{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `POST /login`: `{"name":…,"password":…}` → the session cookie, and `{"name","group"}`.
/// A failure is a 401 without `WWW-Authenticate`, so a browser shows the dashboard's own form
/// rather than its Basic prompt.
pub(super) async fn login(State(st): State<AppState>, req: Request) -> Response {
    let ip = auth::client_ip(&req);
    let (parts, body) = req.into_parts();
    let result = async {
        let mut input = read_body(&parts.headers, body, BODY_LIMIT).await?;
        let name = input
            .take("name")
            .ok_or_else(|| ApiError::bad_request("missing =name="))?;
        let password = input
            .take("password")
            .ok_or_else(|| ApiError::bad_request("missing =password="))?;
        input.no_more()?;
        let login = auth::login(&st, ip, &name, &password).await?;
        let token = st.sessions.open(login.clone(), Instant::now());
        tracing::info!(user = %login.user, client = %ip, "session opened");
        let body = json!({"name": login.user, "group": login.group.as_str()});
        Ok::<_, ApiError>(
            (
                [(header::SET_COOKIE, cookie(&token, SESSION_TTL.as_secs()))],
                Json(body),
            )
                .into_response(),
        )
    }
    .await;
    result.unwrap_or_else(|e| {
        let mut response = e.into_response();
        response.headers_mut().remove(header::WWW_AUTHENTICATE);
        response
    })
}

/// `POST /logout`: ends the request's session (if any) and clears the cookie.
pub(super) async fn logout(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie_token(&headers) {
        st.sessions.close(&token);
    }
    ([(header::SET_COOKIE, cookie("", 0))], Json(json!([]))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::Group;

    #[test]
    fn sessions_last_until_their_end_or_logout() {
        let s = Sessions::default();
        let t0 = Instant::now();
        let admin = Login {
            user: "admin".into(),
            group: Group::Full,
        };
        let token = s.open(admin.clone(), t0);
        assert_eq!(token.len(), 43);
        assert_eq!(s.check(&token, t0), Some(admin.clone()));
        assert_eq!(s.check("forged", t0), None);
        assert_eq!(s.check(&token, t0 + SESSION_TTL), None);
        let other = s.open(admin, t0);
        assert_ne!(other, token);
        s.close(&other);
        assert_eq!(s.check(&other, t0), None);
    }

    #[test]
    fn closing_all_ends_every_session() {
        let s = Sessions::default();
        let now = Instant::now();
        let login = Login {
            user: "admin".into(),
            group: Group::Full,
        };
        let a = s.open(login.clone(), now);
        let b = s.open(login, now);
        s.close_all();
        assert!(s.check(&a, now).is_none() && s.check(&b, now).is_none());
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        assert_eq!(cookie_token(&h), None);
        h.append(
            header::COOKIE,
            HeaderValue::from_static("x=y; statewall-session=abc; z=w"),
        );
        assert_eq!(cookie_token(&h).as_deref(), Some("abc"));
        let c = cookie("abc", 60);
        let c = c.to_str().unwrap();
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
    }
}
