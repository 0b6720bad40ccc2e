//! The rule form: add a rule, or edit one, with the properties most rules use.
//!
//! What is typed is checked at once as the router checks it: the rule (for an edit, the rule as
//! it would be after the change) is run through the configuration editor the REST API runs, as
//! an `add` to an empty configuration, and each mistake is shown beside the field it names, in
//! the words the router would answer. Hints come from the same schema (`shape.expected()`).
//!
//! Adding is `PUT /rest/ip/firewall/{filter,nat}`. Editing sends only what changed: `PATCH …/*ID`
//! with the new values, and `POST …/unset` for the fields emptied (an emptied field the router
//! cannot let go of on its own, such as a `jump-target` while the action is still `jump`, is
//! unset after the `PATCH`, or before it when that is the order the router takes). A refusal
//! goes beside the field it names.

use super::{Rule, RuleTable, READ_ONLY};
use crate::api::{self, ApiError};
use crate::screens::fields::{self, Field, Mistake};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value};
use shared::config::edit::{Change, Editor};
use shared::config::RouterConfig;
use shared::rsc::schema::{self, FILTER_ACTIONS, NAT_ACTIONS};
use shared::rsc::ErrorKind;

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Free text, with an example.
    Text(&'static str),
    /// The table's actions.
    Action,
    /// yes / no.
    Check,
}

/// One field of the form.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub control: Control,
    /// Only in this table (`None`: both).
    pub table: Option<RuleTable>,
    /// Only with these actions (`None`: any).
    pub actions: Option<&'static [&'static str]>,
}

const fn text(name: &'static str, label: &'static str, example: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        label,
        control: Control::Text(example),
        table: None,
        actions: None,
    }
}

/// The form's fields, in the order a rule reads: where, what, then what it does.
pub const FIELDS: &[FieldSpec] = &[
    text("chain", "Chain", "forward"),
    FieldSpec {
        control: Control::Action,
        ..text("action", "Action", "")
    },
    FieldSpec {
        actions: Some(&["jump"]),
        ..text("jump-target", "Jump target", "my-chain")
    },
    FieldSpec {
        table: Some(RuleTable::Nat),
        actions: Some(&["src-nat", "dst-nat"]),
        ..text("to-addresses", "To addresses", "192.0.2.10")
    },
    FieldSpec {
        table: Some(RuleTable::Nat),
        actions: Some(&["src-nat", "dst-nat", "masquerade", "redirect"]),
        ..text("to-ports", "To ports", "8080")
    },
    text("protocol", "Protocol", "tcp"),
    text("src-address", "Source address", "192.168.88.0/24"),
    text("dst-address", "Destination address", "!10.0.0.0/8"),
    text("src-port", "Source port", "1024-65535"),
    text("dst-port", "Destination port", "80,443"),
    text("in-interface", "In interface", "ether1"),
    text("out-interface", "Out interface", "ether1"),
    text("in-interface-list", "In interface list", "!LAN"),
    text("out-interface-list", "Out interface list", "WAN"),
    FieldSpec {
        table: Some(RuleTable::Filter),
        ..text(
            "connection-state",
            "Connection state",
            "established,related",
        )
    },
    FieldSpec {
        table: Some(RuleTable::Filter),
        ..text("connection-nat-state", "Connection NAT state", "!dstnat")
    },
    FieldSpec {
        control: Control::Check,
        ..text("log", "Log", "")
    },
    text("log-prefix", "Log prefix", "fw-"),
    text("comment", "Comment", "what this rule is for"),
    FieldSpec {
        control: Control::Check,
        ..text("disabled", "Disabled", "")
    },
];

impl FieldSpec {
    /// Whether the field belongs to this table at all.
    pub fn in_table(&self, table: RuleTable) -> bool {
        self.table.is_none_or(|t| t == table)
    }

    /// Whether the field applies with this action (else it is hidden and not sent).
    pub fn applies(&self, table: RuleTable, action: &str) -> bool {
        self.in_table(table) && self.actions.is_none_or(|a| a.contains(&action))
    }

