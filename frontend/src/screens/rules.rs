//! Firewall and NAT: the rule lists with their counters (the dashboard issue's "Firewall and
//! NAT" screens). One component serves both tables.
//!
//! - The list is REST's print (`GET /rest/ip/firewall/filter`), read again after every change;
//!   the packet and byte counters follow the live feed's `rules` (REST's print until it speaks).
//! - `?chain=forward` in the URL shows one chain (the Flow screen links there); the chain menu
//!   changes the URL, so a reload or a shared link keeps it. Numbers are the rules' positions in
//!   the whole table, as RouterOS numbers them.
//! - Per rule: edit, enable/disable, move up/down (before the previous shown rule, or the next
//!   one before it; buttons, so the keyboard does it too, and the focus stays on the button),
//!   reset its counters, remove (asked again in place). Above the list: add, reset all counters.
//! - The form and its checks are in `form`.

mod form;

pub use form::{check as check_rule, RuleForm, FIELDS};

use crate::api::{self, ApiError};
use crate::feed::Feed;
use crate::format;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::query_signal;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Which rule list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleTable {
    /// `/ip firewall filter`.
    Filter,
    /// `/ip firewall nat`.
    Nat,
}

impl RuleTable {
    /// The menu under `/rest`.
    pub fn rest_path(self) -> &'static str {
        match self {
            RuleTable::Filter => "/ip/firewall/filter",
            RuleTable::Nat => "/ip/firewall/nat",
        }
    }

    /// The menu as the configuration editor names it.
    pub fn menu(self) -> &'static [&'static str] {
        match self {
            RuleTable::Filter => &["ip", "firewall", "filter"],
            RuleTable::Nat => &["ip", "firewall", "nat"],
        }
    }

    /// The feed's name for it (`shared::feed::RuleCounters::table`).
    pub fn feed_name(self) -> &'static str {
        match self {
            RuleTable::Filter => "filter",
            RuleTable::Nat => "nat",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            RuleTable::Filter => "Firewall rules",
            RuleTable::Nat => "NAT rules",
        }
    }

    /// "a firewall rule", "a NAT rule".
    pub fn noun(self) -> &'static str {
        match self {
            RuleTable::Filter => "firewall",
            RuleTable::Nat => "NAT",
        }
    }

    /// The chains packets enter the table by.
    pub fn builtin_chains(self) -> &'static [&'static str] {
        match self {
            RuleTable::Filter => &["input", "forward", "output"],
            RuleTable::Nat => &["srcnat", "dstnat"],
        }
    }
}

/// Properties REST prints that are not set by anyone: counters and flags.
pub const READ_ONLY: &[&str] = &["bytes", "packets", "dynamic", "invalid"];

/// One rule as REST prints it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// `*3`.
    pub id: String,
    pub props: BTreeMap<String, String>,
}

impl Rule {
    /// From REST's object; `None` without an `.id`.
    pub fn from_rest(mut props: BTreeMap<String, String>) -> Option<Rule> {
        let id = props.remove(".id")?;
        Some(Rule { id, props })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.props.get(name).map(String::as_str)
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "yes"))
    }

    pub fn disabled(&self) -> bool {
        self.flag("disabled")
    }

    /// Names an interface that is not there (RouterOS's flag I).
    pub fn invalid(&self) -> bool {
        self.flag("invalid")
    }

    fn count(&self, name: &str) -> u64 {
        self.get(name).and_then(|n| n.parse().ok()).unwrap_or(0)
    }

    /// What the rule matches and its action's arguments, as `name=value` words (the columns
    /// of their own left out).
    pub fn matchers(&self) -> String {
        const SHOWN: &[&str] = &[
            "chain",
            "action",
            "comment",
            "disabled",
            "log",
            "log-prefix",
        ];
        let mut words: Vec<String> = self
            .props
            .iter()
            .filter(|(k, _)| !SHOWN.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if self.flag("log") {
            match self.get("log-prefix") {
                Some(p) if !p.is_empty() => words.push(format!("log log-prefix={p}")),
                _ => words.push("log".into()),
            }
        }
        words.join(" ")
    }
}

