//! RouterOS's packet flow for IPv4, as one pure function of (time, ingress port, frame).
//!
//! ```text
//! ingress ─ ARP ─► neighbours (answer, learn)
//!    │
//!    ▼ prerouting: connection tracking, dstnat (first packet), NAT rewrite
//! routing decision ─► input chain ─► local: echo reply / the router's stack
//!    │
//!    ▼ TTL and MTU checks, forward chain, TTL decrement
//! postrouting: srcnat (first packet), NAT rewrite, confirm ─► neighbour ─► egress
//! ```
//! The router's own packets (echo replies, ICMP errors, resets, its stack's traffic) take the
//! output chain and the same postrouting.
//!
//! - [`route`]: connected networks and static routes.
//! - [`neigh`]: the ARP cache and frames waiting for a neighbour.
//! - [`icmp`]: the packets the router writes in answer to others.
//! - [`defrag`]: reassembling fragmented datagrams before connection tracking.
//! - [`frag`]: splitting packets bigger than the egress MTU.
//! - [`counters`]: per-node counters and drop reasons.

pub mod counters;
pub mod defrag;
pub mod frag;
pub mod icmp;
pub mod neigh;
pub mod route;

#[cfg(test)]
mod tests;

pub use counters::{Counters, DropReason};

use crate::conntrack::{status, Conntrack, CtState, Found, PENDING};
use crate::firewall::{
    FilterVerdict, FirewallState, Hook, NatHook, NatTarget, PacketView, Ruleset,
};
use crate::iface::{IfIndex, Interfaces};
use crate::nat::{self, Manip, Nat, NatRange};
use crate::time::Instant;
use crate::wire::{
    checksum, parse_ipv4, Ethernet, IcmpMeta, Ipv4Meta, ParseOptions, ETHERNET_HEADER_LEN,
    ETHERTYPE_ARP, ETHERTYPE_IPV4, L4,
};
use neigh::{Arp, Neighbours, Resolution, BROADCAST_MAC};
use route::Fib;
use shared::config::{nat_state, AddrRange, IpSettings, RejectWith, RouterConfig};
use std::net::Ipv4Addr;
use std::sync::Arc;

/// One of the router's ports as the driver knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub mac: [u8; 6],
    pub mtu: u16,
}

/// How the router is run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Take every frame received on a port as addressed to the router (replay of captures made
    /// with another router's MAC address); a live router drops frames for other hosts.
    pub accept_any_mac: bool,
    /// Verify TCP/UDP/ICMP checksums of received packets (netfilter's `nf_conntrack_checksum`).
    pub verify_checksums: bool,
    /// Seed of the NAT port search (the core is deterministic; a live router seeds it randomly).
    pub nat_seed: u64,
    /// Connection-table size.
    pub max_connections: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            accept_any_mac: false,
            verify_checksums: true,
            nat_seed: 0x5eed,
            max_connections: 65_536,
        }
    }
}

/// Where a frame the router emits goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    Port(IfIndex),
    /// The router's own stack (services on the router's addresses).
    Local,
}

/// A frame to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Egress {
    pub dest: Dest,
    pub frame: Vec<u8>,
}

/// What became of a received frame (besides what it caused to be sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Forwarded(IfIndex),
    /// Delivered to the router itself (answered, or handed to its stack).
    Local,
    /// An ARP message, handled.
    Arp,
    /// Waiting for the next hop's MAC address.
    Queued,
    /// A fragment, held until its datagram is whole.
    Reassembling,
    Dropped(DropReason),
}

/// The router: configuration compiled for the packet path, and its state.
pub struct Router {
    ports: Vec<Port>,
    ifaces: Interfaces,
    fib: Fib,
    neigh: Neighbours,
    defrag: defrag::Defrag,
    ct: Conntrack,
    nat: Nat,
    rules: Arc<Ruleset>,
    fw: FirewallState,
    ip_settings: IpSettings,
    opts: Options,
    counters: Counters,
}

