//! The statewall library: what the `statewall` binary and the end-to-end tests share.
//!
//! # Layout
//! - [`run`]: `statewall run`, the router on the host's interfaces.
//! - [`engine`]: the router's threads: receive per port, one worker owning the pipeline.
//! - [`command`]: one command model (menu, verb, arguments → rows or `ret`) that every way in
//!   runs: REST, the binary API, the console.
//! - [`api`]: the management plane over HTTP: the RouterOS REST API under `/rest`.
//! - [`ros_api`]: the binary API on 8728/8729 (and its wire format, which clients share).
//! - [`console`]: `statewall console`, a RouterOS terminal on the router, a client of the API.
//! - [`store`]: the state directory: the saved configuration, written atomically; `backups/`.
//! - [`scheduler`]: `/system scheduler` entries, when they run, and the RouterOS script subset
//!   their `on-event` runs (the seed's backup script).
//! - [`tls`]: HTTPS (`www-ssl`): the certificate (given, or self-signed and kept) and the TLS
//!   server in front of the same API.
//! - [`users`]: `/user`, the `full` and `read` groups, argon2 password hashes.
//! - [`host`]: stop signals and logging, shared by the long-running commands.
//! - [`testing`]: a router in memory with its state, for tests.
//! - [`lab`]: `statewall lab`, the router in a network of namespaces with hosts, servers and
//!   traffic; its [`lab::Lab`] is what the end-to-end tests start.

pub mod api;
pub mod command;
pub mod console;
pub mod engine;
pub mod host;
pub mod lab;
pub mod ros_api;
pub mod run;
pub mod scheduler;
pub mod store;
pub mod testing;
pub mod tls;
pub mod users;
