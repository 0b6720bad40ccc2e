//! One command model: every way into the router (REST, the binary API, the console) states what
//! it wants as a [`Command`] (a menu path, a verb, arguments, and for `print` a `.proplist`, a
//! query and `count-only`) and [`execute`] runs it, validated once, with the same errors
//! ([`CommandError`]) everywhere. Transports only translate: HTTP methods and JSON
//! (`crate::api`), sentences (`crate::ros_api`), command lines (the console).
//!
//! # Layout
//! - this file: [`Command`], [`Reply`] and its [`Row`]s, [`execute`]: permissions, `print` and
//!   `get` for every menu, and the list changes shared by the menus that have them.
//! - `menu`: which [`Menu`] a path names; the verbs each takes.
//! - `query`: `print`'s [`Query`] (the binary API's query stack).
//! - `config`: the configuration's menus, changed through [`crate::api::ConfigState::change`]
//!   (the `.rsc` editor, one path for every change).
//! - `connection`: `/ip/firewall/connection`.
//! - `system`: `/interface`, `/system/identity`, `/user`, `/system/scheduler`, `/ip/service`,
//!   `/system/resource`, `/export`.
//!
//! Execution blocks (the dataplane, file syncs, argon2): call [`execute`] off the async threads
//! (`AppState::blocking`).

mod config;
mod connection;
mod error;
mod menu;
mod query;
mod system;

pub use error::CommandError;
pub use menu::{resolve_prefix, Menu};
pub use query::Query;

use crate::api::AppState;
use crate::users::{Group, Login};
use serde_json::{Map, Value};
use shared::config::edit::Change;
use shared::connection::{format_id, parse_id};

/// One command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    /// The menu: `["ip", "firewall", "connection"]`; empty for the root (`/export`).
    pub path: Vec<String>,
    /// `print`, `getall` (= `print`), `get`, `set`, `add`, `remove`, `enable`, `disable`, `move`,
    /// `unset`, `reset-counters`, `reset-counters-all`, `export`, `listen` (run by the
    /// transport, see [`listen_print`]).
    pub verb: String,
    /// `name=value` arguments in the order given. The items a command applies to are the
    /// argument `.id` or `numbers` (ids `*1A` or names, comma-separated).
    pub args: Vec<(String, String)>,
    /// `print`: only these properties.
    pub proplist: Option<Vec<String>>,
    /// `print`: only the items that pass.
    pub query: Option<Query>,
    /// `print`: only how many items would be printed, as `ret`.
    pub count_only: bool,
}

impl Command {
    pub fn new(path: &[&str], verb: &str) -> Command {
        Command {
            path: path.iter().map(|s| s.to_string()).collect(),
            verb: verb.to_string(),
            ..Command::default()
        }
    }

    /// With argument `name=value`.
    pub fn arg(mut self, name: &str, value: &str) -> Command {
        self.args.push((name.to_string(), value.to_string()));
        self
    }

    /// The menu as RouterOS writes it in errors: `/ip/firewall/filter`.
    pub fn menu_name(&self) -> String {
        format!("/{}", self.path.join("/"))
    }

    /// Takes argument `name` out of [`Command::args`].
    pub fn take(&mut self, name: &str) -> Option<String> {
        let i = self.args.iter().position(|(k, _)| k == name)?;
        Some(self.args.remove(i).1)
    }

    /// Takes `.id` (or `numbers`) out.
    pub fn take_ids(&mut self) -> Option<String> {
        self.take(".id").or_else(|| self.take("numbers"))
    }

    /// Refuses any argument left: the command takes no others.
    pub fn no_more(&self) -> Result<(), CommandError> {
        match self.args.first() {
            Some((name, _)) => Err(CommandError::unknown_parameter(name)),
            None => Ok(()),
        }
    }
}

/// One printed item: property → value, in the order printed (`.id` first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row(pub Vec<(String, String)>);

