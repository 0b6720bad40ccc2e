//! Whole-ruleset tests on literal packets: actions, chains, counters, address lists, logging,
//! NAT decisions and RouterOS's default configuration. Test helpers for the module's files.

use super::*;
use crate::iface::Interfaces;
use crate::wire::build::{icmp_echo_frame, tcp_frame, udp_frame, TcpSpec, CLIENT_MAC};
use crate::wire::tcp_flags::{ACK, SYN};
use crate::wire::{parse_ethernet_ipv4, ParseOptions};
use shared::config::{
    conn_state, nat_state, Action, AddrMatch, AddressListAdd, AddressListEntry, AddressListTarget,
    InterfaceList, IpsecPolicy, ListMember, Matchers, Neg, PortSet, RouterConfig, Rule,
};
use shared::duration::Duration;
use std::net::Ipv4Addr;

// ---- helpers ---------------------------------------------------------------------------------

pub fn a(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

/// ether1 (index 0, list WAN), ether2 (1, LAN), ether3 (2, no list).
pub fn ifaces() -> Interfaces {
    Interfaces::new(["ether1", "ether2", "ether3"]).with_lists(&lists_cfg())
}

fn lists_cfg() -> RouterConfig {
    let mut cfg = RouterConfig::default();
    for (id, name) in [(1, "LAN"), (2, "WAN")] {
        cfg.interface_lists.push(InterfaceList {
            id,
            name: name.into(),
            comment: None,
        });
    }
    for (id, list, interface) in [(1, "LAN", "ether2"), (2, "WAN", "ether1")] {
        cfg.list_members.push(ListMember {
            id,
            list: list.into(),
            interface: interface.into(),
            disabled: false,
            comment: None,
        });
    }
    cfg
}

pub fn rule(id: u32, chain: &str, action: Action) -> Rule {
    Rule {
        id,
        chain: chain.into(),
        action,
        matchers: Matchers::default(),
        disabled: false,
        log: false,
        log_prefix: String::new(),
        comment: None,
    }
}

/// `rule` with matchers.
fn rule_m(id: u32, chain: &str, action: Action, matchers: Matchers) -> Rule {
    Rule {
        matchers,
        ..rule(id, chain, action)
    }
}

fn parse(frame: &[u8]) -> Ipv4Meta {
    parse_ethernet_ipv4(frame, ParseOptions::default())
        .expect("test frame parses")
        .expect("test frame is IPv4")
        .1
}

pub fn tcp(src: &str, dst: &str, sport: u16, dport: u16, flags: u8) -> Ipv4Meta {
    parse(&tcp_frame(
        a(src),
        a(dst),
        TcpSpec {
            sport,
            dport,
            flags,
            ..TcpSpec::default()
        },
    ))
}

/// 198.51.100.10:5000 -> 203.0.113.2:`dport`, one byte of payload.
pub fn udp(dport: u16) -> Ipv4Meta {
    parse(&udp_frame(
        a("198.51.100.10"),
        a("203.0.113.2"),
        5000,
        dport,
        b"q",
    ))
}

/// Echo request 198.51.100.10 -> 203.0.113.2.
pub fn icmp_echo() -> Ipv4Meta {
    parse(&icmp_echo_frame(
        a("198.51.100.10"),
        a("203.0.113.2"),
        8,
        7,
        1,
    ))
}

pub fn view(
    ip: &Ipv4Meta,
    in_iface: Option<u16>,
    out_iface: Option<u16>,
    ct: CtState,
) -> PacketView<'_> {
    PacketView {
        ip,
        in_iface,
        out_iface,
        ct_state: ct,
        nat_state: 0,
        src_mac: None,
    }
}

const WAN: u16 = 0;
const LAN: u16 = 1;

fn cfg_with(filter: Vec<Rule>, nat: Vec<Rule>) -> RouterConfig {
    RouterConfig {
        filter,
        nat,
        ..lists_cfg()
    }
}

struct Fw {
    rs: Ruleset,
    st: FirewallState,
}

impl Fw {
    fn new(cfg: &RouterConfig) -> Fw {
        Fw {
            rs: Ruleset::compile(cfg, &ifaces(), None),
            st: FirewallState::new(cfg),
        }
    }

