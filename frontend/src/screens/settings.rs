//! Settings: `/ip firewall connection tracking` as a form (the dashboard issue's "Settings"
//! screen).
//!
//! Every settable property of [`shared::tracking::PROPERTIES`] has a field with its unit, its
//! default and its one-line explanation (routeros.md §1.1), grouped as the TCP state machine
//! reads them. What is typed is checked at once by the code the router runs for
//! `POST /rest/ip/firewall/connection/tracking/set` (the configuration editor), so the message
//! beside a field is word for word what the router would answer. Apply sends only what changed
//! (the router saves it and puts it in force); an error the router still answers goes beside the
//! field it names. Revert puts the form back to the values in force. `max-entries` and
//! `total-entries` are read-only: shown live from the feed (REST's values until it speaks).

use super::fields::{self, Field, Mistake};
use crate::api::{self, ApiError};
use crate::feed::Feed;
use crate::format;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value};
use shared::config::edit::{Change, Editor};
use shared::config::RouterConfig;
use shared::duration::Duration;
use shared::tracking::{Property, TrackingSettings, ValueKind, PROPERTIES};
use std::collections::BTreeMap;

/// The menu, as the configuration editor names it.
pub const MENU: &[&str] = &["ip", "firewall", "connection", "tracking"];
/// The menu under `/rest`.
pub const REST_PATH: &str = "/ip/firewall/connection/tracking";

/// The menu's values as REST prints them (`"loose-tcp-tracking":"true"`), by name.
pub type Values = BTreeMap<String, String>;

/// The form's sections: the settable properties, each once, in the order the tracker meets them.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("Tracking", &["enabled", "loose-tcp-tracking"]),
    (
        "TCP timeouts",
        &[
            "tcp-syn-sent-timeout",
            "tcp-syn-received-timeout",
            "tcp-established-timeout",
            "tcp-fin-wait-timeout",
            "tcp-close-wait-timeout",
            "tcp-last-ack-timeout",
            "tcp-time-wait-timeout",
            "tcp-close-timeout",
            "tcp-max-retrans-timeout",
            "tcp-unacked-timeout",
        ],
    ),
    (
        "UDP, ICMP and other protocols",
        &[
            "udp-timeout",
            "udp-stream-timeout",
            "icmp-timeout",
            "generic-timeout",
        ],
    ),
];

/// The property called `name`.
pub fn property(name: &str) -> Option<&'static Property> {
    PROPERTIES.iter().find(|p| p.name == name)
}

/// What the router answers to `set` with these values: nothing if it takes them, else its
/// mistakes, each at its argument. Worked out here by the editor the REST API runs.
pub fn check(changes: &[(String, String)]) -> Vec<Mistake> {
    let editor = Editor::new(RouterConfig::default());
    match editor.prepare(MENU, &Change::Settings(changes.to_vec())) {
        Ok(_) => Vec::new(),
        Err(e) => Mistake::from_edit(&e),
    }
}

/// The mistake in one value, as the router words it.
pub fn check_one(name: &str, value: &str) -> Option<String> {
    fields::message_for(&check(&[(name.to_string(), value.to_string())]), name)
}

/// A value as the form shows it: `yes`/`no` for a yes/no property (REST prints
/// `true`/`false`), everything else as printed.
pub fn shown(p: &Property, value: &str) -> String {
    match (p.kind, value) {
        (ValueKind::YesNo, "true") => "yes".into(),
        (ValueKind::YesNo, "false") => "no".into(),
        _ => value.to_string(),
    }
}

/// The default of a settable property, as RouterOS prints it.
pub fn default_of(name: &str) -> String {
    TrackingSettings::default().get(name).unwrap_or_default()
}

/// What kind of value a property takes, in a few words.
fn unit(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::AutoYesNo => "auto, yes or no",
        ValueKind::YesNo => "yes or no",
        ValueKind::Time => "time",
        ValueKind::Count => "entries",
    }
}

/// The choices of a property set from a list.
fn choices(kind: ValueKind) -> &'static [&'static str] {
    match kind {
        ValueKind::AutoYesNo => &["auto", "yes", "no"],
        ValueKind::YesNo => &["yes", "no"],
        ValueKind::Time | ValueKind::Count => &[],
    }
}

