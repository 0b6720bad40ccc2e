//! Script → configuration: the commands run in order on an empty configuration, as RouterOS's
//! `/import` runs them on a fresh router.
//!
//! - `add` appends an item with the menu's next id (`*1`, `*2`, …; never reused), or places it
//!   before another with `place-before=`;
//! - `set` and `remove` apply to the items a selector names: `[ find name=value … ]` (those whose
//!   properties, as RouterOS prints them, equal every condition; none is no change) or `*id`
//!   (one that does not exist is an error);
//! - each stored item passes the checks RouterOS makes (and statewall's refusals), reported at
//!   the argument that broke them.
//!
//! Unlike RouterOS, which stops at the first error and keeps what ran before it, a script with
//! any mistake is refused whole, with every mistake listed: a restore either applies or leaves
//! the router as it was. When done, ids are renumbered from 1 in list order, as importing the
//! configuration's export would number them, so that import ∘ export is the identity.

use super::menus::{each_menu, ListMenu, MenuVisitor, Props};
use super::model::RouterConfig;
use super::settings::SettingsMenu;
use crate::connection::parse_id;
use crate::rsc::schema::{self, FIND_PROPERTIES};
use crate::rsc::{self, Arg, Command, ErrorKind, RscError, Script, Selector, Verb};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

impl RouterConfig {
    /// Parses, validates and runs a script: the configuration it builds, or every mistake in
    /// it (syntax first: a script that does not parse is not run).
    pub fn from_rsc(text: &str) -> Result<RouterConfig, Vec<RscError>> {
        RouterConfig::from_script(&rsc::parse(text)?)
    }

    /// Validates the script against the schema, then runs it (see the module docs). Every
    /// mistake, of the schema or of meaning, sorted by position; nothing when there is one.
    pub fn from_script(script: &Script) -> Result<RouterConfig, Vec<RscError>> {
        let script = without_hw_offload(script);
        let mut errors = rsc::validate(&script).err().unwrap_or_default();
        let all_valid = errors.is_empty();
        let mut run = Run::default();
        for cmd in &script.commands {
            // A command the schema refused is not run (its values may not even parse), but
            // it still takes its id, so later `*id`s keep pointing where the author meant.
            let valid = all_valid
                || rsc::validate(&Script {
                    commands: vec![cmd.clone()],
                })
                .is_ok();
            let mut found = Vec::new();
            each_menu(&mut Step {
                run: &mut run,
                cmd,
                valid,
                errors: &mut found,
            });
            // `set [ find ]` on many items makes one mistake many times: say it once.
            for e in found {
                if !errors.contains(&e) {
                    errors.push(e);
                }
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.pos);
            return Err(errors);
        }
        let mut cfg = run.cfg;
        each_menu(&mut Renumber { cfg: &mut cfg });
        Ok(cfg)
    }
}

/// The script without `hw-offload=yes|no` in `/ip firewall filter`.
///
/// RouterOS v7 exports put `hw-offload=yes` on the defconf fasttrack rule, so every such export
/// users paste has it. It asks the switch chip to offload fasttracked connections; statewall has
/// no switch chip and its fasttrack is a plain accept, so the argument changes nothing and is
/// dropped here rather than refusing the export. The schema still lists it as unsupported, so
/// `rsc::check` keeps telling a user that it has no effect; a value other than yes/no is left for
/// the schema to refuse.
fn without_hw_offload(script: &Script) -> Cow<'_, Script> {
    let ignored = |cmd: &Command, arg: &Arg| {
        cmd.menu == ["ip", "firewall", "filter"]
            && arg.name == "hw-offload"
            && arg
                .value
                .as_ref()
                .is_some_and(|v| !v.negated && matches!(v.text.as_str(), "yes" | "no"))
    };
    let any = script
        .commands
        .iter()
        .any(|c| c.args.iter().any(|a| ignored(c, a)));
    if !any {
        return Cow::Borrowed(script);
    }
    let mut out = script.clone();
    for cmd in &mut out.commands {
        let keep: Vec<Arg> = cmd
            .args
            .iter()
            .filter(|a| !ignored(cmd, a))
            .cloned()
            .collect();
        cmd.args = keep;
    }
    Cow::Owned(out)
}

/// The configuration being built, and per list menu what ids were given.
#[derive(Default)]
struct Run {
    cfg: RouterConfig,
    ids: HashMap<&'static [&'static str], Ids>,
}

/// Each list menu's last id given, by menu path: ids only go up, so a removed item's id never
/// names another item (RouterOS never reuses one).
pub(crate) type LastIds = HashMap<&'static [&'static str], u32>;

