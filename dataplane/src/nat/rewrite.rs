//! Rewriting one packet of a translated connection (`nf_nat_manip_pkt`, `nf_nat_proto.c`).
//!
//! Checksums are updated incrementally (RFC 1624 eqn. 3, [`checksum::update16`] and
//! [`checksum::update32`]): the IPv4 header's for the address; TCP's and UDP's for the
//! pseudo-header address and the port (a UDP checksum of 0 means "none" and stays 0; an updated
//! one that comes out 0 is sent as 0xffff); ICMP's for the echo id (ICMPv4 has no
//! pseudo-header). UDP-Lite and DCCP get the pseudo-header update only, as conntrack does not
//! track their ports. A non-first fragment has no transport header: only its IP header changes.
//!
//! Bounds: a constant amount of work per packet; the payload is never read.

use super::{applies, Hook, Manip};
use crate::conntrack::{Conn, Dir, Tuple};
use crate::wire::{checksum, icmp_is_query, PROTO_ICMP, PROTO_TCP, PROTO_UDP};
use std::net::Ipv4Addr;

const PROTO_DCCP: u8 = 33;
const PROTO_UDPLITE: u8 = 136;

/// Why a packet could not be rewritten; the caller drops it (as netfilter's `NF_DROP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    #[error("not an IPv4 header")]
    NotIpv4,
    /// The packet is shorter than the header named.
    #[error("{0} truncated")]
    Truncated(&'static str),
    #[error("not an ICMP error")]
    NotIcmpError,
    #[error("ICMP error checksum wrong")]
    BadIcmpChecksum,
    /// netfilter drops redirects about translated connections: they would point past the NAT.
    #[error("ICMP redirect about a translated connection")]
    RedirectThroughNat,
}

/// What a rewrite changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewritten {
    /// The source (postrouting) or destination (prerouting) address.
    pub addr: bool,
    /// The port, or the ICMP echo id.
    pub port: bool,
    /// An ICMP error's quoted packet was translated.
    pub quoted: bool,
}

impl Rewritten {
    pub fn changed(&self) -> bool {
        self.addr || self.port || self.quoted
    }
}

fn get16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// A writable IPv4 packet whose header length has been checked against the bytes present:
/// once constructed, no accessor can index out of bounds.
pub(super) struct Ipv4Mut<'a> {
    bytes: &'a mut [u8],
    hl: usize,
}

impl<'a> Ipv4Mut<'a> {
    fn header_len(bytes: &[u8]) -> Result<usize, RewriteError> {
        if bytes.len() < 20 {
            return Err(RewriteError::Truncated("IPv4 header"));
        }
        if bytes[0] >> 4 != 4 {
            return Err(RewriteError::NotIpv4);
        }
        let hl = usize::from(bytes[0] & 0x0f) * 4;
        if hl < 20 {
            return Err(RewriteError::NotIpv4);
        }
        if hl > bytes.len() {
            return Err(RewriteError::Truncated("IPv4 header"));
        }
        Ok(hl)
    }

    /// A whole packet: its total length must fit; bytes after it (link padding) are left alone.
    pub(super) fn new_checked(bytes: &'a mut [u8]) -> Result<Self, RewriteError> {
        let hl = Self::header_len(bytes)?;
        let total = usize::from(get16(bytes, 2));
        if total < hl || total > bytes.len() {
            return Err(RewriteError::Truncated("IPv4 packet"));
        }
        Ok(Ipv4Mut {
            bytes: &mut bytes[..total],
            hl,
        })
    }

    /// The packet an ICMP error quotes: usually cut short, so its total length is not checked.
    pub(super) fn new_quoted(bytes: &'a mut [u8]) -> Result<Self, RewriteError> {
        let hl = Self::header_len(bytes).map_err(|e| match e {
            RewriteError::Truncated(_) => RewriteError::Truncated("quoted IPv4 header"),
            e => e,
        })?;
        Ok(Ipv4Mut { bytes, hl })
    }

    pub(super) fn proto(&self) -> u8 {
        self.bytes[9]
    }

    /// A fragment other than the first: no transport header.
    pub(super) fn later_fragment(&self) -> bool {
        get16(self.bytes, 6) & 0x1fff != 0
    }

    fn addr_at(manip: Manip) -> usize {
        match manip {
            Manip::Src => 12,
            Manip::Dst => 16,
        }
    }

