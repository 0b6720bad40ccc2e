//! The restore preview: what restoring a script would change, menu by menu, before anything is
//! applied.
//!
//! Both the configuration in force (its compact export) and the script are read by the shared
//! `.rsc` parser and written back in one canonical form, so that how a script is laid out (menu
//! headers or full paths, wrapping, argument order, defaults written out by a verbose export,
//! the `!name` of unset properties) does not show as a change:
//! - the configuration's menus are built into a [`RouterConfig`] as the restore builds them, and
//!   printed as the compact export prints them (if the script has mistakes, its commands are
//!   only put in canonical form: the dry run lists the mistakes);
//! - `/system identity` and `/system scheduler`, which the backup keeps outside the
//!   configuration, are put in canonical form;
//! - each command is one line (`add action=accept chain=input …`), each property of a settings
//!   menu one line of its own (`set udp-timeout=30s`), so a changed timeout shows as itself.
//!
//! Each menu's lines are then compared in order (a longest common subsequence): a rule moved
//! shows as removed where it was and added where it goes, as order matters in a rule list.

use leptos::prelude::*;
use shared::config::RouterConfig;
use shared::rsc::{self, ast::menu_name, Command, Script, Verb};

/// Menus a backup holds that are not the configuration's.
const OUTSIDE: &[&[&str]] = &[&["system", "identity"], &["system", "scheduler"]];

/// One line of a menu's comparison.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Line {
    Same(String),
    Added(String),
    Removed(String),
}

/// One menu's lines, in force and restored, compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MenuDiff {
    /// `/ip firewall filter`.
    pub menu: String,
    pub lines: Vec<Line>,
}

impl MenuDiff {
    pub fn added(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| match l {
            Line::Added(t) => Some(t.as_str()),
            _ => None,
        })
    }

    pub fn removed(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| match l {
            Line::Removed(t) => Some(t.as_str()),
            _ => None,
        })
    }

    pub fn unchanged(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l, Line::Same(_)))
            .count()
    }

    pub fn is_changed(&self) -> bool {
        self.lines.iter().any(|l| !matches!(l, Line::Same(_)))
    }
}

/// What a restore would change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preview {
    /// Every menu of either side, in export order.
    pub menus: Vec<MenuDiff>,
    /// The script does not parse: nothing to compare (the dry run says where).
    pub unreadable: bool,
}

impl Preview {
    /// The menus that change.
    pub fn changed(&self) -> impl Iterator<Item = &MenuDiff> {
        self.menus.iter().filter(|m| m.is_changed())
    }

    /// The menu called `menu` (`/ip firewall filter`).
    pub fn menu(&self, menu: &str) -> Option<&MenuDiff> {
        self.menus.iter().find(|m| m.menu == menu)
    }
}

/// A command as one line, without its menu: `add action=accept chain=input`.
fn line_of(cmd: &Command) -> String {
    let text = rsc::print_terse(&Script {
        commands: vec![cmd.clone()],
    });
    let text = text.trim_end();
    let menu = format!("{} ", menu_name(&cmd.menu));
    text.strip_prefix(&menu).unwrap_or(text).to_string()
}

/// A script as canonical lines, each with its menu; `None` if it does not parse.
pub fn normalise(text: &str) -> Option<Vec<(String, String)>> {
    let script = rsc::parse(text).ok()?;
    let (outside, config): (Vec<Command>, Vec<Command>) = script
        .commands
        .into_iter()
        .partition(|c| OUTSIDE.iter().any(|p| c.menu == *p));
    let config = Script { commands: config };
    let config = match RouterConfig::from_script(&config) {
        Ok(cfg) => cfg.to_script(),
        Err(_) => config.canonical(),
    };
    let outside = Script { commands: outside }.canonical();
    let mut out = Vec::new();
    for cmd in config.commands.iter().chain(&outside.commands) {
        let menu = menu_name(&cmd.menu);
        if cmd.verb == Verb::Set && cmd.selector.is_none() {
            for arg in &cmd.args {
                let mut one = cmd.clone();
                one.args = vec![arg.clone()];
                out.push((menu.clone(), line_of(&one)));
            }
        } else {
            out.push((menu, line_of(cmd)));
        }
    }
    Some(out)
}

/// The longest-common-subsequence table is this big at most; beyond, lines are compared as sets.
const LCS_LIMIT: usize = 4_000_000;

