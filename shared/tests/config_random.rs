//! Import ∘ export is the identity, on random configurations in the form an import builds:
//! every menu, every matcher and action, values that need quoting, escaping and line
//! splitting. Hand-rolled generator with fixed seeds, so failures reproduce.

use shared::config::{
    Action, AddrMatch, AddrRange, AddressListAdd, AddressListEntry, AddressListTarget, Gateway,
    IcmpOptions, InterfaceList, IpAddress, IpsecPolicy, ListMember, Matchers, Neg, PortRange,
    PortSet, RejectWith, Route, RouterConfig, Rule, StaticArp, TcpFlagsMatch,
};
use shared::duration::Duration;
use std::net::Ipv4Addr;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }

    fn maybe<T>(&mut self, percent: u64, f: impl FnOnce(&mut Rng) -> T) -> Option<T> {
        if self.chance(percent) {
            Some(f(self))
        } else {
            None
        }
    }

    fn neg<T>(&mut self, percent: u64, f: impl FnOnce(&mut Rng) -> T) -> Option<Neg<T>> {
        let negated = self.chance(30);
        self.maybe(percent, |r| Neg {
            value: f(r),
            negated,
        })
    }
}

/// Names as people write them, now and then with a blank or a non-ASCII letter.
fn name(r: &mut Rng) -> String {
    let mut s = String::from(r.pick(&['e', 'L', 'W', 'b', 'v']));
    for _ in 0..r.below(10) {
        s.push(r.pick(&['a', 'n', '1', '0', '-', '_', '.', 'X', ' ', 'é']));
    }
    s
}

/// Comments and log prefixes: any text, including what must be quoted or escaped.
fn text(r: &mut Rng) -> String {
    let len = if r.chance(10) {
        60 + r.below(90)
    } else {
        r.below(20)
    };
    (0..len)
        .map(|_| {
            r.pick(&[
                'a', 'Z', '0', ' ', ' ', '"', '\\', '$', '?', ',', '=', '!', ':', '\n', '\t', 'é',
                '日', '🙂',
            ])
        })
        .collect()
}

fn comment(r: &mut Rng) -> Option<String> {
    r.maybe(40, text).filter(|c| !c.is_empty())
}

fn ip(r: &mut Rng) -> Ipv4Addr {
    Ipv4Addr::from(r.next() as u32)
}

fn network(r: &mut Rng) -> (Ipv4Addr, u8) {
    let len = r.below(33) as u8;
    let AddrMatch::Prefix { addr, len } = (AddrMatch::Prefix { addr: ip(r), len }).normalized()
    else {
        unreachable!()
    };
    (addr, len)
}

fn addr_match(r: &mut Rng) -> AddrMatch {
    if r.chance(25) {
        let (a, b) = (ip(r), ip(r));
        AddrMatch::Range {
            first: a.min(b),
            last: a.max(b),
        }
    } else {
        let (addr, len) = network(r);
        AddrMatch::Prefix { addr, len }
    }
}

fn port_range(r: &mut Rng) -> PortRange {
    let (a, b) = (r.next() as u16, r.next() as u16);
    if r.chance(50) {
        PortRange::one(a)
    } else {
        PortRange {
            first: a.min(b),
            last: a.max(b),
        }
    }
}

fn duration(r: &mut Rng) -> Duration {
    if r.chance(20) {
        Duration::from_millis(r.below(10_000_000))
    } else {
        Duration::from_secs(r.below(5_000_000))
    }
}

fn bits(r: &mut Rng, max: u8) -> u8 {
    1 + r.byte() % max
}

