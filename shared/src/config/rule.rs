//! Firewall rules ↔ arguments, for `/ip firewall filter` and `/ip firewall nat` alike.
//!
//! One [`Rule`] type, one mapping each way ([`rule_to_args`], [`rule_from_args`]); what differs
//! between the tables (their built-in chains) is data in [`Table`]. Matchers are a table of
//! fields, each with its text form both ways, so a matcher cannot be read one way and printed
//! another. The checks are those RouterOS makes when it stores a rule, plus statewall's refusals
//! of what it does not implement.

use super::menus::{common_args, yes_no, ListMenu, Props};
use super::model::{
    conn_state, nat_state, Action, AddrRange, AddressListAdd, IpsecPolicy, Matchers, Neg,
    RejectWith, RouterConfig, Rule,
};
use super::values::{
    parse_protocol, protocol_text, AddrMatch, IcmpOptions, PortRange, PortSet, TcpFlagsMatch,
};
use crate::duration::Duration;
use crate::rsc::{Arg, ErrorKind, RscError};

/// The two rule tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Filter,
    Nat,
}

impl Table {
    /// Chains packets enter the table by; any other chain is the user's, reached by `jump`.
    fn builtin_chains(self) -> &'static [&'static str] {
        match self {
            Table::Filter => &["input", "forward", "output"],
            Table::Nat => &["srcnat", "dstnat"],
        }
    }

    fn menu_name(self) -> &'static str {
        match self {
            Table::Filter => "/ip firewall filter",
            Table::Nat => "/ip firewall nat",
        }
    }
}

/// One matcher of [`Matchers`]: its argument name and its value to and from text.
struct Field {
    name: &'static str,
    /// The value as RouterOS prints it and whether it is negated; `None` when the rule has none.
    print: fn(&Matchers) -> Option<(String, bool)>,
    /// Sets the matcher from its text (after any `!`) and negation.
    parse: fn(&mut Matchers, &str, bool) -> Result<(), String>,
}

/// A [`Field`] for a `Neg<T>` matcher, from `T`'s parse and print.
macro_rules! negatable {
    ($name:literal, $field:ident, $parse:expr, $print:expr) => {
        Field {
            name: $name,
            print: |m| m.$field.as_ref().map(|n| (($print)(&n.value), n.negated)),
            parse: |m, text, negated| {
                let value = ($parse)(text)?;
                m.$field = Some(Neg { value, negated });
                Ok(())
            },
        }
    };
}

fn name(text: &str) -> Result<String, String> {
    Ok(text.to_string())
}

/// Addresses as RouterOS stores them: a network without host bits.
fn address(text: &str) -> Result<AddrMatch, String> {
    AddrMatch::parse(text).map(AddrMatch::normalized)
}

/// Connection states in the order RouterOS prints them (`invalid,new`,
/// `established,related,new,untracked` in real exports).
const CONNECTION_STATES: &[(&str, u8)] = &[
    ("invalid", conn_state::INVALID),
    ("established", conn_state::ESTABLISHED),
    ("related", conn_state::RELATED),
    ("new", conn_state::NEW),
    ("untracked", conn_state::UNTRACKED),
];

const CONNECTION_NAT_STATES: &[(&str, u8)] =
    &[("srcnat", nat_state::SRCNAT), ("dstnat", nat_state::DSTNAT)];

fn bits(text: &str, names: &[(&str, u8)]) -> Result<u8, String> {
    text.split(',').try_fold(0, |acc, word| {
        names
            .iter()
            .find(|(n, _)| *n == word)
            .map(|(_, bit)| acc | bit)
            .ok_or_else(|| format!("\"{word}\" is not one of the states"))
    })
}

