//! The menus statewall runs, as data: which commands each takes, which arguments, their shapes,
//! which may be negated with `!`, which `add` needs.
//!
//! Besides what statewall implements, each menu lists the RouterOS arguments it knows but does not
//! implement (verbose exports print them as `!name`, which is harmless and accepted; given a value
//! they are refused by name), and notes for names that belong to another menu or version. The
//! connection-tracking menu is not repeated here: [`crate::tracking`] owns it.

use super::shape::Shape;

/// Whether a menu holds a list of items or is one settings record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuKind {
    /// `add`, `set [ find … ]`, `remove [ find … ]`.
    List,
    /// Only `set name=value …` (e.g. `/ip settings`).
    Settings,
}

/// Where a menu's arguments are described.
#[derive(Debug, Clone, Copy)]
pub enum Args {
    /// In these tables (several, so shared groups are written once).
    Table(&'static [&'static [ArgSpec]]),
    /// In [`crate::tracking::PROPERTIES`], checked by [`crate::tracking::TrackingSettings::set`].
    Tracking,
}

#[derive(Debug, Clone, Copy)]
pub struct Menu {
    pub path: &'static [&'static str],
    pub kind: MenuKind,
    pub args: Args,
    /// RouterOS arguments of this menu that statewall does not implement.
    pub unsupported: &'static [&'static [&'static str]],
    /// Names that are not arguments here, with why: `("liberal-tcp-tracking", "RouterOS 7.20+ only")`.
    pub notes: &'static [(&'static str, &'static str)],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpec {
    pub name: &'static str,
    pub shape: Shape,
    /// Takes `name=!value` (firewall matchers).
    pub negatable: bool,
    /// `add` must give it.
    pub required: bool,
}

const fn arg(name: &'static str, shape: Shape) -> ArgSpec {
    ArgSpec {
        name,
        shape,
        negatable: false,
        required: false,
    }
}

const fn matcher(name: &'static str, shape: Shape) -> ArgSpec {
    ArgSpec {
        negatable: true,
        ..arg(name, shape)
    }
}

const fn required(name: &'static str, shape: Shape) -> ArgSpec {
    ArgSpec {
        required: true,
        ..arg(name, shape)
    }
}

const COMMENT_DISABLED: &[ArgSpec] = &[arg("comment", Shape::Text), arg("disabled", Shape::YesNo)];

pub const FILTER_ACTIONS: &[&str] = &[
    "accept",
    "add-dst-to-address-list",
    "add-src-to-address-list",
    "drop",
    "fasttrack-connection",
    "jump",
    "log",
    "passthrough",
    "reject",
    "return",
    "tarpit",
];

pub const NAT_ACTIONS: &[&str] = &[
    "accept",
    "add-dst-to-address-list",
    "add-src-to-address-list",
    "dst-nat",
    "endpoint-independent-nat",
    "jump",
    "log",
    "masquerade",
    "netmap",
    "passthrough",
    "redirect",
    "return",
    "same",
    "src-nat",
];

pub const CONNECTION_STATES: &[&str] = &["established", "invalid", "new", "related", "untracked"];
pub const CONNECTION_NAT_STATES: &[&str] = &["dstnat", "srcnat"];
pub const TCP_FLAGS: &[&str] = &["ack", "cwr", "ece", "fin", "psh", "rst", "syn", "urg"];
pub const REJECT_WITH: &[&str] = &[
    "icmp-admin-prohibited",
    "icmp-host-prohibited",
    "icmp-host-unreachable",
    "icmp-net-prohibited",
    "icmp-network-unreachable",
    "icmp-port-unreachable",
    "icmp-protocol-unreachable",
    "tcp-reset",
];

/// What filter and NAT rules share (routeros.md §8).
const RULE: &[ArgSpec] = &[
    required("chain", Shape::Name),
    arg("comment", Shape::Text),
    arg("disabled", Shape::YesNo),
    arg("log", Shape::YesNo),
    arg("log-prefix", Shape::Text),
    matcher("protocol", Shape::Protocol),
    matcher("src-address", Shape::Ipv4Match),
    matcher("dst-address", Shape::Ipv4Match),
    matcher("src-port", Shape::Ports),
    matcher("dst-port", Shape::Ports),
    matcher("port", Shape::Ports),
    matcher("in-interface", Shape::Name),
    matcher("out-interface", Shape::Name),
    matcher("in-interface-list", Shape::Name),
    matcher("out-interface-list", Shape::Name),
    matcher("src-address-list", Shape::Name),
    matcher("dst-address-list", Shape::Name),
    matcher("tcp-flags", Shape::FlagsOf(TCP_FLAGS)),
    matcher("icmp-options", Shape::IcmpOptions),
    arg("ipsec-policy", Shape::IpsecPolicy),
    arg("jump-target", Shape::Name),
    arg("address-list", Shape::Name),
    arg("address-list-timeout", Shape::AddressListTimeout),
    arg("place-before", Shape::ItemRef),
];