/// The per-packet facts the stages pass along.
struct Flow {
    meta: Ipv4Meta,
    state: CtState,
    /// The connection (pending for a new one) and the packet's direction in it.
    conn: Option<Found>,
    in_iface: Option<IfIndex>,
    src_mac: Option<[u8; 6]>,
}

impl Router {
    pub fn new(ports: Vec<Port>, cfg: &RouterConfig, opts: Options) -> Router {
        let ifaces = Interfaces::new(ports.iter().map(|p| p.name.clone())).with_lists(cfg);
        let mut ct = Conntrack::new(cfg.tracking, opts.max_connections);
        ct.set_active(
            cfg.tracking
                .enabled
                .active(!cfg.filter.is_empty() || !cfg.nat.is_empty()),
        );
        let mut router = Router {
            fib: Fib::build(cfg, &ifaces),
            neigh: Neighbours::new(cfg.ip_settings.arp_timeout.as_nanos()),
            defrag: defrag::Defrag::default(),
            rules: Arc::new(Ruleset::compile(cfg, &ifaces, None)),
            fw: FirewallState::new(cfg),
            ct,
            nat: Nat::new(opts.nat_seed),
            ip_settings: cfg.ip_settings.clone(),
            ifaces,
            ports,
            opts,
            counters: Counters::default(),
        };
        router.set_static_neighbours(cfg);
        router
    }

    fn set_static_neighbours(&mut self, cfg: &RouterConfig) {
        let ifaces = &self.ifaces;
        self.neigh.set_static(
            cfg.arp
                .iter()
                .filter(|a| !a.disabled)
                .filter_map(|a| Some((ifaces.index(&a.interface)?, a.address, a.mac))),
        );
    }

    /// Applies a new configuration between two packets: a packet sees the old one or the new
    /// one, never a mix. Connections, learned neighbours, dynamic address-list entries and rule
    /// counters (by rule id) are kept.
    pub fn reconfigure(&mut self, cfg: &RouterConfig) {
        let ifaces = Interfaces::new(self.ports.iter().map(|p| p.name.clone())).with_lists(cfg);
        let rules = Arc::new(Ruleset::compile(cfg, &ifaces, Some(&self.rules)));
        self.fib = Fib::build(cfg, &ifaces);
        self.ifaces = ifaces;
        self.rules = rules;
        self.fw.reconfigure(cfg);
        self.ct.set_settings(cfg.tracking);
        self.ct.set_active(
            cfg.tracking
                .enabled
                .active(!cfg.filter.is_empty() || !cfg.nat.is_empty()),
        );
        self.neigh
            .set_reachable_time(cfg.ip_settings.arp_timeout.as_nanos());
        self.ip_settings = cfg.ip_settings.clone();
        self.set_static_neighbours(cfg);
    }

    pub fn ports(&self) -> &[Port] {
        &self.ports
    }

