//! Replay: a capture's frames through connection tracking, each at its capture time.
//!
//! Without a configuration every IPv4 frame is tracked, as netfilter's prerouting hook tracks
//! every packet it sees: nothing is filtered or routed, and every new connection is confirmed.

use super::pcap::{Frame, LinkType};
use crate::conntrack::{Conntrack, CtState, Tracked, PENDING};
use crate::time::Instant;
use crate::wire::{self, ParseOptions};

/// Options for [`track_frame`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayOptions {
    pub parse: ParseOptions,
}

/// What happened to one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameVerdict {
    /// The state word (`new`, `established`, `related`, `invalid`, `untracked`), or `drop` when
    /// the table was full.
    pub word: &'static str,
    /// Why, for invalid and dropped packets, and for frames that are not IPv4.
    pub reason: Option<&'static str>,
}

impl FrameVerdict {
    fn untracked(reason: &'static str) -> Self {
        FrameVerdict {
            word: CtState::Untracked.as_str(),
            reason: Some(reason),
        }
    }
}

/// The IPv4 packet inside a frame of the given link type, or why there is none.
fn ipv4_payload<'a>(frame: &Frame<'a>) -> Result<&'a [u8], &'static str> {
    let data = frame.data;
    let (ethertype, payload) = match frame.link_type {
        LinkType::Ethernet => {
            let eth = wire::Ethernet::parse(data).map_err(|_| "frame shorter than Ethernet")?;
            (eth.ethertype, &data[wire::ETHERNET_HEADER_LEN..])
        }
        LinkType::LinuxSll if data.len() >= 16 => {
            (u16::from_be_bytes([data[14], data[15]]), &data[16..])
        }
        LinkType::LinuxSll2 if data.len() >= 20 => {
            (u16::from_be_bytes([data[0], data[1]]), &data[20..])
        }
        LinkType::RawIp | LinkType::Ipv4 => match data.first() {
            Some(b) if b >> 4 == 4 => (wire::ETHERTYPE_IPV4, data),
            _ => return Err("not IPv4"),
        },
        LinkType::LinuxSll | LinkType::LinuxSll2 => return Err("truncated cooked header"),
        LinkType::Other(_) => return Err("link type not supported"),
    };
    match ethertype {
        wire::ETHERTYPE_IPV4 => Ok(payload),
        wire::ETHERTYPE_ARP => Err("ARP"),
        wire::ETHERTYPE_IPV6 => Err("IPv6 (not tracked yet)"),
        _ => Err("not IPv4"),
    }
}

/// Tracks one frame at its capture time and confirms any new connection (nothing filters it).
pub fn track_frame(ct: &mut Conntrack, frame: &Frame<'_>, opts: ReplayOptions) -> FrameVerdict {
    let now = Instant::from_nanos(frame.timestamp_ns);
    ct.expire(now);
    let ip = match ipv4_payload(frame) {
        Ok(ip) => ip,
        Err(reason) => return FrameVerdict::untracked(reason),
    };
    let meta = match wire::parse_ipv4(ip, opts.parse) {
        Ok(m) => m,
        Err(_) => {
            return FrameVerdict {
                word: CtState::Invalid.as_str(),
                reason: Some("malformed IPv4 header"),
            }
        }
    };
    let t: Tracked = ct.track(now, &meta);
    if t.conn.map(|f| f.slot) == Some(PENDING) {
        ct.confirm();
    }
    FrameVerdict {
        word: if t.drop { "drop" } else { t.state.as_str() },
        reason: t.reason,
    }
}
