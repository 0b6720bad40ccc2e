//! `/ip/firewall/connection`: the connection table as RouterOS shows it (field names and value
//! formats of routeros.md §2, from [`shared::connection::ConnectionEntry`]). Entries are read-only
//! but can be removed: `DELETE …/*ID`, or `POST …/remove` with several ids.
//!
//! The tracking settings' read-only counters (`total-entries`, `max-entries`) come from here too.

use super::error::ApiError;
use super::menus::Call;
use super::query::Obj;
use super::AppState;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use shared::connection::{format_id, parse_id};

/// Every entry, printed.
pub(super) async fn items(st: &AppState) -> Result<Vec<Obj>, ApiError> {
    let snap = st
        .blocking(|st| st.dataplane.snapshot())
        .await?
        .ok_or_else(|| ApiError::internal("the dataplane did not answer"))?;
    snap.connections
        .iter()
        .map(|entry| match serde_json::to_value(entry) {
            Ok(Value::Object(obj)) => Ok(obj),
            Ok(_) => Err(ApiError::internal("a connection entry is not an object")),
            Err(e) => Err(ApiError::internal(e)),
        })
        .collect()
}

/// `total-entries` and `max-entries` of `/ip/firewall/connection/tracking`.
pub(super) async fn tracking_counters(st: &AppState, obj: &mut Obj) -> Result<(), ApiError> {
    let stats = st
        .blocking(|st| st.dataplane.stats())
        .await?
        .ok_or_else(|| ApiError::internal("the dataplane did not answer"))?;
    obj.insert("max-entries".into(), stats.max_entries.to_string().into());
    obj.insert(
        "total-entries".into(),
        stats.total_entries.to_string().into(),
    );
    Ok(())
}

/// Connection ids as written (`*1A`); a word that is not one is reported.
fn ids(text: &str) -> Result<Vec<u32>, ApiError> {
    text.split(',')
        .map(str::trim)
        .map(|w| parse_id(w).ok_or_else(|| ApiError::bad_request(format!("no such item ({w})"))))
        .collect()
}

/// `DELETE …/*ID` and `POST …/remove`.
pub(super) async fn change(st: &AppState, mut call: Call) -> Result<Response, ApiError> {
    let (wanted, single) = match (&call.method, call.rest.as_deref()) {
        (&Method::DELETE, Some(rest)) => {
            let id = parse_id(rest).ok_or_else(ApiError::not_found)?;
            (vec![id], true)
        }
        (&Method::POST, Some("remove")) => {
            let text =
                call.input.ids.take().ok_or_else(|| {
                    ApiError::bad_request("missing =.id= (or numbers): which items")
                })?;
            (ids(&text)?, false)
        }
        (&Method::POST, Some(cmd)) => return Err(ApiError::no_such_command(cmd)),
        (m, _) => return Err(ApiError::no_such_command(m.as_str())),
    };
    call.input.no_more()?;
    let asked = wanted.clone();
    let removed = st
        .blocking(move |st| st.dataplane.remove_connections(asked))
        .await?
        .ok_or_else(|| ApiError::internal("the dataplane did not answer"))?;
    tracing::info!(count = removed.len(), "connections removed");
    // An entry can expire between the client's listing and its removal: removing what is
    // already gone is only an error for the one item a DELETE names.
    match wanted.iter().find(|id| !removed.contains(id)) {
        Some(_) if single => Err(ApiError::not_found()),
        Some(id) if removed.is_empty() => Err(ApiError::bad_request(format!(
            "no such item ({})",
            format_id(*id)
        ))),
        _ if single => Ok(StatusCode::NO_CONTENT.into_response()),
        _ => Ok(Json(json!([])).into_response()),
    }
}