fn matchers(r: &mut Rng, filter: bool) -> Matchers {
    let ports = r.chance(40);
    let protocol = if ports {
        Some(Neg::is(r.pick(&[6, 17])))
    } else {
        r.neg(40, |r| r.byte())
    };
    let port_set = |r: &mut Rng| PortSet((0..1 + r.below(3)).map(|_| port_range(r)).collect());
    let ports_pct = if ports { 60 } else { 0 };
    Matchers {
        protocol,
        src_address: r.neg(30, addr_match),
        dst_address: r.neg(30, addr_match),
        src_port: r.neg(ports_pct, port_set),
        dst_port: r.neg(ports_pct, port_set),
        port: r.neg(ports_pct / 2, port_set),
        in_interface: r.neg(20, name),
        out_interface: r.neg(20, name),
        in_interface_list: r.neg(20, name),
        out_interface_list: r.neg(20, name),
        src_address_list: r.neg(20, name),
        dst_address_list: r.neg(20, name),
        connection_state: if filter {
            r.neg(40, |r| bits(r, 31))
        } else {
            None
        },
        connection_nat_state: if filter {
            r.neg(20, |r| bits(r, 3))
        } else {
            None
        },
        tcp_flags: r.maybe(20, |r| {
            let set = r.byte();
            TcpFlagsMatch {
                set,
                clear: r.byte() | u8::from(set == 0),
            }
        }),
        icmp_options: r.neg(15, |r| {
            let (t, c) = ((r.byte(), r.byte()), (r.byte(), r.byte()));
            IcmpOptions {
                types: (t.0.min(t.1), t.0.max(t.1)),
                codes: (c.0.min(c.1), c.0.max(c.1)),
            }
        }),
        ipsec_policy: r.maybe(15, |r| IpsecPolicy {
            outgoing: r.chance(50),
            ipsec: r.chance(50),
        }),
    }
}

fn action(r: &mut Rng, filter: bool, chain: &str) -> Action {
    let list_add = |r: &mut Rng| AddressListAdd {
        list: name(r),
        timeout: r.maybe(50, duration),
    };
    let range = |r: &mut Rng| {
        let (a, b) = (ip(r), ip(r));
        AddrRange {
            first: a.min(b),
            last: a.max(b),
        }
    };
    // Actions both tables have, then each table's own.
    match r.below(if filter { 10 } else { 13 }) {
        0 => Action::Accept,
        1 => Action::Log,
        2 => Action::Passthrough,
        3 => Action::Return,
        4 => Action::Jump(name(r)),
        5 => Action::AddSrcToAddressList(list_add(r)),
        6 => Action::AddDstToAddressList(list_add(r)),
        7 if filter => Action::Drop,
        8 if filter => Action::Reject(r.pick(&[
            RejectWith::IcmpAdminProhibited,
            RejectWith::IcmpNetworkUnreachable,
            RejectWith::IcmpPortUnreachable,
            RejectWith::TcpReset,
        ])),
        _ if filter => Action::FasttrackConnection,
        // NAT: the source actions outside dstnat, the destination ones outside srcnat.
        _ if chain != "dstnat" && r.chance(50) => {
            if r.chance(50) {
                Action::Masquerade {
                    to_ports: r.maybe(50, port_range),
                }
            } else {
                Action::SrcNat {
                    to_addresses: r.maybe(70, range),
                    to_ports: r.maybe(50, port_range),
                }
            }
        }
        _ if chain != "srcnat" => {
            if r.chance(50) {
                Action::Redirect {
                    to_ports: r.maybe(50, port_range),
                }
            } else {
                let to_addresses = r.maybe(70, range);
                let to_ports = if to_addresses.is_none() || r.chance(50) {
                    Some(port_range(r))
                } else {
                    None
                };
                Action::DstNat {
                    to_addresses,
                    to_ports,
                }
            }
        }
        _ => Action::Accept,
    }
}

fn rule(r: &mut Rng, id: u32, filter: bool) -> Rule {
    let builtin: &[&str] = if filter {
        &["input", "forward", "output"]
    } else {
        &["srcnat", "dstnat"]
    };
    let chain = if r.chance(80) {
        r.pick(builtin).to_string()
    } else {
        name(r)
    };
    Rule {
        id,
        action: action(r, filter, &chain),
        chain,
        matchers: matchers(r, filter),
        disabled: r.chance(20),
        log: r.chance(20),
        log_prefix: if r.chance(30) { text(r) } else { String::new() },
        comment: comment(r),
    }
}

