//! Matchers: what a rule tests, compiled to plain numbers, and the packet facts they test.
//!
//! Protocol-specific matchers follow netfilter (`xt_tcpudp`, `xt_icmp`): a port, TCP-flags or
//! ICMP matcher on a packet that does not carry that header (another protocol, a non-first
//! fragment, a header too short to read) does not match, negated or not. The `!` inverts the
//! test of the header's fields, never the question whether the header is there. So
//! `dst-port=!80` matches a TCP packet to port 443 but not an ICMP echo.
//!
//! A rule's matchers are sorted cheapest first (plain comparisons before port sets before
//! address-list probes), since the first one that fails ends the rule.

use super::address_list::ListProbe;
use super::compile::ListNames;
use super::PacketView;
use crate::conntrack::CtState;
use crate::iface::Interfaces;
use crate::wire::{IcmpMeta, L4};
use shared::config::{conn_state, Matchers, PortRange};

/// What the matchers read of one packet, worked out once per packet.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub src: u32,
    pub dst: u32,
    pub proto: u8,
    /// Source and destination port of a TCP or UDP packet.
    pub ports: Option<(u16, u16)>,
    pub tcp_flags: Option<u8>,
    /// ICMP type and code.
    pub icmp: Option<(u8, u8)>,
    /// The in- and out-interface as one bit each (no interface: no bit).
    pub in_mask: u64,
    pub out_mask: u64,
    /// The [`conn_state`] bit of the packet's state.
    pub ct: u8,
    pub nat: u8,
}

impl Facts {
    pub fn new(pkt: &PacketView) -> Facts {
        let ip = pkt.ip;
        let (ports, tcp_flags, icmp) = match ip.l4 {
            L4::Tcp(t) => (Some((t.sport, t.dport)), Some(t.flags), None),
            L4::Udp { sport, dport } => (Some((sport, dport)), None, None),
            L4::Icmp(
                IcmpMeta::Query {
                    icmp_type, code, ..
                }
                | IcmpMeta::Error {
                    icmp_type, code, ..
                }
                | IcmpMeta::Other { icmp_type, code },
            ) => (None, None, Some((icmp_type, code))),
            L4::Other | L4::Fragment | L4::Malformed(_) => (None, None, None),
        };
        let bit = |i: Option<u16>| i.map_or(0, |i| 1u64.checked_shl(u32::from(i)).unwrap_or(0));
        Facts {
            src: u32::from(ip.src),
            dst: u32::from(ip.dst),
            proto: ip.proto,
            ports,
            tcp_flags,
            icmp,
            in_mask: bit(pkt.in_iface),
            out_mask: bit(pkt.out_iface),
            ct: ct_bit(pkt.ct_state),
            nat: pkt.nat_state,
        }
    }
}

pub fn ct_bit(s: CtState) -> u8 {
    match s {
        CtState::New => conn_state::NEW,
        CtState::Established => conn_state::ESTABLISHED,
        CtState::Related => conn_state::RELATED,
        CtState::Invalid => conn_state::INVALID,
        CtState::Untracked => conn_state::UNTRACKED,
    }
}

/// Port ranges of one port matcher: a slice of the table's port arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub first: u32,
    pub len: u32,
}

/// Which port a port matcher reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSide {
    Src,
    Dst,
    /// `port=`: either.
    Any,
}

/// One compiled matcher; `neg` is RouterOS's `!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// `ipsec-policy=…,ipsec`: statewall has no IPsec.
    Never,
    Protocol {
        proto: u8,
        neg: bool,
    },
    ConnState {
        mask: u8,
        neg: bool,
    },
    NatState {
        mask: u8,
        neg: bool,
    },
    InIface {
        mask: u64,
        neg: bool,
    },
    OutIface {
        mask: u64,
        neg: bool,
    },
    SrcAddr {
        lo: u32,
        hi: u32,
        neg: bool,
    },
    DstAddr {
        lo: u32,
        hi: u32,
        neg: bool,
    },
    TcpFlags {
        set: u8,
        clear: u8,
    },
    Icmp {
        types: (u8, u8),
        codes: (u8, u8),
        neg: bool,
    },
    /// A port matcher of one range (the usual case), tested without leaving the matcher.
    Port {
        side: PortSide,
        lo: u16,
        hi: u16,
        neg: bool,
    },
    /// A port matcher of several ranges, kept in the table's port arena.
    PortSet {
        side: PortSide,
        ports: Ports,
        neg: bool,
    },
    SrcList {
        list: u16,
        neg: bool,
    },
    DstList {
        list: u16,
        neg: bool,
    },
}

