//! `statewall run [--config FILE.rsc]`: the router on the host's real interfaces.
//!
//! Start-up first reads what it keeps in the state directory (the saved configuration, or
//! `--config`'s file to seed it; the users) and opens the API's listeners (HTTP, HTTPS with its
//! certificate, made on the first start unless given, and the binary API plain and over TLS with
//! the same certificate), so that a mistake there stops it
//! before the host is touched. Then it checks each port the configuration names
//! (GRO/LRO off, no kernel addresses, IPv6 and kernel ARP off on it), loads a kernel guard so the
//! host stack never handles what arrives on the ports, opens them, and puts the router's
//! addresses on a TUN device so the host's own services answer on them, behind the input chain.
//! The management API ([`crate::api`]) runs on its own threads (a tokio runtime) in the same
//! network namespace, reachable at the router's addresses like any of those services. Everything
//! it changed on the host is undone on SIGINT/SIGTERM.

use crate::api::{self, AppState};
use crate::engine::{Engine, HostSink, Msg};
use crate::ros_api;
use crate::store::{Origin, Store, StoreError};
use crate::tls::{self, TlsError};
use crate::users::{self, Users, UsersError};
use dataplane::drivers::live::{self, KernelGuard, OpenOptions, PortError, Tun};
use dataplane::pipeline::{Options, Router};
use shared::config::RouterConfig;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::rustls::ServerConfig;

/// Where the first start's admin password may come from, besides `--admin-password-file`.
pub const ADMIN_PASSWORD_ENV: &str = "STATEWALL_ADMIN_PASSWORD";

#[derive(clap::Args)]
pub struct Args {
    /// A configuration to start from: a RouterOS script (`.rsc`), as `/export` writes it.
    ///
    /// When --state-dir holds no saved configuration yet, FILE is checked, saved there and run.
    /// Once one is saved, the saved one wins (it has every change made through the API) and
    /// FILE is ignored, unless --replace-config is given.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Start from --config's FILE even though a configuration is saved: FILE replaces it (the
    /// saved one is kept as config.rsc.bak).
    #[arg(long, requires = "config")]
    pub replace_config: bool,
    /// Where statewall keeps its state: config.rsc (the configuration, written atomically, with
    /// the previous copy as config.rsc.bak), users.json (users and password hashes), identity,
    /// scheduler.rsc (/system scheduler), backups/ (export files), tls/ (the self-signed
    /// certificate).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/statewall")]
    pub state_dir: PathBuf,
    /// On first start (no users saved yet), the password of the user `admin`: the first line
    /// of FILE. Else the STATEWALL_ADMIN_PASSWORD environment variable; without either the
    /// first start is refused (there is no default password). Ignored once users are saved.
    #[arg(long, value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,
    /// Where the HTTP API (RouterOS REST under /rest, HTTP Basic logins) listens, in the
    /// router's network namespace: 0.0.0.0 answers on every address of the router (and of the
    /// host's stack), behind the input chain.
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:80")]
    pub http_listen: SocketAddr,
    /// Where the HTTPS API (www-ssl: the same API over TLS) listens; `none` turns it off.
    #[arg(long, value_name = "ADDR:PORT|none", default_value = "0.0.0.0:443")]
    pub https_listen: Listen,
    /// Where the binary API (`api`, RouterOS's port 8728: the same commands as REST, for
    /// API clients such as routeros_api and librouteros) listens; `none` turns it off.
    #[arg(long, value_name = "ADDR:PORT|none", default_value = "0.0.0.0:8728")]
    pub api_listen: Listen,
    /// Where the binary API over TLS (`api-ssl`, port 8729, with the HTTPS certificate)
    /// listens; `none` turns it off.
    #[arg(long, value_name = "ADDR:PORT|none", default_value = "0.0.0.0:8729")]
    pub api_ssl_listen: Listen,
    /// The HTTPS certificate chain (PEM). Without --tls-cert and --tls-key, a self-signed
    /// certificate (for the router's identity and addresses) is made on the first start and
    /// kept in the state directory as tls/cert.pem and tls/key.pem.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// How many export files backups/ keeps (what scheduled backups and /export file= write);
    /// the oldest beyond are removed.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_backups: u32,
    /// The TUN device that carries the router's addresses for its own services.
    #[arg(long, default_value = "statewall0")]
    pub tun: String,
    /// Connection-table size.
    #[arg(long, default_value_t = 262_144)]
    pub max_connections: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Users(#[from] UsersError),
    #[error("HTTP API on {addr}: {source}")]
    Http {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("binary API on {addr}: {source}")]
    Api {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTPS: {0}")]
    Tls(#[from] TlsError),
    #[error("the configuration names no interfaces: add /ip address entries for the ports")]
    NoPorts,
    #[error("{0}")]
    Port(#[from] PortError),
    #[error("starting threads: {0}")]
    Threads(std::io::Error),
    #[error("installing signal handlers: {0}")]
    Signals(std::io::Error),
}

/// A seed for the NAT port search that differs from run to run.
fn random_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ (u64::from(std::process::id()) << 32)
}

/// A listen address, or `none` (the service is off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen(pub Option<SocketAddr>);

impl std::str::FromStr for Listen {
    type Err = std::net::AddrParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Listen(None)),
            _ => s.parse().map(|a| Listen(Some(a))),
        }
    }
}

