//! The connection-tracking engine: Linux conntrack's behaviour, RouterOS's settings.
//!
//! [`Conntrack::track`] takes one checked IPv4 packet and the time, finds or creates its
//! connection, runs the protocol's state machine, and says what state the firewall will see
//! (new, established, related, invalid, untracked). As in netfilter, a new connection is first
//! *unconfirmed*: it is held aside (NAT may still change its reply tuple) and enters the table
//! only on [`Conntrack::confirm`], when its first packet leaves; a packet dropped before that
//! leaves no entry.
//!
//! Bounds per packet: one or two hash lookups (two when a SYN reopens a closed entry), a constant
//! amount of state-machine work, and when the table is full a bounded early-drop scan
//! (`EARLY_DROP_SLOTS` wheel ticks, at most `EARLY_DROP_ENTRIES` entries). Expiry work is done in
//! [`Conntrack::expire`], in deadline order, not per packet.

pub mod entry;
pub mod format;
pub mod table;
pub mod tcp;
pub mod tuple;

use crate::time::Instant;
use crate::wire::{IcmpMeta, Ipv4Meta, Quoted, L4, PROTO_TCP, PROTO_UDP};
pub use entry::{status, Conn, ProtoState};
use shared::tracking::TrackingSettings;
use std::net::Ipv4Addr;
pub use table::{Found, Removal, Table};
use tcp::{TcpConn, TcpPolicy, TcpState, TcpTimeouts, Verdict};
pub use tuple::{Address, Dir, Tuple};

/// How long a UDP flow must stay active before a reply makes it a stream (netfilter: 2 s).
const UDP_STREAM_AFTER_NS: u64 = 2_000_000_000;
const EARLY_DROP_SLOTS: usize = 256;
const EARLY_DROP_ENTRIES: usize = 256;
/// RouterOS never makes the table larger than this (routeros.md §1.1).
pub const MAX_ENTRIES_CEILING: usize = 1_048_576;

/// The connection state a packet has, as `connection-state` matches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CtState {
    New,
    Established,
    Related,
    Invalid,
    Untracked,
}

impl CtState {
    pub fn as_str(self) -> &'static str {
        match self {
            CtState::New => "new",
            CtState::Established => "established",
            CtState::Related => "related",
            CtState::Invalid => "invalid",
            CtState::Untracked => "untracked",
        }
    }
}

/// The outcome of tracking one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracked {
    pub state: CtState,
    /// The packet's connection and its direction (for a new connection: the pending entry).
    pub conn: Option<Found>,
    /// Why the packet is invalid, or why it must be dropped.
    pub reason: Option<&'static str>,
    /// The table is full and nothing could be evicted: drop the packet.
    pub drop: bool,
}

impl Tracked {
    fn with(state: CtState, conn: Option<Found>) -> Self {
        Tracked {
            state,
            conn,
            reason: None,
            drop: false,
        }
    }
}

/// Counters for the dashboard and `/metrics`: the feed's own type, so the browser and the engine
/// count the same fields.
pub use shared::feed::ConntrackCounters as Counters;

/// The pending slot number: the unconfirmed entry of the packet in flight.
pub const PENDING: u32 = u32::MAX - 1;

/// The slot number of the entry the packet in flight just ended (a RST on an unassured
/// connection): it is out of the table, but the packet still belongs to it, so NAT still
/// translates it (netfilter keeps the dying conntrack attached to the skb).
pub const KILLED: u32 = u32::MAX - 2;

/// Timeouts in nanoseconds, derived from the settings once per change.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    tcp: TcpTimeouts,
    udp: u64,
    udp_stream: u64,
    icmp: u64,
    generic: u64,
}

