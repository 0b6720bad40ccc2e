//! Bytes to headers. Untrusted frames enter the core only here.
//!
//! Every length is checked once, on entry, against the bytes actually present; what comes out
//! ([`Ethernet`], [`Ipv4Meta`]) is plain data whose accessors cannot panic. Field access uses
//! pnet's packet views, wrapped here and nowhere else.
//!
//! Bounds: parsing one frame reads at most the Ethernet, IPv4 and L4 headers (for an ICMP error,
//! also the quoted IPv4 header and 8 bytes after it); with `verify_checksums` it also sums the L4
//! payload once.

pub mod checksum;

use pnet_packet::ethernet::EthernetPacket;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::tcp::TcpPacket;
use pnet_packet::udp::UdpPacket;
use std::net::Ipv4Addr;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;

pub const ETHERNET_HEADER_LEN: usize = 14;

/// Why a frame or packet could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("frame shorter than an Ethernet header ({0} bytes)")]
    ShortFrame(usize),
    #[error("packet shorter than an IPv4 header ({0} bytes)")]
    ShortIpv4(usize),
    #[error("IP version {0}, expected 4")]
    BadVersion(u8),
    #[error("IPv4 header length {0} bytes is invalid")]
    BadHeaderLength(usize),
    #[error("IPv4 total length {total} does not fit the {have} bytes received")]
    BadTotalLength { total: usize, have: usize },
    #[error("IPv4 header checksum is wrong")]
    BadIpChecksum,
}

/// An Ethernet II frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ethernet {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    pub ethertype: u16,
}

impl Ethernet {
    /// Reads the header; the payload is `&frame[ETHERNET_HEADER_LEN..]`.
    pub fn parse(frame: &[u8]) -> Result<Ethernet, WireError> {
        let eth = EthernetPacket::new(frame).ok_or(WireError::ShortFrame(frame.len()))?;
        Ok(Ethernet {
            dst: eth.get_destination().octets(),
            src: eth.get_source().octets(),
            ethertype: eth.get_ethertype().0,
        })
    }
}

/// TCP flag bits as in the header's 8-bit flags field.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// What conntrack needs of a TCP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpMeta {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    /// Bytes after the TCP header.
    pub payload_len: u32,
    /// Window-scale option, if present (raw shift, not yet capped).
    pub wscale: Option<u8>,
    /// SACK-permitted option present.
    pub sack_perm: bool,
    /// The highest right edge of the SACK blocks that lies after `ack`, if any.
    pub sack: Option<u32>,
}

impl TcpMeta {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// The header fields an ICMP error quotes from the packet that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    /// Ports (TCP/UDP), the echo id and 0 (ICMP: `dport` = type << 8 | code), or zeros.
    pub sport: u16,
    pub dport: u16,
}

/// What conntrack needs of an ICMP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpMeta {
    /// Echo, timestamp, info or address request/reply: the id acts as the port.
    Query { icmp_type: u8, code: u8, id: u16 },
    /// Destination unreachable, source quench, redirect, time exceeded, parameter problem, with
    /// the quoted header when it could be read.
    Error {
        icmp_type: u8,
        code: u8,
        quoted: Option<Quoted>,
    },
    /// Any other type.
    Other { icmp_type: u8, code: u8 },
}

/// A transport header that could not be used, and why (conntrack counts these as invalid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4Error {
    Truncated,
    BadDataOffset,
    BadLength,
    BadChecksum,
    BadIcmpType,
}

impl L4Error {
    pub fn as_str(self) -> &'static str {
        match self {
            L4Error::Truncated => "transport header truncated",
            L4Error::BadDataOffset => "TCP data offset invalid",
            L4Error::BadLength => "UDP length invalid",
            L4Error::BadChecksum => "transport checksum wrong",
            L4Error::BadIcmpType => "ICMP type unknown",
        }
    }
}

/// The transport layer as far as conntrack cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    Tcp(TcpMeta),
    Udp {
        sport: u16,
        dport: u16,
    },
    Icmp(IcmpMeta),
    /// A protocol tracked generically (addresses and protocol number only).
    Other,
    /// A non-first IPv4 fragment: it carries no transport header.
    Fragment,
    Malformed(L4Error),
}