fn bits_text(bits: u8, names: &[(&str, u8)]) -> String {
    names
        .iter()
        .filter(|(_, bit)| bits & bit != 0)
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

fn ipsec_policy(text: &str) -> Result<IpsecPolicy, String> {
    let (dir, kind) = text
        .split_once(',')
        .ok_or_else(|| format!("\"{text}\" is not direction,policy"))?;
    let outgoing = match dir {
        "in" => false,
        "out" => true,
        _ => return Err(format!("\"{dir}\" is not in or out")),
    };
    let ipsec = match kind {
        "ipsec" => true,
        "none" => false,
        _ => return Err(format!("\"{kind}\" is not ipsec or none")),
    };
    Ok(IpsecPolicy { outgoing, ipsec })
}

fn ipsec_policy_text(p: IpsecPolicy) -> String {
    let dir = if p.outgoing { "out" } else { "in" };
    let kind = if p.ipsec { "ipsec" } else { "none" };
    format!("{dir},{kind}")
}

/// Every matcher, by argument name.
const FIELDS: &[Field] = &[
    negatable!(
        "protocol",
        protocol,
        parse_protocol,
        |n: &u8| protocol_text(*n)
    ),
    negatable!("src-address", src_address, address, |a: &AddrMatch| a
        .to_string()),
    negatable!("dst-address", dst_address, address, |a: &AddrMatch| a
        .to_string()),
    negatable!("src-port", src_port, PortSet::parse, |p: &PortSet| p
        .to_string()),
    negatable!("dst-port", dst_port, PortSet::parse, |p: &PortSet| p
        .to_string()),
    negatable!("port", port, PortSet::parse, |p: &PortSet| p.to_string()),
    negatable!("in-interface", in_interface, name, String::clone),
    negatable!("out-interface", out_interface, name, String::clone),
    negatable!("in-interface-list", in_interface_list, name, String::clone),
    negatable!(
        "out-interface-list",
        out_interface_list,
        name,
        String::clone
    ),
    negatable!("src-address-list", src_address_list, name, String::clone),
    negatable!("dst-address-list", dst_address_list, name, String::clone),
    negatable!(
        "connection-state",
        connection_state,
        |t| bits(t, CONNECTION_STATES),
        |b: &u8| bits_text(*b, CONNECTION_STATES)
    ),
    negatable!(
        "connection-nat-state",
        connection_nat_state,
        |t| bits(t, CONNECTION_NAT_STATES),
        |b: &u8| bits_text(*b, CONNECTION_NAT_STATES)
    ),
    // `tcp-flags=!syn,ack`: the rule-level `!` belongs to the first flag, both ways.
    Field {
        name: "tcp-flags",
        print: |m| {
            m.tcp_flags.map(|f| {
                let text = f.to_string();
                match text.strip_prefix('!') {
                    Some(rest) => (rest.to_string(), true),
                    None => (text, false),
                }
            })
        },
        parse: |m, text, negated| {
            m.tcp_flags = Some(TcpFlagsMatch::parse(text, negated)?);
            Ok(())
        },
    },
    negatable!(
        "icmp-options",
        icmp_options,
        IcmpOptions::parse,
        |i: &IcmpOptions| i.to_string()
    ),
    Field {
        name: "ipsec-policy",
        print: |m| m.ipsec_policy.map(|p| (ipsec_policy_text(p), false)),
        parse: |m, text, negated| {
            if negated {
                return Err("ipsec-policy cannot be negated".into());
            }
            m.ipsec_policy = Some(ipsec_policy(text)?);
            Ok(())
        },
    },
];

const ADD_TO_LIST: &[&str] = &["add-src-to-address-list", "add-dst-to-address-list"];

/// Arguments that belong to actions, with the actions they belong to. The model keeps them in
/// the [`Action`], so with another action they would be silently lost: they are refused.
const ACTION_ARGS: &[(&str, &[&str])] = &[
    ("jump-target", &["jump"]),
    ("address-list", ADD_TO_LIST),
    ("address-list-timeout", ADD_TO_LIST),
    ("reject-with", &["reject"]),
    ("to-addresses", &["src-nat", "dst-nat"]),
    (
        "to-ports",
        &["src-nat", "dst-nat", "masquerade", "redirect"],
    ),
];

/// RouterOS actions statewall does not implement.
const UNSUPPORTED_ACTIONS: &[&str] = &["tarpit", "netmap", "same", "endpoint-independent-nat"];

/// NAT actions tied to one built-in chain: source NAT happens after routing (`srcnat`),
/// destination NAT before it (`dstnat`), so in the other built-in chain they could never do what
/// they say. A user chain takes them; its rules run wherever it is jumped to from.
const CHAIN_OF_ACTION: &[(&str, &str)] = &[
    ("src-nat", "srcnat"),
    ("masquerade", "srcnat"),
    ("dst-nat", "dstnat"),
    ("redirect", "dstnat"),
];

const REJECT_WITH: &[(&str, RejectWith)] = &[
    ("icmp-admin-prohibited", RejectWith::IcmpAdminProhibited),
    ("icmp-host-prohibited", RejectWith::IcmpHostProhibited),
    ("icmp-host-unreachable", RejectWith::IcmpHostUnreachable),
    ("icmp-net-prohibited", RejectWith::IcmpNetProhibited),
    (
        "icmp-network-unreachable",
        RejectWith::IcmpNetworkUnreachable,
    ),
    ("icmp-port-unreachable", RejectWith::IcmpPortUnreachable),
    (
        "icmp-protocol-unreachable",
        RejectWith::IcmpProtocolUnreachable,
    ),
    ("tcp-reset", RejectWith::TcpReset),
];

fn reject_with(text: &str) -> Result<RejectWith, String> {
    REJECT_WITH
        .iter()
        .find(|(n, _)| *n == text)
        .map(|(_, r)| *r)
        .ok_or_else(|| format!("\"{text}\" is not a reject-with value"))
}

fn reject_with_text(r: RejectWith) -> &'static str {
    REJECT_WITH
        .iter()
        .find(|(_, v)| *v == r)
        .map_or("icmp-network-unreachable", |(n, _)| n)
}

