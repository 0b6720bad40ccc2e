//! Network address translation: choosing a connection's unique tuple and rewriting its packets.
//!
//! The model is netfilter's (`nf_nat_core.c`, `nf_nat_proto.c`). NAT is decided once per
//! connection, on its first packet, while the connection is still pending in conntrack: the
//! translation becomes the connection's *reply tuple*, and every later packet is rewritten to look
//! like the inverse of the other direction's tuple. Nothing per connection is stored here.
//!
//! # Layout
//! - [`tuple`](mod@tuple): [`Nat::setup`] — `get_unique_tuple`: the address in the range, the port (or ICMP
//!   echo id) search, the null binding that moves a port only on a clash.
//! - [`rewrite`](mod@rewrite): [`rewrite()`] — one packet's address and port, with incremental (RFC 1624)
//!   checksum updates.
//! - [`icmp`]: [`rewrite_icmp_error`] — an ICMP error about a translated packet: the quoted
//!   header is translated back, then the outer one (`nf_nat_icmp_reply_translation`).
//!
//! Which hook does what: DNAT ([`Manip::Dst`]) at prerouting, SNAT ([`Manip::Src`]) at
//! postrouting, as `HOOK2MANIP`. A connection's packets are rewritten at a hook only if the
//! connection has the status bit that hook and direction need (`nf_nat_packet`): an original
//! packet gets its source rewritten at postrouting if `SRC_NAT`, a reply packet its destination
//! restored at prerouting if `SRC_NAT`, and the mirror image for `DST_NAT`.

pub mod icmp;
pub mod rewrite;
pub mod tuple;

#[cfg(test)]
mod tests;

use crate::conntrack::{status, Conn, Dir};
use shared::config::PortRange;
use std::net::Ipv4Addr;

pub use icmp::rewrite_icmp_error;
pub use rewrite::{rewrite, RewriteError, Rewritten};
pub use tuple::{Nat, NatCounters, NatError};

/// Which end of a connection NAT changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Manip {
    /// Source NAT (src-nat, masquerade), decided and applied at postrouting.
    Src,
    /// Destination NAT (dst-nat, redirect), decided and applied at prerouting.
    Dst,
}

impl Manip {
    pub fn opposite(self) -> Manip {
        match self {
            Manip::Src => Manip::Dst,
            Manip::Dst => Manip::Src,
        }
    }
}

/// Where in the packet flow a packet is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    /// Destinations are rewritten (DNAT of original packets, de-SNAT of replies).
    Prerouting,
    /// Sources are rewritten (SNAT of original packets, de-DNAT of replies).
    Postrouting,
}

impl Hook {
    /// netfilter's `HOOK2MANIP`.
    pub fn manip(self) -> Manip {
        match self {
            Hook::Prerouting => Manip::Dst,
            Hook::Postrouting => Manip::Src,
        }
    }
}

/// What a NAT rule maps to: an inclusive address range and, optionally, a port range (for ICMP
/// the echo id range, as netfilter). Without ports, SNAT keeps the port's class and DNAT the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatRange {
    pub first: Ipv4Addr,
    pub last: Ipv4Addr,
    pub ports: Option<PortRange>,
}

impl NatRange {
    /// One address, ports left to the protocol: the shape of a null binding and of a
    /// masquerade without `to-ports`.
    pub fn addr(a: Ipv4Addr) -> Self {
        NatRange {
            first: a,
            last: a,
            ports: None,
        }
    }

    pub fn with_ports(self, ports: PortRange) -> Self {
        NatRange {
            ports: Some(ports),
            ..self
        }
    }

    /// The addresses as a (low, high) pair, whichever order they were given in.
    fn addrs(&self) -> (u32, u32) {
        let (a, b) = (u32::from(self.first), u32::from(self.last));
        (a.min(b), a.max(b))
    }
}

/// Whether the connection's packets travelling in `dir` are rewritten by `manip`
/// (`nf_nat_packet`'s status bit, flipped for the reply direction).
fn applies(conn: &Conn<Ipv4Addr>, dir: Dir, manip: Manip) -> bool {
    let bit = match (manip, dir) {
        (Manip::Src, Dir::Orig) | (Manip::Dst, Dir::Reply) => status::SRC_NAT,
        (Manip::Dst, Dir::Orig) | (Manip::Src, Dir::Reply) => status::DST_NAT,
    };
    conn.has(bit)
}
