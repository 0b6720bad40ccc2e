//! Backup: export downloads, restore with a preview, scheduled and stored backups (the
//! dashboard issue's "Backup" screen).
//!
//! Its route is `/backups`: `/backup/…` is the API's (`/backup/export`, `/backup/restore`,
//! `/backup/files`).
//!
//! - Export: links to `GET /backup/export` (compact) and `?verbose=yes`; the router names the
//!   file `statewall-IDENTITY-YYYYMMDD-HHMMSS.rsc`.
//! - Restore: a script is chosen (a file, a stored backup, or pasted), then previewed before
//!   anything applies: what changes, menu by menu (`preview`), and the router's dry run
//!   (`POST /backup/restore?dry-run=yes`: every mistake with its line and column, or what the
//!   script holds). Only a script whose preview is current and whose dry run found nothing can
//!   be restored, by an explicit button (`POST /backup/restore`; all or nothing).
//! - Scheduled backups (`schedule`) and the stored backups (`GET /backup/files`), each with its
//!   download link and a button that loads it for restore.

mod preview;
mod schedule;

pub use preview::{diff, normalise, preview, Line, MenuDiff, Preview, RestorePreview};
pub use schedule::{on_event, ScheduleForm, SchedulePanel};

use crate::api::{self, ApiError, Body, Method};
use crate::format;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;

/// One mistake of a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The router's answer to a dry run.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct DryRun {
    #[serde(default)]
    pub errors: Vec<Problem>,
    /// What the script holds, menu by menu (when it has no mistakes).
    #[serde(default)]
    pub summary: Option<BTreeMap<String, Value>>,
}

/// A previewed script: what was compared and what the router said about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub text: String,
    pub preview: Preview,
    pub dry_run: DryRun,
}

impl Checked {
    /// Whether this script can be restored as it is now.
    pub fn restorable(&self, text: &str) -> bool {
        self.text == text && self.dry_run.errors.is_empty()
    }
}

/// `{"ip/firewall/filter": 12, …}` in words: `12 × /ip firewall filter, …` (empty menus left
/// out).
pub fn summary_text(summary: &BTreeMap<String, Value>) -> String {
    let parts: Vec<String> = summary
        .iter()
        .filter_map(|(menu, v)| {
            let path = format!("/{}", menu.replace('/', " "));
            match v {
                Value::Number(n) if n.as_u64() == Some(0) => None,
                Value::Number(n) => Some(format!("{n} × {path}")),
                Value::String(s) => Some(format!("{path} name={s}")),
                other => Some(format!("{path} {other}")),
            }
        })
        .collect();
    parts.join(", ")
}

#[component]
pub fn Backup() -> impl IntoView {
    let script = RwSignal::new(String::new());
    let source = RwSignal::new(None::<String>);
    let files_version = RwSignal::new(0u32);
    let load = Callback::new(move |(name, text): (String, String)| {
        script.set(text);
        source.set(Some(name));
        request_animation_frame(|| super::rules::focus("restore-preview-button"));
    });
    view! {
        <h1>"Backup and restore"</h1>
        <ExportPanel />
        <RestorePanel script=script source=source />
        <SchedulePanel on_change=Callback::new(move |()| files_version.update(|v| *v += 1)) />
        <FilesPanel version=files_version on_load=load />
    }
}

/// The export as a download.
#[component]
fn ExportPanel() -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="export-h">
            <h2 id="export-h">"Export"</h2>
            <p>
                "The configuration as a RouterOS script (" <code>"/export"</code>
                "): the file a restore takes back."
            </p>
            <p class="links">
                <a href="/backup/export" download data-testid="export-compact">
                    "Download the export (compact)"
                </a>
                " · "
                <a href="/backup/export?verbose=yes" download data-testid="export-verbose">
                    "Download the verbose export (every property)"
                </a>
            </p>
        </section>
    }
}

/// The text of a file the user chose.
async fn file_text(file: web_sys::File) -> Result<String, String> {
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(|e| api::js_text(&e))?;
    text.as_string()
        .ok_or_else(|| "the file is not text".to_string())
}