const FILTER_ONLY: &[ArgSpec] = &[
    arg("action", Shape::OneOf(FILTER_ACTIONS)),
    matcher("connection-state", Shape::ListOf(CONNECTION_STATES)),
    matcher("connection-nat-state", Shape::ListOf(CONNECTION_NAT_STATES)),
    arg("reject-with", Shape::OneOf(REJECT_WITH)),
];

const NAT_ONLY: &[ArgSpec] = &[
    arg("action", Shape::OneOf(NAT_ACTIONS)),
    arg("to-addresses", Shape::Ipv4Match),
    arg("to-ports", Shape::Port),
];

/// Rule matchers RouterOS v6 has for both filter and NAT that statewall does not implement
/// (field list of community.routeros `_api_data.py`).
const RULE_UNSUPPORTED: &[&str] = &[
    "connection-bytes",
    "connection-limit",
    "connection-mark",
    "connection-rate",
    "connection-type",
    "content",
    "dscp",
    "dst-address-type",
    "dst-limit",
    "fragment",
    "hotspot",
    "in-bridge-port",
    "in-bridge-port-list",
    "ingress-priority",
    "ipv4-options",
    "layer7-protocol",
    "limit",
    "nth",
    "out-bridge-port",
    "out-bridge-port-list",
    "p2p",
    "packet-mark",
    "packet-size",
    "per-connection-classifier",
    "priority",
    "psd",
    "random",
    "routing-mark",
    "routing-table",
    "src-address-type",
    "src-mac-address",
    "tcp-mss",
    "time",
    "tls-host",
    "ttl",
];

const NOT_SUPPORTED: &str = "not supported by statewall";

/// Every menu statewall runs.
pub const MENUS: &[Menu] = &[
    Menu {
        path: &["interface", "list"],
        kind: MenuKind::List,
        args: Args::Table(&[&[required("name", Shape::Name), arg("comment", Shape::Text)]]),
        unsupported: &[&["exclude", "include"]],
        notes: &[],
    },
    Menu {
        path: &["interface", "list", "member"],
        kind: MenuKind::List,
        args: Args::Table(&[
            &[
                required("list", Shape::Name),
                required("interface", Shape::Name),
            ],
            COMMENT_DISABLED,
        ]),
        unsupported: &[],
        notes: &[],
    },
    Menu {
        path: &["ip", "address"],
        kind: MenuKind::List,
        args: Args::Table(&[
            &[
                required("address", Shape::Ipv4Prefix),
                required("interface", Shape::Name),
                arg("network", Shape::Ipv4),
            ],
            COMMENT_DISABLED,
        ]),
        unsupported: &[],
        notes: &[],
    },
    Menu {
        path: &["ip", "route"],
        kind: MenuKind::List,
        args: Args::Table(&[
            &[
                arg("dst-address", Shape::Ipv4Prefix),
                required("gateway", Shape::Gateways),
                arg("distance", Shape::Integer { min: 0, max: 255 }),
            ],
            COMMENT_DISABLED,
        ]),
        unsupported: &[&[
            "bgp-as-path",
            "bgp-atomic-aggregate",
            "bgp-communities",
            "bgp-local-pref",
            "bgp-med",
            "bgp-origin",
            "bgp-prepend",
            "check-gateway",
            "pref-src",
            "route-tag",
            "routing-mark",
            "scope",
            "target-scope",
            "type",
            "vrf-interface",
        ]],
        notes: &[],
    },
    Menu {
        path: &["ip", "arp"],
        kind: MenuKind::List,
        args: Args::Table(&[
            &[
                required("address", Shape::Ipv4),
                required("mac-address", Shape::Mac),
                required("interface", Shape::Name),
            ],
            COMMENT_DISABLED,
        ]),
        unsupported: &[&["published"]],
        notes: &[],
    },
    Menu {
        path: &["ip", "firewall", "connection", "tracking"],
        kind: MenuKind::Settings,
        args: Args::Tracking,
        unsupported: &[],
        notes: &[("liberal-tcp-tracking", "RouterOS 7.20+ only")],
    },
    Menu {
        path: &["ip", "firewall", "filter"],
        kind: MenuKind::List,
        args: Args::Table(&[RULE, FILTER_ONLY]),
        unsupported: &[RULE_UNSUPPORTED, &["hw-offload"]],
        notes: &[
            ("to-addresses", "only in /ip firewall nat"),
            ("to-ports", "only in /ip firewall nat"),
        ],
    },
    Menu {
        path: &["ip", "firewall", "nat"],
        kind: MenuKind::List,
        args: Args::Table(&[RULE, NAT_ONLY]),
        unsupported: &[RULE_UNSUPPORTED, &["randomise-ports", "same-not-by-dst"]],
        notes: &[
            ("connection-state", "only in /ip firewall filter"),
            ("connection-nat-state", "only in /ip firewall filter"),
            ("reject-with", "only in /ip firewall filter"),
        ],
    },
    Menu {
        path: &["ip", "firewall", "address-list"],
        kind: MenuKind::List,
        args: Args::Table(&[
            &[
                required("list", Shape::Name),
                required("address", Shape::AddressListEntry),
                arg("timeout", Shape::Time),
            ],
            COMMENT_DISABLED,
        ]),
        unsupported: &[],
        notes: &[],
    },
    Menu {
        path: &["ip", "settings"],
        kind: MenuKind::Settings,
        args: Args::Table(&[&[
            arg("accept-redirects", Shape::YesNo),
            arg("accept-source-route", Shape::YesNo),
            arg("allow-fast-path", Shape::YesNo),
            arg("arp-timeout", Shape::Time),
            arg(
                "icmp-rate-limit",
                Shape::Integer {
                    min: 0,
                    max: 4_294_967_295,
                },
            ),
            arg("icmp-rate-mask", Shape::Mask),
            arg("ip-forward", Shape::YesNo),
            arg(
                "max-neighbor-entries",
                Shape::Integer {
                    min: 0,
                    max: 4_294_967_295,
                },
            ),
            arg("route-cache", Shape::YesNo),
            arg("rp-filter", Shape::OneOf(&["loose", "no", "strict"])),
            arg("secure-redirects", Shape::YesNo),
            arg("send-redirects", Shape::YesNo),
            arg("tcp-syncookies", Shape::YesNo),
        ]]),
        unsupported: &[],
        notes: &[],
    },
];

