//! Scenario tests of the whole packet flow with literal frames: the RouterOS default firewall on
//! a SOHO router (LAN ether2 198.51.100.1/24, WAN ether1 203.0.113.2/24, gateway 203.0.113.1,
//! "internet" hosts in 192.0.2.0/24) and the netfilter NAT cases that apply to one router.
//! Every frame the router emits has its checksums recomputed from scratch.

use super::*;
use crate::wire::build::{icmp_echo_frame, icmp_error_frame, tcp_frame, udp_frame, TcpSpec};
use crate::wire::checksum::verify_packet;
use crate::wire::{parse_ethernet_ipv4, tcp_flags, TcpMeta};
use shared::config::RouterConfig;

const WAN_MAC: [u8; 6] = [0x02, 0, 0, 0, 0xe1, 0x01];
const LAN_MAC: [u8; 6] = [0x02, 0, 0, 0, 0xe2, 0x01];
const GW_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x99, 0x01];
const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x10, 0x10];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x20, 0x20];
const WAN: IfIndex = 0;
const LAN: IfIndex = 1;

/// The setup and the RouterOS defconf rules with a port forward (see the file's header).
const SOHO: &str = include_str!("../../fixtures/soho.rsc");

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn router_with(extra: &str) -> Router {
    let text = format!("{SOHO}{extra}");
    let cfg = RouterConfig::from_rsc(&text).unwrap_or_else(|e| panic!("{e:?}"));
    let ports = vec![
        Port {
            name: "ether1".into(),
            mac: WAN_MAC,
            mtu: 1500,
        },
        Port {
            name: "ether2".into(),
            mac: LAN_MAC,
            mtu: 1500,
        },
    ];
    Router::new(ports, &cfg, Options::default())
}

fn router() -> Router {
    router_with("")
}

/// A frame addressed to the router's port.
fn to_port(mut f: Vec<u8>, port_mac: [u8; 6], from: [u8; 6]) -> Vec<u8> {
    f[0..6].copy_from_slice(&port_mac);
    f[6..12].copy_from_slice(&from);
    f
}

fn from_lan(f: Vec<u8>) -> Vec<u8> {
    to_port(f, LAN_MAC, CLIENT_MAC)
}

fn from_wan(f: Vec<u8>) -> Vec<u8> {
    to_port(f, WAN_MAC, GW_MAC)
}

fn tcp(flags: u8, sport: u16, dport: u16, seq: u32, ack: u32) -> TcpSpec<'static> {
    TcpSpec {
        sport,
        dport,
        seq,
        ack,
        flags,
        ..TcpSpec::default()
    }
}

/// Runs one frame; checks every emitted frame's checksums and returns them.
fn run(r: &mut Router, t_ms: u64, port: IfIndex, frame: Vec<u8>) -> (Disposition, Vec<Egress>) {
    let mut out = Vec::new();
    let d = r.process(Instant::from_millis(t_ms), port, frame, &mut out);
    for e in &out {
        if e.frame.len() > 14 && e.frame[12..14] == [8, 0] {
            if let Err(err) = verify_packet(&e.frame[14..]) {
                panic!("emitted frame with a bad checksum: {err:?}");
            }
        }
    }
    (d, out)
}

fn meta(f: &[u8]) -> Ipv4Meta {
    parse_ethernet_ipv4(f, ParseOptions::default())
        .unwrap()
        .unwrap()
        .1
}

fn tcp_of(m: &Ipv4Meta) -> TcpMeta {
    match m.l4 {
        L4::Tcp(t) => t,
        other => panic!("not TCP: {other:?}"),
    }
}

