//! The REST client: `fetch` against the page's own origin, with the session cookie of
//! `POST /login` (the browser sends it; scripts cannot read it).
//!
//! Paths given to [`rest`] and its shortcuts are RouterOS's, after `/rest`
//! (`get::<Vec<Value>>("/ip/firewall/filter")`). Errors are [`ApiError`]: the router's own JSON
//! error (`{"error":400,"message":"Bad Request","detail":"…"}`) is kept whole, so a form can show
//! the server's `detail` beside the field it names.
//!
//! A 401 from anything but `/login` means the session is over (logged out elsewhere, expired,
//! a change to `/user`): the hook set with [`on_unauthorized`] runs, and the app shows its login
//! form again. Screens need not handle it themselves.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};

/// RouterOS's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosError {
    /// The HTTP status.
    pub error: u16,
    /// Its reason phrase (`Bad Request`).
    pub message: String,
    /// What was wrong, naming the argument; absent when there is nothing to add (404).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Why a request did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The router answered with its JSON error.
    Router(RosError),
    /// An error status without that shape (a proxy's own page, a 405 of the static files).
    Status { status: u16, text: String },
    /// No answer: the router is unreachable, or the browser refused the request.
    Network(String),
    /// A success whose body is not what the caller expected.
    Decode(String),
}

impl ApiError {
    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Router(e) => Some(e.error),
            ApiError::Status { status, .. } => Some(*status),
            ApiError::Network(_) | ApiError::Decode(_) => None,
        }
    }

    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// The router's `detail`: what to show beside a field.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ApiError::Router(e) => e.detail.as_deref(),
            _ => None,
        }
    }

    /// The argument the router's `detail` names (`udp-timeout` in `invalid value for argument
    /// udp-timeout: …`): the form field to show it beside.
    pub fn argument(&self) -> Option<&str> {
        self.detail()
            .and_then(shared::config::edit::detail_argument)
    }

    /// An error answer: the router's JSON if it is that, else the status and text.
    fn from_answer(status: u16, text: String) -> ApiError {
        match serde_json::from_str::<RosError>(&text) {
            Ok(e) => ApiError::Router(e),
            Err(_) => ApiError::Status { status, text },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Router(RosError {
                message,
                detail: Some(d),
                ..
            }) => write!(f, "{message}: {d}"),
            ApiError::Router(RosError { error, message, .. }) => write!(f, "{message} ({error})"),
            ApiError::Status { status, text } => {
                let text: String = text.chars().take(200).collect();
                write!(f, "HTTP {status}: {}", text.trim())
            }
            ApiError::Network(e) => write!(f, "cannot reach the router ({e})"),
            ApiError::Decode(e) => write!(f, "unexpected answer from the router ({e})"),
        }
    }
}

impl std::error::Error for ApiError {}

/// RouterOS's REST methods: `GET` prints, `PUT` adds, `PATCH` sets, `DELETE` removes, `POST`
/// runs a command (`/ip/firewall/connection/remove`, `…/print`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Patch,
    Delete,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Post => "POST",
        }
    }
}

/// A request body and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub content_type: &'static str,
    pub text: String,
}

impl Body {
    pub fn json(value: &impl Serialize) -> Result<Body, ApiError> {
        let text = serde_json::to_string(value).map_err(|e| ApiError::Decode(e.to_string()))?;
        Ok(Body {
            content_type: "application/json",
            text,
        })
    }

    /// A script for `/backup/restore`.
    pub fn plain(text: impl Into<String>) -> Body {
        Body {
            content_type: "text/plain; charset=utf-8",
            text: text.into(),
        }
    }
}

thread_local! {
    static ON_UNAUTHORIZED: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// What to do when a request finds the session over (the app shows its login form).
pub fn on_unauthorized(f: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|h| *h.borrow_mut() = Some(Rc::new(f)));
}

fn unauthorized() {
    if let Some(f) = ON_UNAUTHORIZED.with(|h| h.borrow().clone()) {
        f();
    }
}