impl Timeouts {
    fn from(s: &TrackingSettings) -> Self {
        let ns = |d: shared::duration::Duration| d.as_nanos();
        let mut by_state = [0u64; 10];
        by_state[TcpState::SynSent as usize] = ns(s.tcp_syn_sent_timeout);
        by_state[TcpState::SynSent2 as usize] = ns(s.tcp_syn_sent_timeout);
        by_state[TcpState::SynRecv as usize] = ns(s.tcp_syn_received_timeout);
        by_state[TcpState::Established as usize] = ns(s.tcp_established_timeout);
        by_state[TcpState::FinWait as usize] = ns(s.tcp_fin_wait_timeout);
        by_state[TcpState::CloseWait as usize] = ns(s.tcp_close_wait_timeout);
        by_state[TcpState::LastAck as usize] = ns(s.tcp_last_ack_timeout);
        by_state[TcpState::TimeWait as usize] = ns(s.tcp_time_wait_timeout);
        by_state[TcpState::Close as usize] = ns(s.tcp_close_timeout);
        Timeouts {
            tcp: TcpTimeouts {
                by_state,
                max_retrans: ns(s.tcp_max_retrans_timeout),
                unacknowledged: ns(s.tcp_unacked_timeout),
            },
            udp: ns(s.udp_timeout),
            udp_stream: ns(s.udp_stream_timeout),
            icmp: ns(s.icmp_timeout),
            generic: ns(s.generic_timeout),
        }
    }
}

/// ICMP query types that may start a connection (`valid_new`).
fn icmp_valid_new(t: u8) -> bool {
    matches!(t, 8 | 13 | 15 | 17)
}

/// The connection-tracking engine for one address family.
pub struct Conntrack<A: Address = Ipv4Addr> {
    table: Table<A>,
    pending: Option<Conn<A>>,
    /// The entry the last packet ended, for that packet only (see [`KILLED`]).
    killed: Option<Conn<A>>,
    settings: TrackingSettings,
    timeouts: Timeouts,
    active: bool,
    liberal: bool,
    max_entries: usize,
    next_id: u32,
    counters: Counters,
}

impl<A: Address> Conntrack<A> {
    /// An empty table holding at most `max_entries` connections (capped at RouterOS's ceiling).
    pub fn new(settings: TrackingSettings, max_entries: usize) -> Self {
        Conntrack {
            table: Table::new(),
            pending: None,
            killed: None,
            settings,
            timeouts: Timeouts::from(&settings),
            active: true,
            liberal: false,
            max_entries: max_entries.clamp(1, MAX_ENTRIES_CEILING),
            next_id: 1,
            counters: Counters::default(),
        }
    }

    pub fn settings(&self) -> &TrackingSettings {
        &self.settings
    }

    /// New settings apply to each entry from its next packet, as in RouterOS.
    pub fn set_settings(&mut self, settings: TrackingSettings) {
        self.settings = settings;
        self.timeouts = Timeouts::from(&settings);
    }

    /// Whether packets are tracked at all (`enabled`, resolved against the rule set by the caller).
    pub fn set_active(&mut self, active: bool) {
        self.active = active;
    }