    pub fn interfaces(&self) -> &Interfaces {
        &self.ifaces
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn conntrack(&self) -> &Conntrack {
        &self.ct
    }

    pub fn conntrack_mut(&mut self) -> &mut Conntrack {
        &mut self.ct
    }

    /// The compiled rules; the management plane reads their counters through this.
    pub fn ruleset(&self) -> &Arc<Ruleset> {
        &self.rules
    }

    pub fn firewall_state(&mut self) -> &mut FirewallState {
        &mut self.fw
    }

    pub fn neighbours(&self) -> &Neighbours {
        &self.neigh
    }

    pub fn fib(&self) -> &Fib {
        &self.fib
    }

    /// Housekeeping: expires connections, asks unanswered neighbours again.
    pub fn tick(&mut self, now: Instant, out: &mut Vec<Egress>) {
        self.ct.expire(now);
        let t = self.neigh.tick(now);
        for (iface, ip) in t.ask {
            self.send_arp_request(iface, ip, out);
        }
        for (iface, frame) in t.unresolved {
            self.host_unreachable(now, iface, &frame, out);
        }
        for (iface, first) in self.defrag.expire(now) {
            // Linux answers a datagram whose first fragment came: reassembly time exceeded.
            let sender = Ipv4Addr::new(first[26], first[27], first[28], first[29]);
            let Some(src) = self.fib.source_for(iface, sender) else {
                continue;
            };
            if let Some(err) = icmp::error(src, &first, icmp::TIME_EXCEEDED, 1, 0) {
                self.counters.icmp_errors_sent += 1;
                self.output(now, err, None, out);
            }
        }
    }

    /// Fragments waiting for the rest of their datagram, and reassembly counts.
    pub fn defrag(&self) -> &defrag::Defrag {
        &self.defrag
    }

    /// Tells the sender of a frame whose next hop never answered ARP: ICMP host unreachable
    /// from the router's address on that port. The error enters as if it came back in on the
    /// port, so connection tracking relates it to the frame's connection and NAT translates it
    /// back to the original sender, as Linux does with the connection it attaches.
    fn host_unreachable(
        &mut self,
        now: Instant,
        iface: IfIndex,
        frame: &[u8],
        out: &mut Vec<Egress>,
    ) {
        let opts = ParseOptions {
            verify_checksums: false,
        };
        let Some(dst) = frame
            .get(ETHERNET_HEADER_LEN..)
            .and_then(|ip| parse_ipv4(ip, opts).ok())
            .map(|m| m.dst)
        else {
            return;
        };
        let Some(src) = self.fib.source_for(iface, dst) else {
            return;
        };
        let Some(err) = icmp::error(
            src,
            frame,
            icmp::DEST_UNREACHABLE,
            icmp::HOST_UNREACHABLE,
            0,
        ) else {
            return;
        };
        let Ok(meta) = parse_ipv4(&err[ETHERNET_HEADER_LEN..], opts) else {
            return;
        };
        self.counters.icmp_errors_sent += 1;
        let mac = self.ports[usize::from(iface)].mac;
        self.prerouting(now, iface, mac, err, meta, out);
    }

    /// Takes one frame received on `ingress` through the packet flow; frames to send are pushed
    /// onto `out`.
    pub fn process(
        &mut self,
        now: Instant,
        ingress: IfIndex,
        frame: Vec<u8>,
        out: &mut Vec<Egress>,
    ) -> Disposition {
        let i = usize::from(ingress);
        if i >= self.ports.len() {
            return self.dropped(DropReason::BadFrame);
        }
        self.counters.rx_packets[i] += 1;
        self.counters.rx_bytes[i] += frame.len() as u64;
        let Ok(eth) = Ethernet::parse(&frame) else {
            return self.dropped(DropReason::BadFrame);
        };
        let for_us = eth.dst == self.ports[i].mac || eth.dst[0] & 1 == 1;
        if !for_us && !self.opts.accept_any_mac {
            return self.dropped(DropReason::OtherHost);
        }
        match eth.ethertype {
            ETHERTYPE_ARP => {
                self.arp_in(now, ingress, &frame[ETHERNET_HEADER_LEN..], out);
                Disposition::Arp
            }
            ETHERTYPE_IPV4 => {
                let opts = ParseOptions {
                    verify_checksums: self.opts.verify_checksums,
                };
                let meta = match parse_ipv4(&frame[ETHERNET_HEADER_LEN..], opts) {
                    Ok(meta) => meta,
                    Err(_) => return self.dropped(DropReason::BadIpHeader),
                };
                if !meta.is_fragment {
                    return self.prerouting(now, ingress, eth.src, frame, meta, out);
                }
                // Connection tracking sees whole datagrams, as behind nf_defrag_ipv4.
                match self.defrag.push(now, ingress, &frame) {
                    defrag::Reassembly::Whole(whole) => {
                        match parse_ipv4(&whole[ETHERNET_HEADER_LEN..], opts) {
                            Ok(meta) => self.prerouting(now, ingress, eth.src, whole, meta, out),
                            Err(_) => self.dropped(DropReason::BadIpHeader),
                        }
                    }
                    defrag::Reassembly::Held => Disposition::Reassembling,
                    defrag::Reassembly::Dropped(_) => self.dropped(DropReason::Fragment),
                }
            }
            _ => self.dropped(DropReason::UnsupportedEthertype),
        }
    }

    fn dropped(&mut self, r: DropReason) -> Disposition {
        self.counters.drop(r);
        Disposition::Dropped(r)
    }

    /// Drops a packet that already has a tracked flow: a pending connection goes with it.
    fn drop_flow(&mut self, flow: &Flow, r: DropReason) -> Disposition {
        if flow.conn.is_some_and(|f| f.slot == PENDING) {
            self.ct.discard();
        }
        self.dropped(r)
    }

    fn arp_in(&mut self, now: Instant, ingress: IfIndex, payload: &[u8], out: &mut Vec<Egress>) {
        self.counters.arp_in += 1;
        let Some(arp) = Arp::parse(payload) else {
            return;
        };
        let ours = self
            .fib
            .local_addrs()
            .iter()
            .any(|l| l.iface == ingress && l.addr == arp.target_ip);
        // Learn the sender when the message is for us or we already track it (RFC 826's merge).
        if (ours || self.neigh.knows(ingress, arp.sender_ip)) && !arp.sender_ip.is_unspecified() {
            let waiting = self
                .neigh
                .learn(now, ingress, arp.sender_ip, arp.sender_mac);
            for mut frame in waiting {
                frame[0..6].copy_from_slice(&arp.sender_mac);
                self.transmit(ingress, frame, out);
            }
        }
        if arp.request && ours {
            let reply = Arp {
                request: false,
                sender_mac: self.ports[usize::from(ingress)].mac,
                sender_ip: arp.target_ip,
                target_mac: arp.sender_mac,
                target_ip: arp.sender_ip,
            };
            let frame = reply.frame(self.ports[usize::from(ingress)].mac, arp.sender_mac);
            self.counters.arp_out += 1;
            self.transmit(ingress, frame, out);
        }
    }

    fn send_arp_request(&mut self, iface: IfIndex, ip: Ipv4Addr, out: &mut Vec<Egress>) {
        let port_mac = self.ports[usize::from(iface)].mac;
        let Some(src) = self.fib.source_for(iface, ip) else {
            return;
        };
        let req = Arp {
            request: true,
            sender_mac: port_mac,
            sender_ip: src,
            target_mac: [0; 6],
            target_ip: ip,
        };
        self.counters.arp_out += 1;
        self.transmit(iface, req.frame(port_mac, BROADCAST_MAC), out);
    }

    fn transmit(&mut self, iface: IfIndex, frame: Vec<u8>, out: &mut Vec<Egress>) {
        let i = usize::from(iface);
        self.counters.tx_packets[i] += 1;
        self.counters.tx_bytes[i] += frame.len() as u64;
        out.push(Egress {
            dest: Dest::Port(iface),
            frame,
        });
    }

    fn view<'a>(&self, flow: &'a Flow, out_iface: Option<IfIndex>) -> PacketView<'a> {
        let nat_bits = flow.conn.and_then(|f| self.ct.conn(f)).map_or(0, |c| {
            let mut b = 0;
            if c.has(status::SRC_NAT) {
                b |= nat_state::SRCNAT;
            }
            if c.has(status::DST_NAT) {
                b |= nat_state::DSTNAT;
            }
            b
        });
        PacketView {
            ip: &flow.meta,
            in_iface: flow.in_iface,
            out_iface,
            ct_state: flow.state,
            nat_state: nat_bits,
            src_mac: flow.src_mac,
        }
    }

    /// Connection tracking and dstnat, then the routing decision.
    fn prerouting(
        &mut self,
        now: Instant,
        ingress: IfIndex,
        src_mac: [u8; 6],
        mut frame: Vec<u8>,
        meta: Ipv4Meta,
        out: &mut Vec<Egress>,
    ) -> Disposition {
        self.counters.prerouting += 1;
        let tracked = self.ct.track(now, &meta);
        let mut flow = Flow {
            meta,
            state: tracked.state,
            conn: tracked.conn,
            in_iface: Some(ingress),
            src_mac: Some(src_mac),
        };
        if tracked.drop {
            return self.drop_flow(&flow, DropReason::ConntrackFull);
        }
        if flow.state == CtState::New {
            let view = self.view(&flow, None);
            if let Some(target) = self.rules.nat(&mut self.fw, now, NatHook::Dstnat, &view) {
                let range = match target {
                    NatTarget::DstNat {
                        to_addresses,
                        to_ports,
                    } => {
                        let AddrRange { first, last } = to_addresses.unwrap_or(AddrRange {
                            first: flow.meta.dst,
                            last: flow.meta.dst,
                        });
                        NatRange {
                            first,
                            last,
                            ports: to_ports,
                        }
                    }
                    NatTarget::Redirect { to_ports } => {
                        let Some(a) = self.fib.source_for(ingress, flow.meta.src) else {
                            return self.drop_flow(&flow, DropReason::NoSourceAddress);
                        };
                        NatRange {
                            first: a,
                            last: a,
                            ports: to_ports,
                        }
                    }
                    // Source NAT in a dstnat chain is refused by the configuration.
                    NatTarget::Masquerade { .. } | NatTarget::SrcNat { .. } => NatRange {
                        first: flow.meta.dst,
                        last: flow.meta.dst,
                        ports: None,
                    },
                };
                match self.nat.setup(&mut self.ct, now, Manip::Dst, &range) {
                    Ok(_) => self.counters.dstnat += 1,
                    Err(_) => return self.drop_flow(&flow, DropReason::NatExhausted),
                }
            }
        }
        if self
            .nat_rewrite(&mut frame, &mut flow, nat::Hook::Prerouting)
            .is_err()
        {
            return self.drop_flow(&flow, DropReason::NatRewrite);
        }

        if self.fib.is_local(flow.meta.dst) {
            return self.input(now, frame, flow, out);
        }
        if !self.ip_settings.ip_forward {
            return self.drop_flow(&flow, DropReason::ForwardingDisabled);
        }
        let Some(hop) = self.fib.lookup(flow.meta.dst) else {
            self.icmp_error_about(now, &frame, &flow, icmp::DEST_UNREACHABLE, 0, 0, out);
            return self.drop_flow(&flow, DropReason::NoRoute);
        };
        self.forward(now, frame, flow, hop, out)
    }

    /// Rewrites the packet for its connection's NAT at `hook`, and re-reads its header. A
    /// packet of a translated connection that cannot be rewritten must not leave untranslated:
    /// the error tells the caller to drop it.
    fn nat_rewrite(
        &mut self,
        frame: &mut [u8],
        flow: &mut Flow,
        hook: nat::Hook,
    ) -> Result<(), nat::RewriteError> {
        let Some(found) = flow.conn else {
            return Ok(());
        };
        if matches!(flow.state, CtState::Invalid | CtState::Untracked) {
            return Ok(());
        }
        let Some(conn) = self.ct.conn(found) else {
            return Ok(());
        };
        if !conn.has(status::SRC_NAT | status::DST_NAT) {
            return Ok(());
        }
        let ip = &mut frame[ETHERNET_HEADER_LEN..];
        let is_error = matches!(flow.meta.l4, L4::Icmp(IcmpMeta::Error { .. }));
        let changed = if is_error && flow.state == CtState::Related {
            nat::rewrite_icmp_error(ip, conn, found.dir, hook)
        } else {
            nat::rewrite(ip, conn, found.dir, hook)
        };
        if changed?.changed() {
            if is_error {
                let opts = ParseOptions {
                    verify_checksums: false,
                };
                if let Ok(m) = parse_ipv4(ip, opts) {
                    flow.meta = m;
                }
            } else {
                reread_addresses(&mut flow.meta, ip);
            }
        }
        Ok(())
    }

    fn input(
        &mut self,
        now: Instant,
        frame: Vec<u8>,
        flow: Flow,
        out: &mut Vec<Egress>,
    ) -> Disposition {
        self.counters.input += 1;
        let view = self.view(&flow, None);
        match self.rules.filter(&mut self.fw, now, Hook::Input, &view) {
            FilterVerdict::Accept => {}
            FilterVerdict::Drop => return self.drop_flow(&flow, DropReason::FilterInput),
            FilterVerdict::Reject(with) => {
                self.reject(now, &frame, &flow, with, out);
                return self.drop_flow(&flow, DropReason::FilterInput);
            }
        }
        if flow.conn.is_some_and(|f| f.slot == PENDING) {
            // netfilter's null binding at LOCAL_IN: the reply tuple must be unique too.
            let range = NatRange::addr(flow.meta.src);
            if self
                .nat
                .setup(&mut self.ct, now, Manip::Src, &range)
                .is_err()
            {
                return self.drop_flow(&flow, DropReason::NatExhausted);
            }
            if self.ct.confirm().is_none() {
                return self.dropped(DropReason::InsertFailed);
            }
        }
        let echo = matches!(
            flow.meta.l4,
            L4::Icmp(IcmpMeta::Query {
                icmp_type: icmp::ECHO_REQUEST,
                ..
            })
        );
        if echo && self.fib.is_own(flow.meta.dst) {
            if let Some(reply) = icmp::echo_reply(&frame) {
                self.counters.echo_replies += 1;
                self.output(now, reply, None, out);
            }
            return Disposition::Local;
        }
        self.counters.local_delivered += 1;
        out.push(Egress {
            dest: Dest::Local,
            frame,
        });
        Disposition::Local
    }

    fn forward(
        &mut self,
        now: Instant,
        mut frame: Vec<u8>,
        flow: Flow,
        hop: route::NextHop,
        out: &mut Vec<Egress>,
    ) -> Disposition {
        self.counters.forward += 1;
        // Linux's ip_forward checks TTL and MTU before the forward hook.
        if flow.meta.ttl <= 1 {
            self.icmp_error_about(now, &frame, &flow, icmp::TIME_EXCEEDED, 0, 0, out);
            return self.drop_flow(&flow, DropReason::TtlExceeded);
        }
        let mtu = self.ports[usize::from(hop.iface)].mtu;
        if flow.meta.total_len > mtu && flow.meta.dont_fragment {
            self.icmp_error_about(
                now,
                &frame,
                &flow,
                icmp::DEST_UNREACHABLE,
                icmp::FRAG_NEEDED,
                mtu,
                out,
            );
            return self.drop_flow(&flow, DropReason::FragNeeded);
        }
        let view = self.view(&flow, Some(hop.iface));
        match self.rules.filter(&mut self.fw, now, Hook::Forward, &view) {
            FilterVerdict::Accept => {}
            FilterVerdict::Drop => return self.drop_flow(&flow, DropReason::FilterForward),
            FilterVerdict::Reject(with) => {
                self.reject(now, &frame, &flow, with, out);
                return self.drop_flow(&flow, DropReason::FilterForward);
            }
        }
        decrement_ttl(&mut frame[ETHERNET_HEADER_LEN..]);
        self.postrouting(now, frame, flow, hop, out)
    }

    /// srcnat on a connection's first packet, the NAT rewrite, confirmation, then the neighbour.
    fn postrouting(
        &mut self,
        now: Instant,
        mut frame: Vec<u8>,
        mut flow: Flow,
        hop: route::NextHop,
        out: &mut Vec<Egress>,
    ) -> Disposition {
        self.counters.postrouting += 1;
        let pending = flow.conn.is_some_and(|f| f.slot == PENDING);
        if pending {
            let view = self.view(&flow, Some(hop.iface));
            let target = self.rules.nat(&mut self.fw, now, NatHook::Srcnat, &view);
            let range = match target {
                Some(NatTarget::Masquerade { to_ports }) => {
                    let Some(a) = self.fib.source_for(hop.iface, hop.via) else {
                        return self.drop_flow(&flow, DropReason::NoSourceAddress);
                    };
                    Some(NatRange {
                        first: a,
                        last: a,
                        ports: to_ports,
                    })
                }
                Some(NatTarget::SrcNat {
                    to_addresses,
                    to_ports,
                }) => {
                    let r = to_addresses.unwrap_or(AddrRange {
                        first: flow.meta.src,
                        last: flow.meta.src,
                    });
                    Some(NatRange {
                        first: r.first,
                        last: r.last,
                        ports: to_ports,
                    })
                }
                _ => None,
            };
            let snat = range.is_some();
            // Without a rule, netfilter's null binding still makes the reply tuple unique,
            // moving the source port only on a clash.
            let range = range.unwrap_or(NatRange {
                first: flow.meta.src,
                last: flow.meta.src,
                ports: None,
            });
            match self.nat.setup(&mut self.ct, now, Manip::Src, &range) {
                Ok(_) if snat => self.counters.srcnat += 1,
                Ok(_) => {}
                Err(_) => return self.drop_flow(&flow, DropReason::NatExhausted),
            }
        }
        if self
            .nat_rewrite(&mut frame, &mut flow, nat::Hook::Postrouting)
            .is_err()
        {
            return self.drop_flow(&flow, DropReason::NatRewrite);
        }
        if pending && self.ct.confirm().is_none() {
            return self.dropped(DropReason::InsertFailed);
        }
        let mtu = self.ports[usize::from(hop.iface)].mtu;
        if flow.meta.total_len > mtu {
            let Some(frags) = frag::fragment(&frame, mtu) else {
                return self.dropped(DropReason::FragNeeded);
            };
            self.counters.fragments_sent += frags.len() as u64;
            let mut last = Disposition::Queued;
            for f in frags {
                last = self.send_to_neighbour(now, f, hop, out);
            }
            return last;
        }
        self.send_to_neighbour(now, frame, hop, out)
    }

    fn send_to_neighbour(
        &mut self,
        now: Instant,
        mut frame: Vec<u8>,
        hop: route::NextHop,
        out: &mut Vec<Egress>,
    ) -> Disposition {
        let port_mac = self.ports[usize::from(hop.iface)].mac;
        frame[6..12].copy_from_slice(&port_mac);
        match self.neigh.resolve(now, hop.iface, hop.via, &frame) {
            Resolution::Known(mac) => {
                frame[0..6].copy_from_slice(&mac);
                self.transmit(hop.iface, frame, out);
                Disposition::Forwarded(hop.iface)
            }
            Resolution::Queued { ask } => {
                self.counters.queued_for_neighbour += 1;
                if ask {
                    self.send_arp_request(hop.iface, hop.via, out);
                }
                Disposition::Queued
            }
            Resolution::QueueFull => self.dropped(DropReason::NeighbourQueueFull),
        }
    }

    /// A packet the router itself sends (a frame with an IPv4 packet; Ethernet addresses are
    /// filled in here). `related` attaches it to the connection of the packet it answers, as
    /// netfilter's `nf_ct_attach` does for ICMP errors.
    pub fn output(
        &mut self,
        now: Instant,
        mut frame: Vec<u8>,
        related: Option<Found>,
        out: &mut Vec<Egress>,
    ) -> Disposition {
        self.counters.output += 1;
        let opts = ParseOptions {
            verify_checksums: false,
        };
        let Ok(meta) = parse_ipv4(frame.get(ETHERNET_HEADER_LEN..).unwrap_or(&[]), opts) else {
            return self.dropped(DropReason::BadIpHeader);
        };
        let mut flow = match related {
            Some(f) => Flow {
                meta,
                state: CtState::Related,
                conn: Some(f),
                in_iface: None,
                src_mac: None,
            },
            None => {
                let t = self.ct.track(now, &meta);
                Flow {
                    meta,
                    state: t.state,
                    conn: t.conn,
                    in_iface: None,
                    src_mac: None,
                }
            }
        };
        let Some(hop) = self.fib.lookup(flow.meta.dst) else {
            return self.drop_flow(&flow, DropReason::NoRoute);
        };
        let view = self.view(&flow, Some(hop.iface));
        if self.rules.filter(&mut self.fw, now, Hook::Output, &view) != FilterVerdict::Accept {
            return self.drop_flow(&flow, DropReason::FilterOutput);
        }
        if related.is_some() {
            // The error carries its connection only for NAT; it is not the packet in flight.
            if self
                .nat_rewrite(&mut frame, &mut flow, nat::Hook::Postrouting)
                .is_err()
            {
                return self.dropped(DropReason::NatRewrite);
            }
            return self.send_to_neighbour(now, frame, hop, out);
        }
        self.postrouting(now, frame, flow, hop, out)
    }

    /// Sends an ICMP error about the packet in `frame` from the router's address on the port
    /// it came in by (or towards its source).
    #[allow(clippy::too_many_arguments)]
    fn icmp_error_about(
        &mut self,
        now: Instant,
        frame: &[u8],
        flow: &Flow,
        icmp_type: u8,
        code: u8,
        mtu: u16,
        out: &mut Vec<Egress>,
    ) {
        let src = flow
            .in_iface
            .and_then(|i| self.fib.source_for(i, flow.meta.src))
            .or_else(|| {
                let hop = self.fib.lookup(flow.meta.src)?;
                self.fib.source_for(hop.iface, hop.via)
            });
        let Some(src) = src else { return };
        let Some(err) = icmp::error(src, frame, icmp_type, code, mtu) else {
            return;
        };
        self.counters.icmp_errors_sent += 1;
        // The error belongs to the connection of the packet it is about, in the other direction.
        let related = flow.conn.filter(|f| f.slot != PENDING).map(|f| Found {
            slot: f.slot,
            dir: f.dir.flip(),
        });
        self.output(now, err, related, out);
    }

    fn reject(
        &mut self,
        now: Instant,
        frame: &[u8],
        flow: &Flow,
        with: RejectWith,
        out: &mut Vec<Egress>,
    ) {
        self.counters.rejects_sent += 1;
        match with.icmp_code() {
            Some(code) => {
                self.icmp_error_about(now, frame, flow, icmp::DEST_UNREACHABLE, code, 0, out)
            }
            None => {
                if let Some(rst) = icmp::tcp_reset(frame) {
                    self.output(now, rst, None, out);
                }
            }
        }
    }
}