impl Match {
    /// Lower runs first.
    fn cost(&self) -> u8 {
        match self {
            Match::Never => 0,
            Match::Protocol { .. }
            | Match::ConnState { .. }
            | Match::NatState { .. }
            | Match::InIface { .. }
            | Match::OutIface { .. }
            | Match::TcpFlags { .. } => 1,
            Match::SrcAddr { .. } | Match::DstAddr { .. } | Match::Icmp { .. } => 2,
            Match::Port { .. } => 2,
            Match::PortSet { .. } => 3,
            Match::SrcList { .. } | Match::DstList { .. } => 4,
        }
    }

    #[inline]
    pub fn test(&self, f: &Facts, ports: &[PortRange], lists: &ListProbe) -> bool {
        match *self {
            Match::Never => false,
            Match::Protocol { proto, neg } => (f.proto == proto) != neg,
            Match::ConnState { mask, neg } => (f.ct & mask != 0) != neg,
            Match::NatState { mask, neg } => (f.nat & mask != 0) != neg,
            Match::InIface { mask, neg } => (f.in_mask & mask != 0) != neg,
            Match::OutIface { mask, neg } => (f.out_mask & mask != 0) != neg,
            Match::SrcAddr { lo, hi, neg } => (lo <= f.src && f.src <= hi) != neg,
            Match::DstAddr { lo, hi, neg } => (lo <= f.dst && f.dst <= hi) != neg,
            Match::TcpFlags { set, clear } => f
                .tcp_flags
                .is_some_and(|fl| fl & set == set && fl & clear == 0),
            Match::Icmp { types, codes, neg } => f.icmp.is_some_and(|(t, c)| {
                ((types.0..=types.1).contains(&t) && (codes.0..=codes.1).contains(&c)) != neg
            }),
            Match::Port { side, lo, hi, neg } => f.ports.is_some_and(|(sport, dport)| {
                let has = |p: u16| lo <= p && p <= hi;
                let hit = match side {
                    PortSide::Src => has(sport),
                    PortSide::Dst => has(dport),
                    PortSide::Any => has(sport) || has(dport),
                };
                hit != neg
            }),
            Match::PortSet {
                side,
                ports: p,
                neg,
            } => f.ports.is_some_and(|(sport, dport)| {
                let set = ports
                    .get(p.first as usize..(p.first + p.len) as usize)
                    .unwrap_or(&[]);
                let has = |port: u16| set.iter().any(|r| r.contains(port));
                let hit = match side {
                    PortSide::Src => has(sport),
                    PortSide::Dst => has(dport),
                    PortSide::Any => has(sport) || has(dport),
                };
                hit != neg
            }),
            Match::SrcList { list, neg } => lists.contains(list, f.src) != neg,
            Match::DstList { list, neg } => lists.contains(list, f.dst) != neg,
        }
    }
}

/// Compiles a rule's matchers onto the end of `out`, cheapest first. An unknown interface or
/// interface list is an error: the rule is invalid.
pub fn compile(
    m: &Matchers,
    ifaces: &Interfaces,
    lists: &mut ListNames,
    out: &mut Vec<Match>,
    port_arena: &mut Vec<PortRange>,
) -> Result<(), String> {
    let start = out.len();
    let result = compile_into(m, ifaces, lists, out, port_arena);
    out[start..].sort_by_key(Match::cost);
    result
}

