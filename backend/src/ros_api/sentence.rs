//! What the words of a sentence mean (MikroTik's API manual, "API sentences"; routeros.md §5):
//! a request's command, attributes, API attributes and query words, read into a [`Request`]
//! and a [`Command`]; replies (`!re`, `!done`, `!trap`, `!fatal`) written back as words.
//!
//! - `/ip/firewall/connection/print`: the command word; its last segment is the verb.
//! - `=name=value` an argument (`=name` with no second `=` is the empty value, as
//!   routeros-api sends `=count-only`); `=.id=`, `=.proplist=a,b`, `=count-only=` are read as the
//!   command's items, properties and count flag.
//! - `.tag=X`: echoed on every reply sentence to this command.
//! - `?…`: a query word (see [`crate::command::Query`]).

use crate::command::{Command, CommandError, Query, Row};

/// One request sentence, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `/ip/firewall/connection/print`.
    pub command: String,
    pub tag: Option<String>,
    /// `=name=value` words, in order.
    pub attrs: Vec<(String, String)>,
    /// `?…` words, the `?` kept.
    pub queries: Vec<String>,
}

impl Request {
    /// Reads a sentence's words. Not UTF-8 is read lossily (RouterOS itself takes bytes).
    pub fn parse(words: &[Vec<u8>]) -> Result<Request, CommandError> {
        let mut words = words
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned());
        let command = words.next().unwrap_or_default();
        let mut req = Request {
            command,
            ..Request::default()
        };
        for word in words {
            if let Some(attr) = word.strip_prefix('=') {
                let (name, value) = attr.split_once('=').unwrap_or((attr, ""));
                if name.is_empty() {
                    return Err(CommandError::Invalid(format!("invalid word {word}")));
                }
                req.attrs.push((name.to_string(), value.to_string()));
            } else if let Some(tag) = word.strip_prefix(".tag=") {
                req.tag = Some(tag.to_string());
            } else if let Some(p) = word.strip_prefix(".proplist=") {
                req.attrs.push((".proplist".into(), p.to_string()));
            } else if word.starts_with('?') {
                req.queries.push(word);
            } else {
                return Err(CommandError::Invalid(format!("invalid word {word}")));
            }
        }
        Ok(req)
    }

    /// The argument `name`, if given.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The command it means: the command word's path and verb, its arguments, `.proplist`,
    /// `count-only` and the query.
    pub fn to_command(&self) -> Result<Command, CommandError> {
        let word = self.command.strip_prefix('/').ok_or_else(|| {
            CommandError::Invalid(format!("invalid command word {}", self.command))
        })?;
        let mut segs: Vec<String> = word
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let verb = segs.pop().unwrap_or_default();
        let mut cmd = Command {
            path: segs,
            verb,
            ..Command::default()
        };
        for (name, value) in &self.attrs {
            match name.as_str() {
                ".proplist" => {
                    cmd.proplist = Some(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|p| !p.is_empty())
                            .map(str::to_string)
                            .collect(),
                    )
                }
                "count-only" => cmd.count_only = true,
                _ => cmd.args.push((name.clone(), value.clone())),
            }
        }
        if !self.queries.is_empty() {
            cmd.query = Some(Query::parse(&self.queries)?);
        }
        Ok(cmd)
    }
}

/// A reply sentence: its first word, attributes, and the tag last.
fn reply(kind: &str, attrs: &[(&str, &str)], tag: Option<&str>) -> Vec<Vec<u8>> {
    let mut words = Vec::with_capacity(attrs.len() + 2);
    words.push(kind.as_bytes().to_vec());
    for (k, v) in attrs {
        words.push(format!("={k}={v}").into_bytes());
    }
    if let Some(t) = tag {
        words.push(format!(".tag={t}").into_bytes());
    }
    words
}

/// `!re` with the row's properties (always `=key=value`, even when empty).
pub fn re(row: &Row, tag: Option<&str>) -> Vec<Vec<u8>> {
    let attrs: Vec<(&str, &str)> = row
        .0
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    reply("!re", &attrs, tag)
}

/// `!done`, with `=ret=` when the command gives one.
pub fn done(ret: Option<&str>, tag: Option<&str>) -> Vec<Vec<u8>> {
    match ret {
        Some(r) => reply("!done", &[("ret", r)], tag),
        None => reply("!done", &[], tag),
    }
}

