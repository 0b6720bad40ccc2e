//! `/rest/…`: which menu a path names and what each method does there, as RouterOS's REST API
//! maps them (routeros.md §4):
//!
//! | request | list menu | settings menu |
//! |---|---|---|
//! | `GET /rest/M` | every item (array) | the one object |
//! | `GET /rest/M/*ID` (or a name) | the item | — |
//! | `PUT /rest/M` | `add`: 201, `Location`, the item | — |
//! | `PATCH /rest/M/*ID` | `set`: the item | — |
//! | `DELETE /rest/M/*ID` | `remove`: 204 | — |
//! | `POST /rest/M/print` | `.proplist`, `.query`, `count-only` | `[object]` |
//! | `POST /rest/M/CMD` | add, set, unset, remove, enable, disable, move, reset-counters(-all) | set |
//!
//! Every value is a JSON string; ids are `*` and upper-case hex. This module holds the dispatch
//! and the configuration's menus; the others are in `connection`, `system`, `scheduler` and
//! `service`, and `/export` in `backup`.

use super::error::ApiError;
use super::query::{self, Obj};
use super::request::{self, Input};
use super::{backup, connection, scheduler, service, system, AppState, BODY_LIMIT};
use crate::users::{Group, Login};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use dataplane::firewall::TableKind;
use serde_json::{json, Value};
use shared::config::edit::{Change, Item};
use shared::connection::{format_id, parse_id};
use shared::rsc::schema::{self, MenuKind};

