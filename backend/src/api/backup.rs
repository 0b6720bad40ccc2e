//! Backup and restore: the router's configuration as one RouterOS script, out and back in.
//!
//! The script is what RouterOS's `/export` would write for everything statewall keeps that an
//! export holds: the configuration (`config.rsc`'s menus), `/system identity` (when not the
//! default) and `/system scheduler`. Users are not in it (RouterOS does not export them
//! either); there is nothing sensitive in it, so `show-sensitive` (full group only, as on
//! RouterOS v7) changes nothing yet.
//!
//! - `/export` (`compact`, `verbose`, `terse`, `show-sensitive`, `file=NAME`), a command of
//!   the root (`crate::command`): the text as `ret`, or with `file=` written to
//!   `backups/NAME.rsc` (full group).
//! - `GET /backup/export?verbose=yes&show-sensitive=yes&terse=yes`: the same text as a
//!   download, `statewall-IDENTITY-YYYYMMDD-HHMMSS.rsc`.
//! - `POST /backup/restore` (full group): the body is the script, sent as `text/plain` (at most
//!   [`RESTORE_LIMIT`] bytes; `curl -H 'Content-Type: text/plain' --data-binary @x.rsc`). It is
//!   parsed and checked whole first; `?dry-run=yes` answers every mistake with its line and
//!   column and changes nothing. Otherwise a script with any mistake restores nothing (400, the
//!   same list), and a good one replaces the configuration, the identity and the scheduler:
//!   saved, put in force in the dataplane, then answered with a summary.
//! - `GET /backup/files`: the files of `backups/` (name, size, time), oldest first;
//!   `GET /backup/files/NAME`: one, as a download. Names are checked
//!   ([`crate::store::backup_name_ok`]): nothing outside `backups/` can be named.
//!
//! Times are the router's clock (UTC).

use super::error::ApiError;
use super::menus::forbidden;
use super::system::{identity_ok, DEFAULT_IDENTITY, IDENTITY_FILE};
use super::{AppState, ConfigState, Dataplane};
use crate::scheduler::{unix_now, Civil, Entry, ExportStyle, UnixTime};
use crate::store::write_atomic;
use crate::users::{Group, Login};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Map, Value};
use shared::config::edit::Editor;
use shared::config::RouterConfig;
use shared::rsc::schema::{self, MenuKind};
use shared::rsc::{self, Command, Pos, Script, Verb};

/// Restore bodies larger than this are refused (413).
pub const RESTORE_LIMIT: usize = 4 << 20;

const IDENTITY_PATH: &[&str] = &["system", "identity"];

/// Everything an export holds, in RouterOS's order: the configuration's menus, then
/// `/system identity` (when it is not the default, or `verbose`), then `/system scheduler`.
pub fn export_script(st: &AppState, verbose: bool) -> Script {
    let mut script = {
        let editor = st.config.read();
        if verbose {
            editor.config().to_script_verbose()
        } else {
            editor.config().to_script()
        }
    };
    let identity = st
        .identity
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if verbose || identity != DEFAULT_IDENTITY {
        script
            .commands
            .push(Command::new(IDENTITY_PATH, Verb::Set).arg("name", &identity));
    }
    script.commands.extend(st.scheduler.commands(verbose));
    script
}

/// The export's text: RouterOS's header line, then the script (wrapped at 80 columns, or one
/// full line per command when `terse`).
pub fn export_text(st: &AppState, style: ExportStyle, now: UnixTime) -> String {
    let script = export_script(st, style.verbose);
    let body = if style.terse {
        rsc::print_terse(&script)
    } else {
        rsc::print(&script)
    };
    format!("{}\n{body}", export_header(now))
}

/// RouterOS v7's first export line: `# 2025-11-27 09:34:28 by statewall 0.1.0` (UTC).
pub fn export_header(now: UnixTime) -> String {
    format!(
        "# {} by statewall {}",
        Civil::from_unix(now).timestamp(),
        env!("CARGO_PKG_VERSION")
    )
}

