//! What a request says, read once and checked: the JSON body's arguments and the query string's
//! filters, as RouterOS's REST API takes them.
//!
//! - A body is JSON with `Content-Type: application/json` (else 415), at most
//!   [`super::BODY_LIMIT`] bytes (else 413), and an object whose values are strings; `true`/
//!   `false` and numbers are taken as their text, as RouterOS takes them.
//! - `.id` or `numbers` name the items a command applies to; `.proplist` (`"a,b"` or
//!   `["a","b"]`) and `.query` (a list of query words) shape `print`.

use super::error::ApiError;
use axum::body::Body;
use axum::http::{header, HeaderMap, Uri};
use serde_json::Value;

/// The body's arguments.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Input {
    /// `name=value` arguments, in the order sent (the dotted ones taken out).
    pub args: Vec<(String, String)>,
    /// `.id` or `numbers`: ids or names, comma-separated.
    pub ids: Option<String>,
    pub proplist: Option<Vec<String>>,
    pub query: Option<Vec<String>>,
}

impl Input {
    /// The argument `name`, taken out of [`Input::args`].
    pub fn take(&mut self, name: &str) -> Option<String> {
        let i = self.args.iter().position(|(k, _)| k == name)?;
        Some(self.args.remove(i).1)
    }

    /// Refuses any argument left: the command takes no others.
    pub fn no_more(&self) -> Result<(), ApiError> {
        match self.args.first() {
            Some((name, _)) => Err(ApiError::bad_request(format!("unknown parameter {name}"))),
            None => Ok(()),
        }
    }
}

/// Reads and parses the body (empty is no arguments).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Input, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::too_large(limit))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Input::default());
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::unsupported_media_type());
    }
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("failed to parse JSON: {e}")))?;
    parse_object(value)
}

fn parse_object(value: Value) -> Result<Input, ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object of arguments",
        ));
    };
    let mut input = Input::default();
    for (name, value) in map {
        match name.as_str() {
            ".proplist" => input.proplist = Some(words(&name, value, ',')?),
            ".query" => input.query = Some(words(&name, value, '\0')?),
            ".id" | "numbers" => input.ids = Some(text(&name, value)?),
            _ if name.starts_with('.') => {
                return Err(ApiError::bad_request(format!("unknown parameter {name}")))
            }
            _ => {
                let text = text(&name, value)?;
                input.args.push((name, text));
            }
        }
    }
    Ok(input)
}

/// A value as RouterOS text.
fn text(name: &str, value: Value) -> Result<String, ApiError> {
    match value {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(ApiError::bad_request(format!(
            "invalid value for argument {name}: expected a string"
        ))),
    }
}

/// A list given as an array of strings or as one string split at `sep`.
fn words(name: &str, value: Value, sep: char) -> Result<Vec<String>, ApiError> {
    match value {
        Value::Array(items) => items.into_iter().map(|v| text(name, v)).collect(),
        other => {
            let s = text(name, other)?;
            Ok(s.split(sep)
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect())
        }
    }
}

/// What a GET's query string asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UrlParams {
    /// `name=value`: items whose property equals the value.
    pub filters: Vec<(String, String)>,
    /// `.proplist=a,b`.
    pub proplist: Option<Vec<String>>,
}

/// `?name=value&…` filters and `.proplist`, percent-decoded.
pub fn url_params(uri: &Uri) -> Result<UrlParams, ApiError> {
    let Some(q) = uri.query() else {
        return Ok(UrlParams::default());
    };
    let pairs: Vec<(String, String)> =
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|axum::extract::Query(p)| p)
            .map_err(|_| ApiError::bad_request(format!("bad query string: {q}")))?;
    let mut out = UrlParams::default();
    for (k, v) in pairs {
        if k == ".proplist" {
            out.proplist = Some(
                v.split(',')
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect(),
            );
        } else {
            out.filters.push((k, v));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_become_arguments() {
        let input = parse_object(json!({
            "chain": "input", "disabled": true, "distance": 10,
            ".id": "*1,*2", ".proplist": "chain,action", ".query": ["chain=input", "#!"]
        }))
        .unwrap();
        assert_eq!(
            input.args,
            [
                ("chain".to_string(), "input".to_string()),
                ("disabled".into(), "true".into()),
                ("distance".into(), "10".into())
            ]
        );
        assert_eq!(input.ids.as_deref(), Some("*1,*2"));
        assert_eq!(
            input.proplist,
            Some(vec!["chain".to_string(), "action".to_string()])
        );
        assert_eq!(input.query.map(|q| q.len()), Some(2));
        assert!(parse_object(json!({"chain": null})).is_err());
        assert!(parse_object(json!({"chain": ["a"]})).is_err());
        assert!(parse_object(json!({".tag": "1"})).is_err());
        assert!(parse_object(json!(["chain"])).is_err());
    }

    #[test]
    fn url_filters_and_proplist() {
        let uri: Uri = "/rest/interface?type=ether&name=a%20b&.proplist=name,mtu"
            .parse()
            .unwrap();
        let UrlParams { filters, proplist } = url_params(&uri).unwrap();
        assert_eq!(
            filters,
            [
                ("type".to_string(), "ether".to_string()),
                ("name".into(), "a b".into())
            ]
        );
        assert_eq!(proplist, Some(vec!["name".to_string(), "mtu".to_string()]));
    }
}