    fn filter(&mut self, now: Instant, hook: Hook, pkt: &PacketView) -> FilterVerdict {
        self.rs.filter(&mut self.st, now, hook, pkt)
    }

    fn nat(&mut self, now: Instant, hook: NatHook, pkt: &PacketView) -> Option<NatTarget> {
        self.rs.nat(&mut self.st, now, hook, pkt)
    }

    /// (packets, bytes) of filter rule `id`.
    fn count(&self, id: u32) -> (u64, u64) {
        self.count_in(TableKind::Filter, id)
    }

    fn count_in(&self, table: TableKind, id: u32) -> (u64, u64) {
        let s = self
            .rs
            .stats()
            .into_iter()
            .find(|s| s.table == table && s.id == id)
            .expect("rule exists");
        (s.packets, s.bytes)
    }
}

fn m_proto(p: u8) -> Matchers {
    Matchers {
        protocol: Some(Neg::is(p)),
        ..Matchers::default()
    }
}

fn m_dport(p: &str) -> Matchers {
    Matchers {
        protocol: Some(Neg::is(6)),
        dst_port: Some(Neg::is(PortSet::parse(p).expect("ports"))),
        ..Matchers::default()
    }
}

const T0: Instant = Instant::from_secs(1_000);

fn syn() -> Ipv4Meta {
    tcp("198.51.100.10", "203.0.113.5", 40000, 80, SYN)
}

// ---- actions ---------------------------------------------------------------------------------

#[test]
fn terminal_actions_decide() {
    use shared::config::RejectWith;
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    let cases = [
        (Action::Accept, FilterVerdict::Accept),
        (Action::Drop, FilterVerdict::Drop),
        (
            Action::Reject(RejectWith::TcpReset),
            FilterVerdict::Reject(RejectWith::TcpReset),
        ),
        (
            Action::Reject(RejectWith::default()),
            FilterVerdict::Reject(RejectWith::IcmpNetworkUnreachable),
        ),
        (Action::FasttrackConnection, FilterVerdict::Accept),
    ];
    for (action, want) in cases {
        let cfg = cfg_with(
            vec![
                rule(1, "forward", action.clone()),
                rule(2, "forward", Action::Drop),
            ],
            vec![],
        );
        let mut fw = Fw::new(&cfg);
        assert_eq!(fw.filter(T0, Hook::Forward, &v), want, "{action:?}");
        assert_eq!(fw.count(2), (0, 0), "{action:?} ends the walk");
    }
}

#[test]
fn empty_base_chain_accepts_and_hooks_are_separate() {
    let cfg = cfg_with(vec![rule(1, "input", Action::Drop)], vec![]);
    let mut fw = Fw::new(&cfg);
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(fw.filter(T0, Hook::Forward, &v), FilterVerdict::Accept);
    assert_eq!(fw.filter(T0, Hook::Output, &v), FilterVerdict::Accept);
    assert_eq!(fw.filter(T0, Hook::Input, &v), FilterVerdict::Drop);
}

#[test]
fn log_and_passthrough_count_and_go_on() {
    let mut logged = rule(2, "forward", Action::Log);
    logged.log_prefix = "seen".into();
    let cfg = cfg_with(
        vec![
            rule(1, "forward", Action::Passthrough),
            logged,
            rule_m(3, "forward", Action::Drop, m_dport("80")),
        ],
        vec![],
    );
    let mut fw = Fw::new(&cfg);
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(fw.filter(T0, Hook::Forward, &v), FilterVerdict::Drop);
    for id in 1..=3 {
        assert_eq!(fw.count(id), (1, 40), "rule {id}");
    }
    let logs = fw.st.drain_logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].time, T0);
    assert!(logs[0]
        .text
        .starts_with("seen forward: in:ether2 out:ether1,"));
}

