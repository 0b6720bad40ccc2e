//! The configuration item by item, as the REST API, the binary API and the dashboard see and
//! change it: a menu listed as RouterOS prints it, and one change at a time (add, set, unset,
//! remove, enable, disable, move, a settings menu's `set`) made on a copy.
//!
//! Each change is the `.rsc` command it means (`add …`, `set *5 …`, `remove *5,*7`), run by the
//! same code as an import ([`RouterConfig::from_script`]): an argument has one meaning and one
//! set of checks wherever it comes from. Unlike an import, ids are kept: an item keeps its id as
//! long as it exists, and a removed item's id never comes back (RouterOS never reuses one), so a
//! client holding `*5` can never reach another item with it.
//!
//! A change is prepared ([`Editor::prepare`]) and only then committed ([`Editor::commit`]), so
//! the caller can save it and put it in force in between, and drop it if either fails.

use super::build::{run_one, LastIds};
use super::menus::{each_menu, ListMenu, MenuVisitor};
use super::model::RouterConfig;
use super::settings::SettingsMenu;
use crate::connection::format_id;
use crate::rsc::schema::{self, MenuKind};
use crate::rsc::shape::Shape;
use crate::rsc::{Arg, Command, ErrorKind, RscError, Selector, Verb};
use crate::tracking::{self, ValueKind};

/// One item of a list menu: its id and every property as RouterOS prints it (sorted by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: u32,
    pub props: Vec<(String, String)>,
}

impl Item {
    /// The value of property `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One change to a menu. Values are RouterOS text as clients send it (`"!LAN"` negates a matcher
/// that takes `!`; `"true"`/`"yes"` are both yes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `add`; `place-before` may be among the arguments.
    Add(Vec<(String, String)>),
    /// `set` on these items.
    Set {
        ids: Vec<u32>,
        args: Vec<(String, String)>,
    },
    /// `unset`: the named properties go back to not set.
    Unset {
        ids: Vec<u32>,
        names: Vec<String>,
    },
    Remove(Vec<u32>),
    Enable(Vec<u32>),
    Disable(Vec<u32>),
    /// `move`: the items, in the order given, go before `before` (or to the end).
    Move {
        ids: Vec<u32>,
        before: Option<u32>,
    },
    /// `set` of a settings menu.
    Settings(Vec<(String, String)>),
}

impl Change {
    /// The command's name, as errors write it.
    pub fn verb(&self) -> &'static str {
        match self {
            Change::Add(_) => "add",
            Change::Set { .. } | Change::Settings(_) => "set",
            Change::Unset { .. } => "unset",
            Change::Remove(_) => "remove",
            Change::Enable(_) => "enable",
            Change::Disable(_) => "disable",
            Change::Move { .. } => "move",
        }
    }
}

/// Why a change or a listing was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// Not a menu of the configuration.
    #[error("no such command or directory ({0})")]
    UnknownMenu(String),
    /// The menu does not take this command (`add` on a settings menu, `disable` on a menu
    /// without `disabled`).
    #[error("no such command ({command}) in {menu}")]
    NoSuchCommand { command: String, menu: String },
    /// An item the change applies to does not exist (`*9`).
    #[error("no such item ({0})")]
    NoSuchItem(String),
    /// Refused for what it would do (remove the last user who may change anything, …).
    #[error("failure: {0}")]
    Failure(String),
    /// `move` before one of the items it moves.
    #[error("destination {0} is one of the items moved")]
    BadDestination(String),
    /// The change is wrong: every mistake, as an import would report them.
    #[error("{}", .0.first().map(|e| api_detail(&e.kind)).unwrap_or_default())]
    Invalid(Vec<RscError>),
}

/// A mistake in the words RouterOS's APIs use ("unknown parameter x", "invalid value for
/// argument x", "missing =x="), with statewall's explanation after them. Always names the
/// argument when there is one.
pub fn api_detail(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::UnknownArgument {
            name,
            suggestion,
            note,
            ..
        } => {
            let mut out = format!("unknown parameter {name}");
            if let Some(n) = note {
                out.push_str(&format!(" ({n})"));
            }
            if let Some(s) = suggestion {
                out.push_str(&format!("; did you mean {s}?"));
            }
            out
        }
        ErrorKind::BadValue {
            name,
            value,
            expected,
        } => format!("invalid value for argument {name}: \"{value}\", expected {expected}"),
        ErrorKind::MissingArgument { name, menu } => {
            format!("missing ={name}= (every item of {menu} needs it)")
        }
        other => other.to_string(),
    }
}