    pub(super) fn addr(&self, manip: Manip) -> Ipv4Addr {
        let at = Self::addr_at(manip);
        let b = &self.bytes[at..at + 4];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Sets the source or destination address, updating the header checksum; whether it changed.
    pub(super) fn set_addr(&mut self, manip: Manip, new: Ipv4Addr) -> bool {
        let old = self.addr(manip);
        if old == new {
            return false;
        }
        let c = checksum::update32(get16(self.bytes, 10), old.into(), new.into());
        put16(self.bytes, 10, c);
        let at = Self::addr_at(manip);
        self.bytes[at..at + 4].copy_from_slice(&new.octets());
        true
    }

    /// The bytes after the IP header (for a quoted packet: what the quote kept of them).
    pub(super) fn l4(&mut self) -> &mut [u8] {
        &mut self.bytes[self.hl..]
    }
}

/// Where the packet being rewritten sits: a packet of its own, or quoted in an ICMP error
/// (whose transport header may be cut after 8 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Depth {
    Outer,
    Quoted,
}

/// `nf_nat_ipv4_manip_pkt`: sets the `manip` side's address and port (or echo id) to `target`'s,
/// transport header first (its checksum needs the old address), then the IP header. Nothing is
/// written unless the whole change can be made.
pub(super) fn manip_pkt(
    pkt: &mut Ipv4Mut<'_>,
    target: &Tuple<Ipv4Addr>,
    manip: Manip,
    depth: Depth,
) -> Result<Rewritten, RewriteError> {
    let new_addr = match manip {
        Manip::Src => target.src,
        Manip::Dst => target.dst,
    };
    let old_addr = pkt.addr(manip);
    let port = if pkt.later_fragment() {
        false
    } else {
        let proto = pkt.proto();
        manip_l4(pkt.l4(), proto, target, manip, depth, old_addr, new_addr)?
    };
    let addr = pkt.set_addr(manip, new_addr);
    Ok(Rewritten {
        addr,
        port,
        quoted: false,
    })
}

/// The transport part of [`manip_pkt`] (`tcp_manip_pkt`, `udp_manip_pkt`, `icmp_manip_pkt`);
/// whether the port or id changed.
fn manip_l4(
    l4: &mut [u8],
    proto: u8,
    target: &Tuple<Ipv4Addr>,
    manip: Manip,
    depth: Depth,
    old_addr: Ipv4Addr,
    new_addr: Ipv4Addr,
) -> Result<bool, RewriteError> {
    let (port_at, new_port) = match manip {
        Manip::Src => (0, target.sport),
        Manip::Dst => (2, target.dport),
    };
    // The pseudo-header's share of a transport checksum.
    let pseudo = |c: u16| {
        if old_addr == new_addr {
            c
        } else {
            checksum::update32(c, old_addr.into(), new_addr.into())
        }
    };
    match proto {
        PROTO_TCP => {
            // A quoted TCP header may stop after 8 bytes; its checksum is then out of reach and
            // only the port changes. netfilter updates it only when the whole 20-byte header is
            // there.
            let min = if depth == Depth::Quoted { 8 } else { 20 };
            if l4.len() < min {
                return Err(RewriteError::Truncated("TCP header"));
            }
            let old_port = get16(l4, port_at);
            if l4.len() >= 20 {
                let c = checksum::update16(pseudo(get16(l4, 16)), old_port, new_port);
                put16(l4, 16, c);
            }
            put16(l4, port_at, new_port);
            Ok(old_port != new_port)
        }
        PROTO_UDP => {
            if l4.len() < 8 {
                return Err(RewriteError::Truncated("UDP header"));
            }
            let old_port = get16(l4, port_at);
            let c = get16(l4, 6);
            if c != 0 {
                let c = checksum::update16(pseudo(c), old_port, new_port);
                put16(l4, 6, if c == 0 { 0xffff } else { c });
            }
            put16(l4, port_at, new_port);
            Ok(old_port != new_port)
        }
        PROTO_ICMP => {
            if l4.len() < 8 {
                return Err(RewriteError::Truncated("ICMP header"));
            }
            if !icmp_is_query(l4[0]) {
                return Ok(false);
            }
            // The id is the same in both directions: always the target's `sport`.
            let (old_id, new_id) = (get16(l4, 4), target.sport);
            if old_id != new_id {
                put16(l4, 2, checksum::update16(get16(l4, 2), old_id, new_id));
                put16(l4, 4, new_id);
            }
            Ok(old_id != new_id)
        }
        PROTO_UDPLITE | PROTO_DCCP => {
            if l4.len() < 8 {
                return Err(RewriteError::Truncated("transport header"));
            }
            let c = pseudo(get16(l4, 6));
            put16(
                l4,
                6,
                if c == 0 && proto == PROTO_UDPLITE {
                    0xffff
                } else {
                    c
                },
            );
            Ok(false)
        }
        _ => Ok(false),
    }
}

