//! A server for the API tests: the real [`app`] on a real state directory, with a real
//! [`Router`] in memory in place of the engine's threads. The router has processed a few literal
//! frames, so the connection table, the rule counters and the port counters the API shows are
//! the pipeline's own.

use crate::api::{app, AppState};
use crate::store::CONFIG_FILE;
pub use crate::testing::{Local, TempDir, ADMIN, SOHO, VIEWER};
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use serde_json::Value;
use shared::config::RouterConfig;
use std::sync::Arc;
use tower::ServiceExt;

/// A whole server: the axum router, its state, the router in memory, the state directory.
pub struct Server {
    pub app: Router,
    pub state: AppState,
    pub local: Arc<Local>,
    pub dir: TempDir,
}

pub fn server() -> Server {
    server_with(Local::new)
}

/// A server whose router in memory `local` makes from the configuration.
pub fn server_with(local: impl FnOnce(&RouterConfig) -> Local) -> Server {
    let dir = TempDir::new("api");
    let (state, local) = crate::testing::state_with(&dir, local);
    Server {
        app: app(state.clone()),
        state,
        local,
        dir,
    }
}

/// An answer: status, headers, body as JSON (`Null` when empty).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Answer {
    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON error body's `detail`.
    pub fn detail(&self) -> &str {
        self.json["detail"].as_str().unwrap_or_default()
    }
}

impl Server {
    /// Sends a request: `body` as JSON with its content type, credentials as Basic auth.
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!("{e}: {}", String::from_utf8_lossy(&bytes));
            })
        };
        Answer {
            status,
            headers,
            json,
        }
    }

    pub async fn call_as(
        &self,
        who: (&str, &str),
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Answer {
        self.send(request(Some(who), method, uri, body)).await
    }

    /// As `admin`.
    pub async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Answer {
        self.call_as(ADMIN, method, uri, body).await
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.call(Method::GET, uri, None).await
    }

    pub async fn post(&self, uri: &str, body: Value) -> Answer {
        self.call(Method::POST, uri, Some(body)).await
    }

    /// The saved file parses, and is the running configuration (as its export).
    pub fn assert_saved(&self) {
        let text = std::fs::read_to_string(self.dir.0.join(CONFIG_FILE)).unwrap();
        let saved = RouterConfig::from_rsc(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let running = self.state.config.read().config().clone();
        assert_eq!(saved, RouterConfig::from_rsc(&running.to_rsc()).unwrap());
        let applied = self.local.applied.lock().unwrap().clone();
        if let Some(applied) = applied {
            assert_eq!(
                applied, running,
                "the dataplane runs the running configuration"
            );
        }
    }
}

/// A request with JSON body and Basic credentials.
pub fn request(
    who: Option<(&str, &str)>,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some((user, password)) = who {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        b = b.header(header::AUTHORIZATION, format!("Basic {token}"));
    }
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

/// Every value of every object in `v` is a string (RouterOS REST's rule).
pub fn all_strings(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().all(all_strings),
        Value::Object(obj) => obj.values().all(Value::is_string),
        _ => false,
    }
}
