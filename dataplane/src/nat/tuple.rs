//! Choosing a connection's unique NAT tuple: netfilter's `nf_nat_setup_info`,
//! `get_unique_tuple`, `find_best_ips_proto` and `nf_nat_l4proto_unique_tuple`.
//!
//! "Used" means the would-be reply tuple (the inverse of a candidate) is already a key of a live
//! entry, in either direction (`nf_nat_used_tuple`). The pending connection itself is not in the
//! table, so it never clashes with itself.
//!
//! Bounds per call: at most `2 + 128 + 64 + 32 + 16 + 8` table lookups (the original tuple, the
//! tuple with the range's address, then the port search's rounds); no allocation.

use super::{Manip, NatRange};
use crate::conntrack::{status, Conntrack, Dir, Found, Tuple, PENDING};
use crate::time::Instant;
use crate::wire::{PROTO_ICMP, PROTO_TCP, PROTO_UDP};
use shared::config::PortRange;
use std::net::Ipv4Addr;

/// Probes of the first search round (`NF_NAT_MAX_ATTEMPTS`); each failed round halves it.
const MAX_ATTEMPTS: u32 = 128;

/// Why no translation could be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NatError {
    /// Every candidate in the range is used: the packet must be dropped (netfilter would fail at
    /// confirmation, counting `insert_failed`).
    #[error("no free tuple in the NAT range")]
    NoFreeTuple,
    /// NAT is decided on a connection's first packet only, before it is confirmed.
    #[error("no new connection is pending")]
    NotPending,
}

/// Counters for the dashboard and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NatCounters {
    /// Connections whose tuple a translation changed.
    pub mapped: u64,
    /// Port (or echo id) searches run because the tuple was used or outside the range.
    pub searches: u64,
    /// Searches that found no free tuple.
    pub search_failed: u64,
}

/// The part of a tuple a search may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// TCP and UDP: the source port for SNAT, the destination port for DNAT.
    Port,
    /// ICMP queries: the echo id, kept in `sport` for both directions.
    EchoId,
}

fn key_of(proto: u8) -> Option<Key> {
    match proto {
        PROTO_TCP | PROTO_UDP => Some(Key::Port),
        PROTO_ICMP => Some(Key::EchoId),
        _ => None,
    }
}

fn key(t: &Tuple<Ipv4Addr>, manip: Manip, k: Key) -> u16 {
    match (k, manip) {
        (Key::Port, Manip::Dst) => t.dport,
        _ => t.sport,
    }
}

fn set_key(t: &mut Tuple<Ipv4Addr>, manip: Manip, k: Key, v: u16) {
    match (k, manip) {
        (Key::Port, Manip::Dst) => t.dport = v,
        _ => t.sport = v,
    }
}

/// `l4proto_in_range`: protocols without a key are always in range.
fn key_in_range(t: &Tuple<Ipv4Addr>, manip: Manip, ports: PortRange) -> bool {
    let (lo, hi) = port_bounds(ports);
    key_of(t.proto).is_none_or(|k| (lo..=hi).contains(&key(t, manip, k)))
}

fn port_bounds(p: PortRange) -> (u16, u16) {
    (p.first.min(p.last), p.first.max(p.last))
}

/// `nf_in_range`: would this tuple, as a source, satisfy the range?
fn src_in_range(t: &Tuple<Ipv4Addr>, range: &NatRange) -> bool {
    let (lo, hi) = range.addrs();
    (lo..=hi).contains(&u32::from(t.src))
        && range.ports.is_none_or(|p| key_in_range(t, Manip::Src, p))
}

/// Bob Jenkins' lookup3 final mix over one word, as the kernel's `jhash2(k, 1, initval)`.
fn jhash_1word(k: u32, initval: u32) -> u32 {
    let init = 0xdead_beef_u32.wrapping_add(1 << 2).wrapping_add(initval);
    let (mut a, mut b, mut c) = (init.wrapping_add(k), init, init);
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(14));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(11));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(25));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(16));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(4));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(14));
    c ^= b;
    c.wrapping_sub(b.rotate_left(24))
}

