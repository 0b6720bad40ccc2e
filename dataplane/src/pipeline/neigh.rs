//! Neighbours (the ARP cache): static entries from `/ip arp`, entries learned from ARP, and the
//! frames waiting for a next hop to answer.
//!
//! As on Linux (and so RouterOS), an entry is learned from an ARP request addressed to the router
//! or a reply to one of its requests, never from IP traffic; a packet to an unresolved neighbour
//! waits in a short queue while the router asks, and is dropped if nobody answers.

use crate::iface::IfIndex;
use crate::time::Instant;
use crate::wire::ETHERTYPE_ARP;
use hashbrown::HashMap;
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::EtherTypes;
use pnet_packet::Packet;
use std::net::Ipv4Addr;

pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];

/// Frames kept per unresolved neighbour (Linux `unres_qlen` is about 100 packets by bytes; a
/// small router keeps fewer).
pub const QUEUE_PER_NEIGHBOUR: usize = 32;
/// How often an unanswered neighbour is asked again.
const RETRY_NS: u64 = 1_000_000_000;
/// Unanswered requests before the waiting frames are dropped (Linux `mcast_solicit` = 3).
const MAX_PROBES: u8 = 3;

/// An ARP message, as far as the router reads it.
fn since(now: Instant, earlier: Instant) -> u64 {
    now.as_nanos().saturating_sub(earlier.as_nanos())
}

fn after(t: Instant, ns: u64) -> Instant {
    Instant::from_nanos(t.as_nanos().saturating_add(ns))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    pub request: bool,
    pub sender_mac: [u8; 6],
    pub sender_ip: Ipv4Addr,
    pub target_mac: [u8; 6],
    pub target_ip: Ipv4Addr,
}

impl Arp {
    /// Reads the ARP payload of an Ethernet frame (after the 14-byte header); `None` for
    /// anything but Ethernet/IPv4 requests and replies.
    pub fn parse(payload: &[u8]) -> Option<Arp> {
        let p = ArpPacket::new(payload)?;
        if p.get_hardware_type() != ArpHardwareTypes::Ethernet
            || p.get_protocol_type() != EtherTypes::Ipv4
            || p.get_hw_addr_len() != 6
            || p.get_proto_addr_len() != 4
        {
            return None;
        }
        let request = match p.get_operation() {
            ArpOperations::Request => true,
            ArpOperations::Reply => false,
            _ => return None,
        };
        Some(Arp {
            request,
            sender_mac: p.get_sender_hw_addr().octets(),
            sender_ip: p.get_sender_proto_addr(),
            target_mac: p.get_target_hw_addr().octets(),
            target_ip: p.get_target_proto_addr(),
        })
    }

    /// The whole Ethernet frame carrying this message from `src_mac` to `dst_mac`.
    pub fn frame(&self, src_mac: [u8; 6], dst_mac: [u8; 6]) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 28];
        f[0..6].copy_from_slice(&dst_mac);
        f[6..12].copy_from_slice(&src_mac);
        f[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
        if let Some(mut p) = MutableArpPacket::new(&mut f[14..]) {
            p.set_hardware_type(ArpHardwareTypes::Ethernet);
            p.set_protocol_type(EtherTypes::Ipv4);
            p.set_hw_addr_len(6);
            p.set_proto_addr_len(4);
            p.set_operation(if self.request {
                ArpOperations::Request
            } else {
                ArpOperations::Reply
            });
            p.set_sender_hw_addr(self.sender_mac.into());
            p.set_sender_proto_addr(self.sender_ip);
            p.set_target_hw_addr(self.target_mac.into());
            p.set_target_proto_addr(self.target_ip);
            debug_assert_eq!(p.packet().len(), 28);
        }
        f
    }
}

#[derive(Debug)]
enum State {
    Static([u8; 6]),
    Reachable {
        mac: [u8; 6],
        until: Instant,
    },
    Incomplete {
        queue: Vec<Vec<u8>>,
        asked: Instant,
        probes: u8,
    },
}

/// A neighbour as the API lists it (`/ip arp print`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighbourView {
    pub iface: IfIndex,
    pub address: Ipv4Addr,
    pub mac: Option<[u8; 6]>,
    pub dynamic: bool,
}