/// The `!trap`s an error is (then `!done` follows). A path that leads nowhere is two, as on
/// RouterOS: `no such command or directory (x)`, then `no such command prefix`. A menu without
/// the command is RouterOS's bare `no such command`.
pub fn traps(err: &CommandError, tag: Option<&str>) -> Vec<Vec<Vec<u8>>> {
    let category = err.category().to_string();
    let message = match err {
        CommandError::NoSuchCommand(_) => "no such command".to_string(),
        other => other.to_string(),
    };
    let mut out = vec![reply(
        "!trap",
        &[("category", &category), ("message", &message)],
        tag,
    )];
    if matches!(err, CommandError::NoSuchDirectory(_)) {
        out.push(reply(
            "!trap",
            &[
                ("category", &category),
                ("message", "no such command prefix"),
            ],
            tag,
        ));
    }
    out
}

/// A `!trap` with only a message (login failures, as RouterOS sends them).
pub fn trap_message(message: &str, tag: Option<&str>) -> Vec<Vec<u8>> {
    reply("!trap", &[("message", message)], tag)
}

/// `!fatal` and its reason (a bare word), before the connection closes.
pub fn fatal(reason: &str) -> Vec<Vec<u8>> {
    vec![b"!fatal".to_vec(), reason.as_bytes().to_vec()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ws: &[&str]) -> Vec<Vec<u8>> {
        ws.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    fn text(sentence: Vec<Vec<u8>>) -> Vec<String> {
        sentence
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn librouteros_select_where_is_a_print_with_proplist_and_query() {
        let req = Request::parse(&words(&[
            "/ip/firewall/connection/print",
            "=.proplist=src-address,protocol",
            "?=protocol=tcp",
        ]))
        .unwrap();
        let cmd = req.to_command().unwrap();
        assert_eq!(cmd.path, ["ip", "firewall", "connection"]);
        assert_eq!(cmd.verb, "print");
        assert_eq!(
            cmd.proplist,
            Some(vec!["src-address".to_string(), "protocol".to_string()])
        );
        assert_eq!(cmd.query, Some(Query::parse(&["?=protocol=tcp"]).unwrap()));
        assert!(cmd.args.is_empty() && !cmd.count_only);
    }

    #[test]
    fn routeros_api_words_tags_and_bare_attributes() {
        // routeros-api's count-only: `=count-only` without the second '='; a tag at the end.
        let req = Request::parse(&words(&[
            "/ip/firewall/connection/print",
            "=count-only",
            "?protocol=udp",
            ".tag=7",
        ]))
        .unwrap();
        assert_eq!(req.tag.as_deref(), Some("7"));
        let cmd = req.to_command().unwrap();
        assert!(cmd.count_only);
        let req = Request::parse(&words(&[
            "/ip/firewall/filter/set",
            "=.id=*1",
            "=comment=a=b",
            "=log=",
        ]))
        .unwrap();
        let cmd = req.to_command().unwrap();
        assert_eq!(
            cmd.args,
            [
                (".id".to_string(), "*1".to_string()),
                ("comment".into(), "a=b".into()),
                ("log".into(), "".into())
            ]
        );
        let root = Request::parse(&words(&["/export", "=verbose="])).unwrap();
        let cmd = root.to_command().unwrap();
        assert!(cmd.path.is_empty() && cmd.verb == "export");
    }

    #[test]
    fn malformed_words_are_refused() {
        assert!(Request::parse(&words(&["/login", "name=x"])).is_err());
        assert!(Request::parse(&words(&["/login", "==x"])).is_err());
        let req = Request::parse(&words(&["login"])).unwrap();
        assert!(req.to_command().is_err());
        let req = Request::parse(&words(&["/ip/address/print", "?#|"])).unwrap();
        assert!(req.to_command().is_err());
    }

    #[test]
    fn replies_in_words() {
        let row = Row(vec![
            (".id".into(), "*1".into()),
            ("comment".into(), "".into()),
        ]);
        assert_eq!(
            text(re(&row, Some("3"))),
            ["!re", "=.id=*1", "=comment=", ".tag=3"]
        );
        assert_eq!(text(done(Some("13"), None)), ["!done", "=ret=13"]);
        let t = traps(&CommandError::NoSuchDirectory("nope".into()), None);
        assert_eq!(
            t.into_iter().map(text).collect::<Vec<_>>(),
            [
                vec![
                    "!trap",
                    "=category=0",
                    "=message=no such command or directory (nope)"
                ],
                vec!["!trap", "=category=0", "=message=no such command prefix"]
            ]
        );
        let t = traps(&CommandError::NoSuchCommand("frob".into()), Some("1"));
        assert_eq!(
            text(t.into_iter().next().unwrap()),
            ["!trap", "=category=0", "=message=no such command", ".tag=1"]
        );
        assert_eq!(text(fatal("not logged in")), ["!fatal", "not logged in"]);
    }
}