/// `to-addresses=`: one address, a range, or a network (taken as its range).
fn addr_range(text: &str) -> Result<AddrRange, String> {
    let (first, last) = AddrMatch::parse(text)?.bounds();
    Ok(AddrRange { first, last })
}

fn addr_range_text(r: AddrRange) -> String {
    if r.first == r.last {
        r.first.to_string()
    } else {
        format!("{}-{}", r.first, r.last)
    }
}

const NONE_DYNAMIC: &str = "none-dynamic";

/// The arguments an action carries (its [`ACTION_ARGS`]).
fn action_args(a: &Action, out: &mut Vec<Arg>) {
    let to_ports = |out: &mut Vec<Arg>, p: &Option<PortRange>| {
        if let Some(p) = p {
            out.push(Arg::new("to-ports", p.to_string()));
        }
    };
    match a {
        Action::Jump(target) => out.push(Arg::new("jump-target", target)),
        Action::Reject(with) => out.push(Arg::new("reject-with", reject_with_text(*with))),
        Action::AddSrcToAddressList(add) | Action::AddDstToAddressList(add) => {
            out.push(Arg::new("address-list", &add.list));
            let timeout = add
                .timeout
                .map_or(NONE_DYNAMIC.to_string(), |t| t.to_string());
            out.push(Arg::new("address-list-timeout", timeout));
        }
        Action::Masquerade { to_ports: p } | Action::Redirect { to_ports: p } => to_ports(out, p),
        Action::SrcNat {
            to_addresses,
            to_ports: p,
        }
        | Action::DstNat {
            to_addresses,
            to_ports: p,
        } => {
            if let Some(r) = to_addresses {
                out.push(Arg::new("to-addresses", addr_range_text(*r)));
            }
            to_ports(out, p);
        }
        Action::Accept
        | Action::Drop
        | Action::Log
        | Action::Passthrough
        | Action::Return
        | Action::FasttrackConnection => {}
    }
}

