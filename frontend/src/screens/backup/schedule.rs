//! Scheduled backups: `/system scheduler` entries whose script exports the configuration to a
//! file (`/export file=NAME`), which then appears among the stored backups.
//!
//! The scheduler takes a subset of RouterOS scripting (`backend/src/scheduler.rs`): here an
//! entry is made from a file name, an interval and a start (`startup` or a time of day), with
//! the export compact or verbose and the name fixed (each run replaces the file) or dated
//! (`NAME-2025-02-03.rsc`, one a day). The script is shown before it is added. The router
//! checks the entry again: its answer goes beside the field it names. Every entry of the
//! scheduler is listed (an entry that does not export is marked so), with enable/disable and
//! remove.

use crate::api::{self, ApiError};
use crate::screens::fields::{self, Field, Mistake};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};
use shared::duration::Duration;
use std::collections::BTreeMap;

const REST_PATH: &str = "/system/scheduler";

/// A backup file name this form writes: letters, digits, `.`, `_` and `-` (no quoting needed
/// in the script).
pub fn file_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The entry's script: `/export file=NAME`, or dated, verbose if asked.
pub fn on_event(file: &str, dated: bool, verbose: bool) -> String {
    let target = if dated {
        format!("(\"{file}-\" . [/system clock get date])")
    } else {
        file.to_string()
    };
    let style = if verbose { " verbose" } else { "" };
    format!("/export file={target}{style}")
}

/// The mistake in an interval, in the duration parser's words (the router's own check also
/// wants at least 1 s, or 0s for a single run).
pub fn interval_problem(text: &str) -> Option<String> {
    match text.trim().parse::<Duration>() {
        Ok(d) if d == Duration::ZERO || d.as_secs() >= 1 => None,
        Ok(_) => Some("expected 0s (run once) or at least 1s".into()),
        Err(e) => Some(format!("expected a time value ({e})")),
    }
}

/// One scheduler entry as REST prints it.
type Entry = BTreeMap<String, String>;

