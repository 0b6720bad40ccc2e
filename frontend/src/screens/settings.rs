//! Settings: `/ip firewall connection tracking` as a form (the dashboard issue's "Settings"
//! screen). To come.

use leptos::prelude::*;

#[component]
pub fn Settings() -> impl IntoView {
    view! {
        <h1>"Connection tracking settings"</h1>
        <p class="placeholder">"The settings form comes here."</p>
    }
}