/// The rule's action from `action=` (default accept, as in RouterOS) and the arguments it takes.
fn action_from(p: &Props, errors: &mut Vec<RscError>) -> Option<Action> {
    let name = p.text("action").unwrap_or("accept");
    if UNSUPPORTED_ACTIONS.contains(&name) {
        errors.push(p.error(
            &["action"],
            ErrorKind::NotSupported(format!("action={name}")),
        ));
        return None;
    }
    for (arg, actions) in ACTION_ARGS {
        if p.has(arg) && !actions.contains(&name) {
            errors.push(p.error(
                &[arg, "action"],
                ErrorKind::OnlyWithAction {
                    name: arg.to_string(),
                    actions,
                },
            ));
        }
    }
    let needs = |args: &'static [&'static str], errors: &mut Vec<RscError>| {
        let given = args.iter().any(|a| p.has(a));
        if !given {
            // At the action, or at the `!name` of a `set` that took the argument away.
            let at: Vec<&str> = std::iter::once("action")
                .chain(args.iter().copied())
                .collect();
            errors.push(p.error(
                &at,
                ErrorKind::ActionNeeds {
                    action: name.to_string(),
                    needs: args,
                },
            ));
        }
        given
    };
    let to_ports = |errors: &mut Vec<RscError>| p.parse("to-ports", PortRange::parse, errors);
    let to_addresses = |errors: &mut Vec<RscError>| p.parse("to-addresses", addr_range, errors);
    Some(match name {
        "accept" => Action::Accept,
        "drop" => Action::Drop,
        "log" => Action::Log,
        "passthrough" => Action::Passthrough,
        "return" => Action::Return,
        "fasttrack-connection" => Action::FasttrackConnection,
        "reject" => Action::Reject(
            p.parse("reject-with", reject_with, errors)
                .unwrap_or_default(),
        ),
        "jump" => {
            needs(&["jump-target"], errors);
            Action::Jump(p.text("jump-target")?.to_string())
        }
        "add-src-to-address-list" | "add-dst-to-address-list" => {
            needs(&["address-list"], errors);
            let add = AddressListAdd {
                list: p.text("address-list")?.to_string(),
                timeout: address_list_timeout(p, errors),
            };
            if name == "add-src-to-address-list" {
                Action::AddSrcToAddressList(add)
            } else {
                Action::AddDstToAddressList(add)
            }
        }
        "masquerade" => Action::Masquerade {
            to_ports: to_ports(errors),
        },
        "redirect" => Action::Redirect {
            to_ports: to_ports(errors),
        },
        "src-nat" => Action::SrcNat {
            to_addresses: to_addresses(errors),
            to_ports: to_ports(errors),
        },
        "dst-nat" => {
            needs(&["to-addresses", "to-ports"], errors);
            Action::DstNat {
                to_addresses: to_addresses(errors),
                to_ports: to_ports(errors),
            }
        }
        other => {
            errors.push(p.bad_value("action", other, "an action".into()));
            return None;
        }
    })
}

/// `none-dynamic` (the default) is `None`; `none-static` would write the saved configuration
/// from the packet path, which statewall does not do.
fn address_list_timeout(p: &Props, errors: &mut Vec<RscError>) -> Option<Duration> {
    match p.text("address-list-timeout")? {
        NONE_DYNAMIC => None,
        "none-static" => {
            errors.push(p.error(
                &["address-list-timeout"],
                ErrorKind::NotSupported("address-list-timeout=none-static".into()),
            ));
            None
        }
        _ => p.parse(
            "address-list-timeout",
            |t| t.parse::<Duration>().map_err(|e| e.to_string()),
            errors,
        ),
    }
}

