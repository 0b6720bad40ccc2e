//! `statewall lab [--duration SECS] [--kernel] [--http-port PORT] [--config FILE.rsc]`: starts
//! the lab, prints a summary of the traffic every 10 s, and on Ctrl-C, SIGTERM, the end of
//! `--duration` or the death of any part, takes it all down again.

use super::traffic::{Kind, Stats};
use super::{
    config, Lab, LabError, LabOptions, Node, RouterKind, DASHBOARD_PORT, DEFAULT_HTTP_PORT,
    ROUTER_LAN,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How often the traffic summary is printed.
const SUMMARY_EVERY: Duration = Duration::from_secs(10);
/// How often the lab looks at signals, the clock and its parts.
const TICK: Duration = Duration::from_millis(100);

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<u64>,
    /// Let the Linux kernel route (addresses, ip_forward, an equivalent nft ruleset) instead of
    /// statewall: the side-by-side comparison.
    #[arg(long)]
    pub kernel: bool,
    /// Host port (on 127.0.0.1) forwarded to the dashboard on the lab LAN.
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_HTTP_PORT)]
    pub http_port: u16,
    /// The router configuration to use instead of the generated one.
    #[arg(long, value_name = "FILE.rsc")]
    pub config: Option<PathBuf>,
}

/// `statewall lab`.
pub fn run(args: &Args) -> ExitCode {
    crate::host::init_tracing("warn");
    match run_lab(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("statewall lab: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_lab(args: &Args) -> Result<ExitCode, LabError> {
    let config = match &args.config {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| LabError::Io {
            context: format!("reading {}", path.display()),
            source: e,
        })?),
        None => None,
    };
    let router = if args.kernel {
        RouterKind::Kernel
    } else {
        let exe = std::env::current_exe().map_err(|e| LabError::Io {
            context: "finding the statewall binary".into(),
            source: e,
        })?;
        RouterKind::Statewall { exe }
    };
    crate::host::catch_stop_signals().map_err(|e| LabError::Io {
        context: "catching signals".into(),
        source: e,
    })?;
    let opts = LabOptions {
        config,
        http_port: Some(args.http_port),
        ..LabOptions::new(router)
    };
    println!(
        "statewall lab: starting, {} routing",
        if args.kernel {
            "the Linux kernel"
        } else {
            "statewall"
        }
    );
    let mut lab = Lab::start(opts)?;
    if !lab.stale_removed().is_empty() {
        println!(
            "statewall lab: removed namespaces left by an earlier lab: {}",
            lab.stale_removed().join(" ")
        );
    }
    let names: Vec<String> = Node::ALL.iter().map(|&n| lab.ns(n)).collect();
    println!("statewall lab: namespaces {}", names.join(" "));
    println!("statewall lab: {}", config::describe());
    match lab.router_pid() {
        Some(pid) => println!(
            "statewall lab: router pid {pid}, config {}",
            lab.config_path().display()
        ),
        None => println!("statewall lab: the kernel routes (nft table ip statewall_lab)"),
    }
    if let Some(addr) = lab.http_addr() {
        println!(
            "statewall lab: dashboard at http://{addr} (forwarded to {ROUTER_LAN}:{DASHBOARD_PORT} \
             on the lab LAN); REST at http://{addr}/rest, user admin, password {}",
            super::LAB_ADMIN_PASSWORD
        );
    }
    match args.duration {
        Some(secs) => println!("statewall lab: running for {secs}s; Ctrl-C stops it sooner"),
        None => println!("statewall lab: running; Ctrl-C stops it"),
    }

    let stats = lab.stats();
    let started = Instant::now();
    let deadline = args.duration.map(|s| started + Duration::from_secs(s));
    let mut next_summary = started + SUMMARY_EVERY;
    let failure = loop {
        let sig = crate::host::stop_signal();
        if sig != 0 {
            println!(
                "statewall lab: {} received, stopping",
                crate::host::signal_name(sig)
            );
            break None;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            println!("statewall lab: duration elapsed, stopping");
            break None;
        }
        if let Err(e) = lab.check() {
            eprintln!("statewall lab: {e}; stopping");
            break Some(e);
        }
        if Instant::now() >= next_summary {
            print_summary(&stats, started);
            next_summary += SUMMARY_EVERY;
        }
        std::thread::sleep(TICK);
    };
    let stopped = lab.stop();
    print_summary(&stats, started);
    for (kind, error) in stats.last_errors() {
        let c = stats.snapshot().get(kind);
        // A dropped probe is the firewall working, not an error.
        if kind == Kind::WanProbe && c.refused == 0 && c.failed == 0 {
            continue;
        }
        println!("statewall lab: last {} error: {error}", kind.name());
    }
    let mut code = ExitCode::SUCCESS;
    if failure.is_some() {
        code = ExitCode::FAILURE;
    }
    match stopped {
        Ok(()) => println!("statewall lab: stopped; every namespace removed"),
        Err(e) => {
            eprintln!("statewall lab: stopping: {e}");
            code = ExitCode::FAILURE;
        }
    }
    Ok(code)
}

fn print_summary(stats: &Stats, started: Instant) {
    println!(
        "statewall lab: {:>4}s {}",
        started.elapsed().as_secs(),
        stats.snapshot().summary()
    );
}
