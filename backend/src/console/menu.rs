//! The console's menu tree: which menus exist, which commands each takes, which arguments, and
//! how `print` lays its items out (columns, flags).
//!
//! Which commands a menu takes is the command model's ([`crate::command::Menu::verbs`]), and
//! which arguments a configuration menu takes is [`shared::rsc::schema`]'s: the tables the router
//! checks against, so completion and the console's own checks cannot disagree with it. This
//! file adds what only a terminal needs: directories (`/ip firewall`), the commands the console
//! runs itself (`/quit`, `/system resource monitor`) or sends as typed (`/import`), arguments of
//! menus outside the schema, and the layouts, which follow RouterOS's console (routeros.md §2.2,
//! §9).

use shared::rsc::schema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Holds menus only (`/ip`, `/ip firewall`); `export` exports what is under it.
    Dir,
    /// Numbered items.
    List,
    /// One record (`set udp-timeout=30s`).
    Settings,
}

/// One column of a table print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub prop: &'static str,
    /// The heading when it is not the property's name in capitals (`PR..` for `protocol`).
    pub header: Option<&'static str>,
    /// At least this wide (RouterOS's fixed widths); wider values widen it.
    pub width: usize,
    /// Numbers are right-aligned.
    pub right: bool,
}

const fn col(prop: &'static str) -> Column {
    Column {
        prop,
        header: None,
        width: 0,
        right: false,
    }
}

const fn fixed(prop: &'static str, width: usize) -> Column {
    Column { width, ..col(prop) }
}

const fn num(prop: &'static str) -> Column {
    Column {
        right: true,
        ..col(prop)
    }
}

/// A flag letter of the `Flags:` legend and the yes/no property it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    pub letter: char,
    pub prop: &'static str,
}

const fn flag(letter: char, prop: &'static str) -> Flag {
    Flag { letter, prop }
}

/// How `print` shows a menu's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Nothing to print (directories).
    None,
    /// One row per item under column headings.
    Table(&'static [Column]),
    /// Firewall rules: each rule's properties as `name=value`, chain and action first, defaults
    /// left out, wrapped under its number.
    Rules,
    /// A settings record: `name: value` lines, names right-aligned.
    Settings,
}

#[derive(Debug, Clone, Copy)]
pub struct Menu {
    pub path: &'static [&'static str],
    pub kind: Kind,
    /// Commands besides the command model's verbs for this menu.
    pub extra: &'static [&'static str],
    pub view: View,
    /// Flags of the legend, in RouterOS's order.
    pub flags: &'static [Flag],
    /// Arguments of `add`/`set` for menus outside the configuration schema.
    pub args: &'static [&'static str],
    /// Read-only properties `print` shows (for `where`, `proplist=` and completion).
    pub props: &'static [&'static str],
    /// The order `print` shows properties in (settings, `detail`, `terse`, rules), where it is
    /// not the order sent; properties not listed follow in the order sent.
    pub order: &'static [&'static str],
}

/// X, I, D: what most lists show.
const ITEM_FLAGS: &[Flag] = &[
    flag('X', "disabled"),
    flag('I', "invalid"),
    flag('D', "dynamic"),
];

/// `/ip firewall connection`'s legend (RouterOS v6, routeros.md §2.2).
const CONNECTION_FLAGS: &[Flag] = &[
    flag('E', "expected"),
    flag('S', "seen-reply"),
    flag('A', "assured"),
    flag('C', "confirmed"),
    flag('D', "dying"),
    flag('F', "fasttrack"),
    flag('s', "srcnat"),
    flag('d', "dstnat"),
];

/// routeros.md §2.2: `PR.. SRC-ADDRESS DST-ADDRESS TCP-STATE TIMEOUT`, at RouterOS's widths.
const CONNECTION_COLUMNS: &[Column] = &[
    Column {
        header: Some("PR.."),
        ..fixed("protocol", 4)
    },
    fixed("src-address", 21),
    fixed("dst-address", 21),
    fixed("tcp-state", 11),
    col("timeout"),
];