/// The management API's threads, listeners and TLS configuration, all opened before anything
/// on the host changes.
struct Api {
    runtime: tokio::runtime::Runtime,
    http: (TcpListener, SocketAddr),
    https: Option<(TcpListener, SocketAddr)>,
    /// The binary API, plain and over TLS.
    api: Option<(TcpListener, SocketAddr)>,
    api_ssl: Option<(TcpListener, SocketAddr)>,
    /// The certificate of HTTPS and api-ssl (loaded when either is on).
    tls: Option<(Arc<ServerConfig>, tls::Source)>,
}

impl Api {
    fn bind(args: &Args, store: &Store, cfg: &RouterConfig) -> Result<Api, RunError> {
        let http_error = |addr| move |source| RunError::Http { addr, source };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sw-http")
            .enable_all()
            .build()
            .map_err(http_error(args.http_listen))?;
        let bind = |addr: SocketAddr| -> Result<(TcpListener, SocketAddr), RunError> {
            let listener = runtime
                .block_on(TcpListener::bind(addr))
                .map_err(http_error(addr))?;
            let local = listener.local_addr().map_err(http_error(addr))?;
            Ok((listener, local))
        };
        let http = bind(args.http_listen)?;
        let tls = if args.https_listen.0.is_some() || args.api_ssl_listen.0.is_some() {
            let given = args.tls_cert.as_deref().zip(args.tls_key.as_deref());
            let identity = api::load_identity(store)?;
            let addresses: Vec<IpAddr> = cfg
                .addresses
                .iter()
                .map(|a| IpAddr::V4(a.address))
                .collect();
            let (config, source) = tls::load(store, given, &identity, &addresses)?;
            if let tls::Source::SelfSigned {
                cert,
                created: true,
            } = &source
            {
                tracing::info!(
                    cert = %cert.display(),
                    "first start: self-signed certificate made for {identity} and the router's addresses"
                );
            }
            Some((config, source))
        } else {
            None
        };
        let https = args.https_listen.0.map(bind).transpose()?;
        let bind_api = |addr: SocketAddr| {
            bind(addr).map_err(|e| match e {
                RunError::Http { addr, source } => RunError::Api { addr, source },
                other => other,
            })
        };
        let api = args.api_listen.0.map(bind_api).transpose()?;
        let api_ssl = args.api_ssl_listen.0.map(bind_api).transpose()?;
        Ok(Api {
            runtime,
            http,
            https,
            api,
            api_ssl,
            tls,
        })
    }

