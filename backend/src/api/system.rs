//! The menus that are not the configuration: `/interface` (the router's ports, with counters),
//! `/system/identity` (the router's name, saved in the state directory), `/user`, and `/export`.

use super::error::ApiError;
use super::menus::{forbidden, item_obj, list_change, print, props_obj, Call, Menu};
use super::query::Obj;
use super::AppState;
use crate::store::{write_atomic, Store, StoreError};
use crate::users::Group;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
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
            if name.is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
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
    tracing::info!(added = added.map(format_id), "users changed");
    answer.respond(&call.path, added, |id| {
        st.users
            .list()
            .into_iter()
            .find(|i| i.id == id)
            .map(item_obj)
    })
}

/// `POST /rest/export`: the configuration as a compact `/export` writes it, as `{"ret": text}`.
/// Takes `compact` (the default), `terse` (one full line per item), and `show-sensitive` (full
/// group only; the configuration holds no secrets yet, so it changes nothing).
pub(super) async fn export(st: &AppState, mut call: Call) -> Result<Response, ApiError> {
    if call.method != Method::POST {
        return Err(ApiError::no_such_command(call.method.as_str()));
    }
    let sensitive = call.input.take("show-sensitive").is_some();
    if sensitive && call.login.group != Group::Full {
        return Err(forbidden(&call.login));
    }
    let terse = call.input.take("terse").is_some();
    let _ = call.input.take("compact");
    let _ = call.input.take("hide-sensitive");
    if let Some((name, _)) = call.input.args.first() {
        if name == "verbose" || name == "file" {
            return Err(ApiError::bad_request(format!(
                "export {name} is not supported by statewall"
            )));
        }
    }
    call.input.no_more()?;
    let script = st.config.read().config().to_script();
    let body = if terse {
        shared::rsc::print_terse(&script)
    } else {
        shared::rsc::print(&script)
    };
    let text = format!("{}\n{body}", export_header(std::time::SystemTime::now()));
    Ok(Json(json!({ "ret": Value::String(text) })).into_response())
}

/// RouterOS v7's first export line: `# 2025-11-27 09:34:28 by statewall 0.1.0` (UTC).
pub fn export_header(now: std::time::SystemTime) -> String {
    let secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "# {y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} by statewall {}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        env!("CARGO_PKG_VERSION")
    )
}

/// The calendar date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_header_dates() {
        let at = |s: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s);
        assert!(export_header(at(0)).starts_with("# 1970-01-01 00:00:00 by statewall "));
        // 2025-11-27 09:34:28 UTC (the date of a RouterOS export in routeros.md §7).
        assert!(export_header(at(1_764_236_068)).starts_with("# 2025-11-27 09:34:28 by"));
        assert!(export_header(at(951_782_400)).starts_with("# 2000-02-29 00:00:00"));
    }
}
