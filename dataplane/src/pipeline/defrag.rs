//! IPv4 reassembly before connection tracking, as netfilter's `nf_defrag_ipv4` does: conntrack,
//! the filter and NAT see whole datagrams (a non-first fragment carries no ports), and a
//! forwarded datagram is fragmented again at the egress MTU.
//!
//! Limits follow Linux's defaults: a datagram waits at most 30 s (`ipfrag_time`), all waiting
//! fragments together hold at most 4 MiB (`ipfrag_high_thresh`; beyond it new fragments are
//! dropped), and overlapping fragments discard the whole datagram (RFC 5722's rule, which Linux
//! also applies to IPv4 since 4.19). An exact duplicate is ignored.

use crate::iface::IfIndex;
use crate::time::Instant;
use crate::wire::{checksum, ETHERNET_HEADER_LEN};
use hashbrown::HashMap;
use std::net::Ipv4Addr;

/// How long the fragments of one datagram wait for the rest.
pub const TIMEOUT_NS: u64 = 30_000_000_000;
/// All waiting fragments together.
pub const MAX_BYTES: usize = 4 << 20;
const MAX_DATAGRAM: usize = 65_535;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    id: u16,
    proto: u8,
}

#[derive(Debug)]
struct Queue {
    started: Instant,
    iface: IfIndex,
    /// The Ethernet and IP headers of the offset-0 fragment, once it has arrived.
    head: Option<Vec<u8>>,
    /// (offset, payload), kept sorted by offset.
    parts: Vec<(usize, Vec<u8>)>,
    /// The datagram's payload length, known once the last fragment (MF clear) arrived.
    total: Option<usize>,
    bytes: usize,
}

/// What became of a fragment.
#[derive(Debug, PartialEq, Eq)]
pub enum Reassembly {
    /// It completed its datagram: the whole datagram as one frame.
    Whole(Vec<u8>),
    /// It waits for the rest.
    Held,
    /// It was refused (the reason names why); the datagram's other fragments go with it.
    Dropped(&'static str),
}

/// Datagrams being reassembled.
#[derive(Debug, Default)]
pub struct Defrag {
    queues: HashMap<Key, Queue>,
    bytes: usize,
    /// Datagrams completed, timed out, refused.
    pub reassembled: u64,
    pub timed_out: u64,
    pub failed: u64,
}

impl Defrag {
    /// Takes one fragment (a whole frame whose IPv4 header was checked).
    pub fn push(&mut self, now: Instant, iface: IfIndex, frame: &[u8]) -> Reassembly {
        let Some(ip) = frame.get(ETHERNET_HEADER_LEN..) else {
            return Reassembly::Dropped("truncated fragment");
        };
        if ip.len() < 20 {
            return Reassembly::Dropped("truncated fragment");
        }
        let hl = usize::from(ip[0] & 0x0f) * 4;
        let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        if hl < 20 || total_len < hl || total_len > ip.len() {
            return Reassembly::Dropped("bad fragment length");
        }
        let fo = u16::from_be_bytes([ip[6], ip[7]]);
        let more = fo & 0x2000 != 0;
        let offset = usize::from(fo & 0x1fff) * 8;
        let payload = &ip[hl..total_len];
        let end = offset + payload.len();
        if end > MAX_DATAGRAM - hl || (more && payload.len() % 8 != 0) || payload.is_empty() {
            self.failed += 1;
            return Reassembly::Dropped("bad fragment size");
        }
        let key = Key {
            src: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
            dst: Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
            id: u16::from_be_bytes([ip[4], ip[5]]),
            proto: ip[9],
        };
        if self.bytes + payload.len() > MAX_BYTES {
            self.failed += 1;
            return Reassembly::Dropped("reassembly memory full");
        }
        let q = self.queues.entry(key).or_insert_with(|| Queue {
            started: now,
            iface,
            head: None,
            parts: Vec::new(),
            total: None,
            bytes: 0,
        });
        if !more {
            if q.total.is_some_and(|t| t != end) || q.parts.iter().any(|(o, p)| o + p.len() > end) {
                return self.fail(key, "fragments disagree on the datagram's length");
            }
            q.total = Some(end);
        } else if q.total.is_some_and(|t| end > t) {
            return self.fail(key, "fragment beyond the datagram's end");
        }
        // Exact duplicates are ignored; any other overlap discards the datagram.
        if let Some((o, p)) = q
            .parts
            .iter()
            .find(|(o, p)| offset < o + p.len() && *o < end)
        {
            if *o == offset && p.as_slice() == payload {
                return Reassembly::Held;
            }
            return self.fail(key, "overlapping fragments");
        }
        let at = q.parts.partition_point(|(o, _)| *o < offset);
        q.parts.insert(at, (offset, payload.to_vec()));
        q.bytes += payload.len();
        self.bytes += payload.len();
        if offset == 0 {
            q.head = Some(frame[..ETHERNET_HEADER_LEN + hl].to_vec());
        }
        match self.complete(key) {
            Some(whole) => Reassembly::Whole(whole),
            None => Reassembly::Held,
        }
    }