/// Choose, preview, restore.
#[component]
pub fn RestorePanel(script: RwSignal<String>, source: RwSignal<Option<String>>) -> impl IntoView {
    let checked = RwSignal::new(None::<Checked>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let restored = RwSignal::new(None::<String>);
    let run_preview = move || {
        let text = script.get_untracked();
        if text.trim().is_empty() {
            error.set(Some("Choose a file or paste a script first.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        restored.set(None);
        checked.set(None);
        spawn_local(async move {
            let current = api::request(Method::Get, "/backup/export", None).await;
            let dry = api::request(
                Method::Post,
                "/backup/restore?dry-run=yes",
                Some(Body::plain(text.clone())),
            )
            .await
            .and_then(|t| {
                serde_json::from_str::<DryRun>(&t).map_err(|e| ApiError::Decode(e.to_string()))
            });
            match (current, dry) {
                (Ok(current), Ok(dry_run)) => {
                    checked.set(Some(Checked {
                        preview: preview(&current, &text),
                        dry_run,
                        text,
                    }));
                    // The results, in view and announced.
                    request_animation_frame(|| super::rules::focus("restore-checked-h"));
                }
                (Err(e), _) | (_, Err(e)) => error.set(Some(format!("The preview failed: {e}"))),
            }
            busy.set(false);
        });
    };
    // A new script from a file or a stored backup: preview it at once.
    Effect::watch(
        move || source.get(),
        move |s, _, _| {
            if s.is_some() {
                run_preview();
            }
        },
        false,
    );
    let chosen = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        let name = file.name();
        spawn_local(async move {
            match file_text(file).await {
                Ok(text) => {
                    script.set(text);
                    source.set(Some(name));
                }
                Err(e) => error.set(Some(format!("Cannot read {name}: {e}"))),
            }
        });
    };
    let restore = move |_| {
        let text = script.get_untracked();
        if !checked.with_untracked(|c| c.as_ref().is_some_and(|c| c.restorable(&text))) {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r = api::request(Method::Post, "/backup/restore", Some(Body::plain(text))).await;
            match r {
                Ok(body) => {
                    let summary = serde_json::from_str::<Value>(&body)
                        .ok()
                        .and_then(|v| {
                            serde_json::from_value::<BTreeMap<String, Value>>(v["summary"].clone())
                                .ok()
                        })
                        .map(|s| summary_text(&s))
                        .unwrap_or_default();
                    restored.set(Some(format!(
                        "Restored. The configuration now holds {summary}."
                    )));
                    checked.set(None);
                }
                Err(e) => error.set(Some(format!("Nothing was restored: {e}"))),
            }
            busy.set(false);
        });
    };
    let stale = move || checked.with(|c| c.as_ref().is_some_and(|c| script.with(|s| *s != c.text)));
    let can_restore = move || {
        !busy.get()
            && checked.with(|c| c.as_ref().is_some_and(|c| script.with(|s| c.restorable(s))))
    };
    view! {
        <section class="panel" aria-labelledby="restore-h">
            <h2 id="restore-h">"Restore"</h2>
            <p>
                "A script replaces the whole configuration (rules, addresses, settings, the identity and the scheduler), all or nothing. It is previewed first: nothing applies until you press Restore."
            </p>
            <div class="fields single">
            <div class="field">
                <label for="restore-file">"Script file (.rsc)"</label>
                <input
                    id="restore-file"
                    type="file"
                    accept=".rsc,.txt,text/plain"
                    data-testid="restore-file"
                    on:change=chosen
                />
            </div>
            <div class="field">
                <label for="restore-text">
                    "Script" {move || source.get().map(|s| format!(" (from {s})"))}
                </label>
                <textarea
                    id="restore-text"
                    rows="10"
                    spellcheck="false"
                    data-testid="restore-text"
                    prop:value=move || script.get()
                    on:input:target=move |ev| script.set(ev.target().value())
                ></textarea>
            </div>
            </div>
            <div class="form-actions">
                <button
                    type="button"
                    id="restore-preview-button"
                    data-testid="restore-preview-button"
                    disabled=move || busy.get()
                    on:click=move |_| run_preview()
                >
                    "Preview"
                </button>
                <button
                    type="button"
                    class="danger"
                    data-testid="restore-apply"
                    disabled=move || !can_restore()
                    on:click=restore
                >
                    {move || if busy.get() { "Working…" } else { "Restore" }}
                </button>
                <p class="status" role="status" data-testid="restore-status">
                    {move || restored.get()}
                    {move || stale().then_some("The script changed since its preview: preview it again.")}
                </p>
                <p class="error" role="alert" data-testid="restore-error">{move || error.get()}</p>
            </div>
            {move || checked.get().map(|c| view! { <CheckedView checked=c /> })}
        </section>
    }
}

/// The preview and the dry run of one script.
#[component]
fn CheckedView(checked: Checked) -> impl IntoView {
    let Checked {
        text,
        preview,
        dry_run,
    } = checked;
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let errors = dry_run.errors.clone();
    let ok = errors.is_empty();
    view! {
        <div class="checked">
            <h3 id="restore-checked-h" tabindex="-1">"What changes"</h3>
            <RestorePreview preview=preview />
            <h3>"The router's dry run"</h3>
            {if ok {
                let held = dry_run.summary.as_ref().map(summary_text).unwrap_or_default();
                view! {
                    <p class="ok" data-testid="dry-run-ok">
                        "No mistakes: the script restores as it is. It holds " {held} "."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <p class="error">
                        {format!(
                            "{} mistake(s): nothing can be restored until they are corrected.",
                            errors.len(),
                        )}
                    </p>
                    <ol class="problems" data-testid="dry-run-errors">
                        {errors
                            .into_iter()
                            .map(|p| {
                                let source = lines.get(p.line.wrapping_sub(1)).cloned();
                                view! {
                                    <li data-testid="dry-run-error" data-line=p.line.to_string()>
                                        <span class="where">
                                            {format!("line {}, column {}", p.line, p.column)}
                                        </span>
                                        ": "
                                        {p.message}
                                        {source
                                            .map(|s| view! { <pre class="source"><code>{s}</code></pre> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                    .into_any()
            }}
        </div>
    }
}

/// A stored backup file (`GET /backup/files`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct StoredFile {
    pub name: String,
    pub size: u64,
    pub time: String,
}

/// The download URL of a stored backup.
pub fn file_url(name: &str) -> String {
    format!(
        "/backup/files/{}",
        String::from(js_sys::encode_uri_component(name))
    )
}

/// The stored backups (scheduled exports, `/export file=`).
#[component]
fn FilesPanel(version: RwSignal<u32>, on_load: Callback<(String, String)>) -> impl IntoView {
    let files = RwSignal::new(None::<Vec<StoredFile>>);
    let error = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            let r = api::request(Method::Get, "/backup/files", None)
                .await
                .and_then(|t| {
                    serde_json::from_str::<Vec<StoredFile>>(&t)
                        .map_err(|e| ApiError::Decode(e.to_string()))
                });
            match r {
                Ok(mut list) => {
                    // Newest first.
                    list.reverse();
                    files.set(Some(list));
                    error.set(None);
                }
                Err(e) => error.set(Some(format!("Cannot list the stored backups: {e}"))),
            }
        })
    };
    Effect::watch(move || version.get(), move |_, _, _| reload(), true);
    let load = move |name: String| {
        spawn_local(async move {
            match api::request(Method::Get, &file_url(&name), None).await {
                Ok(text) => on_load.run((name, text)),
                Err(e) => error.set(Some(format!("Cannot read {name}: {e}"))),
            }
        })
    };
    view! {
        <section class="panel" aria-labelledby="files-h">
            <h2 id="files-h">"Stored backups"</h2>
            <p class="error" role="alert" data-testid="files-error">{move || error.get()}</p>
            <div class="toolbar">
                <button type="button" data-testid="files-refresh" on:click=move |_| reload()>
                    "Refresh"
                </button>
            </div>
            <div class="scroll">
                <table data-testid="files-table">
                    <thead>
                        <tr>
                            <th scope="col">"File"</th>
                            <th scope="col">"Written (UTC)"</th>
                            <th scope="col" class="count">"Size"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || files.get().unwrap_or_default() key=|f| f.clone() let:f>
                            <tr data-testid="file-row">
                                <th scope="row">
                                    <a href=file_url(&f.name) download=f.name.clone()>
                                        {f.name.clone()}
                                    </a>
                                </th>
                                <td>{f.time.clone()}</td>
                                <td class="count">{format::bytes(f.size)}</td>
                                <td>
                                    <button
                                        type="button"
                                        aria-label=format!("Preview restoring {}", f.name)
                                        on:click={
                                            let name = f.name.clone();
                                            move |_| load(name.clone())
                                        }
                                    >
                                        "Preview restore"
                                    </button>
                                </td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
            {move || {
                files
                    .with(|f| f.as_ref().is_some_and(Vec::is_empty))
                    .then(|| view! { <p class="waiting">"No stored backups yet."</p> })
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn answers_read_as_the_router_writes_them() {
        let d: DryRun = serde_json::from_str(
            r#"{"dry-run":true,"errors":[{"line":3,"column":5,"message":"unknown parameter x"}]}"#,
        )
        .unwrap();
        assert_eq!(d.errors[0].line, 3);
        let d: DryRun = serde_json::from_str(
            r#"{"dry-run":true,"errors":[],"summary":{"ip/firewall/filter":2,"ip/route":0,"system/identity":"gw"}}"#,
        )
        .unwrap();
        assert_eq!(
            summary_text(d.summary.as_ref().unwrap()),
            "2 × /ip firewall filter, /system identity name=gw"
        );
        assert_eq!(file_url("a b.rsc"), "/backup/files/a%20b.rsc");
    }
}
