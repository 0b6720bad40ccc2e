//! Packets the router writes itself in answer to others: ICMP errors (time exceeded,
//! fragmentation needed, unreachable for `reject`), echo replies, and the TCP reset of
//! `reject-with=tcp-reset`.
//!
//! Each returns a whole frame (Ethernet addresses are filled in when it is sent) or `None` when
//! the rules of RFC 1122 §3.2.2 / RFC 1812 §4.3.2.7 say not to answer: never about an ICMP
//! error, a non-first fragment, or a packet from or to a broadcast or multicast address.

use crate::wire::build::{ipv4_frame, tcp_segment, TcpSpec};
use crate::wire::{icmp_is_error, tcp_flags, ETHERNET_HEADER_LEN, PROTO_ICMP, PROTO_TCP};
use std::net::Ipv4Addr;

pub const TIME_EXCEEDED: u8 = 11;
pub const DEST_UNREACHABLE: u8 = 3;
pub const FRAG_NEEDED: u8 = 4;
pub const HOST_UNREACHABLE: u8 = 1;
pub const ECHO_REQUEST: u8 = 8;
pub const ECHO_REPLY: u8 = 0;

/// How much of the offending packet an error quotes: RFC 1812 asks for as much as fits in 576
/// bytes (Linux does the same).
const MAX_ERROR_LEN: usize = 576;