impl Row {
    /// An item: `.id` (when it has one), then its properties.
    pub fn new(id: Option<u32>, props: Vec<(String, String)>) -> Row {
        let mut row = Vec::with_capacity(props.len() + 1);
        if let Some(id) = id {
            row.push((".id".to_string(), format_id(id)));
        }
        row.extend(props);
        Row(row)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The item's id (`.id`).
    pub fn id(&self) -> Option<u32> {
        self.get(".id").and_then(parse_id)
    }

    /// Only the properties named, in the row's order.
    pub fn only(self, names: &[String]) -> Row {
        Row(self
            .0
            .into_iter()
            .filter(|(k, _)| names.iter().any(|n| n == k))
            .collect())
    }

    /// As a JSON object of strings (REST's shape).
    pub fn into_json(self) -> Map<String, Value> {
        self.0
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    }

    /// From a JSON object (a serialized record): strings as they are, anything else as its JSON
    /// text.
    pub fn from_json(obj: Map<String, Value>) -> Row {
        Row(obj
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect())
    }
}

/// What a command answers: printed items and/or one value (`ret`: an added item's id, a count,
/// an export's text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub rows: Vec<Row>,
    pub ret: Option<String>,
}

impl Reply {
    fn ret(value: impl Into<String>) -> Reply {
        Reply {
            rows: Vec::new(),
            ret: Some(value.into()),
        }
    }
}

/// Commands a `read` user may run.
const READ_VERBS: &[&str] = &["print", "getall", "get", "export", "listen"];

/// Arguments `print` takes that change nothing here (every property is always shown).
const PRINT_NOOPS: &[&str] = &["brief", "detail", "stats", "terse", "without-paging"];

/// Runs one command as `login`. Blocks.
pub fn execute(st: &AppState, login: &Login, mut cmd: Command) -> Result<Reply, CommandError> {
    let menu = Menu::find(&cmd.path, &cmd.verb)?;
    if cmd.verb == "getall" {
        cmd.verb = "print".into();
    }
    if !READ_VERBS.contains(&cmd.verb.as_str()) && login.group != Group::Full {
        return Err(not_permitted(login));
    }
    if !menu.takes(&cmd.verb) {
        return Err(match menu {
            // A word after a path that is not a command of the root reads as a menu.
            Menu::Root => CommandError::NoSuchDirectory(cmd.verb),
            _ => CommandError::NoSuchCommand(cmd.verb),
        });
    }
    if cmd.count_only && cmd.verb != "print" {
        return Err(CommandError::unknown_parameter("count-only"));
    }
    match cmd.verb.as_str() {
        "print" => print(rows(st, menu)?, cmd),
        "get" => get(rows(st, menu)?, menu, cmd),
        "listen" => Err(CommandError::Invalid(
            "listen runs only over the binary API".into(),
        )),
        _ => match menu {
            Menu::Config(m) => config::change(st, m, cmd),
            Menu::Connection => connection::remove(st, cmd),
            Menu::Identity => system::set_identity(st, cmd),
            Menu::User => system::change_users(st, cmd),
            Menu::Scheduler => system::change_scheduler(st, cmd),
            Menu::Root if cmd.verb == "import" => system::import(st, cmd),
            Menu::Root => system::export(st, login, cmd),
            Menu::Interface | Menu::Service | Menu::Resource => {
                Err(CommandError::NoSuchCommand(cmd.verb))
            }
        },
    }
}

/// What a transport's `listen` polls: the `print` its command means (the same menu, `.proplist`
/// with `.id` kept, so entries can be told apart), checked as [`execute`] checks it.
pub fn listen_print(cmd: &Command) -> Result<Command, CommandError> {
    let menu = Menu::find(&cmd.path, &cmd.verb)?;
    if !menu.takes("listen") {
        return Err(CommandError::NoSuchCommand(cmd.verb.clone()));
    }
    let mut print = cmd.clone();
    print.verb = "print".into();
    if let Some(p) = &mut print.proplist {
        if !p.iter().any(|n| n == ".id") {
            p.insert(0, ".id".into());
        }
    }
    Ok(print)
}

pub(crate) fn not_permitted(login: &Login) -> CommandError {
    CommandError::NotPermitted {
        user: login.user.clone(),
        group: login.group.as_str(),
    }
}

/// Every item of a menu, printed (a single-item menu's one).
fn rows(st: &AppState, menu: Menu) -> Result<Vec<Row>, CommandError> {
    Ok(match menu {
        Menu::Config(m) => config::rows(st, m)?,
        Menu::Connection => connection::rows(st)?,
        Menu::Interface => system::interfaces(st)?,
        Menu::Identity => vec![system::identity(st)],
        Menu::User => st
            .users
            .list()
            .into_iter()
            .map(|i| Row::new(Some(i.id), i.props))
            .collect(),
        Menu::Scheduler => st.scheduler.rows(),
        Menu::Service => system::services(st),
        Menu::Resource => vec![system::resource()],
        Menu::Root => return Err(CommandError::NoSuchCommand("print".into())),
    })
}

