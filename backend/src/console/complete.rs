//! Tab completion: what the word under the cursor can become, from the menu tree.
//!
//! Where a path or command is expected: submenus and the menu's commands (`/ip fi` →
//! `firewall `, also in the slash form `/ip/fi` → `/ip/firewall/`). After a command: the words
//! it takes (`print` → `detail`, `count-only`, `interval=`, `where`…, `set` → the menu's
//! argument names with `=`). After `where` or `[find`: property names. Pure, so it is tested
//! without a terminal; the terminal lists the candidates on a second Tab as RouterOS does.

use super::lexer::{self, Token};
use super::menu::{self, Kind, Menu, View};

/// Where the word being completed starts (a byte offset in `line`) and what may replace it.
pub fn complete(line: &str, pos: usize, current: &'static Menu) -> (usize, Vec<String>) {
    let before = line.get(..pos).unwrap_or(line);
    let stmt_start = before.rfind(';').map_or(0, |i| i + 1);
    let stmt = &before[stmt_start..];
    let word_start = stmt
        .rfind(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | '(' | ')'))
        .map_or(0, |i| i + 1);
    let word = &stmt[word_start..];
    let start = stmt_start + word_start;
    let Ok(tokens) = lexer::lex(&stmt[..word_start]) else {
        return (start, Vec::new());
    };
    let (path, verb, after) = walk(&tokens, current);
    let mut out: Vec<String> = match verb {
        None => return complete_path(word, start, &path, tokens.is_empty()),
        Some(verb) => {
            let Some(menu) = menu::find(&path) else {
                return (start, Vec::new());
            };
            arguments(menu, &verb, &tokens[after..])
        }
    };
    out.retain(|c| c.starts_with(word));
    out.sort();
    out.dedup();
    (start, out)
}

/// The menu path the words reach, the command word if one was reached, and the index of the
/// first token after it.
fn walk(tokens: &[Token], current: &'static Menu) -> (Vec<&'static str>, Option<String>, usize) {
    let mut path: Vec<&'static str> = current.path.to_vec();
    for (i, t) in tokens.iter().enumerate() {
        let Some(word) = t.bare_word() else {
            return (path, None, i);
        };
        let mut rest = word;
        if i == 0 {
            if let Some(r) = word.strip_prefix('/') {
                path.clear();
                rest = r;
            }
        }
        for seg in rest.split('/').filter(|s| !s.is_empty()) {
            if !menu::step(&mut path, seg) {
                return (path, Some(seg.to_string()), i + 1);
            }
        }
    }
    (path, None, tokens.len())
}

