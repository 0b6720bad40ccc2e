//! Flow: the packet path as a live diagram (the dashboard issue's "Flow" screen). To come.

use leptos::prelude::*;

#[component]
pub fn Flow() -> impl IntoView {
    view! {
        <h1>"Flow"</h1>
        <p class="placeholder">"The packet-flow diagram comes here."</p>
    }
}