/// A checked IPv4 packet, reduced to what the tracker and the firewall read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Meta {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    pub ttl: u8,
    /// IPv4 total length: the byte count conntrack accounts.
    pub total_len: u16,
    pub header_len: u8,
    pub dont_fragment: bool,
    /// More-fragments set or a non-zero offset.
    pub is_fragment: bool,
    pub l4: L4,
}

/// Options for [`parse_ipv4`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Verify TCP, UDP and ICMP checksums (netfilter's `nf_conntrack_checksum`, on by default).
    /// The IPv4 header checksum is always verified, as the kernel's `ip_rcv` does.
    pub verify_checksums: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            verify_checksums: true,
        }
    }
}

const IP_MF: u8 = 0b001;
const IP_DF: u8 = 0b010;

/// Reads an IPv4 packet (starting at its IP header; trailing link padding is ignored).
pub fn parse_ipv4(bytes: &[u8], opts: ParseOptions) -> Result<Ipv4Meta, WireError> {
    let ip = Ipv4Packet::new(bytes).ok_or(WireError::ShortIpv4(bytes.len()))?;
    let version = ip.get_version();
    if version != 4 {
        return Err(WireError::BadVersion(version));
    }
    let header_len = usize::from(ip.get_header_length()) * 4;
    if header_len < 20 || header_len > bytes.len() {
        return Err(WireError::BadHeaderLength(header_len));
    }
    let total = usize::from(ip.get_total_length());
    if total < header_len || total > bytes.len() {
        return Err(WireError::BadTotalLength {
            total,
            have: bytes.len(),
        });
    }
    if !checksum::verify(0, &bytes[..header_len]) {
        return Err(WireError::BadIpChecksum);
    }
    let src = ip.get_source();
    let dst = ip.get_destination();
    let proto = ip.get_next_level_protocol().0;
    let flags = ip.get_flags();
    let offset = ip.get_fragment_offset();
    let l4_bytes = &bytes[header_len..total];
    let l4 = if offset != 0 {
        L4::Fragment
    } else {
        // A first fragment holds only part of the datagram, so its L4 checksum cannot be verified.
        let verify = opts.verify_checksums && flags & IP_MF == 0;
        parse_l4(src, dst, proto, l4_bytes, verify)
    };
    Ok(Ipv4Meta {
        src,
        dst,
        proto,
        ttl: ip.get_ttl(),
        total_len: total as u16,
        header_len: header_len as u8,
        dont_fragment: flags & IP_DF != 0,
        is_fragment: offset != 0 || flags & IP_MF != 0,
        l4,
    })
}

fn parse_l4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, l4: &[u8], verify: bool) -> L4 {
    match proto {
        PROTO_TCP => parse_tcp(src, dst, l4, verify),
        PROTO_UDP => parse_udp(src, dst, l4, verify),
        PROTO_ICMP => parse_icmp(l4, verify),
        _ => L4::Other,
    }
}

fn parse_tcp(src: Ipv4Addr, dst: Ipv4Addr, l4: &[u8], verify: bool) -> L4 {
    let Some(tcp) = TcpPacket::new(l4) else {
        return L4::Malformed(L4Error::Truncated);
    };
    let doff = usize::from(tcp.get_data_offset()) * 4;
    if doff < 20 || doff > l4.len() {
        return L4::Malformed(L4Error::BadDataOffset);
    }
    if verify {
        let acc = checksum::pseudo_header(src, dst, PROTO_TCP, l4.len() as u16);
        if !checksum::verify(acc, l4) {
            return L4::Malformed(L4Error::BadChecksum);
        }
    }
    let ack = tcp.get_acknowledgement();
    let mut meta = TcpMeta {
        sport: tcp.get_source(),
        dport: tcp.get_destination(),
        seq: tcp.get_sequence(),
        ack,
        flags: tcp.get_flags(),
        window: tcp.get_window(),
        payload_len: (l4.len() - doff) as u32,
        ..TcpMeta::default()
    };
    read_tcp_options(&l4[20..doff], &mut meta);
    L4::Tcp(meta)
}