/// Rewrites one packet of a tracked connection in place (`ip`: from the IPv4 header to the end).
/// `dir` is the packet's direction in `conn`. The packet is made to look like the inverse of the
/// other direction's tuple: at prerouting its destination (address and port or echo id), at
/// postrouting its source — if the connection's NAT status asks for it at this hook and
/// direction; otherwise nothing is touched, not even read.
///
/// For ICMP errors use [`super::rewrite_icmp_error`], which also translates the quoted packet.
pub fn rewrite(
    ip: &mut [u8],
    conn: &Conn<Ipv4Addr>,
    dir: Dir,
    hook: Hook,
) -> Result<Rewritten, RewriteError> {
    let manip = hook.manip();
    if !applies(conn, dir, manip) {
        return Ok(Rewritten::default());
    }
    let Some(target) = conn.tuples[dir.flip().index()].invert() else {
        return Ok(Rewritten::default());
    };
    let mut pkt = Ipv4Mut::new_checked(ip)?;
    manip_pkt(&mut pkt, &target, manip, Depth::Outer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::status;
    use crate::wire::build::{self, TcpSpec};
    use crate::wire::checksum::verify_packet;
    use crate::wire::ETHERNET_HEADER_LEN as ETH;

    const CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);
    const WAN: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);

    /// A connection CLIENT:40000 -> SERVER:53 (UDP) masqueraded to WAN:61000.
    fn masqueraded(proto: u8) -> Conn<Ipv4Addr> {
        let mut c = Conn::vacant();
        let orig = Tuple {
            src: CLIENT,
            dst: SERVER,
            sport: 40000,
            dport: 53,
            proto,
        };
        let mapped = Tuple {
            src: WAN,
            sport: 61000,
            ..orig
        };
        c.tuples = [orig, mapped.invert().unwrap()];
        c.status = status::SRC_NAT;
        c
    }

    fn ip(frame: &mut [u8]) -> &mut [u8] {
        &mut frame[ETH..]
    }

    #[test]
    fn udp_source_is_rewritten_and_restored() {
        let c = masqueraded(PROTO_UDP);
        let mut f = build::udp_frame(CLIENT, SERVER, 40000, 53, b"query");
        let r = rewrite(ip(&mut f), &c, Dir::Orig, Hook::Postrouting).unwrap();
        assert_eq!(
            r,
            Rewritten {
                addr: true,
                port: true,
                quoted: false
            }
        );
        assert_eq!(verify_packet(ip(&mut f)), Ok(()));
        assert_eq!(&f[ETH + 12..ETH + 16], &WAN.octets());
        assert_eq!(get16(&f, ETH + 20), 61000);
        // Prerouting of an original packet: no DST_NAT, nothing changes.
        let before = f.clone();
        let r = rewrite(ip(&mut f), &c, Dir::Orig, Hook::Prerouting).unwrap();
        assert!(!r.changed());
        assert_eq!(f, before);

        let mut reply = build::udp_frame(SERVER, WAN, 53, 61000, b"answer");
        rewrite(ip(&mut reply), &c, Dir::Reply, Hook::Prerouting).unwrap();
        assert_eq!(verify_packet(ip(&mut reply)), Ok(()));
        assert_eq!(&reply[ETH + 16..ETH + 20], &CLIENT.octets());
        assert_eq!(get16(&reply, ETH + 22), 40000);
    }

    #[test]
    fn udp_zero_checksum_stays_zero() {
        let c = masqueraded(PROTO_UDP);
        let mut f = build::udp_frame(CLIENT, SERVER, 40000, 53, b"query");
        put16(&mut f, ETH + 26, 0);
        rewrite(ip(&mut f), &c, Dir::Orig, Hook::Postrouting).unwrap();
        assert_eq!(get16(&f, ETH + 26), 0);
        assert_eq!(verify_packet(ip(&mut f)), Ok(()));
    }

    #[test]
    fn a_udp_checksum_that_updates_to_zero_is_sent_as_ffff() {
        // Choose the payload so that the rewritten datagram's checksum computes to 0.
        let c = masqueraded(PROTO_UDP);
        let mut probe = build::udp_frame(CLIENT, SERVER, 40000, 53, &[0, 0]);
        rewrite(ip(&mut probe), &c, Dir::Orig, Hook::Postrouting).unwrap();
        let have = get16(&probe, ETH + 26); // the checksum with a zero payload word
                                            // Adding `have` as a payload word makes the one's-complement sum 0xffff: checksum 0.
        let mut f = build::udp_frame(CLIENT, SERVER, 40000, 53, &have.to_be_bytes());
        rewrite(ip(&mut f), &c, Dir::Orig, Hook::Postrouting).unwrap();
        assert_eq!(get16(&f, ETH + 26), 0xffff);
        assert_eq!(verify_packet(ip(&mut f)), Ok(()));
    }

    #[test]
    fn tcp_checksum_follows_address_and_port() {
        let c = masqueraded(PROTO_TCP);
        let mut f = build::tcp_frame(
            CLIENT,
            SERVER,
            TcpSpec {
                dport: 53,
                payload: b"odd length payload!",
                ..TcpSpec::default()
            },
        );
        rewrite(ip(&mut f), &c, Dir::Orig, Hook::Postrouting).unwrap();
        assert_eq!(verify_packet(ip(&mut f)), Ok(()));
        assert_eq!(get16(&f, ETH + 20), 61000);
    }

    #[test]
    fn a_later_fragment_gets_only_its_header_rewritten() {
        let c = masqueraded(PROTO_UDP);
        let mut f = build::udp_frame(CLIENT, SERVER, 40000, 53, b"fragment data");
        f[ETH + 6] = 0x00;
        f[ETH + 7] = 0x10; // offset 128 bytes
        let mut f = build::fill_checksums(f);
        let payload = f[ETH + 20..].to_vec();
        let r = rewrite(ip(&mut f), &c, Dir::Orig, Hook::Postrouting).unwrap();
        assert!(r.addr && !r.port);
        assert_eq!(f[ETH + 20..], payload[..]);
        assert_eq!(verify_packet(ip(&mut f)), Ok(()));
    }

    #[test]
    fn udplite_gets_the_pseudo_header_update() {
        let mut c = masqueraded(PROTO_UDPLITE);
        for t in &mut c.tuples {
            (t.sport, t.dport) = (0, 0); // conntrack tracks UDP-Lite generically
        }
        // UDP-Lite with full coverage sums as UDP does: build it as UDP, relabel, checksum it.
        let mut f = build::udp_frame(CLIENT, SERVER, 40000, 53, b"lite");
        f[ETH + 9] = PROTO_UDPLITE;
        let mut f = build::fill_checksums(f);
        let holds = |f: &[u8]| {
            let src = Ipv4Addr::from(<[u8; 4]>::try_from(&f[ETH + 12..ETH + 16]).unwrap());
            let dst = Ipv4Addr::from(<[u8; 4]>::try_from(&f[ETH + 16..ETH + 20]).unwrap());
            let l4 = &f[ETH + 20..];
            let acc = checksum::pseudo_header(src, dst, PROTO_UDPLITE, l4.len() as u16);
            checksum::verify(acc, l4)
        };
        let acc = checksum::pseudo_header(CLIENT, SERVER, PROTO_UDPLITE, 12);
        put16(&mut f, ETH + 26, 0);
        let sum = checksum::finish(checksum::sum(acc, &f[ETH + 20..]));
        put16(&mut f, ETH + 26, sum);
        assert!(holds(&f));

        let r = rewrite(ip(&mut f), &c, Dir::Orig, Hook::Postrouting).unwrap();
        assert!(r.addr && !r.port);
        assert_eq!(get16(&f, ETH + 20), 40000, "ports untouched");
        assert!(holds(&f));
        assert_eq!(verify_packet(ip(&mut f)), Ok(()));
    }
}