/// Every property of the rule as RouterOS prints it, defaults included.
pub(crate) fn rule_to_args(rule: &Rule) -> Vec<Arg> {
    let mut out = vec![
        Arg::new("chain", &rule.chain),
        Arg::new("action", rule.action.name()),
    ];
    action_args(&rule.action, &mut out);
    for f in FIELDS {
        if let Some((text, negated)) = (f.print)(&rule.matchers) {
            out.push(if negated {
                Arg::negated(f.name, text)
            } else {
                Arg::new(f.name, text)
            });
        }
    }
    out.push(Arg::new("log", yes_no(rule.log)));
    out.push(Arg::new("log-prefix", &rule.log_prefix));
    common_args(&mut out, &rule.comment, Some(rule.disabled));
    out
}

/// The rule the arguments describe, with every reason RouterOS or statewall would refuse it.
pub(crate) fn rule_from_args(table: Table, id: u32, p: &Props) -> Result<Rule, Vec<RscError>> {
    let mut errors = Vec::new();
    let chain = p.required("chain", &mut errors).unwrap_or_default();
    let mut matchers = Matchers::default();
    for f in FIELDS {
        if let Some(v) = p.value(f.name) {
            if let Err(why) = (f.parse)(&mut matchers, &v.text, v.negated) {
                errors.push(p.bad_value(f.name, &v.text, why));
            }
        }
    }
    // RouterOS: ports are "applicable only if protocol is TCP or UDP".
    let tcp_or_udp = matches!(
        matchers.protocol,
        Some(Neg {
            value: 6 | 17,
            negated: false
        })
    );
    for port in ["src-port", "dst-port", "port"] {
        if p.has(port) && !tcp_or_udp {
            errors.push(p.error(
                &[port, "protocol"],
                ErrorKind::PortsNeedProtocol(port.to_string()),
            ));
        }
    }
    let action = action_from(p, &mut errors);
    if let Some(action) = &action {
        let name = action.name();
        let home = CHAIN_OF_ACTION.iter().find(|(a, _)| *a == name);
        if let Some((_, home)) = home {
            if chain != *home && table.builtin_chains().contains(&chain) {
                errors.push(p.error(
                    &["action", "chain"],
                    ErrorKind::ActionNotInChain {
                        action: name.to_string(),
                        chain: chain.to_string(),
                        menu: table.menu_name().to_string(),
                        expected: home,
                    },
                ));
            }
        }
    }
    let rule = Rule {
        id,
        chain: chain.to_string(),
        action: action.unwrap_or(Action::Accept),
        matchers,
        disabled: p.flag("disabled", &mut errors),
        log: p.flag("log", &mut errors),
        log_prefix: p.text("log-prefix").unwrap_or_default().to_string(),
        comment: p.comment(),
    };
    if errors.is_empty() {
        Ok(rule)
    } else {
        Err(errors)
    }
}

/// What a compact export leaves out of a rule.
const RULE_DEFAULTS: &[(&str, &str)] = &[
    ("address-list-timeout", NONE_DYNAMIC),
    ("comment", ""),
    ("disabled", "no"),
    ("log", "no"),
    ("log-prefix", ""),
    ("reject-with", "icmp-network-unreachable"),
];

pub(crate) struct Filter;
pub(crate) struct Nat;

macro_rules! rule_menu {
    ($menu:ident, $table:expr, $field:ident, $path:expr) => {
        impl ListMenu for $menu {
            type Item = Rule;
            const PATH: &'static [&'static str] = $path;
            const DEFAULTS: &'static [(&'static str, &'static str)] = RULE_DEFAULTS;

            fn items(cfg: &RouterConfig) -> &Vec<Rule> {
                &cfg.$field
            }
            fn items_mut(cfg: &mut RouterConfig) -> &mut Vec<Rule> {
                &mut cfg.$field
            }
            fn id(item: &Rule) -> u32 {
                item.id
            }
            fn id_mut(item: &mut Rule) -> &mut u32 {
                &mut item.id
            }
            fn to_args(item: &Rule) -> Vec<Arg> {
                rule_to_args(item)
            }
            fn from_args(id: u32, props: &Props) -> Result<Rule, Vec<RscError>> {
                rule_from_args($table, id, props)
            }
        }
    };
}