/// `find_best_ips_proto`: the address in the range for this (source, destination) pair. The
/// choice hashes both, so "servers see the same client coming from the same IP" for as long as
/// the range is unchanged, across restarts. The words are read as the kernel reads them on a
/// little-endian host.
fn pick_addr(t: &Tuple<Ipv4Addr>, range: &NatRange) -> Ipv4Addr {
    let (lo, hi) = range.addrs();
    if lo == hi {
        return Ipv4Addr::from(lo);
    }
    let word = |a: Ipv4Addr| u32::from_le_bytes(a.octets());
    let j = jhash_1word(word(t.src), word(t.dst));
    let dist = u64::from(hi - lo) + 1;
    // reciprocal_scale: j scaled into [0, dist).
    let off = (u64::from(j) * dist) >> 32;
    Ipv4Addr::from(lo + off as u32)
}

/// SplitMix64: the search's random start offsets, reproducible from the caller's seed.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn next_u16(&mut self) -> u16 {
        (self.next_u64() >> 48) as u16
    }
}

/// NAT's own state: the random source of port searches and the counters. Translations live in
/// the connections' reply tuples, not here.
#[derive(Debug, Clone)]
pub struct Nat {
    rng: Rng,
    counters: NatCounters,
}

impl Nat {
    /// `seed` makes the port choice reproducible (tests, replays); give a random one live.
    pub fn new(seed: u64) -> Self {
        Nat {
            rng: Rng(seed),
            counters: NatCounters::default(),
        }
    }

    pub fn counters(&self) -> &NatCounters {
        &self.counters
    }

    /// Decides the translation of the pending (new, unconfirmed) connection for `manip` within
    /// `range` (`nf_nat_setup_info`): picks a unique tuple, then sets the pending reply tuple to
    /// its inverse and the `SRC_NAT`/`DST_NAT` status bit. Call DNAT at prerouting, then SNAT at
    /// postrouting; when no srcnat rule matched, call `Manip::Src` with the current source
    /// address alone ([`NatRange::addr`]) — netfilter's null binding, which keeps the tuple
    /// unless it clashes and then moves only the source port.
    ///
    /// `Ok(true)`: the tuple changed; `Ok(false)`: it did not (a null binding).
    ///
    /// DNAT never fails for lack of a free tuple: as in netfilter, a DNAT tuple whose reply is
    /// used (the port cannot change, or every port of `to-ports` is used) is kept, and the source
    /// manip that follows resolves the clash by moving the source port. SNAT fails with
    /// [`NatError::NoFreeTuple`] when its result would still clash; the caller drops the packet.
    pub fn setup(
        &mut self,
        ct: &mut Conntrack,
        now: Instant,
        manip: Manip,
        range: &NatRange,
    ) -> Result<bool, NatError> {
        let pending = Found {
            slot: PENDING,
            dir: Dir::Orig,
        };
        let conn = ct.conn(pending).ok_or(NatError::NotPending)?;
        // What the packet looks like now: the inverse of the reply tuple (earlier manips included).
        let curr = conn.reply().invert().ok_or(NatError::NotPending)?;
        let new = self.unique_tuple(ct, now, &curr, manip, range)?;
        if new == curr {
            return Ok(false);
        }
        let reply = new.invert().ok_or(NatError::NoFreeTuple)?;
        let bit = match manip {
            Manip::Src => status::SRC_NAT,
            Manip::Dst => status::DST_NAT,
        };
        ct.set_pending_reply(reply, bit);
        self.counters.mapped += 1;
        Ok(true)
    }

