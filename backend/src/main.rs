//! `statewall`: the router's binary.
//!
//! # Layout
//! - [`replay`]: `statewall replay`, captures through connection tracking, printed as
//!   `conntrack -L` or RouterOS JSON.
//! - [`router_replay`]: `statewall replay --config`, captures through the whole router.
//! - `statewall run`: [`backend::run`], the router on the host's interfaces.
//! - `statewall lab`: [`backend::lab`], the router in a network-namespace lab.
//! - `statewall console`: [`backend::console`], a RouterOS terminal on the running router.

mod replay;
mod router_replay;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "statewall",
    version,
    about = "A stateful firewall and NAT router in user space"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Feed pcap/pcapng captures through connection tracking (or, with --config, the whole
    /// router) and print the resulting table.
    Replay(replay::Args),
    /// Run the router on the interfaces its configuration names (as root).
    Run(backend::run::Args),
    /// Run the router in a lab of network namespaces (PCs, a web server, an ISP with internet
    /// servers) with a steady mix of traffic; the dashboard is forwarded to 127.0.0.1.
    Lab(backend::lab::cli::Args),
    /// A RouterOS terminal on the running router, through its binary API (8728, or 8729 with
    /// --tls): menus, print/set/add/remove, /export, history and Tab completion.
    Console(backend::console::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => {
            replay::run(&args).map_err(|e| Box::new(e) as Box<dyn std::error::Error>)
        }
        Command::Lab(args) => return backend::lab::cli::run(&args),
        Command::Console(args) => return backend::console::run(&args),
        Command::Run(args) => {
            backend::host::init_tracing("info");
            backend::run::run(&args).map_err(|e| Box::new(e) as Box<dyn std::error::Error>)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("statewall: {e}");
            ExitCode::FAILURE
        }
    }
}
