//! A console line → what to do: menu changes and commands with their arguments checked.
//!
//! A command is RouterOS's `[/][path words] command [items] [arguments]`: path words walk the
//! menu tree from the current menu (`/` starts at the root, `..` goes up, `/ip/firewall/filter`
//! is the slash form); a line of path words alone changes the current menu; a path before a
//! command applies to that command only. Which word ends the path is decided by the tree
//! ([`super::menu`]): a word that is not a submenu must be a command of the menu reached, else it
//! is a `bad command name`. Several commands share a line with `;`.
//!
//! Arguments are checked as far as the console knows them: the words each command takes, the
//! names `add`/`set` take (from the configuration schema), `interval=` as a duration. Values of
//! the router's properties are the router's to check: its `!trap` says what is wrong.

use super::error::{Column, ConsoleError};
use super::lexer::{self, Tok, Token};
use super::menu::{self, Kind, Menu, View};
use super::query::{self, Expr};
use shared::duration::Duration;

/// One command of a line.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// Make this the current menu.
    Go(&'static Menu),
    /// Run a command in a menu (the current one unless a path was given).
    Run(&'static Menu, Action),
}

/// Which items a command works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Items {
    /// Numbers from the last `print`, `*ids`, names; as typed (`0,2,*1A,ether1`).
    Refs(Vec<ItemRef>),
    /// `[find]` (all items), `[find name=value]`, `[find where …]`.
    Find(Option<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemRef {
    Number(usize),
    Id(String),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Print {
    pub detail: bool,
    pub terse: bool,
    pub count_only: bool,
    /// `print stats` of firewall rules (`# CHAIN ACTION BYTES PACKETS`).
    pub stats: bool,
    /// Print again every `interval` until Ctrl-C.
    pub interval: Option<Duration>,
    pub proplist: Option<Vec<String>>,
    pub filter: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Print(Print),
    /// `get` one property (or all) of an item, or of a settings menu.
    Get {
        items: Option<Items>,
        name: Option<String>,
    },
    Add {
        args: Vec<(String, String)>,
    },
    /// `items` is `None` in settings menus.
    Set {
        items: Option<Items>,
        args: Vec<(String, String)>,
    },
    /// `unset 0 log-prefix`: these properties back to their defaults.
    Unset {
        items: Items,
        names: Vec<String>,
    },
    /// `remove`, `enable`, `disable`, `reset-counters`: a verb applied to items.
    OnItems {
        verb: &'static str,
        items: Items,
    },
    ResetCountersAll,
    Move {
        items: Items,
        destination: Option<ItemRef>,
    },
    /// `export` of the menu (and everything under it): its switches (`verbose`, `compact`,
    /// `terse`, `show-sensitive`, `hide-sensitive`) and `file=`.
    Export {
        switches: Vec<&'static str>,
        file: Option<String>,
    },
    /// `/import file-name=…` with its other arguments (`verbose=`, `dry-run`).
    Import {
        file: String,
        args: Vec<(String, Option<String>)>,
    },
    /// `/system resource monitor`: CPU load and free memory, every second (`once`: one time).
    Monitor {
        once: bool,
    },
    Quit,
}

/// What follows the command word.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// A word: `name=value` (split at the first bare `=`) or a lone word (`detail`, `0,1`).
    Word {
        name: String,
        value: Option<String>,
        at: Column,
    },
    Find {
        filter: Option<Expr>,
        at: Column,
    },
    Where {
        filter: Expr,
        at: Column,
    },
}

/// Reads a whole line typed in `current`.
pub fn parse_line(line: &str, current: &'static Menu) -> Result<Vec<Statement>, ConsoleError> {
    let tokens = lexer::lex(line)?;
    let end = Column(line.chars().count() + 1);
    let mut out = Vec::new();
    let mut menu = current;
    for (tokens, end) in split_commands(&tokens, end)? {
        let statement = statement(tokens, end, menu)?;
        if let Statement::Go(m) = statement {
            // Later commands of the line run in the menu it changed to, as in RouterOS.
            menu = m;
        }
        out.push(statement);
    }
    Ok(out)
}

/// The line's commands (separated by `;` outside brackets), each with where it ends.
fn split_commands(tokens: &[Token], end: Column) -> Result<Vec<(&[Token], Column)>, ConsoleError> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth: Vec<(char, Column)> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t.tok {
            Tok::Open(c) => depth.push((c, t.at)),
            Tok::Close(c) => match depth.pop() {
                Some((open, _)) if matches!((open, c), ('[', ']') | ('(', ')') | ('{', '}')) => {}
                _ => return Err(ConsoleError::Syntax { at: t.at }),
            },
            Tok::End if depth.is_empty() => {
                if i > start {
                    out.push((&tokens[start..i], t.at));
                }
                start = i + 1;
            }
            Tok::End => return Err(ConsoleError::Syntax { at: t.at }),
            Tok::Word { .. } => {}
        }
    }
    if let Some((_, at)) = depth.first() {
        return Err(ConsoleError::Syntax { at: *at });
    }
    if start < tokens.len() {
        out.push((&tokens[start..], end));
    }
    Ok(out)
}