/// What a [`Neighbours::tick`] found to do.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tick {
    /// Neighbours to ask again.
    pub ask: Vec<(IfIndex, Ipv4Addr)>,
    /// Frames whose neighbour never answered, with the port they were for.
    pub unresolved: Vec<(IfIndex, Vec<u8>)>,
}

/// What to do with a frame bound for a neighbour.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Send it to this MAC address.
    Known([u8; 6]),
    /// It was queued; send this ARP request (if it is time to ask).
    Queued { ask: bool },
    /// The queue is full: the frame is dropped.
    QueueFull,
}

/// The ARP cache of all ports.
#[derive(Debug, Default)]
pub struct Neighbours {
    map: HashMap<(IfIndex, Ipv4Addr), State>,
    reachable_ns: u64,
    /// Frames dropped because their neighbour never answered.
    pub unresolved_drops: u64,
}

impl Neighbours {
    /// `reachable_ns` is how long a learned entry is trusted (`/ip settings arp-timeout`).
    pub fn new(reachable_ns: u64) -> Self {
        Neighbours {
            map: HashMap::new(),
            reachable_ns,
            unresolved_drops: 0,
        }
    }

    pub fn set_reachable_time(&mut self, ns: u64) {
        self.reachable_ns = ns;
    }

    /// Replaces the static entries (from `/ip arp`); learned ones stay.
    pub fn set_static(&mut self, entries: impl IntoIterator<Item = (IfIndex, Ipv4Addr, [u8; 6])>) {
        self.map.retain(|_, s| !matches!(s, State::Static(_)));
        for (i, a, mac) in entries {
            self.map.insert((i, a), State::Static(mac));
        }
    }

    /// The MAC address for `ip` on `iface`, if known and fresh.
    pub fn get(&self, now: Instant, iface: IfIndex, ip: Ipv4Addr) -> Option<[u8; 6]> {
        match self.map.get(&(iface, ip))? {
            State::Static(mac) => Some(*mac),
            State::Reachable { mac, until } if *until > now => Some(*mac),
            _ => None,
        }
    }

    /// Resolves the next hop of `frame`, queueing it while the neighbour is asked.
    pub fn resolve(
        &mut self,
        now: Instant,
        iface: IfIndex,
        ip: Ipv4Addr,
        frame: &[u8],
    ) -> Resolution {
        if let Some(mac) = self.get(now, iface, ip) {
            return Resolution::Known(mac);
        }
        match self.map.get_mut(&(iface, ip)) {
            Some(State::Incomplete {
                queue,
                asked,
                probes,
            }) => {
                if queue.len() >= QUEUE_PER_NEIGHBOUR {
                    return Resolution::QueueFull;
                }
                queue.push(frame.to_vec());
                let ask = since(now, *asked) >= RETRY_NS && *probes < MAX_PROBES;
                if ask {
                    *asked = now;
                    *probes += 1;
                }
                Resolution::Queued { ask }
            }
            _ => {
                // Unknown, or a learned entry gone stale: ask again.
                self.map.insert(
                    (iface, ip),
                    State::Incomplete {
                        queue: vec![frame.to_vec()],
                        asked: now,
                        probes: 1,
                    },
                );
                Resolution::Queued { ask: true }
            }
        }
    }

    /// Learns `ip` is at `mac` on `iface`; returns the frames that were waiting for it. A static
    /// entry is never overwritten.
    pub fn learn(
        &mut self,
        now: Instant,
        iface: IfIndex,
        ip: Ipv4Addr,
        mac: [u8; 6],
    ) -> Vec<Vec<u8>> {
        let until = after(now, self.reachable_ns);
        match self.map.get_mut(&(iface, ip)) {
            Some(State::Static(_)) => Vec::new(),
            Some(s) => match std::mem::replace(s, State::Reachable { mac, until }) {
                State::Incomplete { queue, .. } => queue,
                _ => Vec::new(),
            },
            None => {
                self.map
                    .insert((iface, ip), State::Reachable { mac, until });
                Vec::new()
            }
        }
    }

    /// Whether the router already has (or is resolving) an entry for `ip`: an ARP reply or
    /// gratuitous message updates such entries only (Linux does not create entries from replies
    /// it did not ask for).
    pub fn knows(&self, iface: IfIndex, ip: Ipv4Addr) -> bool {
        self.map.contains_key(&(iface, ip))
    }

