//! What went wrong with a console line, worded as RouterOS's console words it.
//!
//! Mistakes found before anything is sent (`bad command name foo (line 1 column 1)`, `expected end
//! of command (line 1 column 24)`, `no such item`) and the API's `!trap` messages (`invalid value
//! for argument udp-timeout`, passed through as the server wrote them) are one type, so an
//! interactive session prints both the same way and `-c` puts both on stderr with status 1.

use std::fmt;

/// A 1-based column in the line as typed (characters, not bytes). Console lines are one line:
/// RouterOS still says `line 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Column(pub usize);

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(line 1 column {})", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    /// A word that is neither a menu nor a command where one was expected.
    #[error("bad command name {name} {at}")]
    BadCommandName { name: String, at: Column },
    /// A word the command does not take (an unknown argument, a second value…).
    #[error("expected end of command {at}")]
    ExpectedEnd { at: Column },
    /// Broken text: an unclosed quote or bracket, a bad escape, an operator without operand.
    #[error("syntax error {at}")]
    Syntax { at: Column },
    /// What the command needs and was not given (`missing value for argument…`).
    #[error("{what} {at}")]
    Missing { what: String, at: Column },
    /// An item number (or name) that names nothing.
    #[error("no such item")]
    NoSuchItem,
    /// A value the console itself reads (`interval=`), not one it passes on.
    #[error("invalid value for argument {name}")]
    InvalidValue { name: String },
    /// Understood, but the console does not do it; says why.
    #[error("{what} is not supported {at}: {why}")]
    Unsupported {
        what: String,
        at: Column,
        why: &'static str,
    },
    /// The router refused the command (`!trap`): its message, as sent.
    #[error("{message}")]
    Trap {
        category: Option<u8>,
        message: String,
    },
    /// The connection to the router failed or was closed (`!fatal`); the session cannot go on.
    #[error("{0}")]
    Connection(String),
}

impl ConsoleError {
    /// Whether the session is over (the API connection is gone).
    pub fn is_fatal(&self) -> bool {
        matches!(self, ConsoleError::Connection(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_routeros() {
        let e = ConsoleError::BadCommandName {
            name: "foo".into(),
            at: Column(1),
        };
        assert_eq!(e.to_string(), "bad command name foo (line 1 column 1)");
        assert_eq!(
            ConsoleError::ExpectedEnd { at: Column(24) }.to_string(),
            "expected end of command (line 1 column 24)"
        );
        assert_eq!(ConsoleError::NoSuchItem.to_string(), "no such item");
        assert_eq!(
            ConsoleError::InvalidValue {
                name: "interval".into()
            }
            .to_string(),
            "invalid value for argument interval"
        );
        assert!(ConsoleError::Connection("closed".into()).is_fatal());
    }
}
