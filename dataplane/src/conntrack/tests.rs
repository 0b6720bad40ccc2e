//! Scenario tests with literal packets: each step is a frame built from its header fields, the
//! expected state word, and the expected table state.

use super::*;
use crate::wire::build::{self, TcpSpec};
use crate::wire::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use crate::wire::{parse_ethernet_ipv4, ParseOptions, ETHERNET_HEADER_LEN};
use std::time::Duration;

const CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);
const SERVER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const CPORT: u16 = 40000;
const SPORT: u16 = 80;

fn meta(frame: &[u8]) -> Ipv4Meta {
    parse_ethernet_ipv4(frame, ParseOptions::default())
        .expect("frame parses")
        .expect("frame is IPv4")
        .1
}

struct Sim {
    ct: Conntrack,
    now: Instant,
}

impl Sim {
    fn new() -> Self {
        Self::with(TrackingSettings::default(), 1000)
    }

    fn with(settings: TrackingSettings, max: usize) -> Self {
        Sim {
            ct: Conntrack::new(settings, max),
            now: Instant::from_secs(1_000),
        }
    }

    fn at(&mut self, secs_from_start: f64) -> &mut Self {
        self.now = Instant::from_nanos(1_000_000_000_000 + (secs_from_start * 1e9) as u64);
        self
    }

    /// Tracks a frame and confirms a new connection, as a router does once the packet leaves.
    fn send(&mut self, frame: &[u8]) -> Tracked {
        let t = self.ct.track(self.now, &meta(frame));
        if t.conn.map(|f| f.slot) == Some(PENDING) {
            self.ct.confirm();
        }
        t
    }

    fn c2s(&mut self, flags: u8, seq: u32, ack: u32, payload: &[u8]) -> Tracked {
        self.send(&build::tcp_frame(
            CLIENT,
            SERVER,
            TcpSpec {
                sport: CPORT,
                dport: SPORT,
                seq,
                ack,
                flags,
                payload,
                ..TcpSpec::default()
            },
        ))
    }

    fn s2c(&mut self, flags: u8, seq: u32, ack: u32, payload: &[u8]) -> Tracked {
        self.send(&build::tcp_frame(
            SERVER,
            CLIENT,
            TcpSpec {
                sport: SPORT,
                dport: CPORT,
                seq,
                ack,
                flags,
                payload,
                ..TcpSpec::default()
            },
        ))
    }

    fn only(&self) -> Conn<Ipv4Addr> {
        let all: Vec<_> = self.ct.entries(self.now).copied().collect();
        assert_eq!(all.len(), 1, "expected exactly one entry");
        all[0]
    }

    fn tcp_state(&self) -> TcpState {
        self.only().tcp().expect("a TCP entry").state
    }

    fn left(&self) -> Duration {
        self.only().time_left(self.now)
    }

    /// SYN, SYN/ACK, ACK with client ISN 1000 and server ISN 5000.
    fn handshake(&mut self) {
        assert_eq!(self.c2s(SYN, 1000, 0, b"").state, CtState::New);
        assert_eq!(
            self.s2c(SYN | ACK, 5000, 1001, b"").state,
            CtState::Established
        );
        assert_eq!(self.c2s(ACK, 1001, 5001, b"").state, CtState::Established);
    }
}

#[test]
fn three_way_handshake_walks_syn_sent_syn_recv_established() {
    let mut s = Sim::new();
    let t = s.c2s(SYN, 1000, 0, b"");
    assert_eq!(t.state, CtState::New);
    assert_eq!(s.tcp_state(), TcpState::SynSent);
    assert!(!s.only().has(status::SEEN_REPLY));
    assert_eq!(s.left(), Duration::from_secs(5), "tcp-syn-sent-timeout");

    assert_eq!(
        s.s2c(SYN | ACK, 5000, 1001, b"").state,
        CtState::Established
    );
    assert_eq!(s.tcp_state(), TcpState::SynRecv);
    assert!(s.only().has(status::SEEN_REPLY));
    assert!(!s.only().has(status::ASSURED));
    assert_eq!(s.left(), Duration::from_secs(5), "tcp-syn-received-timeout");

    assert_eq!(s.c2s(ACK, 1001, 5001, b"").state, CtState::Established);
    assert_eq!(s.tcp_state(), TcpState::Established);
    assert!(s.only().has(status::ASSURED));
    assert_eq!(
        s.left(),
        Duration::from_secs(86_400),
        "tcp-established-timeout"
    );
    let c = s.only();
    assert_eq!((c.packets, c.id), ([2, 1], 1));
    assert_eq!(c.bytes, [40 + 40, 40]);
    assert_eq!(s.ct.counters().created, 1);
}

