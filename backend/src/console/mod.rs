//! `statewall console`: a RouterOS-style terminal on the running router, as a client of its
//! binary API (`api` on 127.0.0.1:8728, or `api-ssl` on 8729 with `--tls`), logged in with the
//! API's `/login`.
//!
//! # Layout
//! A line flows one way: `lexer` (characters → words) → `parse` (words → menu changes and
//! commands, checked against `menu`, with `where` expressions read by `query`) → `translate`
//! (commands → API sentences) → `client` (sentences over the wire, replies back) → `layout`
//! (replies → RouterOS's print layouts). `session` drives that for each line and keeps what a
//! session remembers (the current menu, the numbers of the last `print`); `terminal` is the
//! interactive loop (prompt, history, Ctrl-C) with `complete` for Tab; `error` is the one
//! error type, worded as RouterOS words its errors.
//!
//! # Running
//! `statewall console` opens the terminal; `statewall console -c 'CMD; CMD'` runs one line and
//! exits 0, or 1 with the error on stderr. The password comes from `STATEWALL_PASSWORD`,
//! `--password-file`, or a prompt that does not echo.

mod client;
mod complete;
mod error;
mod layout;
mod lexer;
mod menu;
mod parse;
mod query;
mod session;
mod terminal;
mod translate;

pub use client::{Api, Client, Reply};
pub use error::ConsoleError;
pub use session::{Outcome, Session};

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the password may come from besides `--password-file` and the prompt.
pub const PASSWORD_ENV: &str = "STATEWALL_PASSWORD";

/// The router's certificate a `--tls` console trusts when none is given: the self-signed one
/// `statewall run` keeps in its default state directory.
pub const DEFAULT_TLS_CERT: &str = "/var/lib/statewall/tls/cert.pem";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The router's API address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The API port (default 8728, or 8729 with --tls).
    #[arg(long)]
    pub port: Option<u16>,
    /// Use api-ssl (TLS), trusting the router's certificate (--tls-cert).
    #[arg(long)]
    pub tls: bool,
    /// The router's certificate (PEM) to trust over TLS: the connection is accepted only if the
    /// router presents exactly this certificate.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_TLS_CERT, requires = "tls")]
    pub tls_cert: PathBuf,
    /// The user to log in as.
    #[arg(long, default_value = "admin")]
    pub user: String,
    /// A file whose first line is the password (else STATEWALL_PASSWORD, else a prompt).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Run this line (commands separated by `;`) and exit: 0 if every command succeeded, else 1
    /// with the error on stderr.
    #[arg(short = 'c', value_name = "COMMAND")]
    pub command: Option<String>,
}

/// The password, from the file, the environment, or the terminal.
fn password(args: &Args) -> Result<String, String> {
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_string());
    }
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(p);
    }
    rpassword::prompt_password(format!("password for {}: ", args.user))
        .map_err(|e| format!("reading the password: {e} (give --password-file or {PASSWORD_ENV})"))
}

/// Connects and logs in.
fn connect(args: &Args) -> Result<Client, String> {
    let port = args.port.unwrap_or(if args.tls { 8729 } else { 8728 });
    let trusted = args.tls.then_some(args.tls_cert.as_path());
    let mut client = Client::connect(&args.host, port, trusted).map_err(|e| e.to_string())?;
    let password = password(args)?;
    client
        .login(&args.user, &password)
        .map_err(|e| e.to_string())?;
    Ok(client)
}

/// `statewall console`.
pub fn run(args: &Args) -> ExitCode {
    let fail = |msg: &str| {
        eprintln!("statewall console: {msg}");
        ExitCode::FAILURE
    };
    let client = match connect(args) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    if let Err(e) = terminal::catch_ctrl_c() {
        return fail(&format!("installing the Ctrl-C handler: {e}"));
    }
    let mut session = Session::new(client, &terminal::INTERRUPTED);
    let stdout = std::io::stdout();
    session.tty = stdout.is_terminal();
    session.width = if session.tty { terminal::width() } else { 80 };
    match &args.command {
        Some(line) => {
            let mut out = stdout.lock();
            match session.run_line(line, &mut out) {
                Ok(_) => {
                    let _ = out.flush();
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    let _ = out.flush();
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        None => match terminal::interact(&mut session, &args.user) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e.to_string()),
        },
    }
}
