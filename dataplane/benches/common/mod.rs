//! What the benchmarks share: documentation-range hosts, the settings, and feeding frames.
#![allow(dead_code)]

use dataplane::conntrack::{Conntrack, PENDING};
use dataplane::time::Instant;
use dataplane::wire::build::{self, TcpSpec};
use dataplane::wire::tcp_flags::{ACK, SYN};
use dataplane::wire::{parse_ethernet_ipv4, ParseOptions};
use shared::tracking::{Enabled, TrackingSettings};
use std::net::Ipv4Addr;

pub const SERVER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);

/// Client `i`: 60000 source ports per host of the 198.51.100.0/24 documentation range.
pub fn client(i: u32) -> (Ipv4Addr, u16) {
    (
        Ipv4Addr::new(198, 51, 100, (i / 60_000) as u8 + 1),
        1024 + (i % 60_000) as u16,
    )
}

/// Tracking on regardless of rules, RouterOS defaults otherwise.
pub fn settings() -> TrackingSettings {
    TrackingSettings {
        enabled: Enabled::Yes,
        ..TrackingSettings::default()
    }
}

/// Parses and tracks one frame, confirming a new connection as a router would.
pub fn track(ct: &mut Conntrack, now: Instant, frame: &[u8]) {
    let (_, ip) = parse_ethernet_ipv4(frame, ParseOptions::default())
        .ok()
        .flatten()
        .expect("benchmark frames parse");
    let t = ct.track(now, &ip);
    if t.conn.map(|f| f.slot) == Some(PENDING) {
        ct.confirm();
    }
}

/// A client-to-server TCP segment of client `i` to port 443.
pub fn to_server(i: u32, flags: u8, seq: u32, ack: u32) -> Vec<u8> {
    let (addr, port) = client(i);
    build::tcp_frame(
        addr,
        SERVER,
        TcpSpec {
            sport: port,
            dport: 443,
            seq,
            ack,
            flags,
            ..TcpSpec::default()
        },
    )
}

/// SYN, SYN/ACK, ACK of client `i`: leaves an established, assured connection.
pub fn handshake(ct: &mut Conntrack, now: Instant, i: u32) {
    let (addr, port) = client(i);
    let reply = |flags, seq, ack| {
        build::tcp_frame(
            SERVER,
            addr,
            TcpSpec {
                sport: 443,
                dport: port,
                seq,
                ack,
                flags,
                ..TcpSpec::default()
            },
        )
    };
    track(ct, now, &to_server(i, SYN, 1000, 0));
    track(ct, now, &reply(SYN | ACK, 5000, 1001));
    track(ct, now, &to_server(i, ACK, 1001, 5001));
}