/// `statewall-IDENTITY-YYYYMMDD-HHMMSS.rsc`, the identity reduced to characters every file
/// system and browser takes.
pub fn download_name(identity: &str, now: UnixTime) -> String {
    let safe: String = identity
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("statewall-{safe}-{}.rsc", Civil::from_unix(now).compact())
}

/// The query string's `name=value` pairs; a name not in `allowed` is refused.
fn params(uri: &Uri, allowed: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    let Some(q) = uri.query() else {
        return Ok(Vec::new());
    };
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|axum::extract::Query(p)| p)
        .map_err(|_| ApiError::bad_request(format!("bad query string: {q}")))?;
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!("unknown parameter {k}")));
    }
    Ok(pairs)
}

/// A yes/no query parameter (given without a value: yes).
fn yes(pairs: &[(String, String)], name: &str) -> Result<bool, ApiError> {
    match pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
    {
        None | Some("no" | "false") => Ok(false),
        Some("" | "yes" | "true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "invalid value for argument {name}: \"{other}\", expected yes or no"
        ))),
    }
}

/// A file download.
fn attachment(name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    let mut res = (StatusCode::OK, Body::from(bytes)).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// `GET /backup/export`.
pub async fn download_export(
    State(st): State<AppState>,
    Extension(login): Extension<Login>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let p = params(&uri, &["verbose", "terse", "show-sensitive", "compact"])?;
    let style = ExportStyle {
        verbose: yes(&p, "verbose")?,
        terse: yes(&p, "terse")?,
        show_sensitive: yes(&p, "show-sensitive")?,
    };
    if style.show_sensitive && login.group != Group::Full {
        return Err(forbidden(&login));
    }
    let now = unix_now();
    let identity = st
        .identity
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let text = export_text(&st, style, now);
    Ok(attachment(
        &download_name(&identity, now),
        text.into_bytes(),
    ))
}

/// `GET /backup/files`.
pub async fn files(State(st): State<AppState>) -> Result<Response, ApiError> {
    let list = st
        .blocking(|st| st.config.store().backups())
        .await?
        .map_err(ApiError::internal)?;
    let out: Vec<Value> = list
        .into_iter()
        .map(|f| {
            json!({
                "name": f.name,
                "size": f.size,
                "time": Civil::from_unix(f.modified).timestamp(),
            })
        })
        .collect();
    Ok(Json(out).into_response())
}

/// `GET /backup/files/NAME`.
pub async fn file(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let wanted = name.clone();
    let bytes = st
        .blocking(move |st| st.config.store().read_backup(&wanted))
        .await?
        .map_err(ApiError::internal)?
        .ok_or_else(ApiError::not_found)?;
    Ok(attachment(&name, bytes))
}

/// One mistake of a restore script.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Problem {
    fn at(pos: Pos, message: String) -> Problem {
        Problem {
            line: pos.line,
            column: pos.column,
            message,
        }
    }
}

/// What a good restore script holds.
#[derive(Debug, Clone)]
pub struct Restore {
    pub config: RouterConfig,
    pub identity: String,
    pub entries: Vec<Entry>,
}

/// Parses and checks a whole restore script, at `now` for a statewall started at `boot`:
/// what it holds, or every mistake sorted by position.
pub fn check(text: &str, now: UnixTime, boot: UnixTime) -> Result<Restore, Vec<Problem>> {
    check_script(&parse(text)?, now, boot)
}

/// A script's commands, or its syntax mistakes.
pub fn parse(text: &str) -> Result<Script, Vec<Problem>> {
    rsc::parse(text).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| Problem::at(e.pos, e.kind.to_string()))
            .collect()
    })
}

