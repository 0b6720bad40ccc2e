//! `statewall lab`: the router in a small network of namespaces, with PCs, servers, an ISP and
//! traffic, so the dashboard has something to show and the tests have something to test.
//!
//! A [`Lab`] is the whole thing: [`Lab::start`] builds it, [`Lab::stop`] (or dropping it)
//! removes every namespace, link and process it made, in that order: traffic and servers, the
//! router process, the namespaces.
//!
//! # Layout
//! - `netns`: entering a namespace from a thread (`setns`), commands, sysctls, offloads.
//! - `topology`: the namespaces, the LAN bridge, the veths, addresses and routes.
//! - [`config`]: the router's `.rsc` (defconf, addresses, route, port forward, hairpin) and, for
//!   `--kernel`, the nft ruleset that makes Linux do the same.
//! - `servers`: the internet's HTTP and DNS-like servers and the LAN web server.
//! - [`traffic`]: the bounded traffic mix and its counts.
//! - `forward`: `127.0.0.1:<port>` on the host → the dashboard on the lab LAN.
//! - `lock`: one lab at a time.
//! - [`cli`]: `statewall lab`.

pub mod cli;
pub mod config;
mod forward;
mod lock;
mod netns;
mod servers;
mod topology;
pub mod traffic;

use lock::LabLock;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, UdpSocket};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use traffic::Stats;

/// The prefix of the lab's namespace names. Only a lab with this prefix takes the global lock;
/// tests use [`test_prefix`].
pub const DEFAULT_PREFIX: &str = "swlab-";
/// The namespaces of the lab `statewall lab` runs.
pub const NS_RTR: &str = "swlab-rtr";
pub const NS_LAN: &str = "swlab-lan";
pub const NS_PC1: &str = "swlab-pc1";
pub const NS_PC2: &str = "swlab-pc2";
pub const NS_PC3: &str = "swlab-pc3";
pub const NS_WEB: &str = "swlab-web";
pub const NS_WAN: &str = "swlab-wan";
/// One lab at a time: the lock, holding the running lab's pid.
pub const LOCK_PATH: &str = "/run/statewall-lab.lock";

/// The router's WAN and LAN ports (RouterOS names; the defconf puts them in `WAN` and `LAN`).
pub const ROUTER_WAN_PORT: &str = "ether1";
pub const ROUTER_LAN_PORT: &str = "ether2";
/// The router's LAN address (`ether2`), the PCs' gateway; the dashboard listens here.
pub const ROUTER_LAN: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const LAN_PREFIX_LEN: u8 = 24;
/// The router's WAN address (`ether1`): what the internet sees of the LAN.
pub const ROUTER_WAN: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
pub const WAN_PREFIX_LEN: u8 = 24;
/// The ISP's side of the WAN link: the router's default gateway.
pub const ISP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
/// The PCs `swlab-pc1`…`pc3`.
pub const PC_ADDRS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(198, 51, 100, 10),
    Ipv4Addr::new(198, 51, 100, 11),
    Ipv4Addr::new(198, 51, 100, 12),
];
/// The LAN web server (`swlab-web`, port 80), reached from outside by the port forward.
pub const WEB: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);
/// The internet's web server (in `swlab-wan`): `/` and `/download?bytes=N` on port 80.
pub const INTERNET_HTTP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
/// The internet's DNS-like responder (in `swlab-wan`, UDP 53).
pub const INTERNET_DNS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);
/// The port forward: tcp `ROUTER_WAN:8080` → `WEB:80`.
pub const PORT_FORWARD_PORT: u16 = 8080;
/// Where the dashboard listens: `ROUTER_LAN:80`.
pub const DASHBOARD_PORT: u16 = 80;
/// The password of the router's `admin` user in a lab (a lab is a test bench on one machine).
pub const LAB_ADMIN_PASSWORD: &str = "statewall-lab";
/// The host port the dashboard is forwarded to by default.
pub const DEFAULT_HTTP_PORT: u16 = 8080;
/// The name the internet's web server gives in `Server:` and its page.
pub const INTERNET_SERVER_NAME: &str = "internet server 192.0.2.10";
/// The name the LAN web server gives.
pub const WEB_SERVER_NAME: &str = "LAN web server 198.51.100.20";