/// Any request to the router: the body of a success as text. `url` is a path of this origin
/// (`/backup/export?verbose=yes`).
pub async fn request(method: Method, url: &str, body: Option<Body>) -> Result<String, ApiError> {
    let (status, text) = fetch(method, url, body).await?;
    if (200..300).contains(&status) {
        return Ok(text);
    }
    let e = ApiError::from_answer(status, text);
    if e.is_unauthorized() && url != "/login" {
        unauthorized();
    }
    Err(e)
}

async fn fetch(method: Method, url: &str, body: Option<Body>) -> Result<(u16, String), ApiError> {
    let js = |e: JsValue| ApiError::Network(js_text(&e));
    let init = RequestInit::new();
    init.set_method(method.as_str());
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = Headers::new().map_err(js)?;
    headers.set("Accept", "application/json").map_err(js)?;
    // A script's request: the router's 401 then carries no `WWW-Authenticate`, which would make
    // the browser open its own password dialog over ours.
    headers.set("X-Requested-With", "statewall").map_err(js)?;
    if let Some(body) = &body {
        headers.set("Content-Type", body.content_type).map_err(js)?;
        init.set_body(&JsValue::from_str(&body.text));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(url, &init).map_err(js)?;
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(js)?
        .dyn_into()
        .map_err(js)?;
    let text = JsFuture::from(response.text().map_err(js)?)
        .await
        .map_err(js)?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), text))
}

/// A JavaScript error's message.
pub(crate) fn js_text(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// A REST call: `path` after `/rest`, the answer decoded as `T` (an empty answer is `null`).
pub async fn rest<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<Body>,
) -> Result<T, ApiError> {
    let text = request(method, &format!("/rest{path}"), body).await?;
    let text = if text.trim().is_empty() {
        "null"
    } else {
        &text
    };
    serde_json::from_str(text).map_err(|e| ApiError::Decode(e.to_string()))
}

/// `GET /rest{path}`: a menu's items, or one item (`/ip/firewall/filter/*3`).
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    rest(Method::Get, path, None).await
}

/// `PUT`: adds an item; the answer is the new item.
pub async fn put<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<T, ApiError> {
    rest(Method::Put, path, Some(Body::json(body)?)).await
}

/// `PATCH …/*id`: sets properties of an item; the answer is the item.
pub async fn patch<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<T, ApiError> {
    rest(Method::Patch, path, Some(Body::json(body)?)).await
}

/// `DELETE …/*id`: removes an item.
pub async fn delete(path: &str) -> Result<(), ApiError> {
    request(Method::Delete, &format!("/rest{path}"), None)
        .await
        .map(drop)
}

/// `POST`: a command (`/ip/firewall/connection/remove` with `{".id":"*1,*2"}`).
pub async fn post<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<T, ApiError> {
    rest(Method::Post, path, Some(Body::json(body)?)).await
}

/// Who logged in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LoginInfo {
    pub name: String,
    /// `full` or `read`.
    pub group: String,
}

/// `POST /login`: opens a session (the cookie). A wrong name or password is a 401; the router
/// delays each attempt from an address after repeated failures, so a 401 may take seconds.
pub async fn login(name: &str, password: &str) -> Result<LoginInfo, ApiError> {
    let body = Body::json(&serde_json::json!({ "name": name, "password": password }))?;
    let text = request(Method::Post, "/login", Some(body)).await?;
    serde_json::from_str(&text).map_err(|e| ApiError::Decode(e.to_string()))
}

/// `POST /logout`: ends the session and clears the cookie.
pub async fn logout() -> Result<(), ApiError> {
    request(Method::Post, "/logout", None).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn router_errors_keep_their_detail() {
        let e = ApiError::from_answer(
            400,
            r#"{"error":400,"message":"Bad Request","detail":"unknown parameter colour"}"#.into(),
        );
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.detail(), Some("unknown parameter colour"));
        assert_eq!(e.argument(), Some("colour"));
        assert_eq!(e.to_string(), "Bad Request: unknown parameter colour");
        let e = ApiError::from_answer(401, r#"{"error":401,"message":"Unauthorized"}"#.into());
        assert!(e.is_unauthorized());
        assert_eq!(e.to_string(), "Unauthorized (401)");
        let e = ApiError::from_answer(502, "<html>Bad Gateway</html>".into());
        assert_eq!(
            e,
            ApiError::Status {
                status: 502,
                text: "<html>Bad Gateway</html>".into()
            }
        );
    }
}
