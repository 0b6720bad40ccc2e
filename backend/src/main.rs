//! `statewall`: the router's binary.
//!
//! # Layout
//! - [`replay`]: `statewall replay`, captures through connection tracking, printed as
//!   `conntrack -L` or RouterOS JSON.
//! - [`router_replay`]: `statewall replay --config`, captures through the whole router.

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("statewall: {e}");
            ExitCode::FAILURE
        }
    }
}