/// The control's id.
fn control_id(name: &str) -> String {
    format!("setting-{name}")
}

/// The settings screen: loads the values in force, applies changes, says how it went.
#[component]
pub fn Settings() -> impl IntoView {
    let current = RwSignal::new(None::<Values>);
    let load_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let server_error = RwSignal::new(None::<ApiError>);
    let status = RwSignal::new(None::<String>);
    let load = move || {
        spawn_local(async move {
            match api::get::<Values>(REST_PATH).await {
                Ok(v) => {
                    load_error.set(None);
                    current.set(Some(v));
                }
                Err(e) => load_error.set(Some(format!("Cannot read the settings: {e}"))),
            }
        })
    };
    load();
    let apply = Callback::new(move |changes: Vec<(String, String)>| {
        busy.set(true);
        server_error.set(None);
        status.set(None);
        spawn_local(async move {
            let body: Map<String, Value> = changes
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            match api::post::<Value>(&format!("{REST_PATH}/set"), &body).await {
                Ok(_) => {
                    let what: Vec<String> =
                        changes.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    status.set(Some(format!("Applied and saved: {}.", what.join(" "))));
                    load();
                }
                Err(e) => server_error.set(Some(e)),
            }
            busy.set(false);
        });
    });
    view! {
        <h1>"Connection tracking settings"</h1>
        <p class="intro">
            "The connection tracker's switches and timeouts ("
            <code>"/ip firewall connection tracking"</code>
            "). A timeout is how long an entry in that state lives without a packet. Times are RouterOS time values: a number with a unit (w, d, h, m, s, ms), such as "
            <code>"30s"</code> ", " <code>"5m"</code> " or " <code>"1d"</code>
            "; a bare number is seconds."
        </p>
        <p class="error" role="alert" data-testid="settings-load-error">
            {move || load_error.get()}
        </p>
        <Show
            when=move || current.with(Option::is_some)
            fallback=|| view! { <p class="loading">"Loading the settings…"</p> }
        >
            <SettingsForm
                current=Signal::derive(move || current.get().unwrap_or_default())
                on_apply=apply
                busy=busy
                server_error=server_error
                status=status
            />
        </Show>
        <TableCounters values=current />
    }
}