/// How long the router has to stop after SIGTERM before it gets SIGKILL.
const ROUTER_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long stopping waits for the lab's threads.
const THREAD_STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long [`Lab::start`] waits for statewall to answer a ping on its LAN address.
const ROUTER_READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A host of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Node {
    /// The router: ports `ether1` (WAN) and `ether2` (LAN).
    Rtr,
    /// The LAN switch: a bridge with a port to the router and one to each LAN host.
    Lan,
    Pc1,
    Pc2,
    Pc3,
    /// The LAN web server.
    Web,
    /// The ISP and the internet's servers.
    Wan,
}

impl Node {
    pub const ALL: [Node; 7] = [
        Node::Rtr,
        Node::Lan,
        Node::Pc1,
        Node::Pc2,
        Node::Pc3,
        Node::Web,
        Node::Wan,
    ];

    /// The namespace name after the prefix.
    pub fn suffix(self) -> &'static str {
        match self {
            Node::Rtr => "rtr",
            Node::Lan => "lan",
            Node::Pc1 => "pc1",
            Node::Pc2 => "pc2",
            Node::Pc3 => "pc3",
            Node::Web => "web",
            Node::Wan => "wan",
        }
    }

    /// The namespace name with a prefix.
    pub fn ns_name(self, prefix: &str) -> String {
        format!("{prefix}{}", self.suffix())
    }
}

/// Who routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterKind {
    /// `<exe> run --config <file>` inside the router's namespace.
    Statewall { exe: PathBuf },
    /// The Linux kernel, with the equivalent nft ruleset: for the side-by-side benchmark.
    Kernel,
}

/// How to start a lab.
#[derive(Debug, Clone)]
pub struct LabOptions {
    pub router: RouterKind,
    /// A `.rsc` to use instead of the generated [`config::router_rsc`] (validated first).
    pub config: Option<String>,
    /// Run the traffic mix.
    pub traffic: bool,
    /// Forward `127.0.0.1:<port>` to the dashboard (0: any free port).
    pub http_port: Option<u16>,
    /// The namespace name prefix. [`DEFAULT_PREFIX`] takes the global lock and removes a killed
    /// lab's namespaces; any other prefix (see [`test_prefix`]) skips the lock.
    pub prefix: String,
    /// Where the router's stdout and stderr go (default: the lab's own stderr).
    pub router_log: Option<PathBuf>,
}

impl LabOptions {
    /// The lab `statewall lab` runs: default prefix, traffic, the dashboard on 8080.
    pub fn new(router: RouterKind) -> LabOptions {
        LabOptions {
            router,
            config: None,
            traffic: true,
            http_port: Some(DEFAULT_HTTP_PORT),
            prefix: DEFAULT_PREFIX.to_string(),
            router_log: None,
        }
    }

    /// A lab for a test: its own prefix (so it never meets a running lab or another test), no
    /// traffic, no forwarder.
    pub fn for_test(router: RouterKind) -> LabOptions {
        LabOptions {
            traffic: false,
            http_port: None,
            prefix: test_prefix(),
            ..LabOptions::new(router)
        }
    }
}

/// `swlab-t<pid>-<n>-`: a prefix no other process and no other lab of this one uses.
pub fn test_prefix() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "swlab-t{}-{}-",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// What can go wrong with a lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("the lab needs root (it creates network namespaces)")]
    NotRoot,
    #[error("another lab is running ({}); stop it first",
        pid.map_or_else(|| "pid unknown".to_string(), |p| format!("pid {p}")))]
    AlreadyRunning { pid: Option<u32> },
    #[error("127.0.0.1:{0} is in use; pick another port with --http-port")]
    PortBusy(u16),
    #[error("the router configuration is refused:\n{0}")]
    Config(String),
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("the router process exited unexpectedly ({0})")]
    RouterExited(String),
    #[error("the router process {0}")]
    RouterStop(String),
    #[error("lab thread {name} {how}")]
    Thread { name: String, how: String },
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> LabError {
    let context = context.into();
    move |source| LabError::Io { context, source }
}