/// TCP options conntrack reads: window scale, SACK-permitted, SACK blocks. Malformed options end
/// the walk, as in the kernel's `tcp_options`.
fn read_tcp_options(mut opts: &[u8], meta: &mut TcpMeta) {
    const EOL: u8 = 0;
    const NOP: u8 = 1;
    const WSCALE: u8 = 3;
    const SACK_PERM: u8 = 4;
    const SACK: u8 = 5;
    while let Some((&kind, rest)) = opts.split_first() {
        match kind {
            EOL => return,
            NOP => opts = rest,
            _ => {
                let Some(&size) = rest.first() else { return };
                let size = usize::from(size);
                if size < 2 || size > opts.len() {
                    return;
                }
                let body = &opts[2..size];
                match (kind, body.len()) {
                    (WSCALE, 1) => meta.wscale = Some(body[0]),
                    (SACK_PERM, 0) => meta.sack_perm = true,
                    (SACK, n) if n >= 8 && n % 8 == 0 => {
                        let mut best = meta.sack.unwrap_or(meta.ack);
                        for block in body.chunks_exact(8) {
                            let right =
                                u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
                            if seq_after(right, best) {
                                best = right;
                            }
                        }
                        meta.sack = Some(best);
                    }
                    _ => {}
                }
                opts = &opts[size..];
            }
        }
    }
}

/// `a` is after `b` in sequence space (RFC 1982 serial arithmetic), as the kernel's `after()`.
pub fn seq_after(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}

/// `a` is before `b` in sequence space, as the kernel's `before()`.
pub fn seq_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

fn parse_udp(src: Ipv4Addr, dst: Ipv4Addr, l4: &[u8], verify: bool) -> L4 {
    let Some(udp) = UdpPacket::new(l4) else {
        return L4::Malformed(L4Error::Truncated);
    };
    let len = usize::from(udp.get_length());
    if len < 8 || len > l4.len() {
        return L4::Malformed(L4Error::BadLength);
    }
    if verify && udp.get_checksum() != 0 {
        let acc = checksum::pseudo_header(src, dst, PROTO_UDP, len as u16);
        if !checksum::verify(acc, &l4[..len]) {
            return L4::Malformed(L4Error::BadChecksum);
        }
    }
    L4::Udp {
        sport: udp.get_source(),
        dport: udp.get_destination(),
    }
}

/// ICMP types with a reply type, which conntrack can track as a connection (query/response).
pub fn icmp_is_query(icmp_type: u8) -> bool {
    matches!(icmp_type, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18)
}

/// ICMP types that report an error about another packet (`icmp_is_err`).
pub fn icmp_is_error(icmp_type: u8) -> bool {
    matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
}

fn parse_icmp(l4: &[u8], verify: bool) -> L4 {
    if l4.len() < 8 {
        return L4::Malformed(L4Error::Truncated);
    }
    if verify && !checksum::verify(0, l4) {
        return L4::Malformed(L4Error::BadChecksum);
    }
    let icmp_type = l4[0];
    let code = l4[1];
    if icmp_type > 18 {
        return L4::Malformed(L4Error::BadIcmpType);
    }
    let meta = if icmp_is_query(icmp_type) {
        IcmpMeta::Query {
            icmp_type,
            code,
            id: u16::from_be_bytes([l4[4], l4[5]]),
        }
    } else if icmp_is_error(icmp_type) {
        IcmpMeta::Error {
            icmp_type,
            code,
            quoted: parse_quoted(&l4[8..]),
        }
    } else {
        IcmpMeta::Other { icmp_type, code }
    };
    L4::Icmp(meta)
}