#[test]
fn unacknowledged_data_gets_the_unacked_timeout_until_acked() {
    let mut s = Sim::new();
    s.handshake();
    s.c2s(ACK | PSH, 1001, 5001, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(s.left(), Duration::from_secs(300), "tcp-unacked-timeout");
    s.s2c(ACK, 5001, 1019, b"");
    assert_eq!(s.left(), Duration::from_secs(86_400));
}

#[test]
fn orderly_close_walks_fin_wait_close_wait_last_ack_time_wait_then_expires_exactly() {
    let mut s = Sim::new();
    s.handshake();
    s.c2s(FIN | ACK, 1001, 5001, b"");
    assert_eq!(s.tcp_state(), TcpState::FinWait);
    assert_eq!(s.left(), Duration::from_secs(10));
    s.s2c(ACK, 5001, 1002, b"");
    assert_eq!(s.tcp_state(), TcpState::CloseWait);
    s.s2c(FIN | ACK, 5001, 1002, b"");
    assert_eq!(s.tcp_state(), TcpState::LastAck);
    s.at(1.0);
    s.c2s(ACK, 1002, 5002, b"");
    assert_eq!(s.tcp_state(), TcpState::TimeWait);
    assert_eq!(s.left(), Duration::from_secs(10), "tcp-time-wait-timeout");

    let deadline = s.now + Duration::from_secs(10);
    s.ct.expire(deadline - Duration::from_nanos(1));
    assert_eq!(s.ct.len(), 1, "still there 1 ns before its deadline");
    s.ct.expire(deadline);
    assert_eq!(s.ct.len(), 0, "gone at its deadline");
    assert_eq!(s.ct.counters().expired, 1);
}

#[test]
fn rst_before_any_reply_deletes_the_entry_at_once() {
    let mut s = Sim::new();
    s.c2s(SYN, 1000, 0, b"");
    let t = s.s2c(RST | ACK, 0, 1001, b"");
    assert_eq!(t.state, CtState::Established);
    assert_eq!(s.ct.len(), 0);
    assert_eq!(s.ct.counters().killed, 1);
}

#[test]
fn exact_rst_closes_inexact_rst_is_invalid_and_keeps_established() {
    let mut s = Sim::new();
    s.handshake();
    s.s2c(ACK | PSH, 5001, 1001, &[0u8; 100]);
    s.c2s(ACK, 1001, 5101, b"");
    // Below the peer's highest ack: invalid.
    assert_eq!(s.c2s(RST, 900, 0, b"").state, CtState::Invalid);
    assert_eq!(s.tcp_state(), TcpState::Established);
    // In window but not exact: state kept for a challenge ACK.
    assert_eq!(s.c2s(RST, 1050, 0, b"").state, CtState::Established);
    assert_eq!(s.tcp_state(), TcpState::Established);
    // Exact.
    s.c2s(RST, 1001, 0, b"");
    assert_eq!(s.tcp_state(), TcpState::Close);
    assert_eq!(s.left(), Duration::from_secs(10), "tcp-close-timeout");
}

#[test]
fn syn_on_a_time_wait_entry_starts_a_fresh_connection() {
    let mut s = Sim::new();
    s.handshake();
    s.c2s(FIN | ACK, 1001, 5001, b"");
    s.s2c(FIN | ACK, 5001, 1002, b"");
    s.c2s(ACK, 1002, 5002, b"");
    assert_eq!(s.tcp_state(), TcpState::TimeWait);
    let old_id = s.only().id;
    assert_eq!(s.c2s(SYN, 90_000, 0, b"").state, CtState::New);
    assert_eq!(s.tcp_state(), TcpState::SynSent);
    assert_ne!(s.only().id, old_id, "a new entry, not the old one");
    assert!(!s.only().has(status::ASSURED));
    assert_eq!(s.ct.counters().killed, 1);
}

#[test]
fn retransmitted_syn_does_not_refresh_the_timeout() {
    let mut s = Sim::new();
    s.c2s(SYN, 1000, 0, b"");
    s.at(3.0);
    assert_eq!(s.c2s(SYN, 1000, 0, b"").state, CtState::New);
    assert_eq!(s.left(), Duration::from_secs(2));
    s.at(5.0);
    assert_eq!(
        s.ct.entries(s.now).count(),
        0,
        "expired 5 s after the first SYN"
    );
}

#[test]
fn mid_stream_ack_is_picked_up_only_with_loose_tracking() {
    let mut s = Sim::new();
    assert_eq!(s.c2s(ACK, 1001, 5001, b"").state, CtState::New);
    assert_eq!(s.tcp_state(), TcpState::Established);
    assert_eq!(s.left(), Duration::from_secs(300), "capped until a reply");
    s.s2c(ACK, 5001, 1001, b"");
    s.c2s(ACK, 1001, 5001, b"");
    assert!(s.only().has(status::ASSURED));
    assert_eq!(s.left(), Duration::from_secs(86_400));

    let mut strict = TrackingSettings::default();
    strict.set("loose-tcp-tracking", "no").unwrap();
    let mut s = Sim::with(strict, 1000);
    let t = s.c2s(ACK, 1001, 5001, b"");
    assert_eq!(t.state, CtState::Invalid);
    assert_eq!(s.ct.len(), 0);
}

#[test]
fn segments_that_cannot_start_or_are_malformed_are_invalid() {
    let mut s = Sim::new();
    assert_eq!(s.s2c(SYN | ACK, 5000, 1001, b"").state, CtState::Invalid);
    assert_eq!(s.c2s(FIN, 1, 0, b"").state, CtState::Invalid, "bare FIN");
    assert_eq!(s.c2s(SYN | FIN, 1, 0, b"").state, CtState::Invalid);
    assert_eq!(s.c2s(0, 1, 0, b"").state, CtState::Invalid, "no flags");
    assert_eq!(s.c2s(RST, 1, 0, b"").state, CtState::Invalid);
    let mut bad = build::tcp_frame(
        CLIENT,
        SERVER,
        TcpSpec {
            flags: SYN,
            ..TcpSpec::default()
        },
    );
    let n = bad.len();
    bad[n - 1] ^= 0x55; // urgent pointer changed, checksum not
    assert_eq!(s.send(&bad).state, CtState::Invalid);
    assert_eq!(s.ct.len(), 0);
    assert_eq!(s.ct.counters().invalid, 6);
}

#[test]
fn data_beyond_the_window_is_invalid_and_old_data_is_let_through() {
    let mut s = Sim::new();
    s.handshake();
    // The server advertised 65535 without scaling. Up to one more window beyond it is let
    // through ("bytes more than expected"); beyond that it is over the window.
    assert_eq!(
        s.c2s(ACK | PSH, 1001 + 100_000, 5001, b"x").state,
        CtState::Established
    );
    assert_eq!(
        s.c2s(ACK | PSH, 1001 + 200_000, 5001, b"x").state,
        CtState::Invalid
    );
    // Acking data the server never sent.
    assert_eq!(s.c2s(ACK, 1001, 9_000, b"").state, CtState::Invalid);
    s.c2s(ACK | PSH, 1001, 5001, &[1u8; 500]);
    s.s2c(ACK, 5001, 1501, b"");
    // Retransmission of acknowledged data far below the window: accepted, no state change.
    assert_eq!(
        s.c2s(ACK | PSH, 1001, 5001, &[1u8; 500]).state,
        CtState::Established
    );
    assert_eq!(s.tcp_state(), TcpState::Established);
}

#[test]
fn liberal_tracking_accepts_out_of_window_segments() {
    let mut s = Sim::new();
    s.ct.set_liberal(true);
    s.handshake();
    assert_eq!(
        s.c2s(ACK | PSH, 1001 + 200_000, 5001, b"x").state,
        CtState::Established
    );
}

#[test]
fn simultaneous_open_reaches_established() {
    let mut s = Sim::new();
    s.c2s(SYN, 1000, 0, b"");
    s.s2c(SYN, 5000, 0, b"");
    assert_eq!(s.tcp_state(), TcpState::SynSent2);
    s.c2s(SYN | ACK, 1000, 5001, b"");
    assert_eq!(s.tcp_state(), TcpState::SynRecv);
    s.s2c(ACK, 5001, 1001, b"");
    assert_eq!(s.tcp_state(), TcpState::Established);
}

fn udp(s: &mut Sim, from_client: bool) -> Tracked {
    let f = if from_client {
        build::udp_frame(CLIENT, SERVER, 5353, 53, b"query")
    } else {
        build::udp_frame(SERVER, CLIENT, 53, 5353, b"answer")
    };
    s.send(&f)
}

#[test]
fn udp_unreplied_replied_and_stream() {
    let mut s = Sim::new();
    assert_eq!(udp(&mut s, true).state, CtState::New);
    s.at(0.5);
    assert_eq!(
        udp(&mut s, true).state,
        CtState::New,
        "new until a reply is seen"
    );
    assert_eq!(s.left(), Duration::from_secs(10), "udp-timeout");
    s.at(1.0);
    assert_eq!(udp(&mut s, false).state, CtState::Established);
    assert!(s.only().has(status::SEEN_REPLY));
    s.at(1.5);
    udp(&mut s, true);
    assert!(
        !s.only().has(status::ASSURED),
        "a quick request/response is not a stream"
    );
    assert_eq!(s.left(), Duration::from_secs(10));
    s.at(2.5);
    udp(&mut s, false);
    assert!(
        s.only().has(status::ASSURED),
        "active over 2 s after the first packet"
    );
    assert_eq!(s.left(), Duration::from_secs(180), "udp-stream-timeout");
}

#[test]
fn icmp_echo_and_errors() {
    let mut s = Sim::new();
    let echo = build::icmp_echo_frame(CLIENT, SERVER, 8, 0x77, 1);
    let reply = build::icmp_echo_frame(SERVER, CLIENT, 0, 0x77, 1);
    assert_eq!(s.send(&echo).state, CtState::New);
    assert_eq!(s.left(), Duration::from_secs(10), "icmp-timeout");
    assert_eq!(s.send(&reply).state, CtState::Established);
    assert_eq!(
        s.send(&reply).state,
        CtState::Established,
        "duplicate replies too"
    );
    let c = s.only();
    assert_eq!(
        (
            c.tuples[0].icmp_type(),
            c.tuples[1].icmp_type(),
            c.tuples[1].sport
        ),
        (8, 0, 0x77)
    );

    let mut s = Sim::new();
    assert_eq!(
        s.send(&reply).state,
        CtState::Invalid,
        "a reply cannot start a connection"
    );

    // Port unreachable for a UDP flow is RELATED; for an unknown flow INVALID.
    let mut s = Sim::new();
    let query = build::udp_frame(CLIENT, SERVER, 5353, 9999, b"hi");
    s.send(&query);
    let err = build::icmp_error_frame(SERVER, CLIENT, 3, 3, &query[ETHERNET_HEADER_LEN..]);
    let t = s.send(&err);
    assert_eq!(t.state, CtState::Related);
    assert_eq!(t.conn.map(|f| f.dir), Some(Dir::Reply));
    let c = s.only();
    assert_eq!(c.packets, [1, 0], "errors do not count as traffic");
    let stray = build::udp_frame(CLIENT, SERVER, 6000, 9999, b"hi");
    let err = build::icmp_error_frame(SERVER, CLIENT, 3, 3, &stray[ETHERNET_HEADER_LEN..]);
    assert_eq!(s.send(&err).state, CtState::Invalid);
    // The outer destination must be the quoted packet's source.
    let spoof = build::icmp_error_frame(
        SERVER,
        Ipv4Addr::new(198, 51, 100, 99),
        3,
        3,
        &query[ETHERNET_HEADER_LEN..],
    );
    assert_eq!(s.send(&spoof).state, CtState::Invalid);
    // Timestamp and errors for an echo work alike; router advertisements are not trackable.
    let adv = build::icmp_echo_frame(SERVER, CLIENT, 9, 0, 0);
    assert_eq!(s.send(&adv).state, CtState::Invalid);
}

#[test]
fn other_protocols_are_tracked_generically() {
    let mut s = Sim::new();
    let gre = build::ipv4_frame(CLIENT, SERVER, 47, &[0u8; 8]);
    assert_eq!(s.send(&gre).state, CtState::New);
    assert_eq!(s.left(), Duration::from_secs(600), "generic-timeout");
    let back = build::ipv4_frame(SERVER, CLIENT, 47, &[0u8; 8]);
    assert_eq!(s.send(&back).state, CtState::Established);
}

#[test]
fn full_table_evicts_unassured_first_then_drops() {
    let mut s = Sim::with(TrackingSettings::default(), 2);
    s.send(&build::udp_frame(CLIENT, SERVER, 1, 53, b"a"));
    s.send(&build::udp_frame(CLIENT, SERVER, 2, 53, b"a"));
    assert_eq!(s.ct.len(), 2);
    let t = s.send(&build::udp_frame(CLIENT, SERVER, 3, 53, b"a"));
    assert!(!t.drop);
    assert_eq!(s.ct.len(), 2);
    assert_eq!(s.ct.counters().evicted, 1);

    // Two assured TCP connections fill the table: nothing may be evicted.
    let mut s = Sim::with(TrackingSettings::default(), 1);
    s.handshake();
    assert!(s.only().has(status::ASSURED));
    let t = s.send(&build::udp_frame(CLIENT, SERVER, 3, 53, b"a"));
    assert!(t.drop);
    assert_eq!(t.reason, Some("connection table full"));
    assert_eq!(s.ct.counters().dropped_full, 1);
    assert_eq!(s.ct.len(), 1);
}

#[test]
fn remove_by_id_and_flush() {
    let mut s = Sim::new();
    for p in 1..=3 {
        s.send(&build::udp_frame(CLIENT, SERVER, p, 53, b"a"));
    }
    assert!(s.ct.remove_id(2).is_some());
    assert!(s.ct.remove_id(2).is_none());
    assert_eq!(s.ct.len(), 2);
    s.ct.flush();
    assert_eq!(s.ct.len(), 0);
    assert_eq!(s.ct.counters().removed, 3);
    // The flushed flow starts again as new.
    assert_eq!(
        s.send(&build::udp_frame(CLIENT, SERVER, 1, 53, b"a")).state,
        CtState::New
    );
}

#[test]
fn a_changed_timeout_applies_from_the_next_packet() {
    let mut s = Sim::new();
    udp(&mut s, true);
    let mut settings = *s.ct.settings();
    settings.set("udp-timeout", "30s").unwrap();
    s.ct.set_settings(settings);
    assert_eq!(
        s.left(),
        Duration::from_secs(10),
        "unchanged until its next packet"
    );
    udp(&mut s, true);
    assert_eq!(s.left(), Duration::from_secs(30));
}

#[test]
fn inactive_tracking_marks_packets_untracked() {
    let mut s = Sim::new();
    s.ct.set_active(false);
    assert_eq!(udp(&mut s, true).state, CtState::Untracked);
    assert_eq!(s.ct.len(), 0);
    assert_eq!(s.ct.counters().untracked, 1);
}

#[test]
fn an_unconfirmed_connection_leaves_no_entry() {
    let mut s = Sim::new();
    let t =
        s.ct.track(s.now, &meta(&build::udp_frame(CLIENT, SERVER, 1, 53, b"a")));
    assert_eq!(t.conn.map(|f| f.slot), Some(PENDING));
    s.ct.discard();
    assert_eq!(s.ct.len(), 0);
    assert_eq!(s.ct.confirm(), None);
}

#[test]
fn expiry_keeps_order_across_many_entries_and_wheel_laps() {
    let mut s = Sim::new();
    let mut settings = TrackingSettings::default();
    settings.set("udp-timeout", "2h").unwrap();
    s.ct.set_settings(settings);
    for p in 0..200u16 {
        s.at(f64::from(p) * 0.05);
        s.send(&build::udp_frame(CLIENT, SERVER, 1000 + p, 53, b"a"));
    }
    // Deadlines are 2 h (several wheel laps) after each send, 50 ms apart.
    let start = Instant::from_nanos(1_000_000_000_000) + Duration::from_secs(7200);
    for k in [0u64, 1, 57, 199] {
        let t = start + Duration::from_millis(50 * k);
        s.ct.expire(t - Duration::from_nanos(1));
        assert_eq!(s.ct.len() as u64, 200 - k, "before deadline {k}");
        s.ct.expire(t);
        assert_eq!(s.ct.len() as u64, 199 - k, "at deadline {k}");
    }
}
