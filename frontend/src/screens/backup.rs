//! Backup: export downloads, restore with a preview, scheduled and stored backups (the
//! dashboard issue's "Backup" screen). To come.
//!
//! Its route is `/backups`: `/backup/…` is the API's (`/backup/export`, `/backup/restore`).

use leptos::prelude::*;

#[component]
pub fn Backup() -> impl IntoView {
    view! {
        <h1>"Backup and restore"</h1>
        <p class="placeholder">"Export, restore and the stored backups come here."</p>
    }
}