    /// Serves HTTP, HTTPS and the binary API (plain and TLS), and runs the scheduler, until
    /// [`Serving::stop`].
    fn serve(self, mut state: AppState, keep_backups: usize) -> Serving {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let stopping = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.changed().await;
            }
        };
        let (listener, addr) = self.http;
        let certificate = self
            .tls
            .as_ref()
            .map_or_else(|| "none".to_string(), |(_, source)| source.describe());
        state.services = Arc::new(vec![
            api::Service::www(Some(addr)),
            api::Service::www_ssl(self.https.as_ref().map(|h| h.1), certificate.clone()),
            api::Service::api(self.api.as_ref().map(|a| a.1)),
            api::Service::api_ssl(self.api_ssl.as_ref().map(|a| a.1), certificate.clone()),
        ]);
        state.scheduler.set_keep_backups(keep_backups);
        let mut tasks = vec![(
            "HTTP",
            self.runtime
                .spawn(api::serve(listener, state.clone(), stopping())),
        )];
        tracing::info!(listen = %addr, "HTTP API: RouterOS REST at http://{addr}/rest");
        if let (Some((listener, addr)), Some((config, _))) = (self.https, &self.tls) {
            let app = api::app(state.clone());
            tasks.push((
                "HTTPS",
                self.runtime
                    .spawn(tls::serve(listener, config.clone(), app, stopping())),
            ));
            tracing::info!(
                listen = %addr,
                certificate = %certificate,
                "HTTPS API: RouterOS REST at https://{addr}/rest"
            );
        }
        if let Some((listener, addr)) = self.api {
            let serving = ros_api::serve(
                listener,
                None,
                state.clone(),
                ros_api::Options::default(),
                stopping(),
            );
            tasks.push(("API", self.runtime.spawn(serving)));
            tracing::info!(listen = %addr, "binary API (api) on {addr}");
        }
        if let (Some((listener, addr)), Some((config, _))) = (self.api_ssl, &self.tls) {
            let serving = ros_api::serve(
                listener,
                Some(ros_api::tls_config(config)),
                state.clone(),
                ros_api::Options::default(),
                stopping(),
            );
            tasks.push(("API-SSL", self.runtime.spawn(serving)));
            tracing::info!(
                listen = %addr,
                certificate = %certificate,
                "binary API over TLS (api-ssl) on {addr}"
            );
        }
        let scheduler = self.runtime.spawn(api::run_scheduler(state));
        Serving {
            runtime: self.runtime,
            tasks,
            scheduler,
            stop,
        }
    }
}

struct Serving {
    runtime: tokio::runtime::Runtime,
    tasks: Vec<(&'static str, tokio::task::JoinHandle<std::io::Result<()>>)>,
    scheduler: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Serving {
    /// Stops taking requests; those in flight get a few seconds to finish.
    fn stop(self) {
        let _ = self.stop.send(true);
        self.scheduler.abort();
        for (name, task) in self.tasks {
            let ended = self
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(6), task).await });
            match ended {
                Ok(Ok(Err(e))) => tracing::warn!(error = %e, "{name} API"),
                Err(_) => tracing::warn!("{name} API: requests still running; dropped"),
                _ => {}
            }
        }
        self.runtime.shutdown_timeout(Duration::from_secs(1));
    }
}

pub fn run(args: &Args) -> Result<(), RunError> {
    let store = Store::open(&args.state_dir)?;
    // Users first: a first start without a password saves nothing.
    let password = users::admin_password(
        args.admin_password_file.as_deref(),
        std::env::var(ADMIN_PASSWORD_ENV).ok(),
    )?;
    let (users, created) = Users::open(&store, password.as_deref(), users::default_params())?;
    if created {
        tracing::info!(
            user = users::ADMIN,
            "first start: user created (group full)"
        );
    }
    let (cfg, origin) = store.start(args.config.as_deref(), args.replace_config)?;
    let saved = store.path(crate::store::CONFIG_FILE);
    match &origin {
        Origin::Saved => tracing::info!(config = %saved.display(), "saved configuration"),
        Origin::SavedOverFile(f) => tracing::warn!(
            config = %saved.display(),
            ignored = %f.display(),
            "a configuration is saved: --config ignored (--replace-config replaces the saved one)"
        ),
        Origin::Seeded(f) => tracing::info!(
            from = %f.display(),
            config = %saved.display(),
            "first start: configuration saved"
        ),
        Origin::Replaced(f) => tracing::info!(
            from = %f.display(),
            config = %saved.display(),
            "saved configuration replaced (the previous one is config.rsc.bak)"
        ),
    }
    let names = cfg.interface_names();
    if names.is_empty() {
        return Err(RunError::NoPorts);
    }
    let api = Api::bind(args, &store, &cfg)?;

    crate::host::catch_stop_signals().map_err(RunError::Signals)?;
    let stop = Arc::new(AtomicBool::new(false));

    // Checks first: a port that cannot be used stops the start before anything is opened.
    let mut reports = Vec::new();
    for name in &names {
        let report = live::prepare_port(name)?;
        tracing::info!("{report}");
        reports.push(report);
    }
    let guard = KernelGuard::install(&names)?;
    tracing::info!(
        table = live::GUARD_TABLE,
        "kernel guard loaded: the host stack ignores what arrives on the ports"
    );
    let mut ports = Vec::new();
    let mut rxs = Vec::new();
    let mut txs = Vec::new();
    for name in &names {
        let (info, rx, tx) = live::open_pnet(name, &OpenOptions::default())?;
        tracing::info!(
            port = %info.name,
            mtu = info.mtu,
            mac = %mac_text(info.mac),
            "port opened"
        );
        ports.push(info.port());
        rxs.push(rx);
        txs.push(tx);
    }

    let tun = Arc::new(Tun::create(&args.tun)?);
    for a in cfg.addresses.iter().filter(|a| !a.disabled) {
        tun.add_address(a.address, a.prefix_len)?;
    }
    tun.set_default_route()?;
    tracing::info!(
        device = tun.name(),
        "router services: the host stack answers on the router's addresses, behind the input chain"
    );

    let opts = Options {
        accept_any_mac: false,
        verify_checksums: true,
        nat_seed: random_seed(),
        max_connections: args.max_connections,
    };
    let router = Router::new(ports, &cfg, opts);
    let sink_tun = tun.clone();
    let host: HostSink = Box::new(move |frame: &[u8]| sink_tun.deliver(frame));
    let engine = Arc::new(Engine::start(router, rxs, txs, Some(host)).map_err(RunError::Threads)?);

    let reader = {
        let (tun, sender, stop) = (tun.clone(), engine.sender(), stop.clone());
        std::thread::Builder::new()
            .name("sw-tun".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match tun.recv_frame() {
                        Ok(Some(frame)) => {
                            if sender.send(Msg::Host(frame)).is_err() {
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "reading the TUN device");
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                }
            })
            .map_err(RunError::Threads)?
    };
    let routed = Arc::new(Routed {
        engine: engine.clone(),
        tun: tun.clone(),
        addrs: std::sync::Mutex::new(host_addresses(&cfg)),
    });
    let state = AppState::new(routed, store, cfg, users)?;
    let serving = api.serve(state, args.keep_backups as usize);
    tracing::info!(ports = %names.join(","), "statewall is routing; SIGINT or SIGTERM stops it");

    while crate::host::stop_signal() == 0 {
        std::thread::sleep(Duration::from_millis(100));
    }
    tracing::info!(
        "{} received, stopping",
        crate::host::signal_name(crate::host::stop_signal())
    );
    stop.store(true, Ordering::Relaxed);
    // The API first: once its threads are gone, nothing else holds the engine.
    serving.stop();
    match Arc::try_unwrap(engine) {
        Ok(engine) => engine.stop(),
        Err(engine) => {
            tracing::warn!("the engine is still shared; stopping it as it is dropped");
            drop(engine);
        }
    }
    let _ = reader.join();
    drop(tun);
    drop(guard);
    drop(reports);
    tracing::info!("stopped; the ports, the guard and the TUN device are as before");
    Ok(())
}