rule_menu!(Filter, Table::Filter, filter, &["ip", "firewall", "filter"]);
rule_menu!(Nat, Table::Nat, nat, &["ip", "firewall", "nat"]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsc::schema;

    #[test]
    fn tables_agree_with_the_schema() {
        let names: Vec<&str> = REJECT_WITH.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, schema::REJECT_WITH);
        let mut states: Vec<&str> = CONNECTION_STATES.iter().map(|(n, _)| *n).collect();
        states.sort_unstable();
        assert_eq!(states, schema::CONNECTION_STATES);
        let mut nat: Vec<&str> = CONNECTION_NAT_STATES.iter().map(|(n, _)| *n).collect();
        nat.sort_unstable();
        assert_eq!(nat, schema::CONNECTION_NAT_STATES);
        // Every action either maps to the model or is refused by name.
        for action in schema::FILTER_ACTIONS.iter().chain(schema::NAT_ACTIONS) {
            let args = [Arg::new("action", *action)];
            let p = Props::new(Filter::PATH, &args, &args, crate::rsc::Pos::new(1, 1));
            let mut errors = Vec::new();
            let got = action_from(&p, &mut errors);
            if UNSUPPORTED_ACTIONS.contains(action) {
                assert!(got.is_none(), "{action}");
            } else if errors.is_empty() {
                assert_eq!(got.as_ref().map(Action::name), Some(*action));
            } else {
                // Actions that need an argument say which.
                assert!(
                    matches!(errors[0].kind, ErrorKind::ActionNeeds { .. }),
                    "{action}: {errors:?}"
                );
            }
        }
    }

    #[test]
    fn every_matcher_prints_back_to_itself() {
        let args = [
            Arg::new("chain", "forward"),
            Arg::new("protocol", "6"),
            Arg::negated("src-address", "10.1.2.3/8"),
            Arg::new("dst-address", "192.0.2.1-192.0.2.9"),
            Arg::new("src-port", "1024-65535"),
            Arg::negated("dst-port", "80,443"),
            Arg::new("port", "53"),
            Arg::new("in-interface", "ether1"),
            Arg::negated("out-interface", "ether2"),
            Arg::new("in-interface-list", "WAN"),
            Arg::new("out-interface-list", "LAN"),
            Arg::new("src-address-list", "trusted"),
            Arg::negated("dst-address-list", "bogons"),
            Arg::new("connection-state", "new,invalid"),
            Arg::negated("connection-nat-state", "dstnat"),
            Arg::negated("tcp-flags", "syn,ack"),
            Arg::new("icmp-options", "3:4"),
            Arg::new("ipsec-policy", "out,none"),
        ];
        let p = Props::new(Filter::PATH, &args, &args, crate::rsc::Pos::new(1, 1));
        let rule = rule_from_args(Table::Filter, 7, &p).unwrap();
        let printed = rule_to_args(&rule);
        let text = |name: &str| {
            printed
                .iter()
                .find(|a| a.name == name)
                .and_then(|a| a.value.as_ref())
                .map(|v| format!("{}{}", if v.negated { "!" } else { "" }, v.text))
        };
        assert_eq!(text("protocol").as_deref(), Some("tcp"));
        assert_eq!(text("src-address").as_deref(), Some("!10.0.0.0/8"));
        assert_eq!(text("connection-state").as_deref(), Some("invalid,new"));
        assert_eq!(text("tcp-flags").as_deref(), Some("!syn,ack"));
        assert_eq!(text("action").as_deref(), Some("accept"));
        let again = Props::new(Filter::PATH, &printed, &printed, crate::rsc::Pos::new(1, 1));
        assert_eq!(rule_from_args(Table::Filter, 7, &again), Ok(rule));
    }
}