/// The argument an [`api_detail`] text names, for a client that has only the text (the REST
/// API's `detail`): `invalid value for argument udp-timeout: …` → `udp-timeout`. The same
/// argument as [`ErrorKind::argument`] of the error the text was made from.
pub fn detail_argument(detail: &str) -> Option<&str> {
    let name = |s: &'_ str| -> Option<usize> {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(s.len());
        (end > 0).then_some(end)
    };
    for prefix in [
        "unknown parameter ",
        "invalid value for argument ",
        "missing =",
    ] {
        if let Some(rest) = detail.strip_prefix(prefix) {
            return name(rest).map(|end| &rest[..end]);
        }
    }
    // `argument "dst-port" needs …`, `action=jump needs argument "jump-target"`.
    if let Some(at) = detail.find("argument \"") {
        let rest = &detail[at + "argument \"".len()..];
        return name(rest)
            .filter(|&end| rest[end..].starts_with('"'))
            .map(|end| &rest[..end]);
    }
    // `action=tarpit is not supported…`, `action=masquerade is not allowed in chain …`.
    detail.starts_with("action=").then_some("action")
}

/// A prepared change: the configuration it makes and what it did. Nothing is changed until it
/// is given to [`Editor::commit`].
#[derive(Debug, Clone)]
pub struct Edit {
    cfg: RouterConfig,
    last: LastIds,
    /// The id an `add` gave its item.
    pub added: Option<u32>,
}

impl Edit {
    /// The configuration with the change made.
    pub fn config(&self) -> &RouterConfig {
        &self.cfg
    }
}

/// The running configuration and each menu's last id given.
#[derive(Debug, Clone, Default)]
pub struct Editor {
    cfg: RouterConfig,
    last: LastIds,
}

/// Whether `path` is a menu of the configuration, and which kind.
pub fn menu_kind(path: &[&str]) -> Option<MenuKind> {
    schema::menu(path).map(|m| m.kind)
}

impl Editor {
    /// Starts from a configuration (as loaded at start or restored): ids continue after each
    /// menu's highest.
    pub fn new(cfg: RouterConfig) -> Editor {
        Editor {
            cfg,
            last: LastIds::new(),
        }
    }

    pub fn config(&self) -> &RouterConfig {
        &self.cfg
    }

    /// Every item of a list menu, in order, as RouterOS prints them.
    pub fn list(&self, path: &[&str]) -> Result<Vec<Item>, EditError> {
        let mut v = Print {
            path,
            cfg: &self.cfg,
            out: None,
        };
        each_menu(&mut v);
        v.out.ok_or_else(|| not_a(path, "print"))
    }

    /// One item of a list menu.
    pub fn item(&self, path: &[&str], id: u32) -> Result<Item, EditError> {
        self.list(path)?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or_else(|| EditError::NoSuchItem(format_id(id)))
    }

    /// A settings menu's properties, as RouterOS prints them, alphabetical.
    pub fn settings(&self, path: &[&str]) -> Result<Vec<(String, String)>, EditError> {
        let mut v = PrintSettings {
            path,
            cfg: &self.cfg,
            out: None,
        };
        each_menu(&mut v);
        v.out.ok_or_else(|| not_a(path, "print"))
    }

