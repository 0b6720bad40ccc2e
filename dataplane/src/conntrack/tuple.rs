//! Tuples: what identifies one direction of a connection.
//!
//! A connection has two tuples, orig (as the first packet saw it) and reply (what the answer will
//! look like — after NAT, not simply the inverse). Both are keys of the table. The address type is
//! a parameter so the same engine serves IPv4 now and IPv6 later.

use crate::wire::{Quoted, PROTO_ICMP};
use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An IP address family's address.
pub trait Address: Copy + Eq + Hash + Ord + Debug + Display + 'static {
    /// The all-zeros address, for vacant slots.
    const UNSPECIFIED: Self;
}
impl Address for Ipv4Addr {
    const UNSPECIFIED: Self = Ipv4Addr::UNSPECIFIED;
}
impl Address for Ipv6Addr {
    const UNSPECIFIED: Self = Ipv6Addr::UNSPECIFIED;
}

/// Direction of a packet relative to its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Dir {
    Orig = 0,
    Reply = 1,
}

impl Dir {
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn flip(self) -> Dir {
        match self {
            Dir::Orig => Dir::Reply,
            Dir::Reply => Dir::Orig,
        }
    }
}

/// One direction of a connection.
///
/// For TCP and UDP the ports are ports. For ICMP, `sport` is the echo (query) id and `dport`
/// holds `type << 8 | code`, as the kernel keeps `src.u.icmp.id` and `dst.u.icmp.{type,code}`.
/// Other protocols use zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tuple<A> {
    pub src: A,
    pub dst: A,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
}

/// The reply type of an ICMP query type (`invmap`), if it has one.
pub fn icmp_inverse_type(t: u8) -> Option<u8> {
    Some(match t {
        8 => 0,
        0 => 8,
        13 => 14,
        14 => 13,
        15 => 16,
        16 => 15,
        17 => 18,
        18 => 17,
        _ => return None,
    })
}

impl<A: Address> Tuple<A> {
    pub const VACANT: Self = Tuple {
        src: A::UNSPECIFIED,
        dst: A::UNSPECIFIED,
        sport: 0,
        dport: 0,
        proto: 0,
    };

    pub fn icmp(src: A, dst: A, icmp_type: u8, code: u8, id: u16) -> Self {
        Tuple {
            src,
            dst,
            sport: id,
            dport: u16::from(icmp_type) << 8 | u16::from(code),
            proto: PROTO_ICMP,
        }
    }

    pub fn icmp_type(&self) -> u8 {
        (self.dport >> 8) as u8
    }

    pub fn icmp_code(&self) -> u8 {
        self.dport as u8
    }

    /// The tuple of a packet going the other way (`nf_ct_invert_tuple`); `None` for ICMP types
    /// without a reply type.
    pub fn invert(&self) -> Option<Self> {
        if self.proto == PROTO_ICMP {
            let t = icmp_inverse_type(self.icmp_type())?;
            return Some(Tuple::icmp(
                self.dst,
                self.src,
                t,
                self.icmp_code(),
                self.sport,
            ));
        }
        Some(Tuple {
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
            proto: self.proto,
        })
    }

    /// Whether the protocol has ports (TCP, UDP, and the others netfilter gives ports to).
    pub fn has_ports(&self) -> bool {
        matches!(self.proto, 6 | 17 | 33 | 132 | 136)
    }
}

impl Tuple<Ipv4Addr> {
    /// The tuple of the packet an ICMP error quotes.
    pub fn from_quoted(q: &Quoted) -> Self {
        Tuple {
            src: q.src,
            dst: q.dst,
            sport: q.sport,
            dport: q.dport,
            proto: q.proto,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn ports_swap_on_inversion() {
        let t = Tuple {
            src: a("198.51.100.10"),
            dst: a("203.0.113.2"),
            sport: 40000,
            dport: 80,
            proto: 6,
        };
        let r = t.invert().unwrap();
        assert_eq!(
            (r.src, r.dst, r.sport, r.dport),
            (a("203.0.113.2"), a("198.51.100.10"), 80, 40000)
        );
        assert_eq!(r.invert().unwrap(), t);
    }

    #[test]
    fn icmp_echo_inverts_to_echo_reply_with_the_same_id() {
        let t = Tuple::icmp(a("198.51.100.10"), a("203.0.113.2"), 8, 0, 0x1234);
        let r = t.invert().unwrap();
        assert_eq!((r.icmp_type(), r.icmp_code(), r.sport), (0, 0, 0x1234));
        assert_eq!(r.src, a("203.0.113.2"));
        assert!(Tuple::icmp(a("198.51.100.10"), a("203.0.113.2"), 3, 1, 0)
            .invert()
            .is_none());
    }

    #[test]
    fn ipv4_tuples_stay_small() {
        assert!(std::mem::size_of::<Tuple<Ipv4Addr>>() <= 16);
    }
}