    /// What the schema says the value is, and whether `!` negates it.
    pub fn hint(&self, table: RuleTable) -> String {
        match self.name {
            "action" => return "What a matching packet gets".into(),
            "log" => return "Log each matching packet to the router's log".into(),
            "disabled" => return "Kept in the list but not used".into(),
            _ => {}
        }
        let spec = schema::menu(table.menu()).and_then(|m| m.spec(self.name));
        let mut out = spec.map(|s| s.shape.expected()).unwrap_or_default();
        if spec.is_some_and(|s| s.negatable) {
            out.push_str("; a leading ! negates");
        }
        if let Control::Text(example) = self.control {
            if !example.is_empty() {
                out.push_str(&format!(" (e.g. {example})"));
            }
        }
        out
    }
}

/// The form's fields for a table.
pub fn fields_of(table: RuleTable) -> impl Iterator<Item = &'static FieldSpec> {
    FIELDS.iter().filter(move |f| f.in_table(table))
}

/// The actions statewall runs in a table (RouterOS's list without those it refuses).
pub fn actions(table: RuleTable) -> Vec<&'static str> {
    let all = match table {
        RuleTable::Filter => FILTER_ACTIONS,
        RuleTable::Nat => NAT_ACTIONS,
    };
    let editor = Editor::new(RouterConfig::default());
    all.iter()
        .copied()
        .filter(|action| {
            let args = vec![
                ("chain".to_string(), "statewall-probe".to_string()),
                ("action".to_string(), action.to_string()),
            ];
            match editor.prepare(table.menu(), &Change::Add(args)) {
                Err(shared::config::edit::EditError::Invalid(errors)) => !errors
                    .iter()
                    .any(|e| matches!(&e.kind, ErrorKind::NotSupported(what) if what.starts_with("action="))),
                _ => true,
            }
        })
        .collect()
}

/// A form value as sent: yes/no for a check box (REST prints `true`/`false`).
fn form_value(f: &FieldSpec, printed: Option<&str>) -> String {
    match (f.control, printed) {
        (Control::Check, Some("true" | "yes")) => "yes".into(),
        (Control::Check, _) => "no".into(),
        (_, v) => v.unwrap_or_default().to_string(),
    }
}