/// The IPv4 header and first 8 transport bytes an ICMP error quotes. The quoted packet is
/// usually truncated, so its total length is not checked against what is present.
fn parse_quoted(bytes: &[u8]) -> Option<Quoted> {
    let ip = Ipv4Packet::new(bytes)?;
    if ip.get_version() != 4 {
        return None;
    }
    let hl = usize::from(ip.get_header_length()) * 4;
    if hl < 20 || bytes.len() < hl + 8 || ip.get_fragment_offset() != 0 {
        return None;
    }
    let l4 = &bytes[hl..hl + 8];
    let proto = ip.get_next_level_protocol().0;
    let (sport, dport) = match proto {
        PROTO_TCP | PROTO_UDP => (
            u16::from_be_bytes([l4[0], l4[1]]),
            u16::from_be_bytes([l4[2], l4[3]]),
        ),
        PROTO_ICMP => {
            if !icmp_is_query(l4[0]) {
                return None;
            }
            (
                u16::from_be_bytes([l4[4], l4[5]]),
                u16::from_be_bytes([l4[0], l4[1]]),
            )
        }
        _ => (0, 0),
    };
    Some(Quoted {
        src: ip.get_source(),
        dst: ip.get_destination(),
        proto,
        sport,
        dport,
    })
}

/// Parses `frame` as Ethernet + IPv4; `Ok(None)` for frames of other types.
pub fn parse_ethernet_ipv4(
    frame: &[u8],
    opts: ParseOptions,
) -> Result<Option<(Ethernet, Ipv4Meta)>, WireError> {
    let eth = Ethernet::parse(frame)?;
    if eth.ethertype != ETHERTYPE_IPV4 {
        return Ok(None);
    }
    let ip = parse_ipv4(&frame[ETHERNET_HEADER_LEN..], opts)?;
    Ok(Some((eth, ip)))
}

