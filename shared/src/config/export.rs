//! Configuration → script, as RouterOS's compact `/export` writes it: menus in RouterOS's order,
//! one `add` per item, settings menus only when something differs from the defaults, and every
//! property at its default left out.
//!
//! Ids are not written (an export never has them): importing gives items fresh ids in list
//! order, which is how [`RouterConfig::from_script`] numbers them, so export then import gives
//! back the configuration it started from.

use super::menus::{each_menu, ListMenu, MenuVisitor};
use super::model::RouterConfig;
use super::settings::SettingsMenu;
use crate::rsc::{self, schema, Arg, Command, Script, Verb};

impl RouterConfig {
    /// The configuration as a compact `/export`, arguments in canonical (sorted) order.
    pub fn to_script(&self) -> Script {
        let mut export = Export {
            cfg: self,
            script: Script::default(),
        };
        each_menu(&mut export);
        export.script
    }

    /// The text of [`RouterConfig::to_script`], wrapped at 80 columns as RouterOS writes it.
    pub fn to_rsc(&self) -> String {
        rsc::print(&self.to_script())
    }

    /// The configuration as `/export verbose` writes it: every menu, settings menus whole,
    /// every property of every item (defaults included), and each argument an item leaves
    /// unset as a `!name` token, all sorted by name (routeros.md §7). It imports back to the
    /// same configuration.
    pub fn to_script_verbose(&self) -> Script {
        let mut export = Verbose {
            cfg: self,
            script: Script::default(),
        };
        each_menu(&mut export);
        export.script
    }
}

/// Arguments of `add` that are not properties of the item, so a verbose export has no `!name`
/// for them.
const COMMAND_ONLY: &[&str] = &["place-before"];

struct Verbose<'a> {
    cfg: &'a RouterConfig,
    script: Script,
}

impl MenuVisitor for Verbose<'_> {
    fn list<M: ListMenu>(&mut self) {
        let names = schema::menu(M::PATH)
            .map(|m| m.arg_names())
            .unwrap_or_default();
        for item in M::items(self.cfg) {
            let mut args = M::to_args(item);
            for name in &names {
                if !COMMAND_ONLY.contains(name) && !args.iter().any(|a| a.name == *name) {
                    args.push(Arg::unset(*name));
                }
            }
            args.sort_by(|a, b| a.name.cmp(&b.name));
            self.script.commands.push(Command {
                args,
                ..Command::new(M::PATH, Verb::Add)
            });
        }
    }

    fn settings<S: SettingsMenu>(&mut self) {
        let mut args: Vec<Arg> = S::pairs(self.cfg)
            .into_iter()
            .map(|(k, v)| Arg::new(k, v))
            .collect();
        args.sort_by(|a, b| a.name.cmp(&b.name));
        self.script.commands.push(Command {
            args,
            ..Command::new(S::PATH, Verb::Set)
        });
    }
}

struct Export<'a> {
    cfg: &'a RouterConfig,
    script: Script,
}

impl Export<'_> {
    fn push(&mut self, path: &[&str], verb: Verb, mut args: Vec<Arg>) {
        args.sort_by(|a, b| a.name.cmp(&b.name));
        self.script.commands.push(Command {
            args,
            ..Command::new(path, verb)
        });
    }
}

impl MenuVisitor for Export<'_> {
    fn list<M: ListMenu>(&mut self) {
        for item in M::items(self.cfg) {
            let mut args = M::to_args(item);
            args.retain(|a| {
                let default = a.value.as_ref().is_some_and(|v| {
                    !v.negated && M::DEFAULTS.contains(&(a.name.as_str(), v.text.as_str()))
                });
                !default
            });
            self.push(M::PATH, Verb::Add, args);
        }
    }

    fn settings<S: SettingsMenu>(&mut self) {
        let pairs = S::changed(self.cfg);
        if !pairs.is_empty() {
            let args = pairs.into_iter().map(|(k, v)| Arg::new(k, v)).collect();
            self.push(S::PATH, Verb::Set, args);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::defconf;

    #[test]
    fn verbose_export_has_every_property_and_imports_back() {
        let mut cfg = defconf("ether2", "ether1");
        cfg.tracking.set("udp-timeout", "1m").unwrap();
        let script = cfg.to_script_verbose();
        let text = rsc::print(&script);
        // Settings menus are written whole, even where nothing differs from the defaults.
        assert!(text.contains("/ip settings\nset "), "{text}");
        assert!(text.contains("udp-timeout=1m"), "{text}");
        // Defaults are written, and arguments an item leaves unset are `!name`.
        let filter = script
            .in_menu(&["ip", "firewall", "filter"])
            .next()
            .expect("a filter rule");
        assert_eq!(filter.get("log").and_then(|a| a.text()), Some("no"));
        assert!(filter
            .args
            .iter()
            .any(|a| a.name == "src-address" && a.value.is_none()));
        assert!(filter.get("place-before").is_none());
        let names: Vec<&str> = filter.args.iter().map(|a| a.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert!(text.len() > cfg.to_rsc().len());
        assert_eq!(RouterConfig::from_rsc(&text), Ok(cfg));
    }
}