#[test]
fn log_yes_on_a_terminal_rule_writes_the_routeros_line() {
    let mut r = rule_m(7, "forward", Action::Drop, m_dport("80"));
    r.log = true;
    r.log_prefix = "BLOCKED".into();
    let cfg = cfg_with(vec![r], vec![]);
    let mut fw = Fw::new(&cfg);
    let s = parse(&tcp_frame(
        a("198.51.100.10"),
        a("203.0.113.5"),
        TcpSpec {
            sport: 40000,
            dport: 80,
            flags: SYN,
            wscale: Some(7),
            sack_perm: true,
            ..TcpSpec::default()
        },
    ));
    let mut v = view(&s, Some(LAN), Some(WAN), CtState::New);
    v.src_mac = Some(CLIENT_MAC);
    assert_eq!(fw.filter(T0, Hook::Forward, &v), FilterVerdict::Drop);
    let logs = fw.st.drain_logs();
    assert_eq!(
        logs[0].text,
        "BLOCKED forward: in:ether2 out:ether1, connection-state:new src-mac 02:00:00:00:01:10, \
         proto TCP (SYN), 198.51.100.10:40000->203.0.113.5:80, len 48"
    );
    assert!(fw.st.drain_logs().is_empty(), "drained");
}

#[test]
fn log_lines_are_rate_limited_and_counted() {
    let cfg = cfg_with(vec![rule(1, "forward", Action::Log)], vec![]);
    let mut fw = Fw::new(&cfg);
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    for _ in 0..250 {
        fw.filter(T0, Hook::Forward, &v);
    }
    assert_eq!(fw.st.drain_logs().len(), log::LOG_BURST as usize);
    assert_eq!(fw.st.logs_suppressed(), 150);
    assert_eq!(fw.count(1).0, 250, "counting is not rate limited");
    fw.filter(Instant::from_millis(1_000_100), Hook::Forward, &v);
    assert_eq!(fw.st.drain_logs().len(), 1, "refilled after 100 ms");
}

// ---- chains ----------------------------------------------------------------------------------