    /// Gives up on neighbours that did not answer `MAX_PROBES` requests, and forgets learned
    /// entries long stale. Says which neighbours to ask again, and hands back the frames that
    /// waited in vain (the router answers their senders with host-unreachable).
    pub fn tick(&mut self, now: Instant) -> Tick {
        let mut t = Tick::default();
        let reach = self.reachable_ns;
        self.map.retain(|&(i, a), s| match s {
            State::Static(_) => true,
            State::Reachable { until, .. } => since(now, *until) < reach,
            State::Incomplete {
                queue,
                asked,
                probes,
            } => {
                if since(now, *asked) < RETRY_NS {
                    return true;
                }
                if *probes >= MAX_PROBES {
                    t.unresolved
                        .extend(std::mem::take(queue).into_iter().map(|f| (i, f)));
                    return false;
                }
                *asked = now;
                *probes += 1;
                t.ask.push((i, a));
                true
            }
        });
        self.unresolved_drops += t.unresolved.len() as u64;
        t
    }

    pub fn view(&self, now: Instant) -> Vec<NeighbourView> {
        let mut v: Vec<NeighbourView> = self
            .map
            .iter()
            .map(|(&(iface, address), s)| NeighbourView {
                iface,
                address,
                mac: match s {
                    State::Static(m) => Some(*m),
                    State::Reachable { mac, until } if *until > now => Some(*mac),
                    _ => None,
                },
                dynamic: !matches!(s, State::Static(_)),
            })
            .collect();
        v.sort_by_key(|n| (n.iface, n.address));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
    const MAC_R: [u8; 6] = [2, 0, 0, 0, 0, 1];

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn arp_frames_round_trip() {
        let req = Arp {
            request: true,
            sender_mac: MAC_R,
            sender_ip: ip("198.51.100.1"),
            target_mac: [0; 6],
            target_ip: ip("198.51.100.10"),
        };
        let f = req.frame(MAC_R, BROADCAST_MAC);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        // Literal bytes of the request, as tcpdump shows them.
        assert_eq!(&f[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(Arp::parse(&f[14..]), Some(req));
        assert_eq!(Arp::parse(&f[14..30]), None);
    }

    #[test]
    fn frames_wait_for_the_answer_and_give_up_after_three_requests() {
        let mut n = Neighbours::new(30_000_000_000);
        let t0 = Instant::from_nanos(1_000);
        let a = ip("198.51.100.10");
        assert_eq!(
            n.resolve(t0, 1, a, b"one"),
            Resolution::Queued { ask: true }
        );
        assert_eq!(
            n.resolve(t0, 1, a, b"two"),
            Resolution::Queued { ask: false }
        );
        let released = n.learn(after(t0, 10), 1, a, MAC_A);
        assert_eq!(released, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(n.resolve(t0, 1, a, b"x"), Resolution::Known(MAC_A));

        let b = ip("198.51.100.11");
        n.resolve(t0, 1, b, b"lost");
        assert_eq!(n.tick(after(t0, RETRY_NS)).ask, vec![(1, b)]);
        assert_eq!(n.tick(after(t0, 2 * RETRY_NS)).ask, vec![(1, b)]);
        let last = n.tick(after(t0, 3 * RETRY_NS));
        assert!(last.ask.is_empty());
        assert_eq!(last.unresolved, vec![(1, b"lost".to_vec())]);
        assert_eq!(n.unresolved_drops, 1);
        assert!(!n.knows(1, b));
    }

    #[test]
    fn static_entries_are_not_overwritten_and_learned_ones_expire() {
        let mut n = Neighbours::new(1_000);
        let a = ip("203.0.113.1");
        n.set_static([(0, a, MAC_A)]);
        let t = Instant::from_nanos(5);
        n.learn(t, 0, a, MAC_R);
        assert_eq!(n.get(t, 0, a), Some(MAC_A));
        let b = ip("203.0.113.9");
        n.learn(t, 0, b, MAC_R);
        assert_eq!(n.get(after(t, 999), 0, b), Some(MAC_R));
        assert_eq!(n.get(after(t, 1_000), 0, b), None);
    }
}
