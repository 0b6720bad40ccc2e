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
}
