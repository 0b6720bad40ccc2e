//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).

use std::net::Ipv4Addr;

/// One's-complement sum of `data` folded into 32 bits (not yet folded to 16 or inverted).
pub fn sum(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
        // Fold early enough that `acc` never overflows on any input length a frame can have.
        if acc & 0x8000_0000 != 0 {
            acc = (acc & 0xffff) + (acc >> 16);
        }
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(*last) << 8);
    }
    acc
}

/// Folds a 32-bit sum to 16 bits and inverts it: the value that goes into a header.
pub fn finish(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The IPv4 pseudo-header sum for TCP and UDP.
pub fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, l4_len: u16) -> u32 {
    let s = src.octets();
    let d = dst.octets();
    let mut acc = 0u32;
    acc +=
        u32::from(u16::from_be_bytes([s[0], s[1]])) + u32::from(u16::from_be_bytes([s[2], s[3]]));
    acc +=
        u32::from(u16::from_be_bytes([d[0], d[1]])) + u32::from(u16::from_be_bytes([d[2], d[3]]));
    acc + u32::from(proto) + u32::from(l4_len)
}

/// Whether `data` (a header including its checksum field) sums to zero, i.e. is intact.
pub fn verify(acc: u32, data: &[u8]) -> bool {
    finish(sum(acc, data)) == 0
}

/// RFC 1624 eqn. 3: the new checksum after a 16-bit field changed from `old` to `new`.
pub fn update16(check: u16, old: u16, new: u16) -> u16 {
    let acc = u32::from(!check) + u32::from(!old) + u32::from(new);
    finish(acc)
}

/// RFC 1624 for a 32-bit field (an IPv4 address), as two 16-bit halves.
pub fn update32(check: u16, old: u32, new: u32) -> u16 {
    let c = update16(check, (old >> 16) as u16, (new >> 16) as u16);
    update16(c, old as u16, new as u16)
}

/// Which checksum of a packet [`verify_packet`] found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumField {
    Ipv4Header,
    Tcp,
    Udp,
    Icmp,
    /// The IPv4 header an ICMP error quotes.
    QuotedIpv4Header,
}

impl std::fmt::Display for ChecksumField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChecksumField::Ipv4Header => "IPv4 header",
            ChecksumField::Tcp => "TCP",
            ChecksumField::Udp => "UDP",
            ChecksumField::Icmp => "ICMP",
            ChecksumField::QuotedIpv4Header => "quoted IPv4 header",
        })
    }
}

/// Why [`verify_packet`] refused a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumError {
    /// The packet is too short or inconsistent to hold the checksum.
    #[error("cannot check: {0}")]
    Malformed(&'static str),
    #[error("{field} checksum wrong: expected {expected:#06x}, found {found:#06x}")]
    Wrong {
        field: ChecksumField,
        expected: u16,
        found: u16,
    },
}

/// Checks one checksum field at `at` of `data` (summed from `acc`); `expected` is recomputed
/// from scratch with the field taken as zero. `at` is even, so the two halves stay aligned.
fn check_field(
    field: ChecksumField,
    acc: u32,
    data: &[u8],
    at: usize,
) -> Result<(), ChecksumError> {
    // One's-complement arithmetic has two zeros: any field value that sums to zero is right.
    if verify(acc, data) {
        return Ok(());
    }
    let mut expected = finish(sum(sum(acc, &data[..at]), &data[at + 2..]));
    if field == ChecksumField::Udp && expected == 0 {
        expected = 0xffff;
    }
    Err(ChecksumError::Wrong {
        field,
        expected,
        found: u16::from_be_bytes([data[at], data[at + 1]]),
    })
}

