//! `/system/scheduler`: the list of [`Entry`]s, saved in the state directory, and the task that
//! runs the due ones (its menu is `crate::command`'s).
//!
//! # Where entries are kept
//! In their own script, `scheduler.rsc` (`/system scheduler` then one `add` per entry), not in
//! `config.rsc`: `config.rsc` is the dataplane's configuration, the one `RouterConfig` reads,
//! compiles and must always parse (the crash test checks exactly that), and the scheduler is
//! the management plane's. Export and restore still treat the configuration as one script:
//! every export (`/export`, `/backup/export`, scheduled ones) writes the `/system scheduler`
//! section after the configuration's, and `/backup/restore` checks and replaces both (see
//! `backup`). A restart keeps the entries; `run-count` starts again from 0 (as on RouterOS).
//!
//! # Running
//! [`run`] looks every second for entries whose `next-run` has come ([`Scheduler::take_due`],
//! which also sets their next one), and runs their scripts on a blocking thread
//! ([`run_due`]), logging each result. A missed run (the host was suspended) is not made up
//! for: the entry runs next at its next time on its grid.

use super::backup;
use super::AppState;
use crate::command::{CommandError, Row};
use crate::scheduler::{
    unix_now, Civil, Entry, ExportStyle, Level, Program, ScriptError, ScriptHost, UnixTime, PATH,
};
use crate::store::{write_atomic, Store, StoreError};
use shared::config::edit::Change;
use shared::connection::format_id;
use shared::rsc::{self, Arg, Command, Script, Verb};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The entries' file in the state directory.
pub const SCHEDULER_FILE: &str = "scheduler.rsc";
/// Files `backups/` keeps unless told otherwise (`--keep-backups`).
pub const DEFAULT_KEEP_BACKUPS: usize = 10;

/// The entries, when statewall started, and how many backups to keep.
pub struct Scheduler {
    entries: Mutex<Entries>,
    /// When statewall started: `startup` entries count from here.
    boot: UnixTime,
    keep_backups: AtomicUsize,
}

#[derive(Debug, Clone, Default)]
struct Entries {
    list: Vec<Entry>,
    last_id: u32,
}

