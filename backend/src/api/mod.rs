//! The management plane over HTTP: RouterOS's REST API under `/rest` (routeros.md §4), behind
//! HTTP Basic logins of `/user`.
//!
//! # Layout
//! - this file: the server's one state ([`AppState`]), the router ([`app`]), and the one path
//!   of a configuration change ([`ConfigState::change`]).
//! - `auth`: logins (Basic), the login cache, throttling of failed logins (the binary API's
//!   logins too).
//! - `error`: [`ApiError`], the one JSON error shape (a [`crate::command::CommandError`] too).
//! - `request`: bodies and query strings → arguments (content type, size limit).
//! - `menus`: `/rest/…`: HTTP methods, paths and JSON → [`crate::command::Command`]s, and their
//!   replies → JSON. What each menu does is `crate::command`'s.
//! - `system`: the `/system/identity` file.
//! - `backup`: export text, `/backup/…`: export downloads, restore, the files of `backups/`.
//! - `scheduler`: `/system/scheduler`'s entries and the task that runs them.
//! - `service`: `/ip/service` (`www`, `www-ssl`, `api`, `api-ssl`), read-only.
//! - `resource`: `/system/resource`'s figures (uptime, CPU load, memory of the host).
//! - `session`: `POST /login` and `/logout`, the browser's session cookie.
//! - `feed`: `GET /ws`, the live feed (websocket).
//! - `metrics`: `GET /metrics`, Prometheus's text format.
//! - `dashboard`: the web dashboard's files (`frontend/dist`, embedded), at every other path.
//!
//! # A change
//! Validated whole (the `.rsc` command it means, on a copy) → saved atomically → put in force in
//! the dataplane → answered. Any failure on the way leaves the running router, the saved file
//! and the answer's view of the configuration as they were.

mod auth;
pub(crate) mod backup;
mod dashboard;
mod error;
pub mod feed;
mod menus;
mod metrics;
mod request;
pub(crate) mod resource;
mod scheduler;
pub(crate) mod service;
pub mod session;
pub(crate) mod system;

pub use auth::{login, Auth, Throttle};
pub use error::ApiError;
pub use scheduler::{run as run_scheduler, run_due, Scheduler, SCHEDULER_FILE};
pub use service::Service;
pub use system::load_identity;

use crate::command::CommandError;
use crate::engine::{Engine, FeedView, Snapshot};
use crate::store::{Store, StoreError};
use crate::users::Users;
use axum::routing::{any, get, post};
use axum::Router;
use dataplane::firewall::TableKind;
use shared::config::edit::{Change, Editor};
use shared::config::RouterConfig;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

/// Request bodies larger than this are refused (413).
pub const BODY_LIMIT: usize = 1 << 20;

/// What the API needs of the running router. [`Engine`] is the real one; tests use a router in
/// memory. Calls block (the engine answers between two packets): call them off the async
/// threads.
pub trait Dataplane: Send + Sync + 'static {
    /// Everything, the connection list included.
    fn snapshot(&self) -> Option<Snapshot>;
    /// Counters, rules and ports, without the connection list.
    fn stats(&self) -> Option<Snapshot>;
    /// Puts a checked configuration in force; whether it is.
    fn reconfigure(&self, cfg: RouterConfig) -> bool;
    /// Removes connections; the ids that were there.
    fn remove_connections(&self, ids: Vec<u32>) -> Option<Vec<u32>>;
    /// Zeroes one rule's counters, or every rule's of the table.
    fn reset_counters(&self, table: TableKind, id: Option<u32>) -> bool;
    /// The live feed's view for a checked query: counters, the table's counts, one window.
    fn feed(&self, query: shared::feed::Window) -> Option<FeedView>;
}

impl Dataplane for Engine {
    fn snapshot(&self) -> Option<Snapshot> {
        Engine::snapshot(self)
    }
    fn stats(&self) -> Option<Snapshot> {
        Engine::stats(self)
    }
    fn reconfigure(&self, cfg: RouterConfig) -> bool {
        Engine::reconfigure(self, cfg)
    }
    fn remove_connections(&self, ids: Vec<u32>) -> Option<Vec<u32>> {
        Engine::remove_connections(self, ids)
    }
    fn reset_counters(&self, table: TableKind, id: Option<u32>) -> bool {
        Engine::reset_counters(self, table, id)
    }
    fn feed(&self, query: shared::feed::Window) -> Option<FeedView> {
        Engine::feed(self, query)
    }
}

/// The running configuration, where it is saved, and the lock that makes changes one at a time.
pub struct ConfigState {
    editor: RwLock<Editor>,
    /// Held for a whole change (validate, save, apply), so two changes cannot interleave; reads
    /// never wait for it.
    changes: Mutex<()>,
    store: Store,
}