/// The menus of `/rest`.
#[derive(Clone, Copy)]
pub(super) enum Menu {
    /// A menu of the configuration.
    Config(&'static schema::Menu),
    /// `/ip/firewall/connection`.
    Connection,
    /// `/interface`.
    Interface,
    /// `/system/identity`.
    Identity,
    /// `/user`.
    User,
    /// `/system/scheduler`.
    Scheduler,
    /// `/ip/service` (read-only).
    Service,
}

const OTHER_MENUS: &[(&[&str], Menu)] = &[
    (&["ip", "firewall", "connection"], Menu::Connection),
    (&["interface"], Menu::Interface),
    (&["system", "identity"], Menu::Identity),
    (&["user"], Menu::User),
    (&["system", "scheduler"], Menu::Scheduler),
    (&["ip", "service"], Menu::Service),
];

/// One request, read and checked.
pub(super) struct Call {
    pub method: Method,
    /// The menu's path, as the request wrote it (`ip/firewall/filter`).
    pub path: String,
    /// The segment after the menu: an item (`*5`, a name) or a command (`print`).
    pub rest: Option<String>,
    pub input: Input,
    pub uri: Uri,
    pub login: Login,
}

/// The menu a path names: the longest menu path it starts with, followed by at most one more
/// segment.
fn resolve(segs: &[&str]) -> Result<(Menu, usize), ApiError> {
    let all = || {
        schema::MENUS
            .iter()
            .map(|m| (m.path, Menu::Config(m)))
            .chain(OTHER_MENUS.iter().copied())
    };
    let best = all()
        .filter(|(path, _)| segs.len() >= path.len() && segs[..path.len()] == **path)
        .max_by_key(|(path, _)| path.len());
    match best {
        Some((path, menu)) if segs.len() <= path.len() + 1 => Ok((menu, path.len())),
        // The menu, an item, then something no menu has.
        Some((path, _)) => Err(ApiError::no_such_directory(segs[path.len() + 1])),
        None => {
            // The first segment no menu continues with.
            let known = (0..segs.len())
                .take_while(|&i| all().any(|(p, _)| p.len() > i && p[..=i] == segs[..=i]))
                .count();
            Err(ApiError::no_such_directory(
                segs.get(known).copied().unwrap_or_default(),
            ))
        }
    }
}

/// The `/rest` handler.
pub(super) async fn rest(
    State(st): State<AppState>,
    Extension(login): Extension<Login>,
    req: Request,
) -> Response {
    handle(st, login, req)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn handle(st: AppState, login: Login, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().strip_prefix("/rest").unwrap_or_default();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (menu, len) = match segs[..] {
        ["export"] => (None, 1),
        _ => {
            let (menu, len) = resolve(&segs)?;
            (Some(menu), len)
        }
    };
    let writes = match parts.method {
        Method::GET => false,
        Method::POST => menu.is_some() && segs.get(len) != Some(&"print"),
        _ => true,
    };
    // `export` decides for itself (only `show-sensitive` needs the full group).
    if writes && menu.is_some() && login.group != Group::Full {
        return Err(forbidden(&login));
    }
    let input = request::read_body(&parts.headers, body, BODY_LIMIT).await?;
    let call = Call {
        method: parts.method.clone(),
        path: segs[..len.min(segs.len())].join("/"),
        rest: segs.get(len).map(|s| s.to_string()),
        input,
        uri: parts.uri.clone(),
        login,
    };
    match menu {
        None => backup::rest_export(&st, call).await,
        Some(Menu::Config(m)) if m.kind == MenuKind::Settings => settings(&st, m, call).await,
        Some(menu @ Menu::Identity) => system::identity(&st, menu, call).await,
        Some(menu) => list(&st, menu, call).await,
    }
}

pub(super) fn forbidden(login: &Login) -> ApiError {
    ApiError::forbidden(format!(
        "not enough permissions: user {} is in group {}",
        login.user,
        login.group.as_str()
    ))
}

/// Every item of a list menu, printed.
async fn items(st: &AppState, menu: Menu) -> Result<Vec<Obj>, ApiError> {
    match menu {
        Menu::Config(m) => config_items(st, m).await,
        Menu::Connection => connection::items(st).await,
        Menu::Interface => system::interfaces(st).await,
        Menu::User => Ok(st.users.list().into_iter().map(item_obj).collect()),
        Menu::Scheduler => Ok(st.scheduler.objs()),
        Menu::Service => Ok(service::items(&st.services)),
        Menu::Identity => Err(ApiError::no_such_command("print")),
    }
}

/// An item as a JSON object, `.id` first.
pub(super) fn item_obj(item: Item) -> Obj {
    props_obj(Some(item.id), item.props)
}

pub(super) fn props_obj(id: Option<u32>, props: Vec<(String, String)>) -> Obj {
    let mut obj = Obj::new();
    if let Some(id) = id {
        obj.insert(".id".into(), format_id(id).into());
    }
    for (k, v) in props {
        obj.insert(k, v.into());
    }
    obj
}

/// The rule table of a rules menu.
fn table(m: &schema::Menu) -> Option<TableKind> {
    match m.path {
        ["ip", "firewall", "filter"] => Some(TableKind::Filter),
        ["ip", "firewall", "nat"] => Some(TableKind::Nat),
        _ => None,
    }
}

/// A configuration menu's items; rules with their counters from the dataplane.
async fn config_items(st: &AppState, m: &'static schema::Menu) -> Result<Vec<Obj>, ApiError> {
    let items = st.config.read().list(m.path)?;
    let Some(table) = table(m) else {
        return Ok(items.into_iter().map(item_obj).collect());
    };
    let stats = st
        .blocking(|st| st.dataplane.stats())
        .await?
        .ok_or_else(|| ApiError::internal("the dataplane did not answer"))?;
    Ok(items
        .into_iter()
        .map(|item| {
            let id = item.id;
            let mut obj = item_obj(item);
            let s = stats.rules.iter().find(|r| r.table == table && r.id == id);
            let (packets, bytes) = s.map_or((0, 0), |s| (s.packets, s.bytes));
            obj.insert("bytes".into(), bytes.to_string().into());
            obj.insert("packets".into(), packets.to_string().into());
            let invalid = s.is_some_and(|s| s.invalid.is_some());
            obj.insert("invalid".into(), invalid.to_string().into());
            obj
        })
        .collect())
}

/// The ids a request names: `*N` ids or names, comma-separated. A missing one is `missing`'s
/// error.
fn pick(objs: &[Obj], text: &str, missing: fn(&str) -> ApiError) -> Result<Vec<u32>, ApiError> {
    let mut out = Vec::new();
    for word in text.split(',').map(str::trim) {
        let found = objs.iter().find(|o| match parse_id(word) {
            Some(id) => o.get(".id").and_then(Value::as_str) == Some(&format_id(id)),
            None => o.get("name").and_then(Value::as_str) == Some(word),
        });
        let id = found
            .and_then(|o| o.get(".id"))
            .and_then(Value::as_str)
            .and_then(parse_id)
            .ok_or_else(|| missing(word))?;
        out.push(id);
    }
    Ok(out)
}

fn no_such_item(word: &str) -> ApiError {
    ApiError::bad_request(format!("no such item ({word})"))
}

/// The items `.id`/`numbers` name (required).
fn body_ids(objs: &[Obj], input: &Input) -> Result<Vec<u32>, ApiError> {
    let text = input
        .ids
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("missing =.id= (or numbers): which items"))?;
    pick(objs, text, no_such_item)
}

/// The item a path names (`*5`, or a name); 404 if there is none.
fn path_item(objs: &[Obj], rest: &str) -> Result<(u32, Obj), ApiError> {
    let id = pick(objs, rest, |_| ApiError::not_found())?
        .first()
        .copied()
        .ok_or_else(ApiError::not_found)?;
    let obj = objs
        .iter()
        .find(|o| o.get(".id").and_then(Value::as_str) == Some(&format_id(id)))
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    Ok((id, obj))
}

/// `GET` of a list menu or one of its items, with `?name=value` filters and `.proplist`.
async fn get(st: &AppState, menu: Menu, call: &Call) -> Result<Response, ApiError> {
    let request::UrlParams { filters, proplist } = request::url_params(&call.uri)?;
    let objs = items(st, menu).await?;
    let shape = |o: Obj| match &proplist {
        Some(p) => query::proplist(o, p, true),
        None => o,
    };
    match call.rest.as_deref() {
        None => {
            let out: Vec<Value> = objs
                .into_iter()
                .filter(|o| query::matches(o, &filters))
                .map(|o| Value::Object(shape(o)))
                .collect();
            Ok(Json(out).into_response())
        }
        Some(rest) => {
            let (_, obj) = path_item(&objs, rest)?;
            Ok(Json(shape(obj)).into_response())
        }
    }
}

/// Arguments `print` takes that change nothing here (every property is always shown).
const PRINT_NOOPS: &[&str] = &["brief", "detail", "stats", "terse", "without-paging"];

/// `POST …/print`: `.query`, `.proplist`, `count-only`.
pub(super) fn print(objs: Vec<Obj>, mut input: Input) -> Result<Response, ApiError> {
    let count_only = input.take("count-only").is_some();
    input
        .args
        .retain(|(k, _)| !PRINT_NOOPS.contains(&k.as_str()));
    input.no_more()?;
    let words = input.query.unwrap_or_default();
    let mut chosen = Vec::new();
    for o in objs {
        if query::query(&o, &words)? {
            chosen.push(o);
        }
    }
    if count_only {
        return Ok(Json(json!({"ret": chosen.len().to_string()})).into_response());
    }
    let out: Vec<Value> = chosen
        .into_iter()
        .map(|o| match &input.proplist {
            Some(p) => Value::Object(query::proplist(o, p, false)),
            None => Value::Object(o),
        })
        .collect();
    Ok(Json(out).into_response())
}

fn empty() -> Response {
    Json(json!([])).into_response()
}

/// A list menu.
async fn list(st: &AppState, menu: Menu, mut call: Call) -> Result<Response, ApiError> {
    if call.method == Method::GET {
        return get(st, menu, &call).await;
    }
    if call.method == Method::POST && call.rest.as_deref() == Some("print") {
        return print(items(st, menu).await?, call.input);
    }
    match menu {
        Menu::Config(m) => config_change(st, m, &mut call).await,
        Menu::Connection => connection::change(st, call).await,
        Menu::User => system::user_change(st, call).await,
        Menu::Scheduler => scheduler::change(st, call).await,
        Menu::Interface | Menu::Identity | Menu::Service => Err(ApiError::no_such_command(
            call.rest.as_deref().unwrap_or(call.method.as_str()),
        )),
    }
}

/// What a change to a list menu is, from the method and command. Shared by the configuration's
/// menus and `/user`. Returns the change and how to answer it.
pub(super) fn list_change(objs: &[Obj], call: &mut Call) -> Result<(Change, Answer), ApiError> {
    let input = &mut call.input;
    let word = call.rest.clone();
    Ok(match (&call.method, word.as_deref()) {
        (&Method::PUT, None) => (
            Change::Add(std::mem::take(&mut input.args)),
            Answer::Created,
        ),
        (&Method::PATCH, Some(rest)) => {
            let (id, _) = path_item(objs, rest)?;
            let args = std::mem::take(&mut input.args);
            (
                Change::Set {
                    ids: vec![id],
                    args,
                },
                Answer::Item(id),
            )
        }
        (&Method::DELETE, Some(rest)) => {
            let (id, _) = path_item(objs, rest)?;
            input.no_more()?;
            (Change::Remove(vec![id]), Answer::NoContent)
        }
        (&Method::POST, Some("add")) => (Change::Add(std::mem::take(&mut input.args)), Answer::Ret),
        (&Method::POST, Some("set")) => {
            let ids = body_ids(objs, input)?;
            let args = std::mem::take(&mut input.args);
            (Change::Set { ids, args }, Answer::Empty)
        }
        (&Method::POST, Some(cmd @ ("remove" | "enable" | "disable"))) => {
            let ids = body_ids(objs, input)?;
            input.no_more()?;
            let change = match cmd {
                "remove" => Change::Remove(ids),
                "enable" => Change::Enable(ids),
                _ => Change::Disable(ids),
            };
            (change, Answer::Empty)
        }
        (&Method::POST, Some("unset")) => {
            let ids = body_ids(objs, input)?;
            let names = input
                .take("value-name")
                .ok_or_else(|| ApiError::bad_request("missing =value-name="))?;
            input.no_more()?;
            let names = names.split(',').map(|n| n.trim().to_string()).collect();
            (Change::Unset { ids, names }, Answer::Empty)
        }
        (&Method::POST, Some("move")) => {
            let ids = body_ids(objs, input)?;
            let before = match input.take("destination") {
                Some(d) => Some(
                    pick(objs, &d, no_such_item)?
                        .first()
                        .copied()
                        .ok_or_else(|| no_such_item(&d))?,
                ),
                None => None,
            };
            input.no_more()?;
            (Change::Move { ids, before }, Answer::Empty)
        }
        (&Method::POST, Some(cmd)) => return Err(ApiError::no_such_command(cmd)),
        (m, _) => return Err(ApiError::no_such_command(m.as_str())),
    })
}

/// How a change is answered.
pub(super) enum Answer {
    /// 201, `Location`, the new item.
    Created,
    /// `{"ret":"*N"}` (POST `add`).
    Ret,
    /// The changed item.
    Item(u32),
    /// 204.
    NoContent,
    /// `[]`.
    Empty,
}

impl Answer {
    /// The response, given the id added (if any) and a way to print one item.
    pub(super) fn respond(
        self,
        path: &str,
        added: Option<u32>,
        item: impl FnOnce(u32) -> Option<Obj>,
    ) -> Result<Response, ApiError> {
        let printed = |id: u32| item(id).ok_or_else(|| ApiError::internal("changed item is gone"));
        Ok(match self {
            Answer::Created => {
                let id = added.ok_or_else(|| ApiError::internal("add gave no id"))?;
                let location = format!("/rest/{path}/{}", format_id(id));
                (
                    StatusCode::CREATED,
                    [(header::LOCATION, location)],
                    Json(printed(id)?),
                )
                    .into_response()
            }
            Answer::Ret => {
                let id = added.ok_or_else(|| ApiError::internal("add gave no id"))?;
                Json(json!({"ret": format_id(id)})).into_response()
            }
            Answer::Item(id) => Json(printed(id)?).into_response(),
            Answer::NoContent => StatusCode::NO_CONTENT.into_response(),
            Answer::Empty => empty(),
        })
    }
}

/// A change to a list menu of the configuration.
async fn config_change(
    st: &AppState,
    m: &'static schema::Menu,
    call: &mut Call,
) -> Result<Response, ApiError> {
    let objs = config_items(st, m).await?;
    if let (Some(table), Some(cmd @ ("reset-counters" | "reset-counters-all"))) =
        (table(m), call.rest.as_deref())
    {
        let id = if cmd == "reset-counters" {
            Some(body_ids(&objs, &call.input)?)
        } else {
            None
        };
        call.input.no_more()?;
        let done = st
            .blocking(move |st| match id {
                Some(ids) => ids
                    .into_iter()
                    .all(|id| st.dataplane.reset_counters(table, Some(id))),
                None => st.dataplane.reset_counters(table, None),
            })
            .await?;
        if !done {
            return Err(ApiError::internal(
                "the dataplane did not reset the counters",
            ));
        }
        return Ok(empty());
    }
    let (change, answer) = list_change(&objs, call)?;
    let path = m.path;
    let added = st
        .blocking(move |st| st.config.change(&*st.dataplane, path, &change))
        .await??;
    let after = config_items(st, m).await?;
    answer.respond(&call.path, added, |id| {
        after
            .into_iter()
            .find(|o| o.get(".id").and_then(Value::as_str) == Some(&format_id(id)))
    })
}

/// A settings menu of the configuration (`/ip/settings`, `/ip/firewall/connection/tracking`).
async fn settings(
    st: &AppState,
    m: &'static schema::Menu,
    mut call: Call,
) -> Result<Response, ApiError> {
    let object = || async {
        let mut obj = props_obj(None, st.config.read().settings(m.path)?);
        if m.path == ["ip", "firewall", "connection", "tracking"] {
            connection::tracking_counters(st, &mut obj).await?;
        }
        Ok::<_, ApiError>(obj)
    };
    match (&call.method, call.rest.as_deref()) {
        (&Method::GET, None) => Ok(Json(object().await?).into_response()),
        (&Method::GET, Some(word)) => Err(ApiError::no_such_directory(word)),
        (&Method::POST, Some("print")) => print(vec![object().await?], call.input),
        (&Method::POST, Some("set")) => {
            let change = Change::Settings(std::mem::take(&mut call.input.args));
            let path = m.path;
            st.blocking(move |st| st.config.change(&*st.dataplane, path, &change))
                .await??;
            Ok(empty())
        }
        (&Method::POST, Some(cmd)) => Err(ApiError::no_such_command(cmd)),
        (m, _) => Err(ApiError::no_such_command(m.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu_path(segs: &[&str]) -> Result<String, ApiError> {
        resolve(segs).map(|(_, len)| segs[..len].join("/"))
    }

    #[test]
    fn paths_resolve_to_the_longest_menu() {
        assert_eq!(
            menu_path(&["ip", "firewall", "connection", "tracking"]).unwrap(),
            "ip/firewall/connection/tracking"
        );
        assert_eq!(
            menu_path(&["ip", "firewall", "connection", "*1A"]).unwrap(),
            "ip/firewall/connection"
        );
        assert_eq!(
            menu_path(&["interface", "list", "member", "print"]).unwrap(),
            "interface/list/member"
        );
        assert_eq!(menu_path(&["interface", "ether1"]).unwrap(), "interface");
        assert_eq!(
            menu_path(&["ip", "firewall", "filter", "*1", "x"]),
            Err(ApiError::no_such_directory("x"))
        );
        assert_eq!(
            menu_path(&["ip", "nope"]),
            Err(ApiError::no_such_directory("nope"))
        );
    }
}