fn statement(
    tokens: &[Token],
    end: Column,
    current: &'static Menu,
) -> Result<Statement, ConsoleError> {
    let mut path: Vec<&'static str> = current.path.to_vec();
    let mut i = 0;
    let mut command: Option<(String, Column)> = None;
    while let Some(token) = tokens.get(i) {
        let Some(word) = token.bare_word() else { break };
        if word.contains('=') || command.is_some() {
            break;
        }
        let mut rest = word;
        let mut offset = 0;
        if i == 0 {
            if let Some(r) = word.strip_prefix('/') {
                path.clear();
                rest = r;
                offset = 1;
            }
        }
        let segments: Vec<&str> = rest.split('/').collect();
        let last = segments.len() - 1;
        for (n, seg) in segments.iter().enumerate() {
            let at = Column(token.at.0 + offset);
            offset += seg.chars().count() + 1;
            if seg.is_empty() {
                continue;
            }
            if menu::step(&mut path, seg) {
                continue;
            }
            if n == last {
                command = Some((seg.to_string(), at));
            } else {
                return Err(ConsoleError::BadCommandName {
                    name: seg.to_string(),
                    at,
                });
            }
        }
        i += 1;
    }
    let menu = menu::find(&path).ok_or_else(|| ConsoleError::Syntax {
        at: tokens.first().map_or(end, |t| t.at),
    })?;
    let Some((verb, at)) = command else {
        return match tokens.get(i) {
            None => Ok(Statement::Go(menu)),
            // `name=value` or a bracket where a command should be.
            Some(t) => Err(match t.word() {
                Some(w) => ConsoleError::BadCommandName {
                    name: w.split('=').next().unwrap_or(w).to_string(),
                    at: t.at,
                },
                None => ConsoleError::Syntax { at: t.at },
            }),
        };
    };
    if !menu.has_command(&verb) {
        return Err(ConsoleError::BadCommandName { name: verb, at });
    }
    let parts = parts(&tokens[i..], end)?;
    Ok(Statement::Run(menu, action(menu, &verb, parts, end)?))
}

/// The words after the command.
fn parts(tokens: &[Token], end: Column) -> Result<Vec<Part>, ConsoleError> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(t) = tokens.get(i) {
        match &t.tok {
            Tok::Open('[') => {
                let close = matching(tokens, i).ok_or(ConsoleError::Syntax { at: t.at })?;
                out.push(Part::Find {
                    filter: find(&tokens[i + 1..close], t.at, tokens[close].at)?,
                    at: t.at,
                });
                i = close + 1;
            }
            Tok::Word { .. } if t.bare_word() == Some("where") => {
                out.push(Part::Where {
                    filter: query::parse(&tokens[i + 1..], end)?,
                    at: t.at,
                });
                break;
            }
            Tok::Word { text, bare } => {
                let (name, value) = match text[..*bare].find('=') {
                    Some(eq) => (text[..eq].to_string(), Some(text[eq + 1..].to_string())),
                    None => (text.clone(), None),
                };
                out.push(Part::Word {
                    name,
                    value,
                    at: t.at,
                });
                i += 1;
            }
            _ => return Err(ConsoleError::ExpectedEnd { at: t.at }),
        }
    }
    Ok(out)
}