/// The scheduled backups panel.
#[component]
pub fn SchedulePanel(
    /// Called after a change, so the stored backups can be read again later.
    #[prop(optional)]
    on_change: Option<Callback<()>>,
) -> impl IntoView {
    let entries = RwSignal::new(None::<Vec<Entry>>);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let confirming = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match api::get::<Vec<Entry>>(REST_PATH).await {
                Ok(list) => entries.set(Some(list)),
                Err(e) => error.set(Some(format!("Cannot read the scheduler: {e}"))),
            }
        })
    };
    reload();
    let changed = move |result: Result<String, ApiError>| {
        match result {
            Ok(done) => {
                status.set(Some(done));
                error.set(None);
            }
            Err(e) => error.set(Some(e.to_string())),
        }
        busy.set(false);
        reload();
        if let Some(cb) = on_change {
            cb.run(());
        }
    };
    let command = move |verb: &'static str, id: String, done: String| {
        busy.set(true);
        confirming.set(None);
        spawn_local(async move {
            let r = api::post::<Value>(&format!("{REST_PATH}/{verb}"), &json!({ ".id": id }))
                .await
                .map(|_| done);
            changed(r);
        });
    };
    let row = move |entry: Entry| {
        let get = |k: &str| entry.get(k).cloned().unwrap_or_default();
        let id = get(".id");
        let name = get("name");
        let script = get("on-event");
        let exports = script.contains("/export");
        let disabled = entry.get("disabled").map(String::as_str) == Some("true");
        let start = match (get("start-date"), get("start-time")) {
            (d, t) if d.is_empty() => t,
            (d, t) => format!("{d} {t}"),
        };
        let (toggle_id, remove_id, confirm_id) = (id.clone(), id.clone(), id.clone());
        let toggle_name = name.clone();
        let is_confirming = {
            let id = id.clone();
            move || confirming.get().as_deref() == Some(id.as_str())
        };
        let remove_name = name.clone();
        view! {
            <tr data-testid="schedule-row" class:disabled=disabled>
                <th scope="row">{name.clone()}</th>
                <td>{start}</td>
                <td>{get("interval")}</td>
                <td>{get("next-run")}</td>
                <td class="count">{get("run-count")}</td>
                <td>
                    <code>{script}</code>
                    {(!exports).then(|| view! { <span class="hint">" (not a backup)"</span> })}
                </td>
                <td>
                    <div class="row-actions">
                    <button
                        type="button"
                        disabled=move || busy.get()
                        on:click=move |_| {
                            let (verb, word) = if disabled {
                                ("enable", "enabled")
                            } else {
                                ("disable", "disabled")
                            };
                            command(verb, toggle_id.clone(), format!("{toggle_name} {word}."))
                        }
                    >
                        {if disabled { "Enable" } else { "Disable" }}
                    </button>
                    <Show
                        when=is_confirming
                        fallback=move || {
                            let remove_id = remove_id.clone();
                            view! {
                                <button
                                    type="button"
                                    class="danger"
                                    disabled=move || busy.get()
                                    on:click=move |_| confirming.set(Some(remove_id.clone()))
                                >
                                    "Remove"
                                </button>
                            }
                        }
                    >
                        <button
                            type="button"
                            class="danger"
                            on:click={
                                let id = confirm_id.clone();
                                let name = remove_name.clone();
                                move |_| command("remove", id.clone(), format!("{name} removed."))
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
    let added = Callback::new(move |name: String| {
        status.set(Some(format!("Scheduled backup {name} added.")));
        error.set(None);
        reload();
        if let Some(cb) = on_change {
            cb.run(());
        }
    });
    view! {
        <section class="panel" aria-labelledby="schedule-h">
            <h2 id="schedule-h">"Scheduled backups"</h2>
            <p class="status" role="status" data-testid="schedule-status">{move || status.get()}</p>
            <p class="error" role="alert" data-testid="schedule-error">{move || error.get()}</p>
            <div class="scroll">
                <table data-testid="schedule-table">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Start"</th>
                            <th scope="col">"Interval"</th>
                            <th scope="col">"Next run"</th>
                            <th scope="col" class="count">"Runs"</th>
                            <th scope="col">"Script"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || entries.get().unwrap_or_default()
                            key=|e| e.clone()
                            children=row
                        />
                    </tbody>
                </table>
            </div>
            {move || {
                entries
                    .with(|e| e.as_ref().is_some_and(Vec::is_empty))
                    .then(|| view! { <p class="waiting">"No scheduled backups yet."</p> })
            }}
            <ScheduleForm on_added=added />
        </section>
    }
}

/// Adds a scheduled backup.
#[component]
pub fn ScheduleForm(on_added: Callback<String>) -> impl IntoView {
    let name = RwSignal::new("daily-backup".to_string());
    let file = RwSignal::new("backup".to_string());
    let interval = RwSignal::new("1d".to_string());
    let start = RwSignal::new("03:00:00".to_string());
    let dated = RwSignal::new(true);
    let verbose = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let refused = RwSignal::new(None::<Mistake>);
    let script = Memo::new(move |_| on_event(&file.get(), dated.get(), verbose.get()));
    let local = Memo::new(move |_| {
        let mut out = Vec::new();
        if name.with(|n| n.trim().is_empty()) {
            out.push(("name", "a name is needed".to_string()));
        }
        if !file.with(|f| file_name_ok(f)) {
            out.push((
                "file",
                "letters, digits, \".\", \"_\" and \"-\" only (the file is NAME.rsc in the backups folder)"
                    .to_string(),
            ));
        }
        if let Some(p) = interval_problem(&interval.get()) {
            out.push(("interval", p));
        }
        if start.with(|s| s.trim().is_empty()) {
            out.push((
                "start-time",
                "startup, or a time of day such as 03:00:00".to_string(),
            ));
        }
        out
    });
    let error_of = move |field: &'static str| {
        Signal::derive(move || {
            local
                .with(|l| l.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()))
                .or_else(|| {
                    refused.with(|r| {
                        r.as_ref()
                            .filter(|m| {
                                m.field.as_deref() == Some(field)
                                    || (field == "file" && m.field.as_deref() == Some("on-event"))
                            })
                            .map(|m| m.message.clone())
                    })
                })
        })
    };
    let general = move || {
        refused.with(|r| {
            r.as_ref()
                .filter(|m| {
                    !matches!(
                        m.field.as_deref(),
                        Some("name" | "interval" | "start-time" | "on-event")
                    )
                })
                .map(|m| m.message.clone())
        })
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || !local.with_untracked(Vec::is_empty) {
            return;
        }
        busy.set(true);
        refused.set(None);
        let entry_name = name.get_untracked().trim().to_string();
        let body = json!({
            "name": entry_name,
            "interval": interval.get_untracked().trim(),
            "start-time": start.get_untracked().trim(),
            "on-event": script.get_untracked(),
        });
        spawn_local(async move {
            let r = api::put::<Value>(REST_PATH, &body).await;
            busy.set(false);
            match r {
                Ok(_) => on_added.run(entry_name),
                Err(e) => refused.set(Some(Mistake::from_api(&e))),
            }
        });
    };
    let text_field = move |field: &'static str,
                           id: &'static str,
                           label: &'static str,
                           hint: &'static str,
                           value: RwSignal<String>| {
        let error = error_of(field);
        view! {
            <Field name=field control=id label=label error=error hint=move || hint>
                <input
                    id=id
                    type="text"
                    autocomplete="off"
                    spellcheck="false"
                    aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                    aria-describedby=fields::described_by(id)
                    prop:value=move || value.get()
                    on:input:target=move |ev| {
                        value.set(ev.target().value());
                        refused.set(None);
                    }
                />
            </Field>
        }
    };
    view! {
        <form class="schedule-form" on:submit=submit data-testid="schedule-form" novalidate>
            <h3>"Add a scheduled backup"</h3>
            <div class="fields">
                {text_field("name", "schedule-name", "Name", "The scheduler entry's name", name)}
                {text_field(
                    "file",
                    "schedule-file",
                    "File name",
                    "Written as NAME.rsc among the stored backups",
                    file,
                )}
                {text_field(
                    "interval",
                    "schedule-interval",
                    "Interval",
                    "time (e.g. 1d, 12h, 1w); 0s runs once",
                    interval,
                )}
                {text_field(
                    "start-time",
                    "schedule-start",
                    "Start time",
                    "startup (at boot) or a time of day (HH:MM:SS, UTC)",
                    start,
                )}
                <div class="field checks">
                    <label>
                        <input type="checkbox" data-testid="schedule-dated" bind:checked=dated />
                        " A file per day (NAME-YYYY-MM-DD.rsc)"
                    </label>
                    <label>
                        <input type="checkbox" data-testid="schedule-verbose" bind:checked=verbose />
                        " Verbose export (every property, defaults too)"
                    </label>
                </div>
            </div>
            <p class="hint">"Script: " <code data-testid="schedule-script">{move || script.get()}</code></p>
            <div class="form-actions">
                <button
                    type="submit"
                    data-testid="schedule-add"
                    disabled=move || busy.get() || !local.with(Vec::is_empty)
                >
                    {move || if busy.get() { "Adding…" } else { "Add scheduled backup" }}
                </button>
                <p class="error" role="alert" data-testid="schedule-form-error">{general}</p>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_script_is_the_export_the_scheduler_runs() {
        assert_eq!(on_event("backup", false, false), "/export file=backup");
        assert_eq!(
            on_event("gw", true, true),
            "/export file=(\"gw-\" . [/system clock get date]) verbose"
        );
        assert!(file_name_ok("backup_2025-01.x"));
        assert!(!file_name_ok("a b") && !file_name_ok("") && !file_name_ok("../x"));
        assert_eq!(interval_problem("1d"), None);
        assert_eq!(interval_problem("0s"), None);
        assert!(interval_problem("500ms").is_some());
        assert!(interval_problem("soon")
            .unwrap()
            .starts_with("expected a time value"));
    }
}