    /// Makes `change` on a copy: the configuration it gives, or why it is refused.
    pub fn prepare(&self, path: &[&str], change: &Change) -> Result<Edit, EditError> {
        let menu = schema::menu(path).ok_or_else(|| EditError::UnknownMenu(path.join("/")))?;
        let wants = match change {
            Change::Settings(_) => MenuKind::Settings,
            _ => MenuKind::List,
        };
        if menu.kind != wants {
            return Err(no_such_command(path, change.verb()));
        }
        let mut last = self.last.clone();
        let ids_of = |ids: &[u32]| Selector::Ids(ids.iter().map(|i| format_id(*i)).collect());
        let cmd = match change {
            Change::Add(args) => command(path, Verb::Add, args),
            Change::Settings(args) => command(path, Verb::Set, args),
            Change::Set { ids, args } => {
                self.check_ids(path, ids)?;
                command(path, Verb::Set, args).select(ids_of(ids))
            }
            Change::Unset { ids, names } => {
                self.check_ids(path, ids)?;
                let mut cmd = Command::new(path, Verb::Set).select(ids_of(ids));
                for name in names {
                    if menu.spec(name).is_none() {
                        let kind = ErrorKind::UnknownArgument {
                            name: name.clone(),
                            menu: menu.name(),
                            suggestion: crate::suggest::closest(name, menu.arg_names())
                                .map(str::to_string),
                            note: menu.refusal(name),
                        };
                        return Err(EditError::Invalid(vec![RscError::new(
                            Default::default(),
                            kind,
                        )]));
                    }
                    cmd.args.push(Arg::unset(name.as_str()));
                }
                cmd
            }
            Change::Remove(ids) => {
                self.check_ids(path, ids)?;
                Command::new(path, Verb::Remove).select(ids_of(ids))
            }
            Change::Enable(ids) | Change::Disable(ids) => {
                if menu.spec("disabled").is_none() {
                    return Err(no_such_command(path, change.verb()));
                }
                self.check_ids(path, ids)?;
                let value = if matches!(change, Change::Disable(_)) {
                    "yes"
                } else {
                    "no"
                };
                Command::new(path, Verb::Set)
                    .arg("disabled", value)
                    .select(ids_of(ids))
            }
            Change::Move { ids, before } => {
                self.check_ids(path, ids)?;
                if let Some(b) = before {
                    self.check_ids(path, &[*b])?;
                    if ids.contains(b) {
                        return Err(EditError::BadDestination(format_id(*b)));
                    }
                }
                let mut cfg = self.cfg.clone();
                each_menu(&mut Move {
                    path,
                    cfg: &mut cfg,
                    ids,
                    before: *before,
                });
                return Ok(Edit {
                    cfg,
                    last,
                    added: None,
                });
            }
        };
        let cfg = run_one(&self.cfg, &mut last, &cmd).map_err(EditError::Invalid)?;
        let added = match change {
            Change::Add(_) => last.get(menu.path).copied(),
            _ => None,
        };
        Ok(Edit { cfg, last, added })
    }

    /// Puts a prepared change in force here (the caller has saved and applied it).
    pub fn commit(&mut self, edit: Edit) {
        self.cfg = edit.cfg;
        self.last = edit.last;
    }

    /// Refuses ids the menu does not have (the first one missing).
    fn check_ids(&self, path: &[&str], ids: &[u32]) -> Result<(), EditError> {
        let have: Vec<u32> = self.list(path)?.iter().map(|i| i.id).collect();
        match ids.iter().find(|id| !have.contains(id)) {
            Some(id) => Err(EditError::NoSuchItem(format_id(*id))),
            None => Ok(()),
        }
    }
}

fn no_such_command(path: &[&str], verb: &str) -> EditError {
    EditError::NoSuchCommand {
        command: verb.to_string(),
        menu: crate::rsc::ast::menu_name(path),
    }
}

/// The error for a menu that exists but is of the other kind, or for one that does not.
fn not_a(path: &[&str], verb: &str) -> EditError {
    if schema::menu(path).is_some() {
        no_such_command(path, verb)
    } else {
        EditError::UnknownMenu(path.join("/"))
    }
}

/// The command that means `verb` with these arguments in `path`.
fn command(path: &[&str], verb: Verb, args: &[(String, String)]) -> Command {
    let mut cmd = Command::new(path, verb);
    cmd.args = args.iter().map(|(n, v)| to_arg(path, n, v)).collect();
    cmd
}

/// `name=value` from a client; a leading `!` negates only where the argument takes one.
fn to_arg(path: &[&str], name: &str, value: &str) -> Arg {
    let negatable = schema::menu(path)
        .and_then(|m| m.spec(name))
        .is_some_and(|s| s.negatable);
    match value.strip_prefix('!') {
        Some(rest) if negatable => Arg::negated(name, rest),
        _ => Arg::new(name, value),
    }
}