/// [`check`] for a parsed script.
pub fn check_script(
    script: &Script,
    now: UnixTime,
    boot: UnixTime,
) -> Result<Restore, Vec<Problem>> {
    let mut problems = Vec::new();
    let (mut config, mut identity, mut scheduler) = (Script::default(), Vec::new(), Vec::new());
    for cmd in &script.commands {
        if cmd.menu == IDENTITY_PATH {
            identity.push(cmd);
        } else if cmd.menu == crate::scheduler::PATH {
            scheduler.push(cmd);
        } else {
            config.commands.push(cmd.clone());
        }
    }
    let cfg = RouterConfig::from_script(&config)
        .map_err(|errors| {
            problems.extend(
                errors
                    .into_iter()
                    .map(|e| Problem::at(e.pos, e.kind.to_string())),
            )
        })
        .ok();
    let mut name = DEFAULT_IDENTITY.to_string();
    for cmd in identity {
        match identity_name(cmd) {
            Ok(n) => name = n,
            Err(p) => problems.push(p),
        }
    }
    let entries = super::scheduler::entries_from(&scheduler, now, boot)
        .map_err(|errors| {
            problems.extend(errors.into_iter().map(|e| Problem::at(e.pos, e.message)))
        })
        .ok();
    match (cfg, entries) {
        (Some(config), Some(entries)) if problems.is_empty() => Ok(Restore {
            config,
            identity: name,
            entries,
        }),
        _ => {
            problems.sort_by_key(|p| (p.line, p.column));
            Err(problems)
        }
    }
}

/// `/system identity set name=…`.
fn identity_name(cmd: &Command) -> Result<String, Problem> {
    let fail = |pos: Pos, m: &str| Err(Problem::at(pos, m.to_string()));
    if cmd.verb != Verb::Set || cmd.selector.is_some() {
        return fail(cmd.pos, "/system identity takes only set name=NAME");
    }
    let mut name = None;
    for arg in &cmd.args {
        match (arg.name.as_str(), arg.value.as_ref()) {
            ("name", Some(v)) if !v.negated => name = Some(v),
            _ => return fail(arg.pos, "/system identity takes only set name=NAME"),
        }
    }
    let Some(v) = name else {
        return fail(cmd.pos, "/system identity set needs name=NAME");
    };
    if !identity_ok(&v.text) {
        return fail(
            v.pos,
            "invalid value for argument name: expected 1 to 255 characters",
        );
    }
    Ok(v.text.clone())
}

impl ConfigState {
    /// Replaces the whole configuration (a restore), as one change: saved, put in force, and
    /// only then the running one. `also` replaces what else the restore holds, after the
    /// dataplane took the configuration; if it fails, the configuration goes back as it was,
    /// in the file and in the dataplane. Blocks.
    pub fn replace(
        &self,
        dataplane: &dyn Dataplane,
        cfg: RouterConfig,
        also: impl FnOnce() -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        let _one_at_a_time = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.read().config().clone();
        let put_back = |why: &str| {
            if let Err(e) = self.store.save(&old) {
                tracing::error!("restoring the saved configuration after {why}: {e}");
            }
        };
        self.store
            .save(&cfg)
            .map_err(|e| ApiError::internal(format!("saving the configuration: {e}")))?;
        if !dataplane.reconfigure(cfg.clone()) {
            put_back("a refused reconfiguration");
            return Err(ApiError::internal(
                "the dataplane did not take the restored configuration",
            ));
        }
        if let Err(e) = also() {
            put_back("a failed restore");
            if !dataplane.reconfigure(old) {
                tracing::error!("the dataplane did not take the previous configuration back");
            }
            return Err(e);
        }
        *self.editor.write().unwrap_or_else(|e| e.into_inner()) = Editor::new(cfg);
        Ok(())
    }
}