/// The index of the `]` closing the `[` at `open`.
fn matching(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.tok {
            Tok::Open('[') => depth += 1,
            Tok::Close(']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The inside of `[ find … ]`: nothing (all items), `name=value …`, or `where …`.
fn find(inner: &[Token], open: Column, close: Column) -> Result<Option<Expr>, ConsoleError> {
    match inner.first().map(|t| (t.bare_word(), t.at)) {
        Some((Some("find"), _)) => {}
        Some((Some(w), at)) => {
            return Err(ConsoleError::BadCommandName {
                name: w.to_string(),
                at,
            })
        }
        Some((None, at)) => return Err(ConsoleError::Syntax { at }),
        None => return Err(ConsoleError::Syntax { at: open }),
    }
    let rest = &inner[1..];
    if rest.first().and_then(Token::bare_word) == Some("where") {
        return query::parse(&rest[1..], close).map(Some);
    }
    // `name=value`, `name` (a yes/no property that is yes), `!name`: all of them.
    let mut filter: Option<Expr> = None;
    for t in rest {
        if t.word().is_none() {
            return Err(ConsoleError::ExpectedEnd { at: t.at });
        }
        let term = query::parse(std::slice::from_ref(t), close)?;
        filter = Some(match filter {
            None => term,
            Some(f) => Expr::And(Box::new(f), Box::new(term)),
        });
    }
    Ok(filter)
}

/// `0,2,*1A,ether1`.
fn refs(text: &str, at: Column) -> Result<Vec<ItemRef>, ConsoleError> {
    text.split(',')
        .map(|w| {
            if w.is_empty() {
                Err(ConsoleError::Syntax { at })
            } else if w.bytes().all(|b| b.is_ascii_digit()) {
                w.parse()
                    .map(ItemRef::Number)
                    .map_err(|_| ConsoleError::NoSuchItem)
            } else if w.starts_with('*') {
                Ok(ItemRef::Id(w.to_string()))
            } else {
                Ok(ItemRef::Name(w.to_string()))
            }
        })
        .collect()
}

/// Takes the leading items (`0,1`, `[find …]`, or `numbers=…`) off `parts`.
fn take_items(parts: &mut Vec<Part>) -> Result<Option<Items>, ConsoleError> {
    let index = parts
        .iter()
        .position(|p| matches!(p, Part::Word { name, value: Some(_), .. } if name == "numbers"));
    let first = match index {
        Some(i) => parts.remove(i),
        None => match parts.first() {
            Some(Part::Find { .. }) | Some(Part::Word { value: None, .. }) => parts.remove(0),
            _ => return Ok(None),
        },
    };
    match first {
        Part::Find { filter, .. } => Ok(Some(Items::Find(filter))),
        Part::Word {
            name,
            value: None,
            at,
        } => Ok(Some(Items::Refs(refs(&name, at)?))),
        Part::Word {
            value: Some(v), at, ..
        } => Ok(Some(Items::Refs(refs(&v, at)?))),
        Part::Where { .. } => Ok(None),
    }
}

fn expected_end(part: &Part) -> ConsoleError {
    match part {
        Part::Word { at, .. } | Part::Find { at, .. } | Part::Where { at, .. } => {
            ConsoleError::ExpectedEnd { at: *at }
        }
    }
}

/// `name=value` arguments of `add`/`set`, each a name the menu takes.
fn property_args(menu: &Menu, parts: Vec<Part>) -> Result<Vec<(String, String)>, ConsoleError> {
    parts
        .into_iter()
        .map(|p| match p {
            Part::Word {
                name,
                value: Some(value),
                ..
            } if !name.is_empty() && menu.may_take(&name) => Ok((name, value)),
            other => Err(expected_end(&other)),
        })
        .collect()
}

fn action(
    menu: &'static Menu,
    verb: &str,
    mut parts: Vec<Part>,
    end: Column,
) -> Result<Action, ConsoleError> {
    let list = menu.kind == Kind::List;
    let no_more = |parts: &[Part]| match parts.first() {
        Some(p) => Err(expected_end(p)),
        None => Ok(()),
    };
    match verb {
        "print" => print(menu, parts).map(Action::Print),
        "get" => {
            let items = if list { take_items(&mut parts)? } else { None };
            let name = match parts.first() {
                Some(Part::Word {
                    name, value: None, ..
                }) => Some(name.clone()),
                Some(Part::Word {
                    name,
                    value: Some(v),
                    ..
                }) if name == "value-name" => Some(v.clone()),
                _ => None,
            };
            if name.is_some() {
                parts.remove(0);
            }
            no_more(&parts)?;
            if list && items.is_none() {
                return Err(ConsoleError::Missing {
                    what: "missing value for argument number".into(),
                    at: end,
                });
            }
            Ok(Action::Get { items, name })
        }
        "add" => Ok(Action::Add {
            args: property_args(menu, parts)?,
        }),
        "set" => {
            let items = if list {
                Some(
                    take_items(&mut parts)?.ok_or_else(|| ConsoleError::Missing {
                        what: "missing value for argument numbers".into(),
                        at: end,
                    })?,
                )
            } else {
                None
            };
            Ok(Action::Set {
                items,
                args: property_args(menu, parts)?,
            })
        }
        "remove" | "enable" | "disable" | "reset-counters" => {
            let items = take_items(&mut parts)?.ok_or_else(|| ConsoleError::Missing {
                what: "missing value for argument numbers".into(),
                at: end,
            })?;
            no_more(&parts)?;
            let verb = match verb {
                "remove" => "remove",
                "enable" => "enable",
                "disable" => "disable",
                _ => "reset-counters",
            };
            Ok(Action::OnItems { verb, items })
        }
        "unset" => {
            let items = take_items(&mut parts)?.ok_or_else(|| ConsoleError::Missing {
                what: "missing value for argument numbers".into(),
                at: end,
            })?;
            let mut names = Vec::new();
            for p in parts {
                match p {
                    Part::Word {
                        name, value: None, ..
                    } => names.push(name),
                    Part::Word {
                        name,
                        value: Some(v),
                        ..
                    } if name == "value-name" => names.extend(v.split(',').map(str::to_string)),
                    other => return Err(expected_end(&other)),
                }
            }
            if names.is_empty() {
                return Err(ConsoleError::Missing {
                    what: "missing value for argument value-name".into(),
                    at: end,
                });
            }
            Ok(Action::Unset { items, names })
        }
        "reset-counters-all" => {
            no_more(&parts)?;
            Ok(Action::ResetCountersAll)
        }
        "move" => {
            let items = take_items(&mut parts)?.ok_or_else(|| ConsoleError::Missing {
                what: "missing value for argument numbers".into(),
                at: end,
            })?;
            let destination = match parts.first() {
                Some(Part::Word {
                    name,
                    value: None,
                    at,
                }) => Some(single_ref(name, *at)?),
                Some(Part::Word {
                    name,
                    value: Some(v),
                    at,
                }) if name == "destination" => Some(single_ref(v, *at)?),
                _ => None,
            };
            if destination.is_some() {
                parts.remove(0);
            }
            no_more(&parts)?;
            Ok(Action::Move { items, destination })
        }
        "export" => {
            let mut switches = Vec::new();
            let mut file = None;
            for p in parts {
                match p {
                    Part::Word {
                        name,
                        value: Some(v),
                        ..
                    } if name == "file" => file = Some(v),
                    Part::Word {
                        name,
                        value: None,
                        at,
                    } => {
                        let known = [
                            "compact",
                            "hide-sensitive",
                            "show-sensitive",
                            "terse",
                            "verbose",
                        ]
                        .into_iter()
                        .find(|s| *s == name)
                        .ok_or(ConsoleError::ExpectedEnd { at })?;
                        switches.push(known);
                    }
                    other => return Err(expected_end(&other)),
                }
            }
            Ok(Action::Export { switches, file })
        }
        "import" => {
            let mut file = None;
            let mut args = Vec::new();
            for p in parts {
                match p {
                    Part::Word {
                        name,
                        value: Some(v),
                        ..
                    } if name == "file-name" => file = Some(v),
                    Part::Word {
                        name, value: None, ..
                    } if file.is_none() && name != "dry-run" => file = Some(name),
                    Part::Word { name, value, at } => {
                        if !matches!(name.as_str(), "verbose" | "dry-run") {
                            return Err(ConsoleError::ExpectedEnd { at });
                        }
                        args.push((name, value));
                    }
                    other => return Err(expected_end(&other)),
                }
            }
            let file = file.ok_or_else(|| ConsoleError::Missing {
                what: "missing value for argument file-name".into(),
                at: end,
            })?;
            Ok(Action::Import { file, args })
        }
        "monitor" => {
            let once = match parts.first() {
                Some(Part::Word {
                    name, value: None, ..
                }) if name == "once" => {
                    parts.remove(0);
                    true
                }
                _ => false,
            };
            no_more(&parts)?;
            Ok(Action::Monitor { once })
        }
        "quit" => {
            no_more(&parts)?;
            Ok(Action::Quit)
        }
        // A command the menu lists but the console has no meaning for: a table mistake.
        other => Err(ConsoleError::BadCommandName {
            name: other.to_string(),
            at: end,
        }),
    }
}

fn single_ref(text: &str, at: Column) -> Result<ItemRef, ConsoleError> {
    let mut refs = refs(text, at)?;
    match (refs.pop(), refs.is_empty()) {
        (Some(r), true) => Ok(r),
        _ => Err(ConsoleError::Syntax { at }),
    }
}

fn print(menu: &Menu, parts: Vec<Part>) -> Result<Print, ConsoleError> {
    let list = menu.kind == Kind::List;
    let mut p = Print::default();
    for part in parts {
        match part {
            Part::Word {
                name,
                value: None,
                at,
            } => match name.as_str() {
                "detail" if list => p.detail = true,
                "terse" if list => p.terse = true,
                "count-only" if list => p.count_only = true,
                "stats" if menu.view == View::Rules => p.stats = true,
                // The default layout; paging is the terminal's.
                "brief" | "without-paging" if list => {}
                _ => return Err(ConsoleError::ExpectedEnd { at }),
            },
            Part::Word {
                name,
                value: Some(value),
                at,
            } => match name.as_str() {
                "interval" => {
                    let d: Duration = value.parse().map_err(|_| ConsoleError::InvalidValue {
                        name: "interval".into(),
                    })?;
                    if d == Duration::ZERO {
                        return Err(ConsoleError::InvalidValue {
                            name: "interval".into(),
                        });
                    }
                    p.interval = Some(d);
                }
                "proplist" if list => {
                    p.proplist = Some(value.split(',').map(str::to_string).collect());
                }
                _ => return Err(ConsoleError::ExpectedEnd { at }),
            },
            Part::Where { filter, .. } if list => p.filter = Some(filter),
            other => return Err(expected_end(&other)),
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::query::Op;
    use super::*;

    fn root() -> &'static Menu {
        menu::find::<&str>(&[]).expect("root")
    }

    fn at(path: &[&str]) -> &'static Menu {
        menu::find(path).expect("menu")
    }

    fn one(line: &str, current: &'static Menu) -> Statement {
        let mut s = parse_line(line, current).expect("parses");
        assert_eq!(s.len(), 1, "{s:?}");
        s.remove(0)
    }

    fn err(line: &str, current: &'static Menu) -> String {
        parse_line(line, current).unwrap_err().to_string()
    }

    const CONN: &[&str] = &["ip", "firewall", "connection"];
    const TRACKING: &[&str] = &["ip", "firewall", "connection", "tracking"];
    const FILTER: &[&str] = &["ip", "firewall", "filter"];

    #[test]
    fn navigation() {
        assert_eq!(
            one("/ip firewall connection", root()),
            Statement::Go(at(CONN))
        );
        assert_eq!(
            one("ip firewall connection", root()),
            Statement::Go(at(CONN))
        );
        assert_eq!(one("..", at(CONN)), Statement::Go(at(&["ip", "firewall"])));
        assert_eq!(one(".. ..", at(CONN)), Statement::Go(at(&["ip"])));
        assert_eq!(one("/", at(CONN)), Statement::Go(root()));
        assert_eq!(one("..", root()), Statement::Go(root()));
        assert_eq!(one("tracking", at(CONN)), Statement::Go(at(TRACKING)));
        assert_eq!(
            one("/ip/firewall/filter", root()),
            Statement::Go(at(FILTER))
        );
        assert_eq!(
            one(".. filter", at(CONN)),
            Statement::Go(at(FILTER)),
            "a relative path from the parent"
        );
    }

    #[test]
    fn a_path_before_a_command_applies_to_it_alone() {
        let s = parse_line(
            "/ip firewall connection print count-only; /system resource print",
            root(),
        )
        .expect("parses");
        assert_eq!(
            s,
            [
                Statement::Run(
                    at(CONN),
                    Action::Print(Print {
                        count_only: true,
                        ..Print::default()
                    })
                ),
                Statement::Run(at(&["system", "resource"]), Action::Print(Print::default()))
            ]
        );
        assert_eq!(
            err("/ip firewall connection print; print", root()),
            "bad command name print (line 1 column 32)"
        );
        assert_eq!(
            err("print", root()),
            "bad command name print (line 1 column 1)"
        );
        assert_eq!(
            one("/ip/firewall/connection/print", root()),
            Statement::Run(at(CONN), Action::Print(Print::default()))
        );
        // A menu change earlier in the line applies to the rest of it.
        let s = parse_line("/ip firewall connection; print", root()).expect("parses");
        assert_eq!(
            s[1],
            Statement::Run(at(CONN), Action::Print(Print::default()))
        );
    }

    #[test]
    fn bad_command_names_say_where() {
        assert_eq!(err("foo", root()), "bad command name foo (line 1 column 1)");
        assert_eq!(
            err("/ip firewall foo", root()),
            "bad command name foo (line 1 column 14)"
        );
        assert_eq!(
            err("/ip/fire/connection", root()),
            "bad command name fire (line 1 column 5)"
        );
        assert_eq!(
            err("add chain=input", at(CONN)),
            "bad command name add (line 1 column 1)"
        );
        assert_eq!(
            err("udp-timeout=30s", at(TRACKING)),
            "bad command name udp-timeout (line 1 column 1)"
        );
    }

    #[test]
    fn print_options() {
        let s = one(
            "print detail interval=5s proplist=protocol,timeout where protocol=tcp",
            at(CONN),
        );
        let Statement::Run(_, Action::Print(p)) = s else {
            panic!("{s:?}")
        };
        assert!(p.detail && !p.terse && !p.count_only);
        assert_eq!(p.interval, Some(Duration::from_secs(5)));
        assert_eq!(
            p.proplist,
            Some(vec!["protocol".to_string(), "timeout".to_string()])
        );
        assert_eq!(
            p.filter,
            Some(Expr::Cmp {
                name: "protocol".into(),
                op: Op::Eq,
                value: "tcp".into()
            })
        );
        assert_eq!(
            err("print count-only", at(TRACKING)),
            "expected end of command (line 1 column 7)"
        );
        assert_eq!(
            err("print fancy", at(CONN)),
            "expected end of command (line 1 column 7)"
        );
        assert_eq!(
            err("print interval=soon", at(CONN)),
            "invalid value for argument interval"
        );
        assert!(matches!(
            one("print stats", at(FILTER)),
            Statement::Run(_, Action::Print(Print { stats: true, .. }))
        ));
    }

    #[test]
    fn set_on_settings_and_items() {
        assert_eq!(
            one("set udp-timeout=30s icmp-timeout=10s", at(TRACKING)),
            Statement::Run(
                at(TRACKING),
                Action::Set {
                    items: None,
                    args: vec![
                        ("udp-timeout".into(), "30s".into()),
                        ("icmp-timeout".into(), "10s".into())
                    ]
                }
            )
        );
        assert_eq!(
            err("set tcp-syncookie=no", at(TRACKING)),
            "expected end of command (line 1 column 5)"
        );
        assert_eq!(
            one("set 0,2,*A comment=\"x y\"", at(FILTER)),
            Statement::Run(
                at(FILTER),
                Action::Set {
                    items: Some(Items::Refs(vec![
                        ItemRef::Number(0),
                        ItemRef::Number(2),
                        ItemRef::Id("*A".into())
                    ])),
                    args: vec![("comment".into(), "x y".into())]
                }
            )
        );
        assert_eq!(
            one("disable [find where chain=input and !disabled]", at(FILTER)),
            Statement::Run(
                at(FILTER),
                Action::OnItems {
                    verb: "disable",
                    items: Items::Find(Some(Expr::And(
                        Box::new(Expr::Cmp {
                            name: "chain".into(),
                            op: Op::Eq,
                            value: "input".into()
                        }),
                        Box::new(Expr::Not(Box::new(Expr::Prop("disabled".into()))))
                    )))
                }
            )
        );
        assert_eq!(
            one("enable [find disabled chain=input]", at(FILTER)),
            Statement::Run(
                at(FILTER),
                Action::OnItems {
                    verb: "enable",
                    items: Items::Find(Some(Expr::And(
                        Box::new(Expr::Prop("disabled".into())),
                        Box::new(Expr::Cmp {
                            name: "chain".into(),
                            op: Op::Eq,
                            value: "input".into()
                        })
                    )))
                }
            )
        );
        assert_eq!(
            one("remove [find]", at(CONN)),
            Statement::Run(
                at(CONN),
                Action::OnItems {
                    verb: "remove",
                    items: Items::Find(None)
                }
            )
        );
        assert_eq!(
            one("remove numbers=1", at(CONN)),
            Statement::Run(
                at(CONN),
                Action::OnItems {
                    verb: "remove",
                    items: Items::Refs(vec![ItemRef::Number(1)])
                }
            )
        );
        assert_eq!(
            err("set chain=input", at(FILTER)),
            format!(
                "missing value for argument numbers (line 1 column {})",
                "set chain=input".len() + 1
            )
        );
        assert_eq!(
            err("remove [ find chain=input", at(FILTER)),
            "syntax error (line 1 column 8)"
        );
        assert_eq!(
            err("remove [ lookup ]", at(FILTER)),
            "bad command name lookup (line 1 column 10)"
        );
    }

    #[test]
    fn unset_names_properties() {
        assert_eq!(
            one("unset 0 log-prefix,comment", at(FILTER)),
            Statement::Run(
                at(FILTER),
                Action::Unset {
                    items: Items::Refs(vec![ItemRef::Number(0)]),
                    names: vec!["log-prefix,comment".into()]
                }
            )
        );
        assert_eq!(
            err("unset 0", at(FILTER)),
            "missing value for argument value-name (line 1 column 8)"
        );
    }

    #[test]
    fn get_export_import_quit() {
        assert_eq!(
            one("get udp-timeout", at(TRACKING)),
            Statement::Run(
                at(TRACKING),
                Action::Get {
                    items: None,
                    name: Some("udp-timeout".into())
                }
            )
        );
        assert_eq!(
            one("get 0 chain", at(FILTER)),
            Statement::Run(
                at(FILTER),
                Action::Get {
                    items: Some(Items::Refs(vec![ItemRef::Number(0)])),
                    name: Some("chain".into())
                }
            )
        );
        assert_eq!(
            one("/export file=backup_config.rsc verbose", at(CONN)),
            Statement::Run(
                root(),
                Action::Export {
                    switches: vec!["verbose"],
                    file: Some("backup_config.rsc".into())
                }
            )
        );
        assert_eq!(
            err("/export fancy", root()),
            "expected end of command (line 1 column 9)"
        );
        assert_eq!(
            one("/import file-name=x.rsc verbose=yes", at(CONN)),
            Statement::Run(
                root(),
                Action::Import {
                    file: "x.rsc".into(),
                    args: vec![("verbose".into(), Some("yes".into()))]
                }
            )
        );
        assert_eq!(
            one("/import x.rsc", root()),
            Statement::Run(
                root(),
                Action::Import {
                    file: "x.rsc".into(),
                    args: vec![]
                }
            )
        );
        assert_eq!(one("/quit", at(CONN)), Statement::Run(root(), Action::Quit));
        assert_eq!(
            one("/system resource monitor once", root()),
            Statement::Run(at(&["system", "resource"]), Action::Monitor { once: true })
        );
    }

    #[test]
    fn empty_and_comment_lines_do_nothing() {
        assert_eq!(parse_line("", root()).expect("parses"), []);
        assert_eq!(parse_line(" ; ;", root()).expect("parses"), []);
        assert_eq!(parse_line("# a note", root()).expect("parses"), []);
    }
}