fn ids(n: u64) -> impl Iterator<Item = u32> {
    1..=n as u32
}

fn config(r: &mut Rng) -> RouterConfig {
    let mut cfg = RouterConfig::default();
    for id in ids(r.below(4)) {
        let name = format!("{}{id}", name(r));
        cfg.interface_lists.push(InterfaceList {
            id,
            name,
            comment: comment(r),
        });
    }
    let mut id = 0;
    for list in cfg.interface_lists.clone() {
        for k in 0..r.below(3) {
            id += 1;
            cfg.list_members.push(ListMember {
                id,
                list: list.name.clone(),
                interface: format!("{}{k}", name(r)),
                disabled: r.chance(20),
                comment: comment(r),
            });
        }
    }
    for id in ids(r.below(4)) {
        cfg.addresses.push(IpAddress {
            id,
            address: ip(r),
            prefix_len: r.below(33) as u8,
            interface: name(r),
            disabled: r.chance(20),
            comment: comment(r),
        });
    }
    for id in ids(r.below(4)) {
        let (dst, dst_len) = network(r);
        let gateway = match r.below(3) {
            0 => Gateway::Address(ip(r)),
            1 => Gateway::AddressOn(ip(r), name(r)),
            _ => Gateway::Interface(name(r)),
        };
        cfg.routes.push(Route {
            id,
            dst,
            dst_len,
            gateway,
            distance: r.byte(),
            disabled: r.chance(20),
            comment: comment(r),
        });
    }
    for id in ids(r.below(3)) {
        let mut mac = [0u8; 6];
        mac.iter_mut().for_each(|b| *b = r.byte());
        cfg.arp.push(StaticArp {
            id,
            address: ip(r),
            mac,
            interface: name(r),
            disabled: r.chance(20),
            comment: comment(r),
        });
    }
    for id in ids(r.below(5)) {
        let address = if r.chance(20) {
            AddressListTarget::Name(format!("host{id}.example.com"))
        } else {
            AddressListTarget::Addr(addr_match(r))
        };
        cfg.address_lists.push(AddressListEntry {
            id,
            // Distinct lists, so no two entries clash.
            list: format!("{}{id}", name(r)),
            address,
            timeout: r.maybe(30, duration),
            disabled: r.chance(20),
            comment: comment(r),
        });
    }
    for property in ["udp-timeout", "tcp-established-timeout", "icmp-timeout"] {
        if r.chance(30) {
            let value = duration(r).to_string();
            cfg.tracking.set(property, &value).unwrap();
        }
    }
    if r.chance(30) {
        cfg.tracking.set("loose-tcp-tracking", "no").unwrap();
    }
    let s = &mut cfg.ip_settings;
    s.ip_forward = r.chance(70);
    s.tcp_syncookies = r.chance(30);
    if r.chance(30) {
        s.arp_timeout = duration(r);
    }
    if r.chance(30) {
        s.icmp_rate_limit = r.next() as u32;
    }
    for (k, v) in [
        ("rp-filter", "strict"),
        ("send-redirects", "no"),
        ("icmp-rate-mask", "0x18"),
    ] {
        if r.chance(30) {
            s.set(k, v).unwrap();
        }
    }
    cfg.filter = ids(r.below(8)).map(|id| rule(r, id, true)).collect();
    cfg.nat = ids(r.below(6)).map(|id| rule(r, id, false)).collect();
    cfg
}

#[test]
fn export_then_import_is_the_identity_on_random_configurations() {
    for seed in 1..=300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let cfg = config(&mut rng);
        let script = cfg.to_script();
        match RouterConfig::from_script(&script) {
            Ok(back) => assert_eq!(back, cfg, "seed {seed}"),
            Err(e) => panic!(
                "seed {seed}: {:#?}\n{}",
                e.iter().map(ToString::to_string).collect::<Vec<_>>(),
                cfg.to_rsc()
            ),
        }
        let text = cfg.to_rsc();
        assert_eq!(
            RouterConfig::from_rsc(&text).as_ref(),
            Ok(&cfg),
            "seed {seed}\n{text}"
        );
    }
}

