//! The panels beside the table: entries by protocol and by TCP state (each a link that filters
//! the table), the entry count over the last minutes, and the top hosts by connections and by
//! rate (each a link to its connections).

use super::query::{Field, TableQuery};
use crate::format;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::feed::{HostCount, NamedCount, Snapshot, HISTORY_INTERVAL_MS};
use std::sync::Arc;

#[component]
pub fn Summary(
    #[prop(into)] snapshot: Signal<Option<Arc<Snapshot>>>,
    #[prop(into)] query: Signal<TableQuery>,
) -> impl IntoView {
    let of = move |f: fn(&Snapshot) -> Vec<NamedCount>| {
        Memo::new(move |_| snapshot.with(|s| s.as_ref().map(|s| f(s)).unwrap_or_default()))
    };
    let protocols = of(|s| s.entries_by_protocol.clone());
    let states = of(|s| s.entries_by_tcp_state.clone());
    let history = Memo::new(move |_| {
        snapshot.with(|s| s.as_ref().map(|s| s.history.clone()).unwrap_or_default())
    });
    let by_conn = Memo::new(move |_| {
        snapshot.with(|s| {
            s.as_ref()
                .map(|s| s.top_hosts_by_connections.clone())
                .unwrap_or_default()
        })
    });
    let by_rate = Memo::new(move |_| {
        snapshot.with(|s| {
            s.as_ref()
                .map(|s| s.top_hosts_by_rate.clone())
                .unwrap_or_default()
        })
    });
    let protocol_href = move |name: &str| {
        query.with(|q| q.with(Field::State, "").with(Field::Protocol, name).href())
    };
    let state_href = move |name: &str| {
        query.with(|q| {
            q.with(Field::Protocol, "tcp")
                .with(Field::State, name)
                .href()
        })
    };
    view! {
        <div class="conn-panels">
            <section class="panel" aria-labelledby="by-proto-h">
                <h2 id="by-proto-h">"Entries by protocol"</h2>
                <Counts counts=protocols href=protocol_href testid="by-protocol" />
            </section>
            <section class="panel" aria-labelledby="by-state-h">
                <h2 id="by-state-h">"TCP entries by state"</h2>
                <Counts counts=states href=state_href testid="by-state" />
            </section>
            <section class="panel history" aria-labelledby="history-h">
                <h2 id="history-h">"Entries over time"</h2>
                <HistoryGraph history=history />
            </section>
            <section class="panel" aria-labelledby="top-conn-h">
                <h2 id="top-conn-h">"Top hosts by connections"</h2>
                <TopHosts hosts=by_conn query=query rate=false testid="top-by-connections" />
            </section>
            <section class="panel" aria-labelledby="top-rate-h">
                <h2 id="top-rate-h">"Top hosts by rate"</h2>
                <TopHosts hosts=by_rate query=query rate=true testid="top-by-rate" />
            </section>
        </div>
    }
}

/// Named counts with a bar each, largest bar full width; each name filters the table.
#[component]
fn Counts(
    counts: Memo<Vec<NamedCount>>,
    href: impl Fn(&str) -> String + Copy + Send + Sync + 'static,
    testid: &'static str,
) -> impl IntoView {
    let rows = move || {
        let list = counts.get();
        let max = list.iter().map(|c| c.count).max().unwrap_or(0).max(1);
        list.into_iter()
            .map(|c| {
                let width = format!("width: {:.1}%", c.count as f64 * 100.0 / max as f64);
                view! {
                    <tr class:zero=c.count == 0>
                        <th scope="row">
                            <A href=href(&c.name)>{c.name.clone()}</A>
                        </th>
                        <td class="num">{format::count(c.count)}</td>
                        <td class="bar" aria-hidden="true">
                            <span style=width></span>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <table class="counts" data-testid=testid>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The points of the graph's line in a `w`×`h` box: oldest left, now right, zero at the bottom.
pub fn graph_points(history: &[u64], w: f64, h: f64) -> Vec<(f64, f64)> {
    let max = history.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = history.len();
    history
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = if n > 1 {
                i as f64 * w / (n - 1) as f64
            } else {
                w
            };
            (x, h - *v as f64 / max * h)
        })
        .collect()
}

/// `history` (one sample a second) as an area graph, with its scale and a text summary.
#[component]
pub fn HistoryGraph(#[prop(into)] history: Signal<Vec<u64>>) -> impl IntoView {
    const W: f64 = 300.0;
    const H: f64 = 100.0;
    let shape = Memo::new(move |_| {
        history.with(|h| {
            let pts = graph_points(h, W, H);
            let line = pts
                .iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect::<Vec<_>>()
                .join(" ");
            let area = if pts.is_empty() {
                String::new()
            } else {
                format!("0,{H} {line} {W},{H}")
            };
            (line, area)
        })
    });
    let max = move || history.with(|h| h.iter().copied().max().unwrap_or(0));
    let now = move || history.with(|h| h.last().copied().unwrap_or(0));
    let seconds = move || history.with(|h| h.len() as u64 * HISTORY_INTERVAL_MS / 1000);
    let summary = move || {
        format!(
            "Entries over the last {} s: now {}, peak {}",
            seconds(),
            format::count(now()),
            format::count(max())
        )
    };
    view! {
        <figure class="graph">
            <svg
                viewBox=format!("-2 -4 {} {}", W + 4.0, H + 8.0)
                role="img"
                aria-label=summary
                data-testid="history-graph"
                preserveAspectRatio="none"
            >
                <polygon class="area" points=move || shape.get().1></polygon>
                <polyline class="line" points=move || shape.get().0 vector-effect="non-scaling-stroke"></polyline>
            </svg>
            <figcaption>
                <span>{move || format!("peak {}", format::count(max()))}</span>
                <span>{move || format!("−{} s … now: {}", seconds(), format::count(now()))}</span>
            </figcaption>
        </figure>
    }
}

#[component]
fn TopHosts(
    hosts: Memo<Vec<HostCount>>,
    #[prop(into)] query: Signal<TableQuery>,
    rate: bool,
    testid: &'static str,
) -> impl IntoView {
    let rows = move || {
        let list = hosts.get();
        if list.is_empty() {
            return view! {
                <tr>
                    <td colspan="2" class="muted">"None yet"</td>
                </tr>
            }
            .into_any();
        }
        list.into_iter()
            .map(|h| {
                let address = h.address.to_string();
                let href = query.with(|q| q.with(Field::Address, &address).href());
                let figure = if rate {
                    format::bits_per_second(h.rate as f64)
                } else {
                    format::count(h.connections)
                };
                view! {
                    <tr>
                        <th scope="row">
                            <A href=href>{address}</A>
                        </th>
                        <td class="num">{figure}</td>
                    </tr>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <table class="counts" data-testid=testid>
            <thead>
                <tr>
                    <th scope="col">"Host"</th>
                    <th scope="col" class="num">{if rate { "Rate" } else { "Entries" }}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