/// The arguments the form means: every field that applies and is not empty (a check box only
/// when yes).
pub fn form_args(table: RuleTable, values: &[(&'static str, String)]) -> Vec<(String, String)> {
    let action = values
        .iter()
        .find(|(n, _)| *n == "action")
        .map_or("", |(_, v)| v.as_str());
    values
        .iter()
        .filter(|(name, value)| {
            let Some(f) = FIELDS.iter().find(|f| f.name == *name) else {
                return false;
            };
            f.applies(table, action)
                && !value.is_empty()
                && !(f.control == Control::Check && value == "no")
        })
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect()
}

/// The mistakes the router would answer for the rule the form describes: `values` on top of
/// what `base` (the rule being edited) has that the form does not show.
pub fn check(
    table: RuleTable,
    base: Option<&Rule>,
    values: &[(&'static str, String)],
) -> Vec<Mistake> {
    let mut args: Vec<(String, String)> = base
        .map(|r| {
            r.props
                .iter()
                .filter(|(k, _)| {
                    !READ_ONLY.contains(&k.as_str()) && !FIELDS.iter().any(|f| f.name == *k)
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    args.extend(form_args(table, values));
    let editor = Editor::new(RouterConfig::default());
    match editor.prepare(table.menu(), &Change::Add(args)) {
        Ok(_) => Vec::new(),
        Err(e) => Mistake::from_edit(&e),
    }
}

/// What an edit changes: values to set, and fields to unset.
pub fn edit_changes(
    table: RuleTable,
    rule: &Rule,
    values: &[(&'static str, String)],
) -> (Vec<(String, String)>, Vec<String>) {
    let sent = form_args(table, values);
    let mut set = Vec::new();
    let mut unset = Vec::new();
    for f in fields_of(table) {
        let before = rule.get(f.name);
        let now = sent
            .iter()
            .find(|(n, _)| n == f.name)
            .map(|(_, v)| v.as_str());
        match (f.control, before, now) {
            (Control::Check, _, _) => {
                let (b, n) = (form_value(f, before), form_value(f, now));
                if b != n {
                    set.push((f.name.to_string(), n));
                }
            }
            (_, Some(b), None) if !b.is_empty() => unset.push(f.name.to_string()),
            (_, b, Some(n)) if b != Some(n) => set.push((f.name.to_string(), n.to_string())),
            _ => {}
        }
    }
    (set, unset)
}

fn object(pairs: &[(String, String)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

/// Adds the rule: its id.
async fn add(table: RuleTable, args: &[(String, String)]) -> Result<String, ApiError> {
    let rule: Map<String, Value> = api::put(table.rest_path(), &object(args)).await?;
    Ok(rule
        .get(".id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string())
}

async fn patch(table: RuleTable, id: &str, set: &[(String, String)]) -> Result<(), ApiError> {
    if set.is_empty() {
        return Ok(());
    }
    api::patch::<Value>(&format!("{}/{id}", table.rest_path()), &object(set))
        .await
        .map(drop)
}

async fn unset(table: RuleTable, id: &str, names: &[String]) -> Result<(), ApiError> {
    if names.is_empty() {
        return Ok(());
    }
    let body = serde_json::json!({ ".id": id, "value-name": names.join(",") });
    api::post::<Value>(&format!("{}/unset", table.rest_path()), &body)
        .await
        .map(drop)
}

/// Saves an edit: set and unset, in whichever order the router takes.
async fn save_edit(
    table: RuleTable,
    id: &str,
    set: &[(String, String)],
    names: &[String],
) -> Result<(), ApiError> {
    match unset(table, id, names).await {
        Ok(()) => patch(table, id, set).await,
        Err(first) if !set.is_empty() => match patch(table, id, set).await {
            Ok(()) => unset(table, id, names).await,
            Err(_) => Err(first),
        },
        Err(e) => Err(e),
    }
}

/// The form's control id of a field.
fn control_id(name: &str) -> String {
    format!("rule-{name}")
}

/// Add a rule (`editing` none) or edit one.
#[component]
pub fn RuleForm(
    table: RuleTable,
    /// The rule being edited; none to add one.
    editing: Option<Rule>,
    /// The chain a new rule starts in.
    #[prop(into)]
    chain: String,
    /// Interface and interface-list names, offered as suggestions.
    #[prop(optional, into)]
    interfaces: Signal<Vec<String>>,
    #[prop(optional, into)] interface_lists: Signal<Vec<String>>,
    /// Saved: what to tell the user.
    on_saved: Callback<String>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let offered = actions(table);
    let initial = |f: &FieldSpec| match &editing {
        Some(rule) => form_value(f, rule.get(f.name)),
        None => match f.name {
            "chain" => chain.clone(),
            "action" => match table {
                RuleTable::Filter => "accept".into(),
                RuleTable::Nat => "masquerade".into(),
            },
            _ => form_value(f, None),
        },
    };
    let values: Vec<(&'static FieldSpec, RwSignal<String>)> = fields_of(table)
        .map(|f| (f, RwSignal::new(initial(f))))
        .collect();
    let values = StoredValue::new(values);
    let snapshot =
        move || values.with_value(|v| v.iter().map(|(f, s)| (f.name, s.get())).collect::<Vec<_>>());
    let action = move || {
        values.with_value(|v| {
            v.iter()
                .find(|(f, _)| f.name == "action")
                .map(|(_, s)| s.get())
                .unwrap_or_default()
        })
    };
    let editing = StoredValue::new(editing);
    let local = Memo::new(move |_| {
        let values = snapshot();
        editing.with_value(|base| check(table, base.as_ref(), &values))
    });
    let refused = RwSignal::new(None::<Mistake>);
    let busy = RwSignal::new(false);
    let names: Vec<&'static str> = fields_of(table).map(|f| f.name).collect();
    let error_of = move |name: &'static str| {
        Signal::derive(move || {
            let mut all = local.get();
            if let Some(m) = refused.get() {
                all.push(m);
            }
            fields::message_for(&all, name)
        })
    };
    let general = {
        let names = names.clone();
        move || {
            let mut all = local.get();
            if let Some(m) = refused.get() {
                all.push(m);
            }
            let visible: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| {
                    FIELDS
                        .iter()
                        .any(|f| f.name == *n && f.applies(table, &action()))
                })
                .collect();
            fields::general(&all, &visible)
        }
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if let Some(m) = local.get_untracked().first() {
            if let Some(f) = &m.field {
                super::focus(&control_id(f));
            }
            return;
        }
        let values = values.with_value(|v| {
            v.iter()
                .map(|(f, s)| (f.name, s.get_untracked()))
                .collect::<Vec<_>>()
        });
        refused.set(None);
        busy.set(true);
        let rule = editing.get_value();
        spawn_local(async move {
            let result = match &rule {
                None => add(table, &form_args(table, &values))
                    .await
                    .map(|id| format!("Rule {id} added.")),
                Some(rule) => {
                    let (set, names) = edit_changes(table, rule, &values);
                    if set.is_empty() && names.is_empty() {
                        Ok(format!("Rule {} unchanged.", rule.id))
                    } else {
                        save_edit(table, &rule.id, &set, &names)
                            .await
                            .map(|()| format!("Rule {} saved.", rule.id))
                    }
                }
            };
            busy.set(false);
            match result {
                Ok(message) => on_saved.run(message),
                Err(e) => {
                    let m = Mistake::from_api(&e);
                    if let Some(f) = &m.field {
                        super::focus(&control_id(f));
                    }
                    refused.set(Some(m));
                }
            }
        });
    };
    let field = move |(f, value): (&'static FieldSpec, RwSignal<String>)| {
        let id = control_id(f.name);
        let error = error_of(f.name);
        let offered = offered.clone();
        let make = move || {
            let id = id.clone();
            let edited = move || {
                let mine = refused.with_untracked(|r| {
                    r.as_ref().and_then(|m| m.field.as_deref()) == Some(f.name)
                });
                if mine {
                    refused.set(None);
                }
            };
            let invalid = move || {
                if error.with(Option::is_some) {
                    "true"
                } else {
                    "false"
                }
            };
            let list = match f.name {
                "in-interface" | "out-interface" => Some("rule-interfaces"),
                "in-interface-list" | "out-interface-list" => Some("rule-interface-lists"),
                "chain" => Some("rule-chains"),
                _ => None,
            };
            let control = match f.control {
                Control::Text(_) => view! {
                    <input
                        id=id.clone()
                        name=f.name
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        list=list
                        aria-invalid=invalid
                        aria-describedby=fields::described_by(&id)
                        prop:value=move || value.get()
                        on:input:target=move |ev| {
                            value.set(ev.target().value());
                            edited();
                        }
                    />
                }
                .into_any(),
                Control::Action => view! {
                    <select
                        id=id.clone()
                        name=f.name
                        aria-invalid=invalid
                        aria-describedby=fields::described_by(&id)
                        on:change:target=move |ev| {
                            value.set(ev.target().value());
                            edited();
                        }
                    >
                        {offered
                            .iter()
                            .map(|&a| {
                                view! {
                                    <option value=a selected=move || value.get() == a>
                                        {a}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                }
                .into_any(),
                Control::Check => view! {
                    <input
                        id=id.clone()
                        name=f.name
                        type="checkbox"
                        aria-describedby=fields::described_by(&id)
                        prop:checked=move || value.get() == "yes"
                        on:change:target=move |ev| {
                            value.set(if ev.target().checked() { "yes" } else { "no" }.into());
                            edited();
                        }
                    />
                }
                .into_any(),
            };
            let hint = f.hint(table);
            view! {
                <Field name=f.name control=id label=f.label error=error hint=move || hint.clone()>
                    {control}
                </Field>
            }
        };
        view! { <Show when=move || f.applies(table, &action())>{make()}</Show> }
    };
    let title = editing.with_value(|e| match e {
        Some(rule) => format!("Edit rule {}", rule.id),
        None => format!("Add a {} rule", table.noun()),
    });
    let builtin = table.builtin_chains();
    view! {
        <form
            class="panel rule-form"
            on:submit=submit
            data-testid="rule-form"
            aria-labelledby="rule-form-h"
            novalidate
        >
            <h2 id="rule-form-h">{title}</h2>
            <datalist id="rule-chains">
                {builtin.iter().map(|c| view! { <option value=*c></option> }).collect_view()}
            </datalist>
            <datalist id="rule-interfaces">
                <For each=move || interfaces.get() key=|n| n.clone() let:name>
                    <option value=name></option>
                </For>
            </datalist>
            <datalist id="rule-interface-lists">
                <For each=move || interface_lists.get() key=|n| n.clone() let:name>
                    <option value=name></option>
                </For>
            </datalist>
            <div class="fields">
                {values.get_value().into_iter().map(field).collect_view()}
            </div>
            <div class="form-actions">
                <button
                    type="submit"
                    data-testid="rule-save"
                    disabled=move || busy.get() || local.with(|l| !l.is_empty())
                >
                    {move || if busy.get() { "Saving…" } else { "Save" }}
                </button>
                <button
                    type="button"
                    data-testid="rule-cancel"
                    on:click=move |_| on_cancel.run(())
                >
                    "Cancel"
                </button>
                <ul class="error" role="alert" data-testid="rule-form-error">
                    {move || {
                        general()
                            .into_iter()
                            .map(|m| view! { <li>{m}</li> })
                            .collect_view()
                    }}
                </ul>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn values(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[wasm_bindgen_test]
    fn the_form_checks_a_rule_as_the_router_does() {
        let t = RuleTable::Filter;
        assert!(check(
            t,
            None,
            &values(&[("chain", "forward"), ("action", "accept")])
        )
        .is_empty());
        let bad = check(
            t,
            None,
            &values(&[("chain", "forward"), ("src-address", "10.0.0.300")]),
        );
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(bad[0].field.as_deref(), Some("src-address"));
        assert!(bad[0]
            .message
            .starts_with("invalid value for argument src-address: \"10.0.0.300\""));
        let ports = check(
            t,
            None,
            &values(&[("chain", "forward"), ("dst-port", "80")]),
        );
        assert_eq!(ports[0].field.as_deref(), Some("dst-port"));
        let chain = check(t, None, &values(&[("action", "drop")]));
        assert_eq!(chain[0].field.as_deref(), Some("chain"));
        // Hidden fields are not sent: a jump target left over with another action is ignored.
        assert!(check(
            t,
            None,
            &values(&[("chain", "input"), ("action", "drop"), ("jump-target", "x")])
        )
        .is_empty());
        let jump = check(t, None, &values(&[("chain", "input"), ("action", "jump")]));
        assert_eq!(jump[0].field.as_deref(), Some("jump-target"));
    }

    #[wasm_bindgen_test]
    fn actions_are_those_statewall_runs() {
        let filter = actions(RuleTable::Filter);
        assert!(filter.contains(&"accept") && filter.contains(&"jump"));
        assert!(!filter.contains(&"tarpit"));
        let nat = actions(RuleTable::Nat);
        assert!(nat.contains(&"masquerade") && nat.contains(&"dst-nat"));
        assert!(!nat.contains(&"netmap"));
    }

    #[wasm_bindgen_test]
    fn an_edit_sends_what_changed() {
        let mut props = BTreeMap::new();
        for (k, v) in [
            ("chain", "forward"),
            ("action", "reject"),
            ("reject-with", "tcp-reset"),
            ("protocol", "tcp"),
            ("dst-port", "22"),
            ("log", "false"),
            ("disabled", "false"),
            ("log-prefix", ""),
            ("bytes", "10"),
            ("tcp-flags", "syn"),
        ] {
            props.insert(k.to_string(), v.to_string());
        }
        let rule = Rule {
            id: "*4".into(),
            props,
        };
        let t = RuleTable::Filter;
        let form = values(&[
            ("chain", "forward"),
            ("action", "accept"),
            ("protocol", "tcp"),
            ("dst-port", ""),
            ("log", "yes"),
            ("disabled", "no"),
            ("comment", "ssh"),
        ]);
        let (set, unset) = edit_changes(t, &rule, &form);
        assert_eq!(
            set,
            vec![
                ("action".to_string(), "accept".to_string()),
                ("log".to_string(), "yes".to_string()),
                ("comment".to_string(), "ssh".to_string()),
            ]
        );
        assert_eq!(unset, vec!["dst-port".to_string()]);
        // The rule's properties the form does not show take part in the check.
        let refused = check(t, Some(&rule), &form);
        assert_eq!(
            refused[0].field.as_deref(),
            Some("reject-with"),
            "{refused:?}"
        );
        let mut kept = form.clone();
        kept[1].1 = "reject".into();
        assert!(check(t, Some(&rule), &kept).is_empty());
    }
}
