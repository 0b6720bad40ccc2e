//! What the statewall dashboard (in the browser) and the router (on the host) both speak.
//!
//! # Layout
//! - [`duration`]: RouterOS time values (`1d`, `2m30s`, `00:00:10`), parsed and printed as RouterOS does.
//! - [`connection`]: a connection-table entry with RouterOS field names, as REST and the dashboard show it.
//! - [`feed`]: the live feed's messages (`/ws`): the dashboard's window query, the router's snapshots.
//! - [`suggest`]: "did you mean" for mistyped names, one helper for every menu.
//! - [`tracking`]: the `/ip firewall connection tracking` settings menu: names, defaults, validation.
//! - [`rsc`]: RouterOS scripts (`/export` files): parse, validate against statewall's menus, print.
//! - [`config`]: the typed router configuration: built from a script as `/import` runs it (with
//!   RouterOS's checks of what the commands mean), written back as `/export` does; defconf.
//!
//! This crate depends on nothing else of ours, so that the WebAssembly dashboard validates input
//! with exactly the code the server uses.

pub mod config;
pub mod connection;
pub mod duration;
pub mod feed;
pub mod rsc;
pub mod suggest;
pub mod tracking;
