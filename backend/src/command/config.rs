//! The configuration's menus (`shared::rsc::schema::MENUS`): listed from the running
//! configuration, changed only through [`crate::api::ConfigState::change`] (validated as the
//! `.rsc` command it means, saved, put in force). Rules carry their counters from the dataplane;
//! `/ip/firewall/connection/tracking` its read-only counters.

use super::{connection, list_change, pick, Command, CommandError, Reply, Row};
use crate::api::AppState;
use dataplane::firewall::TableKind;
use shared::config::edit::Change;
use shared::connection::format_id;
use shared::rsc::schema::{self, MenuKind};

/// The rule table of a rules menu.
fn table(m: &schema::Menu) -> Option<TableKind> {
    match m.path {
        ["ip", "firewall", "filter"] => Some(TableKind::Filter),
        ["ip", "firewall", "nat"] => Some(TableKind::Nat),
        _ => None,
    }
}

/// The menu's items (a settings menu's one object).
pub(super) fn rows(st: &AppState, m: &'static schema::Menu) -> Result<Vec<Row>, CommandError> {
    if m.kind == MenuKind::Settings {
        let mut row = Row::new(None, st.config.read().settings(m.path)?);
        if m.path == ["ip", "firewall", "connection", "tracking"] {
            connection::tracking_counters(st, &mut row)?;
        }
        return Ok(vec![row]);
    }
    let items = st.config.read().list(m.path)?;
    let Some(table) = table(m) else {
        return Ok(items
            .into_iter()
            .map(|i| Row::new(Some(i.id), i.props))
            .collect());
    };
    let stats = st
        .dataplane
        .stats()
        .ok_or_else(|| CommandError::internal("the dataplane did not answer"))?;
    Ok(items
        .into_iter()
        .map(|item| {
            let s = stats
                .rules
                .iter()
                .find(|r| r.table == table && r.id == item.id);
            let (packets, bytes) = s.map_or((0, 0), |s| (s.packets, s.bytes));
            let invalid = s.is_some_and(|s| s.invalid.is_some());
            let mut row = Row::new(Some(item.id), item.props);
            row.0.push(("bytes".into(), bytes.to_string()));
            row.0.push(("packets".into(), packets.to_string()));
            row.0.push(("invalid".into(), invalid.to_string()));
            row
        })
        .collect())
}

/// A change: `set` of a settings menu, a list change, or a rules menu's `reset-counters`.
pub(super) fn change(
    st: &AppState,
    m: &'static schema::Menu,
    mut cmd: Command,
) -> Result<Reply, CommandError> {
    let change = if m.kind == MenuKind::Settings {
        // `verbs` lets only `set` through here.
        Change::Settings(std::mem::take(&mut cmd.args))
    } else {
        let rows = rows(st, m)?;
        if let (Some(table), "reset-counters" | "reset-counters-all") =
            (table(m), cmd.verb.as_str())
        {
            return reset_counters(st, table, &rows, cmd);
        }
        list_change(&rows, &mut cmd)?
    };
    let added = st.config.change(&*st.dataplane, m.path, &change)?;
    Ok(Reply {
        rows: Vec::new(),
        ret: added.map(format_id),
    })
}

fn reset_counters(
    st: &AppState,
    table: TableKind,
    rows: &[Row],
    mut cmd: Command,
) -> Result<Reply, CommandError> {
    let ids = match cmd.verb.as_str() {
        "reset-counters" => {
            let text = cmd.take_ids().ok_or_else(super::missing_ids)?;
            Some(pick(rows, &text)?)
        }
        _ => None,
    };
    cmd.no_more()?;
    let done = match ids {
        Some(ids) => ids
            .into_iter()
            .all(|id| st.dataplane.reset_counters(table, Some(id))),
        None => st.dataplane.reset_counters(table, None),
    };
    if !done {
        return Err(CommandError::internal(
            "the dataplane did not reset the counters",
        ));
    }
    Ok(Reply::default())
}