/// Recomputes every checksum of an IPv4 packet (`ip` from its header to the end) from scratch:
/// the header's; TCP's and UDP's with the pseudo-header (a UDP checksum of 0 means none); ICMP's;
/// and for an ICMP error also the quoted IPv4 header's. Fragments: a non-first fragment has only
/// its header checked, a first fragment its header and nothing the rest of the datagram covers.
///
/// The one check every test of emitted frames runs, so a NAT or a builder that forgets a field
/// is caught by name.
pub fn verify_packet(ip: &[u8]) -> Result<(), ChecksumError> {
    use ChecksumError::Malformed;
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return Err(Malformed("not an IPv4 header"));
    }
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if hl < 20 || total < hl || total > ip.len() {
        return Err(Malformed("IPv4 header or total length inconsistent"));
    }
    check_field(ChecksumField::Ipv4Header, 0, &ip[..hl], 10)?;
    let frag = u16::from_be_bytes([ip[6], ip[7]]);
    if frag & 0x3fff != 0 {
        // More-fragments or an offset: the L4 checksum covers bytes not in this packet.
        return Ok(());
    }
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let l4 = &ip[hl..total];
    match ip[9] {
        super::PROTO_TCP => {
            if l4.len() < 20 {
                return Err(Malformed("TCP header truncated"));
            }
            let acc = pseudo_header(src, dst, super::PROTO_TCP, l4.len() as u16);
            check_field(ChecksumField::Tcp, acc, l4, 16)
        }
        super::PROTO_UDP => {
            if l4.len() < 8 {
                return Err(Malformed("UDP header truncated"));
            }
            let len = usize::from(u16::from_be_bytes([l4[4], l4[5]]));
            if len < 8 || len > l4.len() {
                return Err(Malformed("UDP length inconsistent"));
            }
            if l4[6] == 0 && l4[7] == 0 {
                return Ok(());
            }
            let acc = pseudo_header(src, dst, super::PROTO_UDP, len as u16);
            check_field(ChecksumField::Udp, acc, &l4[..len], 6)
        }
        super::PROTO_ICMP => {
            if l4.len() < 8 {
                return Err(Malformed("ICMP header truncated"));
            }
            check_field(ChecksumField::Icmp, 0, l4, 2)?;
            if !super::icmp_is_error(l4[0]) {
                return Ok(());
            }
            let quoted = &l4[8..];
            if quoted.len() < 20 || quoted[0] >> 4 != 4 {
                return Err(Malformed("ICMP error quotes no IPv4 header"));
            }
            let qhl = usize::from(quoted[0] & 0x0f) * 4;
            if qhl < 20 || qhl > quoted.len() {
                return Err(Malformed("quoted IPv4 header truncated"));
            }
            check_field(ChecksumField::QuotedIpv4Header, 0, &quoted[..qhl], 10)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 header of RFC 1071-style worked examples: 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7.
    const IP_HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    #[test]
    fn known_header_verifies_and_recomputes() {
        assert!(verify(0, &IP_HEADER));
        let mut h = IP_HEADER;
        h[10] = 0;
        h[11] = 0;
        assert_eq!(finish(sum(0, &h)), 0xb861);
    }

    #[test]
    fn incremental_update_matches_full_recomputation() {
        let mut h = IP_HEADER;
        let old = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
        let new = u32::from_be_bytes([203, 0, 113, 1]);
        let check = u16::from_be_bytes([h[10], h[11]]);
        let updated = update32(check, old, new);
        h[12..16].copy_from_slice(&new.to_be_bytes());
        h[10] = 0;
        h[11] = 0;
        assert_eq!(updated, finish(sum(0, &h)));
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(0, &[0x01]), 0x0100);
        assert_eq!(sum(0, &[0x01, 0x02, 0x03]), 0x0102 + 0x0300);
    }

    use crate::wire::build::{self, TcpSpec};
    use crate::wire::ETHERNET_HEADER_LEN as ETH;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn built_frames_verify() {
        let tcp = build::tcp_frame(a("198.51.100.10"), a("203.0.113.2"), TcpSpec::default());
        let udp = build::udp_frame(a("198.51.100.10"), a("203.0.113.2"), 5000, 53, b"odd");
        let echo = build::icmp_echo_frame(a("198.51.100.10"), a("203.0.113.2"), 8, 7, 1);
        let err = build::icmp_error_frame(a("203.0.113.2"), a("198.51.100.10"), 3, 3, &udp[ETH..]);
        for f in [&tcp, &udp, &echo, &err] {
            assert_eq!(verify_packet(&f[ETH..]), Ok(()));
        }
    }

    #[test]
    fn the_wrong_checksum_is_named_with_expected_and_found() {
        let mut f = build::tcp_frame(a("198.51.100.10"), a("203.0.113.2"), TcpSpec::default());
        let good = u16::from_be_bytes([f[ETH + 36], f[ETH + 37]]);
        f[ETH + 36] ^= 0x01;
        assert_eq!(
            verify_packet(&f[ETH..]),
            Err(ChecksumError::Wrong {
                field: ChecksumField::Tcp,
                expected: good,
                found: good ^ 0x0100
            })
        );
        f[ETH + 8] ^= 1; // ttl: the header is checked first
        assert!(matches!(
            verify_packet(&f[ETH..]),
            Err(ChecksumError::Wrong {
                field: ChecksumField::Ipv4Header,
                ..
            })
        ));
    }

    #[test]
    fn udp_zero_means_none_and_icmp_errors_check_the_quoted_header() {
        let mut udp = build::udp_frame(a("198.51.100.10"), a("203.0.113.2"), 5000, 53, b"q");
        udp[ETH + 26] = 0;
        udp[ETH + 27] = 0;
        assert_eq!(verify_packet(&udp[ETH..]), Ok(()));
        let mut quoted = udp[ETH..].to_vec();
        quoted[8] ^= 1; // the quoted header's checksum no longer holds
        let err = build::icmp_error_frame(a("203.0.113.2"), a("198.51.100.10"), 3, 3, &quoted);
        assert!(matches!(
            verify_packet(&err[ETH..]),
            Err(ChecksumError::Wrong {
                field: ChecksumField::QuotedIpv4Header,
                ..
            })
        ));
    }

    #[test]
    fn truncated_packets_are_malformed_not_panics() {
        let f = build::tcp_frame(a("198.51.100.10"), a("203.0.113.2"), TcpSpec::default());
        for n in 0..f.len() - ETH {
            assert!(matches!(
                verify_packet(&f[ETH..ETH + n]),
                Err(ChecksumError::Malformed(_))
            ));
        }
    }
}