/// A MAC address as RouterOS prints it: upper-case hex, colons.
pub(crate) fn mac_text(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The router's addresses as the host's stack must carry them on the TUN device.
fn host_addresses(cfg: &RouterConfig) -> Vec<(std::net::Ipv4Addr, u8)> {
    cfg.addresses
        .iter()
        .filter(|a| !a.disabled)
        .map(|a| (a.address, a.prefix_len))
        .collect()
}

/// The running engine as the API sees it: a new configuration also moves the router's
/// addresses on the TUN device, so the host's services answer on the addresses in force.
struct Routed {
    engine: Arc<Engine>,
    tun: Arc<Tun>,
    addrs: std::sync::Mutex<Vec<(std::net::Ipv4Addr, u8)>>,
}

impl crate::api::Dataplane for Routed {
    fn snapshot(&self) -> Option<crate::engine::Snapshot> {
        self.engine.snapshot()
    }
    fn stats(&self) -> Option<crate::engine::Snapshot> {
        self.engine.stats()
    }
    fn reconfigure(&self, cfg: RouterConfig) -> bool {
        let want = host_addresses(&cfg);
        if !self.engine.reconfigure(cfg) {
            return false;
        }
        let mut have = self.addrs.lock().unwrap_or_else(|e| e.into_inner());
        for &(a, len) in have.iter().filter(|x| !want.contains(x)) {
            if let Err(e) = self.tun.remove_address(a, len) {
                tracing::warn!(error = %e, "router services");
            }
        }
        for &(a, len) in want.iter().filter(|x| !have.contains(x)) {
            if let Err(e) = self.tun.add_address(a, len) {
                tracing::warn!(error = %e, "router services");
            }
        }
        *have = want;
        true
    }
    fn remove_connections(&self, ids: Vec<u32>) -> Option<Vec<u32>> {
        self.engine.remove_connections(ids)
    }
    fn reset_counters(&self, table: dataplane::firewall::TableKind, id: Option<u32>) -> bool {
        self.engine.reset_counters(table, id)
    }
    fn feed(&self, query: shared::feed::Window) -> Option<crate::engine::FeedView> {
        self.engine.feed(query)
    }
}
