//! Replay through the whole router: captures arrive on named ports, merged by capture time;
//! what the router sends is collected per egress port, stamped with the time of the frame that
//! caused it.
//!
//! Every frame of a capture counts as received on its port (the router runs with
//! [`Options::accept_any_mac`](crate::pipeline::Options)), so captures taken in front of another
//! router replay without configuring its MAC addresses.

use super::pcap::{Capture, Frame, LinkType};
use crate::iface::IfIndex;
use crate::pipeline::{Dest, Disposition, Egress, Router};
use crate::time::Instant;
use crate::wire::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};

/// A frame the router sent during the replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub timestamp_ns: u64,
    pub frame: Vec<u8>,
}

/// One received frame's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub iface: IfIndex,
    /// The frame's number in its own capture.
    pub number: u64,
    pub timestamp_ns: u64,
    pub disposition: Disposition,
}

/// Everything a replay produced.
#[derive(Debug, Default)]
pub struct Replay {
    /// Frames sent, by egress port index.
    pub sent: Vec<Vec<Sent>>,
    /// Packets handed to the router's own stack.
    pub local: Vec<Sent>,
    pub received: Vec<Received>,
    /// The last capture time seen.
    pub end: Instant,
}

/// The frame as Ethernet, whatever the capture's link type (cooked and raw-IP captures get a
/// header with unknown addresses); `None` for link types the router cannot take.
fn ethernet_frame(f: &Frame<'_>, port_mac: [u8; 6]) -> Option<Vec<u8>> {
    let d = f.data;
    let wrap = |ethertype: u16, payload: &[u8]| {
        let mut v = Vec::with_capacity(14 + payload.len());
        v.extend_from_slice(&port_mac);
        v.extend_from_slice(&[0; 6]);
        v.extend_from_slice(&ethertype.to_be_bytes());
        v.extend_from_slice(payload);
        v
    };
    match f.link_type {
        LinkType::Ethernet => Some(d.to_vec()),
        LinkType::LinuxSll if d.len() >= 16 => {
            Some(wrap(u16::from_be_bytes([d[14], d[15]]), &d[16..]))
        }
        LinkType::LinuxSll2 if d.len() >= 20 => {
            Some(wrap(u16::from_be_bytes([d[0], d[1]]), &d[20..]))
        }
        LinkType::RawIp | LinkType::Ipv4 => match d.first().map(|b| b >> 4) {
            Some(4) => Some(wrap(ETHERTYPE_IPV4, d)),
            Some(6) => Some(wrap(ETHERTYPE_IPV6, d)),
            _ => None,
        },
        _ => None,
    }
}

/// Runs the captures, each arriving on its port, through `router` in capture-time order (ties
/// keep the order of `inputs`, then of each file).
pub fn run(router: &mut Router, inputs: &[(IfIndex, &Capture<'_>)]) -> Replay {
    let mut order: Vec<(u64, usize, usize)> = Vec::new();
    for (k, (_, cap)) in inputs.iter().enumerate() {
        for (n, f) in cap.frames.iter().enumerate() {
            order.push((f.timestamp_ns, k, n));
        }
    }
    order.sort();
    let mut rep = Replay {
        sent: vec![Vec::new(); router.ports().len()],
        ..Replay::default()
    };
    let mut out: Vec<Egress> = Vec::new();
    let mut last_tick = None;
    for (ts, k, n) in order {
        let (iface, cap) = inputs[k];
        let f = &cap.frames[n];
        let now = Instant::from_nanos(ts);
        rep.end = rep.end.max(now);
        // Housekeeping at most once per capture millisecond keeps long replays linear.
        if last_tick.is_none_or(|t: u64| ts >= t + 1_000_000) {
            router.tick(now, &mut out);
            last_tick = Some(ts);
        }
        let mac = router.ports()[usize::from(iface)].mac;
        let disposition = match ethernet_frame(f, mac) {
            Some(frame) => router.process(now, iface, frame, &mut out),
            None => Disposition::Dropped(crate::pipeline::DropReason::BadFrame),
        };
        rep.received.push(Received {
            iface,
            number: f.number,
            timestamp_ns: ts,
            disposition,
        });
        collect(&mut rep, ts, &mut out);
    }
    rep
}

fn collect(rep: &mut Replay, ts: u64, out: &mut Vec<Egress>) {
    for e in out.drain(..) {
        let sent = Sent {
            timestamp_ns: ts,
            frame: e.frame,
        };
        match e.dest {
            Dest::Port(i) => {
                if let Some(v) = rep.sent.get_mut(usize::from(i)) {
                    v.push(sent);
                }
            }
            Dest::Local => rep.local.push(sent),
        }
    }
}
