//! Headers to bytes: frames built from fields, with correct checksums.
//!
//! Tests and benchmarks use it to write literal scenarios; the router uses it for the frames it
//! originates itself (ICMP errors, ARP).

use super::{checksum, ETHERNET_HEADER_LEN, ETHERTYPE_IPV4, PROTO_ICMP, PROTO_TCP, PROTO_UDP};
use std::net::Ipv4Addr;

pub const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 1, 0x10];
pub const ROUTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 1, 0x01];

/// The fields of a TCP segment to build.
#[derive(Debug, Clone, Copy)]
pub struct TcpSpec<'a> {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    pub payload: &'a [u8],
}

impl Default for TcpSpec<'_> {
    fn default() -> Self {
        TcpSpec {
            sport: 40000,
            dport: 80,
            seq: 0,
            ack: 0,
            flags: super::tcp_flags::ACK,
            window: 65535,
            wscale: None,
            sack_perm: false,
            payload: &[],
        }
    }
}

fn ethernet(ethertype: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(128);
    f.extend_from_slice(&ROUTER_MAC);
    f.extend_from_slice(&CLIENT_MAC);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f
}

fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, l4_len: usize) -> [u8; 20] {
    let total = (20 + l4_len) as u16;
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
    h[6] = 0x40; // DF
    h[8] = 64;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    h
}

/// An Ethernet + IPv4 frame around an L4 payload; checksums filled in.
pub fn ipv4_frame(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut f = ethernet(ETHERTYPE_IPV4);
    f.extend_from_slice(&ipv4_header(src, dst, proto, l4.len()));
    f.extend_from_slice(l4);
    fill_checksums(f)
}

pub fn tcp_segment(spec: TcpSpec<'_>) -> Vec<u8> {
    let mut opts = Vec::new();
    if let Some(ws) = spec.wscale {
        opts.extend_from_slice(&[1, 3, 3, ws]);
    }
    if spec.sack_perm {
        opts.extend_from_slice(&[1, 1, 4, 2]);
    }
    let doff = 20 + opts.len();
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&spec.sport.to_be_bytes());
    t[2..4].copy_from_slice(&spec.dport.to_be_bytes());
    t[4..8].copy_from_slice(&spec.seq.to_be_bytes());
    t[8..12].copy_from_slice(&spec.ack.to_be_bytes());
    t[12] = ((doff / 4) as u8) << 4;
    t[13] = spec.flags;
    t[14..16].copy_from_slice(&spec.window.to_be_bytes());
    t.extend_from_slice(&opts);
    t.extend_from_slice(spec.payload);
    t
}

pub fn tcp_frame(src: Ipv4Addr, dst: Ipv4Addr, spec: TcpSpec<'_>) -> Vec<u8> {
    ipv4_frame(src, dst, PROTO_TCP, &tcp_segment(spec))
}

pub fn udp_frame(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut u = Vec::with_capacity(len as usize);
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&len.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    ipv4_frame(src, dst, PROTO_UDP, &u)
}

pub fn icmp_echo_frame(src: Ipv4Addr, dst: Ipv4Addr, icmp_type: u8, id: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![icmp_type, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&[0xab; 56]);
    ipv4_frame(src, dst, PROTO_ICMP, &m)
}

/// An ICMP error quoting `quoted_ip` (an IPv4 packet; at most its header and 8 more bytes are kept).
pub fn icmp_error_frame(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    icmp_type: u8,
    code: u8,
    quoted_ip: &[u8],
) -> Vec<u8> {
    let hl = usize::from(quoted_ip.first().map_or(5, |b| b & 0x0f)) * 4;
    let keep = quoted_ip.len().min(hl + 8);
    let mut m = vec![icmp_type, code, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&quoted_ip[..keep]);
    ipv4_frame(src, dst, PROTO_ICMP, &m)
}

/// Recomputes the IPv4 header checksum and the TCP/UDP/ICMP checksum of an Ethernet + IPv4
/// frame from scratch. Frames whose headers do not parse are returned unchanged.
pub fn fill_checksums(mut f: Vec<u8>) -> Vec<u8> {
    let ip_start = ETHERNET_HEADER_LEN;
    if f.len() < ip_start + 20 {
        return f;
    }
    let hl = usize::from(f[ip_start] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([f[ip_start + 2], f[ip_start + 3]]));
    if hl < 20 || total < hl || ip_start + total > f.len() {
        return f;
    }
    f[ip_start + 10] = 0;
    f[ip_start + 11] = 0;
    let c = checksum::finish(checksum::sum(0, &f[ip_start..ip_start + hl]));
    f[ip_start + 10..ip_start + 12].copy_from_slice(&c.to_be_bytes());
    let frag = u16::from_be_bytes([f[ip_start + 6], f[ip_start + 7]]) & 0x1fff;
    if frag != 0 {
        return f;
    }
    let src = Ipv4Addr::new(
        f[ip_start + 12],
        f[ip_start + 13],
        f[ip_start + 14],
        f[ip_start + 15],
    );
    let dst = Ipv4Addr::new(
        f[ip_start + 16],
        f[ip_start + 17],
        f[ip_start + 18],
        f[ip_start + 19],
    );
    let proto = f[ip_start + 9];
    let l4 = &mut f[ip_start + hl..ip_start + total];
    let at = match proto {
        PROTO_TCP if l4.len() >= 20 => 16,
        PROTO_UDP if l4.len() >= 8 => 6,
        PROTO_ICMP if l4.len() >= 4 => 2,
        _ => return f,
    };
    l4[at] = 0;
    l4[at + 1] = 0;
    let acc = if proto == PROTO_ICMP {
        0
    } else {
        checksum::pseudo_header(src, dst, proto, l4.len() as u16)
    };
    let mut c = checksum::finish(checksum::sum(acc, l4));
    if proto == PROTO_UDP && c == 0 {
        c = 0xffff;
    }
    l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    f
}