fn addr(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

fn special(a: Ipv4Addr) -> bool {
    a.is_broadcast() || a.is_multicast() || a.is_unspecified()
}

/// The IPv4 packet inside a frame, cut to its total length; `None` if it is not a whole header.
fn ip_of(frame: &[u8]) -> Option<&[u8]> {
    let ip = frame.get(ETHERNET_HEADER_LEN..)?;
    let hl = usize::from(*ip.first()? & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    if hl < 20 || total < hl || total > ip.len() {
        return None;
    }
    Some(&ip[..total])
}

/// The router's ICMP messages may be fragmented on the way (Linux sends them without DF), so
/// a large echo reply crosses a smaller MTU.
fn without_df(mut f: Vec<u8>) -> Vec<u8> {
    f[ETHERNET_HEADER_LEN + 6] &= !0x40;
    crate::wire::build::fill_checksums(f)
}

/// An ICMP error of `icmp_type`/`code` about the packet in `offending` (a frame), sent from the
/// router's address `src`. `mtu` goes in the next-hop MTU field of fragmentation-needed.
pub fn error(
    src: Ipv4Addr,
    offending: &[u8],
    icmp_type: u8,
    code: u8,
    mtu: u16,
) -> Option<Vec<u8>> {
    let ip = ip_of(offending)?;
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let (from, to) = (addr(&ip[12..16]), addr(&ip[16..20]));
    let frag_offset = u16::from_be_bytes([ip[6], ip[7]]) & 0x1fff;
    if special(from) || special(to) || frag_offset != 0 {
        return None;
    }
    if ip[9] == PROTO_ICMP && ip.get(hl).is_some_and(|&t| icmp_is_error(t)) {
        return None;
    }
    let keep = ip.len().min(MAX_ERROR_LEN - 20 - 8);
    let mut m = Vec::with_capacity(8 + keep);
    m.extend_from_slice(&[icmp_type, code, 0, 0, 0, 0]);
    m.extend_from_slice(
        &(if icmp_type == DEST_UNREACHABLE && code == FRAG_NEEDED {
            mtu
        } else {
            0
        })
        .to_be_bytes(),
    );
    m.extend_from_slice(&ip[..keep]);
    Some(without_df(ipv4_frame(src, from, PROTO_ICMP, &m)))
}

/// The reply to an echo request (frame) addressed to the router: same id, sequence and data.
pub fn echo_reply(request: &[u8]) -> Option<Vec<u8>> {
    let ip = ip_of(request)?;
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let msg = ip.get(hl..)?;
    if ip[9] != PROTO_ICMP || msg.len() < 8 || msg[0] != ECHO_REQUEST {
        return None;
    }
    let (from, to) = (addr(&ip[12..16]), addr(&ip[16..20]));
    if special(from) {
        return None;
    }
    let mut m = msg.to_vec();
    m[0] = ECHO_REPLY;
    Some(without_df(ipv4_frame(to, from, PROTO_ICMP, &m)))
}

/// The RST netfilter's `nf_send_reset` answers a TCP segment (frame) with: from the segment's
/// destination, acknowledging it when it carried no ACK. `None` for a RST.
pub fn tcp_reset(offending: &[u8]) -> Option<Vec<u8>> {
    let ip = ip_of(offending)?;
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let tcp = ip.get(hl..)?;
    if ip[9] != PROTO_TCP || tcp.len() < 20 {
        return None;
    }
    let flags = tcp[13];
    if flags & tcp_flags::RST != 0 {
        return None;
    }
    let (from, to) = (addr(&ip[12..16]), addr(&ip[16..20]));
    if special(from) || special(to) {
        return None;
    }
    let doff = usize::from(tcp[12] >> 4) * 4;
    let payload = tcp.len().saturating_sub(doff) as u32;
    let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
    let ack = u32::from_be_bytes([tcp[8], tcp[9], tcp[10], tcp[11]]);
    let spec = if flags & tcp_flags::ACK != 0 {
        TcpSpec {
            seq: ack,
            ack: 0,
            flags: tcp_flags::RST,
            ..TcpSpec::default()
        }
    } else {
        let syn_fin =
            u32::from(flags & tcp_flags::SYN != 0) + u32::from(flags & tcp_flags::FIN != 0);
        TcpSpec {
            seq: 0,
            ack: seq.wrapping_add(payload).wrapping_add(syn_fin),
            flags: tcp_flags::RST | tcp_flags::ACK,
            ..TcpSpec::default()
        }
    };
    let spec = TcpSpec {
        sport: u16::from_be_bytes([tcp[2], tcp[3]]),
        dport: u16::from_be_bytes([tcp[0], tcp[1]]),
        window: 0,
        ..spec
    };
    Some(ipv4_frame(to, from, PROTO_TCP, &tcp_segment(spec)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::build::{icmp_echo_frame, icmp_error_frame, tcp_frame, udp_frame};
    use crate::wire::{parse_ethernet_ipv4, IcmpMeta, ParseOptions, L4};

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn time_exceeded_quotes_the_packet_and_checks_out() {
        let pkt = udp_frame(ip("198.51.100.10"), ip("203.0.113.5"), 40000, 53, &[7; 600]);
        let err = error(ip("198.51.100.1"), &pkt, TIME_EXCEEDED, 0, 0).unwrap();
        let (_, m) = parse_ethernet_ipv4(&err, ParseOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!((m.src, m.dst), (ip("198.51.100.1"), ip("198.51.100.10")));
        assert_eq!(usize::from(m.total_len), MAX_ERROR_LEN);
        match m.l4 {
            L4::Icmp(IcmpMeta::Error {
                icmp_type: 11,
                quoted: Some(q),
                ..
            }) => {
                assert_eq!((q.sport, q.dport), (40000, 53));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn frag_needed_carries_the_mtu_and_errors_are_not_answered() {
        let pkt = udp_frame(ip("198.51.100.10"), ip("203.0.113.5"), 40000, 53, &[1; 100]);
        let err = error(ip("203.0.113.2"), &pkt, DEST_UNREACHABLE, FRAG_NEEDED, 1280).unwrap();
        assert_eq!(&err[14 + 20 + 6..14 + 20 + 8], &1280u16.to_be_bytes());
        assert_eq!(error(ip("203.0.113.2"), &err, TIME_EXCEEDED, 0, 0), None);
        let bcast = udp_frame(ip("198.51.100.10"), ip("255.255.255.255"), 68, 67, &[]);
        assert_eq!(
            error(ip("203.0.113.2"), &bcast, DEST_UNREACHABLE, 3, 0),
            None
        );
        let inner = icmp_error_frame(ip("203.0.113.9"), ip("198.51.100.10"), 3, 3, &pkt[14..]);
        assert_eq!(error(ip("198.51.100.1"), &inner, TIME_EXCEEDED, 0, 0), None);
    }

    #[test]
    fn echo_reply_mirrors_the_request() {
        let req = icmp_echo_frame(ip("198.51.100.10"), ip("198.51.100.1"), 8, 0x4242, 7);
        let rep = echo_reply(&req).unwrap();
        let (_, m) = parse_ethernet_ipv4(&rep, ParseOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!((m.src, m.dst), (ip("198.51.100.1"), ip("198.51.100.10")));
        assert_eq!(
            m.l4,
            L4::Icmp(IcmpMeta::Query {
                icmp_type: 0,
                code: 0,
                id: 0x4242
            })
        );
        assert_eq!(&rep[14 + 20 + 8..], &req[14 + 20 + 8..]);
    }

    #[test]
    fn reset_acknowledges_a_syn() {
        let syn = tcp_frame(
            ip("203.0.113.5"),
            ip("198.51.100.10"),
            TcpSpec {
                sport: 1234,
                dport: 22,
                seq: 1000,
                flags: tcp_flags::SYN,
                ..TcpSpec::default()
            },
        );
        let rst = tcp_reset(&syn).unwrap();
        let (_, m) = parse_ethernet_ipv4(&rst, ParseOptions::default())
            .unwrap()
            .unwrap();
        match m.l4 {
            L4::Tcp(t) => {
                assert_eq!((t.sport, t.dport), (22, 1234));
                assert_eq!(t.flags, tcp_flags::RST | tcp_flags::ACK);
                assert_eq!(t.ack, 1001);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(tcp_reset(&rst), None);
    }
}