/// Menus and commands for a word in path position (which may itself be a slash path).
fn complete_path(
    word: &str,
    start: usize,
    path: &[&'static str],
    first: bool,
) -> (usize, Vec<String>) {
    let mut path = path.to_vec();
    let mut prefix = String::new();
    let mut partial = word;
    if let Some(slash) = word.rfind('/') {
        // `/ip/fi`: walk the finished segments, complete the last.
        let (done, last) = word.split_at(slash + 1);
        if first && done.starts_with('/') {
            path.clear();
        }
        if !done
            .split('/')
            .filter(|s| !s.is_empty())
            .all(|seg| menu::step(&mut path, seg))
        {
            return (start, Vec::new());
        }
        prefix = done.to_string();
        partial = last;
    }
    let slash_form =
        word.contains('/') && !(word.starts_with('/') && word.matches('/').count() == 1);
    let mut out: Vec<String> = menu::children(&path)
        .into_iter()
        .map(|c| format!("{prefix}{c}{}", if slash_form { "/" } else { " " }))
        .collect();
    if let Some(m) = menu::find(&path) {
        out.extend(m.commands().into_iter().map(|c| format!("{prefix}{c} ")));
    }
    out.retain(|c| c[prefix.len()..].starts_with(partial));
    out.sort();
    out.dedup();
    (start, out)
}

/// What may follow `verb` in `menu`, given the words already typed after it.
fn arguments(menu: &Menu, verb: &str, typed: &[Token]) -> Vec<String> {
    let words: Vec<&str> = typed.iter().filter_map(Token::word).collect();
    let in_find = {
        let opens = typed
            .iter()
            .filter(|t| t.tok == lexer::Tok::Open('['))
            .count();
        let closes = typed
            .iter()
            .filter(|t| t.tok == lexer::Tok::Close(']'))
            .count();
        opens > closes
    };
    let props = || -> Vec<String> {
        let mut v: Vec<String> = menu.prop_names().into_iter().map(str::to_string).collect();
        v.extend(["and", "or", "not"].map(str::to_string));
        v
    };
    if in_find {
        return match words.last().copied() {
            _ if words.contains(&"where") => props(),
            Some("find") => {
                let mut v = vec!["where".to_string()];
                v.extend(menu.prop_names().into_iter().map(|p| format!("{p}=")));
                v
            }
            _ if typed.last().is_some_and(|t| t.tok == lexer::Tok::Open('[')) => {
                vec!["find".into()]
            }
            _ => menu
                .prop_names()
                .into_iter()
                .map(|p| format!("{p}="))
                .collect(),
        };
    }
    if words.contains(&"where") {
        return props();
    }
    let list = menu.kind == Kind::List;
    let named = |names: Vec<&str>| {
        names
            .into_iter()
            .map(|n| format!("{n}="))
            .collect::<Vec<_>>()
    };
    let plain = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    match verb {
        "print" if list => {
            let mut v = plain(&[
                "brief",
                "count-only",
                "detail",
                "terse",
                "where",
                "without-paging",
            ]);
            v.extend(named(vec!["interval", "proplist"]));
            if menu.view == View::Rules {
                v.push("stats".into());
            }
            v
        }
        "print" => named(vec!["interval"]),
        "add" | "set" => named(menu.arg_names()),
        "get" | "unset" => plain(&menu.prop_names()),
        "export" => {
            let mut v = plain(&[
                "compact",
                "hide-sensitive",
                "show-sensitive",
                "terse",
                "verbose",
            ]);
            v.push("file=".into());
            v
        }
        "import" => vec!["dry-run".into(), "file-name=".into(), "verbose=".into()],
        "monitor" => vec!["once".into()],
        "move" => vec!["destination=".into()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> &'static Menu {
        menu::find::<&str>(&[]).expect("root")
    }

    fn at(path: &[&str]) -> &'static Menu {
        menu::find(path).expect("menu")
    }

    fn c(line: &str, current: &'static Menu) -> (usize, Vec<String>) {
        complete(line, line.len(), current)
    }

    #[test]
    fn menus_and_commands() {
        assert_eq!(c("/ip fi", root()), (4, vec!["firewall ".to_string()]));
        assert_eq!(
            c("/ip firewall c", root()),
            (13, vec!["connection ".to_string()])
        );
        assert_eq!(
            c("/ip/firewall/co", root()),
            (0, vec!["/ip/firewall/connection/".to_string()])
        );
        assert_eq!(c("/sys", root()), (0, vec!["/system ".to_string()]));
        assert_eq!(
            c("", at(&["ip", "firewall", "connection"])).1,
            ["get ", "print ", "remove ", "tracking "]
        );
        assert_eq!(c("ex", root()).1, ["export "]);
        assert_eq!(c(".. f", at(&["ip", "firewall", "nat"])).1, ["filter "]);
    }

    #[test]
    fn arguments_of_commands() {
        let tracking = at(&["ip", "firewall", "connection", "tracking"]);
        assert_eq!(
            c("set udp", tracking).1,
            ["udp-stream-timeout=", "udp-timeout="]
        );
        assert_eq!(
            c("/ip firewall connection print co", root()).1,
            ["count-only"]
        );
        assert_eq!(c("print in", tracking).1, ["interval="]);
        assert_eq!(
            c("print where pro", at(&["ip", "firewall", "connection"])).1,
            ["protocol"]
        );
        assert_eq!(
            c("remove [f", at(&["ip", "firewall", "connection"])).1,
            ["find"]
        );
        assert_eq!(
            c("remove [find w", at(&["ip", "firewall", "connection"])).1,
            ["where"]
        );
        assert_eq!(c("/export sh", root()).1, ["show-sensitive"]);
        assert!(c("set udp-timeout=3", tracking).1.is_empty());
    }
}