#[test]
fn jump_return_and_falling_off_a_user_chain() {
    // forward: jump tcp -> "tcp"; then drop udp; accept rest.
    // tcp: return for port 22; drop port 80; falls off otherwise.
    let cfg = cfg_with(
        vec![
            rule_m(1, "forward", Action::Jump("tcp".into()), m_proto(6)),
            rule_m(2, "forward", Action::Drop, m_proto(17)),
            rule(3, "forward", Action::Passthrough),
            rule_m(10, "tcp", Action::Return, m_dport("22")),
            rule_m(11, "tcp", Action::Drop, m_dport("80")),
            rule(12, "tcp", Action::Passthrough),
        ],
        vec![],
    );
    let mut fw = Fw::new(&cfg);
    let web = syn();
    let ssh = tcp("198.51.100.10", "203.0.113.5", 40000, 22, SYN);
    let other = tcp("198.51.100.10", "203.0.113.5", 40000, 25, SYN);
    let dns = udp(53);
    let fwd = |ip| view(ip, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(
        fw.filter(T0, Hook::Forward, &fwd(&web)),
        FilterVerdict::Drop
    );
    assert_eq!(
        fw.filter(T0, Hook::Forward, &fwd(&ssh)),
        FilterVerdict::Accept
    );
    assert_eq!(
        fw.filter(T0, Hook::Forward, &fwd(&other)),
        FilterVerdict::Accept
    );
    assert_eq!(
        fw.filter(T0, Hook::Forward, &fwd(&dns)),
        FilterVerdict::Drop
    );
    assert_eq!(fw.count(1).0, 3, "jump counted for each TCP packet");
    assert_eq!(fw.count(10).0, 1);
    assert_eq!(fw.count(12).0, 1, "only the packet that fell off the chain");
    assert_eq!(
        fw.count(3).0,
        2,
        "return and fall-off both come back after the jump"
    );
}

#[test]
fn return_in_a_base_chain_accepts() {
    let cfg = cfg_with(
        vec![
            rule(1, "forward", Action::Return),
            rule(2, "forward", Action::Drop),
        ],
        vec![],
    );
    let mut fw = Fw::new(&cfg);
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(fw.filter(T0, Hook::Forward, &v), FilterVerdict::Accept);
}

#[test]
fn disabled_and_invalid_rules_are_skipped() {
    let mut off = rule(1, "forward", Action::Drop);
    off.disabled = true;
    let bad_list = rule_m(
        2,
        "forward",
        Action::Drop,
        Matchers {
            in_interface_list: Some(Neg::is("DMZ".into())),
            ..Matchers::default()
        },
    );
    let bad_if = rule_m(
        3,
        "forward",
        Action::Drop,
        Matchers {
            out_interface: Some(Neg::not("wlan1".into())),
            ..Matchers::default()
        },
    );
    let bad_jump = rule(4, "forward", Action::Jump("nowhere".into()));
    let cfg = cfg_with(vec![off, bad_list, bad_if, bad_jump], vec![]);
    let mut fw = Fw::new(&cfg);
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(fw.filter(T0, Hook::Forward, &v), FilterVerdict::Accept);
    let reasons: Vec<Option<String>> = fw.rs.stats().into_iter().map(|s| s.invalid).collect();
    assert_eq!(
        reasons,
        [
            None,
            Some("unknown interface list \"DMZ\"".into()),
            Some("unknown interface \"wlan1\"".into()),
            Some("unknown jump target \"nowhere\"".into()),
        ]
    );
    assert!(fw.rs.stats().iter().all(|s| s.packets == 0));
}

#[test]
fn a_jump_loop_is_invalid_and_the_rest_still_runs() {
    let cfg = cfg_with(
        vec![
            rule(1, "forward", Action::Jump("a".into())),
            rule(2, "a", Action::Jump("b".into())),
            rule(3, "b", Action::Jump("a".into())),
            rule(4, "b", Action::Drop),
        ],
        vec![],
    );
    let mut fw = Fw::new(&cfg);
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(fw.filter(T0, Hook::Forward, &v), FilterVerdict::Drop);
    assert!(fw.rs.stats()[2].invalid.is_some());
    assert_eq!(fw.count(3).0, 0);
}

#[test]
fn jumps_deeper_than_the_cap_are_not_taken() {
    // forward -> c0 -> c1 -> ... -> c19, and c19 drops: 20 nested jumps.
    let mut rules = vec![rule(1, "forward", Action::Jump("c0".into()))];
    for i in 0..19u32 {
        rules.push(rule(
            10 + i,
            &format!("c{i}"),
            Action::Jump(format!("c{}", i + 1)),
        ));
    }
    rules.push(rule(100, "c19", Action::Drop));
    let cfg = cfg_with(rules, vec![]);
    let mut fw = Fw::new(&cfg);
    assert!(fw.rs.stats().iter().all(|s| s.invalid.is_none()));
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(fw.filter(T0, Hook::Forward, &v), FilterVerdict::Accept);
    assert_eq!(fw.count(100).0, 0);
    // The jump at depth 16 (from c15) was counted but not taken.
    assert_eq!(fw.count(10 + 15).0, 1);
    assert_eq!(fw.count(10 + 16).0, 0);
}

// ---- counters --------------------------------------------------------------------------------

#[test]
fn counters_reset_one_or_all() {
    let cfg = cfg_with(
        vec![
            rule(1, "forward", Action::Passthrough),
            rule(2, "forward", Action::Accept),
        ],
        vec![rule(5, "srcnat", Action::Accept)],
    );
    let mut fw = Fw::new(&cfg);
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    for _ in 0..3 {
        fw.filter(T0, Hook::Forward, &v);
        fw.nat(T0, NatHook::Srcnat, &v);
    }
    assert_eq!(fw.count(1), (3, 120));
    fw.rs.reset_counters(TableKind::Filter, Some(1));
    assert_eq!(fw.count(1), (0, 0));
    assert_eq!(fw.count(2), (3, 120));
    fw.rs.reset_counters(TableKind::Filter, None);
    assert_eq!(fw.count(2), (0, 0));
    assert_eq!(
        fw.count_in(TableKind::Nat, 5),
        (3, 120),
        "other table untouched"
    );
    fw.rs.reset_counters(TableKind::Nat, None);
    assert_eq!(fw.count_in(TableKind::Nat, 5), (0, 0));
}

#[test]
fn counters_follow_rule_ids_across_recompiles() {
    let cfg = cfg_with(
        vec![
            rule(1, "forward", Action::Passthrough),
            rule(2, "forward", Action::Accept),
        ],
        vec![],
    );
    let mut fw = Fw::new(&cfg);
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    fw.filter(T0, Hook::Forward, &v);
    // Edit: rule 2 moves before rule 1 and gains a matcher; rule 3 is new; rule 1 is gone.
    let edited = cfg_with(
        vec![
            rule_m(2, "forward", Action::Accept, m_proto(6)),
            rule(3, "forward", Action::Drop),
        ],
        vec![],
    );
    let next = Ruleset::compile(&edited, &ifaces(), Some(&fw.rs));
    // A packet the old ruleset counts after the new one was compiled is not lost.
    fw.filter(T0, Hook::Forward, &v);
    let old = std::mem::replace(&mut fw.rs, next);
    drop(old);
    assert_eq!(fw.count(2), (2, 80));
    assert_eq!(fw.count(3), (0, 0));
    assert_eq!(fw.rs.stats().len(), 2);
    fw.filter(T0, Hook::Forward, &v);
    assert_eq!(fw.count(2), (3, 120));
}

// ---- address lists ---------------------------------------------------------------------------

#[test]
fn add_to_address_list_with_timeout_then_expiry() {
    // A telnet attempt puts the source on "blocked" for 10 s; "blocked" is dropped.
    let cfg = cfg_with(
        vec![
            rule_m(
                1,
                "input",
                Action::AddSrcToAddressList(AddressListAdd {
                    list: "blocked".into(),
                    timeout: Some(Duration::from_secs(10)),
                }),
                m_dport("23"),
            ),
            rule_m(
                2,
                "input",
                Action::Drop,
                Matchers {
                    src_address_list: Some(Neg::is("blocked".into())),
                    ..Matchers::default()
                },
            ),
        ],
        vec![],
    );
    let mut fw = Fw::new(&cfg);
    let telnet = tcp("198.51.100.10", "203.0.113.2", 40000, 23, SYN);
    let web = tcp("198.51.100.10", "203.0.113.2", 40001, 80, SYN);
    let other_host = tcp("198.51.100.11", "203.0.113.2", 40001, 80, SYN);
    let inp = |ip| view(ip, Some(WAN), None, CtState::New);
    assert_eq!(
        fw.filter(T0, Hook::Input, &inp(&web)),
        FilterVerdict::Accept
    );
    assert_eq!(
        fw.filter(T0, Hook::Input, &inp(&telnet)),
        FilterVerdict::Drop
    );
    let t5 = T0 + std::time::Duration::from_secs(5);
    assert_eq!(fw.filter(t5, Hook::Input, &inp(&web)), FilterVerdict::Drop);
    assert_eq!(
        fw.filter(t5, Hook::Input, &inp(&other_host)),
        FilterVerdict::Accept
    );
    let lists = fw.st.address_lists(t5);
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].list, "blocked");
    assert_eq!(
        lists[0].address,
        AddressListTarget::Addr(AddrMatch::parse("198.51.100.10").unwrap())
    );
    assert_eq!(lists[0].timeout, Some(Duration::from_secs(5)));
    let t10 = T0 + std::time::Duration::from_secs(10);
    assert_eq!(
        fw.filter(t10, Hook::Input, &inp(&web)),
        FilterVerdict::Accept
    );
    assert!(fw.st.address_lists(t10).is_empty());
}