#[test]
fn lan_browsing_is_masqueraded_and_the_reply_comes_back() {
    let mut r = router();
    let syn = from_lan(tcp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.80"),
        tcp(tcp_flags::SYN, 40000, 80, 100, 0),
    ));
    let (d, out) = run(&mut r, 1, LAN, syn);
    assert_eq!(d, Disposition::Forwarded(WAN));
    assert_eq!(out.len(), 1);
    let f = &out[0].frame;
    assert_eq!(out[0].dest, Dest::Port(WAN));
    assert_eq!((&f[0..6], &f[6..12]), (&GW_MAC[..], &WAN_MAC[..]));
    let m = meta(f);
    assert_eq!(
        (m.src, m.dst, m.ttl),
        (ip("203.0.113.2"), ip("192.0.2.80"), 63)
    );
    assert_eq!(tcp_of(&m).sport, 40000, "the source port is kept when free");

    let synack = from_wan(tcp_frame(
        ip("192.0.2.80"),
        ip("203.0.113.2"),
        tcp(tcp_flags::SYN | tcp_flags::ACK, 80, 40000, 900, 101),
    ));
    let (d, out) = run(&mut r, 2, WAN, synack);
    assert_eq!(d, Disposition::Forwarded(LAN));
    let f = &out[0].frame;
    assert_eq!((&f[0..6], &f[6..12]), (&CLIENT_MAC[..], &LAN_MAC[..]));
    let m = meta(f);
    assert_eq!((m.src, m.dst), (ip("192.0.2.80"), ip("198.51.100.10")));
    assert_eq!(tcp_of(&m).dport, 40000);

    let c = r
        .conntrack()
        .entries(Instant::from_millis(2))
        .next()
        .unwrap();
    assert!(c.has(status::SRC_NAT) && c.has(status::SEEN_REPLY));
    assert_eq!(c.tuples[1].dst, ip("203.0.113.2"));
    assert_eq!(r.counters().srcnat, 1);
}

#[test]
fn unsolicited_wan_traffic_is_dropped_and_counted() {
    let mut r = router();
    let syn = from_wan(tcp_frame(
        ip("192.0.2.80"),
        ip("198.51.100.10"),
        tcp(tcp_flags::SYN, 5555, 22, 1, 0),
    ));
    let (d, out) = run(&mut r, 1, WAN, syn);
    assert_eq!(d, Disposition::Dropped(DropReason::FilterForward));
    assert!(out.is_empty());
    assert_eq!(
        r.conntrack().len(),
        0,
        "a dropped first packet leaves no connection"
    );
    // To the router itself from WAN: the input chain drops it.
    let ssh = from_wan(tcp_frame(
        ip("192.0.2.80"),
        ip("203.0.113.2"),
        tcp(tcp_flags::SYN, 5555, 22, 1, 0),
    ));
    assert_eq!(
        run(&mut r, 2, WAN, ssh).0,
        Disposition::Dropped(DropReason::FilterInput)
    );
    assert_eq!(r.counters().drops(DropReason::FilterForward), 1);
    assert_eq!(r.counters().drops(DropReason::FilterInput), 1);
    // The defconf rule that dropped it counted the packet.
    let stats = r.ruleset().stats();
    assert!(stats.iter().any(|s| s.packets == 1 && s.bytes == 40));
}

#[test]
fn port_forward_reaches_the_lan_server_and_replies_leave_from_the_public_address() {
    let mut r = router();
    let syn = from_wan(tcp_frame(
        ip("192.0.2.80"),
        ip("203.0.113.2"),
        tcp(tcp_flags::SYN, 5555, 8080, 1, 0),
    ));
    let (d, out) = run(&mut r, 1, WAN, syn);
    assert_eq!(d, Disposition::Forwarded(LAN));
    let f = &out[0].frame;
    assert_eq!(&f[0..6], &SERVER_MAC[..]);
    let m = meta(f);
    assert_eq!((m.src, m.dst), (ip("192.0.2.80"), ip("198.51.100.20")));
    assert_eq!(tcp_of(&m).dport, 80);

    let synack = to_port(
        tcp_frame(
            ip("198.51.100.20"),
            ip("192.0.2.80"),
            tcp(tcp_flags::SYN | tcp_flags::ACK, 80, 5555, 7000, 2),
        ),
        LAN_MAC,
        SERVER_MAC,
    );
    let (d, out) = run(&mut r, 2, LAN, synack);
    assert_eq!(d, Disposition::Forwarded(WAN));
    let m = meta(&out[0].frame);
    assert_eq!((m.src, m.dst), (ip("203.0.113.2"), ip("192.0.2.80")));
    assert_eq!(tcp_of(&m).sport, 8080);
    assert_eq!(r.counters().dstnat, 1);
}