/// `print`: the query, then `count-only` or `.proplist`.
fn print(rows: Vec<Row>, mut cmd: Command) -> Result<Reply, CommandError> {
    cmd.args.retain(|(k, _)| !PRINT_NOOPS.contains(&k.as_str()));
    cmd.no_more()?;
    let chosen = rows
        .into_iter()
        .filter(|r| cmd.query.as_ref().is_none_or(|q| q.matches(r)));
    if cmd.count_only {
        return Ok(Reply::ret(chosen.count().to_string()));
    }
    let rows = match &cmd.proplist {
        Some(names) => chosen.map(|r| r.only(names)).collect(),
        None => chosen.collect(),
    };
    Ok(Reply { rows, ret: None })
}

/// `get`: one property's value as `ret`; of the item `.id`/`numbers` names in a list menu.
fn get(rows: Vec<Row>, menu: Menu, mut cmd: Command) -> Result<Reply, CommandError> {
    let row = if menu.is_single() {
        rows.into_iter().next()
    } else {
        let text = cmd.take_ids().ok_or_else(missing_ids)?;
        let id = pick(&rows, &text)?
            .first()
            .copied()
            .ok_or_else(|| CommandError::NoSuchItem(text.clone()))?;
        rows.into_iter().find(|r| r.id() == Some(id))
    };
    let name = cmd
        .take("value-name")
        .ok_or_else(|| CommandError::Invalid("missing =value-name=".into()))?;
    cmd.no_more()?;
    let row = row.ok_or(CommandError::Internal)?;
    match row.get(&name) {
        Some(v) => Ok(Reply::ret(v)),
        None => Err(CommandError::Invalid(format!(
            "invalid value for argument value-name: \"{name}\", no such property"
        ))),
    }
}

fn missing_ids() -> CommandError {
    CommandError::Invalid("missing =.id= (or numbers): which items".into())
}

/// The ids `text` names: `*N` ids or names, comma-separated; each must be among `rows`.
pub(crate) fn pick(rows: &[Row], text: &str) -> Result<Vec<u32>, CommandError> {
    let mut out = Vec::new();
    for word in text.split(',').map(str::trim) {
        let found = rows.iter().find(|r| match parse_id(word) {
            Some(id) => r.id() == Some(id),
            None => r.get("name") == Some(word),
        });
        let id = found
            .and_then(Row::id)
            .ok_or_else(|| CommandError::NoSuchItem(word.to_string()))?;
        out.push(id);
    }
    Ok(out)
}

/// The change a list command means (`add`, `set`, `remove`, `enable`, `disable`, `unset`,
/// `move`), its items checked against `rows`. Shared by the configuration's list menus, `/user`
/// and `/system/scheduler`.
fn list_change(rows: &[Row], cmd: &mut Command) -> Result<Change, CommandError> {
    let ids = |cmd: &mut Command| {
        let text = cmd.take_ids().ok_or_else(missing_ids)?;
        pick(rows, &text)
    };
    let verb = cmd.verb.clone();
    Ok(match verb.as_str() {
        "add" => Change::Add(std::mem::take(&mut cmd.args)),
        "set" => {
            let ids = ids(cmd)?;
            Change::Set {
                ids,
                args: std::mem::take(&mut cmd.args),
            }
        }
        verb @ ("remove" | "enable" | "disable") => {
            let ids = ids(cmd)?;
            cmd.no_more()?;
            match verb {
                "remove" => Change::Remove(ids),
                "enable" => Change::Enable(ids),
                _ => Change::Disable(ids),
            }
        }
        "unset" => {
            let ids = ids(cmd)?;
            let names = cmd
                .take("value-name")
                .ok_or_else(|| CommandError::Invalid("missing =value-name=".into()))?;
            cmd.no_more()?;
            let names = names.split(',').map(|n| n.trim().to_string()).collect();
            Change::Unset { ids, names }
        }
        "move" => {
            let ids = ids(cmd)?;
            let before = match cmd.take("destination") {
                Some(d) => Some(
                    pick(rows, &d)?
                        .first()
                        .copied()
                        .ok_or(CommandError::NoSuchItem(d))?,
                ),
                None => None,
            };
            cmd.no_more()?;
            Change::Move { ids, before }
        }
        other => return Err(CommandError::NoSuchCommand(other.to_string())),
    })
}

#[cfg(test)]
mod tests;