#[test]
fn add_dst_without_timeout_lasts_and_survives_reconfigure_and_recompile() {
    let mut cfg = cfg_with(
        vec![rule(
            1,
            "forward",
            Action::AddDstToAddressList(AddressListAdd {
                list: "visited".into(),
                timeout: None,
            }),
        )],
        vec![],
    );
    cfg.address_lists.push(AddressListEntry {
        id: 1,
        list: "visited".into(),
        address: AddressListTarget::Addr(AddrMatch::parse("192.0.2.0/24").unwrap()),
        timeout: None,
        disabled: false,
        comment: Some("static".into()),
    });
    let mut fw = Fw::new(&cfg);
    let s = syn();
    fw.filter(
        T0,
        Hook::Forward,
        &view(&s, Some(LAN), Some(WAN), CtState::New),
    );
    let far = Instant::from_secs(1_000_000);
    let views = fw.st.address_lists(far);
    assert_eq!(views.len(), 2);
    assert!(!views[0].dynamic && views[0].id == Some(1));
    assert!(views[1].dynamic && views[1].timeout.is_none());

    // A new ruleset that only reads the list, and a configuration without the static entry.
    cfg.address_lists.clear();
    cfg.filter = vec![rule_m(
        2,
        "forward",
        Action::Drop,
        Matchers {
            dst_address_list: Some(Neg::is("visited".into())),
            ..Matchers::default()
        },
    )];
    fw.st.reconfigure(&cfg);
    fw.rs = Ruleset::compile(&cfg, &ifaces(), Some(&fw.rs));
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(fw.filter(far, Hook::Forward, &v), FilterVerdict::Drop);
    assert_eq!(fw.st.address_lists(far).len(), 1);
}

