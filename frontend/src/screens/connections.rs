//! Connections: the live connection table. The router filters, sorts and cuts it (the feed's
//! window); this screen asks for the rows in view and draws only those, so it stays smooth with
//! a table of any size.
//!
//! - Filter (address or subnet, port, protocol, TCP state), sort and the first row in view live
//!   in the URL (`/connections?address=192.0.2.0/24&sort=rate&desc=1&offset=200`): a reload or
//!   a shared link shows the same rows.
//! - The window follows the scroll position, debounced; live updates can be paused.
//! - One entry can be removed from its row, every matching entry after a confirmation.
//!
//! Modules: [`query`] (the URL's query, checked with the router's parsers), [`table`] (the
//! windowed table), [`remove`] (removal through REST), [`summary`] (counts, graph, top hosts).

pub mod query;
pub mod remove;
pub mod summary;
pub mod table;

use crate::feed::{use_feed, Feed};
use crate::format;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use query::{answers, check, Field, TableQuery};
use remove::{remove_ids, RemoveMatching};
use shared::feed::{Snapshot, SortColumn, Window, MAX_LIMIT};
use std::sync::Arc;
use summary::Summary;
use table::{ConnTable, TableData, Viewport, SORTS};

/// How long the scroll position must rest before the window follows it.
const DEBOUNCE_MS: u64 = 120;
/// While scrolling goes on, the window follows at least this often.
const MAX_WAIT_MS: f64 = 400.0;

/// The window for what is in view: the rows, and a screenful before and after.
pub fn window_for(q: &TableQuery, v: Viewport) -> Window {
    let screen = v.rows as u64;
    let offset = v.first.saturating_sub(screen);
    let limit = (v.rows * 3).min(MAX_LIMIT as usize) as u32;
    q.window(offset, limit)
}

/// Whether `sent` still covers the rows in view with half a screen to spare on each side (so
/// small scrolls ask for nothing new).
fn covers(sent: &Window, v: Viewport) -> bool {
    let margin = v.rows as u64 / 2;
    let end = sent.offset + u64::from(sent.limit);
    (sent.offset == 0 || v.first >= sent.offset + margin) && v.first + v.rows as u64 + margin <= end
}

