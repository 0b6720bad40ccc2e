//! The binary API end to end: a real server (`ros_api::serve`, plain and TLS) on 127.0.0.1
//! ephemeral ports over a router in memory (`backend::testing`), driven by a raw client on
//! `ros_api::wire` (the protocol: tags, traps, `count-only`, `listen`, `/cancel`, limits and
//! timeouts) and by the real Python clients from PyPI, routeros_api and librouteros (the seed's
//! section 4 script, settings, `select().where()`, count-only, the errors they raise).
//!
//! The Python tests need `python3` with both modules (`scripts/install-deps.sh`): skipped with a
//! reason elsewhere, a failure under CI.

use backend::api::AppState;
use backend::ros_api::{self, wire, Options};
use backend::testing::{self, Local, TempDir, ADMIN, VIEWER};
use dataplane::wire::build::{tcp_frame, udp_frame, TcpSpec};
use dataplane::wire::tcp_flags;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A server on two ephemeral ports, with its router in memory.
struct Server {
    /// Runs the servers for as long as the test holds this.
    _runtime: tokio::runtime::Runtime,
    plain: SocketAddr,
    tls: SocketAddr,
    state: AppState,
    local: Arc<Local>,
    _stop: tokio::sync::watch::Sender<bool>,
    dir: TempDir,
}

impl Server {
    fn start(options: Options) -> Server {
        let dir = TempDir::new("ros-api");
        let (state, local) = testing::state_with(&dir, Local::new);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (cert, key) =
            backend::tls::self_signed("statewall", &["127.0.0.1".parse().unwrap()]).unwrap();
        let (cert_path, key_path) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
        std::fs::write(&cert_path, cert).unwrap();
        std::fs::write(&key_path, key).unwrap();
        let https = backend::tls::server_config(&cert_path, &key_path).unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let bind = |tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>| {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .unwrap();
            let addr = listener.local_addr().unwrap();
            let mut stopped = stopped.clone();
            let serving =
                ros_api::serve(listener, tls, state.clone(), options.clone(), async move {
                    let _ = stopped.changed().await;
                });
            runtime.spawn(serving);
            addr
        };
        let plain = bind(None);
        let tls = bind(Some(ros_api::tls_config(&https)));
        Server {
            _runtime: runtime,
            plain,
            tls,
            state,
            local,
            _stop: stop,
            dir,
        }
    }

    fn client(&self) -> Client {
        Client::connect(self.plain)
    }

    /// A client logged in as `who`.
    fn login(&self, who: (&str, &str)) -> Client {
        let mut c = self.client();
        let reply = c.call(&[
            "/login",
            &format!("=name={}", who.0),
            &format!("=password={}", who.1),
        ]);
        assert_eq!(reply, [vec!["!done"]], "login as {}", who.0);
        c
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self._stop.send(true);
        // Let the servers see the stop before the runtime goes.
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn options() -> Options {
    Options {
        listen_interval: Duration::from_millis(100),
        ..Options::default()
    }
}

/// A blocking client on the same wire codec `statewall console` uses.
struct Client {
    s: TcpStream,
}

type Sentence = Vec<String>;

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client { s }
    }

    fn send(&mut self, words: &[&str]) {
        wire::write_sentence(&mut self.s, words).unwrap();
    }

    fn recv(&mut self) -> Sentence {
        wire::read_sentence(&mut self.s, &wire::Limits::default())
            .unwrap()
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    /// Sends a sentence and reads the replies up to `!done` (or `!fatal`).
    fn call(&mut self, words: &[&str]) -> Vec<Sentence> {
        self.send(words);
        let mut out = Vec::new();
        loop {
            let s = self.recv();
            let end = s[0] == "!done" || s[0] == "!fatal";
            out.push(s);
            if end {
                return out;
            }
        }
    }

    /// Whether something arrives within `timeout` (nothing is consumed).
    fn wait_data(&mut self, timeout: Duration) -> bool {
        self.s.set_read_timeout(Some(timeout)).unwrap();
        let got = self.s.peek(&mut [0u8; 1]).is_ok_and(|n| n > 0);
        self.s
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        got
    }

    /// Reads until the peer closes; whether it did within the read timeout.
    fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        self.s.read_to_end(&mut rest).is_ok()
    }
}

