//! System: the host (`/system/resource`: CPU, memory, uptime) and the router's interfaces with
//! their counters and rates, all from the live feed.

use crate::feed::{use_feed, Feed};
use crate::format;
use leptos::prelude::*;
use shared::feed::{PortCounters, Snapshot};

#[component]
pub fn System() -> impl IntoView {
    let feed = use_feed();
    view! {
        <h1>"System"</h1>
        <Show
            when=move || feed.snapshot().is_some()
            fallback=|| view! { <p class="waiting">"Waiting for the router's first figures…"</p> }
        >
            <Resource feed=feed />
            <Interfaces feed=feed />
        </Show>
    }
}

/// A figure of the latest snapshot, or nothing before the first.
fn figure<T>(feed: Feed, f: impl Fn(&Snapshot) -> T) -> impl Fn() -> Option<T> {
    move || feed.snapshot().map(|s| f(&s))
}

#[component]
fn Resource(feed: Feed) -> impl IntoView {
    let r =
        move |f: fn(&shared::feed::SystemResource) -> String| figure(feed, move |s| f(&s.resource));
    let load = Memo::new(move |_| feed.snapshot().map(|s| s.resource.cpu_load));
    let used = Memo::new(move |_| {
        feed.snapshot().map(|s| {
            (
                s.resource
                    .total_memory
                    .saturating_sub(s.resource.free_memory),
                s.resource.total_memory,
            )
        })
    });
    view! {
        <section class="panel" aria-labelledby="resource-h">
            <h2 id="resource-h">"Resources"</h2>
            <dl class="figures" data-testid="resource">
                <dt>"CPU load"</dt>
                <dd>
                    <meter min="0" max="100" value=move || load.get().unwrap_or(0) aria-label="CPU load"></meter>
                    " " {move || load.get().map(|l| format!("{l} %"))}
                </dd>
                <dt>"Memory used"</dt>
                <dd>
                    <meter
                        min="0"
                        max=move || used.get().map_or(1, |u| u.1)
                        value=move || used.get().map_or(0, |u| u.0)
                        aria-label="Memory used"
                    ></meter>
                    " "
                    {move || {
                        used.get()
                            .map(|(u, t)| {
                                format!(
                                    "{} of {} ({})",
                                    format::bytes(u),
                                    format::bytes(t),
                                    format::percent(u, t),
                                )
                            })
                    }}
                </dd>
                <dt>"Uptime"</dt>
                <dd data-testid="uptime">{r(|r| r.uptime.to_string())}</dd>
                <dt>"CPU"</dt>
                <dd>{r(|r| format!("{} × {}", r.cpu_count, r.cpu))}</dd>
                <dt>"Version"</dt>
                <dd>{r(|r| r.version.clone())}</dd>
                <dt>"Architecture"</dt>
                <dd>{r(|r| r.architecture_name.clone())}</dd>
                <dt>"Board"</dt>
                <dd>{r(|r| format!("{} ({})", r.board_name, r.platform))}</dd>
            </dl>
        </section>
    }
}

/// One port's counters in a snapshot.
fn port(s: &Snapshot, name: &str) -> Option<PortCounters> {
    s.ports.iter().find(|p| p.name == name).cloned()
}

#[component]
fn Interfaces(feed: Feed) -> impl IntoView {
    let names = Memo::new(move |_| {
        feed.snapshot()
            .map(|s| s.ports.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
            .unwrap_or_default()
    });
    view! {
        <section class="panel" aria-labelledby="interfaces-h">
            <h2 id="interfaces-h">"Interfaces"</h2>
            <div class="scroll">
                <table class="numbers" data-testid="interfaces">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Rx rate"</th>
                            <th scope="col">"Tx rate"</th>
                            <th scope="col">"Rx packets"</th>
                            <th scope="col">"Rx bytes"</th>
                            <th scope="col">"Tx packets"</th>
                            <th scope="col">"Tx bytes"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || names.get() key=|name| name.clone() let:name>
                            <PortRow feed=feed name=name />
                        </For>
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn PortRow(feed: Feed, name: String) -> impl IntoView {
    let counters = {
        let name = name.clone();
        move || feed.snapshot().and_then(|s| port(&s, &name))
    };
    let cell = move |f: fn(&PortCounters) -> u64, show: fn(u64) -> String| {
        let counters = counters.clone();
        move || counters().map(|p| show(f(&p)))
    };
    let rate_name = name.clone();
    let rate = move |f: fn(&PortCounters) -> u64| {
        let name = rate_name.clone();
        move || {
            feed.rate(|s| port(s, &name).map_or(0, |p| f(&p)))
                .map(format::bits_per_second)
        }
    };
    view! {
        <tr>
            <th scope="row">{name.clone()}</th>
            <td>{rate(|p| p.rx_bytes)}</td>
            <td>{rate(|p| p.tx_bytes)}</td>
            <td>{cell(|p| p.rx_packets, format::count)}</td>
            <td>{cell(|p| p.rx_bytes, format::bytes)}</td>
            <td>{cell(|p| p.tx_packets, format::count)}</td>
            <td>{cell(|p| p.tx_bytes, format::bytes)}</td>
        </tr>
    }
}
