//! One connection-table entry.

use super::tcp::TcpConn;
use super::tuple::{Address, Dir, Tuple};
use crate::time::Instant;

/// Status bits (`IPS_*`), with the names RouterOS shows as flags.
pub mod status {
    /// The destination answered (`seen-reply`).
    pub const SEEN_REPLY: u16 = 1 << 0;
    /// Will not be evicted when the table is full (`assured`).
    pub const ASSURED: u16 = 1 << 1;
    /// A packet of it left the device (`confirmed`).
    pub const CONFIRMED: u16 = 1 << 2;
    /// Source NAT (incl. masquerade) applies (`srcnat`).
    pub const SRC_NAT: u16 = 1 << 3;
    /// Destination NAT (port forward, redirect) applies (`dstnat`).
    pub const DST_NAT: u16 = 1 << 4;
    /// Being removed (`dying`).
    pub const DYING: u16 = 1 << 5;
    /// The slot holds a connection (internal).
    pub(crate) const LIVE: u16 = 1 << 15;
}

/// Protocol-specific state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoState {
    Tcp(TcpConn),
    /// UDP: when the flow counts as a stream if still active (first packet + 2 s).
    Udp {
        stream_at: Instant,
    },
    Icmp,
    Generic,
}

/// Bytes per second per direction over the last whole second, measured without a timer: the
/// current second's bytes accumulate, and roll over into `last` when a packet of a later second
/// arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateMeter {
    second: u32,
    current: [u32; 2],
    last: [u32; 2],
}

impl RateMeter {
    pub fn add(&mut self, now: Instant, dir: Dir, bytes: u32) {
        let sec = (now.as_nanos() / 1_000_000_000) as u32;
        if sec != self.second {
            self.last = if sec == self.second.wrapping_add(1) {
                self.current
            } else {
                [0, 0]
            };
            self.current = [0, 0];
            self.second = sec;
        }
        let c = &mut self.current[dir.index()];
        *c = c.saturating_add(bytes);
    }

    /// Bytes per second in `dir` as of `now`: the last complete second.
    pub fn bytes_per_sec(&self, now: Instant, dir: Dir) -> u32 {
        let sec = (now.as_nanos() / 1_000_000_000) as u32;
        if sec == self.second {
            self.last[dir.index()]
        } else if sec == self.second.wrapping_add(1) {
            self.current[dir.index()]
        } else {
            0
        }
    }
}

/// Links of the expiry wheel's intrusive lists (`NIL` terminated), and the tick the entry is
/// filed under. The free list reuses `next`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    pub next: u32,
    pub prev: u32,
    pub tick: u32,
}

pub(crate) const NIL: u32 = u32::MAX;

impl Default for Link {
    fn default() -> Self {
        Link {
            next: NIL,
            prev: NIL,
            tick: 0,
        }
    }
}

/// A tracked connection.
#[derive(Debug, Clone, Copy)]
pub struct Conn<A> {
    /// Orig and reply tuples, indexed by [`Dir`].
    pub tuples: [Tuple<A>; 2],
    /// When the entry expires unless refreshed.
    pub deadline: Instant,
    /// RouterOS `.id` number (shown as `*1A`).
    pub id: u32,
    pub status: u16,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub rate: RateMeter,
    pub proto: ProtoState,
    pub(crate) link: Link,
}

impl<A: Address> Conn<A> {
    pub(crate) fn vacant() -> Self {
        Conn {
            tuples: [Tuple::VACANT; 2],
            deadline: Instant::ZERO,
            id: 0,
            status: 0,
            packets: [0; 2],
            bytes: [0; 2],
            rate: RateMeter::default(),
            proto: ProtoState::Generic,
            link: Link::default(),
        }
    }

    pub fn has(&self, bit: u16) -> bool {
        self.status & bit != 0
    }

    pub fn orig(&self) -> &Tuple<A> {
        &self.tuples[0]
    }

    pub fn reply(&self) -> &Tuple<A> {
        &self.tuples[1]
    }

    pub fn tcp(&self) -> Option<&TcpConn> {
        match &self.proto {
            ProtoState::Tcp(t) => Some(t),
            _ => None,
        }
    }

    /// Time left before expiry, as of `now`.
    pub fn time_left(&self, now: Instant) -> std::time::Duration {
        self.deadline.saturating_since(now)
    }

    /// Whether it may be evicted to make room: unassured entries, as netfilter's early drop.
    pub fn evictable(&self) -> bool {
        !self.has(status::ASSURED)
    }

    pub(crate) fn account(&mut self, now: Instant, dir: Dir, bytes: u32) {
        let d = dir.index();
        self.packets[d] += 1;
        self.bytes[d] += u64::from(bytes);
        self.rate.add(now, dir, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_the_last_whole_second() {
        let mut r = RateMeter::default();
        r.add(Instant::from_millis(10_100), Dir::Orig, 1000);
        r.add(Instant::from_millis(10_900), Dir::Orig, 500);
        r.add(Instant::from_millis(10_950), Dir::Reply, 40);
        assert_eq!(r.bytes_per_sec(Instant::from_millis(10_990), Dir::Orig), 0);
        assert_eq!(
            r.bytes_per_sec(Instant::from_millis(11_200), Dir::Orig),
            1500
        );
        assert_eq!(
            r.bytes_per_sec(Instant::from_millis(11_200), Dir::Reply),
            40
        );
        r.add(Instant::from_millis(11_300), Dir::Orig, 10);
        assert_eq!(
            r.bytes_per_sec(Instant::from_millis(11_400), Dir::Orig),
            1500
        );
        assert_eq!(r.bytes_per_sec(Instant::from_millis(13_000), Dir::Orig), 0);
    }
}