/// `=key=value` of a sentence.
fn attr<'a>(s: &'a Sentence, key: &str) -> Option<&'a str> {
    let prefix = format!("={key}=");
    s.iter().find_map(|w| w.strip_prefix(prefix.as_str()))
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn login_tags_proplist_count_only_and_traps() {
    let server = Server::start(options());
    let mut c = server.client();
    // Not logged in: only /login.
    let r = c.call(&["/ip/firewall/connection/print", ".tag=a"]);
    assert_eq!(
        r,
        [
            vec!["!trap", "=message=not logged in", ".tag=a"],
            vec!["!done", ".tag=a"]
        ]
    );
    let r = c.call(&["/login", "=name=admin", "=password=wrong", ".tag=1"]);
    assert_eq!(
        r,
        [
            vec![
                "!trap",
                "=message=invalid user name or password (6)",
                ".tag=1"
            ],
            vec!["!done", ".tag=1"]
        ]
    );
    let r = c.call(&[
        "/login",
        "=name=admin",
        &format!("=password={}", ADMIN.1),
        ".tag=2",
    ]);
    assert_eq!(r, [vec!["!done", ".tag=2"]]);

    // Every reply sentence carries the tag; .proplist and the query choose.
    let r = c.call(&[
        "/ip/firewall/connection/print",
        "=.proplist=protocol,dst-address",
        "?protocol=udp",
        "?protocol=icmp",
        "?#|",
        ".tag=3",
    ]);
    assert_eq!(
        r,
        [
            vec![
                "!re",
                "=dst-address=192.0.2.1:53",
                "=protocol=udp",
                ".tag=3"
            ],
            vec![
                "!re",
                "=dst-address=198.51.100.1",
                "=protocol=icmp",
                ".tag=3"
            ],
            vec!["!done", ".tag=3"]
        ]
    );
    // `=count-only` without its '=' (routeros_api), and `getall`.
    let r = c.call(&["/ip/firewall/connection/getall", "=count-only"]);
    assert_eq!(r, [vec!["!done", "=ret=3"]]);
    // A settings menu is one !re without .id.
    let r = c.call(&[
        "/ip/firewall/connection/tracking/print",
        "=.proplist=udp-timeout",
    ]);
    assert_eq!(r, [vec!["!re", "=udp-timeout=10s"], vec!["!done"]]);
    // add answers the new id as ret; set and remove by it.
    let r = c.call(&[
        "/ip/firewall/filter/add",
        "=chain=forward",
        "=action=drop",
        "=comment=",
    ]);
    assert_eq!(r, [vec!["!done", "=ret=*C"]]);
    let r = c.call(&[
        "/ip/firewall/filter/set",
        "=.id=*C",
        "=comment=from the API",
    ]);
    assert_eq!(r, [vec!["!done"]]);
    let r = c.call(&[
        "/ip/firewall/filter/print",
        "?comment=from the API",
        "=.proplist=.id,action",
    ]);
    assert_eq!(r, [vec!["!re", "=.id=*C", "=action=drop"], vec!["!done"]]);
    assert_eq!(
        c.call(&["/ip/firewall/filter/remove", "=numbers=*C"]),
        [vec!["!done"]]
    );

    // Errors: RouterOS's words, a category, then !done.
    let r = c.call(&["/ip/nope/print", ".tag=4"]);
    assert_eq!(
        r,
        [
            vec![
                "!trap",
                "=category=0",
                "=message=no such command or directory (nope)",
                ".tag=4"
            ],
            vec![
                "!trap",
                "=category=0",
                "=message=no such command prefix",
                ".tag=4"
            ],
            vec!["!done", ".tag=4"]
        ]
    );
    let r = c.call(&["/ip/firewall/connection/frobnicate"]);
    assert_eq!(
        r,
        [
            vec!["!trap", "=category=0", "=message=no such command"],
            vec!["!done"]
        ]
    );
    let r = c.call(&[
        "/ip/firewall/connection/tracking/set",
        "=tcp-loose-tracking=no",
    ]);
    assert_eq!(attr(&r[0], "category"), Some("1"));
    assert_eq!(
        attr(&r[0], "message"),
        Some("unknown parameter tcp-loose-tracking; did you mean loose-tcp-tracking?")
    );
    let r = c.call(&["/ip/firewall/filter/remove", "=.id=*63"]);
    assert_eq!(attr(&r[0], "message"), Some("no such item (*63)"));
    let r = c.call(&["/ip/firewall/filter/print", "?#&"]);
    assert_eq!(attr(&r[0], "message"), Some("invalid query word ?#&"));

    // A read user reads but does not write.
    let mut v = server.login(VIEWER);
    assert_eq!(
        v.call(&["/system/identity/print"]),
        [vec!["!re", "=name=statewall"], vec!["!done"]]
    );
    let r = v.call(&["/system/identity/set", "=name=mine"]);
    assert_eq!(
        attr(&r[0], "message"),
        Some("not enough permissions: user viewer is in group read")
    );
    // /ip service lists the API's services too.
    let r = v.call(&["/ip/service/print", "=.proplist=name"]);
    assert_eq!(r.len(), 1, "no services set in tests: {r:?}");

    // /quit: !fatal, then the connection closes.
    let r = c.call(&["/quit"]);
    assert_eq!(r, [vec!["!fatal", "session terminated on request"]]);
    assert!(c.closed());
}