impl Scheduler {
    /// The saved entries (none if nothing is saved), for a statewall that started at `now`.
    pub fn load(store: &Store, now: UnixTime) -> Result<Scheduler, StoreError> {
        let path = store.path(SCHEDULER_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        let broken = |errors: Vec<String>| StoreError::Broken {
            path: path.display().to_string(),
            errors,
            backup: None,
        };
        let script =
            rsc::parse(&text).map_err(|e| broken(e.iter().map(|e| e.to_string()).collect()))?;
        let commands: Vec<&Command> = script.commands.iter().collect();
        let list = entries_from(&commands, now, now)
            .map_err(|e| broken(e.iter().map(|e| e.to_string()).collect()))?;
        Ok(Scheduler {
            entries: Mutex::new(Entries {
                last_id: list.len() as u32,
                list,
            }),
            boot: now,
            keep_backups: AtomicUsize::new(DEFAULT_KEEP_BACKUPS),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When statewall started.
    pub fn boot(&self) -> UnixTime {
        self.boot
    }

    pub fn keep_backups(&self) -> usize {
        self.keep_backups.load(Ordering::Relaxed)
    }

    /// At least 1.
    pub fn set_keep_backups(&self, n: usize) {
        self.keep_backups.store(n.max(1), Ordering::Relaxed);
    }

    /// Every entry as `print` shows it.
    pub fn rows(&self) -> Vec<Row> {
        self.lock().list.iter().map(entry_row).collect()
    }

    /// The export's `/system scheduler` section.
    pub fn commands(&self, verbose: bool) -> Vec<Command> {
        self.lock()
            .list
            .iter()
            .map(|e| add_command(e, verbose))
            .collect()
    }

    /// Makes one change (a command): checked, saved, then in force. The id an `add` gave.
    pub fn apply(
        &self,
        store: &Store,
        change: &Change,
        now: UnixTime,
    ) -> Result<Option<u32>, CommandError> {
        let mut entries = self.lock();
        let mut next = entries.clone();
        let mut added = None;
        let args = |pairs: &[(String, String)]| -> Vec<Arg> {
            pairs.iter().map(|(k, v)| Arg::new(k, v)).collect()
        };
        let check_ids = |next: &Entries, ids: &[u32]| match ids
            .iter()
            .find(|id| !next.list.iter().any(|e| e.id == **id))
        {
            Some(id) => Err(CommandError::NoSuchItem(format_id(*id))),
            None => Ok(()),
        };
        let touched: Vec<u32> = match change {
            Change::Add(pairs) => {
                let id = next.last_id + 1;
                let entry = Entry::from_args(id, &args(pairs), None, now).map_err(detail)?;
                next.last_id = id;
                next.list.push(entry);
                added = Some(id);
                vec![id]
            }
            Change::Set { ids, args: pairs } => {
                check_ids(&next, ids)?;
                let args = args(pairs);
                for e in next.list.iter_mut().filter(|e| ids.contains(&e.id)) {
                    *e = Entry::from_args(e.id, &args, Some(e), now).map_err(detail)?;
                }
                ids.clone()
            }
            Change::Remove(ids) => {
                check_ids(&next, ids)?;
                next.list.retain(|e| !ids.contains(&e.id));
                Vec::new()
            }
            Change::Enable(ids) | Change::Disable(ids) => {
                check_ids(&next, ids)?;
                let disabled = matches!(change, Change::Disable(_));
                for e in next.list.iter_mut().filter(|e| ids.contains(&e.id)) {
                    e.disabled = disabled;
                }
                ids.clone()
            }
            Change::Unset { .. } | Change::Move { .. } | Change::Settings(_) => {
                return Err(CommandError::NoSuchCommand(change.verb().into()));
            }
        };
        if let Some(name) = duplicate_name(&next.list) {
            return Err(CommandError::Invalid(format!(
                "failure: {} already has an entry named {name}",
                crate::scheduler::MENU
            )));
        }
        for e in next.list.iter_mut().filter(|e| touched.contains(&e.id)) {
            e.next_run = e.due_from(now, self.boot);
        }
        save(store, &next.list).map_err(|e| CommandError::internal(format!("saving: {e}")))?;
        *entries = next;
        tracing::info!(change = change.verb(), "scheduler changed");
        Ok(added)
    }

    /// Replaces every entry (a restore): saved first, then in force. The entries it replaced.
    pub fn replace(
        &self,
        store: &Store,
        mut list: Vec<Entry>,
        now: UnixTime,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut entries = self.lock();
        for e in &mut list {
            e.next_run = e.due_from(now, self.boot);
        }
        save(store, &list)?;
        let last_id = list.len() as u32;
        let old = std::mem::replace(&mut *entries, Entries { list, last_id });
        Ok(old.list)
    }

    /// The entries due at `now`, marked as run (`run-count`, `next-run`): their names and
    /// scripts, to run.
    pub fn take_due(&self, now: UnixTime) -> Vec<(String, Program)> {
        let mut entries = self.lock();
        let mut due = Vec::new();
        for e in &mut entries.list {
            if e.next_run.is_some_and(|t| t <= now) {
                e.run_count += 1;
                e.next_run = e.due_from(now + 1, self.boot);
                due.push((e.name.clone(), e.program.clone()));
            }
        }
        due
    }
}

/// The entries a script's `/system scheduler` commands describe, each `add` in turn (restore
/// and load); `now` is the time of the restore (the defaults of `add`), `boot` when statewall
/// started. Every mistake.
pub fn entries_from(
    commands: &[&Command],
    now: UnixTime,
    boot: UnixTime,
) -> Result<Vec<Entry>, Vec<ScriptError>> {
    let mut list = Vec::new();
    let mut errors = Vec::new();
    let mut names = HashSet::new();
    for cmd in commands {
        if cmd.menu != PATH || cmd.verb != Verb::Add || cmd.selector.is_some() {
            errors.push(ScriptError {
                pos: cmd.pos,
                message: format!(
                    "{} {}: only add is supported here (an export has one add per entry)",
                    cmd.menu_name(),
                    cmd.verb.as_str()
                ),
            });
            continue;
        }
        match Entry::from_args(list.len() as u32 + 1, &cmd.args, None, now) {
            Ok(mut e) => {
                if !names.insert(e.name.clone()) {
                    errors.push(ScriptError {
                        pos: cmd.pos,
                        message: format!(
                            "{} already has an entry named {}",
                            crate::scheduler::MENU,
                            e.name
                        ),
                    });
                }
                e.next_run = e.due_from(now, boot);
                list.push(e);
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(list)
    } else {
        Err(errors)
    }
}

fn duplicate_name(list: &[Entry]) -> Option<&str> {
    let mut seen = HashSet::new();
    list.iter()
        .map(|e| e.name.as_str())
        .find(|n| !seen.insert(*n))
}

/// Entry errors as one message (they have no positions in a command; an `on-event` script's
/// carry their own line and column in the message).
fn detail(errors: Vec<ScriptError>) -> CommandError {
    let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
    CommandError::Invalid(messages.join("; "))
}

fn add_command(e: &Entry, verbose: bool) -> Command {
    let mut cmd = Command::new(PATH, Verb::Add);
    cmd.args = e.export_args(verbose);
    cmd
}

/// Saves the entries as `scheduler.rsc`, atomically.
fn save(store: &Store, list: &[Entry]) -> Result<(), StoreError> {
    let script = Script {
        commands: list.iter().map(|e| add_command(e, false)).collect(),
    };
    let text = format!(
        "# statewall {} scheduler; ids are not kept\n{}",
        env!("CARGO_PKG_VERSION"),
        rsc::print(&script)
    );
    let path = store.path(SCHEDULER_FILE);
    write_atomic(&path, text.as_bytes()).map_err(|source| StoreError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// An entry as `print` shows it: the settable properties (`comment` when set), `run-count`,
/// and `next-run` when it will run again.
fn entry_row(e: &Entry) -> Row {
    let mut props: Vec<(String, String)> = e
        .props(true)
        .into_iter()
        .filter(|(k, v)| k != "comment" || !v.is_empty())
        .collect();
    if let Some(t) = e.next_run {
        props.push(("next-run".into(), Civil::from_unix(t).timestamp()));
    }
    props.push(("run-count".into(), e.run_count.to_string()));
    Row::new(Some(e.id), props)
}

/// Runs due entries, every second, until the task is dropped.
pub async fn run(st: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let now = unix_now();
        let due = st.scheduler.take_due(now);
        if due.is_empty() {
            continue;
        }
        if let Err(e) = st.blocking(move |st| run_due(&st, due, now)).await {
            tracing::warn!(
                status = e.status.as_u16(),
                "scheduler: running entries failed"
            );
        }
    }
}

/// Runs entries' scripts in turn at `now` (blocking: exports write files); logs each outcome.
pub fn run_due(st: &AppState, due: Vec<(String, Program)>, now: UnixTime) {
    for (entry, program) in due {
        let mut host = Host {
            st,
            entry: &entry,
            now,
        };
        match program.run(&mut host) {
            Ok(()) => tracing::info!(entry, "scheduler: on-event ran"),
            Err(e) => tracing::warn!(entry, error = %e, "scheduler: on-event failed"),
        }
    }
}

/// What a scheduled script reaches: this router.
struct Host<'a> {
    st: &'a AppState,
    entry: &'a str,
    now: UnixTime,
}

impl ScriptHost for Host<'_> {
    fn now(&self) -> UnixTime {
        self.now
    }

    fn identity(&self) -> String {
        self.st
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn export(&mut self, name: &str, style: ExportStyle) -> Result<(), String> {
        let text = backup::export_text(self.st, style, self.now);
        let keep = self.st.scheduler.keep_backups();
        let removed = self
            .st
            .config
            .store()
            .save_backup(name, text.as_bytes(), keep)
            .map_err(|e| {
                tracing::error!(entry = self.entry, error = %e, "export");
                "the file could not be written (see the log)".to_string()
            })?;
        tracing::info!(entry = self.entry, file = %format!("backups/{name}"), "export written");
        for old in removed {
            tracing::info!(entry = self.entry, file = %format!("backups/{old}"), keep, "old backup removed");
        }
        Ok(())
    }

    fn log(&mut self, level: Level, text: &str) {
        let entry = self.entry;
        match level {
            Level::Debug => tracing::debug!(target: "script", entry, "{text}"),
            Level::Info => tracing::info!(target: "script", entry, "{text}"),
            Level::Warning => tracing::warn!(target: "script", entry, "{text}"),
            Level::Error => tracing::error!(target: "script", entry, "{text}"),
        }
    }
}
