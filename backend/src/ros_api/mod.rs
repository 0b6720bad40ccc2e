//! RouterOS's binary API (`api` on 8728, `api-ssl` on 8729 with the HTTPS certificate): the same
//! commands as REST ([`crate::command`]), as sentences of length-prefixed words (MikroTik's API
//! manual; routeros.md §5 and §6).
//!
//! # Layout
//! - [`wire`]: words and sentences as bytes; shared with clients such as `statewall console`.
//! - `sentence`: what words mean: a request → a [`crate::command::Command`]; replies (`!re`,
//!   `!done`, `!trap`, `!fatal`) → words.
//! - `session`: one connection: login, tags, `/cancel`, `listen`, limits and timeouts.
//! - `server`: the listeners (plain and TLS), the connection limit, [`Options`].

mod sentence;
mod server;
mod session;
pub mod wire;

pub use server::{serve, tls_config, Options};
