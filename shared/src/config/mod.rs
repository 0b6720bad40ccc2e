//! The router's configuration: typed values built from a checked `.rsc` script, and written
//! back as one.
//!
//! # Layout
//! - [`model`]: the typed configuration ([`RouterConfig`]) the dataplane compiles.
//! - [`values`]: matcher and target values (addresses, ports, protocols, ICMP options, TCP flags).
//! - `menus`: the list menus, each one mapping item → arguments and one arguments → item; and
//!   the one list of every menu, in export order, that import and export both walk.
//! - `rule`: that mapping for firewall rules, shared by filter and NAT.
//! - `settings`: the settings menus (`/ip firewall connection tracking`, `/ip settings`).
//! - `build`: script → configuration ([`RouterConfig::from_script`], [`RouterConfig::from_rsc`]),
//!   run as RouterOS's `/import` runs it, with RouterOS's checks of what the commands mean.
//! - `export`: configuration → script ([`RouterConfig::to_script`], [`RouterConfig::to_rsc`]),
//!   as RouterOS's compact `/export` writes it. Import ∘ export is the identity.
//! - [`edit`]: the configuration item by item ([`edit::Editor`]): menus listed as RouterOS
//!   prints them, and one change at a time, run as the `.rsc` command it means, ids kept.
//! - `defconf`: RouterOS's default configuration ([`DEFCONF_RSC`], [`defconf()`]).

mod build;
mod defconf;
pub mod edit;
mod export;
mod menus;
pub mod model;
mod rule;
mod settings;
pub mod values;

pub use defconf::{defconf, DEFCONF_RSC};
pub use model::*;
pub use values::{AddrMatch, IcmpOptions, PortRange, PortSet, TcpFlagsMatch};
