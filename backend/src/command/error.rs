//! The one error of a command, in RouterOS's words. REST renders it as its JSON error
//! (`{"error":400,"message":"Bad Request","detail":"…"}`), the binary API as `!trap` with
//! `=category=` and `=message=`, the console as its error line: the text is the same everywhere.

use shared::config::edit::EditError;

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A path no menu has: `no such command or directory (word)`, the first word that leads
    /// nowhere. The binary API follows it with a second trap, `no such command prefix`, as
    /// RouterOS does.
    #[error("no such command or directory ({0})")]
    NoSuchDirectory(String),
    /// The menu exists but does not take this command: `no such command (word)`. (The console
    /// calls this `bad command name`.)
    #[error("no such command ({0})")]
    NoSuchCommand(String),
    /// An item named by `.id`/`numbers` (or a name) that is not there.
    #[error("no such item ({0})")]
    NoSuchItem(String),
    /// The configuration's own refusal, worded by the editor (`unknown parameter x; did you
    /// mean y?`, `invalid value for argument x: …`, `missing =x=`, `failure: …`).
    #[error("{0}")]
    Edit(#[from] EditError),
    /// Any other mistake in the arguments: `unknown parameter x`, `invalid value for argument
    /// x: …`, `missing =x=`, `failure: …`, `expected end of command`.
    #[error("{0}")]
    Invalid(String),
    /// A `read` user asking to change something.
    #[error("not enough permissions: user {user} is in group {group}")]
    NotPermitted { user: String, group: &'static str },
    /// The command was cancelled (`/cancel`).
    #[error("interrupted")]
    Interrupted,
    /// A failure of the router itself: logged in full where it happened; clients see only this.
    #[error("failure: internal error (see the router's log)")]
    Internal,
}

impl CommandError {
    /// `unknown parameter NAME`.
    pub fn unknown_parameter(name: &str) -> Self {
        CommandError::Invalid(format!("unknown parameter {name}"))
    }

    /// A failure of the router: `what` is logged, the client sees [`CommandError::Internal`].
    pub fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!("{what}");
        CommandError::Internal
    }

    /// The binary API's trap category (MikroTik's API manual): 0 missing item or command, 1
    /// argument value failure, 2 interrupted, 4 general failure.
    pub fn category(&self) -> u8 {
        match self {
            CommandError::NoSuchDirectory(_)
            | CommandError::NoSuchCommand(_)
            | CommandError::NoSuchItem(_) => 0,
            CommandError::Edit(EditError::UnknownMenu(_) | EditError::NoSuchCommand { .. }) => 0,
            CommandError::Edit(EditError::NoSuchItem(_)) => 0,
            CommandError::Edit(EditError::Failure(_)) => 4,
            CommandError::Edit(_) | CommandError::Invalid(_) => 1,
            CommandError::Interrupted => 2,
            CommandError::NotPermitted { .. } | CommandError::Internal => 4,
        }
    }
}