/// Runs one command on a copy of `cfg`, as [`RouterConfig::from_script`] runs each of a script's,
/// but keeping every id: the item-level API's one way to change a configuration, so an argument
/// means the same there as in a script. `last` is each menu's last id given (a menu not in it
/// starts after its highest id); on success it holds the ids this command gave.
pub(crate) fn run_one(
    cfg: &RouterConfig,
    last: &mut LastIds,
    cmd: &Command,
) -> Result<RouterConfig, Vec<RscError>> {
    let script = Script {
        commands: vec![cmd.clone()],
    };
    rsc::validate(&script)?;
    let mut run = Run {
        cfg: cfg.clone(),
        ids: HashMap::new(),
    };
    each_menu(&mut Seed {
        run: &mut run,
        last,
    });
    let mut errors = Vec::new();
    each_menu(&mut Step {
        run: &mut run,
        cmd,
        valid: true,
        errors: &mut errors,
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    for (path, ids) in &run.ids {
        last.insert(path, ids.last);
    }
    Ok(run.cfg)
}

/// Fills a [`Run`]'s ids from an existing configuration: the last id given and who holds each key.
struct Seed<'a> {
    run: &'a mut Run,
    last: &'a LastIds,
}

impl MenuVisitor for Seed<'_> {
    fn list<M: ListMenu>(&mut self) {
        let items = M::items(&self.run.cfg);
        let highest = items.iter().map(M::id).max().unwrap_or(0);
        let last = self.last.get(M::PATH).copied().unwrap_or(0).max(highest);
        let keys = if M::KEY.is_empty() {
            HashMap::new()
        } else {
            items
                .iter()
                .map(|i| (key_of::<M>(&M::to_args(i)), M::id(i)))
                .collect()
        };
        self.run.ids.insert(
            M::PATH,
            Ids {
                last,
                failed: HashSet::new(),
                keys,
            },
        );
    }

    fn settings<S: SettingsMenu>(&mut self) {}
}

#[derive(Default)]
struct Ids {
    /// The last id given (ids start at 1).
    last: u32,
    /// Ids of `add`s that failed: naming one later is not a second mistake.
    failed: HashSet<u32>,
    /// Which item holds each value of the menu's [`ListMenu::KEY`].
    keys: HashMap<Vec<String>, u32>,
}

/// Runs one command, in whichever menu it belongs to.
struct Step<'a> {
    run: &'a mut Run,
    cmd: &'a Command,
    /// Whether the schema accepted the command.
    valid: bool,
    errors: &'a mut Vec<RscError>,
}

impl MenuVisitor for Step<'_> {
    fn list<M: ListMenu>(&mut self) {
        if self.cmd.menu != M::PATH {
            return;
        }
        match self.cmd.verb {
            Verb::Add => self.add::<M>(),
            Verb::Set => self.set::<M>(),
            Verb::Remove => self.remove::<M>(),
        }
    }

    fn settings<S: SettingsMenu>(&mut self) {
        if self.cmd.menu != S::PATH || !self.valid {
            return;
        }
        for arg in &self.cmd.args {
            // `!name` (verbose export: not set) leaves the setting as it is.
            let Some(value) = &arg.value else { continue };
            if let Err(why) = S::set(&mut self.run.cfg, &arg.name, &value.text) {
                self.errors.push(RscError::new(
                    value.pos,
                    ErrorKind::BadValue {
                        name: arg.name.clone(),
                        value: value.text.clone(),
                        expected: why,
                    },
                ));
            }
        }
    }
}