#[test]
fn invalid_packets_are_dropped() {
    let mut r = router();
    // A SYN-ACK with no connection is invalid (netfilter: sNO -> sIV), however loose tracking is.
    let synack = from_wan(tcp_frame(
        ip("192.0.2.80"),
        ip("198.51.100.10"),
        tcp(tcp_flags::SYN | tcp_flags::ACK, 80, 40000, 1, 1),
    ));
    assert_eq!(
        run(&mut r, 1, WAN, synack).0,
        Disposition::Dropped(DropReason::FilterForward)
    );
    // A bad TCP checksum is invalid too.
    let mut bad = from_lan(tcp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.80"),
        tcp(tcp_flags::SYN, 40001, 80, 1, 0),
    ));
    let n = bad.len();
    bad[n - 4] ^= 0xff; // the window field
    assert_eq!(
        run(&mut r, 2, LAN, bad).0,
        Disposition::Dropped(DropReason::FilterForward)
    );
    assert_eq!(r.conntrack().counters().invalid, 2);
}

#[test]
fn the_router_answers_ping_on_its_addresses() {
    let mut r = router();
    let req = from_lan(icmp_echo_frame(
        ip("198.51.100.10"),
        ip("198.51.100.1"),
        8,
        77,
        1,
    ));
    let (d, out) = run(&mut r, 1, LAN, req);
    assert_eq!(d, Disposition::Local);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].dest, Dest::Port(LAN));
    let m = meta(&out[0].frame);
    assert_eq!((m.src, m.dst), (ip("198.51.100.1"), ip("198.51.100.10")));
    assert_eq!(
        m.l4,
        L4::Icmp(IcmpMeta::Query {
            icmp_type: 0,
            code: 0,
            id: 77
        })
    );
    // From the WAN too: defconf accepts ICMP on input.
    let req = from_wan(icmp_echo_frame(
        ip("192.0.2.80"),
        ip("203.0.113.2"),
        8,
        78,
        1,
    ));
    let (_, out) = run(&mut r, 2, WAN, req);
    assert_eq!(meta(&out[0].frame).dst, ip("192.0.2.80"));
    assert_eq!(
        &out[0].frame[0..6],
        &GW_MAC[..],
        "sent via the default gateway"
    );
    assert_eq!(r.counters().echo_replies, 2);
}

#[test]
fn ttl_one_gets_time_exceeded_from_the_ingress_address() {
    let mut r = router();
    let mut f = udp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.80"),
        33434,
        33434,
        &[0; 32],
    );
    f[14 + 8] = 1;
    let f = from_lan(crate::wire::build::fill_checksums(f));
    let (d, out) = run(&mut r, 1, LAN, f);
    assert_eq!(d, Disposition::Dropped(DropReason::TtlExceeded));
    let m = meta(&out[0].frame);
    assert_eq!((m.src, m.dst), (ip("198.51.100.1"), ip("198.51.100.10")));
    assert!(matches!(
        m.l4,
        L4::Icmp(IcmpMeta::Error { icmp_type: 11, .. })
    ));
}

#[test]
fn df_packets_over_the_egress_mtu_get_fragmentation_needed() {
    let text = SOHO.to_string();
    let cfg = RouterConfig::from_rsc(&text).unwrap();
    let ports = vec![
        Port {
            name: "ether1".into(),
            mac: WAN_MAC,
            mtu: 1280,
        },
        Port {
            name: "ether2".into(),
            mac: LAN_MAC,
            mtu: 1500,
        },
    ];
    let mut r = Router::new(ports, &cfg, Options::default());
    let big = from_lan(udp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.80"),
        4000,
        4000,
        &[1; 1400],
    ));
    let (d, out) = run(&mut r, 1, LAN, big);
    assert_eq!(d, Disposition::Dropped(DropReason::FragNeeded));
    let f = &out[0].frame;
    assert_eq!(&f[14 + 20..14 + 22], &[3, 4]);
    assert_eq!(&f[14 + 26..14 + 28], &1280u16.to_be_bytes());
    // Without DF the packet is fragmented instead.
    let mut nodf = udp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.80"),
        4000,
        4001,
        &[1; 1400],
    );
    nodf[14 + 6] = 0;
    let nodf = from_lan(crate::wire::build::fill_checksums(nodf));
    let (d, out) = run(&mut r, 2, LAN, nodf);
    assert_eq!(d, Disposition::Forwarded(WAN));
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|e| e.frame.len() - 14 <= 1280));
}