/// After a NAT rewrite: the packet's addresses and ports (or echo id) as they are now, read
/// from the bytes without parsing the packet again (the per-packet NAT path).
fn reread_addresses(meta: &mut Ipv4Meta, ip: &[u8]) {
    let at = |i: usize| Ipv4Addr::new(ip[i], ip[i + 1], ip[i + 2], ip[i + 3]);
    meta.src = at(12);
    meta.dst = at(16);
    let l4 = &ip[usize::from(meta.header_len)..];
    let port = |i: usize| u16::from_be_bytes([l4[i], l4[i + 1]]);
    match &mut meta.l4 {
        L4::Tcp(t) => (t.sport, t.dport) = (port(0), port(2)),
        L4::Udp { sport, dport } => (*sport, *dport) = (port(0), port(2)),
        L4::Icmp(IcmpMeta::Query { id, .. }) => *id = port(4),
        _ => {}
    }
}

/// TTL minus one, with the header checksum updated incrementally (RFC 1624), as `ip_decrease_ttl`.
fn decrement_ttl(ip: &mut [u8]) {
    let old = u16::from_be_bytes([ip[8], ip[9]]);
    ip[8] = ip[8].wrapping_sub(1);
    let new = u16::from_be_bytes([ip[8], ip[9]]);
    let c = u16::from_be_bytes([ip[10], ip[11]]);
    ip[10..12].copy_from_slice(&checksum::update16(c, old, new).to_be_bytes());
}
