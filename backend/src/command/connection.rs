//! `/ip/firewall/connection`: the connection table as RouterOS shows it (field names and value
//! formats of routeros.md §2, from [`shared::connection::ConnectionEntry`]). Entries are
//! read-only but can be removed. The tracking settings' read-only counters (`total-entries`,
//! `max-entries`) come from here too.

use super::{Command, CommandError, Reply, Row};
use crate::api::AppState;
use serde_json::Value;
use shared::connection::{format_id, parse_id};

/// Every entry, printed (`.id` first, then the fields by name).
pub(super) fn rows(st: &AppState) -> Result<Vec<Row>, CommandError> {
    let snap = st
        .dataplane
        .snapshot()
        .ok_or_else(|| CommandError::internal("the dataplane did not answer"))?;
    snap.connections
        .iter()
        .map(|entry| match serde_json::to_value(entry) {
            Ok(Value::Object(obj)) => Ok(Row::from_json(obj)),
            Ok(_) => Err(CommandError::internal(
                "a connection entry is not an object",
            )),
            Err(e) => Err(CommandError::internal(e)),
        })
        .collect()
}

/// Adds `max-entries` and `total-entries` to the tracking settings (keeping the row sorted by
/// name, as RouterOS prints properties).
pub(super) fn tracking_counters(st: &AppState, row: &mut Row) -> Result<(), CommandError> {
    let stats = st
        .dataplane
        .stats()
        .ok_or_else(|| CommandError::internal("the dataplane did not answer"))?;
    row.0
        .push(("max-entries".into(), stats.max_entries.to_string()));
    row.0
        .push(("total-entries".into(), stats.total_entries.to_string()));
    row.0.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(())
}

/// `remove`: the entries `.id`/`numbers` name. An entry can expire between a client's listing
/// and its removal, so what is already gone is only an error when nothing was removed.
pub(super) fn remove(st: &AppState, mut cmd: Command) -> Result<Reply, CommandError> {
    let text = cmd.take_ids().ok_or_else(super::missing_ids)?;
    cmd.no_more()?;
    let wanted = text
        .split(',')
        .map(str::trim)
        .map(|w| parse_id(w).ok_or_else(|| CommandError::NoSuchItem(w.to_string())))
        .collect::<Result<Vec<u32>, _>>()?;
    let removed = st
        .dataplane
        .remove_connections(wanted.clone())
        .ok_or_else(|| CommandError::internal("the dataplane did not answer"))?;
    tracing::info!(count = removed.len(), "connections removed");
    match wanted.iter().find(|id| !removed.contains(id)) {
        Some(id) if removed.is_empty() => Err(CommandError::NoSuchItem(format_id(*id))),
        _ => Ok(Reply::default()),
    }
}