/// A running lab. Dropping it tears it down like [`Lab::stop`], logging what fails.
///
/// The router process gets SIGTERM if the thread that called [`Lab::start`] ends
/// (`PR_SET_PDEATHSIG`), so keep the lab on that thread.
pub struct Lab {
    prefix: String,
    workdir: PathBuf,
    config: String,
    config_path: PathBuf,
    /// The namespaces made, in order.
    namespaces: Vec<String>,
    stale_removed: Vec<String>,
    router: Option<Child>,
    router_exit: Option<ExitStatus>,
    stop_traffic: Arc<AtomicBool>,
    stop_servers: Arc<AtomicBool>,
    traffic: Vec<(String, JoinHandle<()>)>,
    servers: Vec<(String, JoinHandle<()>)>,
    stats: Arc<Stats>,
    http_addr: Option<SocketAddr>,
    lock: Option<LabLock>,
    down: bool,
}

impl Lab {
    /// Builds the lab and starts everything in it; on an error, removes what it made.
    pub fn start(opts: LabOptions) -> Result<Lab, LabError> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(LabError::NotRoot);
        }
        let config = opts.config.clone().unwrap_or_else(config::router_rsc);
        config::validate(&config)?;
        let lock = if opts.prefix == DEFAULT_PREFIX {
            Some(LabLock::acquire(Path::new(LOCK_PATH))?)
        } else {
            None
        };
        let listener = opts.http_port.map(forward::bind).transpose()?;
        // One per prefix: a killed lab's is reused, then removed, by the next.
        let workdir = std::env::temp_dir().join(format!("{}lab", opts.prefix));
        let mut lab = Lab {
            prefix: opts.prefix.clone(),
            config_path: workdir.join("router.rsc"),
            workdir,
            config,
            namespaces: Vec::new(),
            stale_removed: Vec::new(),
            router: None,
            router_exit: None,
            stop_traffic: Arc::new(AtomicBool::new(false)),
            stop_servers: Arc::new(AtomicBool::new(false)),
            traffic: Vec::new(),
            servers: Vec::new(),
            stats: Arc::new(Stats::default()),
            http_addr: None,
            lock,
            down: false,
        };
        // From here on, an early return drops `lab`, which removes what was made.
        lab.remove_stale()?;
        let prefix = lab.prefix.clone();
        let ns = move |n: Node| n.ns_name(&prefix);
        let kernel = opts.router == RouterKind::Kernel;
        topology::build(&ns, &mut lab.namespaces, kernel)?;
        std::fs::create_dir_all(&lab.workdir).map_err(io_error("creating the lab's directory"))?;
        std::fs::write(&lab.config_path, &lab.config)
            .map_err(io_error(format!("writing {}", lab.config_path.display())))?;
        lab.start_servers()?;
        if let RouterKind::Statewall { exe } = &opts.router {
            lab.spawn_router(exe, opts.router_log.as_deref())?;
            if !lab.wait_ready(ROUTER_READY_TIMEOUT)? {
                tracing::warn!(
                    "the router does not answer ping on {ROUTER_LAN} after {}s; going on",
                    ROUTER_READY_TIMEOUT.as_secs()
                );
            }
        }
        if let Some(listener) = listener {
            lab.http_addr = listener.local_addr().ok();
            let from = ns(Node::Pc1);
            let target = SocketAddr::from(SocketAddrV4::new(ROUTER_LAN, DASHBOARD_PORT));
            let stop = lab.stop_servers.clone();
            lab.spawn_thread("forwarder", move || {
                forward::run(listener, move || forward::connect_from(&from, target), stop)
            })?;
        }
        if opts.traffic {
            lab.traffic = traffic::start(&ns, &lab.stop_traffic, &lab.stats)
                .map_err(io_error("starting the traffic"))?;
        }
        Ok(lab)
    }

    /// Removes the namespaces a killed lab with the same prefix left.
    fn remove_stale(&mut self) -> Result<(), LabError> {
        let prefix = self.prefix.clone();
        let stale = topology::existing(&|n| n.ns_name(&prefix));
        if stale.is_empty() {
            return Ok(());
        }
        tracing::info!(
            "removing namespaces left by an earlier lab: {}",
            stale.join(" ")
        );
        if let Some(e) = topology::remove(&stale).into_iter().next() {
            return Err(e);
        }
        self.stale_removed = stale;
        Ok(())
    }

    fn spawn_thread(
        &mut self,
        name: &str,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<(), LabError> {
        let handle = thread::Builder::new()
            .name(name.to_string())
            .spawn(f)
            .map_err(io_error(format!("starting thread {name}")))?;
        self.servers.push((name.to_string(), handle));
        Ok(())
    }

    /// The internet's HTTP and DNS-like servers and the LAN web server. Each socket is made
    /// inside its namespace; the threads that serve them need not be.
    fn start_servers(&mut self) -> Result<(), LabError> {
        let (wan, web) = (self.ns(Node::Wan), self.ns(Node::Web));
        let bind_tcp = |ns: &str, addr: Ipv4Addr, port: u16| {
            netns::run_in(ns, || TcpListener::bind((addr, port)))
                .and_then(|r| r)
                .map_err(io_error(format!("listening on {addr}:{port} in {ns}")))
        };
        let internet = bind_tcp(&wan, INTERNET_HTTP, 80)?;
        let lan_web = bind_tcp(&web, WEB, 80)?;
        let dns = netns::run_in(&wan, || UdpSocket::bind((INTERNET_DNS, 53)))
            .and_then(|r| r)
            .map_err(io_error(format!("binding {INTERNET_DNS}:53 in {wan}")))?;
        let stop = self.stop_servers.clone();
        self.spawn_thread("http-internet", move || {
            servers::serve_http(internet, INTERNET_SERVER_NAME, stop)
        })?;
        let stop = self.stop_servers.clone();
        self.spawn_thread("http-lan-web", move || {
            servers::serve_http(lan_web, WEB_SERVER_NAME, stop)
        })?;
        let stop = self.stop_servers.clone();
        self.spawn_thread("dns-internet", move || servers::serve_dns(dns, stop))
    }

    /// `ip netns exec <rtr> <exe> run --config <file> --replace-config --state-dir <dir>`, in
    /// its own process group (a Ctrl-C on the terminal reaches only the lab, which stops the
    /// router in order), with SIGTERM if the lab dies. The lab's own state directory and
    /// `--replace-config` make every lab start from its configuration; `admin`'s password is
    /// [`LAB_ADMIN_PASSWORD`].
    fn spawn_router(&mut self, exe: &Path, log: Option<&Path>) -> Result<(), LabError> {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns(Node::Rtr)])
            .arg(exe)
            .args(["run", "--config"])
            .arg(&self.config_path)
            .arg("--replace-config")
            .arg("--state-dir")
            .arg(self.workdir.join("state"))
            .env(crate::run::ADMIN_PASSWORD_ENV, LAB_ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .process_group(0);
        if let Some(log) = log {
            let file = std::fs::File::create(log)
                .map_err(io_error(format!("creating {}", log.display())))?;
            let err = file
                .try_clone()
                .map_err(io_error(format!("opening {}", log.display())))?;
            cmd.stdout(file).stderr(err);
        }
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(io_error(format!("starting {} run", exe.display())))?;
        tracing::info!(pid = child.id(), "router started");
        self.router = Some(child);
        Ok(())
    }

    /// Waits until the router answers a ping from pc1 on its LAN address: true if it did
    /// within `timeout`. An error if the router process exits meanwhile.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<bool, LabError> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check()?;
            let ping = self.exec(
                Node::Pc1,
                &[
                    "ping",
                    "-n",
                    "-q",
                    "-c",
                    "1",
                    "-W",
                    "1",
                    &ROUTER_LAN.to_string(),
                ],
            )?;
            if ping.status.success() {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
        }
    }

    /// The namespace of a node.
    pub fn ns(&self, node: Node) -> String {
        node.ns_name(&self.prefix)
    }

    /// Runs a command in a node's namespace (`ip netns exec`) and returns its output, whatever
    /// its exit status.
    pub fn exec(&self, node: Node, argv: &[&str]) -> Result<Output, LabError> {
        Command::new("ip")
            .args(["netns", "exec", &self.ns(node)])
            .args(argv)
            .stdin(Stdio::null())
            .output()
            .map_err(io_error(format!("running {}", argv.join(" "))))
    }

    /// Runs `f` on a thread inside a node's namespace and returns its result (a panic in `f`
    /// is resumed on the caller's thread). Sockets `f` makes stay in that namespace.
    pub fn in_ns<T: Send>(&self, node: Node, f: impl FnOnce() -> T + Send) -> Result<T, LabError> {
        let ns = self.ns(node);
        netns::run_in(&ns, f).map_err(io_error(format!("entering {ns}")))
    }

    /// The router process's pid (none when the kernel routes).
    pub fn router_pid(&self) -> Option<u32> {
        self.router.as_ref().map(Child::id)
    }

    /// Where the forwarder to the dashboard listens.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The router's configuration, and the file `statewall run` reads it from.
    pub fn config(&self) -> &str {
        &self.config
    }

    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The namespaces a killed lab had left, removed by [`Lab::start`].
    pub fn stale_removed(&self) -> &[String] {
        &self.stale_removed
    }

    /// The traffic's counts (they stay readable after the lab stops).
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// An error if part of the lab has died: the router process exited, or a thread ended or
    /// panicked.
    pub fn check(&mut self) -> Result<(), LabError> {
        if let Some(child) = &mut self.router {
            if self.router_exit.is_none() {
                self.router_exit = child
                    .try_wait()
                    .map_err(io_error("waiting for the router"))?;
            }
        }
        if let Some(status) = self.router_exit {
            return Err(LabError::RouterExited(status.to_string()));
        }
        for list in [&mut self.traffic, &mut self.servers] {
            if let Some(i) = list.iter().position(|(_, h)| h.is_finished()) {
                let (name, handle) = list.remove(i);
                let how = match handle.join() {
                    Ok(()) => "ended".to_string(),
                    Err(panic) => format!("panicked: {}", panic_message(&*panic)),
                };
                return Err(LabError::Thread { name, how });
            }
        }
        Ok(())
    }

    /// Stops everything and removes the namespaces. An error if something could not be
    /// removed, a thread panicked, or the router did not exit cleanly on SIGTERM.
    pub fn stop(mut self) -> Result<(), LabError> {
        match self.teardown().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Traffic, then servers, then the router, then the namespaces; every step is tried.
    fn teardown(&mut self) -> Vec<LabError> {
        if self.down {
            return Vec::new();
        }
        self.down = true;
        let mut errors = Vec::new();
        self.stop_traffic.store(true, Ordering::Relaxed);
        join_all(std::mem::take(&mut self.traffic), &mut errors);
        self.stop_servers.store(true, Ordering::Relaxed);
        join_all(std::mem::take(&mut self.servers), &mut errors);
        if let Some(child) = self.router.take() {
            let exited_before = self.router_exit.is_some();
            match stop_router(child) {
                // Ending on the SIGTERM itself (no handler) is a clean stop too.
                Ok(status) if status.success() || status.signal() == Some(libc::SIGTERM) => {}
                Ok(_) if exited_before => {}
                Ok(status) => errors.push(LabError::RouterStop(format!(
                    "did not exit cleanly on SIGTERM ({status})"
                ))),
                Err(e) => errors.push(e),
            }
        }
        errors.extend(topology::remove(&self.namespaces));
        self.namespaces.clear();
        if self.workdir.exists() {
            if let Err(e) = std::fs::remove_dir_all(&self.workdir) {
                errors.push(io_error(format!("removing {}", self.workdir.display()))(e));
            }
        }
        self.lock = None;
        errors
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for e in self.teardown() {
            tracing::warn!("stopping the lab: {e}");
        }
    }
}

