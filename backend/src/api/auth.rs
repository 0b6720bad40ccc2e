//! Who is asking: HTTP Basic credentials checked against `/user`, as RouterOS's REST API does.
//!
//! - Every request under the login layer carries `Authorization: Basic …` (or a browser's
//!   session cookie, `super::session`); without either, or with wrong credentials, the answer is
//!   401 with `WWW-Authenticate: Basic realm="statewall"`, except to a script's request
//!   (`X-Requested-With`, which the dashboard sends): a browser answers that header on a
//!   `fetch` with its own password dialog, over the dashboard's form.
//! - Checking a password costs an argon2 hash (tens of milliseconds, on purpose), so a good
//!   login is remembered for [`LOGIN_CACHE`] (RouterOS caches REST logins for 10 minutes too),
//!   keyed by a keyed hash of name and password, never the password itself. Any change to
//!   `/user` forgets every remembered login.
//! - Failed logins are throttled per client address ([`Throttle`]): the first
//!   [`FREE_FAILURES`] within [`WINDOW`] cost nothing; after that each new attempt from that
//!   address waits 1 s, doubling with each further failure up to [`MAX_DELAY`]. A good login
//!   clears the address's record.

use super::error::ApiError;
use super::AppState;
use crate::users::Login;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// The header a script's request carries (the dashboard's `fetch`es): its 401s come without
/// `WWW-Authenticate`.
pub const REQUESTED_WITH: &str = "x-requested-with";

/// How long a good login is remembered.
pub const LOGIN_CACHE: Duration = Duration::from_secs(600);
/// Failures within [`WINDOW`] that cost nothing.
pub const FREE_FAILURES: usize = 5;
/// How far back failures count.
pub const WINDOW: Duration = Duration::from_secs(60);
/// The first delay once the free failures are used up; doubles with each further failure.
pub const FIRST_DELAY: Duration = Duration::from_secs(1);
pub const MAX_DELAY: Duration = Duration::from_secs(30);
/// Addresses remembered at most (an attacker with many addresses cannot grow the map forever).
const MAX_CLIENTS: usize = 10_000;

/// Failed logins per client address. Time is passed in, so the policy is tested exactly.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: HashMap<IpAddr, VecDeque<Instant>>,
}

impl Throttle {
    /// How long a login attempt from `ip` waits before it is checked.
    pub fn delay(&mut self, ip: IpAddr, now: Instant) -> Duration {
        let Some(times) = self.failures.get_mut(&ip) else {
            return Duration::ZERO;
        };
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > WINDOW)
        {
            times.pop_front();
        }
        let n = times.len();
        if n < FREE_FAILURES {
            return Duration::ZERO;
        }
        let doublings = u32::try_from(n - FREE_FAILURES).unwrap_or(u32::MAX).min(16);
        FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
    }

    pub fn failed(&mut self, ip: IpAddr, now: Instant) {
        if self.failures.len() >= MAX_CLIENTS && !self.failures.contains_key(&ip) {
            self.failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.saturating_duration_since(*t) <= WINDOW)
            });
            if self.failures.len() >= MAX_CLIENTS {
                return;
            }
        }
        let times = self.failures.entry(ip).or_default();
        times.push_back(now);
        // Only the failures that can still count are kept.
        while times.len() > FREE_FAILURES + 32 {
            times.pop_front();
        }
    }

    pub fn succeeded(&mut self, ip: IpAddr) {
        self.failures.remove(&ip);
    }
}

/// Remembered logins and the throttle.
pub struct Auth {
    /// Key of the login cache's hash, new at every start.
    secret: [u8; 32],
    cache: Mutex<HashMap<[u8; 32], (Login, Instant)>>,
    throttle: Mutex<Throttle>,
}

impl Default for Auth {
    fn default() -> Self {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        Auth {
            secret,
            cache: Mutex::new(HashMap::new()),
            throttle: Mutex::new(Throttle::default()),
        }
    }
}

impl Auth {
    fn key(&self, user: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update((user.len() as u64).to_be_bytes());
        h.update(user.as_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn remembered(&self, key: &[u8; 32], now: Instant) -> Option<Login> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|(_, at)| now.saturating_duration_since(*at) < LOGIN_CACHE)
            .map(|(login, _)| login.clone())
    }