#[test]
fn a_list_no_one_filled_is_empty_and_negation_matches() {
    let cfg = cfg_with(
        vec![rule_m(
            1,
            "forward",
            Action::Drop,
            Matchers {
                src_address_list: Some(Neg::not("trusted".into())),
                ..Matchers::default()
            },
        )],
        vec![],
    );
    let mut fw = Fw::new(&cfg);
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(fw.filter(T0, Hook::Forward, &v), FilterVerdict::Drop);
}

// ---- NAT -------------------------------------------------------------------------------------

fn defconf_masquerade() -> Rule {
    rule_m(
        1,
        "srcnat",
        Action::Masquerade { to_ports: None },
        Matchers {
            out_interface_list: Some(Neg::is("WAN".into())),
            ipsec_policy: Some(IpsecPolicy {
                outgoing: true,
                ipsec: false,
            }),
            ..Matchers::default()
        },
    )
}

#[test]
fn nat_masquerade_dstnat_redirect_accept_and_fall_through() {
    use shared::config::{AddrRange, PortRange};
    let to = AddrRange {
        first: a("192.168.88.10"),
        last: a("192.168.88.10"),
    };
    let cfg = cfg_with(
        vec![],
        vec![
            defconf_masquerade(),
            rule_m(
                2,
                "dstnat",
                Action::Accept,
                Matchers {
                    src_address: Some(Neg::is(AddrMatch::parse("192.0.2.0/24").unwrap())),
                    ..m_dport("8080")
                },
            ),
            rule_m(
                3,
                "dstnat",
                Action::DstNat {
                    to_addresses: Some(to),
                    to_ports: Some(PortRange::one(80)),
                },
                Matchers {
                    in_interface_list: Some(Neg::is("WAN".into())),
                    ..m_dport("8080")
                },
            ),
            rule_m(
                4,
                "dstnat",
                Action::Redirect {
                    to_ports: Some(PortRange::one(53)),
                },
                Matchers {
                    protocol: Some(Neg::is(17)),
                    dst_port: Some(Neg::is(PortSet::parse("53").unwrap())),
                    in_interface_list: Some(Neg::is("LAN".into())),
                    ..Matchers::default()
                },
            ),
        ],
    );
    let mut fw = Fw::new(&cfg);
    let out = syn();
    assert_eq!(
        fw.nat(
            T0,
            NatHook::Srcnat,
            &view(&out, Some(LAN), Some(WAN), CtState::New)
        ),
        Some(NatTarget::Masquerade { to_ports: None })
    );
    assert_eq!(
        fw.nat(
            T0,
            NatHook::Srcnat,
            &view(&out, Some(WAN), Some(LAN), CtState::New)
        ),
        None,
        "not towards WAN"
    );
    let fwd = tcp("198.51.100.10", "203.0.113.2", 40000, 8080, SYN);
    assert_eq!(
        fw.nat(
            T0,
            NatHook::Dstnat,
            &view(&fwd, Some(WAN), None, CtState::New)
        ),
        Some(NatTarget::DstNat {
            to_addresses: Some(to),
            to_ports: Some(PortRange::one(80)),
        })
    );
    let exempt = tcp("192.0.2.5", "203.0.113.2", 40000, 8080, SYN);
    assert_eq!(
        fw.nat(
            T0,
            NatHook::Dstnat,
            &view(&exempt, Some(WAN), None, CtState::New)
        ),
        None,
        "accept ends the NAT chain without NAT"
    );
    assert_eq!(fw.count_in(TableKind::Nat, 3).0, 1);
    let dns = udp(53);
    assert_eq!(
        fw.nat(
            T0,
            NatHook::Dstnat,
            &view(&dns, Some(LAN), None, CtState::New)
        ),
        Some(NatTarget::Redirect {
            to_ports: Some(PortRange::one(53))
        })
    );
}

