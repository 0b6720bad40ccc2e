//! Removing connections through REST (`POST /rest/ip/firewall/connection/remove` with `.id`s):
//! one entry from its row, or every entry matching the filter after a confirmation.
//!
//! "Remove all matching" works through a second feed socket of its own, whose window is the
//! filter's first [`BATCH`] entries: each snapshot names entries still there, which are removed
//! in one request; the next snapshot (made after the removal) names the next ones. It stops when
//! nothing matches any more, or when as many entries were removed as the dialog said (new
//! connections that keep arriving are not chased), or when asked to stop.

use super::query::TableQuery;
use crate::api::{self, ApiError};
use crate::feed::Feed;
use crate::format;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::feed::{SortColumn, Window, MAX_LIMIT};
use std::collections::HashSet;

/// Entries removed by one request: one window's worth.
pub const BATCH: u32 = MAX_LIMIT;
/// How often the removal's own feed reports (the fastest the router allows).
const JOB_INTERVAL_MS: u64 = shared::feed::MIN_INTERVAL_MS;

/// Removes the entries with these ids (RouterOS ids, `*1A`) in one request.
pub async fn remove_ids(ids: &[String]) -> Result<(), ApiError> {
    let body = serde_json::json!({ ".id": ids.join(",") });
    api::post::<serde_json::Value>("/ip/firewall/connection/remove", &body)
        .await
        .map(drop)
}

/// Where a "remove all matching" stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// The dialog is closed.
    Idle,
    /// Asking: this many entries match `what`.
    Confirm {
        target: u64,
        what: String,
        window: Window,
    },
    Running {
        target: u64,
        removed: u64,
        window: Window,
    },
    Done {
        removed: u64,
        error: Option<String>,
    },
}

/// The button, the dialog, and the removal itself.
#[component]
pub fn RemoveMatching(
    #[prop(into)] query: Signal<TableQuery>,
    #[prop(into)] matching: Signal<u64>,
) -> impl IntoView {
    let job = RwSignal::new(Job::Idle);
    let dialog = NodeRef::<html::Dialog>::new();
    let open = move |_| {
        let q = query.get_untracked();
        job.set(Job::Confirm {
            target: matching.get_untracked(),
            what: q.describe(),
            window: Window {
                sort: SortColumn::Id,
                descending: false,
                offset: 0,
                limit: BATCH,
                ..q.window(0, 0)
            },
        });
        if let Some(d) = dialog.get_untracked() {
            let _ = d.show_modal();
        }
    };
    let close = move || {
        job.set(Job::Idle);
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    };
    let confirm = move |_| {
        if let Job::Confirm { target, window, .. } = job.get_untracked() {
            job.set(Job::Running {
                target,
                removed: 0,
                window,
            });
        }
    };
    let stop = move |_| {
        if let Job::Running { removed, .. } = job.get_untracked() {
            job.set(Job::Done {
                removed,
                error: Some("stopped".into()),
            });
        }
    };
    let body = move || {
        match job.get() {
        Job::Idle => ().into_any(),
        Job::Confirm { target, what, .. } => view! {
            <p id="remove-dialog-text">
                {format!(
                    "Remove the {} connections matching {what}? Their traffic is not blocked: the next packet of each makes a new entry, which the firewall judges as new.",
                    format::count(target)
                )}
            </p>
            <div class="buttons">
                <button type="button" autofocus on:click=move |_| close()>"Cancel"</button>
                <button type="button" class="danger" data-testid="remove-confirm" on:click=confirm>
                    {format!("Remove {}", format::count(target))}
                </button>
            </div>
        }
        .into_any(),
        Job::Running { target, removed, window } => view! {
            <p id="remove-dialog-text" role="status">
                {format!("Removing… {} of {} removed", format::count(removed), format::count(target))}
            </p>
            <progress max=target.max(1) value=removed></progress>
            <RemovalJob window=window target=target job=job />
            <div class="buttons">
                <button type="button" on:click=stop>"Stop"</button>
            </div>
        }
        .into_any(),
        Job::Done { removed, error } => view! {
            <p id="remove-dialog-text" role="status" data-testid="remove-result">
                {format!("Removed {} connections.", format::count(removed))}
                {error.map(|e| format!(" Stopped: {e}."))}
            </p>
            <div class="buttons">
                <button type="button" autofocus on:click=move |_| close()>"Close"</button>
            </div>
        }
        .into_any(),
    }
    };
    view! {
        <button
            type="button"
            class="danger"
            data-testid="remove-matching"
            disabled=move || matching.get() == 0
            on:click=open
        >
            {move || format!("Remove {} matching…", format::count(matching.get()))}
        </button>
        <dialog
            node_ref=dialog
            class="confirm"
            aria-labelledby="remove-dialog-h"
            aria-describedby="remove-dialog-text"
            data-testid="remove-dialog"
            on:cancel=move |ev: leptos::ev::Event| {
                // Escape: a running removal is stopped first, not left behind.
                if matches!(job.get_untracked(), Job::Running { .. }) {
                    ev.prevent_default();
                } else {
                    job.set(Job::Idle);
                }
            }
        >
            <h2 id="remove-dialog-h">"Remove connections"</h2>
            {body}
        </dialog>
    }
}

/// The removal while it runs: its own feed, one request per snapshot.
#[component]
fn RemovalJob(window: Window, target: u64, job: RwSignal<Job>) -> impl IntoView {
    let feed = Feed::new(crate::feed::page_url()).start();
    feed.set_interval(JOB_INTERVAL_MS);
    feed.set_window(window.clone());
    let removed_ids = StoredValue::new(HashSet::<String>::new());
    let busy = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(s) = feed.snapshot() else { return };
        let Job::Running { removed, .. } = job.get_untracked() else {
            return;
        };
        if busy.get_value() || s.window.query != window {
            return;
        }
        let ids: Vec<String> = removed_ids.with_value(|done| {
            s.window
                .entries
                .iter()
                .filter(|e| !done.contains(&e.id))
                .map(|e| e.id.clone())
                .take(usize::try_from(target.saturating_sub(removed)).unwrap_or(usize::MAX))
                .collect()
        });
        if s.window.matching == 0 || removed >= target {
            job.set(Job::Done {
                removed,
                error: None,
            });
            return;
        }
        if ids.is_empty() {
            // The snapshot was made before the last removal: wait for the next.
            return;
        }
        busy.set_value(true);
        spawn_local(async move {
            let result = remove_ids(&ids).await;
            busy.set_value(false);
            let Job::Running {
                removed,
                target,
                window,
            } = job.get_untracked()
            else {
                return;
            };
            match result {
                Ok(()) => {
                    let n = ids.len() as u64;
                    removed_ids.update_value(|done| done.extend(ids));
                    job.set(Job::Running {
                        removed: removed + n,
                        target,
                        window,
                    });
                }
                Err(e) => job.set(Job::Done {
                    removed,
                    error: Some(e.to_string()),
                }),
            }
        });
    });
    on_cleanup(move || feed.stop());
}