#[test]
fn listen_reports_new_changed_and_dead_entries_until_cancelled() {
    let server = Server::start(options());
    let mut c = server.login(ADMIN);
    c.send(&[
        "/ip/firewall/connection/listen",
        "=.proplist=protocol,dst-address",
        ".tag=l",
    ]);
    // The first look is the baseline: a connection made before it is not new. Make new ones
    // until one is reported (on a busy machine the first look may come late).
    for attempt in 0..20 {
        let syn = TcpSpec {
            sport: 41000 + attempt,
            dport: 443,
            seq: 7,
            flags: tcp_flags::SYN,
            ..TcpSpec::default()
        };
        server
            .local
            .receive(1, tcp_frame(ip("198.51.100.11"), ip("192.0.2.9"), syn));
        if c.wait_data(Duration::from_millis(500)) {
            break;
        }
    }
    let new = c.recv();
    assert_eq!(new[0], "!re");
    assert_eq!(attr(&new, "dst-address"), Some("192.0.2.9:443"));
    assert_eq!(new.last().map(String::as_str), Some(".tag=l"));
    let id = attr(&new, ".id").unwrap().to_string();

    // Removed (by another command, untagged, while the listen runs): .dead=yes.
    c.send(&["/ip/firewall/connection/remove", &format!("=.id={id}")]);
    let mut seen_done = false;
    let mut seen_dead = false;
    while !(seen_done && seen_dead) {
        let s = c.recv();
        match s[0].as_str() {
            "!done" => {
                assert_eq!(s.len(), 1, "{s:?}");
                seen_done = true;
            }
            "!re" => {
                let dead = format!("=.id={id}");
                assert_eq!(s, ["!re", dead.as_str(), "=.dead=yes", ".tag=l"]);
                seen_dead = true;
            }
            _ => panic!("{s:?}"),
        }
    }
    // /cancel: the listen is interrupted, then /cancel is done.
    c.send(&["/cancel", "=tag=l", ".tag=c"]);
    let r: Vec<Sentence> = (0..3).map(|_| c.recv()).collect();
    assert_eq!(
        r,
        [
            vec!["!trap", "=category=2", "=message=interrupted", ".tag=l"],
            vec!["!done", ".tag=l"],
            vec!["!done", ".tag=c"]
        ]
    );
    let r = c.call(&["/cancel", "=tag=l"]);
    assert_eq!(
        attr(&r[0], "message"),
        Some("no command with tag l is running")
    );
    // A listen where there is nothing to listen to.
    let r = c.call(&["/ip/settings/listen", ".tag=x"]);
    assert_eq!(attr(&r[0], "message"), Some("no such command"));
}

#[test]
fn malformed_frames_close_only_their_connection() {
    let server = Server::start(options());
    let mut good = server.login(ADMIN);
    // A reserved control byte where a length is due.
    let mut bad = server.client();
    bad.s.write_all(&[0xF8, 0, 0, 0, 0]).unwrap();
    assert_eq!(bad.recv()[0], "!fatal");
    assert!(bad.closed());
    // A word longer than the limit before login: refused on its length, unsent bytes or not.
    let mut big = server.client();
    let mut frame = Vec::new();
    wire::encode_len(100_000, &mut frame);
    big.s.write_all(&frame).unwrap();
    let fatal = big.recv();
    assert_eq!(fatal[0], "!fatal");
    assert!(
        fatal[1].starts_with("malformed sentence: word of 100000 bytes"),
        "{fatal:?}"
    );
    // Too many words in one sentence, once logged in.
    let mut many = server.login(ADMIN);
    let words: Vec<String> = std::iter::once("/ip/address/print".to_string())
        .chain((0..1100).map(|i| format!("?x{i}")))
        .collect();
    wire::write_sentence(&mut many.s, &words).unwrap();
    assert_eq!(many.recv()[0], "!fatal");
    // The server and the other connection go on.
    assert_eq!(good.call(&["/system/identity/print"]).len(), 2);
    assert_eq!(
        server
            .login(ADMIN)
            .call(&["/ip/firewall/connection/print", "=count-only="])
            .len(),
        1
    );
}