/// Commands, good and bad, that touch each other's items.
const LINES: &[&str] = &[
    "/ip firewall filter add chain=input protocol=tcp dst-port=22 comment=ssh",
    "/ip firewall filter add chain=forward action=drop connection-state=invalid",
    "/ip firewall filter add chain=forward action=jump jump-target=x",
    "/ip firewall filter add chain=x action=return",
    "/ip firewall filter add chain=input action=reject reject-with=tcp-reset protocol=tcp",
    "/ip firewall filter add chain=input place-before=0 comment=top",
    "/ip firewall filter add chain=input place-before=*2",
    "/ip firewall filter set [ find comment=ssh ] protocol=udp",
    "/ip firewall filter set [ find comment=ssh ] protocol=icmp",
    "/ip firewall filter set *1 disabled=yes",
    "/ip firewall filter set *3 action=accept !jump-target",
    "/ip firewall filter remove *2",
    "/ip firewall filter remove [ find chain=forward ]",
    "/ip firewall filter set [ find ] log=yes log-prefix=\"x y\"",
    "/ip firewall nat add chain=srcnat action=masquerade out-interface-list=WAN",
    "/ip firewall nat add chain=dstnat action=dst-nat to-addresses=10.0.0.1 protocol=tcp dst-port=80",
    "/ip firewall nat set [ find action=masquerade ] to-ports=1000-2000",
    "/ip firewall nat set [ find ] chain=dstnat",
    "/ip firewall nat remove *1",
    "/interface list add name=LAN",
    "/interface list add name=WAN",
    "/interface list set [ find name=LAN ] name=WAN",
    "/interface list member add list=LAN interface=ether2",
    "/interface list member add list=WAN interface=ether1",
    "/interface list member set [ find ] list=LAN",
    "/interface list member remove [ find interface=ether2 ]",
    "/ip address add address=192.168.88.1/24 interface=bridge",
    "/ip address set [ find interface=bridge ] address=10.0.0.1/8",
    "/ip address add address=10.0.0.1/32 interface=x network=10.0.0.1",
    "/ip route add gateway=10.0.0.1",
    "/ip route set *1 distance=3 dst-address=10.0.0.0/8",
    "/ip arp add address=1.2.3.4 mac-address=00:11:22:33:44:55 interface=ether1",
    "/ip firewall address-list add list=a address=1.2.3.4",
    "/ip firewall address-list add list=a address=1.2.3.0/24 timeout=1d",
    "/ip firewall address-list set [ find list=a ] address=5.6.7.8",
    "/ip firewall connection tracking set udp-timeout=30s",
    "/ip settings set rp-filter=strict",
    "/ip settings set rp-filter=no",
];

#[test]
fn random_command_sequences_never_panic_and_what_imports_round_trips() {
    let (mut accepted, mut refused) = (0, 0);
    for seed in 1..=2000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let text: String = (0..1 + rng.below(25))
            .map(|_| format!("{}\n", rng.pick(LINES)))
            .collect();
        match RouterConfig::from_rsc(&text) {
            Ok(cfg) => {
                accepted += 1;
                let back = RouterConfig::from_rsc(&cfg.to_rsc());
                assert_eq!(back.as_ref(), Ok(&cfg), "seed {seed}\n{text}");
            }
            Err(errors) => {
                refused += 1;
                assert!(!errors.is_empty());
                assert!(
                    errors.windows(2).all(|w| w[0].pos <= w[1].pos),
                    "{errors:?}"
                );
            }
        }
    }
    // Both outcomes are exercised.
    assert!(accepted > 100 && refused > 100, "{accepted} {refused}");
}