fn compile_into(
    m: &Matchers,
    ifaces: &Interfaces,
    lists: &mut ListNames,
    out: &mut Vec<Match>,
    port_arena: &mut Vec<PortRange>,
) -> Result<(), String> {
    if m.ipsec_policy.is_some_and(|p| p.ipsec) {
        out.push(Match::Never);
    }
    if let Some(p) = &m.protocol {
        out.push(Match::Protocol {
            proto: p.value,
            neg: p.negated,
        });
    }
    if let Some(s) = &m.connection_state {
        out.push(Match::ConnState {
            mask: s.value,
            neg: s.negated,
        });
    }
    if let Some(s) = &m.connection_nat_state {
        out.push(Match::NatState {
            mask: s.value,
            neg: s.negated,
        });
    }
    if let Some(a) = &m.src_address {
        let (lo, hi) = a.value.bounds();
        out.push(Match::SrcAddr {
            lo: lo.into(),
            hi: hi.into(),
            neg: a.negated,
        });
    }
    if let Some(a) = &m.dst_address {
        let (lo, hi) = a.value.bounds();
        out.push(Match::DstAddr {
            lo: lo.into(),
            hi: hi.into(),
            neg: a.negated,
        });
    }
    for (side, set) in [
        (PortSide::Src, &m.src_port),
        (PortSide::Dst, &m.dst_port),
        (PortSide::Any, &m.port),
    ] {
        let Some(set) = set else {
            continue;
        };
        let neg = set.negated;
        match set.value.0.as_slice() {
            [one] => out.push(Match::Port {
                side,
                lo: one.first,
                hi: one.last,
                neg,
            }),
            many => {
                let first = port_arena.len() as u32;
                port_arena.extend_from_slice(many);
                out.push(Match::PortSet {
                    side,
                    ports: Ports {
                        first,
                        len: many.len() as u32,
                    },
                    neg,
                });
            }
        }
    }
    if let Some(f) = &m.tcp_flags {
        out.push(Match::TcpFlags {
            set: f.set,
            clear: f.clear,
        });
    }
    if let Some(i) = &m.icmp_options {
        out.push(Match::Icmp {
            types: i.value.types,
            codes: i.value.codes,
            neg: i.negated,
        });
    }
    if let Some(l) = &m.src_address_list {
        out.push(Match::SrcList {
            list: lists.intern(&l.value)?,
            neg: l.negated,
        });
    }
    if let Some(l) = &m.dst_address_list {
        out.push(Match::DstList {
            list: lists.intern(&l.value)?,
            neg: l.negated,
        });
    }
    let iface = |name: &str| {
        ifaces
            .index(name)
            .map(|i| 1u64.checked_shl(u32::from(i)).unwrap_or(0))
            .ok_or_else(|| format!("unknown interface \"{name}\""))
    };
    let list = |name: &str| {
        ifaces
            .list(name)
            .ok_or_else(|| format!("unknown interface list \"{name}\""))
    };
    if let Some(i) = &m.in_interface {
        out.push(Match::InIface {
            mask: iface(&i.value)?,
            neg: i.negated,
        });
    }
    if let Some(i) = &m.out_interface {
        out.push(Match::OutIface {
            mask: iface(&i.value)?,
            neg: i.negated,
        });
    }
    if let Some(l) = &m.in_interface_list {
        out.push(Match::InIface {
            mask: list(&l.value)?,
            neg: l.negated,
        });
    }
    if let Some(l) = &m.out_interface_list {
        out.push(Match::OutIface {
            mask: list(&l.value)?,
            neg: l.negated,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firewall::address_list::AddressLists;
    use crate::firewall::tests::{icmp_echo, tcp, udp, view};
    use crate::time::Instant;
    use crate::wire::tcp_flags::{ACK, SYN};
    use shared::config::{
        nat_state, AddrMatch, IcmpOptions, Neg, PortSet, RouterConfig, TcpFlagsMatch,
    };

    /// Compiles `m` and tests it against `pkt`, with no address lists.
    fn hit(m: Matchers, pkt: &PacketView) -> bool {
        let cfg = RouterConfig::default();
        let ifs = crate::firewall::tests::ifaces();
        let (mut out, mut ports, mut names) = (Vec::new(), Vec::new(), ListNames::default());
        compile(&m, &ifs, &mut names, &mut out, &mut ports).expect("compiles");
        let lists = AddressLists::new(&cfg);
        let probe = lists.probe(&[], Instant::ZERO);
        let f = Facts::new(pkt);
        out.iter().all(|m| m.test(&f, &ports, &probe))
    }

    /// Positive, negated: one packet that matches the value and one that does not.
    fn both_ways<T: Clone>(
        set: impl Fn(&mut Matchers, Option<Neg<T>>),
        value: T,
        yes: &PacketView,
        no: &PacketView,
    ) {
        let with = |n: Neg<T>| {
            let mut m = Matchers::default();
            set(&mut m, Some(n));
            m
        };
        assert!(
            hit(with(Neg::is(value.clone())), yes),
            "positive on a match"
        );
        assert!(!hit(with(Neg::is(value.clone())), no), "positive on a miss");
        assert!(
            !hit(with(Neg::not(value.clone())), yes),
            "negated on a match"
        );
        assert!(hit(with(Neg::not(value)), no), "negated on a miss");
    }

    #[test]
    fn protocol() {
        let (t, u) = (tcp("198.51.100.10", "203.0.113.5", 40000, 80, SYN), udp(53));
        both_ways(
            |m, v| m.protocol = v,
            6u8,
            &view(&t, Some(1), Some(0), CtState::New),
            &view(&u, Some(1), Some(0), CtState::New),
        );
    }

    #[test]
    fn addresses_prefix_and_range() {
        let t = tcp("198.51.100.10", "203.0.113.5", 40000, 80, SYN);
        let o = tcp("192.0.2.7", "192.0.2.9", 40000, 80, SYN);
        let (yes, no) = (
            view(&t, Some(1), None, CtState::New),
            view(&o, Some(1), None, CtState::New),
        );
        let net = AddrMatch::parse("198.51.100.0/24").unwrap();
        both_ways(|m, v| m.src_address = v, net, &yes, &no);
        let range = AddrMatch::parse("203.0.113.1-203.0.113.5").unwrap();
        both_ways(|m, v| m.dst_address = v, range, &yes, &no);
    }

    #[test]
    fn ports_src_dst_and_either() {
        let t = tcp("198.51.100.10", "203.0.113.5", 40000, 80, SYN);
        let u = udp(53);
        let (tv, uv) = (
            view(&t, Some(1), None, CtState::New),
            view(&u, Some(1), None, CtState::New),
        );
        let web = PortSet::parse("80,443").unwrap();
        both_ways(|m, v| m.dst_port = v, web.clone(), &tv, &uv);
        let high = PortSet::parse("30000-50000").unwrap();
        both_ways(|m, v| m.src_port = v, high.clone(), &tv, &uv);
        both_ways(|m, v| m.port = v, PortSet::parse("53").unwrap(), &uv, &tv);
        both_ways(|m, v| m.port = v, high, &tv, &uv);
    }

    #[test]
    fn port_and_protocol_matchers_on_packets_without_that_header_never_match() {
        let e = icmp_echo();
        let ev = view(&e, Some(1), None, CtState::New);
        for neg in [false, true] {
            let n = |v| Neg {
                value: v,
                negated: neg,
            };
            let m = Matchers {
                dst_port: Some(n(PortSet::parse("80").unwrap())),
                ..Matchers::default()
            };
            assert!(!hit(m, &ev), "port, negated {neg}");
        }
        let t = tcp("198.51.100.10", "203.0.113.5", 40000, 80, SYN);
        let tv = view(&t, Some(1), None, CtState::New);
        for neg in [false, true] {
            let m = Matchers {
                icmp_options: Some(Neg {
                    value: IcmpOptions::parse("8").unwrap(),
                    negated: neg,
                }),
                ..Matchers::default()
            };
            assert!(!hit(m, &tv), "icmp-options, negated {neg}");
        }
        let flags = Matchers {
            tcp_flags: Some(TcpFlagsMatch::parse("syn", true).unwrap()),
            ..Matchers::default()
        };
        assert!(!hit(flags, &ev), "tcp-flags=!syn on ICMP");
    }

    #[test]
    fn tcp_flags() {
        let syn = tcp("198.51.100.10", "203.0.113.5", 40000, 80, SYN);
        let ack = tcp("198.51.100.10", "203.0.113.5", 40000, 80, ACK);
        let (s, k) = (
            view(&syn, Some(1), None, CtState::New),
            view(&ack, Some(1), None, CtState::New),
        );
        let m = |text, neg| Matchers {
            tcp_flags: Some(TcpFlagsMatch::parse(text, neg).unwrap()),
            ..Matchers::default()
        };
        assert!(hit(m("syn,!ack", false), &s));
        assert!(!hit(m("syn,!ack", false), &k));
        assert!(!hit(m("syn", true), &s), "!syn on a SYN");
        assert!(hit(m("syn", true), &k), "!syn on an ACK");
    }

    #[test]
    fn icmp_options_type_and_code() {
        let e = icmp_echo();
        let t = tcp("198.51.100.10", "203.0.113.5", 40000, 80, SYN);
        let ev = view(&e, Some(1), None, CtState::New);
        let m = |text, negated| Matchers {
            icmp_options: Some(Neg {
                value: IcmpOptions::parse(text).unwrap(),
                negated,
            }),
            ..Matchers::default()
        };
        assert!(hit(m("8:0", false), &ev));
        assert!(hit(m("8", false), &ev));
        assert!(!hit(m("8:1-255", false), &ev));
        assert!(!hit(m("0", false), &ev));
        assert!(hit(m("0", true), &ev));
        assert!(!hit(m("8", true), &ev));
        assert!(!hit(m("8", false), &view(&t, Some(1), None, CtState::New)));
    }

    #[test]
    fn interfaces_and_lists() {
        let t = tcp("198.51.100.10", "203.0.113.5", 40000, 80, SYN);
        // ether1 = 0 (WAN), ether2 = 1 (LAN), ether3 = 2.
        let lan_in = view(&t, Some(1), Some(0), CtState::New);
        let wan_in = view(&t, Some(0), Some(1), CtState::New);
        both_ways(
            |m, v| m.in_interface = v,
            "ether2".to_string(),
            &lan_in,
            &wan_in,
        );
        both_ways(
            |m, v| m.out_interface = v,
            "ether1".to_string(),
            &lan_in,
            &wan_in,
        );
        both_ways(
            |m, v| m.in_interface_list = v,
            "LAN".to_string(),
            &lan_in,
            &wan_in,
        );
        both_ways(
            |m, v| m.out_interface_list = v,
            "WAN".to_string(),
            &lan_in,
            &wan_in,
        );
        // No interface (output chain has no in-interface): the positive test is false.
        let output = view(&t, None, Some(0), CtState::New);
        let m = |negated| Matchers {
            in_interface_list: Some(Neg {
                value: "LAN".to_string(),
                negated,
            }),
            ..Matchers::default()
        };
        assert!(!hit(m(false), &output));
        assert!(hit(m(true), &output));
    }

    #[test]
    fn connection_and_nat_state() {
        let t = tcp("198.51.100.10", "203.0.113.5", 40000, 80, ACK);
        let est = view(&t, Some(1), Some(0), CtState::Established);
        let new = view(&t, Some(1), Some(0), CtState::New);
        let state = conn_state::ESTABLISHED | conn_state::RELATED;
        both_ways(|m, v| m.connection_state = v, state, &est, &new);
        let inv = view(&t, Some(1), Some(0), CtState::Invalid);
        let untracked = view(&t, Some(1), Some(0), CtState::Untracked);
        both_ways(
            |m, v| m.connection_state = v,
            conn_state::INVALID,
            &inv,
            &untracked,
        );
        let mut dnat = new;
        dnat.nat_state = nat_state::DSTNAT;
        let mut snat = new;
        snat.nat_state = nat_state::SRCNAT;
        both_ways(
            |m, v| m.connection_nat_state = v,
            nat_state::DSTNAT,
            &dnat,
            &snat,
        );
        both_ways(
            |m, v| m.connection_nat_state = v,
            nat_state::DSTNAT,
            &dnat,
            &new,
        );
    }

    #[test]
    fn ipsec_policy_none_always_ipsec_never() {
        let t = tcp("198.51.100.10", "203.0.113.5", 40000, 80, SYN);
        let v = view(&t, Some(1), Some(0), CtState::New);
        let m = |ipsec| Matchers {
            ipsec_policy: Some(shared::config::IpsecPolicy {
                outgoing: true,
                ipsec,
            }),
            ..Matchers::default()
        };
        assert!(!hit(m(true), &v));
        assert!(hit(m(false), &v));
    }

    #[test]
    fn unknown_names_are_errors_and_matchers_run_cheapest_first() {
        let ifs = crate::firewall::tests::ifaces();
        let (mut out, mut ports, mut names) = (Vec::new(), Vec::new(), ListNames::default());
        let m = Matchers {
            in_interface_list: Some(Neg::is("DMZ".to_string())),
            ..Matchers::default()
        };
        assert_eq!(
            compile(&m, &ifs, &mut names, &mut out, &mut ports),
            Err("unknown interface list \"DMZ\"".to_string())
        );
        let m = Matchers {
            out_interface: Some(Neg::is("ether9".to_string())),
            ..Matchers::default()
        };
        assert_eq!(
            compile(&m, &ifs, &mut names, &mut out, &mut ports),
            Err("unknown interface \"ether9\"".to_string())
        );
        out.clear();
        let m = Matchers {
            src_address_list: Some(Neg::is("bad".to_string())),
            dst_port: Some(Neg::is(PortSet::parse("22").unwrap())),
            protocol: Some(Neg::is(6)),
            ..Matchers::default()
        };
        compile(&m, &ifs, &mut names, &mut out, &mut ports).unwrap();
        assert!(matches!(out[0], Match::Protocol { .. }));
        assert!(matches!(out[1], Match::Port { lo: 22, hi: 22, .. }));
        assert!(matches!(out[2], Match::SrcList { .. }));
    }
}
