//! Connections: the live connection table (the dashboard issue's "Connections" screen). To come.
//!
//! Its filter, sort and page belong in the URL (`leptos_router::hooks::query_signal`), and its
//! rows come from the feed's window (`crate::feed::Feed::set_window`).

use leptos::prelude::*;

#[component]
pub fn Connections() -> impl IntoView {
    view! {
        <h1>"Connections"</h1>
        <p class="placeholder">"The connection table comes here."</p>
    }
}