#[test]
fn unknown_next_hops_are_asked_for_and_the_frame_waits() {
    let mut r = router();
    // 198.51.100.30 has no static entry.
    let ping = from_lan(icmp_echo_frame(
        ip("198.51.100.10"),
        ip("198.51.100.30"),
        8,
        9,
        1,
    ));
    let (d, out) = run(&mut r, 1, LAN, ping);
    assert_eq!(d, Disposition::Queued);
    assert_eq!(out.len(), 1);
    let arp = Arp::parse(&out[0].frame[14..]).unwrap();
    assert!(arp.request);
    assert_eq!(
        (arp.sender_ip, arp.target_ip),
        (ip("198.51.100.1"), ip("198.51.100.30"))
    );
    assert_eq!(&out[0].frame[0..6], &BROADCAST_MAC[..]);
    let reply = Arp {
        request: false,
        sender_mac: [2, 0, 0, 0, 0x30, 0x30],
        sender_ip: ip("198.51.100.30"),
        target_mac: LAN_MAC,
        target_ip: ip("198.51.100.1"),
    };
    let (d, out) = run(
        &mut r,
        2,
        LAN,
        reply.frame([2, 0, 0, 0, 0x30, 0x30], LAN_MAC),
    );
    assert_eq!(d, Disposition::Arp);
    assert_eq!(out.len(), 1, "the waiting echo request is sent");
    assert_eq!(&out[0].frame[0..6], &[2, 0, 0, 0, 0x30, 0x30]);
    assert_eq!(meta(&out[0].frame).dst, ip("198.51.100.30"));
}

#[test]
fn the_router_answers_arp_for_its_own_addresses_only() {
    let mut r = router();
    let ask = |target: &str| Arp {
        request: true,
        sender_mac: CLIENT_MAC,
        sender_ip: ip("198.51.100.10"),
        target_mac: [0; 6],
        target_ip: ip(target),
    };
    let (_, out) = run(
        &mut r,
        1,
        LAN,
        ask("198.51.100.1").frame(CLIENT_MAC, BROADCAST_MAC),
    );
    let reply = Arp::parse(&out[0].frame[14..]).unwrap();
    assert!(!reply.request);
    assert_eq!(
        (reply.sender_mac, reply.sender_ip),
        (LAN_MAC, ip("198.51.100.1"))
    );
    let (_, out) = run(
        &mut r,
        2,
        LAN,
        ask("198.51.100.99").frame(CLIENT_MAC, BROADCAST_MAC),
    );
    assert!(out.is_empty());
    // The WAN address is not answered on the LAN port.
    let (_, out) = run(
        &mut r,
        3,
        LAN,
        ask("203.0.113.2").frame(CLIENT_MAC, BROADCAST_MAC),
    );
    assert!(out.is_empty());
}

#[test]
fn hairpin_nat_reaches_the_lan_server_through_the_public_address() {
    let mut r = router_with(
        "/ip firewall nat\nadd action=masquerade chain=srcnat dst-address=198.51.100.20 out-interface=ether2 protocol=tcp src-address=198.51.100.0/24\n/ip firewall nat\nadd action=dst-nat chain=dstnat dst-address=203.0.113.2 protocol=tcp dst-port=8080 to-addresses=198.51.100.20 to-ports=80\n",
    );
    let syn = from_lan(tcp_frame(
        ip("198.51.100.10"),
        ip("203.0.113.2"),
        tcp(tcp_flags::SYN, 41000, 8080, 5, 0),
    ));
    let (d, out) = run(&mut r, 1, LAN, syn);
    assert_eq!(d, Disposition::Forwarded(LAN));
    let m = meta(&out[0].frame);
    assert_eq!((m.src, m.dst), (ip("198.51.100.1"), ip("198.51.100.20")));
    let t = tcp_of(&m);
    let synack = to_port(
        tcp_frame(
            ip("198.51.100.20"),
            ip("198.51.100.1"),
            tcp(tcp_flags::SYN | tcp_flags::ACK, 80, t.sport, 9, 6),
        ),
        LAN_MAC,
        SERVER_MAC,
    );
    let (d, out) = run(&mut r, 2, LAN, synack);
    assert_eq!(d, Disposition::Forwarded(LAN));
    let m = meta(&out[0].frame);
    assert_eq!((m.src, m.dst), (ip("203.0.113.2"), ip("198.51.100.10")));
    assert_eq!((tcp_of(&m).sport, tcp_of(&m).dport), (8080, 41000));
}

