//! `statewall run` in the network-namespace lab (`backend::lab`), for tests that send real
//! traffic through it: finding the binary, starting a lab with a configuration and commands to
//! run in the router's namespace before the router starts, commands with readable failures, the
//! router's log, small TCP servers inside the lab, HTTP through the router, and the kernel's
//! SNMP counters.
//!
//! When a test panics while it holds a [`RouterLab`], the router's log is printed before the lab
//! is taken down, so a failure shows what the router said.

use backend::lab::{Lab, LabOptions, Node, RouterKind};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long socket reads and writes of the helpers may block.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the router's log is printed back on a failure (its last lines).
const LOG_TAIL_LINES: usize = 60;

/// The `statewall` binary of the profile the tests run under (`<target>/<profile>/statewall`,
/// next to the test's `deps/` folder). Under cargo (`CARGO` set) it is brought up to date once
/// per test process with `cargo build -p backend --bin statewall`: a no-op after `cargo test
/// --workspace`, and after `cargo test -p e2e` (which builds the library, not the binary) it
/// keeps the tests from running a stale or missing router.
pub fn statewall_exe() -> PathBuf {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let test_exe = std::env::current_exe().expect("the test executable's path");
        // <target>/<profile>/deps/<test>-<hash>
        let profile_dir = test_exe
            .parent()
            .and_then(Path::parent)
            .expect("the test executable lies in <target>/<profile>/deps");
        let exe = profile_dir.join("statewall");
        let Ok(cargo) = std::env::var("CARGO") else {
            assert!(exe.exists(), "{} is missing: build it first", exe.display());
            return exe;
        };
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "backend", "--bin", "statewall"]);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            cmd.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            cmd.env("CARGO_TARGET_DIR", target);
        }
        let status = cmd
            .status()
            .expect("cargo runs to build the statewall binary");
        assert!(
            status.success() && exe.exists(),
            "building {} failed ({status})",
            exe.display()
        );
        exe
    })
    .clone()
}

/// What to start: the router's configuration and what to do in its namespace before it runs.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// The `.rsc` (default: `backend::lab::config::router_rsc()`).
    pub config: Option<String>,
    /// Shell command lines run in the router's namespace just before `statewall run` starts,
    /// e.g. a port's MTU, which the router reads when it opens the port.
    pub before_router: Vec<String>,
}

/// A lab with `statewall run` as the router, its log kept in a file.
pub struct RouterLab {
    pub lab: Lab,
    log: PathBuf,
    wrapper: PathBuf,
}

impl RouterLab {
    /// Starts the lab (panicking with the reason if it cannot), with the router's log at `info`
    /// so firewall `log=yes` lines are in it.
    pub fn start(setup: Setup) -> RouterLab {
        let exe = statewall_exe();
        let prefix = backend::lab::test_prefix();
        let dir = std::env::temp_dir();
        let log = dir.join(format!("{prefix}router.log"));
        // `ip netns exec <rtr> <wrapper> run --config …`: the commands, then the router (same
        // pid, so the lab stops it as it would stop the binary).
        let wrapper = dir.join(format!("{prefix}router.sh"));
        let mut script = String::from("#!/bin/sh\nset -e\n");
        for line in &setup.before_router {
            script.push_str(line);
            script.push('\n');
        }
        script.push_str(&format!(
            "NO_COLOR=1 RUST_LOG=info exec '{}' \"$@\"\n",
            exe.display()
        ));
        std::fs::write(&wrapper, script).expect("writing the router's start script");
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
            .expect("making the start script executable");
        let opts = LabOptions {
            config: setup.config,
            prefix,
            router_log: Some(log.clone()),
            ..LabOptions::for_test(RouterKind::Statewall {
                exe: wrapper.clone(),
            })
        };
        let started = Lab::start(opts);
        let lab = match started {
            Ok(lab) => lab,
            Err(e) => {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let _ = std::fs::remove_file(&log);
                let _ = std::fs::remove_file(&wrapper);
                panic!("the lab did not start: {e}\nrouter log:\n{text}");
            }
        };
        let mut rl = RouterLab { lab, log, wrapper };
        // `Lab::start` goes on if the router does not answer in time; a test should not.
        if let Err(e) = rl.lab.check() {
            panic!("the lab is broken after start: {e}");
        }
        rl.ping_ok(Node::Pc1, backend::lab::ROUTER_LAN);
        rl
    }

    /// The namespace of a node.
    pub fn ns(&self, node: Node) -> String {
        self.lab.ns(node)
    }

