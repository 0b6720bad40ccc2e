//! The interactive terminal: RouterOS's prompt, line editing and history (rustyline), Tab
//! completion from [`super::complete`], and Ctrl-C.
//!
//! Ctrl-C at the prompt drops the line typed so far; while a command runs (an `interval=` print,
//! `monitor`) it stops that command and the prompt comes back. Ctrl-D on an empty line, or
//! `/quit`, ends the session.

use super::client::Api;
use super::complete;
use super::menu::Menu;
use super::session::{Outcome, Session};
use rustyline::completion::{Completer, Pair};
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by SIGINT while a command runs (rustyline reads Ctrl-C itself at the prompt).
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    if INTERRUPTED.swap(true, Ordering::SeqCst) {
        // A second Ctrl-C before the first was seen: the command is stuck (a router that does
        // not answer); leave. `_exit` is async-signal-safe.
        // SAFETY: ends the process without running anything else.
        unsafe { libc::_exit(130) };
    }
}

/// Ctrl-C stops the running command instead of the process (twice, and the process ends).
pub fn catch_ctrl_c() -> std::io::Result<()> {
    // SAFETY: a zeroed sigaction is valid; the handler only stores to an atomic, which is
    // async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The terminal's width in columns (80 when it cannot tell).
pub fn width() -> usize {
    // SAFETY: TIOCGWINSZ writes a winsize into the struct given, nothing else.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_col >= 20 {
        usize::from(ws.ws_col)
    } else {
        80
    }
}

/// `[admin@statewall] /ip firewall connection> `; at the root `[admin@statewall] > `.
pub fn prompt(user: &str, identity: &str, menu: &Menu) -> String {
    if menu.path.is_empty() {
        format!("[{user}@{identity}] > ")
    } else {
        format!("[{user}@{identity}] {}> ", menu.name())
    }
}

/// Completion in the current menu.
struct ConsoleHelper {
    menu: &'static Menu,
}

impl Completer for ConsoleHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = complete::complete(line, pos, self.menu);
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.trim_end().to_string(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

impl Hinter for ConsoleHelper {
    type Hint = String;
}
impl Highlighter for ConsoleHelper {}
impl Validator for ConsoleHelper {}
impl Helper for ConsoleHelper {}

/// Reads and runs lines until `/quit`, Ctrl-D, or the connection is lost (an error then).
pub fn interact<A: Api>(
    session: &mut Session<A>,
    user: &str,
) -> Result<(), super::error::ConsoleError> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(true)
        .max_history_size(1000)
        .map_err(|e| super::error::ConsoleError::Connection(e.to_string()))?
        .build();
    let mut editor: Editor<ConsoleHelper, DefaultHistory> = Editor::with_config(config)
        .map_err(|e| super::error::ConsoleError::Connection(format!("terminal: {e}")))?;
    editor.set_helper(Some(ConsoleHelper {
        menu: session.menu(),
    }));
    let mut identity = session.identity()?;
    let mut stdout = std::io::stdout();
    loop {
        if let Some(h) = editor.helper_mut() {
            h.menu = session.menu();
        }
        session.width = width();
        let line = match editor.readline(&prompt(user, &identity, session.menu())) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Ok(()),
            Err(e) => {
                return Err(super::error::ConsoleError::Connection(format!(
                    "terminal: {e}"
                )))
            }
        };
        INTERRUPTED.store(false, Ordering::SeqCst);
        let result = session.run_line(&line, &mut stdout);
        INTERRUPTED.store(false, Ordering::SeqCst);
        match result {
            Ok(Outcome::Quit) => return Ok(()),
            Ok(Outcome::Continue) => {}
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => {
                let _ = writeln!(stdout, "{e}");
            }
        }
        if session.take_identity_changed() {
            identity = session.identity()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::menu;
    use super::*;

    #[test]
    fn prompts_like_routeros() {
        let root = menu::find::<&str>(&[]).expect("root");
        let conn = menu::find(&["ip", "firewall", "connection"]).expect("connection");
        assert_eq!(prompt("admin", "statewall", root), "[admin@statewall] > ");
        assert_eq!(
            prompt("admin", "gw", conn),
            "[admin@gw] /ip firewall connection> "
        );
    }
}