#[test]
fn many_lan_hosts_with_the_same_source_port_all_get_through() {
    let mut extra = String::from("/ip arp\n");
    for h in 100..150 {
        extra.push_str(&format!(
            "add address=198.51.100.{h} interface=ether2 mac-address=02:00:00:00:01:{h:02x}\n"
        ));
    }
    let mut r = router_with(&extra);
    let mut seen = std::collections::HashSet::new();
    for h in 100..150u8 {
        let src = Ipv4Addr::new(198, 51, 100, h);
        let f = from_lan(udp_frame(src, ip("192.0.2.53"), 5353, 53, b"q"));
        let (d, out) = run(&mut r, 1, LAN, f);
        assert_eq!(d, Disposition::Forwarded(WAN), "host {src}");
        let m = meta(&out[0].frame);
        let L4::Udp { sport, .. } = m.l4 else {
            panic!()
        };
        assert!(seen.insert(sport), "port {sport} given twice");
        // The answer goes back to the right host.
        let ans = from_wan(udp_frame(
            ip("192.0.2.53"),
            ip("203.0.113.2"),
            53,
            sport,
            b"a",
        ));
        let (d, out) = run(&mut r, 2, WAN, ans);
        assert_eq!(d, Disposition::Forwarded(LAN));
        assert_eq!(meta(&out[0].frame).dst, src);
    }
    assert!(seen.contains(&5353));
    assert!(seen.iter().all(|p| *p >= 1024));
}

#[test]
fn pmtu_error_from_beyond_the_nat_reaches_the_client() {
    let mut r = router();
    let syn = from_lan(tcp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.80"),
        tcp(tcp_flags::SYN, 40000, 80, 100, 0),
    ));
    let (_, out) = run(&mut r, 1, LAN, syn);
    let natted = out[0].frame[14..].to_vec();
    // A router past the gateway cannot forward it: fragmentation needed, quoting the NAT'd packet.
    let mut err = icmp_error_frame(ip("203.0.113.1"), ip("203.0.113.2"), 3, 4, &natted);
    err[14 + 20 + 6..14 + 20 + 8].copy_from_slice(&1400u16.to_be_bytes());
    let err = from_wan(crate::wire::build::fill_checksums(err));
    let (d, out) = run(&mut r, 2, WAN, err);
    assert_eq!(d, Disposition::Forwarded(LAN));
    let m = meta(&out[0].frame);
    assert_eq!(m.dst, ip("198.51.100.10"));
    match m.l4 {
        L4::Icmp(IcmpMeta::Error {
            icmp_type: 3,
            code: 4,
            quoted: Some(q),
        }) => {
            assert_eq!((q.src, q.sport), (ip("198.51.100.10"), 40000));
            assert_eq!(q.dst, ip("192.0.2.80"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(&out[0].frame[14 + 26..14 + 28], &1400u16.to_be_bytes());
}

#[test]
fn reject_with_tcp_reset_answers_the_client() {
    let mut r = router_with(
        "/ip firewall filter\nadd action=reject chain=forward dst-port=25 protocol=tcp reject-with=tcp-reset\n",
    );
    // The reject rule comes after defconf's rules; a new LAN->WAN SYN reaches it.
    let syn = from_lan(tcp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.25"),
        tcp(tcp_flags::SYN, 40000, 25, 100, 0),
    ));
    let (d, out) = run(&mut r, 1, LAN, syn);
    assert_eq!(d, Disposition::Dropped(DropReason::FilterForward));
    let m = meta(&out[0].frame);
    assert_eq!((m.src, m.dst), (ip("192.0.2.25"), ip("198.51.100.10")));
    let t = tcp_of(&m);
    assert_eq!(t.flags, tcp_flags::RST | tcp_flags::ACK);
    assert_eq!(t.ack, 101);
}

#[test]
fn a_new_configuration_applies_between_packets_and_keeps_connections() {
    let mut r = router();
    let syn = from_lan(tcp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.80"),
        tcp(tcp_flags::SYN, 40000, 80, 100, 0),
    ));
    run(&mut r, 1, LAN, syn);
    let text = format!(
        "{SOHO}/ip firewall filter\nadd action=drop chain=forward dst-port=80 protocol=tcp\n"
    );
    let cfg = RouterConfig::from_rsc(&text).unwrap();
    r.reconfigure(&cfg);
    assert_eq!(r.conntrack().len(), 1);
    // The established reply is still accepted (the new drop rule comes after "accept established").
    let synack = from_wan(tcp_frame(
        ip("192.0.2.80"),
        ip("203.0.113.2"),
        tcp(tcp_flags::SYN | tcp_flags::ACK, 80, 40000, 900, 101),
    ));
    assert_eq!(run(&mut r, 2, WAN, synack).0, Disposition::Forwarded(LAN));
    // A new connection to port 80 is not.
    let syn2 = from_lan(tcp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.80"),
        tcp(tcp_flags::SYN, 40001, 80, 1, 0),
    ));
    assert_eq!(
        run(&mut r, 3, LAN, syn2).0,
        Disposition::Dropped(DropReason::FilterForward)
    );
}