/// Whether two property values are equal as RouterOS compares them in `find` and queries
/// (`true`/`false` read as `yes`/`no`).
pub fn same_value(a: &str, b: &str) -> bool {
    super::build::same_text(a, b)
}

/// Whether RouterOS's APIs print the property as `true`/`false` (a yes/no property).
fn is_flag(path: &[&str], name: &str) -> bool {
    match schema::menu(path) {
        Some(m) if matches!(m.args, schema::Args::Tracking) => tracking::PROPERTIES
            .iter()
            .any(|p| p.name == name && p.kind == ValueKind::YesNo),
        Some(m) => m.spec(name).is_some_and(|s| s.shape == Shape::YesNo),
        None => false,
    }
}

/// Properties as RouterOS's APIs print them: booleans `true`/`false`, negation as a leading `!`,
/// no empty comment, sorted by name.
fn printed(path: &[&str], args: Vec<Arg>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = args
        .into_iter()
        .filter_map(|a| {
            let v = a.value?;
            if a.name == "comment" && v.text.is_empty() {
                return None;
            }
            let text = match (is_flag(path, &a.name), v.text.as_str()) {
                (true, "yes") => "true".to_string(),
                (true, "no") => "false".to_string(),
                _ if v.negated => format!("!{}", v.text),
                _ => v.text,
            };
            Some((a.name, text))
        })
        .collect();
    out.sort();
    out
}

fn settings_printed(path: &[&str], pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    printed(
        path,
        pairs.into_iter().map(|(k, v)| Arg::new(k, v)).collect(),
    )
}

struct Print<'a> {
    path: &'a [&'a str],
    cfg: &'a RouterConfig,
    out: Option<Vec<Item>>,
}

impl MenuVisitor for Print<'_> {
    fn list<M: ListMenu>(&mut self) {
        if self.path != M::PATH {
            return;
        }
        let items = M::items(self.cfg).iter().map(|item| {
            let mut args = M::to_args(item);
            // Everything in the configuration is static; dynamic items live in the dataplane.
            args.push(Arg::new("dynamic", "false"));
            Item {
                id: M::id(item),
                props: printed(self.path, args),
            }
        });
        self.out = Some(items.collect());
    }

    fn settings<S: SettingsMenu>(&mut self) {}
}

struct PrintSettings<'a> {
    path: &'a [&'a str],
    cfg: &'a RouterConfig,
    out: Option<Vec<(String, String)>>,
}

impl MenuVisitor for PrintSettings<'_> {
    fn list<M: ListMenu>(&mut self) {}

    fn settings<S: SettingsMenu>(&mut self) {
        if self.path == S::PATH {
            self.out = Some(settings_printed(self.path, S::pairs(self.cfg)));
        }
    }
}

/// `move`: the named items leave their places and go, in the order given, before `before`.
struct Move<'a> {
    path: &'a [&'a str],
    cfg: &'a mut RouterConfig,
    ids: &'a [u32],
    before: Option<u32>,
}