    /// netfilter's `nf_conntrack_tcp_be_liberal` (RouterOS 7.20's `liberal-tcp-tracking`).
    pub fn set_liberal(&mut self, liberal: bool) {
        self.liberal = liberal;
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn table(&self) -> &Table<A> {
        &self.table
    }

    /// Reserves room for `n` entries up front.
    pub fn reserve(&mut self, n: usize) {
        self.table.reserve(n);
    }

    /// The entry a [`Found`] refers to (the pending one included); `None` once it is gone.
    pub fn conn(&self, f: Found) -> Option<&Conn<A>> {
        if f.slot == PENDING {
            self.pending.as_ref()
        } else if f.slot == KILLED {
            self.killed.as_ref()
        } else {
            self.table.get_live(f.slot)
        }
    }

    fn policy(&self) -> TcpPolicy {
        TcpPolicy {
            loose: self.settings.loose_tcp_tracking,
            liberal: self.liberal,
            timeouts: self.timeouts.tcp,
        }
    }

    /// Finds a tuple, removing the entry first if it has expired (exact expiry on lookup).
    fn lookup(&mut self, now: Instant, t: &Tuple<A>) -> Option<Found> {
        let f = self.table.find(t)?;
        if self.table.get(f.slot).deadline <= now {
            self.table.remove(f.slot);
            self.counters.expired += 1;
            return None;
        }
        Some(f)
    }

    fn invalid(&mut self, reason: &'static str) -> Tracked {
        self.counters.invalid += 1;
        Tracked {
            state: CtState::Invalid,
            conn: None,
            reason: Some(reason),
            drop: false,
        }
    }

    fn count(&mut self, state: CtState) {
        let c = &mut self.counters;
        match state {
            CtState::New => c.new += 1,
            CtState::Established => c.established += 1,
            CtState::Related => c.related += 1,
            CtState::Invalid => c.invalid += 1,
            CtState::Untracked => c.untracked += 1,
        }
    }

    /// Runs an existing entry's protocol tracker for one packet.
    fn update(&mut self, now: Instant, f: Found, len: u32, l4: &L4) -> Outcome {
        let t = self.timeouts;
        let policy = self.policy();
        let c = self.table.get_mut(f.slot);
        let seen_reply = c.has(status::SEEN_REPLY);
        let assured = c.has(status::ASSURED);
        let (timeout, assure) = match (&mut c.proto, l4) {
            (ProtoState::Tcp(tcp), L4::Tcp(seg)) => {
                match tcp.packet(f.dir.index(), seg, seen_reply, assured, &policy) {
                    Verdict::Accept {
                        timeout,
                        refresh,
                        assure,
                    } => {
                        if !refresh {
                            return Outcome::Accept;
                        }
                        (timeout, assure)
                    }
                    Verdict::Ignore => return Outcome::Ignore,
                    Verdict::Kill => {
                        c.account(now, f.dir, len);
                        return Outcome::Kill;
                    }
                    Verdict::Reopen => return Outcome::Reopen,
                    Verdict::Invalid { reason, shorten } => {
                        if let Some(s) = shorten {
                            let cap = now + std::time::Duration::from_nanos(s);
                            if c.deadline > cap {
                                self.table.set_deadline(f.slot, cap);
                            }
                        }
                        return Outcome::Invalid(reason);
                    }
                }
            }
            (ProtoState::Udp { stream_at }, _) => {
                if !seen_reply {
                    (t.udp, false)
                } else if now > *stream_at {
                    (t.udp_stream, !assured)
                } else {
                    (t.udp, false)
                }
            }
            (ProtoState::Icmp, _) => (t.icmp, false),
            (ProtoState::Generic, _) => (t.generic, false),
            (ProtoState::Tcp(_), _) => return Outcome::Invalid("not a TCP segment"),
        };
        c.account(now, f.dir, len);
        if assure {
            c.status |= status::ASSURED;
        }
        self.table
            .set_deadline(f.slot, now + std::time::Duration::from_nanos(timeout));
        Outcome::Accept
    }

    /// Makes room for one more entry: evicts the unassured entry closest to expiry.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.table.len() < self.max_entries {
            return true;
        }
        self.expire(now);
        if self.table.len() < self.max_entries {
            return true;
        }
        match self
            .table
            .find_evictable(None, EARLY_DROP_SLOTS, EARLY_DROP_ENTRIES)
        {
            Some(slot) => {
                self.table.remove(slot);
                self.counters.evicted += 1;
                true
            }
            None => false,
        }
    }

    /// Enters the pending connection (of the packet just tracked) into the table, as its first
    /// packet leaves. A clash with an existing tuple drops it (`insert_failed`).
    pub fn confirm(&mut self) -> Option<Found> {
        let mut conn = self.pending.take()?;
        if self.table.find(&conn.tuples[0]).is_some() || self.table.find(&conn.tuples[1]).is_some()
        {
            self.counters.insert_failed += 1;
            return None;
        }
        conn.status |= status::CONFIRMED;
        conn.id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.counters.created += 1;
        let slot = self.table.insert(conn);
        Some(Found {
            slot,
            dir: Dir::Orig,
        })
    }

    /// Discards the pending connection (its packet was dropped).
    pub fn discard(&mut self) {
        self.pending = None;
    }

    /// Replaces the reply tuple of the pending connection (NAT decides it before confirmation).
    pub fn set_pending_reply(&mut self, reply: Tuple<A>, status_bits: u16) {
        if let Some(c) = self.pending.as_mut() {
            c.tuples[1] = reply;
            c.status |= status_bits;
        }
    }

    /// Whether a tuple is in use by a live entry, in either direction.
    pub fn tuple_taken(&mut self, now: Instant, t: &Tuple<A>) -> bool {
        self.lookup(now, t).is_some()
    }

    /// Removes every entry whose timeout has run out by `now`.
    pub fn expire(&mut self, now: Instant) {
        let mut n = 0;
        self.table.expire(now, |_| n += 1);
        self.counters.expired += n;
    }

    /// Removes the entry with RouterOS id `id`. Linear in the table size: for the management
    /// plane, never for the packet path.
    pub fn remove_id(&mut self, id: u32) -> Option<Conn<A>> {
        let slot = self.table.iter().find(|(_, c)| c.id == id)?.0;
        self.counters.removed += 1;
        Some(self.table.remove(slot))
    }

    /// Removes every entry matching `pred`; returns how many.
    pub fn remove_where(&mut self, mut pred: impl FnMut(&Conn<A>) -> bool) -> usize {
        let slots: Vec<u32> = self
            .table
            .iter()
            .filter(|(_, c)| pred(c))
            .map(|(s, _)| s)
            .collect();
        for &s in &slots {
            self.table.remove(s);
        }
        self.counters.removed += slots.len() as u64;
        slots.len()
    }

    /// Removes every entry.
    pub fn flush(&mut self) {
        self.counters.removed += self.table.len() as u64;
        self.table.clear();
        self.pending = None;
    }

    /// Live entries that have not expired by `now`.
    pub fn entries(&self, now: Instant) -> impl Iterator<Item = &Conn<A>> {
        self.table
            .iter()
            .map(|(_, c)| c)
            .filter(move |c| c.deadline > now)
    }
}

