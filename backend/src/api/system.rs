//! The menus that are not the configuration: `/interface` (the router's ports, with counters),
//! `/system/identity` (the router's name, saved in the state directory) and `/user`. `/export` is
//! `backup`'s.

use super::error::ApiError;
use super::menus::{item_obj, list_change, print, props_obj, Call, Menu};
use super::query::Obj;
use super::AppState;
use crate::store::{write_atomic, Store, StoreError};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use shared::config::edit::Change;
use shared::connection::format_id;

/// The identity file's name in the state directory.
pub const IDENTITY_FILE: &str = "identity";
/// The name until one is set (RouterOS's is `MikroTik`).
pub const DEFAULT_IDENTITY: &str = "statewall";

/// The saved identity, or the default.
pub fn load_identity(store: &Store) -> Result<String, StoreError> {
    let path = store.path(IDENTITY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .next()
            .filter(|l| !l.is_empty())
            .unwrap_or(DEFAULT_IDENTITY)
            .to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DEFAULT_IDENTITY.to_string()),
        Err(source) => Err(StoreError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Whether `name` can be the identity: 1 to 255 characters, none a control character.
pub fn identity_ok(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && !name.chars().any(char::is_control)
}

/// `/system/identity`: `GET`, `POST print`, `POST set name=…`.
pub(super) async fn identity(
    st: &AppState,
    _menu: Menu,
    mut call: Call,
) -> Result<Response, ApiError> {
    let object = || {
        let name = st
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        props_obj(None, vec![("name".into(), name)])
    };
    match (&call.method, call.rest.as_deref()) {
        (&Method::GET, None) => Ok(Json(object()).into_response()),
        (&Method::GET, Some(word)) => Err(ApiError::no_such_directory(word)),
        (&Method::POST, Some("print")) => print(vec![object()], call.input),
        (&Method::POST, Some("set")) => {
            let name = call.input.take("name");
            call.input.no_more()?;
            let Some(name) = name else {
                return Ok(Json(json!([])).into_response());
            };
            if !identity_ok(&name) {
                return Err(ApiError::bad_request(format!(
                    "invalid value for argument name: \"{name}\", expected 1 to 255 characters"
                )));
            }
            let saved = name.clone();
            st.blocking(move |st| {
                let path = st.config.store().path(IDENTITY_FILE);
                write_atomic(&path, format!("{saved}\n").as_bytes())
            })
            .await?
            .map_err(|e| ApiError::internal(format!("saving the identity: {e}")))?;
            *st.identity.write().unwrap_or_else(|e| e.into_inner()) = name;
            Ok(Json(json!([])).into_response())
        }
        (&Method::POST, Some(cmd)) => Err(ApiError::no_such_command(cmd)),
        (m, _) => Err(ApiError::no_such_command(m.as_str())),
    }
}

/// `/interface`: the ports, with the pipeline's counters.
pub(super) async fn interfaces(st: &AppState) -> Result<Vec<Obj>, ApiError> {
    let stats = st
        .blocking(|st| st.dataplane.stats())
        .await?
        .ok_or_else(|| ApiError::internal("the dataplane did not answer"))?;
    let c = &stats.counters;
    let at = |a: &[u64], i: usize| a.get(i).copied().unwrap_or(0).to_string();
    Ok(stats
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let props = vec![
                ("actual-mtu".to_string(), p.mtu.to_string()),
                ("default-name".into(), p.name.clone()),
                ("disabled".into(), "false".into()),
                ("mac-address".into(), crate::run::mac_text(p.mac)),
                ("mtu".into(), p.mtu.to_string()),
                ("name".into(), p.name.clone()),
                ("running".into(), "true".into()),
                ("rx-byte".into(), at(&c.rx_bytes, i)),
                ("rx-packet".into(), at(&c.rx_packets, i)),
                ("tx-byte".into(), at(&c.tx_bytes, i)),
                ("tx-packet".into(), at(&c.tx_packets, i)),
                ("type".into(), "ether".into()),
            ];
            props_obj(Some(i as u32 + 1), props)
        })
        .collect())
}

/// A change to `/user` (the list itself is printed by the shared list code).
pub(super) async fn user_change(st: &AppState, mut call: Call) -> Result<Response, ApiError> {
    let objs: Vec<Obj> = st.users.list().into_iter().map(item_obj).collect();
    let (change, answer) = list_change(&objs, &mut call)?;
    if matches!(change, Change::Unset { .. } | Change::Move { .. }) {
        return Err(ApiError::no_such_command(change.verb()));
    }
    let added = st.blocking(move |st| st.users.apply(&change)).await??;
    st.auth.forget_logins();
    st.sessions.close_all();
    tracing::info!(added = added.map(format_id), "users changed");
    answer.respond(&call.path, added, |id| {
        st.users
            .list()
            .into_iter()
            .find(|i| i.id == id)
            .map(item_obj)
    })
}