/// The rules of a table, in order.
async fn load(table: RuleTable) -> Result<Vec<Rule>, ApiError> {
    let rows: Vec<BTreeMap<String, String>> = api::get(table.rest_path()).await?;
    Ok(rows.into_iter().filter_map(Rule::from_rest).collect())
}

/// The rules shown: with their position in the whole table, those of `chain` (all without).
pub fn shown(rules: &[Rule], chain: Option<&str>) -> Vec<(usize, Rule)> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| chain.is_none_or(|c| r.get("chain") == Some(c)))
        .map(|(i, r)| (i, r.clone()))
        .collect()
}

/// Which way a rule moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// The `move` that takes rule `id` one place up or down among those shown: `(.id,
/// destination)`, the rule moved and the one it goes before; `None` at the edge.
pub fn move_args(shown: &[(usize, Rule)], id: &str, dir: Direction) -> Option<(String, String)> {
    let at = shown.iter().position(|(_, r)| r.id == id)?;
    match dir {
        Direction::Up => {
            let before = &shown.get(at.checked_sub(1)?)?.1;
            Some((id.to_string(), before.id.clone()))
        }
        Direction::Down => {
            let next = &shown.get(at + 1)?.1;
            Some((next.id.clone(), id.to_string()))
        }
    }
}

/// An element id made of a rule id (`*1A` → `1A`).
fn dom_id(rule: &str, what: &str) -> String {
    format!("rule-{}-{what}", rule.trim_start_matches('*'))
}

/// Moves the keyboard focus to the element with this id.
pub(crate) fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// The routed screen: the table and the chain of the URL.
#[component]
pub fn Rules(table: RuleTable) -> impl IntoView {
    let (chain, set_chain) = query_signal::<String>("chain");
    view! {
        <RuleList
            table=table
            chain=Signal::derive(move || chain.get().filter(|c| !c.is_empty()))
            on_chain=Callback::new(move |c: Option<String>| set_chain.set(c))
        />
    }
}

/// What the form is doing.
#[derive(Debug, Clone, PartialEq)]
enum FormMode {
    Closed,
    Add,
    Edit(Rule),
}

