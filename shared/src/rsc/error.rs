//! Where a script went wrong and why, in words a RouterOS user recognises.
//!
//! Every stage (lexer, parser, validator) reports into the same [`RscError`], so a dry run can
//! show syntax and schema mistakes in one list, sorted by position.

use std::fmt;

/// A place in the source text: 1-based line and column (columns count characters, a tab is one).
///
/// `Pos::default()` (line 0) marks a node that was built in code rather than parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const fn new(line: usize, column: usize) -> Self {
        Pos { line, column }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// One mistake in a script, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {kind}")]
pub struct RscError {
    pub pos: Pos,
    pub kind: ErrorKind,
}

impl RscError {
    pub fn new(pos: Pos, kind: ErrorKind) -> Self {
        RscError { pos, kind }
    }
}

/// What is wrong. Argument names, menus and offending text are kept as data so callers (the REST
/// layer, the dashboard) can highlight them without parsing the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    // Lexical.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    #[error("invalid escape \"\\{0}\" (expected \\\" \\\\ \\n \\r \\t \\$ \\? \\_ \\a \\b \\f \\v or two uppercase hex digits)")]
    BadEscape(String),
    #[error("\\XX escapes in this string do not form UTF-8 text")]
    InvalidUtf8,
    #[error("line continuation \"\\\" at end of file")]
    ContinuationAtEof,
    #[error("\"\\\" outside quotes must end the line (a line continuation); quote the value to use escapes")]
    StrayBackslash,
    #[error("{0} is not supported in statewall scripts")]
    Unsupported(&'static str),

    // Syntax.
    #[error("unexpected {found}; expected {expected}")]
    Unexpected {
        found: String,
        expected: &'static str,
    },
    #[error("\"{0}\" is never closed")]
    Unclosed(char),
    #[error("missing \"=\" after \"{0}\": arguments are written name=value")]
    MissingEquals(String),
    #[error(
        "unknown command \"{command}\" in {menu}{}",
        hint(suggestion, " (statewall scripts use add, set and remove)")
    )]
    UnknownCommand {
        command: String,
        menu: String,
        suggestion: Option<String>,
    },

    // Schema.
    #[error("unknown menu {menu}{}", hint(suggestion, ""))]
    UnknownMenu {
        menu: String,
        suggestion: Option<String>,
    },
    #[error("\"{command}\" is not a command of {menu}; expected {expected}")]
    CommandNotAllowed {
        command: String,
        menu: String,
        expected: &'static str,
    },
    #[error("unknown argument \"{name}\" in {menu}{}{}", note.map(|n| format!(" ({n})")).unwrap_or_default(), hint(suggestion, ""))]
    UnknownArgument {
        name: String,
        menu: String,
        suggestion: Option<String>,
        note: Option<&'static str>,
    },
    #[error("argument \"{name}\" in {menu} is read-only")]
    ReadOnly { name: String, menu: String },
    #[error("invalid value \"{value}\" for argument \"{name}\": expected {expected}")]
    BadValue {
        name: String,
        value: String,
        expected: String,
    },
    #[error("argument \"{0}\" cannot be negated with \"!\"")]
    NegationNotAllowed(String),
    #[error("argument \"{0}\" is given more than once")]
    DuplicateArgument(String),
    #[error("missing argument \"{name}\" for add in {menu}")]
    MissingArgument { name: String, menu: String },
    #[error("{verb} in {menu} needs the items it applies to: [ find name=value ] or *id")]
    MissingSelector { verb: &'static str, menu: String },
    #[error("{menu} is a settings menu: {verb} takes no [ find … ] or *id")]
    UnexpectedSelector { verb: &'static str, menu: String },
    #[error("remove takes no arguments besides the items to remove")]
    ArgumentsNotAllowed,

    // Semantic: what the commands mean once run, found while building the configuration.
    #[error("argument \"{0}\" needs protocol=tcp or protocol=udp (RouterOS refuses ports for other protocols)")]
    PortsNeedProtocol(String),
    #[error("action={action} needs {}", either(needs))]
    ActionNeeds {
        action: String,
        needs: &'static [&'static str],
    },
    #[error("argument \"{name}\" is only valid with action={}", one_of(actions))]
    OnlyWithAction {
        name: String,
        actions: &'static [&'static str],
    },
    #[error("action={action} is not allowed in chain {chain} of {menu}; expected chain {expected} or a chain of your own (reached by jump)")]
    ActionNotInChain {
        action: String,
        chain: String,
        menu: String,
        expected: &'static str,
    },
    #[error("{0} is not supported by statewall")]
    NotSupported(String),
    #[error("no such item {item} in {menu}")]
    NoSuchItem { item: String, menu: String },
    #[error("{menu} already has an item with {key}")]
    AlreadyExists { menu: String, key: String },
    #[error("argument \"{0}\" cannot be unset: every item needs it")]
    CannotUnset(String),
    #[error("argument \"{name}\" is only valid with {verb}")]
    OnlyWithVerb { name: String, verb: &'static str },
}

impl ErrorKind {
    /// The argument the mistake is about, when it is about one: where a form shows it. For an
    /// action that lacks its argument, the argument to fill in; for an action in the wrong
    /// chain or one statewall lacks, `action`.
    pub fn argument(&self) -> Option<&str> {
        use ErrorKind::*;
        match self {
            UnknownArgument { name, .. }
            | ReadOnly { name, .. }
            | BadValue { name, .. }
            | MissingArgument { name, .. }
            | OnlyWithAction { name, .. }
            | OnlyWithVerb { name, .. } => Some(name),
            NegationNotAllowed(name)
            | DuplicateArgument(name)
            | PortsNeedProtocol(name)
            | CannotUnset(name) => Some(name),
            ActionNeeds { needs, .. } => needs.first().copied(),
            ActionNotInChain { .. } => Some("action"),
            NotSupported(what) if what.starts_with("action=") => Some("action"),
            _ => None,
        }
    }
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(words: &[&str]) -> String {
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.join(""),
    }
}

/// `argument "a"` or `argument "a" or "b"`.
fn either(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    format!("argument {}", quoted.join(" or "))
}

/// `; did you mean "x"?` when there is a suggestion, `otherwise` when there is none.
fn hint(suggestion: &Option<String>, otherwise: &str) -> String {
    match suggestion {
        Some(s) => format!("; did you mean \"{s}\"?"),
        None => otherwise.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_the_brief() {
        let e = RscError::new(
            Pos::new(12, 5),
            ErrorKind::UnknownArgument {
                name: "tcp-loose-tracking".into(),
                menu: "/ip firewall connection tracking".into(),
                suggestion: Some("loose-tcp-tracking".into()),
                note: None,
            },
        );
        assert_eq!(
            e.to_string(),
            "line 12, column 5: unknown argument \"tcp-loose-tracking\" in /ip firewall connection \
             tracking; did you mean \"loose-tcp-tracking\"?"
        );
        let e = ErrorKind::UnknownArgument {
            name: "liberal-tcp-tracking".into(),
            menu: "/ip firewall connection tracking".into(),
            suggestion: None,
            note: Some("RouterOS 7.20+ only"),
        };
        assert_eq!(
            e.to_string(),
            "unknown argument \"liberal-tcp-tracking\" in /ip firewall connection tracking \
             (RouterOS 7.20+ only)"
        );
    }
}
