//! Scenario tests: literal frames through the conntrack engine and NAT, in the order the
//! pipeline runs them; every frame that leaves is checked with `verify_packet` and parsed again.
//!
//! Addresses are documentation ranges only: LAN 198.51.100.0/24 (router 198.51.100.1), WAN
//! 203.0.113.0/24 (router 203.0.113.1), remote servers 192.0.2.0/24.

use super::*;
use crate::conntrack::{Conntrack, CtState, Found, Tuple, PENDING};
use crate::time::Instant;
use crate::wire::build::{self, TcpSpec};
use crate::wire::checksum::{verify_packet, ChecksumError};
use crate::wire::tcp_flags::{ACK, SYN};
use crate::wire::{parse_ethernet_ipv4, ParseOptions, ETHERNET_HEADER_LEN as ETH};
use crate::wire::{PROTO_ICMP, PROTO_TCP, PROTO_UDP};
use shared::tracking::TrackingSettings;

const ROUTER_LAN: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const WAN: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const WAN_GATEWAY: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 254);
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);
const OUTSIDE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 50);
const LAN_SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);

fn lan(host: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, host)
}

/// The NAT rules' answer for a new connection (`None`: no rule matched).
#[derive(Debug, Clone, Copy, Default)]
struct Rules {
    dnat: Option<NatRange>,
    snat: Option<NatRange>,
}

fn masquerade() -> Rules {
    Rules {
        dnat: None,
        snat: Some(NatRange::addr(WAN)),
    }
}

fn dst_nat(r: NatRange) -> Rules {
    Rules {
        dnat: Some(r),
        snat: None,
    }
}

struct Router {
    ct: Conntrack,
    nat: Nat,
    now: Instant,
}

#[derive(Debug)]
struct Forwarded {
    frame: Vec<u8>,
    state: CtState,
}

impl Router {
    fn new(seed: u64) -> Self {
        Router {
            ct: Conntrack::new(TrackingSettings::default(), 10_000),
            nat: Nat::new(seed),
            now: Instant::from_secs(1_000),
        }
    }

    /// One frame through the router, as the pipeline runs it: track; for a new connection the
    /// DNAT decision; rewrite at prerouting; for a new connection the SNAT decision (or the null
    /// binding on the current source address); rewrite at postrouting; confirm.
    fn forward(&mut self, frame: &[u8], rules: Rules) -> Result<Forwarded, String> {
        let mut out = frame.to_vec();
        let (_, meta) = parse_ethernet_ipv4(&out, ParseOptions::default())
            .map_err(|e| e.to_string())?
            .ok_or("not IPv4")?;
        let t = self.ct.track(self.now, &meta);
        let f = t.conn.ok_or(format!("no connection: {:?}", t))?;
        let new = f.slot == PENDING;
        let err = |e: NatError| e.to_string();
        if new {
            if let Some(r) = rules.dnat {
                self.nat
                    .setup(&mut self.ct, self.now, Manip::Dst, &r)
                    .map_err(err)?;
            }
        }
        self.rewrite(&mut out, f, t.state, Hook::Prerouting)?;
        if new {
            let current = self.ct.conn(f).ok_or("pending gone")?.reply().dst;
            let r = rules.snat.unwrap_or(NatRange::addr(current));
            self.nat
                .setup(&mut self.ct, self.now, Manip::Src, &r)
                .map_err(err)?;
        }
        self.rewrite(&mut out, f, t.state, Hook::Postrouting)?;
        if new {
            self.ct.confirm().ok_or("clash at confirm")?;
        }
        verify_packet(&out[ETH..]).map_err(|e| e.to_string())?;
        parse_ethernet_ipv4(&out, ParseOptions::default()).map_err(|e| e.to_string())?;
        Ok(Forwarded {
            frame: out,
            state: t.state,
        })
    }

    fn rewrite(&self, out: &mut [u8], f: Found, state: CtState, hook: Hook) -> Result<(), String> {
        let conn = *self.ct.conn(f).ok_or("connection gone")?;
        let r = if state == CtState::Related {
            rewrite_icmp_error(&mut out[ETH..], &conn, f.dir, hook)
        } else {
            rewrite(&mut out[ETH..], &conn, f.dir, hook)
        };
        r.map(|_| ()).map_err(|e| e.to_string())
    }