#[test]
fn malformed_frames_are_dropped_with_a_reason_never_a_panic() {
    let mut r = router();
    assert_eq!(
        run(&mut r, 1, LAN, vec![1, 2, 3]).0,
        Disposition::Dropped(DropReason::BadFrame)
    );
    let mut f = from_lan(udp_frame(ip("198.51.100.10"), ip("192.0.2.80"), 1, 2, b"x"));
    f[14 + 10] ^= 1;
    assert_eq!(
        run(&mut r, 2, LAN, f).0,
        Disposition::Dropped(DropReason::BadIpHeader)
    );
    let mut v6 = from_lan(udp_frame(ip("198.51.100.10"), ip("192.0.2.80"), 1, 2, b"x"));
    v6[12..14].copy_from_slice(&[0x86, 0xdd]);
    assert_eq!(
        run(&mut r, 3, LAN, v6).0,
        Disposition::Dropped(DropReason::UnsupportedEthertype)
    );
    let other = to_port(
        udp_frame(ip("198.51.100.10"), ip("192.0.2.80"), 1, 2, b"x"),
        [2, 9, 9, 9, 9, 9],
        CLIENT_MAC,
    );
    assert_eq!(
        run(&mut r, 4, LAN, other).0,
        Disposition::Dropped(DropReason::OtherHost)
    );
    for cut in 0..60 {
        let f = from_lan(tcp_frame(
            ip("198.51.100.10"),
            ip("192.0.2.80"),
            tcp(tcp_flags::SYN, 40000, 80, 1, 0),
        ));
        let _ = run(&mut r, 5, LAN, f[..cut.min(f.len())].to_vec());
    }
}