    fn remember(&self, key: [u8; 32], login: Login, now: Instant) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|_, (_, at)| now.saturating_duration_since(*at) < LOGIN_CACHE);
        if cache.len() < MAX_CLIENTS {
            cache.insert(key, (login, now));
        }
    }

    /// Forgets every remembered login (after any change to `/user`).
    pub fn forget_logins(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `user:password` from `Authorization: Basic …`.
pub fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The client's address (unspecified when the server was not started with connect info, as in
/// tests that do not set it).
pub(super) fn client_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// The login layer: lets the request through with its [`Login`] in the extensions, or answers
/// 401. Basic credentials, or else a browser's session cookie (`super::session`). Each request
/// runs in a span naming the method, path and user.
pub async fn require_login(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(&req);
    let from_script = req.headers().contains_key(REQUESTED_WITH);
    let refuse = |e: ApiError| {
        let mut response = e.into_response();
        if from_script {
            response.headers_mut().remove(header::WWW_AUTHENTICATE);
        }
        response
    };
    let credentials = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(basic_credentials);
    let login = match credentials {
        Some((user, password)) => match login(&st, ip, &user, &password).await {
            Ok(login) => login,
            Err(e) => return refuse(e),
        },
        None => match super::session::login_of(&st, req.headers()) {
            Some(login) => login,
            None => return refuse(ApiError::unauthorized()),
        },
    };
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        user = %login.user,
        client = %ip,
    );
    req.extensions_mut().insert(login);
    async move {
        let response = next.run(req).await;
        tracing::debug!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await
}

/// Checks a login (`user`, `password`) from `ip`, as every transport does: a good one is
/// remembered for [`LOGIN_CACHE`]; failures are throttled per address ([`Throttle`]).
pub async fn login(
    st: &AppState,
    ip: IpAddr,
    user: &str,
    password: &str,
) -> Result<Login, ApiError> {
    let auth = &st.auth;
    let key = auth.key(user, password);
    if let Some(login) = auth.remembered(&key, Instant::now()) {
        return Ok(login);
    }
    let wait = auth.throttle().delay(ip, Instant::now());
    if !wait.is_zero() {
        tracing::debug!(client = %ip, wait_ms = wait.as_millis() as u64, "throttling logins");
        tokio::time::sleep(wait).await;
    }
    let users = st.users.clone();
    let (u, p) = (user.to_string(), password.to_string());
    let checked = tokio::task::spawn_blocking(move || users.authenticate(&u, &p))
        .await
        .map_err(ApiError::internal)?;
    let now = Instant::now();
    match checked {
        Some(login) => {
            auth.throttle().succeeded(ip);
            auth.remember(key, login.clone(), now);
            Ok(login)
        }
        None => {
            auth.throttle().failed(ip, now);
            tracing::warn!(client = %ip, user, "login failed");
            Err(ApiError::unauthorized())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_parse() {
        // "admin:pa:ss" — the password may hold a colon, the name may not.
        let enc = base64::engine::general_purpose::STANDARD.encode("admin:pa:ss");
        assert_eq!(
            basic_credentials(&format!("Basic {enc}")),
            Some(("admin".into(), "pa:ss".into()))
        );
        assert_eq!(
            basic_credentials(&format!("basic {enc}")).map(|c| c.0),
            Some("admin".into())
        );
        assert_eq!(basic_credentials(&format!("Bearer {enc}")), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        let no_colon = base64::engine::general_purpose::STANDARD.encode("admin");
        assert_eq!(basic_credentials(&format!("Basic {no_colon}")), None);
    }

    #[test]
    fn throttle_waits_after_the_free_failures_and_forgets_old_ones() {
        let mut t = Throttle::default();
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        let b: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        for i in 0..FREE_FAILURES as u64 {
            assert_eq!(t.delay(a, at(i)), Duration::ZERO);
            t.failed(a, at(i));
        }
        assert_eq!(t.delay(a, at(5)), Duration::from_secs(1));
        t.failed(a, at(5));
        assert_eq!(t.delay(a, at(6)), Duration::from_secs(2));
        t.failed(a, at(6));
        assert_eq!(t.delay(a, at(7)), Duration::from_secs(4));
        for s in 7..20 {
            t.failed(a, at(s));
        }
        assert_eq!(t.delay(a, at(20)), MAX_DELAY);
        // Another address is not affected.
        assert_eq!(t.delay(b, at(20)), Duration::ZERO);
        // Failures older than the window no longer count.
        assert_eq!(t.delay(a, at(19 + 61)), Duration::ZERO);
        // A good login clears the record.
        for s in 100..110 {
            t.failed(a, at(s));
        }
        t.succeeded(a);
        assert_eq!(t.delay(a, at(110)), Duration::ZERO);
    }
}