    fn ok(&mut self, frame: &[u8], rules: Rules) -> Vec<u8> {
        self.forward(frame, rules).unwrap().frame
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn addr(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

/// Source address and port (or echo id) of an IPv4 packet with a 20-byte header.
fn src(ip: &[u8]) -> (Ipv4Addr, u16) {
    let port = if ip[9] == PROTO_ICMP { 24 } else { 20 };
    (addr(ip, 12), be16(ip, port))
}

fn dst(ip: &[u8]) -> (Ipv4Addr, u16) {
    let port = if ip[9] == PROTO_ICMP { 24 } else { 22 };
    (addr(ip, 16), be16(ip, port))
}

fn syn(from: (Ipv4Addr, u16), to: (Ipv4Addr, u16)) -> Vec<u8> {
    build::tcp_frame(
        from.0,
        to.0,
        TcpSpec {
            sport: from.1,
            dport: to.1,
            seq: 1000,
            flags: SYN,
            ..TcpSpec::default()
        },
    )
}

fn syn_ack(from: (Ipv4Addr, u16), to: (Ipv4Addr, u16)) -> Vec<u8> {
    build::tcp_frame(
        from.0,
        to.0,
        TcpSpec {
            sport: from.1,
            dport: to.1,
            seq: 5000,
            ack: 1001,
            flags: SYN | ACK,
            ..TcpSpec::default()
        },
    )
}

/// A frame of `proto` (TCP SYN or UDP) from `from` to `to`.
fn first(proto: u8, from: (Ipv4Addr, u16), to: (Ipv4Addr, u16)) -> Vec<u8> {
    match proto {
        PROTO_TCP => syn(from, to),
        _ => build::udp_frame(from.0, to.0, from.1, to.1, b"request"),
    }
}

fn answer(proto: u8, from: (Ipv4Addr, u16), to: (Ipv4Addr, u16)) -> Vec<u8> {
    match proto {
        PROTO_TCP => syn_ack(from, to),
        _ => build::udp_frame(from.0, to.0, from.1, to.1, b"response!"),
    }
}

/// An ICMP error from `from` to `to` quoting all of `quoted_ip` (as Linux does up to 576 bytes).
fn icmp_error(from: Ipv4Addr, to: Ipv4Addr, icmp_type: u8, code: u8, quoted_ip: &[u8]) -> Vec<u8> {
    let mut m = vec![icmp_type, code, 0, 0, 0, 0, 0x05, 0x00]; // next-hop MTU 1280
    m.extend_from_slice(quoted_ip);
    build::ipv4_frame(from, to, PROTO_ICMP, &m)
}

#[test]
fn snat_keeps_the_source_port_when_free_and_moves_it_on_a_clash() {
    let mut r = Router::new(1);
    let a = r.ok(&syn((lan(10), 40000), (SERVER, 80)), masquerade());
    assert_eq!(src(&a[ETH..]), (WAN, 40000));
    assert_eq!(dst(&a[ETH..]), (SERVER, 80));

    let b = r.ok(&syn((lan(11), 40000), (SERVER, 80)), masquerade());
    let (wan, port) = src(&b[ETH..]);
    assert_eq!(wan, WAN);
    assert!(port != 40000 && port >= 1024, "{port}");

    // Each reply finds its own client.
    let back = r.forward(&syn_ack((SERVER, 80), (WAN, port)), Rules::default());
    let back = back.unwrap();
    assert_eq!(back.state, CtState::Established);
    assert_eq!(dst(&back.frame[ETH..]), (lan(11), 40000));
    assert_eq!(src(&back.frame[ETH..]), (SERVER, 80));
    let back = r.ok(&syn_ack((SERVER, 80), (WAN, 40000)), Rules::default());
    assert_eq!(dst(&back[ETH..]), (lan(10), 40000));
}

#[test]
fn a_hundred_clients_with_one_source_port_get_distinct_tuples() {
    let mut r = Router::new(2);
    let mut ports = std::collections::HashSet::new();
    for host in 1..=100 {
        let out = r.ok(&syn((lan(host), 40000), (SERVER, 80)), masquerade());
        let (wan, port) = src(&out[ETH..]);
        assert_eq!(wan, WAN);
        assert!(port >= 1024);
        assert!(ports.insert(port), "port {port} given twice");
    }
    assert!(ports.contains(&40000), "the first client kept its port");
    assert_eq!(r.ct.len(), 100);
    assert_eq!(r.ct.counters().insert_failed, 0);
    let replies: std::collections::HashSet<_> = r.ct.entries(r.now).map(|c| *c.reply()).collect();
    assert_eq!(replies.len(), 100);
}

#[test]
fn low_source_ports_stay_in_their_class() {
    let mut r = Router::new(3);
    for (sport, class) in [(123, 1..=511), (800, 600..=1023)] {
        let out = r.ok(&syn((lan(10), sport), (SERVER, 80)), masquerade());
        assert_eq!(src(&out[ETH..]).1, sport);
        let out = r.ok(&syn((lan(11), sport), (SERVER, 80)), masquerade());
        let port = src(&out[ETH..]).1;
        assert!(class.contains(&port) && port != sport, "{sport} -> {port}");
    }
}

#[test]
fn to_ports_are_respected_and_a_full_range_refuses_the_connection() {
    let mut r = Router::new(4);
    let rules = Rules {
        dnat: None,
        snat: Some(NatRange::addr(WAN).with_ports(PortRange {
            first: 20000,
            last: 20003,
        })),
    };
    for host in 1..=4 {
        let out = r.ok(&syn((lan(host), 40000), (SERVER, 80)), rules);
        assert!((20000..=20003).contains(&src(&out[ETH..]).1));
    }
    let full = r.forward(&syn((lan(5), 40000), (SERVER, 80)), rules);
    assert_eq!(full.unwrap_err(), NatError::NoFreeTuple.to_string());
    assert_eq!(r.nat.counters().search_failed, 1);
    assert_eq!(r.ct.len(), 4);
}

#[test]
fn dst_nat_to_an_address_to_an_address_and_port_and_to_a_port() {
    let cases = [
        (NatRange::addr(LAN_SERVER), (LAN_SERVER, 80)),
        (
            NatRange::addr(LAN_SERVER).with_ports(PortRange::one(8080)),
            (LAN_SERVER, 8080),
        ),
        // redirect to-ports=8080: the address stays the router's.
        (
            NatRange::addr(WAN).with_ports(PortRange::one(8080)),
            (WAN, 8080),
        ),
    ];
    for proto in [PROTO_TCP, PROTO_UDP] {
        for (range, to) in cases {
            let mut r = Router::new(5);
            let out = r.ok(&first(proto, (OUTSIDE, 5555), (WAN, 80)), dst_nat(range));
            assert_eq!(dst(&out[ETH..]), to, "{proto} {range:?}");
            assert_eq!(src(&out[ETH..]), (OUTSIDE, 5555), "no SNAT");

            let back = r.ok(&answer(proto, to, (OUTSIDE, 5555)), Rules::default());
            assert_eq!(src(&back[ETH..]), (WAN, 80), "{proto} {range:?}");
            assert_eq!(dst(&back[ETH..]), (OUTSIDE, 5555));
        }
    }
}

#[test]
fn a_zero_udp_checksum_stays_zero_through_dst_nat() {
    let mut r = Router::new(6);
    let mut f = build::udp_frame(OUTSIDE, WAN, 5555, 53, b"query");
    f[ETH + 26..ETH + 28].copy_from_slice(&[0, 0]);
    let range = NatRange::addr(LAN_SERVER).with_ports(PortRange::one(5353));
    let out = r.ok(&f, dst_nat(range));
    assert_eq!(dst(&out[ETH..]), (LAN_SERVER, 5353));
    assert_eq!(be16(&out, ETH + 26), 0);

    let mut back = build::udp_frame(LAN_SERVER, OUTSIDE, 5353, 5555, b"answer");
    back[ETH + 26..ETH + 28].copy_from_slice(&[0, 0]);
    let back = r.ok(&back, Rules::default());
    assert_eq!(src(&back[ETH..]), (WAN, 53));
    assert_eq!(be16(&back, ETH + 26), 0);
}

#[test]
fn icmp_echo_keeps_its_id_when_free_and_is_renumbered_on_a_clash() {
    let mut r = Router::new(7);
    let a = r.ok(
        &build::icmp_echo_frame(lan(10), SERVER, 8, 0x1234, 1),
        masquerade(),
    );
    assert_eq!(src(&a[ETH..]), (WAN, 0x1234));
    let b = r.ok(
        &build::icmp_echo_frame(lan(11), SERVER, 8, 0x1234, 1),
        masquerade(),
    );
    let (wan, id) = src(&b[ETH..]);
    assert_eq!(wan, WAN);
    assert_ne!(id, 0x1234);

    let back = r.ok(
        &build::icmp_echo_frame(SERVER, WAN, 0, id, 1),
        Rules::default(),
    );
    assert_eq!(dst(&back[ETH..]), (lan(11), 0x1234));
    let back = r.ok(
        &build::icmp_echo_frame(SERVER, WAN, 0, 0x1234, 1),
        Rules::default(),
    );
    assert_eq!(dst(&back[ETH..]), (lan(10), 0x1234));
}

/// conntrack_icmp_related.sh: a frag-needed error from a router past the NAT, about a
/// masqueraded packet, must reach the client with both headers translated back.
#[test]
fn frag_needed_about_a_masqueraded_tcp_packet_reaches_the_client() {
    let mut r = Router::new(8);
    r.ok(&syn((lan(10), 40000), (SERVER, 80)), masquerade());
    // The second client's port is remapped, so the quoted port must be restored too.
    let sent = r.ok(&syn((lan(11), 40000), (SERVER, 80)), masquerade());
    let (_, port) = src(&sent[ETH..]);
    assert_ne!(port, 40000);

    // Whole packet quoted (TCP checksum inside the quote) and the minimal 8-byte quote.
    let full = icmp_error(WAN_GATEWAY, WAN, 3, 4, &sent[ETH..]);
    let short = build::icmp_error_frame(WAN_GATEWAY, WAN, 3, 4, &sent[ETH..]);
    for err in [full, short] {
        let out = r.forward(&err, Rules::default()).unwrap();
        assert_eq!(out.state, CtState::Related);
        let ip = &out.frame[ETH..];
        assert_eq!(
            addr(ip, 12),
            WAN_GATEWAY,
            "the outer source is the reporting router"
        );
        assert_eq!(addr(ip, 16), lan(11));
        let quoted = &ip[28..];
        assert_eq!(src(quoted), (lan(11), 40000));
        assert_eq!(dst(quoted), (SERVER, 80));
        if quoted.len() == sent.len() - ETH {
            // The quote is the client's own packet again, checksums and all.
            assert_eq!(quoted, &syn((lan(11), 40000), (SERVER, 80))[ETH..]);
            assert_eq!(verify_packet(quoted), Ok(()));
        }
    }
}

#[test]
fn frag_needed_about_a_masqueraded_echo_restores_the_id() {
    let mut r = Router::new(9);
    r.ok(
        &build::icmp_echo_frame(lan(10), SERVER, 8, 77, 1),
        masquerade(),
    );
    let sent = r.ok(
        &build::icmp_echo_frame(lan(11), SERVER, 8, 77, 1),
        masquerade(),
    );
    let (_, id) = src(&sent[ETH..]);
    assert_ne!(id, 77);
    let err = icmp_error(WAN_GATEWAY, WAN, 3, 4, &sent[ETH..]);
    let out = r.forward(&err, Rules::default()).unwrap();
    assert_eq!(out.state, CtState::Related);
    let quoted = &out.frame[ETH + 28..];
    assert_eq!(addr(&out.frame, ETH + 16), lan(11));
    assert_eq!(
        quoted,
        &build::icmp_echo_frame(lan(11), SERVER, 8, 77, 1)[ETH..]
    );
}

#[test]
fn an_error_from_the_lan_server_about_a_port_forward_shows_the_public_address() {
    let mut r = Router::new(10);
    let range = NatRange::addr(LAN_SERVER).with_ports(PortRange::one(5353));
    let sent = r.ok(
        &first(PROTO_UDP, (OUTSIDE, 5555), (WAN, 53)),
        dst_nat(range),
    );
    let err = build::icmp_error_frame(LAN_SERVER, OUTSIDE, 3, 3, &sent[ETH..]);
    let out = r.forward(&err, Rules::default()).unwrap();
    assert_eq!(out.state, CtState::Related);
    assert_eq!(addr(&out.frame, ETH + 12), WAN);
    assert_eq!(addr(&out.frame, ETH + 16), OUTSIDE);
    assert_eq!(dst(&out.frame[ETH + 28..]), (WAN, 53));
}

/// nf_nat_edemux.sh: a connection B:10000 -> S:5201 exists; a DNAT'd connection from the same
/// B:10000 to V:443 -> S:5201 would have the same reply tuple, so the null binding at
/// postrouting must move its source port.
#[test]
fn a_dnat_clash_with_an_existing_connection_moves_the_source_port() {
    let (b, s, v) = (
        lan(2),
        Ipv4Addr::new(203, 0, 113, 5),
        Ipv4Addr::new(192, 0, 2, 1),
    );
    let mut r = Router::new(11);
    let direct = r.ok(&syn((b, 10000), (s, 5201)), Rules::default());
    assert_eq!(
        src(&direct[ETH..]),
        (b, 10000),
        "null binding, no clash: unchanged"
    );
    r.ok(&syn_ack((s, 5201), (b, 10000)), Rules::default());

    let to_s = NatRange::addr(s).with_ports(PortRange::one(5201));
    let out = r.ok(&syn((b, 10000), (v, 443)), dst_nat(to_s));
    assert_eq!(dst(&out[ETH..]), (s, 5201));
    let (from, port) = src(&out[ETH..]);
    assert_eq!(from, b);
    assert!(port != 10000 && port >= 1024, "{port}");

    let back = r.ok(&syn_ack((s, 5201), (b, port)), Rules::default());
    assert_eq!(src(&back[ETH..]), (v, 443));
    assert_eq!(dst(&back[ETH..]), (b, 10000));
    // The direct connection is untouched.
    let back = r.forward(&syn_ack((s, 5201), (b, 10000)), Rules::default());
    let back = back.unwrap();
    assert_eq!(src(&back.frame[ETH..]), (s, 5201));
    assert_eq!(r.ct.counters().insert_failed, 0);
}

/// nf_nat_edemux.sh, second part: two redirects to one port from the same source port.
#[test]
fn two_redirects_from_one_source_port_are_both_established() {
    let (b, s) = (lan(2), Ipv4Addr::new(203, 0, 113, 5));
    let mut r = Router::new(12);
    let to_5201 = NatRange::addr(s).with_ports(PortRange::one(5201));
    let mut ports = Vec::new();
    for dport in [5202, 5203] {
        let out = r.ok(&syn((b, 10000), (s, dport)), dst_nat(to_5201));
        assert_eq!(dst(&out[ETH..]), (s, 5201));
        let port = src(&out[ETH..]).1;
        let back = r.forward(&syn_ack((s, 5201), (b, port)), Rules::default());
        let back = back.unwrap();
        assert_eq!(back.state, CtState::Established);
        assert_eq!(src(&back.frame[ETH..]), (s, dport));
        assert_eq!(dst(&back.frame[ETH..]), (b, 10000));
        ports.push(port);
    }
    assert_eq!(ports[0], 10000);
    assert_ne!(ports[1], 10000);
}

/// Hairpin NAT: a LAN client reaches a LAN server through the router's WAN address; dst-nat
/// plus a src-nat to the router's LAN address so the reply comes back through the router.
#[test]
fn hairpin_rewrites_both_ends_both_ways() {
    let mut r = Router::new(13);
    let rules = Rules {
        dnat: Some(NatRange::addr(LAN_SERVER)),
        snat: Some(NatRange::addr(ROUTER_LAN)),
    };
    let out = r.ok(&syn((lan(10), 40000), (WAN, 80)), rules);
    assert_eq!(src(&out[ETH..]), (ROUTER_LAN, 40000));
    assert_eq!(dst(&out[ETH..]), (LAN_SERVER, 80));
    let conn = *r.ct.entries(r.now).next().unwrap();
    assert!(conn.has(status::SRC_NAT) && conn.has(status::DST_NAT));
    assert_eq!(
        *conn.reply(),
        Tuple {
            src: LAN_SERVER,
            dst: ROUTER_LAN,
            sport: 80,
            dport: 40000,
            proto: PROTO_TCP
        }
    );

    let back = r.ok(
        &syn_ack((LAN_SERVER, 80), (ROUTER_LAN, 40000)),
        Rules::default(),
    );
    assert_eq!(src(&back[ETH..]), (WAN, 80));
    assert_eq!(dst(&back[ETH..]), (lan(10), 40000));
    let more = build::tcp_frame(
        lan(10),
        WAN,
        TcpSpec {
            seq: 1001,
            ack: 5001,
            payload: b"GET / HTTP/1.0\r\n\r\n",
            ..TcpSpec::default()
        },
    );
    let out = r.ok(&more, Rules::default());
    assert_eq!(src(&out[ETH..]), (ROUTER_LAN, 40000));
    assert_eq!(dst(&out[ETH..]), (LAN_SERVER, 80));
}

/// Truncated and corrupted packets give errors, never panics, whatever the connection.
#[test]
fn no_bytes_make_a_rewrite_panic() {
    let mut r = Router::new(14);
    let hairpin = Rules {
        dnat: Some(NatRange::addr(LAN_SERVER).with_ports(PortRange::one(8080))),
        snat: Some(NatRange::addr(ROUTER_LAN)),
    };
    let tcp_out = r.ok(&syn((lan(10), 40000), (WAN, 80)), hairpin);
    let udp_out = r.ok(&first(PROTO_UDP, (lan(10), 40000), (WAN, 80)), hairpin);
    r.ok(&build::icmp_echo_frame(lan(10), WAN, 8, 9, 1), hairpin);
    let conns: Vec<_> = r.ct.entries(r.now).copied().collect();
    assert_eq!(conns.len(), 3);
    let frames = [
        syn((lan(10), 40000), (WAN, 80)),
        udp_out.clone(),
        build::icmp_echo_frame(lan(10), WAN, 8, 9, 1),
        icmp_error(WAN_GATEWAY, ROUTER_LAN, 3, 4, &tcp_out[ETH..]),
        build::icmp_error_frame(WAN_GATEWAY, ROUTER_LAN, 3, 4, &udp_out[ETH..]),
    ];
    let run = |ip: &[u8]| {
        for c in &conns {
            for dir in [Dir::Orig, Dir::Reply] {
                for hook in [Hook::Prerouting, Hook::Postrouting] {
                    let _ = rewrite(&mut ip.to_vec(), c, dir, hook);
                    let _ = rewrite_icmp_error(&mut ip.to_vec(), c, dir, hook);
                }
            }
        }
    };
    for f in &frames {
        let ip = &f[ETH..];
        for n in 0..ip.len() {
            run(&ip[..n]);
            // A cut packet cannot be rewritten (its total length no longer fits).
            let c = &conns[0];
            assert!(rewrite(&mut ip[..n].to_vec(), c, Dir::Orig, Hook::Prerouting).is_err());
        }
    }
    // Random corruption, headers included (xorshift64*, fixed seed).
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    for _ in 0..3000 {
        let f = &frames[(next() % frames.len() as u64) as usize];
        let mut ip = f[ETH..].to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() % ip.len() as u64) as usize;
            ip[at] = next() as u8;
        }
        let cut = (next() % (ip.len() as u64 + 1)) as usize;
        run(&ip[..cut]);
        run(&ip);
    }
}

#[test]
fn icmp_errors_that_netfilter_drops_are_refused() {
    let mut r = Router::new(15);
    let sent = r.ok(&syn((lan(10), 40000), (SERVER, 80)), masquerade());
    let conn = *r.ct.entries(r.now).next().unwrap();
    // A redirect about a translated connection.
    let mut redirect = build::icmp_error_frame(WAN_GATEWAY, WAN, 5, 1, &sent[ETH..]);
    assert_eq!(
        rewrite_icmp_error(&mut redirect[ETH..], &conn, Dir::Reply, Hook::Prerouting),
        Err(RewriteError::RedirectThroughNat)
    );
    // A damaged error: recomputing its checksum would hide the damage.
    let mut bad = build::icmp_error_frame(WAN_GATEWAY, WAN, 3, 4, &sent[ETH..]);
    let n = bad.len();
    bad[n - 1] ^= 0x40;
    assert_eq!(
        rewrite_icmp_error(&mut bad[ETH..], &conn, Dir::Reply, Hook::Prerouting),
        Err(RewriteError::BadIcmpChecksum)
    );
    // Not an error at all.
    let mut echo = build::icmp_echo_frame(WAN_GATEWAY, WAN, 8, 1, 1);
    assert_eq!(
        rewrite_icmp_error(&mut echo[ETH..], &conn, Dir::Reply, Hook::Prerouting),
        Err(RewriteError::NotIcmpError)
    );
    // At postrouting, a reply-direction error about a masqueraded connection is left alone.
    let mut err = build::icmp_error_frame(WAN_GATEWAY, WAN, 3, 4, &sent[ETH..]);
    let before = err.clone();
    let done = rewrite_icmp_error(&mut err[ETH..], &conn, Dir::Reply, Hook::Postrouting).unwrap();
    assert!(!done.changed());
    assert_eq!(err, before);
}

#[test]
fn the_verifier_catches_a_rewrite_that_forgot_a_checksum() {
    let mut r = Router::new(16);
    let mut out = r.ok(&syn((lan(10), 40000), (SERVER, 80)), masquerade());
    out[ETH + 12] = 10; // the source address changed behind the checksums' back
    assert!(matches!(
        verify_packet(&out[ETH..]),
        Err(ChecksumError::Wrong { .. })
    ));
}