/// `print stats` of filter and NAT rules.
pub const RULE_STATS: &[Column] = &[col("chain"), col("action"), num("bytes"), num("packets")];

const fn menu(path: &'static [&'static str], kind: Kind) -> Menu {
    Menu {
        path,
        kind,
        extra: &[],
        view: match kind {
            Kind::Dir => View::None,
            Kind::List => View::Table(&[]),
            Kind::Settings => View::Settings,
        },
        flags: &[],
        args: &[],
        props: &[],
        order: &[],
    }
}

const fn table(path: &'static [&'static str], columns: &'static [Column]) -> Menu {
    Menu {
        view: View::Table(columns),
        flags: ITEM_FLAGS,
        ..menu(path, Kind::List)
    }
}

/// How RouterOS's console orders a rule's properties: chain and action, what the action
/// takes, connection state, then what the packet is matched on.
const RULE_ORDER: &[&str] = &[
    "chain",
    "action",
    "to-addresses",
    "to-ports",
    "jump-target",
    "reject-with",
    "address-list",
    "address-list-timeout",
    "connection-state",
    "connection-nat-state",
    "protocol",
    "src-address",
    "dst-address",
    "src-address-list",
    "dst-address-list",
    "in-interface",
    "out-interface",
    "in-interface-list",
    "out-interface-list",
    "src-port",
    "dst-port",
    "port",
    "tcp-flags",
    "icmp-options",
    "ipsec-policy",
    "log",
    "log-prefix",
];

/// A connection's properties in RouterOS's order (and the ones `where` can name).
const CONNECTION_ORDER: &[&str] = &[
    "protocol",
    "src-address",
    "dst-address",
    "reply-src-address",
    "reply-dst-address",
    "tcp-state",
    "icmp-type",
    "icmp-code",
    "icmp-id",
    "timeout",
    "orig-packets",
    "orig-bytes",
    "repl-packets",
    "repl-bytes",
    "orig-rate",
    "repl-rate",
];

const fn rules(path: &'static [&'static str]) -> Menu {
    Menu {
        view: View::Rules,
        flags: ITEM_FLAGS,
        props: &["bytes", "packets", "dynamic", "invalid"],
        order: RULE_ORDER,
        ..menu(path, Kind::List)
    }
}

/// Every menu the console knows.
pub const MENUS: &[Menu] = &[
    Menu {
        extra: &["import", "quit"],
        ..menu(&[], Kind::Dir)
    },
    INTERFACE,
    table(&["interface", "list"], &[col("name")]),
    table(
        &["interface", "list", "member"],
        &[col("list"), col("interface")],
    ),
    menu(&["ip"], Kind::Dir),
    table(
        &["ip", "address"],
        &[fixed("address", 18), fixed("network", 15), col("interface")],
    ),
    table(
        &["ip", "arp"],
        &[
            fixed("address", 15),
            fixed("mac-address", 17),
            col("interface"),
        ],
    ),
    menu(&["ip", "firewall"], Kind::Dir),
    table(
        &["ip", "firewall", "address-list"],
        &[col("list"), col("address"), col("timeout")],
    ),
    Menu {
        flags: CONNECTION_FLAGS,
        props: CONNECTION_ORDER,
        order: CONNECTION_ORDER,
        ..table(&["ip", "firewall", "connection"], CONNECTION_COLUMNS)
    },
    Menu {
        props: &["max-entries", "total-entries"],
        ..menu(
            &["ip", "firewall", "connection", "tracking"],
            Kind::Settings,
        )
    },
    rules(&["ip", "firewall", "filter"]),
    rules(&["ip", "firewall", "nat"]),
    table(
        &["ip", "route"],
        &[
            fixed("dst-address", 18),
            fixed("gateway", 15),
            num("distance"),
        ],
    ),
    Menu {
        props: &["name", "port", "address", "certificate"],
        flags: &[flag('X', "disabled"), flag('I', "invalid")],
        ..table(
            &["ip", "service"],
            &[col("name"), num("port"), col("address"), col("certificate")],
        )
    },
    menu(&["ip", "settings"], Kind::Settings),
    menu(&["system"], Kind::Dir),
    Menu {
        args: &["name"],
        ..menu(&["system", "identity"], Kind::Settings)
    },
    Menu {
        props: RESOURCE_ORDER,
        order: RESOURCE_ORDER,
        extra: &["monitor"],
        ..menu(&["system", "resource"], Kind::Settings)
    },
    Menu {
        args: crate::scheduler::ARGS,
        props: &["next-run", "owner", "run-count"],
        ..table(
            &["system", "scheduler"],
            &[
                col("name"),
                col("on-event"),
                col("start-date"),
                col("start-time"),
                col("interval"),
                num("run-count"),
            ],
        )
    },
    Menu {
        args: &["comment", "disabled", "group", "name", "password"],
        ..table(&["user"], &[col("name"), col("group")])
    },
];