/// The form itself: values in force in, changes out (`on_apply`), the router's answer back in.
#[component]
pub fn SettingsForm(
    /// The values in force, as REST prints them.
    #[prop(into)]
    current: Signal<Values>,
    /// The changed values (`name`, `value`), to send.
    on_apply: Callback<Vec<(String, String)>>,
    /// A change is being sent.
    #[prop(into)]
    busy: Signal<bool>,
    /// The router's refusal of the last change.
    #[prop(into)]
    server_error: Signal<Option<ApiError>>,
    /// How the last change went, when it went well.
    #[prop(into)]
    status: Signal<Option<String>>,
) -> impl IntoView {
    let settable: Vec<&'static Property> = GROUPS
        .iter()
        .flat_map(|(_, names)| names.iter().filter_map(|n| property(n)))
        .collect();
    // One draft per field, the value in force until edited.
    let drafts: Vec<(&'static Property, RwSignal<String>)> = settable
        .iter()
        .map(|p| {
            let v = current.with_untracked(|c| c.get(p.name).map(|v| shown(p, v)));
            (*p, RwSignal::new(v.unwrap_or_default()))
        })
        .collect();
    let drafts = StoredValue::new(drafts);
    let draft = move |name: &str| {
        drafts.with_value(|d| d.iter().find(|(p, _)| p.name == name).map(|(_, s)| *s))
    };
    let in_force = move |p: &Property| current.with(|c| c.get(p.name).map(|v| shown(p, v)));
    // The router's refusal, kept until its field is edited again.
    let refused = RwSignal::new(None::<Mistake>);
    Effect::watch(
        move || server_error.get(),
        move |e, _, _| refused.set(e.as_ref().map(Mistake::from_api)),
        false,
    );
    let revert = move || {
        drafts.with_value(|d| {
            for (p, s) in d {
                let v = current.with_untracked(|c| c.get(p.name).map(|v| shown(p, v)));
                s.set(v.unwrap_or_default());
            }
        });
        refused.set(None);
    };
    // The values in force changed (loaded again after Apply): the form shows them.
    Effect::watch(move || current.get(), move |_, _, _| revert(), false);

    let changes = Memo::new(move |_| {
        drafts.with_value(|d| {
            d.iter()
                .filter(|(p, s)| in_force(p).as_deref() != Some(s.get().as_str()))
                .map(|(p, s)| (p.name.to_string(), s.get()))
                .collect::<Vec<_>>()
        })
    });
    let local_errors = Memo::new(move |_| {
        drafts.with_value(|d| {
            d.iter()
                .filter_map(|(p, s)| check_one(p.name, &s.get()).map(|m| (p.name, m)))
                .collect::<Vec<_>>()
        })
    });
    let error_of = move |name: &'static str| {
        Signal::derive(move || {
            local_errors
                .with(|e| e.iter().find(|(n, _)| *n == name).map(|(_, m)| m.clone()))
                .or_else(|| {
                    refused.with(|r| {
                        r.as_ref()
                            .filter(|m| m.field.as_deref() == Some(name))
                            .map(|m| m.message.clone())
                    })
                })
        })
    };
    let general = move || {
        refused.with(|r| {
            r.as_ref()
                .filter(|m| m.field.as_deref().is_none_or(|f| property(f).is_none()))
                .map(|m| m.message.clone())
        })
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let errors = local_errors.get_untracked();
        if let Some((name, _)) = errors.first() {
            focus(&control_id(name));
            return;
        }
        let changes = changes.get_untracked();
        if !changes.is_empty() {
            refused.set(None);
            on_apply.run(changes);
        }
    };
    let field = move |p: &'static Property| {
        let Some(value) = draft(p.name) else {
            return ().into_any();
        };
        let id = control_id(p.name);
        let error = error_of(p.name);
        let edited = move || {
            if refused
                .with_untracked(|r| r.as_ref().and_then(|m| m.field.as_deref()) == Some(p.name))
            {
                refused.set(None);
            }
        };
        let changed = move || in_force(p).as_deref() != Some(value.get().as_str());
        let control = match p.kind {
            ValueKind::Time => view! {
                <input
                    id=id.clone()
                    name=p.name
                    type="text"
                    autocomplete="off"
                    spellcheck="false"
                    class:changed=changed
                    aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                    aria-describedby=fields::described_by(&id)
                    prop:value=move || value.get()
                    on:input:target=move |ev| {
                        value.set(ev.target().value());
                        edited();
                    }
                />
                <span class="normalised" aria-hidden="true">
                    {move || normalised(&value.get())}
                </span>
            }
            .into_any(),
            _ => view! {
                <select
                    id=id.clone()
                    name=p.name
                    class:changed=changed
                    aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                    aria-describedby=fields::described_by(&id)
                    on:change:target=move |ev| {
                        value.set(ev.target().value());
                        edited();
                    }
                >
                    {choices(p.kind)
                        .iter()
                        .map(|c| {
                            view! {
                                <option value=*c selected=move || value.get() == *c>
                                    {*c}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            }
            .into_any(),
        };
        let default = default_of(p.name);
        view! {
            <Field
                name=p.name
                control=id.clone()
                label=p.name
                error=error
                hint=move || {
                    view! {
                        {p.help}
                        <br />
                        <span class="unit">{unit(p.kind)}</span>
                        " · default "
                        <code>{default.clone()}</code>
                    }
                }
            >
                {control}
            </Field>
        }
        .into_any()
    };
    view! {
        <form class="settings" on:submit=submit data-testid="settings-form" novalidate>
            {GROUPS
                .iter()
                .map(|(title, names)| {
                    view! {
                        <fieldset class="panel">
                            <legend>{*title}</legend>
                            <div class="fields">
                                {names
                                    .iter()
                                    .filter_map(|n| property(n))
                                    .map(field)
                                    .collect_view()}
                            </div>
                        </fieldset>
                    }
                })
                .collect_view()}
            <div class="form-actions">
                <button
                    type="submit"
                    data-testid="settings-apply"
                    disabled=move || {
                        busy.get() || changes.with(Vec::is_empty)
                            || local_errors.with(|e| !e.is_empty())
                    }
                >
                    {move || match (busy.get(), changes.with(Vec::len)) {
                        (true, _) => "Applying…".to_string(),
                        (false, 0) => "Apply".to_string(),
                        (false, 1) => "Apply 1 change".to_string(),
                        (false, n) => format!("Apply {n} changes"),
                    }}
                </button>
                <button
                    type="button"
                    data-testid="settings-revert"
                    disabled=move || busy.get() || changes.with(Vec::is_empty)
                    on:click=move |_| revert()
                >
                    "Revert"
                </button>
                <p class="status" role="status" data-testid="settings-status">
                    {move || status.get().filter(|_| changes.with(Vec::is_empty))}
                </p>
                <p class="error" role="alert" data-testid="settings-error">
                    {general}
                </p>
            </div>
        </form>
    }
}

/// `= 1d` when a time value is typed in another form than RouterOS prints it (`24h`).
fn normalised(text: &str) -> Option<String> {
    let d = text.trim().parse::<Duration>().ok()?;
    let printed = d.to_string();
    (printed != text.trim()).then(|| format!("= {printed}"))
}

/// Moves the keyboard focus to the element with this id.
fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// `max-entries` and `total-entries`: read-only, live from the feed when there is one.
#[component]
fn TableCounters(values: RwSignal<Option<Values>>) -> impl IntoView {
    let feed = use_context::<Feed>();
    let rest = move |name: &'static str| {
        values.with(|v| {
            v.as_ref()
                .and_then(|v| v.get(name))
                .and_then(|n| n.parse::<u64>().ok())
        })
    };
    let live = move |f: fn(&shared::feed::Snapshot) -> u64| {
        feed.and_then(|feed| feed.snapshot().map(|s| f(&s)))
    };
    let max = move || live(|s| s.max_entries).or_else(|| rest("max-entries"));
    let total = move || live(|s| s.total_entries).or_else(|| rest("total-entries"));
    let help = |name| property(name).map_or("", |p| p.help);
    view! {
        <section class="panel" aria-labelledby="tracking-table-h">
            <h2 id="tracking-table-h">"Table (read-only)"</h2>
            <dl class="figures" data-testid="tracking-counters">
                <dt>"total-entries"</dt>
                <dd>
                    <span data-testid="total-entries">{move || total().map(format::count)}</span>
                    {move || {
                        total()
                            .zip(max())
                            .map(|(t, m)| format!(" ({} of max-entries)", format::percent(t, m)))
                    }}
                    <span class="hint">" · " {help("total-entries")}</span>
                </dd>
                <dt>"max-entries"</dt>
                <dd>
                    <span data-testid="max-entries">{move || max().map(format::count)}</span>
                    <span class="hint">" · " {help("max-entries")}</span>
                </dd>
            </dl>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_form_has_every_settable_property_once() {
        let mut listed: Vec<&str> = GROUPS.iter().flat_map(|(_, n)| n.iter().copied()).collect();
        listed.sort_unstable();
        let mut settable: Vec<&str> = PROPERTIES
            .iter()
            .filter(|p| !p.read_only)
            .map(|p| p.name)
            .collect();
        settable.sort_unstable();
        assert_eq!(listed, settable);
    }

    #[wasm_bindgen_test]
    fn values_are_checked_as_the_router_checks_them() {
        assert_eq!(check_one("udp-timeout", "30s"), None);
        assert_eq!(check_one("tcp-established-timeout", "1d 00:00:00"), None);
        assert_eq!(
            check_one("udp-timeout", "soon").as_deref(),
            Some(
                "invalid value for argument udp-timeout: \"soon\", expected a time value such as \
                 10s, 5m or 1d"
            )
        );
        assert!(check_one("enabled", "maybe").is_some());
        assert_eq!(default_of("udp-timeout"), "10s");
        assert_eq!(default_of("loose-tcp-tracking"), "yes");
        let p = property("loose-tcp-tracking").unwrap();
        assert_eq!(shown(p, "true"), "yes");
        assert_eq!(normalised("24h").as_deref(), Some("= 1d"));
        assert_eq!(normalised("1d"), None);
        assert_eq!(normalised("soon"), None);
    }
}
