//! Helpers for whole-system tests: comparing statewall with the Linux kernel on the same traffic,
//! running it in the network-namespace lab, and the rules every network test keeps (root, CI,
//! clean-up).
//!
//! # Layout
//! - [`kernel`]: `conntrack -L` lines, the kernel's listings kept beside captures, and the
//!   comparison of statewall's table with them.
//! - [`browser`]: headless Chromium over WebDriver inside a lab host, for the dashboard.
//! - [`env`]: whether privileged tests may run here, and what skipping means under CI.
//! - [`lab`]: `statewall run` in the network-namespace lab, with helpers for real traffic
//!   through it (servers inside the lab, HTTP, the router's log, the kernel's counters).

pub mod browser;
pub mod env;
pub mod kernel;
pub mod lab;