#[component]
pub fn Connections() -> impl IntoView {
    let feed = use_feed();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(TableQuery::from_params));
    let navigate = use_navigate();
    let go = Callback::new(move |(q, replace): (TableQuery, bool)| {
        navigate(
            &q.href(),
            NavigateOptions {
                replace,
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    });

    // Live or paused: paused shows a frozen snapshot, replaced only by one that answers a new
    // window (scrolling or filtering while paused still shows rows).
    let paused = RwSignal::new(false);
    let frozen = RwSignal::new(None::<Arc<Snapshot>>);
    Effect::new(move |_| {
        let latest = feed.snapshot();
        if !paused.get_untracked() {
            return;
        }
        if let Some(l) = latest {
            let new_window = frozen
                .with_untracked(|f| f.as_ref().is_none_or(|f| f.window.query != l.window.query));
            if new_window {
                frozen.set(Some(l));
            }
        }
    });
    let shown = Signal::derive(move || {
        if paused.get() {
            frozen.get()
        } else {
            feed.snapshot()
        }
    });
    let data =
        Memo::new(move |_| shown.with(|s| s.as_ref().map(|s| Arc::new(TableData::of(&s.window)))));
    let want = Memo::new(move |_| query.with(|q| q.window(0, 0)));
    // The matching count of the query in force (the last one known while a new filter waits for
    // its answer).
    let matching = Memo::new(move |prev: Option<&u64>| {
        data.with(|d| match d {
            Some(d) if want.with(|w| answers(&d.query, w)) => d.matching,
            _ => prev.copied().unwrap_or(0),
        })
    });

    let viewport = RwSignal::new(Viewport {
        first: query.get_untracked().offset,
        ..Viewport::default()
    });
    let scroll_to = RwSignal::new(Some(query.get_untracked().offset).filter(|o| *o > 0));
    follow_window(feed, query, viewport, go);

    // A new filter or order starts at the top.
    let selection = Memo::new(move |_| {
        query.with(|q| TableQuery {
            offset: 0,
            ..q.clone()
        })
    });
    Effect::new(move |prev: Option<TableQuery>| {
        let now = selection.get();
        if prev.as_ref().is_some_and(|p| *p != now) {
            viewport.update(|v| v.first = 0);
            scroll_to.set(Some(0));
        }
        now
    });

    let status = RwSignal::new(None::<String>);
    let on_remove = Callback::new(move |id: String| {
        status.set(Some(format!("Removing {id}…")));
        spawn_local(async move {
            let text = match remove_ids(std::slice::from_ref(&id)).await {
                Ok(()) => format!("Removed {id}."),
                Err(e) => format!("Could not remove {id}: {e}"),
            };
            status.set(Some(text));
        });
    });
    let on_sort =
        Callback::new(move |c: SortColumn| go.run((query.get_untracked().sorted_by(c), false)));

    let totals = move || {
        shown.with(|s| {
            s.as_ref().map(|s| {
                format!(
                    "{} matching · {} entries of {} max",
                    format::count(matching.get()),
                    format::count(s.total_entries),
                    format::count(s.max_entries)
                )
            })
        })
    };
    let toggle_pause = move |_| {
        let now = !paused.get_untracked();
        if now {
            frozen.set(feed.snapshot());
        }
        paused.set(now);
    };

    view! {
        <h1>"Connections"</h1>
        <FilterForm query=query go=go />
        <section class="panel conn-panel" aria-labelledby="conn-h">
            <div class="conn-toolbar">
                <h2 id="conn-h" class="visually-hidden">"Connection table"</h2>
                <p class="conn-totals" data-testid="conn-totals">
                    {totals}
                </p>
                <SortSelect query=query go=go />
                <button
                    type="button"
                    aria-pressed=move || paused.get().to_string()
                    data-testid="conn-pause"
                    on:click=toggle_pause
                >
                    {move || if paused.get() { "Resume live updates" } else { "Pause" }}
                </button>
                <RemoveMatching query=query matching=matching />
            </div>
            <Show when=move || paused.get()>
                <p class="note" data-testid="conn-paused">
                    "Paused: the figures stay as they were; scrolling or filtering still fetches rows."
                </p>
            </Show>
            <p class="note" aria-live="polite" data-testid="conn-status">
                {move || status.get()}
                {move || feed.error().map(|e| format!("The router refused the table's query: {e}"))}
            </p>
            <ConnTable
                data=data
                query=query
                matching=matching
                viewport=viewport
                scroll_to=scroll_to
                on_sort=on_sort
                on_remove=on_remove
            />
        </section>
        <Summary snapshot=shown query=query />
    }
}

/// Keeps the feed's window on the rows in view (debounced while scrolling, at once for a new
/// filter or order) and the URL's offset on the first row in view; asks for counts only again
/// when the screen closes.
fn follow_window(
    feed: Feed,
    query: Memo<TableQuery>,
    viewport: RwSignal<Viewport>,
    go: Callback<(TableQuery, bool)>,
) {
    let sent = StoredValue::new(None::<Window>);
    let last_sent_ms = StoredValue::new(0.0f64);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let send = move || {
        if let Some(t) = timer.get_value() {
            t.clear();
        }
        timer.set_value(None);
        let q = query.get_untracked();
        let v = viewport.get_untracked();
        let w = window_for(&q, v);
        let fresh = sent.with_value(|s| {
            s.as_ref()
                .is_none_or(|s| !answers(s, &w) || !covers(s, v) || s.limit < w.limit)
        });
        if fresh {
            feed.set_window(w.clone());
            sent.set_value(Some(w));
            last_sent_ms.set_value(js_sys::Date::now());
        }
        if q.offset != v.first {
            go.run((
                TableQuery {
                    offset: v.first,
                    ..q
                },
                true,
            ));
        }
    };
    Effect::new(move |prev: Option<(TableQuery, Viewport)>| {
        let q = query.get();
        let v = viewport.get();
        let now = (
            TableQuery {
                offset: 0,
                ..q.clone()
            },
            v,
        );
        let new_selection = prev.as_ref().is_none_or(|(p, _)| *p != now.0);
        let waited = js_sys::Date::now() - last_sent_ms.get_value();
        if new_selection || waited > MAX_WAIT_MS {
            send();
        } else {
            if let Some(t) = timer.get_value() {
                t.clear();
            }
            let delay = std::time::Duration::from_millis(DEBOUNCE_MS);
            timer.set_value(set_timeout_with_handle(send, delay).ok());
        }
        now
    });
    on_cleanup(move || {
        if let Some(t) = timer.get_value() {
            t.clear();
        }
        feed.set_window(Window::counts_only());
    });
}

/// The filter: typed text checked as typed, with the router's words; applied (to the URL) when
/// submitted or when a field is left, if every field is right.
#[component]
fn FilterForm(query: Memo<TableQuery>, go: Callback<(TableQuery, bool)>) -> impl IntoView {
    let draft = RwSignal::new(query.get_untracked());
    // A link or the back button changes the filter: the form follows (scrolling, which changes
    // only the offset, leaves what is being typed alone).
    let selection = Memo::new(move |_| {
        query.with(|q| TableQuery {
            offset: 0,
            ..q.clone()
        })
    });
    Effect::new(move |_| draft.set(selection.get()));
    let error = move |f: Field| draft.with(|d| check(f, d.text(f), &d.protocol).err());
    let apply = move || {
        let d = draft.get_untracked();
        if d.checked().is_ok() && !d.same_selection(&query.get_untracked()) {
            go.run((TableQuery { offset: 0, ..d }, false));
        }
    };
    let set = move |f: Field, value: String| draft.update(|d| *d = d.with(f, &value));
    let text_field = move |f: Field, placeholder: &'static str, list: Option<&'static str>| {
        let id = format!("conn-filter-{}", f.key());
        let err_id = format!("{id}-error");
        view! {
            <div class="field" class:invalid=move || error(f).is_some()>
                <label for=id.clone()>{f.label()}</label>
                <input
                    id=id
                    type="text"
                    inputmode=if f == Field::Port { "numeric" } else { "text" }
                    autocomplete="off"
                    spellcheck="false"
                    placeholder=placeholder
                    list=list
                    prop:value=move || draft.with(|d| d.text(f).to_string())
                    aria-invalid=move || error(f).is_some().to_string()
                    aria-describedby=err_id.clone()
                    data-testid=format!("filter-{}", f.key())
                    on:input=move |ev| set(f, event_target_value(&ev))
                    on:change=move |_| apply()
                />
                <p class="error" id=err_id aria-live="polite" data-testid=format!("filter-{}-error", f.key())>
                    {move || error(f)}
                </p>
            </div>
        }
    };
    let state_options = move || {
        std::iter::once(("", "any"))
            .chain(query::states().iter().map(|s| (*s, *s)))
            .map(|(v, label)| {
                view! {
                    <option value=v prop:selected=move || draft.with(|d| d.state == v)>
                        {label}
                    </option>
                }
            })
            .collect_view()
    };
    view! {
        <form
            class="panel conn-filter"
            role="search"
            aria-label="Filter the connections"
            data-testid="conn-filter"
            on:submit=move |ev| {
                ev.prevent_default();
                apply();
            }
        >
            {text_field(Field::Address, "192.0.2.0/24", None)}
            {text_field(Field::Port, "443 or 8000-8080", None)}
            {text_field(Field::Protocol, "tcp, udp, icmp…", Some("conn-protocols"))}
            <datalist id="conn-protocols">
                <option value="tcp"></option>
                <option value="udp"></option>
                <option value="icmp"></option>
                <option value="gre"></option>
            </datalist>
            <div class="field" class:invalid=move || error(Field::State).is_some()>
                <label for="conn-filter-state">{Field::State.label()}</label>
                <select
                    id="conn-filter-state"
                    aria-invalid=move || error(Field::State).is_some().to_string()
                    aria-describedby="conn-filter-state-error"
                    data-testid="filter-state"
                    on:change=move |ev| {
                        set(Field::State, event_target_value(&ev));
                        apply();
                    }
                >
                    {state_options}
                </select>
                <p class="error" id="conn-filter-state-error" aria-live="polite" data-testid="filter-state-error">
                    {move || error(Field::State)}
                </p>
            </div>
            <div class="buttons">
                <button type="submit" data-testid="filter-apply">"Filter"</button>
                <button
                    type="button"
                    data-testid="filter-clear"
                    on:click=move |_| {
                        let q = query.get_untracked();
                        go.run((TableQuery { sort: q.sort, descending: q.descending, ..TableQuery::default() }, false));
                    }
                >
                    "Clear"
                </button>
            </div>
        </form>
    }
}

/// Every order the router offers, the totals of both directions included.
#[component]
fn SortSelect(query: Memo<TableQuery>, go: Callback<(TableQuery, bool)>) -> impl IntoView {
    let change = move |ev: leptos::ev::Event| {
        let Some(c) = query::parse_sort(&event_target_value(&ev)) else {
            return;
        };
        let q = query.get_untracked();
        go.run((
            TableQuery {
                sort: c,
                offset: 0,
                ..q
            },
            false,
        ));
    };
    let toggle = move |_| {
        let q = query.get_untracked();
        go.run((
            TableQuery {
                descending: !q.descending,
                offset: 0,
                ..q
            },
            false,
        ));
    };
    view! {
        <label class="inline">
            "Sort by "
            <select data-testid="conn-sort" on:change=change>
                {SORTS
                    .iter()
                    .map(|&(c, label)| {
                        view! {
                            <option value=query::sort_name(c) prop:selected=move || query.with(|q| q.sort == c)>
                                {label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
        <label class="inline">
            <input
                type="checkbox"
                data-testid="conn-desc"
                prop:checked=move || query.with(|q| q.descending)
                on:change=toggle
            />
            " descending"
        </label>
    }
}