    /// Runs a command in a node's namespace; its output whatever its exit status.
    pub fn run(&self, node: Node, argv: &[&str]) -> Output {
        self.lab
            .exec(node, argv)
            .unwrap_or_else(|e| panic!("{}: {e}", shown(node, argv)))
    }

    /// Runs a command in a node's namespace and returns its stdout; panics with the command,
    /// its status, stdout and stderr if it fails.
    pub fn run_ok(&self, node: Node, argv: &[&str]) -> String {
        let out = self.run(node, argv);
        assert!(
            out.status.success(),
            "failed: {}",
            describe(node, argv, &out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ping -c 1 -W 2` from `node`, panicking with its output if no reply came.
    pub fn ping_ok(&self, node: Node, to: std::net::Ipv4Addr) {
        let to = to.to_string();
        self.run_ok(node, &["ping", "-n", "-c", "1", "-W", "2", &to]);
    }

    /// What the router has written so far.
    pub fn router_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The router's log lines containing every one of `words`, waiting up to `timeout` for at
    /// least one (firewall log lines are written between packets, every 100 ms).
    pub fn log_lines_with(&self, words: &[&str], timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines: Vec<String> = self
                .router_log()
                .lines()
                .filter(|l| words.iter().all(|w| l.contains(w)))
                .map(str::to_string)
                .collect();
            if !lines.is_empty() || Instant::now() >= deadline {
                return lines;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Panics if the router process has exited or a lab thread died.
    pub fn check(&mut self) {
        if let Err(e) = self.lab.check() {
            panic!("the lab broke: {e}");
        }
    }

    /// Runs `f` on a thread inside a node's namespace.
    pub fn in_ns<T: Send>(&self, node: Node, f: impl FnOnce() -> T + Send) -> T {
        self.lab
            .in_ns(node, f)
            .unwrap_or_else(|e| panic!("entering {:?}: {e}", node))
    }
}

impl Drop for RouterLab {
    fn drop(&mut self) {
        if thread::panicking() {
            let log = self.router_log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
            eprintln!(
                "---- the router's log (last {} lines) ----\n{}\n----",
                tail.len(),
                tail.join("\n")
            );
        }
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_file(&self.wrapper);
        // `lab` drops next and tears the namespaces down.
    }
}

fn shown(node: Node, argv: &[&str]) -> String {
    format!("[{}] {}", node.suffix(), argv.join(" "))
}

/// A command, its exit status and its output, for a failure message.
pub fn describe(node: Node, argv: &[&str], out: &Output) -> String {
    format!(
        "`{}` ({})\nstdout:\n{}\nstderr:\n{}",
        shown(node, argv),
        out.status,
        String::from_utf8_lossy(&out.stdout).trim_end(),
        String::from_utf8_lossy(&out.stderr).trim_end()
    )
}

/// A TCP server inside the lab: a listener made in a node's namespace, a thread that hands each
/// connection to a handler and records who connected. Stops (within 50 ms) when dropped.
pub struct TcpServer {
    stop: Arc<AtomicBool>,
    peers: Arc<Mutex<Vec<SocketAddr>>>,
    thread: Option<JoinHandle<()>>,
}

impl TcpServer {
    /// Listens on `addr` in `node`'s namespace; each connection is handled in turn by
    /// `handler` (with [`IO_TIMEOUT`] on its reads and writes).
    pub fn start(
        lab: &RouterLab,
        node: Node,
        addr: SocketAddrV4,
        handler: impl Fn(TcpStream) -> io::Result<()> + Send + 'static,
    ) -> TcpServer {
        let listener = lab
            .in_ns(node, || TcpListener::bind(addr))
            .unwrap_or_else(|e| panic!("listening on {addr} in {:?}: {e}", node));
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let peers = Arc::new(Mutex::new(Vec::new()));
        let (stop2, peers2) = (stop.clone(), peers.clone());
        let thread = thread::Builder::new()
            .name(format!("e2e-server-{addr}"))
            .spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, peer)) => {
                            peers2.lock().unwrap_or_else(|e| e.into_inner()).push(peer);
                            let _ = stream
                                .set_nonblocking(false)
                                .and_then(|()| stream.set_read_timeout(Some(IO_TIMEOUT)))
                                .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
                                .and_then(|()| handler(stream));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
            .expect("starting a server thread");
        TcpServer {
            stop,
            peers,
            thread: Some(thread),
        }
    }

    /// Who has connected so far.
    pub fn peers(&self) -> Vec<SocketAddr> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An HTTP response: the head (status line and headers) and the body.
#[derive(Debug)]
pub struct Response {
    pub head: String,
    pub body: Vec<u8>,
    /// The client's own address (inside its namespace).
    pub local: SocketAddr,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The address the server saw the client come from (`X-Client:`, lab servers only).
    pub fn seen_client(&self) -> Option<SocketAddr> {
        self.header("X-Client")?.parse().ok()
    }

    /// Status 200, from the lab server `server`, which saw the client come from `client`.
    pub fn check(&self, server: &str, client: std::net::Ipv4Addr) -> Result<(), String> {
        backend::lab::traffic::check_page(self.head.as_bytes(), server, client)
            .map_err(|e| format!("{e}; head:\n{}", self.head.trim_end()))
    }
}

/// `GET path` over a new TCP connection from `node` to `addr`, read to the end (at most
/// `max_body` bytes of body). Every step bounded by [`IO_TIMEOUT`].
pub fn http_get(
    lab: &RouterLab,
    node: Node,
    addr: SocketAddrV4,
    path: &str,
    max_body: u64,
) -> io::Result<Response> {
    lab.in_ns(node, || {
        let mut s = TcpStream::connect_timeout(&addr.into(), IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        let local = s.local_addr()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
        let mut all = Vec::new();
        s.take(max_body + 4096).read_to_end(&mut all)?;
        let end = all
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| i + 4)
            .ok_or_else(|| {
                io::Error::other(format!(
                    "no complete response head in {} bytes: {:?}",
                    all.len(),
                    String::from_utf8_lossy(&all[..all.len().min(200)])
                ))
            })?;
        let body = all.split_off(end);
        Ok(Response {
            head: String::from_utf8_lossy(&all).into_owned(),
            body,
            local,
        })
    })
}

/// The kernel's SNMP counters of a node's namespace (`/proc/net/snmp`), as `("Tcp",
/// "OutRsts") → value`.
pub fn snmp(lab: &RouterLab, node: Node) -> std::collections::BTreeMap<(String, String), i64> {
    let text = lab.run_ok(node, &["cat", "/proc/net/snmp"]);
    parse_snmp(&text)
}

/// Parses `/proc/net/snmp`: pairs of lines, names then values, both starting with `Proto:`.
pub fn parse_snmp(text: &str) -> std::collections::BTreeMap<(String, String), i64> {
    let mut out = std::collections::BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.chunks(2) {
        let [names, values] = pair else { continue };
        let (Some((proto, names)), Some((_, values))) =
            (names.split_once(':'), values.split_once(':'))
        else {
            continue;
        };
        for (n, v) in names.split_whitespace().zip(values.split_whitespace()) {
            if let Ok(v) = v.parse() {
                out.insert((proto.to_string(), n.to_string()), v);
            }
        }
    }
    out
}

/// Loads an nft script (`nft -f -`) in a node's namespace; panics with nft's message if it is
/// refused. Counters in it are read back with [`nft_counter`].
pub fn nft(lab: &RouterLab, node: Node, script: &str) {
    let ns = lab.ns(node);
    let argv = ["nft", "-f", "-"];
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns])
        .args(argv)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("nft starts");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes()).expect("writing to nft");
    }
    let out = child.wait_with_output().expect("nft ends");
    assert!(
        out.status.success(),
        "failed: {}\nscript:\n{script}",
        describe(node, &argv, &out)
    );
}

/// The packets counted by the nft rule with `comment "<comment>"` in `table` (`"ip e2e"`).
pub fn nft_counter(lab: &RouterLab, node: Node, table: &str, comment: &str) -> u64 {
    let mut argv = vec!["nft", "list", "table"];
    argv.extend(table.split_whitespace());
    let listing = lab.run_ok(node, &argv);
    let tag = format!("comment \"{comment}\"");
    listing
        .lines()
        .find(|l| l.contains(&tag))
        .and_then(|l| l.split("packets ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no counter {comment:?} in {table}:\n{listing}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snmp_pairs_of_lines_parse() {
        let text = "Ip: Forwarding DefaultTTL\nIp: 2 64\n\
                    Icmp: InMsgs OutDestUnreachs\nIcmp: 3 1\n\
                    Tcp: RtoAlgorithm MaxConn OutRsts\nTcp: 1 -1 7\n";
        let m = parse_snmp(text);
        assert_eq!(m[&("Tcp".into(), "OutRsts".into())], 7);
        assert_eq!(m[&("Tcp".into(), "MaxConn".into())], -1);
        assert_eq!(m[&("Icmp".into(), "OutDestUnreachs".into())], 1);
        assert_eq!(m.len(), 7);
    }
}