/// `/system resource print`'s order (routeros.md §9).
const RESOURCE_ORDER: &[&str] = &[
    "uptime",
    "version",
    "build-time",
    "factory-software",
    "free-memory",
    "total-memory",
    "cpu",
    "cpu-count",
    "cpu-frequency",
    "cpu-load",
    "free-hdd-space",
    "total-hdd-space",
    "write-sect-since-reboot",
    "write-sect-total",
    "bad-blocks",
    "architecture-name",
    "board-name",
    "platform",
];

/// `/interface`'s layout (its flags differ from the other lists').
const INTERFACE: Menu = Menu {
    view: View::Table(&[
        col("name"),
        col("type"),
        num("actual-mtu"),
        col("mac-address"),
    ]),
    flags: &[
        flag('D', "dynamic"),
        flag('X', "disabled"),
        flag('R', "running"),
        flag('S', "slave"),
    ],
    props: &[
        "name",
        "default-name",
        "type",
        "mtu",
        "actual-mtu",
        "mac-address",
        "running",
        "rx-byte",
        "tx-byte",
        "rx-packet",
        "tx-packet",
    ],
    ..menu(&["interface"], Kind::List)
};

/// The menu at `path`.
pub fn find<S: AsRef<str>>(path: &[S]) -> Option<&'static Menu> {
    let same = |m: &Menu| {
        m.path.len() == path.len() && m.path.iter().zip(path).all(|(a, b)| *a == b.as_ref())
    };
    MENUS.iter().find(|m| same(m))
}

/// Names of the menus directly under `path`, sorted.
pub fn children<S: AsRef<str>>(path: &[S]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = MENUS
        .iter()
        .filter(|m| {
            m.path.len() == path.len() + 1 && m.path.iter().zip(path).all(|(a, b)| *a == b.as_ref())
        })
        .filter_map(|m| m.path.last().copied())
        .collect();
    out.sort_unstable();
    out
}

/// A menu is its path.
impl PartialEq for Menu {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

/// One step of a path typed from `path`: `..` goes up (not past the root), a submenu's name goes
/// into it. False, and `path` as it was, for a word that is neither (a command, or a mistake).
pub fn step(path: &mut Vec<&'static str>, word: &str) -> bool {
    if word == ".." {
        path.pop();
        return true;
    }
    match children(path).into_iter().find(|c| *c == word) {
        Some(child) => {
            path.push(child);
            true
        }
        None => false,
    }
}

impl Menu {
    /// `/ip firewall filter`.
    pub fn name(&self) -> String {
        shared::rsc::ast::menu_name(self.path)
    }

    /// The configuration schema's menu, for menus of the saved configuration.
    pub fn schema(&self) -> Option<&'static schema::Menu> {
        schema::menu(self.path)
    }

    /// The commands the console takes here: the command model's verbs for the menu (but
    /// `listen`, a stream for programs), and the console's own.
    pub fn commands(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = crate::command::Menu::find(self.path, "")
            .map(|m| m.verbs().to_vec())
            .unwrap_or_default();
        out.retain(|v| *v != "listen");
        out.extend(self.extra);
        out.sort_unstable();
        out.dedup();
        out
    }

    pub fn has_command(&self, name: &str) -> bool {
        self.commands().contains(&name)
    }