#[test]
fn timeouts_and_the_connection_limit() {
    let idle_timeout = Duration::from_millis(1500);
    let server = Server::start(Options {
        login_timeout: Duration::from_millis(300),
        idle_timeout,
        max_connections: 3,
        ..options()
    });
    let mut idle = server.client();
    assert_eq!(
        idle.recv(),
        ["!fatal", "not logged in within the login timeout"]
    );
    assert!(idle.closed());
    // Its place is given back as its task ends.
    std::thread::sleep(Duration::from_millis(100));
    let mut quiet = server.login(ADMIN);
    let mut listening = server.login(ADMIN);
    listening.send(&["/ip/firewall/connection/listen", ".tag=l"]);
    let mut third = server.login(ADMIN);
    let mut fourth = server.client();
    assert_eq!(fourth.recv(), ["!fatal", "too many connections"]);
    assert_eq!(quiet.recv(), ["!fatal", "session timed out"]);
    // A running listen keeps its session in use past the idle timeout.
    std::thread::sleep(idle_timeout / 2);
    listening.send(&["/cancel", "=tag=l"]);
    let r: Vec<Sentence> = (0..3).map(|_| listening.recv()).collect();
    assert_eq!(r[2], ["!done"], "{r:?}");
    // The third connection's silence ended it too.
    assert_eq!(third.recv(), ["!fatal", "session timed out"]);
}