#[test]
fn an_unanswered_next_hop_ends_in_host_unreachable_to_the_sender_through_nat() {
    // 192.0.2.128/25 goes via 203.0.113.77, which never answers ARP.
    let mut r = router_with("/ip route\nadd dst-address=192.0.2.128/25 gateway=203.0.113.77\n");
    let ping = from_lan(icmp_echo_frame(
        ip("198.51.100.10"),
        ip("192.0.2.200"),
        8,
        31,
        1,
    ));
    let (d, out) = run(&mut r, 0, LAN, ping);
    assert_eq!(d, Disposition::Queued);
    let asked = Arp::parse(&out[0].frame[14..]).unwrap();
    assert_eq!(
        (asked.sender_ip, asked.target_ip),
        (ip("203.0.113.2"), ip("203.0.113.77"))
    );
    let mut sent = Vec::new();
    for s in 1..=3 {
        let mut out = Vec::new();
        r.tick(Instant::from_secs(s), &mut out);
        sent.extend(out);
    }
    // Two more requests, then the error to the client.
    let arps = sent.iter().filter(|e| e.frame[12..14] == [8, 6]).count();
    assert_eq!(arps, 2);
    let err = sent
        .iter()
        .find(|e| e.frame[12..14] == [8, 0])
        .expect("an ICMP error");
    assert_eq!(err.dest, Dest::Port(LAN));
    verify_packet(&err.frame[14..]).unwrap();
    let m = meta(&err.frame);
    assert_eq!((m.src, m.dst), (ip("203.0.113.2"), ip("198.51.100.10")));
    match m.l4 {
        L4::Icmp(IcmpMeta::Error {
            icmp_type: 3,
            code: 1,
            quoted: Some(q),
        }) => {
            assert_eq!(
                (q.src, q.dst, q.sport),
                (ip("198.51.100.10"), ip("192.0.2.200"), 31)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_reset_that_ends_an_unassured_connection_is_still_translated() {
    let mut r = router();
    let syn = from_lan(tcp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.80"),
        tcp(tcp_flags::SYN, 40000, 81, 100, 0),
    ));
    assert_eq!(run(&mut r, 1, LAN, syn).0, Disposition::Forwarded(WAN));
    // The server's port is closed: RST,ACK to the router's public address.
    let rst = from_wan(tcp_frame(
        ip("192.0.2.80"),
        ip("203.0.113.2"),
        tcp(tcp_flags::RST | tcp_flags::ACK, 81, 40000, 0, 101),
    ));
    let (d, out) = run(&mut r, 2, WAN, rst);
    assert_eq!(d, Disposition::Forwarded(LAN));
    let m = meta(&out[0].frame);
    assert_eq!((m.src, m.dst), (ip("192.0.2.80"), ip("198.51.100.10")));
    assert_eq!(tcp_of(&m).dport, 40000);
    assert_eq!(r.conntrack().len(), 0, "the RST ended the connection");
}

#[test]
fn fragmented_datagrams_are_reassembled_tracked_natted_and_fragmented_again() {
    let mut r = router();
    let mut big = udp_frame(
        ip("198.51.100.10"),
        ip("192.0.2.80"),
        4000,
        5000,
        &[0x5a; 4000],
    );
    big[14 + 6] = 0; // no DF
    let big = crate::wire::build::fill_checksums(big);
    let frags = frag::fragment(&big, 1500).unwrap();
    assert_eq!(frags.len(), 3);
    let mut out_all = Vec::new();
    for (k, f) in frags.into_iter().enumerate() {
        let (d, out) = run(&mut r, 1, LAN, from_lan(f));
        if k < 2 {
            assert_eq!(d, Disposition::Reassembling);
            assert!(out.is_empty());
        } else {
            assert_eq!(d, Disposition::Forwarded(WAN));
            out_all = out;
        }
    }
    // Three fragments leave; put together they are the masqueraded datagram.
    assert_eq!(out_all.len(), 3);
    let mut d = defrag::Defrag::default();
    let mut whole = None;
    for e in &out_all {
        if let defrag::Reassembly::Whole(w) = d.push(Instant::from_secs(1), 0, &e.frame) {
            whole = Some(w);
        }
    }
    let whole = whole.expect("the fragments make a datagram");
    verify_packet(&whole[14..]).unwrap();
    let m = meta(&whole);
    assert_eq!(
        (m.src, m.dst, m.total_len),
        (ip("203.0.113.2"), ip("192.0.2.80"), 4028)
    );
    assert_eq!(r.conntrack().counters().invalid, 0);

    // A fragmented ping to the router gets its whole answer (fragmented on the way back).
    let mut ping = icmp_echo_frame(ip("198.51.100.10"), ip("198.51.100.1"), 8, 5, 1);
    ping.truncate(14 + 28);
    ping.extend_from_slice(&[0xab; 3000]);
    ping[14 + 2..14 + 4].copy_from_slice(&(3028u16).to_be_bytes());
    ping[14 + 6] = 0;
    let ping = crate::wire::build::fill_checksums(ping);
    let mut replies = Vec::new();
    for f in frag::fragment(&ping, 1500).unwrap() {
        replies.extend(run(&mut r, 2, LAN, from_lan(f)).1);
    }
    let mut d = defrag::Defrag::default();
    let reply = replies
        .iter()
        .find_map(|e| match d.push(Instant::from_secs(2), 0, &e.frame) {
            defrag::Reassembly::Whole(w) => Some(w),
            _ => None,
        })
        .expect("a whole echo reply");
    verify_packet(&reply[14..]).unwrap();
    let m = meta(&reply);
    assert_eq!((m.dst, m.total_len), (ip("198.51.100.10"), 3028));
}