/// What happened to an existing entry.
enum Outcome {
    Accept,
    Ignore,
    Kill,
    Reopen,
    Invalid(&'static str),
}

impl Conntrack<Ipv4Addr> {
    /// Tracks one IPv4 packet. For a new connection the entry is pending until
    /// [`Conntrack::confirm`] (or [`Conntrack::discard`]); any earlier pending entry is discarded.
    pub fn track(&mut self, now: Instant, ip: &Ipv4Meta) -> Tracked {
        self.pending = None;
        self.killed = None;
        if !self.active {
            self.counters.untracked += 1;
            return Tracked::with(CtState::Untracked, None);
        }
        let len = u32::from(ip.total_len);
        let ports = |sport, dport, proto| Tuple {
            src: ip.src,
            dst: ip.dst,
            sport,
            dport,
            proto,
        };
        let tuple = match &ip.l4 {
            L4::Malformed(e) => return self.invalid(e.as_str()),
            L4::Fragment => return self.invalid("non-first fragment (not reassembled)"),
            L4::Tcp(seg) => {
                if !tcp::valid_flags(seg.flags) {
                    return self.invalid("TCP flag combination invalid");
                }
                ports(seg.sport, seg.dport, PROTO_TCP)
            }
            L4::Udp { sport, dport } => ports(*sport, *dport, PROTO_UDP),
            L4::Icmp(IcmpMeta::Query {
                icmp_type,
                code,
                id,
            }) => Tuple::icmp(ip.src, ip.dst, *icmp_type, *code, *id),
            L4::Icmp(IcmpMeta::Error { quoted, .. }) => {
                return self.related(now, ip.dst, quoted.as_ref())
            }
            L4::Icmp(IcmpMeta::Other { .. }) => return self.invalid("ICMP type not trackable"),
            L4::Other => ports(0, 0, ip.proto),
        };

        // At most one reopen: the second lookup cannot find the entry the first one removed.
        for _ in 0..2 {
            let Some(f) = self.lookup(now, &tuple) else {
                return self.create(now, tuple, len, &ip.l4);
            };
            let seen_reply = self.table.get(f.slot).has(status::SEEN_REPLY);
            let state = if f.dir == Dir::Reply || seen_reply {
                CtState::Established
            } else {
                CtState::New
            };
            match self.update(now, f, len, &ip.l4) {
                Outcome::Accept | Outcome::Ignore => {
                    if f.dir == Dir::Reply && !seen_reply {
                        self.table.get_mut(f.slot).status |= status::SEEN_REPLY;
                    }
                    self.count(state);
                    return Tracked::with(state, Some(f));
                }
                Outcome::Kill => {
                    let mut c = self.table.remove(f.slot);
                    c.status |= status::DYING;
                    self.killed = Some(c);
                    self.counters.killed += 1;
                    self.count(state);
                    return Tracked::with(
                        state,
                        Some(Found {
                            slot: KILLED,
                            dir: f.dir,
                        }),
                    );
                }
                Outcome::Reopen => {
                    self.table.remove(f.slot);
                    self.counters.killed += 1;
                }
                Outcome::Invalid(reason) => return self.invalid(reason),
            }
        }
        self.invalid("connection reopened twice")
    }

