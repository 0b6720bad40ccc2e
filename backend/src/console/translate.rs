//! Console commands → binary API sentences (routeros.md §5): `/ip/firewall/connection/print`,
//! `=count-only=`, `=.proplist=`, `?` queries, `=.id=*5,*6`, `=name=value`.
//!
//! Pure: the session decides which sentences to send when (an item number needs the ids of the
//! last `print`, `[find …]` needs a query first) and these functions only spell them. A switch
//! (`=count-only=`, `=verbose=`) is sent as `=name=` with an empty value, as RouterOS's own
//! clients do.

use super::menu::Menu;
use super::parse::Print;
use super::query::Expr;

/// `/ip/firewall/filter/print`.
pub fn command(menu: &Menu, verb: &str) -> String {
    let mut out = String::new();
    for seg in menu.path {
        out.push('/');
        out.push_str(seg);
    }
    out.push('/');
    out.push_str(verb);
    out
}

fn attr(name: &str, value: &str) -> String {
    format!("={name}={value}")
}

/// The `print` of a list that a console `print` shows: everything (the layouts pick what they
/// show), or, with `proplist=`, those properties plus what numbering and flags need.
pub fn print(menu: &Menu, p: &Print) -> Vec<String> {
    let mut words = vec![command(menu, "print")];
    if p.count_only {
        words.push(attr("count-only", ""));
    } else if let Some(props) = &p.proplist {
        let mut names: Vec<&str> = vec![".id"];
        for name in menu
            .flags
            .iter()
            .map(|f| f.prop)
            .chain(props.iter().map(String::as_str))
        {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        words.push(attr(".proplist", &names.join(",")));
    }
    if let Some(filter) = &p.filter {
        words.extend(filter.to_words(menu));
    }
    words
}

/// The ids of the items `filter` chooses (all items without one), in print order.
pub fn ids(menu: &Menu, filter: Option<&Expr>) -> Vec<String> {
    let mut words = vec![command(menu, "print"), attr(".proplist", ".id")];
    if let Some(filter) = filter {
        words.extend(filter.to_words(menu));
    }
    words
}

/// The id of the item called `name` (menus whose items have names: `/interface`, `/user`).
pub fn named(menu: &Menu, name: &str) -> Vec<String> {
    vec![
        command(menu, "print"),
        attr(".proplist", ".id"),
        format!("?name={name}"),
    ]
}

/// `get NAME`: one property of the item `id` (or of the settings record) as `ret`.
pub fn get(menu: &Menu, id: Option<&str>, name: &str) -> Vec<String> {
    let mut words = vec![command(menu, "get")];
    if let Some(id) = id {
        words.push(attr(".id", id));
    }
    words.push(attr("value-name", name));
    words
}

/// `get` without a name: the whole item (or settings record), printed.
pub fn get_all(menu: &Menu, id: Option<&str>) -> Vec<String> {
    let mut words = vec![command(menu, "print")];
    if let Some(id) = id {
        words.push(format!("?.id={id}"));
    }
    words
}

/// `unset`: the properties `names` of the items `ids` back to their defaults.
pub fn unset(menu: &Menu, ids: &[String], names: &[String]) -> Vec<String> {
    vec![
        command(menu, "unset"),
        attr(".id", &ids.join(",")),
        attr("value-name", &names.join(",")),
    ]
}

/// A command on items (`set`, `remove`, `enable`, `disable`, `reset-counters`), or on a
/// settings menu (`ids` is `None`), with its `name=value` arguments.
pub fn change(
    menu: &Menu,
    verb: &str,
    ids: Option<&[String]>,
    args: &[(String, String)],
) -> Vec<String> {
    let mut words = vec![command(menu, verb)];
    if let Some(ids) = ids {
        words.push(attr(".id", &ids.join(",")));
    }
    words.extend(args.iter().map(|(k, v)| attr(k, v)));
    words
}

/// `move`: the items, before `destination` (to the end without one).
pub fn move_items(menu: &Menu, ids: &[String], destination: Option<&str>) -> Vec<String> {
    let mut words = vec![command(menu, "move"), attr("numbers", &ids.join(","))];
    if let Some(d) = destination {
        words.push(attr("destination", d));
    }
    words
}

/// `export` of the menu (the root: everything) with its switches and `file=`.
pub fn export(menu: &Menu, switches: &[&str], file: Option<&str>) -> Vec<String> {
    let mut words = vec![command(menu, "export")];
    words.extend(switches.iter().map(|s| attr(s, "")));
    if let Some(f) = file {
        words.push(attr("file", f));
    }
    words
}

/// `/import file-name=…` and its other arguments (a switch without value is sent empty).
pub fn import(file: &str, args: &[(String, Option<String>)]) -> Vec<String> {
    let mut words = vec!["/import".to_string(), attr("file-name", file)];
    words.extend(
        args.iter()
            .map(|(k, v)| attr(k, v.as_deref().unwrap_or(""))),
    );
    words
}

/// What the prompt shows: `[admin@<identity>]`.
pub fn identity() -> Vec<String> {
    vec!["/system/identity/print".into()]
}

/// `/system resource monitor`'s figures.
pub fn monitor() -> Vec<String> {
    vec![
        "/system/resource/print".into(),
        attr(".proplist", "cpu-load,free-memory"),
    ]
}

/// `/login` as RouterOS 6.43+ takes it.
pub fn login(user: &str, password: &str) -> Vec<String> {
    vec![
        "/login".into(),
        attr("name", user),
        attr("password", password),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::menu;
    use super::super::query::Op;
    use super::*;

    fn m(path: &[&str]) -> &'static Menu {
        menu::find(path).expect("menu")
    }

    const CONN: &[&str] = &["ip", "firewall", "connection"];
    const TRACKING: &[&str] = &["ip", "firewall", "connection", "tracking"];
    const FILTER: &[&str] = &["ip", "firewall", "filter"];

    #[test]
    fn prints() {
        assert_eq!(
            print(m(CONN), &Print::default()),
            ["/ip/firewall/connection/print"]
        );
        let p = Print {
            count_only: true,
            filter: Some(Expr::Cmp {
                name: "protocol".into(),
                op: Op::Eq,
                value: "tcp".into(),
            }),
            ..Print::default()
        };
        assert_eq!(
            print(m(CONN), &p),
            [
                "/ip/firewall/connection/print",
                "=count-only=",
                "?protocol=tcp"
            ]
        );
        let p = Print {
            proplist: Some(vec!["chain".into(), "action".into()]),
            ..Print::default()
        };
        assert_eq!(
            print(m(FILTER), &p),
            [
                "/ip/firewall/filter/print",
                "=.proplist=.id,disabled,invalid,dynamic,chain,action"
            ]
        );
        assert_eq!(
            print(m(TRACKING), &Print::default()),
            ["/ip/firewall/connection/tracking/print"]
        );
    }

    #[test]
    fn items_and_changes() {
        assert_eq!(
            ids(m(CONN), None),
            ["/ip/firewall/connection/print", "=.proplist=.id"]
        );
        assert_eq!(
            named(m(&["interface"]), "ether1"),
            ["/interface/print", "=.proplist=.id", "?name=ether1"]
        );
        assert_eq!(
            change(
                m(TRACKING),
                "set",
                None,
                &[("udp-timeout".into(), "30s".into())]
            ),
            ["/ip/firewall/connection/tracking/set", "=udp-timeout=30s"]
        );
        assert_eq!(
            change(m(CONN), "remove", Some(&["*5".into(), "*6".into()]), &[]),
            ["/ip/firewall/connection/remove", "=.id=*5,*6"]
        );
        assert_eq!(
            change(
                m(FILTER),
                "set",
                Some(&["*1".into()]),
                &[("comment".into(), "a b".into())]
            ),
            ["/ip/firewall/filter/set", "=.id=*1", "=comment=a b"]
        );
        assert_eq!(
            move_items(m(FILTER), &["*3".into()], Some("*1")),
            ["/ip/firewall/filter/move", "=numbers=*3", "=destination=*1"]
        );
        assert_eq!(
            get(m(FILTER), Some("*3"), "chain"),
            ["/ip/firewall/filter/get", "=.id=*3", "=value-name=chain"]
        );
        assert_eq!(
            get(m(TRACKING), None, "udp-timeout"),
            [
                "/ip/firewall/connection/tracking/get",
                "=value-name=udp-timeout"
            ]
        );
        assert_eq!(
            get_all(m(FILTER), Some("*3")),
            ["/ip/firewall/filter/print", "?.id=*3"]
        );
        assert_eq!(
            unset(m(FILTER), &["*3".into()], &["log-prefix".into()]),
            [
                "/ip/firewall/filter/unset",
                "=.id=*3",
                "=value-name=log-prefix"
            ]
        );
    }

    #[test]
    fn export_import_login() {
        let root = m(&[]);
        assert_eq!(
            export(root, &["verbose", "show-sensitive"], Some("backup.rsc")),
            [
                "/export",
                "=verbose=",
                "=show-sensitive=",
                "=file=backup.rsc"
            ]
        );
        assert_eq!(
            export(m(&["ip", "firewall"]), &[], None),
            ["/ip/firewall/export"]
        );
        assert_eq!(
            import("x.rsc", &[("dry-run".into(), None)]),
            ["/import", "=file-name=x.rsc", "=dry-run="]
        );
        assert_eq!(
            login("admin", "p=w"),
            ["/login", "=name=admin", "=password=p=w"]
        );
    }
}
