//! The statewall dashboard: a Leptos app compiled to WebAssembly, served by the `statewall`
//! binary (embedded `dist/`) or by `trunk serve` in development.
//!
//! # Layout
//! - [`api`]: the REST client (`/login`, `/logout`, `/rest/…`), RouterOS's JSON errors as a
//!   type; a 401 anywhere sends the app back to its login form.
//! - [`feed`]: the live feed (`/ws`): the latest snapshot and the connection state as signals,
//!   reconnecting by itself; screens change its rate and table window.
//! - [`app`]: the shell: login or the screens, routes, the nav bar, the live indicator, logout.
//! - [`screens`]: one module a screen (login, flow, connections, settings, rules, backup,
//!   system).
//! - [`format`]: numbers as people read them (bytes, rates, counts), one way everywhere.
//! - [`perf`]: the dashboard timing itself (feed message to screen), for the benchmark.
//!
//! Types the router also speaks (snapshots, windows, durations, RouterOS values) come from
//! `shared`, so the browser and the server read and check them with the same code.

pub mod api;
pub mod app;
pub mod feed;
pub mod format;
pub mod perf;
pub mod screens;

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