/// Runs `script` with `args` under python3; its stdout as JSON. A failing script fails the test.
fn python(script: &str, args: &[String], env: &[(&str, String)]) -> String {
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn repo(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

/// The clients' driver for one case, as JSON.
fn clients(server: &Server, case: &str) -> Value {
    let args = [
        case.to_string(),
        "127.0.0.1".into(),
        server.plain.port().to_string(),
        server.tls.port().to_string(),
        ADMIN.0.into(),
        ADMIN.1.into(),
    ];
    let out = python(&repo("backend/tests/python/ros_api_clients.py"), &args, &[]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

const PY: &[&str] = &["routeros_api", "librouteros"];

#[test]
fn the_seeds_section_4_script_prints_the_tracking_settings_over_tls() {
    if !e2e::env::require_python_modules("the_seeds_section_4_script", PY) {
        return;
    }
    let server = Server::start(options());
    let env = [
        ("STATEWALL_HOST", "127.0.0.1".to_string()),
        ("STATEWALL_USER", ADMIN.0.to_string()),
        ("STATEWALL_PASSWORD", ADMIN.1.to_string()),
        ("STATEWALL_API_PORT", server.tls.port().to_string()),
    ];
    let out = python(&repo("examples/seed_section4_api.py"), &[], &env);
    assert!(
        out.starts_with("Connection Tracking Statistics:\n"),
        "{out}"
    );
    for line in [
        "  udp-timeout: 10s",
        "  icmp-timeout: 10s",
        "  tcp-established-timeout: 1d",
        "  loose-tcp-tracking: true",
        "  total-entries: 3",
        "  enabled: auto",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "{line:?} missing in:\n{out}"
        );
    }
    assert!(!out.contains("Error") && !out.contains("error"), "{out}");
}

#[test]
fn routeros_api_sets_the_udp_timeout() {
    if !e2e::env::require_python_modules("routeros_api_sets_the_udp_timeout", PY) {
        return;
    }
    let server = Server::start(options());
    let r = clients(&server, "set-udp-timeout");
    assert_eq!(r["before"], "10s");
    assert_eq!(r["after"], "30s");
    // Through the editor (the running configuration), the saved file, and the dataplane.
    let settings = server
        .state
        .config
        .read()
        .settings(&["ip", "firewall", "connection", "tracking"])
        .unwrap();
    assert!(settings.contains(&("udp-timeout".to_string(), "30s".to_string())));
    let saved = std::fs::read_to_string(server.dir.0.join("config.rsc")).unwrap();
    assert!(saved.contains("udp-timeout=30s"), "{saved}");
    assert_eq!(
        server.local.udp_timeout(),
        shared::duration::Duration::from_secs(30)
    );
}

#[test]
fn librouteros_select_where_and_count_only() {
    if !e2e::env::require_python_modules("librouteros_select_where_and_count_only", PY) {
        return;
    }
    let server = Server::start(options());
    // Two more connections from another LAN host: a TCP one to a web server, a UDP one.
    let syn = TcpSpec {
        sport: 41000,
        dport: 443,
        seq: 7,
        flags: tcp_flags::SYN,
        ..TcpSpec::default()
    };
    let (pc2, web) = (ip("198.51.100.11"), ip("192.0.2.9"));
    server.local.receive(1, tcp_frame(pc2, web, syn));
    server
        .local
        .receive(1, udp_frame(pc2, web, 5000, 123, b"ntp"));
    let r = clients(&server, "select-where");
    let tcp: Vec<(String, String, String)> = r["tcp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            assert_eq!(
                row.as_object().unwrap().len(),
                3,
                "only the selected keys: {row}"
            );
            let f = |k: &str| row[k].as_str().unwrap().to_string();
            (f("protocol"), f("src-address"), f("dst-address"))
        })
        .collect();
    assert_eq!(
        tcp,
        [
            (
                "tcp".to_string(),
                "198.51.100.10:40000".to_string(),
                "192.0.2.1:80".to_string()
            ),
            (
                "tcp".into(),
                "198.51.100.11:41000".into(),
                "192.0.2.9:443".into()
            )
        ]
    );
    assert_eq!(r["not_tcp"], serde_json::json!(["icmp", "udp", "udp"]));
    assert_eq!(
        r["in"],
        serde_json::json!(["192.0.2.1:53", "192.0.2.9:123", "198.51.100.1"])
    );
    assert_eq!(r["all"], 5);
    assert_eq!(r["count_librouteros"], serde_json::json!([{"ret": 5}]));
    assert_eq!(r["count_routeros_api"], serde_json::json!({"ret": "2"}));
    assert_eq!(
        r["tls_identity"],
        serde_json::json!([{"name": "statewall"}])
    );
}

#[test]
fn the_clients_raise_their_errors() {
    if !e2e::env::require_python_modules("the_clients_raise_their_errors", PY) {
        return;
    }
    let server = Server::start(options());
    let r = clients(&server, "errors");
    let bad_login = "invalid user name or password (6)";
    let e = &r["librouteros_wrong_password"];
    assert_eq!(e["class"], "librouteros.exceptions.TrapError", "{e}");
    assert_eq!(e["text"], bad_login);
    let e = &r["routeros_api_wrong_password"];
    assert_eq!(
        e["class"], "routeros_api.exceptions.RouterOsApiCommunicationError",
        "{e}"
    );
    assert_eq!(e["original_message"], bad_login);
    // The library's default (the pre-6.43 challenge) is refused, saying what to use.
    let e = &r["routeros_api_challenge_login"];
    assert_eq!(
        e["class"], "routeros_api.exceptions.RouterOsApiCommunicationError",
        "{e}"
    );
    assert!(
        e["original_message"]
            .as_str()
            .unwrap()
            .contains("plaintext_login=True"),
        "{e}"
    );
    let e = &r["librouteros_unknown_command"];
    assert_eq!(e["class"], "librouteros.exceptions.TrapError", "{e}");
    assert_eq!(
        (e["text"].as_str(), e["category"].as_i64()),
        (Some("no such command"), Some(0))
    );
    let e = &r["librouteros_unknown_menu"];
    assert_eq!(e["class"], "librouteros.exceptions.MultiTrapError", "{e}");
    assert_eq!(
        e["text"],
        "no such command or directory (nope), no such command prefix"
    );
    let e = &r["librouteros_bad_value"];
    assert_eq!(e["category"], 1, "{e}");
    assert!(
        e["text"]
            .as_str()
            .unwrap()
            .starts_with("invalid value for argument icmp-timeout"),
        "{e}"
    );
    assert_eq!(r["after_traps"], 3);
    let e = &r["routeros_api_unknown_command"];
    assert_eq!(
        e["class"], "routeros_api.exceptions.RouterOsApiCommunicationError",
        "{e}"
    );
    assert_eq!(e["original_message"], "no such command");
}
