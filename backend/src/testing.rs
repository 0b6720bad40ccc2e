//! A router in memory, for tests (the crate's own and `backend/tests/`): the real pipeline
//! behind the [`Dataplane`] trait, answered inline instead of by the engine's threads, with a
//! state directory of its own. It has processed a few literal frames, so the connection table,
//! the rule counters and the port counters the APIs show are the pipeline's own.

use crate::api::{AppState, Dataplane};
use crate::engine::{remove_connections, FeedView, Snapshot};
use crate::store::Store;
use crate::users::Users;
use argon2::Params;
use dataplane::firewall::TableKind;
use dataplane::pipeline::{Options, Port, Router as Pipeline};
use dataplane::time::Instant;
use dataplane::wire::build::{icmp_echo_frame, tcp_frame, udp_frame, TcpSpec};
use dataplane::wire::tcp_flags;
use shared::config::edit::Change;
use shared::config::RouterConfig;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The SOHO router of the pipeline tests: LAN ether2 198.51.100.1/24, WAN ether1
/// 203.0.113.2/24, the RouterOS defconf firewall, masquerade and a port forward.
pub const SOHO: &str = include_str!("../../dataplane/fixtures/soho.rsc");

/// The users every test router has: `admin` (group full) and `viewer` (group read).
pub const ADMIN: (&str, &str) = ("admin", "admin-pw");
pub const VIEWER: (&str, &str) = ("viewer", "viewer-pw");

/// A directory under the system's temporary one, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "statewall-{tag}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Cheap argon2 parameters: tests hash many passwords.
pub fn cheap_params() -> Params {
    Params::new(8, 1, 1, None).expect("valid argon2 parameters")
}

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
    s.parse().expect("an address")
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
        self.router.lock().unwrap_or_else(|e| e.into_inner())
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
        *self.applied.lock().unwrap_or_else(|e| e.into_inner()) = Some(cfg);
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

/// A router's state for tests: the SOHO configuration saved in `dir`, users [`ADMIN`] and
/// [`VIEWER`], and the router in memory `local` makes from the configuration.
pub fn state_with(
    dir: &TempDir,
    local: impl FnOnce(&RouterConfig) -> Local,
) -> (AppState, Arc<Local>) {
    let store = Store::open(&dir.0).expect("the state directory opens");
    let cfg = RouterConfig::from_rsc(SOHO).expect("the SOHO configuration parses");
    store.save(&cfg).expect("the configuration is saved");
    let (users, _) = Users::open(&store, Some(ADMIN.1), cheap_params()).expect("users open");
    let viewer = [
        ("name", VIEWER.0),
        ("group", "read"),
        ("password", VIEWER.1),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    users
        .apply(&Change::Add(viewer))
        .expect("the viewer is added");
    let local = Arc::new(local(&cfg));
    let state = AppState::new(local.clone(), store, cfg, users).expect("the state loads");
    (state, local)
}