/// The values of `M::KEY` in `args`.
fn key_of<M: ListMenu>(args: &[Arg]) -> Vec<String> {
    M::KEY
        .iter()
        .map(|k| {
            args.iter()
                .find(|a| a.name == *k)
                .and_then(Arg::text)
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

impl Step<'_> {
    fn ids<M: ListMenu>(&mut self) -> &mut Ids {
        self.run.ids.entry(M::PATH).or_default()
    }

    fn menu_name<M: ListMenu>() -> String {
        rsc::ast::menu_name(M::PATH)
    }

    /// Refuses `item` if another item (not `id`) has its key.
    fn check_key<M: ListMenu>(&mut self, id: u32, item: &M::Item, props: &Props) -> bool {
        if M::KEY.is_empty() {
            return true;
        }
        let key = key_of::<M>(&M::to_args(item));
        let holder = self.ids::<M>().keys.get(&key).copied();
        if holder.is_some_and(|h| h != id) {
            let shown: Vec<String> = M::KEY
                .iter()
                .zip(&key)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            self.errors.push(props.error(
                M::KEY,
                ErrorKind::AlreadyExists {
                    menu: Self::menu_name::<M>(),
                    key: shown.join(" "),
                },
            ));
            return false;
        }
        true
    }

    /// Records that `item` (id `id`) now holds its key, and no longer `old`.
    fn set_key<M: ListMenu>(&mut self, id: u32, old: Option<Vec<String>>, item: &M::Item) {
        if M::KEY.is_empty() {
            return;
        }
        let key = key_of::<M>(&M::to_args(item));
        let keys = &mut self.ids::<M>().keys;
        if let Some(old) = old {
            if keys.get(&old) == Some(&id) {
                keys.remove(&old);
            }
        }
        keys.insert(key, id);
    }

    fn add<M: ListMenu>(&mut self) {
        let ids = self.ids::<M>();
        ids.last = ids.last.saturating_add(1);
        let id = ids.last;
        let cmd = self.cmd;
        let placed = if self.valid { self.place::<M>() } else { None };
        let stored = placed.and_then(|index| {
            let props = Props::new(M::PATH, &cmd.args, &cmd.args, cmd.pos);
            match M::from_args(id, &props) {
                Ok(item) if self.check_key::<M>(id, &item, &props) => Some((index, item)),
                Ok(_) => None,
                Err(e) => {
                    self.errors.extend(e);
                    None
                }
            }
        });
        match stored {
            Some((index, item)) => {
                self.set_key::<M>(id, None, &item);
                M::items_mut(&mut self.run.cfg).insert(index, item);
            }
            None => {
                self.ids::<M>().failed.insert(id);
            }
        }
    }

    /// Where `add` puts the item: at the end, or before the rule `place-before=` names (a
    /// position in the list, or an id).
    fn place<M: ListMenu>(&mut self) -> Option<usize> {
        let items = M::items(&self.run.cfg);
        let Some(arg) = self.cmd.get("place-before") else {
            return Some(items.len());
        };
        let target = arg.text().unwrap_or_default();
        let index = match parse_id(target) {
            Some(id) => {
                let found = items.iter().position(|i| M::id(i) == id);
                if found.is_none() && self.ids::<M>().failed.contains(&id) {
                    // That rule failed and is reported; put this one last rather than fail too.
                    return Some(M::items(&self.run.cfg).len());
                }
                found
            }
            None => target.parse::<usize>().ok().filter(|n| *n < items.len()),
        };
        if index.is_none() {
            self.errors.push(RscError::new(
                arg.pos,
                ErrorKind::NoSuchItem {
                    item: target.to_string(),
                    menu: Self::menu_name::<M>(),
                },
            ));
        }
        index
    }

    fn set<M: ListMenu>(&mut self) {
        let targets = self.select::<M>();
        if !self.valid {
            return;
        }
        let cmd = self.cmd;
        if let Some(arg) = cmd.get("place-before") {
            self.errors.push(RscError::new(
                arg.pos,
                ErrorKind::OnlyWithVerb {
                    name: arg.name.clone(),
                    verb: "add",
                },
            ));
            return;
        }
        let required: Vec<&str> = schema::menu(M::PATH)
            .map(|m| m.required().collect())
            .unwrap_or_default();
        let unset = cmd
            .args
            .iter()
            .find(|a| a.value.is_none() && required.contains(&a.name.as_str()));
        if let Some(arg) = unset {
            self.errors.push(RscError::new(
                arg.pos,
                ErrorKind::CannotUnset(arg.name.clone()),
            ));
            return;
        }
        for index in targets {
            let Some(old) = M::items(&self.run.cfg).get(index) else {
                continue;
            };
            let id = M::id(old);
            let mut args = M::to_args(old);
            let old_key = key_of::<M>(&args);
            for change in &cmd.args {
                args.retain(|a| a.name != change.name);
                if change.value.is_some() {
                    args.push(change.clone());
                }
            }
            let props = Props::new(M::PATH, &args, &cmd.args, cmd.pos);
            match M::from_args(id, &props) {
                Ok(item) => {
                    if self.check_key::<M>(id, &item, &props) {
                        self.set_key::<M>(id, Some(old_key), &item);
                        if let Some(slot) = M::items_mut(&mut self.run.cfg).get_mut(index) {
                            *slot = item;
                        }
                    }
                }
                Err(e) => self.errors.extend(e),
            }
        }
    }

    fn remove<M: ListMenu>(&mut self) {
        let mut targets = self.select::<M>();
        if !self.valid {
            return;
        }
        targets.sort_unstable();
        targets.dedup();
        for index in targets.into_iter().rev() {
            let items = M::items_mut(&mut self.run.cfg);
            if index < items.len() {
                let item = items.remove(index);
                let (id, key) = (M::id(&item), key_of::<M>(&M::to_args(&item)));
                let keys = &mut self.ids::<M>().keys;
                if keys.get(&key) == Some(&id) {
                    keys.remove(&key);
                }
            }
        }
    }

    /// Positions of the items the command's selector names.
    fn select<M: ListMenu>(&mut self) -> Vec<usize> {
        let cmd = self.cmd;
        let items = M::items(&self.run.cfg);
        match &cmd.selector {
            Some(Selector::Find(conditions)) => items
                .iter()
                .enumerate()
                .filter(|(_, item)| matches(&M::to_args(item), conditions))
                .map(|(i, _)| i)
                .collect(),
            Some(Selector::Ids(ids)) => {
                let mut out = Vec::new();
                for text in ids {
                    let id = parse_id(text);
                    let found = id.and_then(|id| items.iter().position(|i| M::id(i) == id));
                    match found {
                        Some(i) => out.push(i),
                        None if id.is_some_and(|id| {
                            self.run
                                .ids
                                .get(M::PATH)
                                .is_some_and(|ids| ids.failed.contains(&id))
                        }) => {}
                        None => self.errors.push(RscError::new(
                            cmd.pos,
                            ErrorKind::NoSuchItem {
                                item: text.clone(),
                                menu: Self::menu_name::<M>(),
                            },
                        )),
                    }
                }
                out
            }
            None => Vec::new(),
        }
    }
}

/// Whether an item with these properties (as RouterOS prints them) meets every condition of a
/// `[ find … ]`. `!name` asks for a property that is not set.
fn matches(props: &[Arg], conditions: &[Arg]) -> bool {
    conditions.iter().all(|c| {
        let have = props
            .iter()
            .find(|a| a.name == c.name)
            .and_then(|a| a.value.as_ref());
        match (&c.value, have) {
            (None, have) => have.is_none_or(|v| v.text.is_empty()),
            (Some(want), Some(have)) => {
                want.negated == have.negated && same_text(&want.text, &have.text)
            }
            // Items a script adds are static, not built-in, and not known invalid here.
            (Some(want), None) => {
                FIND_PROPERTIES.contains(&c.name.as_str())
                    && c.name != "default-name"
                    && !want.negated
                    && same_text(&want.text, "no")
            }
        }
    })
}

/// Equal, reading `true`/`false` as RouterOS does: `yes`/`no`.
pub(crate) fn same_text(want: &str, have: &str) -> bool {
    fn canonical(s: &str) -> &str {
        match s {
            "true" => "yes",
            "false" => "no",
            other => other,
        }
    }
    want == have || canonical(want) == canonical(have)
}

/// Gives every list menu's items ids 1, 2, … in list order.
struct Renumber<'a> {
    cfg: &'a mut RouterConfig,
}

impl MenuVisitor for Renumber<'_> {
    fn list<M: ListMenu>(&mut self) {
        for (id, item) in (1u32..).zip(M::items_mut(self.cfg)) {
            *M::id_mut(item) = id;
        }
    }

    fn settings<S: SettingsMenu>(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_compares_printed_values() {
        let props = [
            Arg::new("comment", "x y"),
            Arg::new("disabled", "no"),
            Arg::negated("in-interface-list", "LAN"),
            Arg::new("log-prefix", ""),
        ];
        let yes = |conds: &[Arg]| matches(&props, conds);
        assert!(yes(&[]));
        assert!(yes(&[
            Arg::new("comment", "x y"),
            Arg::new("disabled", "false")
        ]));
        assert!(yes(&[Arg::negated("in-interface-list", "LAN")]));
        assert!(!yes(&[Arg::new("in-interface-list", "LAN")]));
        assert!(yes(&[Arg::new("dynamic", "no"), Arg::new("default", "no")]));
        assert!(!yes(&[Arg::new("dynamic", "yes")]));
        assert!(!yes(&[Arg::new("default-name", "ether1")]));
        assert!(yes(&[
            Arg::unset("log-prefix"),
            Arg::unset("out-interface")
        ]));
        assert!(!yes(&[Arg::unset("comment")]));
    }

    #[test]
    fn hw_offload_is_dropped_only_as_yes_or_no_in_filter() {
        let script = rsc::parse(
            "/ip firewall filter\nadd action=fasttrack-connection chain=forward hw-offload=yes\n\
             add chain=forward hw-offload=maybe",
        )
        .unwrap();
        let cleaned = without_hw_offload(&script);
        assert!(cleaned.commands[0].get("hw-offload").is_none());
        assert!(cleaned.commands[1].get("hw-offload").is_some());
        let untouched = rsc::parse("/ip firewall filter\nadd chain=forward").unwrap();
        assert!(matches!(without_hw_offload(&untouched), Cow::Borrowed(_)));
    }
}