    /// `get_unique_tuple`.
    fn unique_tuple(
        &mut self,
        ct: &mut Conntrack,
        now: Instant,
        curr: &Tuple<Ipv4Addr>,
        manip: Manip,
        range: &NatRange,
    ) -> Result<Tuple<Ipv4Addr>, NatError> {
        let mut used = |t: &Tuple<Ipv4Addr>| t.invert().is_none_or(|r| ct.tuple_taken(now, &r));

        // 1. SNAT: keep the tuple as it is when it already fits and is free (port preservation).
        if manip == Manip::Src && src_in_range(curr, range) && !used(curr) {
            return Ok(*curr);
        }

        // 2. The address.
        let mut t = *curr;
        let addr = pick_addr(curr, range);
        match manip {
            Manip::Src => t.src = addr,
            Manip::Dst => t.dst = addr,
        }

        // 3. Keep the port if it is in range and free. A one-port range is taken as it is:
        //    there is nothing to search.
        match range.ports {
            Some(p) if key_in_range(&t, manip, p) => {
                let (lo, hi) = port_bounds(p);
                if lo == hi {
                    return match manip {
                        Manip::Src if used(&t) => Err(NatError::NoFreeTuple),
                        _ => Ok(t),
                    };
                }
                if !used(&t) {
                    return Ok(t);
                }
            }
            Some(_) => {}
            None => {
                if !used(&t) {
                    return Ok(t);
                }
            }
        }

        // 4. Search the port (or echo id).
        if self.search(&mut t, manip, range.ports, &mut used) || manip == Manip::Dst {
            Ok(t)
        } else {
            Err(NatError::NoFreeTuple)
        }
    }

    /// `nf_nat_l4proto_unique_tuple`: probes keys sequentially from a random offset (from 0 for
    /// DNAT), 128 at most, then retries from new random offsets with half as many while the
    /// round had at least 16. Without a range, SNAT keeps the port's class (<512: 1-511,
    /// 512-1023: 600-1023, else 1024-65535), DNAT keeps the port, and an echo id may be any.
    /// `false` when nothing free was found (or the key may not change); `t` then holds the last
    /// probe, which is used.
    fn search(
        &mut self,
        t: &mut Tuple<Ipv4Addr>,
        manip: Manip,
        ports: Option<PortRange>,
        used: &mut impl FnMut(&Tuple<Ipv4Addr>) -> bool,
    ) -> bool {
        let Some(k) = key_of(t.proto) else {
            return false;
        };
        let (min, size): (u32, u32) = match (k, ports) {
            (_, Some(p)) => {
                let (lo, hi) = port_bounds(p);
                (u32::from(lo), u32::from(hi - lo) + 1)
            }
            (Key::EchoId, None) => (0, 65536),
            (Key::Port, None) if manip == Manip::Dst => return false,
            (Key::Port, None) => match key(t, manip, k) {
                0..=511 => (1, 511),
                512..=1023 => (600, 424),
                _ => (1024, 64512),
            },
        };
        self.counters.searches += 1;
        let mut off = match manip {
            Manip::Src => self.rng.next_u16(),
            Manip::Dst => 0,
        };
        let mut attempts = size.min(MAX_ATTEMPTS);
        loop {
            for _ in 0..attempts {
                set_key(t, manip, k, (min + u32::from(off) % size) as u16);
                if !used(t) {
                    return true;
                }
                off = off.wrapping_add(1);
            }
            if attempts >= size || attempts < 16 {
                break;
            }
            attempts /= 2;
            off = self.rng.next_u16();
        }
        self.counters.search_failed += 1;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::Conn;
    use crate::wire::build::{self, TcpSpec};
    use crate::wire::{parse_ethernet_ipv4, tcp_flags, ParseOptions};
    use shared::tracking::TrackingSettings;

    const NOW: Instant = Instant::from_secs(1_000);
    const WAN: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);

    fn lan(host: u8) -> Ipv4Addr {
        Ipv4Addr::new(198, 51, 100, host)
    }

    fn ct() -> Conntrack {
        Conntrack::new(TrackingSettings::default(), 100_000)
    }

    /// Tracks a SYN from `src:sport` to `SERVER:80`; the connection is left pending.
    fn syn(ct: &mut Conntrack, src: Ipv4Addr, sport: u16) {
        let f = build::tcp_frame(
            src,
            SERVER,
            TcpSpec {
                sport,
                flags: tcp_flags::SYN,
                ..TcpSpec::default()
            },
        );
        let (_, ip) = parse_ethernet_ipv4(&f, ParseOptions::default())
            .unwrap()
            .unwrap();
        let t = ct.track(NOW, &ip);
        assert_eq!(t.conn.map(|f| f.slot), Some(PENDING));
    }