impl ConfigState {
    /// `cfg` is the configuration in force (and saved in `store`).
    pub fn new(store: Store, cfg: RouterConfig) -> ConfigState {
        ConfigState {
            editor: RwLock::new(Editor::new(cfg)),
            changes: Mutex::new(()),
            store,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The configuration in force, ids included.
    pub fn read(&self) -> RwLockReadGuard<'_, Editor> {
        self.editor.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes one change: validates it, saves the result, puts it in force, and only then makes
    /// it the running configuration. The id an `add` gave. Blocks (file sync, the dataplane).
    pub fn change(
        &self,
        dataplane: &dyn Dataplane,
        path: &[&str],
        change: &Change,
    ) -> Result<Option<u32>, CommandError> {
        let _one_at_a_time = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        let edit = self.read().prepare(path, change)?;
        self.store
            .save(edit.config())
            .map_err(|e| CommandError::internal(format!("saving the configuration: {e}")))?;
        if !dataplane.reconfigure(edit.config().clone()) {
            // Put the saved file back to what is running.
            if let Err(e) = self.store.save(self.read().config()) {
                tracing::error!("restoring the saved configuration: {e}");
            }
            return Err(CommandError::internal(
                "the dataplane did not take the new configuration",
            ));
        }
        let added = edit.added;
        self.editor
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .commit(edit);
        tracing::info!(menu = %path.join("/"), change = change.verb(), "configuration changed");
        Ok(added)
    }
}

/// The server's state: one value, cloned into every request. Later parts of the management
/// plane (the websocket feed, metrics, backups) add their fields here.
#[derive(Clone)]
pub struct AppState {
    pub dataplane: Arc<dyn Dataplane>,
    pub config: Arc<ConfigState>,
    pub users: Arc<Users>,
    pub auth: Arc<Auth>,
    /// `/system identity` name, saved in the state directory.
    pub identity: Arc<RwLock<String>>,
    /// Browsers' logins (`POST /login`).
    pub sessions: Arc<session::Sessions>,
    /// The live feed's counters.
    pub feed: Arc<feed::FeedStats>,
    /// `/system scheduler`, saved in the state directory; how many backups to keep.
    pub scheduler: Arc<Scheduler>,
    /// `/ip service`: where the APIs listen (set by `statewall run`; none in tests).
    pub services: Arc<Vec<Service>>,
}

impl AppState {
    /// The state for a router running `cfg` (already saved in `store`).
    pub fn new(
        dataplane: Arc<dyn Dataplane>,
        store: Store,
        cfg: RouterConfig,
        users: Users,
    ) -> Result<AppState, StoreError> {
        let identity = system::load_identity(&store)?;
        let scheduler = Scheduler::load(&store, crate::scheduler::unix_now())?;
        Ok(AppState {
            dataplane,
            config: Arc::new(ConfigState::new(store, cfg)),
            users: Arc::new(users),
            auth: Arc::new(Auth::default()),
            identity: Arc::new(RwLock::new(identity)),
            sessions: Arc::default(),
            feed: Arc::default(),
            scheduler: Arc::new(scheduler),
            services: Arc::default(),
        })
    }

    /// Runs a blocking call (the dataplane, argon2, file syncs) off the async threads.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(AppState) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let st = self.clone();
        tokio::task::spawn_blocking(move || f(st))
            .await
            .map_err(ApiError::internal)
    }
}

/// The HTTP API and the dashboard. Every route added before the login layer requires a login;
/// any other path is the dashboard's (its files need none: the page must load to log in).
pub fn app(state: AppState) -> Router {
    let not_found = || async { ApiError::not_found() };
    let api = Router::new()
        .route("/rest", any(menus::rest))
        .route("/rest/{*path}", any(menus::rest))
        .route("/ws", get(feed::ws))
        .route("/metrics", get(metrics::metrics))
        .route("/backup/export", get(backup::download_export))
        .route("/backup/restore", post(backup::restore))
        .route("/backup/files", get(backup::files))
        .route("/backup/files/{name}", get(backup::file))
        // Unknown paths under the API's own prefixes are the API's 404 (after the login).
        .route("/backup", any(not_found))
        .route("/backup/{*rest}", any(not_found))
        .route("/ws/{*rest}", any(not_found))
        .route("/metrics/{*rest}", any(not_found))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_login,
        ))
        .route("/login", post(session::login))
        .route("/logout", post(session::logout))
        .with_state(state);
    Router::new().merge(api).fallback(dashboard::serve)
}

/// Serves [`app`] on `listener` until `stop` completes, with each connection's client address
/// (login throttling is per address).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(stop)
        .await
}

#[cfg(test)]
mod tests;
