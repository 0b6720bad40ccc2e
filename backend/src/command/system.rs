//! The menus that are not the configuration: `/interface` (the ports, with counters),
//! `/system/identity`, `/user`, `/system/scheduler`, `/ip/service` and `/system/resource`
//! (read-only), and `/export`.

use super::{list_change, not_permitted, Command, CommandError, Reply, Row};
use crate::api::system::{identity_ok, IDENTITY_FILE};
use crate::api::AppState;
use crate::scheduler::{export_file_name, unix_now, ExportStyle};
use crate::store::write_atomic;
use crate::users::{Group, Login};
use serde_json::Value;
use shared::config::edit::Change;
use shared::connection::format_id;

/// `/interface`: the ports, with the pipeline's counters.
pub(super) fn interfaces(st: &AppState) -> Result<Vec<Row>, CommandError> {
    let stats = st
        .dataplane
        .stats()
        .ok_or_else(|| CommandError::internal("the dataplane did not answer"))?;
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
            Row::new(Some(i as u32 + 1), props)
        })
        .collect())
}

/// `/system/identity`'s one object.
pub(super) fn identity(st: &AppState) -> Row {
    let name = st
        .identity
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Row::new(None, vec![("name".into(), name)])
}

/// `/system/identity set name=…`: saved in the state directory, then in force.
pub(super) fn set_identity(st: &AppState, mut cmd: Command) -> Result<Reply, CommandError> {
    let name = cmd.take("name");
    cmd.no_more()?;
    let Some(name) = name else {
        return Ok(Reply::default());
    };
    if !identity_ok(&name) {
        return Err(CommandError::Invalid(format!(
            "invalid value for argument name: \"{name}\", expected 1 to 255 characters"
        )));
    }
    let path = st.config.store().path(IDENTITY_FILE);
    write_atomic(&path, format!("{name}\n").as_bytes())
        .map_err(|e| CommandError::internal(format!("saving the identity: {e}")))?;
    *st.identity.write().unwrap_or_else(|e| e.into_inner()) = name;
    Ok(Reply::default())
}

/// A change to `/user`. Any change ends every remembered login and browser session: a new
/// password, a removed or demoted user must not leave anyone logged in on the old terms.
pub(super) fn change_users(st: &AppState, mut cmd: Command) -> Result<Reply, CommandError> {
    let rows: Vec<Row> = st
        .users
        .list()
        .into_iter()
        .map(|i| Row::new(Some(i.id), i.props))
        .collect();
    let change = list_change(&rows, &mut cmd)?;
    let added = st.users.apply(&change)?;
    st.auth.forget_logins();
    st.sessions.close_all();
    tracing::info!(added = added.map(format_id), "users changed");
    Ok(Reply {
        rows: Vec::new(),
        ret: added.map(format_id),
    })
}

/// A change to `/system/scheduler`.
pub(super) fn change_scheduler(st: &AppState, mut cmd: Command) -> Result<Reply, CommandError> {
    let rows = st.scheduler.rows();
    let change = list_change(&rows, &mut cmd)?;
    if matches!(change, Change::Unset { .. } | Change::Move { .. }) {
        return Err(CommandError::NoSuchCommand(change.verb().into()));
    }
    let added = st.scheduler.apply(st.config.store(), &change, unix_now())?;
    Ok(Reply {
        rows: Vec::new(),
        ret: added.map(format_id),
    })
}

/// `/ip/service`.
pub(super) fn services(st: &AppState) -> Vec<Row> {
    crate::api::service::rows(&st.services)
}

/// `/system/resource`'s one object.
pub(super) fn resource() -> Row {
    match serde_json::to_value(crate::api::resource::current()) {
        Ok(Value::Object(obj)) => Row::from_json(obj),
        _ => Row::default(),
    }
}

/// `/export` (`compact`, `verbose`, `terse`, `show-sensitive`, `file=NAME`): the text as `ret`,
/// or with `file=` written to `backups/NAME.rsc`. `show-sensitive` and `file=` need the full
/// group (as on RouterOS v7).
/// `/import file-name=NAME [dry-run]`: runs a script of `backups/` (where `/export file=`
/// writes) on top of the configuration in force, as RouterOS runs its commands after what is
/// there. Unlike RouterOS, which stops at the first error and keeps what ran before it, the
/// script is checked whole with the configuration first: it applies completely or not at all,
/// and every mistake is named with its line and column. `dry-run` only checks. Blocks.
pub(super) fn import(st: &AppState, mut cmd: Command) -> Result<Reply, CommandError> {
    let file = cmd
        .take("file-name")
        .ok_or_else(|| CommandError::Invalid("missing value for argument file-name".into()))?;
    let dry_run = cmd
        .take("dry-run")
        .is_some_and(|v| v != "no" && v != "false");
    // RouterOS's `verbose` prints each command as it runs; the answer here is the same either
    // way.
    let _ = cmd.take("verbose");
    cmd.no_more()?;
    let store = st.config.store();
    let mut found = None;
    for name in [file.clone(), format!("{file}.rsc")] {
        if let Some(bytes) = store
            .read_backup(&name)
            .map_err(|e| CommandError::internal(format!("import: reading {name}: {e}")))?
        {
            found = Some(bytes);
            break;
        }
    }
    let Some(bytes) = found else {
        return Err(CommandError::Invalid(format!(
            "invalid value for argument file-name: no such file {file}"
        )));
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        CommandError::Invalid(format!(
            "{file}: not a text file (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let problems = |ps: Vec<crate::api::backup::Problem>| {
        let shown: Vec<String> = ps
            .iter()
            .map(|p| format!("{} (line {} column {})", p.message, p.line, p.column))
            .collect();
        CommandError::Invalid(format!(
            "{file}: {}; nothing was imported",
            shown.join("; ")
        ))
    };
    let imported = crate::api::backup::parse(&text).map_err(problems)?;
    let mut script = crate::api::backup::export_script(st, false);
    script.commands.extend(imported.commands);
    let now = unix_now();
    let restore =
        crate::api::backup::check_script(&script, now, st.scheduler.boot()).map_err(problems)?;
    if dry_run {
        return Ok(Reply::default());
    }
    crate::api::backup::apply(st, restore, now).map_err(|e| {
        CommandError::internal(format!(
            "import of {file}: {}",
            e.detail.unwrap_or_default()
        ))
    })?;
    tracing::info!(file = %file, "script imported");
    Ok(Reply::default())
}

pub(super) fn export(
    st: &AppState,
    login: &Login,
    mut cmd: Command,
) -> Result<Reply, CommandError> {
    let mut flag = |name: &str| cmd.take(name).is_some_and(|v| v != "no" && v != "false");
    let style = ExportStyle {
        verbose: flag("verbose"),
        terse: flag("terse"),
        show_sensitive: flag("show-sensitive"),
    };
    let _ = flag("compact");
    let _ = flag("hide-sensitive");
    let file = cmd.take("file");
    cmd.no_more()?;
    if (style.show_sensitive || file.is_some()) && login.group != Group::Full {
        return Err(not_permitted(login));
    }
    let now = unix_now();
    let text = crate::api::backup::export_text(st, style, now);
    let Some(file) = file else {
        return Ok(Reply::ret(text));
    };
    let name = export_file_name(&file)
        .map_err(|e| CommandError::Invalid(format!("invalid value for argument file: {e}")))?;
    let keep = st.scheduler.keep_backups();
    st.config
        .store()
        .save_backup(&name, text.as_bytes(), keep)
        .map_err(|e| CommandError::internal(format!("export file: {e}")))?;
    Ok(Reply::default())
}
