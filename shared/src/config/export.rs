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
use crate::rsc::{self, Arg, Command, Script, Verb};

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