    /// A new connection's first packet.
    fn create(&mut self, now: Instant, orig: Tuple<Ipv4Addr>, len: u32, l4: &L4) -> Tracked {
        let Some(reply) = orig.invert() else {
            return self.invalid("tuple cannot be inverted");
        };
        let proto = match l4 {
            L4::Tcp(seg) => match TcpConn::new(seg, self.settings.loose_tcp_tracking) {
                Some(t) => ProtoState::Tcp(t),
                None => return self.invalid("TCP segment cannot start a connection"),
            },
            L4::Udp { .. } => ProtoState::Udp {
                stream_at: now + std::time::Duration::from_nanos(UDP_STREAM_AFTER_NS),
            },
            L4::Icmp(_) => {
                if !icmp_valid_new(orig.icmp_type()) {
                    return self.invalid("ICMP reply without a request");
                }
                ProtoState::Icmp
            }
            _ => ProtoState::Generic,
        };
        if !self.make_room(now) {
            self.counters.dropped_full += 1;
            return Tracked {
                state: CtState::New,
                conn: None,
                reason: Some("connection table full"),
                drop: true,
            };
        }
        let mut conn = Conn::vacant();
        conn.tuples = [orig, reply];
        conn.proto = proto;
        conn.deadline = now;
        self.pending = Some(conn);
        let pending = Found {
            slot: PENDING,
            dir: Dir::Orig,
        };
        // Run the tracker on the pending entry exactly as on a confirmed one.
        let policy = self.policy();
        let t = self.timeouts;
        let Some(c) = self.pending.as_mut() else {
            return self.invalid("internal: no pending entry");
        };
        let timeout = match (&mut c.proto, l4) {
            (ProtoState::Tcp(tcp), L4::Tcp(seg)) => match tcp.packet(0, seg, false, false, &policy)
            {
                Verdict::Accept { timeout, .. } => timeout,
                Verdict::Invalid { reason, .. } => {
                    self.pending = None;
                    return self.invalid(reason);
                }
                // A first packet cannot be ignored, killed or reopen anything; treat as invalid.
                _ => {
                    self.pending = None;
                    return self.invalid("TCP segment cannot start a connection");
                }
            },
            (ProtoState::Udp { .. }, _) => t.udp,
            (ProtoState::Icmp, _) => t.icmp,
            _ => t.generic,
        };
        c.account(now, Dir::Orig, len);
        c.deadline = now + std::time::Duration::from_nanos(timeout);
        self.count(CtState::New);
        Tracked::with(CtState::New, Some(pending))
    }

    /// An ICMP error: RELATED to the connection of the packet it quotes, or invalid.
    fn related(&mut self, now: Instant, outer_dst: Ipv4Addr, quoted: Option<&Quoted>) -> Tracked {
        let Some(q) = quoted else {
            return self.invalid("ICMP error without a readable quoted header");
        };
        let Some(inner) = Tuple::from_quoted(q).invert() else {
            return self.invalid("ICMP error quotes an untrackable packet");
        };
        let Some(f) = self.lookup(now, &inner) else {
            return self.invalid("ICMP error matches no connection");
        };
        if self.table.get(f.slot).tuples[f.dir.index()].dst != outer_dst {
            return self.invalid("ICMP error sent to another host than the quoted packet's source");
        }
        self.count(CtState::Related);
        Tracked::with(CtState::Related, Some(f))
    }
}

#[cfg(test)]
mod tests;