impl MenuVisitor for Move<'_> {
    fn list<M: ListMenu>(&mut self) {
        if self.path != M::PATH {
            return;
        }
        let items = M::items_mut(self.cfg);
        let mut moved = Vec::new();
        for id in self.ids {
            if let Some(i) = items.iter().position(|it| M::id(it) == *id) {
                moved.push(items.remove(i));
            }
        }
        let at = self
            .before
            .and_then(|b| items.iter().position(|it| M::id(it) == b))
            .unwrap_or(items.len());
        items.splice(at..at, moved);
    }

    fn settings<S: SettingsMenu>(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILTER: &[&str] = &["ip", "firewall", "filter"];
    const TRACKING: &[&str] = &["ip", "firewall", "connection", "tracking"];
    const LISTS: &[&str] = &["interface", "list"];

    fn editor() -> Editor {
        let cfg = RouterConfig::from_rsc(
            "/interface list\nadd name=WAN\nadd name=LAN\n\
             /ip firewall filter\n\
             add action=accept chain=input connection-state=established,related\n\
             add action=drop chain=input in-interface-list=!LAN comment=\"not from LAN\"\n\
             add action=drop chain=forward connection-state=invalid\n",
        )
        .unwrap();
        Editor::new(cfg)
    }

    fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn apply(e: &mut Editor, path: &[&str], change: Change) -> Result<Option<u32>, EditError> {
        let edit = e.prepare(path, &change)?;
        let added = edit.added;
        e.commit(edit);
        Ok(added)
    }

    fn ids(e: &Editor, path: &[&str]) -> Vec<u32> {
        e.list(path).unwrap().iter().map(|i| i.id).collect()
    }

    fn detail(r: Result<Option<u32>, EditError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn items_print_as_the_rest_api_shows_them() {
        let e = editor();
        let items = e.list(FILTER).unwrap();
        assert_eq!(items.len(), 3);
        let second = &items[1];
        assert_eq!(second.id, 2);
        let names: Vec<&str> = second.props.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "action",
                "chain",
                "comment",
                "disabled",
                "dynamic",
                "in-interface-list",
                "log",
                "log-prefix"
            ]
        );
        assert_eq!(second.get("in-interface-list"), Some("!LAN"));
        assert_eq!(second.get("disabled"), Some("false"));
        assert_eq!(second.get("log"), Some("false"));
        assert_eq!(second.get("log-prefix"), Some(""));
        // An empty comment is not shown.
        assert_eq!(items[0].get("comment"), None);
        assert_eq!(e.item(FILTER, 3).unwrap(), items[2]);
        assert_eq!(e.item(FILTER, 9), Err(EditError::NoSuchItem("*9".into())));
        assert!(matches!(
            e.list(&["ip", "nope"]),
            Err(EditError::UnknownMenu(_))
        ));
        assert!(matches!(
            e.list(TRACKING),
            Err(EditError::NoSuchCommand { .. })
        ));
    }

    #[test]
    fn ids_stay_and_never_come_back() {
        let mut e = editor();
        let a = apply(
            &mut e,
            FILTER,
            Change::Add(args(&[("chain", "forward"), ("action", "accept")])),
        )
        .unwrap();
        assert_eq!(a, Some(4));
        apply(&mut e, FILTER, Change::Remove(vec![2, 4])).unwrap();
        assert_eq!(ids(&e, FILTER), [1, 3]);
        let b = apply(&mut e, FILTER, Change::Add(args(&[("chain", "input")]))).unwrap();
        assert_eq!(b, Some(5));
        assert_eq!(ids(&e, FILTER), [1, 3, 5]);
        // The export imports back to the same rules (renumbered, as an import numbers them).
        let again = RouterConfig::from_rsc(&e.config().to_rsc()).unwrap();
        assert_eq!(again.to_rsc(), e.config().to_rsc());
        assert_eq!(again.filter.len(), 3);
        // A new editor on a loaded configuration continues after the highest id.
        let mut fresh = Editor::new(e.config().clone());
        let c = apply(&mut fresh, FILTER, Change::Add(args(&[("chain", "input")])));
        assert_eq!(c, Ok(Some(6)));
    }

    #[test]
    fn add_places_before_and_checks_like_an_import() {
        let mut e = editor();
        let id = apply(
            &mut e,
            FILTER,
            Change::Add(args(&[("chain", "input"), ("place-before", "*1")])),
        )
        .unwrap();
        assert_eq!(id, Some(4));
        assert_eq!(ids(&e, FILTER), [4, 1, 2, 3]);
        let bad = |pairs: &[(&str, &str)]| {
            let e = editor();
            e.prepare(FILTER, &Change::Add(args(pairs)))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad(&[("action", "accept")]),
            "missing =chain= (every item of /ip firewall filter needs it)"
        );
        assert_eq!(
            bad(&[("chain", "input"), ("actoin", "drop")]),
            "unknown parameter actoin; did you mean action?"
        );
        assert_eq!(
            bad(&[("chain", "input"), ("to-ports", "80")]),
            "unknown parameter to-ports (only in /ip firewall nat)"
        );
        assert!(bad(&[("chain", "input"), ("disabled", "maybe")])
            .starts_with("invalid value for argument disabled: \"maybe\""));
        assert!(bad(&[("chain", "input"), ("dst-port", "80")]).contains("\"dst-port\""));
        assert!(bad(&[("chain", "input"), ("place-before", "*99")]).contains("*99"));
        // A refused change changes nothing, not even the next id.
        let next = apply(&mut e, FILTER, Change::Add(args(&[("chain", "x")])));
        assert_eq!(next, Ok(Some(5)));
    }

    #[test]
    fn set_unset_enable_disable_by_id() {
        let mut e = editor();
        apply(
            &mut e,
            FILTER,
            Change::Set {
                ids: vec![2],
                args: args(&[("comment", "changed"), ("log", "true")]),
            },
        )
        .unwrap();
        let item = e.item(FILTER, 2).unwrap();
        assert_eq!(item.get("comment"), Some("changed"));
        assert_eq!(item.get("log"), Some("true"));
        assert_eq!(item.get("action"), Some("drop"));
        apply(
            &mut e,
            FILTER,
            Change::Unset {
                ids: vec![2],
                names: vec!["in-interface-list".into()],
            },
        )
        .unwrap();
        assert_eq!(e.item(FILTER, 2).unwrap().get("in-interface-list"), None);
        let unset = |name: &str| {
            detail(apply(
                &mut editor(),
                FILTER,
                Change::Unset {
                    ids: vec![1],
                    names: vec![name.into()],
                },
            ))
        };
        assert!(unset("chain").contains("\"chain\""), "{}", unset("chain"));
        assert_eq!(
            unset("chian"),
            "unknown parameter chian; did you mean chain?"
        );
        apply(&mut e, FILTER, Change::Disable(vec![1, 3])).unwrap();
        let disabled: Vec<_> = e
            .list(FILTER)
            .unwrap()
            .iter()
            .map(|i| i.get("disabled").unwrap().to_string())
            .collect();
        assert_eq!(disabled, ["true", "false", "true"]);
        apply(&mut e, FILTER, Change::Enable(vec![3])).unwrap();
        assert_eq!(e.item(FILTER, 3).unwrap().get("disabled"), Some("false"));
        assert_eq!(
            apply(&mut e, FILTER, Change::Enable(vec![3, 7])),
            Err(EditError::NoSuchItem("*7".into()))
        );
        assert!(matches!(
            apply(&mut e, LISTS, Change::Disable(vec![1])),
            Err(EditError::NoSuchCommand { .. })
        ));
        assert_eq!(
            apply(&mut e, FILTER, Change::Remove(vec![9])),
            Err(EditError::NoSuchItem("*9".into()))
        );
    }

    #[test]
    fn keys_stay_unique() {
        let mut e = editor();
        let dup = apply(&mut e, LISTS, Change::Add(args(&[("name", "LAN")])));
        assert!(detail(dup).contains("name=LAN"));
        let rename = Change::Set {
            ids: vec![1],
            args: args(&[("name", "LAN")]),
        };
        assert!(apply(&mut e, LISTS, rename).is_err());
        // Once removed, the name is free again.
        apply(&mut e, LISTS, Change::Remove(vec![2])).unwrap();
        assert_eq!(
            apply(&mut e, LISTS, Change::Add(args(&[("name", "LAN")]))),
            Ok(Some(3))
        );
    }

    #[test]
    fn move_before_or_to_the_end() {
        let mut e = editor();
        let mv = |ids: Vec<u32>, before| Change::Move { ids, before };
        apply(&mut e, FILTER, mv(vec![3], Some(1))).unwrap();
        assert_eq!(ids(&e, FILTER), [3, 1, 2]);
        apply(&mut e, FILTER, mv(vec![3, 1], None)).unwrap();
        assert_eq!(ids(&e, FILTER), [2, 3, 1]);
        apply(&mut e, FILTER, mv(vec![1, 3], Some(2))).unwrap();
        assert_eq!(ids(&e, FILTER), [1, 3, 2]);
        assert_eq!(
            apply(&mut e, FILTER, mv(vec![1], Some(1))),
            Err(EditError::BadDestination("*1".into()))
        );
        assert_eq!(
            apply(&mut e, FILTER, mv(vec![1], Some(8))),
            Err(EditError::NoSuchItem("*8".into()))
        );
    }

    #[test]
    fn settings_menus() {
        let mut e = editor();
        let t = e.settings(TRACKING).unwrap();
        let get = |t: &[(String, String)], n: &str| {
            t.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
        };
        assert_eq!(get(&t, "loose-tcp-tracking").as_deref(), Some("true"));
        assert_eq!(get(&t, "enabled").as_deref(), Some("auto"));
        assert_eq!(get(&t, "udp-timeout").as_deref(), Some("10s"));
        apply(
            &mut e,
            TRACKING,
            Change::Settings(args(&[
                ("udp-timeout", "30s"),
                ("loose-tcp-tracking", "no"),
            ])),
        )
        .unwrap();
        let t = e.settings(TRACKING).unwrap();
        assert_eq!(get(&t, "udp-timeout").as_deref(), Some("30s"));
        assert_eq!(get(&t, "loose-tcp-tracking").as_deref(), Some("false"));
        let typo = apply(
            &mut e,
            TRACKING,
            Change::Settings(args(&[("tcp-loose-tracking", "no")])),
        );
        assert_eq!(
            detail(typo),
            "unknown parameter tcp-loose-tracking; did you mean loose-tcp-tracking?"
        );
        let ro = apply(
            &mut e,
            TRACKING,
            Change::Settings(args(&[("max-entries", "5")])),
        );
        assert!(detail(ro).contains("\"max-entries\""));
        assert!(matches!(
            apply(&mut e, TRACKING, Change::Add(vec![])),
            Err(EditError::NoSuchCommand { .. })
        ));
        let ip = e.settings(&["ip", "settings"]).unwrap();
        assert_eq!(get(&ip, "ip-forward").as_deref(), Some("true"));
        assert_eq!(get(&ip, "rp-filter").as_deref(), Some("no"));
    }

    #[test]
    fn a_detail_names_the_argument_its_error_is_about() {
        let menu = "/ip firewall filter".to_string();
        let kinds = [
            ErrorKind::UnknownArgument {
                name: "actoin".into(),
                menu: menu.clone(),
                suggestion: Some("action".into()),
                note: None,
            },
            ErrorKind::BadValue {
                name: "udp-timeout".into(),
                value: "soon".into(),
                expected: "a time value such as 10s, 5m or 1d".into(),
            },
            ErrorKind::MissingArgument {
                name: "chain".into(),
                menu: menu.clone(),
            },
            ErrorKind::PortsNeedProtocol("dst-port".into()),
            ErrorKind::ActionNeeds {
                action: "jump".into(),
                needs: &["jump-target"],
            },
            ErrorKind::OnlyWithAction {
                name: "to-ports".into(),
                actions: &["masquerade", "redirect"],
            },
            ErrorKind::NegationNotAllowed("log".into()),
            ErrorKind::ReadOnly {
                name: "max-entries".into(),
                menu: menu.clone(),
            },
            ErrorKind::ActionNotInChain {
                action: "masquerade".into(),
                chain: "dstnat".into(),
                menu: "/ip firewall nat".into(),
                expected: "srcnat",
            },
            ErrorKind::NotSupported("action=tarpit".into()),
            ErrorKind::CannotUnset("chain".into()),
            ErrorKind::AlreadyExists {
                menu: "/interface list".into(),
                key: "name=LAN".into(),
            },
        ];
        for kind in kinds {
            let detail = api_detail(&kind);
            assert_eq!(detail_argument(&detail), kind.argument(), "{detail}");
        }
        assert_eq!(
            ErrorKind::ActionNeeds {
                action: "dst-nat".into(),
                needs: &["to-addresses", "to-ports"],
            }
            .argument(),
            Some("to-addresses")
        );
        // The scheduler's own wording quotes the argument too.
        assert_eq!(
            detail_argument(
                "invalid value \"soon\" for argument \"interval\": expected a time value"
            ),
            Some("interval")
        );
        assert_eq!(detail_argument("no such item (*9)"), None);
        assert_eq!(detail_argument("failure: internal error"), None);
    }

    #[test]
    fn prepare_changes_nothing_until_commit() {
        let e = editor();
        let before = e.config().clone();
        let edit = e.prepare(FILTER, &Change::Remove(vec![1])).unwrap();
        assert_eq!(edit.config().filter.len(), 2);
        assert_eq!(e.config(), &before);
    }
}