pub mod build;

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_a_literal_syn() {
        // 198.51.100.10:40000 -> 203.0.113.2:80 SYN, MSS 1460, SACK-perm, wscale 7.
        let frame: Vec<u8> = vec![
            0x02, 0, 0, 0, 1, 1, 0x02, 0, 0, 0, 1, 0x10, 0x08, 0x00, // ethernet
            0x45, 0x00, 0x00, 0x34, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 198, 51, 100,
            10, 203, 0, 113, 2, // ipv4 (checksum filled below)
            0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x80, 0x02,
            0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00, // tcp
            0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0x00, 0x00, // options
        ];
        let frame = fill_checksums(frame);
        let (eth, ip) = parse_ethernet_ipv4(&frame, ParseOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(eth.ethertype, ETHERTYPE_IPV4);
        assert_eq!(ip.src, a("198.51.100.10"));
        assert_eq!(ip.total_len, 52);
        assert!(ip.dont_fragment);
        let L4::Tcp(t) = ip.l4 else {
            panic!("{:?}", ip.l4)
        };
        assert_eq!((t.sport, t.dport, t.seq), (40000, 80, 1000));
        assert_eq!(t.flags, tcp_flags::SYN);
        assert_eq!(t.window, 64240);
        assert_eq!(t.wscale, Some(7));
        assert!(t.sack_perm);
        assert_eq!(t.payload_len, 0);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let frame = tcp_frame(
            a("198.51.100.10"),
            a("203.0.113.2"),
            TcpSpec {
                payload: b"hello",
                ..TcpSpec::default()
            },
        );
        for n in 0..frame.len() {
            let r = parse_ethernet_ipv4(&frame[..n], ParseOptions::default());
            match r {
                Err(_) => {}
                Ok(Some((_, ip))) => assert!(matches!(ip.l4, L4::Malformed(_)), "{n}"),
                Ok(None) => panic!("{n}"),
            }
        }
        assert!(parse_ethernet_ipv4(&frame, ParseOptions::default()).is_ok());
    }

    #[test]
    fn header_errors_are_named() {
        let mut frame = udp_frame(a("198.51.100.10"), a("203.0.113.2"), 5000, 53, b"q");
        let ip = &frame[ETHERNET_HEADER_LEN..].to_vec();
        assert_eq!(
            parse_ipv4(&ip[..10], ParseOptions::default()),
            Err(WireError::ShortIpv4(10))
        );
        let mut v6 = ip.clone();
        v6[0] = 0x65;
        assert_eq!(
            parse_ipv4(&v6, ParseOptions::default()),
            Err(WireError::BadVersion(6))
        );
        let mut ihl = ip.clone();
        ihl[0] = 0x44;
        assert_eq!(
            parse_ipv4(&ihl, ParseOptions::default()),
            Err(WireError::BadHeaderLength(16))
        );
        let mut long = ip.clone();
        long[2] = 0x10;
        assert!(matches!(
            parse_ipv4(&long, ParseOptions::default()),
            Err(WireError::BadTotalLength { .. })
        ));
        frame[ETHERNET_HEADER_LEN + 8] ^= 1; // ttl changed, checksum not
        assert_eq!(
            parse_ethernet_ipv4(&frame, ParseOptions::default()),
            Err(WireError::BadIpChecksum)
        );
    }

    #[test]
    fn l4_checksum_is_checked_only_when_asked() {
        let mut frame = udp_frame(a("198.51.100.10"), a("203.0.113.2"), 5000, 53, b"query");
        let n = frame.len();
        frame[n - 1] ^= 0xff;
        let (_, ip) = parse_ethernet_ipv4(&frame, ParseOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(ip.l4, L4::Malformed(L4Error::BadChecksum));
        let lax = ParseOptions {
            verify_checksums: false,
        };
        let (_, ip) = parse_ethernet_ipv4(&frame, lax).unwrap().unwrap();
        assert_eq!(
            ip.l4,
            L4::Udp {
                sport: 5000,
                dport: 53
            }
        );
    }

    #[test]
    fn icmp_error_quotes_the_original_header() {
        let inner = udp_frame(a("198.51.100.10"), a("203.0.113.2"), 5000, 9999, b"x");
        let frame = icmp_error_frame(
            a("203.0.113.2"),
            a("198.51.100.10"),
            3,
            3,
            &inner[ETHERNET_HEADER_LEN..],
        );
        let (_, ip) = parse_ethernet_ipv4(&frame, ParseOptions::default())
            .unwrap()
            .unwrap();
        let L4::Icmp(IcmpMeta::Error {
            icmp_type: 3,
            code: 3,
            quoted: Some(q),
        }) = ip.l4
        else {
            panic!("{:?}", ip.l4)
        };
        assert_eq!(
            (q.src, q.dst, q.proto, q.sport, q.dport),
            (a("198.51.100.10"), a("203.0.113.2"), 17, 5000, 9999)
        );
    }

    #[test]
    fn fragments_are_flagged() {
        let mut frame = udp_frame(a("198.51.100.10"), a("203.0.113.2"), 5000, 53, b"data");
        frame[ETHERNET_HEADER_LEN + 6] = 0x00;
        frame[ETHERNET_HEADER_LEN + 7] = 0x10; // offset 16*8
        let frame = fill_checksums(frame);
        let (_, ip) = parse_ethernet_ipv4(&frame, ParseOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(ip.l4, L4::Fragment);
        assert!(ip.is_fragment);
    }

    #[test]
    fn sack_blocks_give_the_highest_right_edge() {
        let mut meta = TcpMeta {
            ack: 1000,
            ..TcpMeta::default()
        };
        // NOP NOP SACK(2 blocks): [1100,1200) [1300,1400)
        let mut opts = vec![1, 1, 5, 18];
        for v in [1100u32, 1200, 1300, 1400] {
            opts.extend_from_slice(&v.to_be_bytes());
        }
        read_tcp_options(&opts, &mut meta);
        assert_eq!(meta.sack, Some(1400));
        // A malformed option length stops the walk without panicking.
        let mut m = TcpMeta::default();
        read_tcp_options(&[3, 0, 7], &mut m);
        read_tcp_options(&[3, 9, 7], &mut m);
        read_tcp_options(&[3], &mut m);
        assert_eq!(m.wscale, None);
    }

    #[test]
    fn sequence_arithmetic_wraps() {
        assert!(seq_after(5, u32::MAX - 5));
        assert!(seq_before(u32::MAX - 5, 5));
        assert!(!seq_after(7, 7));
    }
}