    fn pending(ct: &Conntrack) -> Conn<Ipv4Addr> {
        *ct.conn(Found {
            slot: PENDING,
            dir: Dir::Orig,
        })
        .unwrap()
    }

    /// SNATs a new connection from `src:sport`, confirms it, returns the mapped source port.
    fn snat(nat: &mut Nat, ct: &mut Conntrack, src: Ipv4Addr, sport: u16, r: &NatRange) -> u16 {
        syn(ct, src, sport);
        nat.setup(ct, NOW, Manip::Src, r).unwrap();
        let reply = *pending(ct).reply();
        assert_eq!(reply.dst, WAN);
        assert!(ct.confirm().is_some());
        reply.dport
    }

    #[test]
    fn ports_below_1024_keep_their_class() {
        let (mut nat, mut ct) = (Nat::new(1), ct());
        let r = NatRange::addr(WAN);
        for (sport, class) in [(200, 1..=511), (550, 600..=1023), (700, 600..=1023)] {
            assert_eq!(snat(&mut nat, &mut ct, lan(10), sport, &r), sport);
            for host in 11..40 {
                let p = snat(&mut nat, &mut ct, lan(host), sport, &r);
                assert!(class.contains(&p), "{sport} -> {p}");
            }
        }
    }

    #[test]
    fn to_ports_are_respected_until_the_range_is_full() {
        let (mut nat, mut ct) = (Nat::new(2), ct());
        let r = NatRange::addr(WAN).with_ports(PortRange {
            first: 10000,
            last: 10009,
        });
        let mut got: Vec<u16> = (1..=10)
            .map(|h| snat(&mut nat, &mut ct, lan(h), 40000, &r))
            .collect();
        got.sort_unstable();
        assert_eq!(got, (10000..=10009).collect::<Vec<_>>());

        syn(&mut ct, lan(11), 40000);
        assert_eq!(
            nat.setup(&mut ct, NOW, Manip::Src, &r),
            Err(NatError::NoFreeTuple)
        );
        assert_eq!(nat.counters().search_failed, 1);
        // Nothing was changed on the refused connection.
        assert_eq!(pending(&ct).status & status::SRC_NAT, 0);
    }

    #[test]
    fn a_one_port_range_that_is_used_fails_for_snat() {
        let (mut nat, mut ct) = (Nat::new(3), ct());
        let r = NatRange::addr(WAN).with_ports(PortRange::one(5000));
        assert_eq!(snat(&mut nat, &mut ct, lan(1), 40000, &r), 5000);
        syn(&mut ct, lan(2), 40000);
        assert_eq!(
            nat.setup(&mut ct, NOW, Manip::Src, &r),
            Err(NatError::NoFreeTuple)
        );
    }

    #[test]
    fn the_address_is_hashed_from_source_and_destination_within_the_range() {
        let r = NatRange {
            first: Ipv4Addr::new(203, 0, 113, 10),
            last: Ipv4Addr::new(203, 0, 113, 13),
            ports: None,
        };
        let mut seen = std::collections::HashSet::new();
        for host in 1..=64 {
            let t = Tuple {
                src: lan(host),
                dst: SERVER,
                sport: 40000,
                dport: 80,
                proto: PROTO_TCP,
            };
            let a = pick_addr(&t, &r);
            assert!((u32::from(r.first)..=u32::from(r.last)).contains(&u32::from(a)));
            assert_eq!(a, pick_addr(&t, &r), "deterministic");
            seen.insert(a);
        }
        assert_eq!(seen.len(), 4, "spread over the whole range");
    }

    #[test]
    fn the_seed_makes_the_choice_reproducible() {
        let run = |seed| {
            let (mut nat, mut ct) = (Nat::new(seed), ct());
            let r = NatRange::addr(WAN);
            (1..=5)
                .map(|h| snat(&mut nat, &mut ct, lan(h), 40000, &r))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn setup_needs_a_pending_connection() {
        let (mut nat, mut ct) = (Nat::new(4), ct());
        assert_eq!(
            nat.setup(&mut ct, NOW, Manip::Src, &NatRange::addr(WAN)),
            Err(NatError::NotPending)
        );
    }
}
