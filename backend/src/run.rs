//! `statewall run --config FILE.rsc`: the router on the host's real interfaces.
//!
//! Start-up checks each port the configuration names (GRO/LRO off, no kernel addresses, IPv6 and
//! kernel ARP off on it), loads a kernel guard so the host stack never handles what arrives on
//! the ports, opens them, and puts the router's addresses on a TUN device so the host's own
//! services answer on them, behind the input chain. Everything it changed on the host is undone
//! on SIGINT/SIGTERM.

use crate::engine::{Engine, HostSink, Msg};
use dataplane::drivers::live::{self, KernelGuard, OpenOptions, PortError, Tun};
use dataplane::pipeline::{Options, Router};
use shared::config::RouterConfig;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// The router's configuration: a RouterOS script (`.rsc`), as `/export` writes it.
    #[arg(long)]
    pub config: PathBuf,
    /// The TUN device that carries the router's addresses for its own services.
    #[arg(long, default_value = "statewall0")]
    pub tun: String,
    /// Connection-table size.
    #[arg(long, default_value_t = 262_144)]
    pub max_connections: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: the configuration has {} error(s):\n{}", .errors.len(), .errors.join("\n"))]
    Config { path: String, errors: Vec<String> },
    #[error("the configuration names no interfaces: add /ip address entries for the ports")]
    NoPorts,
    #[error("{0}")]
    Port(#[from] PortError),
    #[error("starting threads: {0}")]
    Threads(std::io::Error),
    #[error("installing signal handlers: {0}")]
    Signals(std::io::Error),
}

/// Reads and checks a configuration file; every error with its line.
pub fn load_config(path: &std::path::Path) -> Result<RouterConfig, RunError> {
    let text = std::fs::read_to_string(path).map_err(|source| RunError::Read {
        path: path.display().to_string(),
        source,
    })?;
    RouterConfig::from_rsc(&text).map_err(|errors| RunError::Config {
        path: path.display().to_string(),
        errors: errors.iter().map(|e| e.to_string()).collect(),
    })
}

/// A seed for the NAT port search that differs from run to run.
fn random_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ (u64::from(std::process::id()) << 32)
}

pub fn run(args: &Args) -> Result<(), RunError> {
    let cfg = load_config(&args.config)?;
    let names = cfg.interface_names();
    if names.is_empty() {
        return Err(RunError::NoPorts);
    }

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
    let engine = Engine::start(router, rxs, txs, Some(host)).map_err(RunError::Threads)?;

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
    tracing::info!(ports = %names.join(","), "statewall is routing; SIGINT or SIGTERM stops it");

    while crate::host::stop_signal() == 0 {
        std::thread::sleep(Duration::from_millis(100));
    }
    tracing::info!(
        "{} received, stopping",
        crate::host::signal_name(crate::host::stop_signal())
    );
    stop.store(true, Ordering::Relaxed);
    engine.stop();
    let _ = reader.join();
    drop(tun);
    drop(guard);
    drop(reports);
    tracing::info!("stopped; the ports, the guard and the TUN device are as before");
    Ok(())
}

fn mac_text(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