/// Properties `[ find … ]` may match on besides a menu's arguments: read-only ones that exports
/// select built-in items by.
pub const FIND_PROPERTIES: &[&str] = &["default", "default-name", "dynamic", "invalid"];

/// The menu at `path`, if statewall runs it.
pub fn menu<S: AsRef<str>>(path: &[S]) -> Option<&'static Menu> {
    MENUS.iter().find(|m| {
        m.path.len() == path.len() && m.path.iter().zip(path).all(|(a, b)| *a == b.as_ref())
    })
}

impl Menu {
    /// `/ip firewall filter`.
    pub fn name(&self) -> String {
        super::ast::menu_name(self.path)
    }

    /// The argument called `name` (`None` for the tracking menu, which [`crate::tracking`] checks).
    pub fn spec(&self, name: &str) -> Option<&'static ArgSpec> {
        match self.args {
            Args::Table(groups) => groups
                .iter()
                .flat_map(|g| g.iter())
                .find(|a| a.name == name),
            Args::Tracking => None,
        }
    }

    /// Names of every settable argument, in table order.
    pub fn arg_names(&self) -> Vec<&'static str> {
        match self.args {
            Args::Table(groups) => groups
                .iter()
                .flat_map(|g| g.iter())
                .map(|a| a.name)
                .collect(),
            Args::Tracking => crate::tracking::PROPERTIES
                .iter()
                .filter(|p| !p.read_only)
                .map(|p| p.name)
                .collect(),
        }
    }

    /// Required arguments of `add`.
    pub fn required(&self) -> impl Iterator<Item = &'static str> {
        let groups: &'static [&'static [ArgSpec]] = match self.args {
            Args::Table(groups) => groups,
            Args::Tracking => &[],
        };
        groups
            .iter()
            .flat_map(|g| g.iter())
            .filter(|a| a.required)
            .map(|a| a.name)
    }

    pub fn is_unsupported(&self, name: &str) -> bool {
        self.unsupported.iter().any(|g| g.contains(&name))
    }

    pub fn note(&self, name: &str) -> Option<&'static str> {
        self.notes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, note)| *note)
    }

    /// Why `name` is refused here, when it is a known RouterOS name.
    pub fn refusal(&self, name: &str) -> Option<&'static str> {
        self.note(name)
            .or_else(|| self.is_unsupported(name).then_some(NOT_SUPPORTED))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn menus_and_their_arguments_are_unique() {
        let mut paths = HashSet::new();
        for m in MENUS {
            assert!(paths.insert(m.path), "{} twice", m.name());
            let mut names = HashSet::new();
            for n in m.arg_names() {
                assert!(names.insert(n), "{n} twice in {}", m.name());
                assert!(
                    !m.is_unsupported(n),
                    "{n} both supported and not in {}",
                    m.name()
                );
                assert!(
                    m.note(n).is_none(),
                    "{n} both an argument and a note in {}",
                    m.name()
                );
            }
        }
    }

    #[test]
    fn lookup_and_tracking_comes_from_the_tracking_module() {
        let t = menu(&["ip", "firewall", "connection", "tracking"]).expect("tracking menu");
        assert_eq!(t.kind, MenuKind::Settings);
        assert!(t.arg_names().contains(&"loose-tcp-tracking"));
        assert!(!t.arg_names().contains(&"max-entries"));
        assert!(menu(&["ip", "firewall"]).is_none());
        let filter = menu(&["ip", "firewall", "filter"]).expect("filter");
        assert_eq!(filter.required().collect::<Vec<_>>(), ["chain"]);
        assert!(filter.spec("connection-state").is_some_and(|s| s.negatable));
        assert!(filter.spec("chain").is_some_and(|s| !s.negatable));
        assert_eq!(
            filter.refusal("hw-offload"),
            Some("not supported by statewall")
        );
        assert_eq!(filter.refusal("to-ports"), Some("only in /ip firewall nat"));
        assert!(menu(&["ip", "firewall", "nat"])
            .and_then(|m| m.spec("connection-state"))
            .is_none());
    }
}
