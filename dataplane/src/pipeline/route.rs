//! The routing decision: connected networks from `/ip address`, static routes from `/ip route`,
//! longest prefix first, then the lowest distance (RouterOS: connected routes have distance 0).

use crate::iface::{IfIndex, Interfaces};
use shared::config::{prefix_mask, Gateway, RouterConfig};
use std::net::Ipv4Addr;

/// One of the router's own addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr {
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
    pub iface: IfIndex,
}

impl LocalAddr {
    pub fn network(&self) -> u32 {
        u32::from(self.addr) & prefix_mask(self.prefix_len)
    }

    /// The directed broadcast address of the connected network (none for /31 and /32).
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        (self.prefix_len < 31)
            .then(|| Ipv4Addr::from(self.network() | !prefix_mask(self.prefix_len)))
    }

    pub fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & prefix_mask(self.prefix_len) == self.network()
    }
}

/// Where a routed packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHop {
    pub iface: IfIndex,
    /// The neighbour to hand the frame to: the gateway, or the destination itself on a
    /// connected network.
    pub via: Ipv4Addr,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    net: u32,
    len: u8,
    distance: u8,
    target: Target,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Connected(IfIndex),
    Gateway(Ipv4Addr),
    GatewayOn(Ipv4Addr, IfIndex),
}

/// The routing table (FIB) and the router's addresses.
#[derive(Debug, Clone, Default)]
pub struct Fib {
    local: Vec<LocalAddr>,
    /// The router's addresses and the directed broadcasts of its networks, for the per-packet
    /// "is it for me" test.
    mine: Vec<Ipv4Addr>,
    /// Sorted by prefix length (longest first), then distance.
    entries: Vec<Entry>,
}

impl Fib {
    /// Builds the table from the configuration; addresses and routes on ports the host lacks,
    /// and disabled ones, are left out (RouterOS shows them invalid/inactive).
    pub fn build(cfg: &RouterConfig, ifaces: &Interfaces) -> Fib {
        let local: Vec<LocalAddr> = cfg
            .addresses
            .iter()
            .filter(|a| !a.disabled)
            .filter_map(|a| {
                Some(LocalAddr {
                    addr: a.address,
                    prefix_len: a.prefix_len,
                    iface: ifaces.index(&a.interface)?,
                })
            })
            .collect();
        let mut entries: Vec<Entry> = local
            .iter()
            .map(|l| Entry {
                net: l.network(),
                len: l.prefix_len,
                distance: 0,
                target: Target::Connected(l.iface),
            })
            .collect();
        for r in cfg.routes.iter().filter(|r| !r.disabled) {
            let target = match &r.gateway {
                Gateway::Address(a) => Target::Gateway(*a),
                Gateway::AddressOn(a, name) => match ifaces.index(name) {
                    Some(i) => Target::GatewayOn(*a, i),
                    None => continue,
                },
                Gateway::Interface(name) => match ifaces.index(name) {
                    Some(i) => Target::Connected(i),
                    None => continue,
                },
            };
            entries.push(Entry {
                net: u32::from(r.dst) & prefix_mask(r.dst_len),
                len: r.dst_len,
                distance: r.distance,
                target,
            });
        }
        entries.sort_by(|a, b| b.len.cmp(&a.len).then(a.distance.cmp(&b.distance)));
        let mut mine: Vec<Ipv4Addr> = local
            .iter()
            .flat_map(|l| std::iter::once(l.addr).chain(l.broadcast()))
            .collect();
        mine.push(Ipv4Addr::BROADCAST);
        Fib {
            local,
            mine,
            entries,
        }
    }

    pub fn local_addrs(&self) -> &[LocalAddr] {
        &self.local
    }

    /// Whether `a` is addressed to the router itself: one of its addresses, a directed broadcast
    /// of a connected network, or the limited broadcast.
    pub fn is_local(&self, a: Ipv4Addr) -> bool {
        self.mine.contains(&a)
    }