    /// Arguments `add` and `set` take.
    pub fn arg_names(&self) -> Vec<&'static str> {
        let mut names = self.schema().map(|m| m.arg_names()).unwrap_or_default();
        names.extend(self.args.iter().copied());
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Whether `name` may be given to `add`/`set`, as far as the console can tell. Names the
    /// router knows but refuses (read-only, not supported by statewall) pass, so the router's
    /// own message explains; only names nobody knows are the console's `expected end of command`.
    pub fn may_take(&self, name: &str) -> bool {
        if self.schema().is_none() && self.args.is_empty() {
            // A menu whose arguments the console does not know: the router decides.
            return true;
        }
        self.arg_names().contains(&name)
            || self.props.contains(&name)
            || self.flags.iter().any(|f| f.prop == name)
            || self.schema().is_some_and(|m| m.refusal(name).is_some())
            || (self.path == ["ip", "firewall", "connection", "tracking"]
                && shared::tracking::PROPERTIES.iter().any(|p| p.name == name))
    }

    /// Every property `print` may show: for `where`, `proplist=` and completion.
    pub fn prop_names(&self) -> Vec<&'static str> {
        let mut names = self.arg_names();
        names.extend(self.props.iter().copied());
        names.extend(self.flags.iter().map(|f| f.prop));
        if let View::Table(cols) = self.view {
            names.extend(cols.iter().map(|c| c.prop));
        }
        if self.path == ["ip", "firewall", "connection", "tracking"] {
            names.extend(shared::tracking::PROPERTIES.iter().map(|p| p.name));
        }
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Whether the property is a yes/no one (a flag, or a `YesNo` argument): a bare `where
    /// disabled` tests it for yes.
    pub fn is_yes_no(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f.prop == name)
            || matches!(name, "disabled" | "dynamic" | "invalid" | "running")
            || self
                .schema()
                .and_then(|m| m.spec(name))
                .is_some_and(|s| s.shape == shared::rsc::shape::Shape::YesNo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_and_commands() {
        assert_eq!(children::<&str>(&[]), ["interface", "ip", "system", "user"]);
        assert_eq!(
            children(&["ip", "firewall"]),
            ["address-list", "connection", "filter", "nat"]
        );
        assert_eq!(children(&["ip", "firewall", "connection"]), ["tracking"]);
        assert_eq!(children(&["interface"]), ["list"]);
        let conn = find(&["ip", "firewall", "connection"]).expect("connection");
        assert!(conn.has_command("remove") && !conn.has_command("add"));
        assert_eq!(find(&["interface"]).map(|m| m.flags[2].letter), Some('R'));
        assert!(find(&["ip", "nope"]).is_none());
    }

    #[test]
    fn steps() {
        let mut path = vec![];
        assert!(step(&mut path, "ip") && step(&mut path, "firewall"));
        assert!(!step(&mut path, "print"));
        assert_eq!(path, ["ip", "firewall"]);
        assert!(step(&mut path, "..") && step(&mut path, "..") && step(&mut path, ".."));
        assert!(path.is_empty());
    }

    #[test]
    fn arguments_come_from_the_schema() {
        let tracking = find(&["ip", "firewall", "connection", "tracking"]).expect("tracking");
        assert!(tracking.arg_names().contains(&"udp-timeout"));
        assert!(
            tracking.may_take("max-entries"),
            "read-only: the router says so"
        );
        assert!(!tracking.may_take("tcp-syncookie"));
        let filter = find(&["ip", "firewall", "filter"]).expect("filter");
        assert!(filter.may_take("chain") && filter.may_take("hw-offload"));
        assert!(!filter.may_take("chian"));
        assert!(filter.is_yes_no("disabled") && !filter.is_yes_no("chain"));
        let scheduler = find(&["system", "scheduler"]).expect("scheduler");
        assert!(scheduler.may_take("on-event") && !scheduler.may_take("bogus"));
        let conn = find(&["ip", "firewall", "connection"]).expect("connection");
        assert!(conn.prop_names().contains(&"seen-reply"));
        assert!(conn.is_yes_no("assured"));
    }
}