    fn fail(&mut self, key: Key, why: &'static str) -> Reassembly {
        if let Some(q) = self.queues.remove(&key) {
            self.bytes -= q.bytes;
        }
        self.failed += 1;
        Reassembly::Dropped(why)
    }

    /// The whole datagram, if every byte has arrived.
    fn complete(&mut self, key: Key) -> Option<Vec<u8>> {
        let q = self.queues.get(&key)?;
        let total = q.total?;
        q.head.as_ref()?;
        let mut next = 0;
        for (o, p) in &q.parts {
            if *o != next {
                return None;
            }
            next += p.len();
        }
        if next != total {
            return None;
        }
        let q = self.queues.remove(&key)?;
        self.bytes -= q.bytes;
        self.reassembled += 1;
        let head = q.head?;
        let hl = head.len() - ETHERNET_HEADER_LEN;
        let mut f = Vec::with_capacity(head.len() + total);
        f.extend_from_slice(&head);
        for (_, p) in &q.parts {
            f.extend_from_slice(p);
        }
        let h = &mut f[ETHERNET_HEADER_LEN..ETHERNET_HEADER_LEN + hl];
        h[2..4].copy_from_slice(&((hl + total) as u16).to_be_bytes());
        // Keep DF (it is never set on fragments in practice), clear MF and the offset.
        h[6] &= 0x40;
        h[7] = 0;
        h[10] = 0;
        h[11] = 0;
        let c = checksum::finish(checksum::sum(0, h));
        h[10..12].copy_from_slice(&c.to_be_bytes());
        Some(f)
    }

    /// Drops datagrams that waited too long; returns, for each that had its first fragment,
    /// that fragment's port and headers (the router may answer with ICMP time exceeded,
    /// "fragment reassembly time exceeded", as Linux does).
    pub fn expire(&mut self, now: Instant) -> Vec<(IfIndex, Vec<u8>)> {
        let mut gone = Vec::new();
        let mut freed = 0;
        self.queues.retain(|_, q| {
            if now.as_nanos().saturating_sub(q.started.as_nanos()) < TIMEOUT_NS {
                return true;
            }
            freed += q.bytes;
            if let (Some(head), Some((0, first))) = (&q.head, q.parts.first()) {
                let mut f = head.clone();
                f.extend_from_slice(first);
                gone.push((q.iface, f));
            }
            false
        });
        self.bytes -= freed;
        self.timed_out += gone.len() as u64;
        gone
    }

    /// Bytes held now.
    pub fn held_bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::frag::fragment;
    use crate::wire::build::udp_frame;

    fn datagram(id: u16) -> Vec<u8> {
        let mut f = udp_frame(
            [198, 51, 100, 10].into(),
            [192, 0, 2, 80].into(),
            4000,
            53,
            &[7; 3000],
        );
        f[14 + 4..14 + 6].copy_from_slice(&id.to_be_bytes());
        f[14 + 6] = 0; // no DF
        crate::wire::build::fill_checksums(f)
    }

    #[test]
    fn fragments_in_any_order_make_the_datagram_again() {
        let whole = datagram(7);
        let mut frags = fragment(&whole, 1500).unwrap();
        frags.reverse();
        let mut d = Defrag::default();
        let t = Instant::from_secs(1);
        assert_eq!(d.push(t, 0, &frags[0]), Reassembly::Held);
        assert_eq!(
            d.push(t, 0, &frags[0]),
            Reassembly::Held,
            "a duplicate is ignored"
        );
        assert_eq!(d.push(t, 0, &frags[1]), Reassembly::Held);
        let Reassembly::Whole(got) = d.push(t, 0, &frags[2]) else {
            panic!("not reassembled")
        };
        assert_eq!(got, whole);
        assert_eq!(d.held_bytes(), 0);
        assert_eq!(d.reassembled, 1);
    }

    #[test]
    fn overlaps_discard_the_datagram_and_stale_ones_time_out() {
        let frags = fragment(&datagram(8), 1500).unwrap();
        let mut d = Defrag::default();
        let t = Instant::from_secs(1);
        d.push(t, 0, &frags[0]);
        // The second fragment moved back by 8 bytes overlaps the first.
        let mut bad = frags[1].clone();
        let fo = u16::from_be_bytes([bad[20], bad[21]]) - 1;
        bad[20..22].copy_from_slice(&fo.to_be_bytes());
        assert_eq!(
            d.push(t, 0, &bad),
            Reassembly::Dropped("overlapping fragments")
        );
        assert_eq!(d.held_bytes(), 0);

        d.push(t, 3, &frags[0]);
        assert!(d.expire(Instant::from_secs(30)).is_empty());
        let gone = d.expire(Instant::from_secs(31));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].0, 3);
        assert_eq!(d.held_bytes(), 0);
    }

    #[test]
    fn memory_is_bounded() {
        let mut d = Defrag::default();
        let t = Instant::from_secs(1);
        let mut refused = 0;
        for id in 0..3000u16 {
            let frags = fragment(&datagram(id), 1500).unwrap();
            if d.push(t, 0, &frags[0]) != Reassembly::Held {
                refused += 1;
            }
        }
        assert!(d.held_bytes() <= MAX_BYTES);
        assert!(refused > 0);
    }
}