    /// Whether `a` is one of the router's own unicast addresses.
    pub fn is_own(&self, a: Ipv4Addr) -> bool {
        self.local.iter().any(|l| l.addr == a)
    }

    /// The router's address on `iface` to use towards `peer`: the one whose network holds the
    /// peer, else the first on the port (Linux `inet_select_addr`, which masquerade uses).
    pub fn source_for(&self, iface: IfIndex, peer: Ipv4Addr) -> Option<Ipv4Addr> {
        let on_port = || self.local.iter().filter(|l| l.iface == iface);
        on_port()
            .find(|l| l.contains(peer))
            .or_else(|| on_port().next())
            .map(|l| l.addr)
    }

    /// The routing decision for a destination; `None` when there is no route. A gateway is
    /// resolved through the connected networks (RouterOS's recursive lookup, one level).
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<NextHop> {
        let d = u32::from(dst);
        let e = self
            .entries
            .iter()
            .find(|e| d & prefix_mask(e.len) == e.net)?;
        match e.target {
            Target::Connected(iface) => Some(NextHop { iface, via: dst }),
            Target::GatewayOn(gw, iface) => Some(NextHop { iface, via: gw }),
            Target::Gateway(gw) => {
                let g = u32::from(gw);
                self.entries.iter().find_map(|e| match e.target {
                    Target::Connected(iface) if g & prefix_mask(e.len) == e.net => {
                        Some(NextHop { iface, via: gw })
                    }
                    _ => None,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::config::{IpAddress, Route};

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn cfg() -> RouterConfig {
        let mut c = RouterConfig::default();
        for (id, a, len, iface) in [
            (1, "198.51.100.1", 24, "ether2"),
            (2, "203.0.113.2", 24, "ether1"),
        ] {
            c.addresses.push(IpAddress {
                id,
                address: ip(a),
                prefix_len: len,
                interface: iface.into(),
                disabled: false,
                comment: None,
            });
        }
        c.routes.push(Route {
            id: 1,
            dst: Ipv4Addr::UNSPECIFIED,
            dst_len: 0,
            gateway: Gateway::Address(ip("203.0.113.1")),
            distance: 1,
            disabled: false,
            comment: None,
        });
        c.routes.push(Route {
            id: 2,
            dst: ip("192.0.2.0"),
            dst_len: 25,
            gateway: Gateway::Address(ip("198.51.100.254")),
            distance: 1,
            disabled: false,
            comment: None,
        });
        c
    }

    #[test]
    fn connected_static_and_default_routes() {
        let ifs = Interfaces::new(["ether1", "ether2"]);
        let fib = Fib::build(&cfg(), &ifs);
        let hop = |d: &str| fib.lookup(ip(d)).unwrap();
        assert_eq!(
            hop("198.51.100.7"),
            NextHop {
                iface: 1,
                via: ip("198.51.100.7")
            }
        );
        assert_eq!(
            hop("192.0.2.9"),
            NextHop {
                iface: 1,
                via: ip("198.51.100.254")
            }
        );
        // Outside the /25, the default route.
        assert_eq!(
            hop("192.0.2.200"),
            NextHop {
                iface: 0,
                via: ip("203.0.113.1")
            }
        );
        assert!(fib.is_local(ip("203.0.113.2")));
        assert!(fib.is_local(ip("198.51.100.255")));
        assert!(!fib.is_local(ip("198.51.100.2")));
        assert_eq!(
            fib.source_for(0, ip("203.0.113.1")),
            Some(ip("203.0.113.2"))
        );
    }

    #[test]
    fn no_route_without_default_and_unreachable_gateway() {
        let mut c = cfg();
        c.routes[0].gateway = Gateway::Address(ip("192.0.2.1")); // not on a connected network
        let fib = Fib::build(&c, &Interfaces::new(["ether1", "ether2"]));
        assert_eq!(fib.lookup(ip("203.0.114.1")), None);
        // A port the host lacks takes its addresses with it.
        let fib = Fib::build(&cfg(), &Interfaces::new(["ether2"]));
        assert!(!fib.is_local(ip("203.0.113.2")));
    }
}
