//! `/rest/…`: HTTP methods, paths and JSON bodies as [`Command`]s, as RouterOS's REST API maps
//! them (routeros.md §4); what each command does is [`crate::command`]'s.
//!
//! | request | list menu | single-item menu |
//! |---|---|---|
//! | `GET /rest/M` | `print` (array; `.proplist` keeps `.id`) | `print` (the one object) |
//! | `GET /rest/M/*ID` (or a name) | the item (404 if none) | — |
//! | `PUT /rest/M` | `add`: 201, `Location`, the item | — |
//! | `PATCH /rest/M/*ID` | `set`: the item | — |
//! | `DELETE /rest/M/*ID` | `remove`: 204 | — |
//! | `POST /rest/M/CMD` | any command: `{"ret":…}`, or the rows (`[]` if none) | the same |
//!
//! `POST` bodies are the arguments; `.id`/`numbers`, `.proplist`, `.query` and `count-only`
//! shape the command. Every value is a JSON string.

use super::error::ApiError;
use super::request::{self, Input};
use super::{AppState, BODY_LIMIT};
use crate::command::{self, Command, CommandError, Menu, Query, Reply, Row};
use crate::users::Login;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};
use shared::connection::{format_id, parse_id};

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

/// A `read` user asked to change something (403).
pub(super) fn forbidden(login: &Login) -> ApiError {
    command::not_permitted(login).into()
}

/// Runs a command off the async threads.
async fn run(st: &AppState, login: &Login, cmd: Command) -> Result<Reply, CommandError> {
    let login = login.clone();
    st.blocking(move |st| command::execute(&st, &login, cmd))
        .await
        .map_err(|_| CommandError::Internal)?
}

fn rows_json(rows: Vec<Row>) -> Value {
    Value::Array(
        rows.into_iter()
            .map(|r| Value::Object(r.into_json()))
            .collect(),
    )
}

/// The query that finds the item a URL names: `*ID` (any case of hex) or a name.
fn item_query(word: &str) -> Query {
    match parse_id(word) {
        Some(id) => Query::id(&format_id(id)),
        None => Query::equal(vec![("name".into(), word.into())]),
    }
}

/// A 404 for an item the URL names that is not there.
fn not_found_item(e: CommandError) -> ApiError {
    match e {
        CommandError::NoSuchItem(_) => ApiError::not_found(),
        other => other.into(),
    }
}

async fn handle(st: AppState, login: Login, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().strip_prefix("/rest").unwrap_or_default();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (menu, len) = command::resolve_prefix(&segs)?;
    let menu_path: Vec<&str> = segs[..len].to_vec();
    let rest = segs.get(len).map(|s| s.to_string());
    let input = request::read_body(&parts.headers, body, BODY_LIMIT).await?;
    let base = |verb: &str| Command::new(&menu_path, verb);
    let single = menu.is_single();
    if matches!(menu, Menu::Root) && parts.method != Method::POST {
        return Err(ApiError::no_such_command(parts.method.as_str()));
    }
    match (&parts.method, rest) {
        (&Method::GET, None) => {
            let request::UrlParams { filters, proplist } = request::url_params(&parts.uri)?;
            let mut cmd = base("print");
            if !single {
                cmd.query = Some(Query::equal(filters));
                cmd.proplist = proplist.map(with_id);
            }
            let rows = run(&st, &login, cmd).await?.rows;
            if single {
                let row = rows.into_iter().next().unwrap_or_default();
                return Ok(Json(row.into_json()).into_response());
            }
            Ok(Json(rows_json(rows)).into_response())
        }
        (&Method::GET, Some(word)) if single => Err(ApiError::no_such_directory(&word)),
        (&Method::GET, Some(word)) => {
            let proplist = request::url_params(&parts.uri)?.proplist;
            let row = print_one(&st, &login, &menu_path, &word).await?;
            let row = match proplist {
                Some(p) => row.only(&with_id(p)),
                None => row,
            };
            Ok(Json(row.into_json()).into_response())
        }
        (&Method::PUT, None) if !single => {
            let mut cmd = base("add");
            cmd.args = input.args;
            let ret = run(&st, &login, cmd).await?.ret;
            let id = ret.ok_or_else(|| ApiError::internal("add gave no id"))?;
            let row = print_one(&st, &login, &menu_path, &id)
                .await
                .map_err(|_| ApiError::internal("the added item is gone"))?;
            let location = format!("/rest/{}/{id}", menu_path.join("/"));
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(row.into_json()),
            )
                .into_response())
        }
        (&Method::PATCH, Some(word)) if !single => {
            // Names are resolved first: the answer is the item, even if `set` renames it.
            let id = match parse_id(&word) {
                Some(id) => format_id(id),
                None => print_one(&st, &login, &menu_path, &word)
                    .await?
                    .get(".id")
                    .ok_or_else(ApiError::not_found)?
                    .to_string(),
            };
            let mut cmd = base("set").arg(".id", &id);
            cmd.args.extend(input.args);
            run(&st, &login, cmd).await.map_err(not_found_item)?;
            let row = print_one(&st, &login, &menu_path, &id)
                .await
                .map_err(|_| ApiError::internal("changed item is gone"))?;
            Ok(Json(row.into_json()).into_response())
        }
        (&Method::DELETE, Some(word)) if !single => {
            let mut cmd = base("remove").arg(".id", &word);
            cmd.args.extend(input.args);
            run(&st, &login, cmd).await.map_err(not_found_item)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (&Method::POST, Some(verb)) => {
            let cmd = post_command(&menu_path, &verb, input)?;
            let reply = run(&st, &login, cmd).await?;
            Ok(match reply.ret {
                Some(ret) => Json(json!({ "ret": ret })).into_response(),
                None => Json(rows_json(reply.rows)).into_response(),
            })
        }
        (m, _) => Err(ApiError::no_such_command(m.as_str())),
    }
}

/// `.proplist` of a GET: `.id` is always kept.
fn with_id(mut names: Vec<String>) -> Vec<String> {
    if !names.iter().any(|n| n == ".id") {
        names.push(".id".into());
    }
    names
}

/// The item `word` (an id or a name) of a list menu; 404 if there is none.
async fn print_one(
    st: &AppState,
    login: &Login,
    menu_path: &[&str],
    word: &str,
) -> Result<Row, ApiError> {
    let mut cmd = Command::new(menu_path, "print");
    cmd.query = Some(item_query(word));
    run(st, login, cmd)
        .await?
        .rows
        .into_iter()
        .next()
        .ok_or_else(ApiError::not_found)
}

/// A `POST /rest/M/VERB` body as the command.
fn post_command(menu_path: &[&str], verb: &str, input: Input) -> Result<Command, ApiError> {
    let Input {
        mut args,
        ids,
        proplist,
        query,
    } = input;
    let mut cmd = Command::new(menu_path, verb);
    if let Some(i) = args.iter().position(|(k, _)| k == "count-only") {
        args.remove(i);
        cmd.count_only = true;
    }
    if let Some(ids) = ids {
        args.insert(0, (".id".into(), ids));
    }
    cmd.args = args;
    cmd.proplist = proplist;
    cmd.query = query.map(|q| Query::parse(&q)).transpose()?;
    Ok(cmd)
}