/// Puts a checked restore in force: the configuration, then the scheduler and the identity.
/// Blocks.
pub fn apply(st: &AppState, r: Restore, now: UnixTime) -> Result<(), ApiError> {
    let store = st.config.store();
    let Restore {
        config,
        identity,
        entries,
    } = r;
    let saved_identity = identity.clone();
    st.config.replace(&*st.dataplane, config, || {
        let old = st
            .scheduler
            .replace(store, entries, now)
            .map_err(|e| ApiError::internal(format!("saving the scheduler: {e}")))?;
        let path = store.path(IDENTITY_FILE);
        if let Err(e) = write_atomic(&path, format!("{saved_identity}\n").as_bytes()) {
            if let Err(e) = st.scheduler.replace(store, old, now) {
                tracing::error!("putting the scheduler back: {e}");
            }
            return Err(ApiError::internal(format!("saving the identity: {e}")));
        }
        Ok(())
    })?;
    *st.identity.write().unwrap_or_else(|e| e.into_inner()) = identity;
    tracing::info!("configuration restored");
    Ok(())
}

/// What a restore holds, menu by menu: `{"ip/address": 2, …, "system/scheduler": 1}`.
fn summary(r: &Restore) -> Map<String, Value> {
    let editor = Editor::new(r.config.clone());
    let mut out = Map::new();
    for m in schema::MENUS.iter().filter(|m| m.kind == MenuKind::List) {
        let n = editor.list(m.path).map_or(0, |items| items.len());
        out.insert(m.path.join("/"), n.into());
    }
    out.insert("system/identity".into(), r.identity.clone().into());
    out.insert("system/scheduler".into(), r.entries.len().into());
    out
}

/// `POST /backup/restore[?dry-run=yes]`.
pub async fn restore(
    State(st): State<AppState>,
    Extension(login): Extension<Login>,
    req: Request,
) -> Result<Response, ApiError> {
    if login.group != Group::Full {
        return Err(forbidden(&login));
    }
    let dry_run = yes(&params(req.uri(), &["dry-run"])?, "dry-run")?;
    let plain = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("text/plain"));
    if !plain {
        return Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            detail: Some("the body must be the script, sent with Content-Type: text/plain".into()),
        });
    }
    let bytes = axum::body::to_bytes(req.into_body(), RESTORE_LIMIT)
        .await
        .map_err(|_| ApiError::too_large(RESTORE_LIMIT))?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::bad_request("the script is not UTF-8 text"))?;
    let now = unix_now();
    let boot = st.scheduler.boot();
    let checked = st.blocking(move |_| check(&text, now, boot)).await?;
    let restore = match (checked, dry_run) {
        (Ok(r), true) => {
            return Ok(
                Json(json!({"dry-run": true, "errors": [], "summary": summary(&r)}))
                    .into_response(),
            )
        }
        (Err(problems), true) => {
            return Ok(Json(json!({"dry-run": true, "errors": problems})).into_response())
        }
        (Err(problems), false) => return Ok(refused(problems)),
        (Ok(r), false) => r,
    };
    let sum = summary(&restore);
    st.blocking(move |st| apply(&st, restore, now)).await??;
    Ok(Json(json!({"restored": true, "summary": sum})).into_response())
}

/// 400: the script had mistakes; nothing was restored.
fn refused(problems: Vec<Problem>) -> Response {
    let first = problems
        .first()
        .map(|p| format!("; line {}, column {}: {}", p.line, p.column, p.message))
        .unwrap_or_default();
    let body = json!({
        "error": 400,
        "message": "Bad Request",
        "detail": format!(
            "the script has {} mistake(s) and nothing was restored{first}",
            problems.len()
        ),
        "errors": problems,
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_download_names() {
        assert_eq!(
            export_header(0),
            format!(
                "# 1970-01-01 00:00:00 by statewall {}",
                env!("CARGO_PKG_VERSION")
            )
        );
        // 2025-11-27 09:34:28 UTC (the date of a RouterOS export in routeros.md §7).
        assert!(export_header(1_764_236_068).starts_with("# 2025-11-27 09:34:28 by"));
        assert!(export_header(951_782_400).starts_with("# 2000-02-29 00:00:00"));
        assert_eq!(
            download_name("gw \"1\"/x", 1_764_236_068),
            "statewall-gw__1__x-20251127-093428.rsc"
        );
    }
}
