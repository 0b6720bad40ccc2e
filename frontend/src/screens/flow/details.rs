//! The panels under the diagram: every drop reason with its rate, the timeouts in force with
//! the table's expirations (`/?show=timeouts`), and the translations with links to the NAT rules
//! and the translated connections (`/?show=nat`).

use super::figures::{drop_node, Figure, FlowFigures};
use crate::api::{self, ApiError};
use crate::format;
use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::{Map, Value};
use shared::tracking::{ValueKind, PROPERTIES};

/// Shows a failed REST read in place.
fn error_list(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <p class="error" role="alert">
            {move || {
                errors
                    .get()
                    .into_iter()
                    .map(|(_, e)| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            }}
        </p>
    }
}

/// A figure's total and rate in two table cells.
fn figure_cells(f: Figure) -> impl IntoView {
    view! {
        <td>{format::count(f.total)}</td>
        <td>{f.per_second()}</td>
    }
}

#[component]
pub fn DropsPanel(#[prop(into)] figures: Signal<Option<FlowFigures>>) -> impl IntoView {
    let rows = move || {
        figures
            .get()
            .map(|f| f.drops)
            .unwrap_or_default()
            .into_iter()
            .map(|(reason, f)| {
                let place = drop_node(&reason).map_or("–", |n| n.title());
                view! {
                    <tr class:zero=f.total == 0>
                        <th scope="row">{reason}</th>
                        <td class="text">{place}</td>
                        {figure_cells(f)}
                    </tr>
                }
            })
            .collect_view()
    };
    let total = move || figures.with(|f| f.as_ref().map(|f| f.dropped));
    view! {
        <section class="panel" aria-labelledby="drops-h">
            <h2 id="drops-h">
                "Drops by reason "
                <span class="muted" data-testid="flow-dropped">
                    {move || {
                        total()
                            .map(|t| format!("({} in all, {})", format::count(t.total), t.per_second()))
                    }}
                </span>
            </h2>
            <div class="scroll">
                <table class="numbers" data-testid="flow-drops">
                    <thead>
                        <tr>
                            <th scope="col">"Reason"</th>
                            <th scope="col" class="text">"Where"</th>
                            <th scope="col">"Packets"</th>
                            <th scope="col">"Rate"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// `/ip firewall connection tracking` as REST prints it: one object of strings.
async fn tracking() -> Result<Map<String, Value>, ApiError> {
    api::get("/ip/firewall/connection/tracking").await
}

#[component]
pub fn TimeoutPanel(#[prop(into)] figures: Signal<Option<FlowFigures>>) -> impl IntoView {
    let settings = LocalResource::new(tracking);
    let ended = move |f: fn(&FlowFigures) -> Figure| {
        move || figures.with(|x| x.as_ref().map(|x| figure_cells(f(x))))
    };
    let timeouts = move |t: Map<String, Value>| {
        PROPERTIES
            .iter()
            .filter(|p| p.kind == ValueKind::Time)
            .map(|p| {
                let value = t
                    .get(p.name)
                    .and_then(Value::as_str)
                    .unwrap_or("–")
                    .to_string();
                view! {
                    <tr>
                        <th scope="row">{p.name}</th>
                        <td data-testid=format!("timeout-{}", p.name)>{value}</td>
                        <td class="text muted">{p.help}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="panel" id="timeouts" aria-labelledby="timeouts-h" data-testid="flow-timeouts">
            <h2 id="timeouts-h">"Timeout & removal"</h2>
            <p class="muted">
                "An entry leaves the table when its timeout runs out (expired), when someone removes it, when the table is full and it was never answered (evicted), or when the protocol ends it (killed: a RST before any reply). "
                <A href="/">"Close"</A>
            </p>
            <div class="columns">
                <table class="numbers">
                    <thead>
                        <tr>
                            <th scope="col">"Entries"</th>
                            <th scope="col">"Total"</th>
                            <th scope="col">"Rate"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <tr>
                            <th scope="row">"expired"</th>
                            {ended(|f| f.expired)}
                        </tr>
                        <tr>
                            <th scope="row">"removed"</th>
                            {ended(|f| f.removed)}
                        </tr>
                        <tr>
                            <th scope="row">"evicted"</th>
                            {ended(|f| f.evicted)}
                        </tr>
                        <tr>
                            <th scope="row">"killed"</th>
                            {ended(|f| f.killed)}
                        </tr>
                    </tbody>
                </table>
                <div class="scroll">
                    <table class="timeouts">
                        <thead>
                            <tr>
                                <th scope="col">"Timeout"</th>
                                <th scope="col">"In force"</th>
                                <th scope="col">"Meaning"</th>
                            </tr>
                        </thead>
                        <tbody>
                            <Transition fallback=|| view! { <tr><td colspan="3">"Loading…"</td></tr> }>
                                <ErrorBoundary fallback=|e| view! { <tr><td colspan="3">{error_list(e)}</td></tr> }>
                                    {move || Suspend::new(async move { settings.await.map(timeouts) })}
                                </ErrorBoundary>
                            </Transition>
                        </tbody>
                    </table>
                </div>
            </div>
            <p>
                <A href="/settings">"Change the timeouts"</A>
            </p>
        </section>
    }
}

/// The addresses translated connections carry: those of the interfaces in the `WAN` list (where
/// masquerade takes its address and port forwards arrive), or every address if there is none.
async fn nat_addresses() -> Result<Vec<String>, ApiError> {
    let addresses: Vec<Map<String, Value>> = api::get("/ip/address").await?;
    let members: Vec<Map<String, Value>> = api::get("/interface/list/member").await?;
    let text =
        |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let wan: Vec<String> = members
        .iter()
        .filter(|m| text(m, "list").as_deref() == Some("WAN"))
        .filter_map(|m| text(m, "interface"))
        .collect();
    let all = addresses
        .iter()
        .filter(|a| text(a, "disabled").as_deref() != Some("true"))
        .filter_map(|a| Some((text(a, "interface")?, text(a, "address")?)));
    let (on_wan, other): (Vec<_>, Vec<_>) = all.partition(|(i, _)| wan.contains(i));
    let chosen = if on_wan.is_empty() { other } else { on_wan };
    Ok(chosen
        .into_iter()
        .map(|(_, a)| a.split('/').next().unwrap_or_default().to_string())
        .collect())
}

#[component]
pub fn NatPanel(#[prop(into)] figures: Signal<Option<FlowFigures>>) -> impl IntoView {
    let addresses = LocalResource::new(nat_addresses);
    let count = move |f: fn(&FlowFigures) -> u64| {
        move || figures.with(|x| x.as_ref().map(|x| format::count(f(x))))
    };
    let links = move |list: Vec<String>| {
        list.into_iter()
            .map(|a| {
                let href = format!("/connections?address={a}");
                view! {
                    <li>
                        <A href=href>{format!("Connections through {a}")}</A>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="panel" id="nat" aria-labelledby="nat-h" data-testid="flow-nat">
            <h2 id="nat-h">"NAT"</h2>
            <dl class="figures">
                <dt>"Entries with a source translation (srcnat, masquerade)"</dt>
                <dd>{count(|f| f.nat_srcnat)}</dd>
                <dt>"Entries with a destination translation (dstnat)"</dt>
                <dd>{count(|f| f.nat_dstnat)}</dd>
            </dl>
            <ul class="links">
                <li>
                    <A href="/nat">"NAT rules and their counters"</A>
                </li>
                <Transition fallback=|| view! { <li>"Loading the router's addresses…"</li> }>
                    <ErrorBoundary fallback=|e| view! { <li>{error_list(e)}</li> }>
                        {move || Suspend::new(async move { addresses.await.map(links) })}
                    </ErrorBoundary>
                </Transition>
            </ul>
            <p class="muted">
                "A translated connection carries the router's address: as its reply destination after masquerade, as its original destination through a port forward. "
                <A href="/">"Close"</A>
            </p>
        </section>
    }
}