/// `before` → `after`, line by line.
pub fn diff(before: &[String], after: &[String]) -> Vec<Line> {
    let (n, m) = (before.len(), after.len());
    if n.saturating_mul(m) > LCS_LIMIT {
        let mut out: Vec<Line> = Vec::new();
        let mut rest: Vec<&String> = after.iter().collect();
        for line in before {
            match rest.iter().position(|l| *l == line) {
                Some(i) => {
                    rest.remove(i);
                    out.push(Line::Same(line.clone()));
                }
                None => out.push(Line::Removed(line.clone())),
            }
        }
        out.extend(rest.into_iter().map(|l| Line::Added(l.clone())));
        return out;
    }
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if before[i] == after[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(n.max(m));
    while i < n || j < m {
        if i < n && j < m && before[i] == after[j] {
            out.push(Line::Same(before[i].clone()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
            out.push(Line::Removed(before[i].clone()));
            i += 1;
        } else {
            out.push(Line::Added(after[j].clone()));
            j += 1;
        }
    }
    out
}

/// What restoring `script` over the configuration whose export is `current` would change.
pub fn preview(current: &str, script: &str) -> Preview {
    let Some(after) = normalise(script) else {
        return Preview {
            menus: Vec::new(),
            unreadable: true,
        };
    };
    let before = normalise(current).unwrap_or_default();
    let mut menus: Vec<String> = Vec::new();
    for (menu, _) in before.iter().chain(&after) {
        if !menus.contains(menu) {
            menus.push(menu.clone());
        }
    }
    let lines = |side: &[(String, String)], menu: &str| -> Vec<String> {
        side.iter()
            .filter(|(m, _)| m == menu)
            .map(|(_, l)| l.clone())
            .collect()
    };
    Preview {
        menus: menus
            .into_iter()
            .map(|menu| MenuDiff {
                lines: diff(&lines(&before, &menu), &lines(&after, &menu)),
                menu,
            })
            .collect(),
        unreadable: false,
    }
}

/// The comparison, menu by menu: added lines `+`, removed lines `−` (marked by sign and word,
/// not colour alone).
#[component]
pub fn RestorePreview(#[prop(into)] preview: Signal<Preview>) -> impl IntoView {
    let changed = move || preview.with(|p| p.changed().cloned().collect::<Vec<_>>());
    view! {
        <div class="restore-preview" data-testid="restore-preview">
            {move || {
                preview
                    .with(|p| p.unreadable)
                    .then(|| {
                        view! {
                            <p class="waiting">
                                "The script does not parse, so there is nothing to compare: its mistakes are listed below."
                            </p>
                        }
                    })
            }}
            {move || {
                preview
                    .with(|p| !p.unreadable && p.changed().next().is_none())
                    .then(|| {
                        view! {
                            <p data-testid="preview-unchanged">
                                "The script holds the configuration in force: restoring it changes nothing."
                            </p>
                        }
                    })
            }}
            <For each=changed key=|m| m.clone() let:m>
                <section class="menu-diff" data-testid="preview-menu" data-menu=m.menu.clone()>
                    <h3>
                        <code>{m.menu.clone()}</code>
                        " "
                        <span class="diff-counts">
                            {format!(
                                "{} added, {} removed, {} unchanged",
                                m.added().count(),
                                m.removed().count(),
                                m.unchanged(),
                            )}
                        </span>
                    </h3>
                    <ul class="diff">
                        {m
                            .lines
                            .iter()
                            .filter_map(|l| match l {
                                Line::Added(t) => Some(
                                    view! {
                                        <li class="added" data-testid="preview-added">
                                            <span class="sign" aria-label="added">"+"</span>
                                            <code>{t.clone()}</code>
                                        </li>
                                    }
                                        .into_any(),
                                ),
                                Line::Removed(t) => Some(
                                    view! {
                                        <li class="removed" data-testid="preview-removed">
                                            <span class="sign" aria-label="removed">"−"</span>
                                            <code>{t.clone()}</code>
                                        </li>
                                    }
                                        .into_any(),
                                ),
                                Line::Same(_) => None,
                            })
                            .collect_view()}
                    </ul>
                </section>
            </For>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[wasm_bindgen_test]
    fn lines_are_compared_in_order() {
        let d = diff(&lines(&["a", "b", "c"]), &lines(&["a", "c", "b"]));
        let added: Vec<_> = d.iter().filter(|l| matches!(l, Line::Added(_))).collect();
        let removed: Vec<_> = d.iter().filter(|l| matches!(l, Line::Removed(_))).collect();
        assert_eq!((added.len(), removed.len()), (1, 1), "{d:?}");
        assert_eq!(
            diff(&lines(&["x"]), &lines(&[])),
            vec![Line::Removed("x".into())]
        );
        assert_eq!(
            diff(&lines(&[]), &lines(&["y"])),
            vec![Line::Added("y".into())]
        );
    }

    #[wasm_bindgen_test]
    fn layout_is_not_a_change() {
        let compact =
            "/ip firewall filter\nadd action=drop chain=input comment=\"no\" protocol=tcp\n";
        let other =
            "/ip firewall filter add chain=input protocol=tcp \\\n    action=drop comment=no\n";
        let p = preview(compact, other);
        assert!(!p.unreadable);
        assert_eq!(p.changed().count(), 0, "{p:?}");
    }
}