/// The list of one table, its actions and the form.
#[component]
pub fn RuleList(
    table: RuleTable,
    /// Only this chain's rules.
    #[prop(into)]
    chain: Signal<Option<String>>,
    /// The user picked another chain (`None`: all).
    on_chain: Callback<Option<String>>,
) -> impl IntoView {
    let rules = RwSignal::new(None::<Vec<Rule>>);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let form = RwSignal::new(FormMode::Closed);
    let confirming = RwSignal::new(None::<String>);
    let interfaces = RwSignal::new(Vec::<String>::new());
    let interface_lists = RwSignal::new(Vec::<String>::new());
    let feed = use_context::<Feed>();

    // Loads the list; then puts the focus on `refocus`, if given (the button a move pressed).
    let reload = move |refocus: Option<String>| {
        spawn_local(async move {
            match load(table).await {
                Ok(list) => {
                    rules.set(Some(list));
                    if let Some(id) = refocus {
                        request_animation_frame(move || focus(&id));
                    }
                }
                Err(e) => error.set(Some(format!("Cannot read the rules: {e}"))),
            }
        })
    };
    reload(None);
    spawn_local(async move {
        let names = |rows: Vec<BTreeMap<String, String>>| {
            rows.into_iter()
                .filter_map(|mut r| r.remove("name"))
                .collect::<Vec<_>>()
        };
        if let Ok(rows) = api::get("/interface").await {
            interfaces.set(names(rows));
        }
        if let Ok(rows) = api::get("/interface/list").await {
            interface_lists.set(names(rows));
        }
    });

    // Runs one command, then reads the list again.
    let run = move |path: String, body: Value, done: String, refocus: Option<String>| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        status.set(None);
        spawn_local(async move {
            match api::post::<Value>(&path, &body).await {
                Ok(_) => status.set(Some(done)),
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
            reload(refocus);
        });
    };
    let command = move |verb: &str, id: &str, done: String| {
        run(
            format!("{}/{verb}", table.rest_path()),
            json!({ ".id": id }),
            done,
            None,
        )
    };
    let remove = move |id: String| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        confirming.set(None);
        spawn_local(async move {
            match api::delete(&format!("{}/{id}", table.rest_path())).await {
                Ok(()) => status.set(Some(format!("Rule {id} removed."))),
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
            reload(None);
        });
    };
    let visible = Memo::new(move |_| {
        rules.with(|r| {
            r.as_deref()
                .map(|r| shown(r, chain.get().as_deref()))
                .unwrap_or_default()
        })
    });
    let step = move |id: String, dir: Direction| {
        let Some((moved, before)) = visible.with_untracked(|v| move_args(v, &id, dir)) else {
            return;
        };
        let word = if dir == Direction::Up { "up" } else { "down" };
        let refocus = dom_id(&id, word);
        run(
            format!("{}/move", table.rest_path()),
            json!({ ".id": moved, "destination": before }),
            format!("Rule {id} moved {word}."),
            Some(refocus),
        );
    };
    // Live counters from the feed: (packets, bytes) of a rule, when the feed has it.
    let live = move |id: &str| -> Option<(u64, u64)> {
        let snapshot = feed?.snapshot()?;
        snapshot
            .rules
            .iter()
            .find(|r| r.table == table.feed_name() && r.id == id)
            .map(|r| (r.packets, r.bytes))
    };
    let chains = Memo::new(move |_| {
        let mut all: Vec<String> = table
            .builtin_chains()
            .iter()
            .map(|c| c.to_string())
            .collect();
        rules.with(|r| {
            for rule in r.iter().flatten() {
                if let Some(c) = rule.get("chain") {
                    if !all.iter().any(|a| a == c) {
                        all.push(c.to_string());
                    }
                }
            }
        });
        if let Some(c) = chain.get() {
            if !all.contains(&c) {
                all.push(c);
            }
        }
        all
    });
    let saved = Callback::new(move |message: String| {
        form.set(FormMode::Closed);
        status.set(Some(message));
        reload(None);
        request_animation_frame(|| focus("rule-add"));
    });
    let cancel = Callback::new(move |()| {
        let back = match form.get_untracked() {
            FormMode::Edit(rule) => dom_id(&rule.id, "edit"),
            _ => "rule-add".into(),
        };
        form.set(FormMode::Closed);
        request_animation_frame(move || focus(&back));
    });
    let row = move |(index, rule): (usize, Rule)| {
        let id = rule.id.clone();
        let number = index.to_string();
        let (rest_packets, rest_bytes) = (rule.count("packets"), rule.count("bytes"));
        let counters = {
            let id = id.clone();
            move || live(&id).unwrap_or((rest_packets, rest_bytes))
        };
        let packets = {
            let counters = counters.clone();
            move || format::count(counters().0)
        };
        let bytes = move || format::bytes(counters().1);
        let disabled = rule.disabled();
        let (edit_id, up_id, down_id) =
            (dom_id(&id, "edit"), dom_id(&id, "up"), dom_id(&id, "down"));
        let label = |what: &str| format!("{what} rule {number}");
        let edit_rule = rule.clone();
        // One handle for every button's handler to read the id from.
        let rid = StoredValue::new(id.clone());
        let is_confirming = {
            let id = id.clone();
            move || confirming.get().as_deref() == Some(id.as_str())
        };
        view! {
            <tr
                class:disabled=disabled
                data-testid="rule-row"
                data-id=id.clone()
            >
                <td class="num">{number.clone()}</td>
                <td class="flags">
                    {disabled.then(|| view! { <abbr title="disabled">"X"</abbr> })}
                    {rule.invalid().then(|| view! { <abbr title="invalid: names an interface that is not there">"I"</abbr> })}
                </td>
                <td>{rule.get("chain").unwrap_or_default().to_string()}</td>
                <td>{rule.get("action").unwrap_or_default().to_string()}</td>
                <td class="matchers"><code>{rule.matchers()}</code></td>
                <td class="comment">{rule.get("comment").unwrap_or_default().to_string()}</td>
                <td class="count" data-testid="rule-packets">{packets}</td>
                <td class="count" data-testid="rule-bytes">{bytes}</td>
                <td>
                    <div class="row-actions">
                    <button
                        type="button"
                        id=edit_id
                        aria-label=label("Edit")
                        disabled=move || busy.get()
                        on:click=move |_| form.set(FormMode::Edit(edit_rule.clone()))
                    >
                        "Edit"
                    </button>
                    <button
                        type="button"
                        data-testid="rule-toggle"
                        aria-label=label(if disabled { "Enable" } else { "Disable" })
                        disabled=move || busy.get()
                        on:click=move |_| {
                            let (verb, done) = if disabled {
                                ("enable", format!("Rule {} enabled.", rid.get_value()))
                            } else {
                                ("disable", format!("Rule {} disabled.", rid.get_value()))
                            };
                            command(verb, &rid.get_value(), done)
                        }
                    >
                        {if disabled { "Enable" } else { "Disable" }}
                    </button>
                    <button
                        type="button"
                        id=up_id
                        aria-label=label("Move up")
                        title="Move up"
                        disabled=move || busy.get()
                        on:click=move |_| step(rid.get_value(), Direction::Up)
                    >
                        "↑"
                    </button>
                    <button
                        type="button"
                        id=down_id
                        aria-label=label("Move down")
                        title="Move down"
                        disabled=move || busy.get()
                        on:click=move |_| step(rid.get_value(), Direction::Down)
                    >
                        "↓"
                    </button>
                    <button
                        type="button"
                        aria-label=label("Reset the counters of")
                        disabled=move || busy.get()
                        on:click=move |_| {
                            let id = rid.get_value();
                            command("reset-counters", &id, format!("Counters of rule {id} reset."))
                        }
                    >
                        "Reset"
                    </button>
                    <Show
                        when=is_confirming
                        fallback=move || {
                            view! {
                                <button
                                    type="button"
                                    class="danger"
                                    aria-label=format!("Remove rule {index}")
                                    disabled=move || busy.get()
                                    on:click=move |_| confirming.set(Some(rid.get_value()))
                                >
                                    "Remove"
                                </button>
                            }
                        }
                    >
                        <button
                            type="button"
                            class="danger"
                            data-testid="rule-remove-confirm"
                            aria-label=format!("Really remove rule {index}")
                            on:click={
                                move |_| remove(rid.get_value())
                            }
                        >
                            "Really remove"
                        </button>
                        <button type="button" on:click=move |_| confirming.set(None)>
                            "Keep"
                        </button>
                    </Show>
                    </div>
                </td>
            </tr>
        }
    };
    view! {
        <h1>{table.title()}</h1>
        <div class="toolbar">
            <label for="rule-chain">"Chain"</label>
            <select
                id="rule-chain"
                data-testid="rule-chain"
                on:change:target=move |ev| {
                    let c = ev.target().value();
                    on_chain.run((!c.is_empty()).then_some(c));
                }
            >
                <option value="" selected=move || chain.get().is_none()>
                    "all chains"
                </option>
                <For each=move || chains.get() key=|c| c.clone() let:c>
                    <option value=c.clone() selected={
                        let c = c.clone();
                        move || chain.get().as_deref() == Some(c.as_str())
                    }>{c.clone()}</option>
                </For>
            </select>
            <button
                type="button"
                id="rule-add"
                data-testid="rule-add"
                disabled=move || busy.get()
                on:click=move |_| form.set(FormMode::Add)
            >
                "Add rule"
            </button>
            <button
                type="button"
                data-testid="rule-reset-all"
                disabled=move || busy.get()
                on:click=move |_| {
                    run(
                        format!("{}/reset-counters-all", table.rest_path()),
                        json!({}),
                        "All counters reset.".into(),
                        None,
                    )
                }
            >
                "Reset all counters"
            </button>
            <span class="count-note" data-testid="rule-count">
                {move || {
                    rules.with(|r| r.as_ref().map(|r| r.len())).map(|all| {
                        let n = visible.with(Vec::len);
                        if n == all {
                            format!("{all} rules")
                        } else {
                            format!("{n} of {all} rules")
                        }
                    })
                }}
            </span>
        </div>
        <p class="status" role="status" data-testid="rules-status">{move || status.get()}</p>
        <p class="error" role="alert" data-testid="rules-error">{move || error.get()}</p>
        {move || match form.get() {
            FormMode::Closed => ().into_any(),
            mode => {
                let editing = match mode {
                    FormMode::Edit(rule) => Some(rule),
                    _ => None,
                };
                let start = chain.get_untracked().unwrap_or_else(|| {
                    match table {
                        RuleTable::Filter => "forward",
                        RuleTable::Nat => "srcnat",
                    }
                    .to_string()
                });
                view! {
                    <RuleForm
                        table=table
                        editing=editing
                        chain=start
                        interfaces=interfaces
                        interface_lists=interface_lists
                        on_saved=saved
                        on_cancel=cancel
                    />
                }
                .into_any()
            }
        }}
        <div class="panel scroll">
            <Show
                when=move || rules.with(Option::is_some)
                fallback=|| view! { <p class="loading">"Loading the rules…"</p> }
            >
                <table class="rules" data-testid="rule-table">
                    <thead>
                        <tr>
                            <th scope="col">"#"</th>
                            <th scope="col"><span class="visually-hidden">"Flags"</span></th>
                            <th scope="col">"Chain"</th>
                            <th scope="col">"Action"</th>
                            <th scope="col">"Matches"</th>
                            <th scope="col">"Comment"</th>
                            <th scope="col" class="count">"Packets"</th>
                            <th scope="col" class="count">"Bytes"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || visible.get() key=|item| item.clone() children=row />
                    </tbody>
                </table>
                <Show when=move || visible.with(Vec::is_empty)>
                    <p class="waiting">"No rules here."</p>
                </Show>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn rule(id: &str, pairs: &[(&str, &str)]) -> Rule {
        Rule {
            id: id.into(),
            props: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[wasm_bindgen_test]
    fn moves_go_past_the_neighbour_shown() {
        let rules = vec![
            rule("*1", &[("chain", "input")]),
            rule("*2", &[("chain", "forward")]),
            rule("*3", &[("chain", "input")]),
            rule("*5", &[("chain", "forward")]),
        ];
        let all = shown(&rules, None);
        assert_eq!(all.len(), 4);
        let fwd = shown(&rules, Some("forward"));
        assert_eq!(fwd.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(
            move_args(&fwd, "*5", Direction::Up),
            Some(("*5".into(), "*2".into()))
        );
        assert_eq!(
            move_args(&fwd, "*2", Direction::Down),
            Some(("*5".into(), "*2".into()))
        );
        assert_eq!(move_args(&fwd, "*2", Direction::Up), None);
        assert_eq!(move_args(&all, "*5", Direction::Down), None);
        assert_eq!(
            move_args(&all, "*3", Direction::Up),
            Some(("*3".into(), "*2".into()))
        );
    }

    #[wasm_bindgen_test]
    fn matchers_leave_out_what_has_a_column() {
        let r = rule(
            "*1",
            &[
                ("chain", "forward"),
                ("action", "drop"),
                ("connection-state", "new"),
                ("in-interface-list", "!LAN"),
                ("log", "true"),
                ("log-prefix", "x-"),
                ("bytes", "5"),
                ("disabled", "false"),
            ],
        );
        assert_eq!(
            r.matchers(),
            "connection-state=new in-interface-list=!LAN log log-prefix=x-"
        );
        assert!(!r.disabled());
        assert_eq!(dom_id("*1A", "up"), "rule-1A-up");
    }
}
