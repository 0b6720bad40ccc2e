//! Which menu a path names, and what each menu takes.

use super::CommandError;
use shared::rsc::schema::{self, MenuKind};

/// A menu of the router.
#[derive(Clone, Copy, Debug)]
pub enum Menu {
    /// A menu of the configuration (`/ip/firewall/filter`, `/ip/firewall/connection/tracking`).
    Config(&'static schema::Menu),
    /// `/ip/firewall/connection`: the connection table.
    Connection,
    /// `/interface`: the ports, with counters.
    Interface,
    /// `/system/identity`.
    Identity,
    /// `/user`.
    User,
    /// `/system/scheduler`.
    Scheduler,
    /// `/ip/service` (read-only).
    Service,
    /// `/system/resource` (read-only).
    Resource,
    /// `/`: `export`.
    Root,
}

const OTHER_MENUS: &[(&[&str], Menu)] = &[
    (&["ip", "firewall", "connection"], Menu::Connection),
    (&["interface"], Menu::Interface),
    (&["system", "identity"], Menu::Identity),
    (&["user"], Menu::User),
    (&["system", "scheduler"], Menu::Scheduler),
    (&["ip", "service"], Menu::Service),
    (&["system", "resource"], Menu::Resource),
];

impl Menu {
    /// Every menu but the root, with its path.
    pub fn all() -> impl Iterator<Item = (&'static [&'static str], Menu)> {
        schema::MENUS
            .iter()
            .map(|m| (m.path, Menu::Config(m)))
            .chain(OTHER_MENUS.iter().copied())
    }

    /// The menu at exactly `path` (`[]` is the root). A path that leads nowhere is
    /// `no such command or directory (first word that does not lead anywhere)`; one that stops
    /// short of a menu (`/ip`) has no commands: `no such command (verb)`.
    pub fn find<S: AsRef<str>>(path: &[S], verb: &str) -> Result<Menu, CommandError> {
        if path.is_empty() {
            return Ok(Menu::Root);
        }
        let same =
            |p: &[&str]| p.len() == path.len() && p.iter().zip(path).all(|(a, b)| *a == b.as_ref());
        if let Some((_, menu)) = Menu::all().find(|(p, _)| same(p)) {
            return Ok(menu);
        }
        let leads = |n: usize| {
            Menu::all().any(|(p, _)| {
                p.len() > n && p[..=n].iter().zip(path).all(|(a, b)| *a == b.as_ref())
            })
        };
        match (0..path.len()).find(|&i| !leads(i)) {
            Some(i) => Err(CommandError::NoSuchDirectory(path[i].as_ref().to_string())),
            None => Err(CommandError::NoSuchCommand(verb.to_string())),
        }
    }

    /// The menu's path.
    pub fn path(self) -> &'static [&'static str] {
        match self {
            Menu::Config(m) => m.path,
            Menu::Root => &[],
            other => OTHER_MENUS
                .iter()
                .find(|(_, m)| std::mem::discriminant(m) == std::mem::discriminant(&other))
                .map_or(&[], |(p, _)| *p),
        }
    }

    /// A menu of one item (settings): printed as one object, changed by `set` alone.
    pub fn is_single(self) -> bool {
        match self {
            Menu::Config(m) => m.kind == MenuKind::Settings,
            Menu::Identity | Menu::Resource | Menu::Root => true,
            _ => false,
        }
    }

    /// The commands the menu takes (for completion, and what the executor accepts).
    pub fn verbs(self) -> &'static [&'static str] {
        match self {
            Menu::Root => &["export", "import"],
            Menu::Resource => &["print", "get"],
            Menu::Interface | Menu::Service => &["print", "get", "listen"],
            Menu::Connection => &["print", "get", "listen", "remove"],
            Menu::Identity => &["print", "get", "set"],
            Menu::Config(m) if m.kind == MenuKind::Settings => &["print", "get", "set"],
            Menu::Config(m) if matches!(m.path, ["ip", "firewall", "filter" | "nat"]) => &[
                "print",
                "get",
                "listen",
                "add",
                "set",
                "remove",
                "enable",
                "disable",
                "unset",
                "move",
                "reset-counters",
                "reset-counters-all",
            ],
            Menu::Config(_) => &[
                "print", "get", "listen", "add", "set", "remove", "enable", "disable", "unset",
                "move",
            ],
            Menu::User | Menu::Scheduler => &[
                "print", "get", "listen", "add", "set", "remove", "enable", "disable",
            ],
        }
    }

    /// Whether the menu takes `verb` (`getall` is `print`).
    pub fn takes(self, verb: &str) -> bool {
        let verb = if verb == "getall" { "print" } else { verb };
        self.verbs().contains(&verb)
    }
}

/// REST's reading of a URL path: the longest menu path `segs` starts with, followed by at most
/// one more segment (an item, or a command); how many segments the menu took. A single segment
/// that is no menu is a command of the root (`/rest/export`).
pub fn resolve_prefix(segs: &[&str]) -> Result<(Menu, usize), CommandError> {
    let best = Menu::all()
        .filter(|(path, _)| segs.len() >= path.len() && segs[..path.len()] == **path)
        .max_by_key(|(path, _)| path.len());
    match best {
        Some((path, menu)) if segs.len() <= path.len() + 1 => Ok((menu, path.len())),
        // The menu, an item, then something no menu has.
        Some((path, _)) => Err(CommandError::NoSuchDirectory(segs[path.len() + 1].into())),
        None if segs.len() <= 1 => Ok((Menu::Root, 0)),
        None => {
            let known = (0..segs.len())
                .take_while(|&i| Menu::all().any(|(p, _)| p.len() > i && p[..=i] == segs[..=i]))
                .count();
            Err(CommandError::NoSuchDirectory(
                segs.get(known).copied().unwrap_or_default().into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu_path(segs: &[&str]) -> Result<String, CommandError> {
        resolve_prefix(segs).map(|(_, len)| segs[..len].join("/"))
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
        assert_eq!(menu_path(&["export"]).unwrap(), "");
        assert_eq!(
            menu_path(&["ip", "firewall", "filter", "*1", "x"]),
            Err(CommandError::NoSuchDirectory("x".into()))
        );
        assert_eq!(
            menu_path(&["ip", "nope", "x"]),
            Err(CommandError::NoSuchDirectory("nope".into()))
        );
    }

    #[test]
    fn exact_paths_find_their_menu() {
        assert!(matches!(
            Menu::find(&["ip", "firewall", "connection"], "print"),
            Ok(Menu::Connection)
        ));
        assert!(matches!(Menu::find::<&str>(&[], "export"), Ok(Menu::Root)));
        assert_eq!(
            Menu::find(&["ip", "firewall", "nope"], "print").unwrap_err(),
            CommandError::NoSuchDirectory("nope".into())
        );
        assert_eq!(
            Menu::find(&["ip", "firewall"], "print").unwrap_err(),
            CommandError::NoSuchCommand("print".into())
        );
        assert_eq!(Menu::Connection.path(), ["ip", "firewall", "connection"]);
        assert_eq!(Menu::Resource.path(), ["system", "resource"]);
        assert!(Menu::Resource.is_single() && !Menu::User.is_single());
        let filter = Menu::find(&["ip", "firewall", "filter"], "x").unwrap();
        assert!(filter.takes("reset-counters") && filter.takes("getall"));
        let address = Menu::find(&["ip", "address"], "x").unwrap();
        assert!(!address.takes("reset-counters") && address.takes("move"));
    }
}