/// Joins threads, all within [`THREAD_STOP_TIMEOUT`]; one that does not end is left running
/// (its sockets time out by themselves).
fn join_all(threads: Vec<(String, JoinHandle<()>)>, errors: &mut Vec<LabError>) {
    let deadline = Instant::now() + THREAD_STOP_TIMEOUT;
    for (name, handle) in threads {
        while !handle.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        if !handle.is_finished() {
            tracing::warn!("lab thread {name} did not stop; leaving it");
            continue;
        }
        if let Err(panic) = handle.join() {
            errors.push(LabError::Thread {
                name,
                how: format!("panicked: {}", panic_message(&*panic)),
            });
        }
    }
}

/// SIGTERM by pid, then SIGKILL after [`ROUTER_STOP_TIMEOUT`]. The child is not yet reaped
/// while we signal it, so neither its pid nor its process group can have been reused.
fn stop_router(mut child: Child) -> Result<ExitStatus, LabError> {
    let wait_err = io_error("waiting for the router");
    if let Some(status) = child
        .try_wait()
        .map_err(io_error("waiting for the router"))?
    {
        return Ok(status);
    }
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on our own unreaped child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + ROUTER_STOP_TIMEOUT;
    while Instant::now() < deadline {
        if let Some(status) = child
            .try_wait()
            .map_err(io_error("waiting for the router"))?
        {
            return Ok(status);
        }
        thread::sleep(Duration::from_millis(50));
    }
    tracing::warn!(pid, "the router did not stop on SIGTERM; sending SIGKILL");
    // To its process group (its own, see `spawn_router`): whatever it started goes too.
    // SAFETY: kill(2) on the group our unreaped child leads.
    if unsafe { libc::kill(-pid, libc::SIGKILL) } != 0 {
        child.kill().map_err(io_error("killing the router"))?;
    }
    let status = child.wait().map_err(wait_err)?;
    Err(LabError::RouterStop(format!(
        "did not stop within {}s of SIGTERM and was killed ({status})",
        ROUTER_STOP_TIMEOUT.as_secs()
    )))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_namespace_names_are_the_prefix_and_the_node() {
        let consts = [NS_RTR, NS_LAN, NS_PC1, NS_PC2, NS_PC3, NS_WEB, NS_WAN];
        for (node, name) in Node::ALL.into_iter().zip(consts) {
            assert_eq!(node.ns_name(DEFAULT_PREFIX), name);
        }
    }

    #[test]
    fn test_prefixes_differ_and_are_not_the_default() {
        let (a, b) = (test_prefix(), test_prefix());
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("swlab-t{}-", std::process::id())));
        // No test lab's namespace is one of the default lab's, so stale removal never meets it.
        for node in Node::ALL {
            assert!(!Node::ALL
                .iter()
                .any(|&m| m.ns_name(DEFAULT_PREFIX) == node.ns_name(&a)));
        }
    }

    #[test]
    fn the_refusal_names_the_running_labs_pid() {
        let e = LabError::AlreadyRunning { pid: Some(4242) };
        assert_eq!(
            e.to_string(),
            "another lab is running (pid 4242); stop it first"
        );
    }
}
