//! A server for the API tests: the real [`app`] on a real state directory, with a real
//! [`Router`] in memory in place of the engine's threads. The router has processed a few literal
//! frames, so the connection table, the rule counters and the port counters the API shows are
//! the pipeline's own.

use crate::api::{app, AppState, Dataplane};
use crate::engine::{remove_connections, FeedView, Snapshot};
use crate::store::tests::TempDir;
use crate::store::{Store, CONFIG_FILE};
use crate::users::tests::test_params;
use crate::users::Users;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use dataplane::firewall::TableKind;
use dataplane::pipeline::{Options, Port, Router as Pipeline};
use dataplane::time::Instant;
use dataplane::wire::build::{icmp_echo_frame, tcp_frame, udp_frame, TcpSpec};
use dataplane::wire::tcp_flags;
use serde_json::Value;
use shared::config::edit::Change;
use shared::config::RouterConfig;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// The SOHO router of the pipeline tests: LAN ether2 198.51.100.1/24, WAN ether1
/// 203.0.113.2/24, the RouterOS defconf firewall, masquerade and a port forward.
pub const SOHO: &str = include_str!("../../../../dataplane/fixtures/soho.rsc");

pub const ADMIN: (&str, &str) = ("admin", "admin-pw");
pub const VIEWER: (&str, &str) = ("viewer", "viewer-pw");

/// The router in memory, standing in for the engine: the same pipeline, answered inline.
pub struct Local {
    router: Mutex<Pipeline>,
    now: Instant,
    /// The next `reconfigure` fails (as an engine that does not answer).
    pub fail_reconfigure: AtomicBool,
    /// The configuration last put in force.
    pub applied: Mutex<Option<RouterConfig>>,
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

impl Local {
    /// The router after a LAN host opened a TCP and a UDP connection to the internet and
    /// pinged the router.
    pub fn new(cfg: &RouterConfig) -> Local {
        Local::with_table_size(cfg, Options::default().max_connections)
    }

    /// As [`Local::new`], with room for `max_connections` entries.
    pub fn with_table_size(cfg: &RouterConfig, max_connections: usize) -> Local {
        let ports = [("ether1", 0xe1), ("ether2", 0xe2)]
            .map(|(name, b)| Port {
                name: name.into(),
                mac: [2, 0, 0, 0, b, 1],
                mtu: 1500,
            })
            .to_vec();
        let opts = Options {
            accept_any_mac: true,
            max_connections,
            ..Options::default()
        };
        let mut router = Pipeline::new(ports, cfg, opts);
        let (client, server) = (ip("198.51.100.10"), ip("192.0.2.1"));
        let syn = TcpSpec {
            sport: 40000,
            dport: 80,
            seq: 1000,
            flags: tcp_flags::SYN,
            ..TcpSpec::default()
        };
        let frames = [
            tcp_frame(client, server, syn),
            udp_frame(client, server, 5353, 53, b"query"),
            icmp_echo_frame(client, ip("198.51.100.1"), 8, 7, 1),
        ];
        let mut out = Vec::new();
        for (i, f) in frames.into_iter().enumerate() {
            router.process(Instant::from_millis(10 + i as u64), 1, f, &mut out);
        }
        Local {
            router: Mutex::new(router),
            now: Instant::from_millis(100),
            fail_reconfigure: AtomicBool::new(false),
            applied: Mutex::new(None),
        }
    }

    fn router(&self) -> std::sync::MutexGuard<'_, Pipeline> {
        self.router.lock().unwrap()
    }

    /// Feeds a frame received on `port` (at a time before the one the API sees).
    pub fn receive(&self, port: u8, frame: Vec<u8>) {
        let at = Instant::from_millis(50);
        self.router()
            .process(at, port.into(), frame, &mut Vec::new());
    }

    /// The connection-tracking settings in force.
    pub fn udp_timeout(&self) -> shared::duration::Duration {
        self.router().conntrack().settings().udp_timeout
    }
}

impl Dataplane for Local {
    fn snapshot(&self) -> Option<Snapshot> {
        Some(Snapshot::of(&self.router(), self.now, true, 0))
    }
    fn stats(&self) -> Option<Snapshot> {
        Some(Snapshot::of(&self.router(), self.now, false, 0))
    }
    fn reconfigure(&self, cfg: RouterConfig) -> bool {
        if self.fail_reconfigure.swap(false, Ordering::SeqCst) {
            return false;
        }
        self.router().reconfigure(&cfg);
        *self.applied.lock().unwrap() = Some(cfg);
        true
    }
    fn remove_connections(&self, ids: Vec<u32>) -> Option<Vec<u32>> {
        Some(remove_connections(&mut self.router(), &ids))
    }
    fn reset_counters(&self, table: TableKind, id: Option<u32>) -> bool {
        self.router().ruleset().reset_counters(table, id);
        true
    }
    fn feed(&self, query: shared::feed::Window) -> Option<FeedView> {
        let router = self.router();
        let history = vec![router.conntrack().len() as u64];
        Some(FeedView::of(
            &router,
            self.now,
            &query,
            0,
            &mut Vec::new(),
            history,
        ))
    }
}

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
    let store = Store::open(&dir.0).unwrap();
    let cfg = RouterConfig::from_rsc(SOHO).unwrap();
    store.save(&cfg).unwrap();
    let (users, _) = Users::open(&store, Some(ADMIN.1), test_params()).unwrap();
    let viewer = [
        ("name", VIEWER.0),
        ("group", "read"),
        ("password", VIEWER.1),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    users.apply(&Change::Add(viewer)).unwrap();
    let local = Arc::new(local(&cfg));
    let state = AppState::new(local.clone(), store, cfg, users).unwrap();
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