#[test]
fn a_nat_action_reached_from_the_other_hook_is_passed() {
    // Both base chains jump to "common"; its masquerade only applies in srcnat.
    let cfg = cfg_with(
        vec![],
        vec![
            rule(1, "srcnat", Action::Jump("common".into())),
            rule(2, "dstnat", Action::Jump("common".into())),
            rule(3, "common", Action::Masquerade { to_ports: None }),
        ],
    );
    let mut fw = Fw::new(&cfg);
    assert!(fw.rs.stats().iter().all(|s| s.invalid.is_none()));
    let s = syn();
    let v = view(&s, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(
        fw.nat(T0, NatHook::Srcnat, &v),
        Some(NatTarget::Masquerade { to_ports: None })
    );
    assert_eq!(fw.nat(T0, NatHook::Dstnat, &v), None);
}

// ---- RouterOS defconf ------------------------------------------------------------------------

/// The 11 defconf filter rules (routeros.md §8) as typed values, ids 1-11 in order.
fn defconf_filter() -> Vec<Rule> {
    use conn_state::{ESTABLISHED, INVALID, NEW, RELATED, UNTRACKED};
    let state = |bits| Matchers {
        connection_state: Some(Neg::is(bits)),
        ..Matchers::default()
    };
    let ipsec = |outgoing| Matchers {
        ipsec_policy: Some(IpsecPolicy {
            outgoing,
            ipsec: true,
        }),
        ..Matchers::default()
    };
    let mut rules = vec![
        rule_m(
            1,
            "input",
            Action::Accept,
            state(ESTABLISHED | RELATED | UNTRACKED),
        ),
        rule_m(2, "input", Action::Drop, state(INVALID)),
        rule_m(3, "input", Action::Accept, m_proto(1)),
        rule_m(
            4,
            "input",
            Action::Accept,
            Matchers {
                dst_address: Some(Neg::is(AddrMatch::parse("127.0.0.1").unwrap())),
                ..Matchers::default()
            },
        ),
        rule_m(
            5,
            "input",
            Action::Drop,
            Matchers {
                in_interface_list: Some(Neg::not("LAN".into())),
                ..Matchers::default()
            },
        ),
        rule_m(6, "forward", Action::Accept, ipsec(false)),
        rule_m(7, "forward", Action::Accept, ipsec(true)),
        rule_m(
            8,
            "forward",
            Action::FasttrackConnection,
            state(ESTABLISHED | RELATED),
        ),
        rule_m(
            9,
            "forward",
            Action::Accept,
            state(ESTABLISHED | RELATED | UNTRACKED),
        ),
        rule_m(10, "forward", Action::Drop, state(INVALID)),
        rule_m(
            11,
            "forward",
            Action::Drop,
            Matchers {
                connection_state: Some(Neg::is(NEW)),
                connection_nat_state: Some(Neg::not(nat_state::DSTNAT)),
                in_interface_list: Some(Neg::is("WAN".into())),
                ..Matchers::default()
            },
        ),
    ];
    for r in &mut rules {
        r.comment = Some("defconf".into());
    }
    rules
}

fn defconf() -> Fw {
    Fw::new(&cfg_with(defconf_filter(), vec![defconf_masquerade()]))
}

#[test]
fn defconf_compiles_clean() {
    let fw = defconf();
    assert_eq!(fw.rs.stats().len(), 12);
    assert!(fw.rs.stats().iter().all(|s| s.invalid.is_none()));
}

#[test]
fn defconf_forward_decisions() {
    let mut fw = defconf();
    let out = tcp("192.168.88.10", "203.0.113.5", 40000, 443, SYN);
    let lan_to_wan = view(&out, Some(LAN), Some(WAN), CtState::New);
    assert_eq!(
        fw.filter(T0, Hook::Forward, &lan_to_wan),
        FilterVerdict::Accept
    );
    assert_eq!(fw.count(11).0, 0);

    let inbound = tcp("198.51.100.10", "192.168.88.10", 40000, 22, SYN);
    let wan_to_lan = view(&inbound, Some(WAN), Some(LAN), CtState::New);
    assert_eq!(
        fw.filter(T0, Hook::Forward, &wan_to_lan),
        FilterVerdict::Drop
    );
    assert_eq!(fw.count(11).0, 1);

    let mut port_forwarded = wan_to_lan;
    port_forwarded.nat_state = nat_state::DSTNAT;
    assert_eq!(
        fw.filter(T0, Hook::Forward, &port_forwarded),
        FilterVerdict::Accept
    );

    let reply = tcp("198.51.100.10", "192.168.88.10", 443, 40000, SYN | ACK);
    let est = view(&reply, Some(WAN), Some(LAN), CtState::Established);
    assert_eq!(fw.filter(T0, Hook::Forward, &est), FilterVerdict::Accept);
    assert_eq!(fw.count(8).0, 1, "the fasttrack rule accepts it");
    assert_eq!(fw.count(9).0, 0);

    let untracked = view(&reply, Some(WAN), Some(LAN), CtState::Untracked);
    assert_eq!(
        fw.filter(T0, Hook::Forward, &untracked),
        FilterVerdict::Accept
    );
    assert_eq!(fw.count(9).0, 1);

    let invalid = view(&reply, Some(WAN), Some(LAN), CtState::Invalid);
    assert_eq!(fw.filter(T0, Hook::Forward, &invalid), FilterVerdict::Drop);
    assert_eq!(fw.count(10).0, 1);
    assert_eq!(fw.count(6).0 + fw.count(7).0, 0, "no IPsec");
}

#[test]
fn defconf_input_decisions() {
    let mut fw = defconf();
    let ssh = tcp("198.51.100.10", "203.0.113.2", 40000, 22, SYN);
    let from_wan = view(&ssh, Some(WAN), None, CtState::New);
    assert_eq!(fw.filter(T0, Hook::Input, &from_wan), FilterVerdict::Drop);
    assert_eq!(fw.count(5).0, 1);

    let ping = icmp_echo();
    let ping_wan = view(&ping, Some(WAN), None, CtState::New);
    assert_eq!(fw.filter(T0, Hook::Input, &ping_wan), FilterVerdict::Accept);
    assert_eq!(fw.count(3).0, 1);

    let dns_reply = udp(5353);
    let est = view(&dns_reply, Some(WAN), None, CtState::Established);
    assert_eq!(fw.filter(T0, Hook::Input, &est), FilterVerdict::Accept);
    assert_eq!(fw.count(1).0, 1);

    let invalid = view(&ssh, Some(WAN), None, CtState::Invalid);
    assert_eq!(fw.filter(T0, Hook::Input, &invalid), FilterVerdict::Drop);
    assert_eq!(fw.count(2).0, 1);

    let from_lan = view(&ssh, Some(LAN), None, CtState::New);
    assert_eq!(fw.filter(T0, Hook::Input, &from_lan), FilterVerdict::Accept);
    // ether3 is in no list: not LAN, so dropped.
    let from_other = view(&ssh, Some(2), None, CtState::New);
    assert_eq!(fw.filter(T0, Hook::Input, &from_other), FilterVerdict::Drop);

    let loopback = tcp("127.0.0.1", "127.0.0.1", 40000, 5246, SYN);
    let capsman = view(&loopback, Some(WAN), None, CtState::New);
    assert_eq!(fw.filter(T0, Hook::Input, &capsman), FilterVerdict::Accept);
    assert_eq!(fw.count(4).0, 1);

    // The router's own packets: output has no rules.
    let own = view(&ssh, None, Some(WAN), CtState::New);
    assert_eq!(fw.filter(T0, Hook::Output, &own), FilterVerdict::Accept);
}

#[test]
fn defconf_masquerades_towards_wan_only() {
    let mut fw = defconf();
    let out = tcp("192.168.88.10", "203.0.113.5", 40000, 443, SYN);
    assert_eq!(
        fw.nat(
            T0,
            NatHook::Srcnat,
            &view(&out, Some(LAN), Some(WAN), CtState::New)
        ),
        Some(NatTarget::Masquerade { to_ports: None })
    );
    assert_eq!(
        fw.nat(
            T0,
            NatHook::Srcnat,
            &view(&out, None, Some(LAN), CtState::New)
        ),
        None
    );
}
