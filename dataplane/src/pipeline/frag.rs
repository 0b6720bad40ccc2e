//! IPv4 fragmentation for packets larger than the egress MTU without DF (RFC 791 §3.2): each
//! fragment carries a copy of the header, a payload that is a multiple of 8 bytes (but the last),
//! and its offset; the IP header checksum is recomputed.

use crate::wire::{checksum, ETHERNET_HEADER_LEN};

/// Splits the frame into frames whose IP packets fit `mtu`; `None` if the header does not parse
/// or `mtu` cannot hold a header and 8 bytes.
pub fn fragment(frame: &[u8], mtu: u16) -> Option<Vec<Vec<u8>>> {
    let ip = frame.get(ETHERNET_HEADER_LEN..)?;
    let hl = usize::from(*ip.first()? & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    if hl < 20 || total < hl || total > ip.len() {
        return None;
    }
    let chunk = (usize::from(mtu).checked_sub(hl)?) & !7;
    if chunk == 0 {
        return None;
    }
    let flags_off = u16::from_be_bytes([ip[6], ip[7]]);
    let base_off = usize::from(flags_off & 0x1fff) * 8;
    let more_after = flags_off & 0x2000 != 0;
    let payload = &ip[hl..total];
    let mut out = Vec::with_capacity(payload.len() / chunk + 1);
    let mut at = 0;
    while at < payload.len() {
        let end = (at + chunk).min(payload.len());
        let last = end == payload.len();
        let mut f = Vec::with_capacity(ETHERNET_HEADER_LEN + hl + end - at);
        f.extend_from_slice(&frame[..ETHERNET_HEADER_LEN]);
        f.extend_from_slice(&ip[..hl]);
        f.extend_from_slice(&payload[at..end]);
        let h = &mut f[ETHERNET_HEADER_LEN..ETHERNET_HEADER_LEN + hl];
        h[2..4].copy_from_slice(&((hl + end - at) as u16).to_be_bytes());
        let mf = if !last || more_after { 0x2000 } else { 0 };
        let off = ((base_off + at) / 8) as u16;
        h[6..8].copy_from_slice(&(mf | off).to_be_bytes());
        h[10] = 0;
        h[11] = 0;
        let c = checksum::finish(checksum::sum(0, h));
        h[10..12].copy_from_slice(&c.to_be_bytes());
        out.push(f);
        at = end;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::build::udp_frame;

    #[test]
    fn fragments_reassemble_to_the_original() {
        let mut f = udp_frame(
            [198, 51, 100, 10].into(),
            [203, 0, 113, 5].into(),
            4000,
            53,
            &[9; 3000],
        );
        f[14 + 6] = 0; // clear DF
        let frags = fragment(&f, 1500).unwrap();
        assert_eq!(frags.len(), 3);
        let mut payload = Vec::new();
        for (i, fr) in frags.iter().enumerate() {
            let ip = &fr[14..];
            assert!(ip.len() <= 1500);
            assert!(checksum::verify(0, &ip[..20]));
            let fo = u16::from_be_bytes([ip[6], ip[7]]);
            assert_eq!(usize::from(fo & 0x1fff) * 8, payload.len());
            assert_eq!(fo & 0x2000 != 0, i < 2);
            payload.extend_from_slice(&ip[20..]);
        }
        assert_eq!(payload, f[34..]);
    }
}
