//! Flow: the seed's packet path as a live diagram. Every box shows its figures (packets/s from
//! successive snapshots, totals, entries of max, translations, expirations, drops) and every
//! arrow its rate; each box links to what it is made of: a chain to its rules
//! (`/firewall?chain=forward`), the table to the connections, NAT and "timeout & removal" to a
//! panel here (`/?show=nat`, `/?show=timeouts`). Drops by reason are listed under the diagram.
//!
//! - [`figures`]: the numbers, from two snapshots (pure);
//! - [`diagram`]: the SVG and its two layouts;
//! - [`details`]: the panels under the diagram (drops, timeouts in force, translations).

pub mod details;
pub mod diagram;
pub mod figures;

use crate::feed::use_feed;
use details::{DropsPanel, NatPanel, TimeoutPanel};
use diagram::Diagram;
use figures::FlowFigures;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Flow() -> impl IntoView {
    let feed = use_feed();
    let figures = Memo::new(move |_| {
        let latest = feed.latest()?;
        let previous = feed.previous();
        Some(FlowFigures::between(
            previous.as_ref().map(|p| &*p.snapshot),
            &latest.snapshot,
        ))
    });
    let query = use_query_map();
    let show = Memo::new(move |_| query.with(|q| q.get("show")));
    view! {
        <h1>"Flow"</h1>
        <FlowView figures=figures />
        {move || match show.get().as_deref() {
            Some("timeouts") => view! { <TimeoutPanel figures=figures /> }.into_any(),
            Some("nat") => view! { <NatPanel figures=figures /> }.into_any(),
            _ => ().into_any(),
        }}
        <DropsPanel figures=figures />
    }
}

/// The diagram in its panel, with a legend; no feed of its own (tests give it figures).
#[component]
pub fn FlowView(#[prop(into)] figures: Signal<Option<FlowFigures>>) -> impl IntoView {
    view! {
        <section class="panel flow-panel" aria-labelledby="flow-h">
            <h2 id="flow-h" class="visually-hidden">
                "Packet flow"
            </h2>
            <Show when=move || figures.with(Option::is_none)>
                <p class="waiting">"Waiting for the router's first figures…"</p>
            </Show>
            <Diagram figures=figures />
            <p class="flow-legend">
                "Arrows: packets per second between two snapshots, unless marked "
                <em>"new"</em>
                " (entries created), "
                <em>"ended"</em>
                " (entries gone) or "
                <em>"conn"</em>
                " (connections translated). Select a box for its rules or connections."
            </p>
        </section>
    }
}
