//! `statewall replay --config` end to end: literal captures, written here, go through the binary
//! as through the SOHO router of `dataplane/fixtures/soho.rsc` (RouterOS defconf firewall and
//! masquerade; LAN ether2 198.51.100.1/24, WAN ether1 203.0.113.2/24, gateway 203.0.113.1,
//! 203.0.113.2:8080 forwarded to 198.51.100.20:80; "internet" hosts in 192.0.2.0/24). The pcaps it
//! writes are read back and every frame is checked: addresses, ports, TTL, MAC addresses, times,
//! and every IPv4 checksum recomputed from scratch.
//!
//! The scenarios are the netfilter selftests that apply to one router (netfilter.md §5):
//! `nft_nat.sh` (masquerade, dnat, redirect, port shadowing), `conntrack_icmp_related.sh`,
//! `nf_nat_edemux.sh` and `nft_nat_zones.sh`; then defconf's drop, ARP, and bad input.

use dataplane::drivers::pcap::read_capture;
use dataplane::pipeline::neigh::Arp;
use dataplane::wire::build::{
    fill_checksums, icmp_echo_frame, icmp_error_frame, tcp_frame, udp_frame, TcpSpec,
};
use dataplane::wire::checksum::verify_packet;
use dataplane::wire::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use dataplane::wire::{parse_ethernet_ipv4, IcmpMeta, Ipv4Meta, ParseOptions, L4};
use e2e::kernel::{parse_line, Line};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::TsResolution;
use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The router of every scenario (see the file's header).
const SOHO: &str = include_str!("../../dataplane/fixtures/soho.rsc");

const GW_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x99, 0x01];
const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x10, 0x10];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x20, 0x20];

/// A frame with its capture time in milliseconds.
type Timed = (u64, Vec<u8>);

/// A directory of its own for one test, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "statewall-router-replay-{}-{test}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// The frame as sent by the host with MAC address `mac` (the builders' destination MAC is
/// kept: the replay takes every frame as received on its port).
fn sent_by(mac: [u8; 6], mut frame: Vec<u8>) -> Vec<u8> {
    frame[6..12].copy_from_slice(&mac);
    frame
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

/// A TCP segment `src` > `dst` (`address:port`), as the host with MAC address `mac` sends it
/// at `t_ms`.
fn tcp_at(t_ms: u64, mac: [u8; 6], src: &str, dst: &str, flags: u8, seq: u32, ack: u32) -> Timed {
    let (src, dst): (SocketAddrV4, SocketAddrV4) = (src.parse().unwrap(), dst.parse().unwrap());
    let spec = tcp(flags, src.port(), dst.port(), seq, ack);
    (t_ms, sent_by(mac, tcp_frame(*src.ip(), *dst.ip(), spec)))
}

/// A UDP datagram `src` > `dst` (`address:port`), as the host with MAC address `mac` sends it
/// at `t_ms`.
fn udp_at(t_ms: u64, mac: [u8; 6], src: &str, dst: &str, payload: &[u8]) -> Timed {
    let (src, dst): (SocketAddrV4, SocketAddrV4) = (src.parse().unwrap(), dst.parse().unwrap());
    let f = udp_frame(*src.ip(), *dst.ip(), src.port(), dst.port(), payload);
    (t_ms, sent_by(mac, f))
}

/// Writes a classic pcap (microsecond timestamps, as tcpdump's).
fn write_pcap(path: &Path, frames: &[Timed]) {
    let mut w = PcapWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    for (t_ms, f) in frames {
        let ts = Duration::from_millis(*t_ms);
        w.write_packet(&PcapPacket::new(ts, f.len() as u32, f))
            .unwrap();
    }
}

fn statewall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_statewall"))
        .args(args)
        .output()
        .expect("statewall runs")
}

/// The frames of a pcap the router wrote. Every IPv4 frame's checksums (IP header,
/// TCP/UDP/ICMP, an ICMP error's quoted header) are recomputed here.
fn read_pcap(path: &Path) -> Vec<Timed> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let capture = read_capture(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    capture
        .frames
        .iter()
        .map(|f| {
            if f.data.len() > 14 && f.data[12..14] == [0x08, 0x00] {
                if let Err(e) = verify_packet(&f.data[14..]) {
                    panic!("{} frame {}: {e:?}", path.display(), f.number);
                }
            }
            assert_eq!(f.timestamp_ns % 1_000_000, 0, "whole milliseconds");
            (f.timestamp_ns / 1_000_000, f.data.to_vec())
        })
        .collect()
}

/// What one `statewall replay --verdicts` run printed, and where it wrote its pcaps.
struct Run {
    verdicts: Vec<String>,
    table: Vec<Line>,
    out: PathBuf,
}

impl Run {
    /// The frames the router sent out of `iface`.
    fn sent(&self, iface: &str) -> Vec<Timed> {
        read_pcap(&self.out.join(format!("{iface}.pcap")))
    }

    /// The same, one line a frame (see [`show`]).
    fn shown(&self, iface: &str) -> Vec<String> {
        self.sent(iface).iter().map(show).collect()
    }
}

/// Replays `captures` (interface, frames) through the SOHO router plus the `extra` lines of
/// configuration, with the config, the captures and the written pcaps in `dir`.
fn replay(dir: &Path, extra: &str, captures: &[(&str, &[Timed])]) -> Run {
    std::fs::create_dir_all(dir).unwrap();
    let rsc = dir.join("config.rsc");
    std::fs::write(&rsc, format!("{SOHO}{extra}")).unwrap();
    let out = dir.join("out");
    let mut args = vec![
        "replay".to_string(),
        "--verdicts".into(),
        "--config".into(),
        rsc.display().to_string(),
        "--write-dir".into(),
        out.display().to_string(),
    ];
    for (iface, frames) in captures {
        let path = dir.join(format!("{iface}-in.pcap"));
        write_pcap(&path, frames);
        args.push("--iface".into());
        args.push(format!("{iface}={}", path.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = statewall(&args);
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(
        o.status.success(),
        "{}{stdout}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (table, verdicts): (Vec<&str>, Vec<&str>) =
        stdout.lines().partition(|l| l.contains("src="));
    Run {
        verdicts: verdicts.into_iter().map(String::from).collect(),
        table: table
            .into_iter()
            .map(|l| parse_line(l).unwrap_or_else(|| panic!("not a conntrack line: {l}")))
            .collect(),
        out,
    }
}

/// One direction of a table line as `conntrack -L` prints it (without the counters).
fn tuple(side: &BTreeMap<String, String>) -> String {
    ["src", "dst", "sport", "dport", "type", "code", "id"]
        .iter()
        .filter_map(|k| side.get(*k).map(|v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn meta(frame: &[u8]) -> Ipv4Meta {
    parse_ethernet_ipv4(frame, ParseOptions::default())
        .unwrap()
        .expect("an IPv4 frame")
        .1
}

fn mac(b: &[u8]) -> String {
    let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    hex.join(":")
}

/// A sent frame in one line, much as tcpdump prints it: the time (ms), what it carries (TCP
/// flags as `S`, `F`, `R`, `P`, `.` for ACK; an ICMP error's quoted packet), the TTL, and the
/// MAC address it is sent to.
fn show((t, f): &Timed) -> String {
    let to = mac(&f[0..6]);
    if f[12..14] == [0x08, 0x06] {
        let a = Arp::parse(&f[14..]).expect("an ARP message");
        let what = if a.request {
            format!("arp who-has {} tell {}", a.target_ip, a.sender_ip)
        } else {
            format!("arp reply {} is-at {}", a.sender_ip, mac(&a.sender_mac))
        };
        return format!("{t} {what} to {to}");
    }
    let m = meta(f);
    let what = match m.l4 {
        L4::Tcp(tcp) => {
            let flags: String = [(SYN, 'S'), (FIN, 'F'), (RST, 'R'), (PSH, 'P'), (ACK, '.')]
                .iter()
                .filter(|(bit, _)| tcp.has(*bit))
                .map(|(_, c)| c)
                .collect();
            let ends = format!("{}:{} > {}:{}", m.src, tcp.sport, m.dst, tcp.dport);
            format!("tcp {ends} [{flags}]")
        }
        L4::Udp { sport, dport } => format!("udp {}:{sport} > {}:{dport}", m.src, m.dst),
        L4::Icmp(IcmpMeta::Query { icmp_type, id, .. }) => {
            format!("icmp {} > {} type {icmp_type} id {id}", m.src, m.dst)
        }
        L4::Icmp(IcmpMeta::Error {
            icmp_type,
            code,
            quoted: Some(q),
        }) => {
            assert_eq!(q.proto, 6, "the scenarios quote TCP");
            let quoted = format!("tcp {}:{} > {}:{}", q.src, q.sport, q.dst, q.dport);
            let ends = format!("{} > {}", m.src, m.dst);
            format!("icmp {ends} type {icmp_type} code {code} quoting {quoted}")
        }
        other => panic!("a frame the scenarios do not send: {other:?}"),
    };
    format!("{t} {what} ttl {} to {to}", m.ttl)
}

/// `nft_nat.sh` test_masquerade: the far host sees the router's WAN address; its replies come
/// back to the client.
#[test]
fn masquerade_ping_and_tcp_leave_from_the_wan_address_and_replies_come_back() {
    let scratch = Scratch::new("masquerade");
    let lan = [
        (
            1000,
            sent_by(
                CLIENT_MAC,
                icmp_echo_frame(ip("198.51.100.10"), ip("192.0.2.80"), 8, 0x1234, 1),
            ),
        ),
        tcp_at(
            1010,
            CLIENT_MAC,
            "198.51.100.10:40000",
            "192.0.2.80:80",
            SYN,
            100,
            0,
        ),
    ];
    let wan = [
        (
            1500,
            sent_by(
                GW_MAC,
                icmp_echo_frame(ip("192.0.2.80"), ip("203.0.113.2"), 0, 0x1234, 1),
            ),
        ),
        tcp_at(
            1510,
            GW_MAC,
            "192.0.2.80:80",
            "203.0.113.2:40000",
            SYN | ACK,
            900,
            101,
        ),
    ];
    let run = replay(&scratch.0, "", &[("ether1", &wan), ("ether2", &lan)]);
    assert_eq!(
        run.verdicts,
        [
            "ether2 1 forwarded ether1",
            "ether2 2 forwarded ether1",
            "ether1 1 forwarded ether2",
            "ether1 2 forwarded ether2",
        ]
    );
    // The free id and port are kept.
    assert_eq!(
        run.shown("ether1"),
        [
            "1000 icmp 203.0.113.2 > 192.0.2.80 type 8 id 4660 ttl 63 to 02:00:00:00:99:01",
            "1010 tcp 203.0.113.2:40000 > 192.0.2.80:80 [S] ttl 63 to 02:00:00:00:99:01",
        ]
    );
    assert_eq!(
        run.shown("ether2"),
        [
            "1500 icmp 192.0.2.80 > 198.51.100.10 type 0 id 4660 ttl 63 to 02:00:00:00:10:10",
            "1510 tcp 192.0.2.80:80 > 198.51.100.10:40000 [S.] ttl 63 to 02:00:00:00:10:10",
        ]
    );
    // Each port sends from its own MAC address.
    let (wan_out, lan_out) = (run.sent("ether1"), run.sent("ether2"));
    let wan_mac = &wan_out[0].1[6..12];
    let lan_mac = &lan_out[0].1[6..12];
    assert!(wan_out.iter().all(|(_, f)| &f[6..12] == wan_mac));
    assert!(lan_out.iter().all(|(_, f)| &f[6..12] == lan_mac));
    assert_ne!(wan_mac, lan_mac);
    assert_eq!(wan_mac[0] & 0x03, 0x02, "locally administered, unicast");

    assert_eq!(run.table.len(), 2);
    let icmp = run.table.iter().find(|l| l.proto == "icmp").unwrap();
    assert_eq!(
        tuple(&icmp.orig),
        "src=198.51.100.10 dst=192.0.2.80 type=8 code=0 id=4660"
    );
    assert_eq!(
        tuple(&icmp.reply),
        "src=192.0.2.80 dst=203.0.113.2 type=0 code=0 id=4660"
    );
    let tcp = run.table.iter().find(|l| l.proto == "tcp").unwrap();
    assert_eq!(
        tuple(&tcp.orig),
        "src=198.51.100.10 dst=192.0.2.80 sport=40000 dport=80"
    );
    assert_eq!(
        tuple(&tcp.reply),
        "src=192.0.2.80 dst=203.0.113.2 sport=80 dport=40000"
    );
    assert_eq!(tcp.state.as_deref(), Some("SYN_RECV"));
    assert!(!tcp.unreplied && !icmp.unreplied);
}

/// `nft_nat.sh` dnat: soho.rsc's port forward of 203.0.113.2:8080 to 198.51.100.20:80; the
/// server's answer leaves from the public address and port.
#[test]
fn port_forward_reaches_the_lan_server_and_its_answer_leaves_from_the_public_port() {
    let scratch = Scratch::new("dnat");
    let wan = [tcp_at(
        1000,
        GW_MAC,
        "192.0.2.80:5555",
        "203.0.113.2:8080",
        SYN,
        1,
        0,
    )];
    let lan = [tcp_at(
        1100,
        SERVER_MAC,
        "198.51.100.20:80",
        "192.0.2.80:5555",
        SYN | ACK,
        7000,
        2,
    )];
    let run = replay(&scratch.0, "", &[("ether1", &wan), ("ether2", &lan)]);
    assert_eq!(
        run.verdicts,
        ["ether1 1 forwarded ether2", "ether2 1 forwarded ether1"]
    );
    assert_eq!(
        run.shown("ether2"),
        ["1000 tcp 192.0.2.80:5555 > 198.51.100.20:80 [S] ttl 63 to 02:00:00:00:20:20"]
    );
    assert_eq!(
        run.shown("ether1"),
        ["1100 tcp 203.0.113.2:8080 > 192.0.2.80:5555 [S.] ttl 63 to 02:00:00:00:99:01"]
    );
    assert_eq!(run.table.len(), 1);
    assert_eq!(
        tuple(&run.table[0].orig),
        "src=192.0.2.80 dst=203.0.113.2 sport=5555 dport=8080"
    );
    assert_eq!(
        tuple(&run.table[0].reply),
        "src=198.51.100.20 dst=192.0.2.80 sport=80 dport=5555"
    );
}

/// `nft_nat.sh` test_redirect (and `conntrack_tcp_unreplied.sh`'s `redirect to :8080`): the
/// router itself takes the connection, on port 8080 of its LAN address.
#[test]
fn redirect_delivers_to_the_router_on_the_new_port() {
    let scratch = Scratch::new("redirect");
    let redirect = "/ip firewall nat\nadd action=redirect chain=dstnat in-interface=ether2 protocol=tcp dst-port=80 to-ports=8080\n";
    let lan = [tcp_at(
        1000,
        CLIENT_MAC,
        "198.51.100.10:40000",
        "192.0.2.80:80",
        SYN,
        100,
        0,
    )];
    let run = replay(&scratch.0, redirect, &[("ether2", &lan)]);
    assert_eq!(run.verdicts, ["ether2 1 local"]);
    assert!(run.sent("ether1").is_empty(), "nothing reaches the WAN");
    assert!(run.sent("ether2").is_empty());
    assert_eq!(run.table.len(), 1);
    let l = &run.table[0];
    assert_eq!(
        tuple(&l.orig),
        "src=198.51.100.10 dst=192.0.2.80 sport=40000 dport=80"
    );
    assert_eq!(
        tuple(&l.reply),
        "src=198.51.100.1 dst=198.51.100.10 sport=8080 dport=40000"
    );
    assert!(l.unreplied);
}

/// `conntrack_icmp_related.sh`: a PMTU error about a masqueraded packet is RELATED and reaches
/// the client with its outer and quoted headers translated back.
#[test]
fn frag_needed_about_a_masqueraded_packet_reaches_the_client_translated() {
    let scratch = Scratch::new("icmp-related");
    let syn = tcp(SYN, 40000, 80, 100, 0);
    let lan = [(
        1000,
        sent_by(
            CLIENT_MAC,
            tcp_frame(ip("198.51.100.10"), ip("192.0.2.80"), syn),
        ),
    )];
    // What the router sends for it (DF, as the builder sets it): the WAN address as source,
    // TTL 63, checksums recomputed.
    let mut natted = tcp_frame(ip("203.0.113.2"), ip("192.0.2.80"), syn);
    natted[14 + 8] = 63;
    let natted = fill_checksums(natted);
    // The gateway cannot forward it: fragmentation needed, next-hop MTU 1280.
    let mut err = icmp_error_frame(ip("203.0.113.1"), ip("203.0.113.2"), 3, 4, &natted[14..]);
    err[14 + 20 + 6..14 + 20 + 8].copy_from_slice(&1280u16.to_be_bytes());
    let wan = [(1100, sent_by(GW_MAC, fill_checksums(err)))];
    let run = replay(&scratch.0, "", &[("ether1", &wan), ("ether2", &lan)]);
    assert_eq!(
        run.verdicts,
        ["ether2 1 forwarded ether1", "ether1 1 forwarded ether2"]
    );
    let out = run.sent("ether1");
    assert_eq!(out.len(), 1);
    assert!(meta(&out[0].1).dont_fragment);
    assert_eq!(
        out[0].1[14..],
        natted[14..],
        "the error quotes exactly the packet the router sent"
    );
    assert_eq!(
        run.shown("ether2"),
        ["1100 icmp 203.0.113.1 > 198.51.100.10 type 3 code 4 quoting tcp 198.51.100.10:40000 > 192.0.2.80:80 ttl 63 to 02:00:00:00:10:10"]
    );
    let back = &run.sent("ether2")[0].1;
    assert_eq!(&back[14 + 20 + 6..14 + 20 + 8], &1280u16.to_be_bytes());
    // The error belongs to the connection; it opens none.
    assert_eq!(run.table.len(), 1);
    assert_eq!(
        tuple(&run.table[0].reply),
        "src=192.0.2.80 dst=203.0.113.2 sport=80 dport=40000"
    );
}

/// Path MTU discovery through the port forward: the router's own frag-needed about an
/// established forwarded connection quotes the packet as the far host sent it (the public
/// address and port), not as the router rewrote it.
#[test]
fn frag_needed_from_the_router_about_a_port_forward_quotes_the_public_port() {
    let scratch = Scratch::new("dnat-frag-needed");
    let big = TcpSpec {
        payload: &[7; 1600],
        ..tcp(ACK, 5555, 8080, 2, 7001)
    };
    let wan = [
        tcp_at(
            1000,
            GW_MAC,
            "192.0.2.80:5555",
            "203.0.113.2:8080",
            SYN,
            1,
            0,
        ),
        tcp_at(
            1020,
            GW_MAC,
            "192.0.2.80:5555",
            "203.0.113.2:8080",
            ACK,
            2,
            7001,
        ),
        // 1640 bytes with DF: more than the LAN port's 1500.
        (
            1030,
            sent_by(GW_MAC, tcp_frame(ip("192.0.2.80"), ip("203.0.113.2"), big)),
        ),
    ];
    let lan = [tcp_at(
        1010,
        SERVER_MAC,
        "198.51.100.20:80",
        "192.0.2.80:5555",
        SYN | ACK,
        7000,
        2,
    )];
    let run = replay(&scratch.0, "", &[("ether1", &wan), ("ether2", &lan)]);
    assert_eq!(
        run.verdicts,
        [
            "ether1 1 forwarded ether2",
            "ether2 1 forwarded ether1",
            "ether1 2 forwarded ether2",
            "ether1 3 dropped (frag-needed)",
        ]
    );
    assert_eq!(
        run.shown("ether1"),
        [
            "1010 tcp 203.0.113.2:8080 > 192.0.2.80:5555 [S.] ttl 63 to 02:00:00:00:99:01",
            "1030 icmp 203.0.113.2 > 192.0.2.80 type 3 code 4 quoting tcp 192.0.2.80:5555 > 203.0.113.2:8080 ttl 64 to 02:00:00:00:99:01",
        ]
    );
    let err = &run.sent("ether1")[1].1;
    assert_eq!(&err[14 + 20 + 6..14 + 20 + 8], &1500u16.to_be_bytes());
}

/// `nf_nat_edemux.sh`: one LAN host, one source port, two connections that are the same after
/// NAT (a dst-nat to the server it already talks to): the second gets another WAN port, and
/// both are answered.
#[test]
fn two_connections_that_collide_after_nat_both_get_through() {
    let scratch = Scratch::new("edemux");
    let dnat = "/ip firewall nat\nadd action=dst-nat chain=dstnat dst-address=192.0.2.80 protocol=tcp dst-port=443 to-addresses=192.0.2.81 to-ports=5201\n";
    let lan = [
        tcp_at(
            1000,
            CLIENT_MAC,
            "198.51.100.10:10000",
            "192.0.2.81:5201",
            SYN,
            100,
            0,
        ),
        tcp_at(
            1100,
            CLIENT_MAC,
            "198.51.100.10:10000",
            "192.0.2.80:443",
            SYN,
            500,
            0,
        ),
    ];
    // First the LAN side alone, to learn the port the router picks for the second connection.
    let first = replay(&scratch.join("first"), dnat, &[("ether2", &lan)]);
    assert_eq!(
        first.verdicts,
        ["ether2 1 forwarded ether1", "ether2 2 forwarded ether1"]
    );
    let out = first.sent("ether1");
    let L4::Tcp(second) = meta(&out[1].1).l4 else {
        panic!("not TCP")
    };
    let moved = second.sport;
    assert_ne!(moved, 10000, "the second connection needs another port");
    assert!(moved >= 1024, "the port keeps its class: {moved}");
    assert_eq!(
        first.shown("ether1"),
        [
            "1000 tcp 203.0.113.2:10000 > 192.0.2.81:5201 [S] ttl 63 to 02:00:00:00:99:01"
                .to_string(),
            format!(
                "1100 tcp 203.0.113.2:{moved} > 192.0.2.81:5201 [S] ttl 63 to 02:00:00:00:99:01"
            ),
        ]
    );

    let wan = [
        tcp_at(
            1200,
            GW_MAC,
            "192.0.2.81:5201",
            "203.0.113.2:10000",
            SYN | ACK,
            9000,
            101,
        ),
        tcp_at(
            1300,
            GW_MAC,
            "192.0.2.81:5201",
            &format!("203.0.113.2:{moved}"),
            SYN | ACK,
            7000,
            501,
        ),
    ];
    let second = replay(
        &scratch.join("second"),
        dnat,
        &[("ether1", &wan), ("ether2", &lan)],
    );
    assert_eq!(second.sent("ether1"), out, "the replay is deterministic");
    assert_eq!(
        second.verdicts,
        [
            "ether2 1 forwarded ether1",
            "ether2 2 forwarded ether1",
            "ether1 1 forwarded ether2",
            "ether1 2 forwarded ether2",
        ]
    );
    // The second answer has the dst-nat undone for the client.
    assert_eq!(
        second.shown("ether2"),
        [
            "1200 tcp 192.0.2.81:5201 > 198.51.100.10:10000 [S.] ttl 63 to 02:00:00:00:10:10",
            "1300 tcp 192.0.2.80:443 > 198.51.100.10:10000 [S.] ttl 63 to 02:00:00:00:10:10",
        ]
    );
    let replies: Vec<String> = second.table.iter().map(|l| tuple(&l.reply)).collect();
    assert_eq!(
        replies,
        [
            "src=192.0.2.81 dst=203.0.113.2 sport=5201 dport=10000".to_string(),
            format!("src=192.0.2.81 dst=203.0.113.2 sport=5201 dport={moved}"),
        ]
    );
    assert!(second.table.iter().all(|l| !l.unreplied));
}

/// `nf_nat_edemux.sh`, second part: two connections from one source port to two ports that a
/// redirect sends to the same router port; the second is given another source port.
#[test]
fn two_redirected_connections_from_one_source_port_both_reach_the_router() {
    let scratch = Scratch::new("edemux-redirect");
    let redirect = "/ip firewall nat\nadd action=redirect chain=dstnat in-interface=ether2 protocol=tcp dst-port=5202-5203 to-ports=5201\n";
    let lan = [
        tcp_at(
            1000,
            CLIENT_MAC,
            "198.51.100.10:10000",
            "198.51.100.1:5202",
            SYN,
            100,
            0,
        ),
        tcp_at(
            1100,
            CLIENT_MAC,
            "198.51.100.10:10000",
            "198.51.100.1:5203",
            SYN,
            500,
            0,
        ),
    ];
    let run = replay(&scratch.0, redirect, &[("ether2", &lan)]);
    assert_eq!(run.verdicts, ["ether2 1 local", "ether2 2 local"]);
    assert_eq!(run.table.len(), 2);
    assert_eq!(
        tuple(&run.table[0].reply),
        "src=198.51.100.1 dst=198.51.100.10 sport=5201 dport=10000"
    );
    let second = &run.table[1];
    assert_eq!(second.orig["dport"], "5203");
    let moved: u16 = second.reply["dport"].parse().unwrap();
    assert_ne!(moved, 10000, "the clash moves the source port");
    assert!(moved >= 1024, "the port keeps its class: {moved}");
    assert_eq!(
        tuple(&second.reply),
        format!("src=198.51.100.1 dst=198.51.100.10 sport=5201 dport={moved}")
    );
}

/// `nft_nat_zones.sh`: 50 LAN hosts all using UDP source port 10000 to one server get 50
/// distinct WAN ports, and every answer goes back to the host that asked.
#[test]
fn fifty_hosts_with_one_source_port_get_distinct_ports_and_their_own_answers() {
    let scratch = Scratch::new("zones");
    let mut arp = String::from("/ip arp\n");
    for h in 100..150 {
        arp.push_str(&format!(
            "add address=198.51.100.{h} interface=ether2 mac-address=02:00:00:00:01:{h:02x}\n"
        ));
    }
    // Each query carries its host's last octet, so the answers can be told apart.
    let lan: Vec<Timed> = (100..150u8)
        .map(|h| {
            let host = format!("198.51.100.{h}:10000");
            let mac = [0x02, 0, 0, 0, 0x01, h];
            udp_at(1000 + u64::from(h), mac, &host, "192.0.2.53:53", &[h])
        })
        .collect();
    let first = replay(&scratch.join("first"), &arp, &[("ether2", &lan)]);
    assert!(first
        .verdicts
        .iter()
        .all(|v| v.ends_with("forwarded ether1")));
    let out = first.sent("ether1");
    assert_eq!(out.len(), 50);
    let mut port_of = BTreeMap::new();
    for (t, f) in &out {
        let L4::Udp { sport, .. } = meta(f).l4 else {
            panic!("not UDP")
        };
        assert_eq!(
            show(&(*t, f.clone())),
            format!("{t} udp 203.0.113.2:{sport} > 192.0.2.53:53 ttl 63 to 02:00:00:00:99:01")
        );
        assert!(sport >= 1024, "the port keeps its class: {sport}");
        port_of.insert(f[14 + 20 + 8], sport);
    }
    assert_eq!(port_of.len(), 50);
    let distinct: HashSet<u16> = port_of.values().copied().collect();
    assert_eq!(distinct.len(), 50, "50 distinct WAN ports");
    assert_eq!(port_of[&100], 10000, "the first host keeps its port");

    let wan: Vec<Timed> = port_of
        .iter()
        .map(|(&h, &port)| {
            let wan = format!("203.0.113.2:{port}");
            udp_at(2000 + u64::from(h), GW_MAC, "192.0.2.53:53", &wan, &[h])
        })
        .collect();
    let second = replay(
        &scratch.join("second"),
        &arp,
        &[("ether1", &wan), ("ether2", &lan)],
    );
    assert_eq!(second.sent("ether1"), out, "the replay is deterministic");
    let back = second.sent("ether2");
    assert_eq!(back.len(), 50);
    for (t, f) in &back {
        let h = f[14 + 20 + 8];
        assert_eq!(
            show(&(*t, f.clone())),
            format!(
                "{} udp 192.0.2.53:53 > 198.51.100.{h}:10000 ttl 63 to 02:00:00:00:01:{h:02x}",
                2000 + u64::from(h)
            )
        );
    }
    assert_eq!(second.table.len(), 50);
    let reply_ports: HashSet<&str> = second
        .table
        .iter()
        .map(|l| l.reply["dport"].as_str())
        .collect();
    assert_eq!(reply_ports.len(), 50, "distinct reply tuples");
}

/// `nft_nat.sh` test_port_shadowing: a LAN host's masqueraded flow from port 1405 shadows the
/// router's own port 1405 for the far host (as in Linux); masquerading low source ports to
/// 1406-65535 (the selftest's mitigation) leaves the router's port to the router.
#[test]
fn port_shadowing_and_its_mitigation() {
    let scratch = Scratch::new("port-shadow");
    let lan = [udp_at(
        1000,
        CLIENT_MAC,
        "198.51.100.10:1405",
        "192.0.2.80:41404",
        b"c",
    )];
    let wan = [udp_at(
        1100,
        GW_MAC,
        "192.0.2.80:41404",
        "203.0.113.2:1405",
        b"s",
    )];
    let shadowed = replay(
        &scratch.join("default"),
        "",
        &[("ether1", &wan), ("ether2", &lan)],
    );
    assert_eq!(
        shadowed.verdicts,
        ["ether2 1 forwarded ether1", "ether1 1 forwarded ether2"]
    );
    assert_eq!(
        shadowed.shown("ether2"),
        ["1100 udp 192.0.2.80:41404 > 198.51.100.10:1405 ttl 63 to 02:00:00:00:10:10"]
    );

    let mitigation = "/ip firewall nat\nadd action=masquerade chain=srcnat out-interface=ether1 protocol=udp src-port=0-1405 to-ports=1406-65535 place-before=0\n";
    let kept = replay(
        &scratch.join("mitigated"),
        mitigation,
        &[("ether1", &wan), ("ether2", &lan)],
    );
    // The far host's datagram is for the router now; defconf drops it on input from the WAN.
    assert_eq!(
        kept.verdicts,
        [
            "ether2 1 forwarded ether1",
            "ether1 1 dropped (filter-input)"
        ]
    );
    assert!(kept.sent("ether2").is_empty());
    let L4::Udp { sport, .. } = meta(&kept.sent("ether1")[0].1).l4 else {
        panic!("not UDP")
    };
    assert!(sport >= 1406, "{sport}");
    assert_eq!(
        tuple(&kept.table[0].reply),
        format!("src=192.0.2.80 dst=203.0.113.2 sport=41404 dport={sport}")
    );
}

/// The defconf rule "drop all from WAN not DSTNATed"; the lone capture arrives on ether1.
#[test]
fn unsolicited_wan_traffic_to_the_lan_is_dropped() {
    let scratch = Scratch::new("unsolicited");
    let rsc = scratch.join("config.rsc");
    std::fs::write(&rsc, SOHO).unwrap();
    let wan = scratch.join("wan.pcap");
    write_pcap(
        &wan,
        &[tcp_at(
            1000,
            GW_MAC,
            "192.0.2.80:5555",
            "198.51.100.10:22",
            SYN,
            1,
            0,
        )],
    );
    let out = scratch.join("out");
    let o = statewall(&[
        "replay",
        "--verdicts",
        "--config",
        rsc.to_str().unwrap(),
        "--write-dir",
        out.to_str().unwrap(),
        wan.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "ether1 1 dropped (filter-forward)\n",
        "no connection is left either"
    );
    assert!(read_pcap(&out.join("ether2.pcap")).is_empty());
    assert!(read_pcap(&out.join("ether1.pcap")).is_empty());
}

/// A LAN host without a static ARP entry: the router asks for it, and the frame for it waits
/// for the answer.
#[test]
fn an_unknown_lan_host_is_asked_for_and_the_frame_follows_the_answer() {
    let scratch = Scratch::new("arp");
    let host_mac = [0x02, 0, 0, 0, 0x30, 0x30];
    let syn = tcp_at(
        1000,
        host_mac,
        "198.51.100.30:40000",
        "192.0.2.80:80",
        SYN,
        100,
        0,
    );
    let wan = [tcp_at(
        1100,
        GW_MAC,
        "192.0.2.80:80",
        "203.0.113.2:40000",
        SYN | ACK,
        900,
        101,
    )];
    let first = replay(
        &scratch.join("first"),
        "",
        &[("ether1", &wan), ("ether2", std::slice::from_ref(&syn))],
    );
    assert_eq!(
        first.verdicts,
        [
            "ether2 1 forwarded ether1",
            "ether1 1 queued (waiting for ARP)"
        ]
    );
    assert_eq!(
        first.shown("ether2"),
        ["1100 arp who-has 198.51.100.30 tell 198.51.100.1 to ff:ff:ff:ff:ff:ff"],
        "only the question: the SYN-ACK waits"
    );
    let asked = first.sent("ether2");
    let req = Arp::parse(&asked[0].1[14..]).unwrap();
    assert!(req.request);
    assert_eq!(&req.sender_mac[..], &asked[0].1[6..12]);
    assert_eq!(req.target_mac, [0; 6]);

    let answer = Arp {
        request: false,
        sender_mac: host_mac,
        sender_ip: ip("198.51.100.30"),
        target_mac: req.sender_mac,
        target_ip: ip("198.51.100.1"),
    };
    let lan = [syn, (1200, answer.frame(host_mac, req.sender_mac))];
    let second = replay(
        &scratch.join("second"),
        "",
        &[("ether1", &wan), ("ether2", &lan)],
    );
    assert_eq!(
        second.verdicts,
        [
            "ether2 1 forwarded ether1",
            "ether1 1 queued (waiting for ARP)",
            "ether2 2 arp",
        ]
    );
    // Sent when the answer came, to the MAC address it gave.
    assert_eq!(
        second.shown("ether2"),
        [
            "1100 arp who-has 198.51.100.30 tell 198.51.100.1 to ff:ff:ff:ff:ff:ff",
            "1200 tcp 192.0.2.80:80 > 198.51.100.30:40000 [S.] ttl 63 to 02:00:00:00:30:30",
        ]
    );
    assert_eq!(&second.sent("ether2")[1].1[6..12], &req.sender_mac[..]);
}

#[test]
fn a_config_mistake_names_the_line_and_argument_and_writes_nothing() {
    let scratch = Scratch::new("bad-config");
    let rsc = scratch.join("bad.rsc");
    std::fs::write(
        &rsc,
        "/ip address\nadd address=198.51.100.1/24 interface=ether2\nadd address=203.0.113.2/24 interfac=ether1\n/ip route\nadd gateway=203.0.113.300\n",
    )
    .unwrap();
    let pcap = scratch.join("lan.pcap");
    write_pcap(
        &pcap,
        &[(
            1000,
            udp_frame(ip("198.51.100.10"), ip("192.0.2.53"), 10000, 53, b"q"),
        )],
    );
    let out = scratch.join("out");
    let o = statewall(&[
        "replay",
        "--config",
        rsc.to_str().unwrap(),
        "--iface",
        &format!("ether2={}", pcap.display()),
        "--write-dir",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains(rsc.to_str().unwrap()), "{err}");
    let says = |line: &str, what: &[&str]| {
        err.lines()
            .any(|l| l.starts_with(line) && what.iter().all(|w| l.contains(w)))
    };
    assert!(says("line 3,", &["unknown argument \"interfac\""]), "{err}");
    assert!(says("line 5,", &["\"gateway\"", "203.0.113.300"]), "{err}");
    assert!(!out.exists(), "nothing is written on a config error");
    assert!(o.stdout.is_empty());
}

#[test]
fn a_truncated_capture_names_the_file_and_the_packet() {
    let scratch = Scratch::new("truncated");
    let rsc = scratch.join("config.rsc");
    std::fs::write(&rsc, SOHO).unwrap();
    let pcap = scratch.join("lan.pcap");
    let frames: Vec<Timed> = (0..3u16)
        .map(|i| {
            let f = udp_frame(ip("198.51.100.10"), ip("192.0.2.53"), 10000 + i, 53, b"q");
            (1000 + u64::from(i), f)
        })
        .collect();
    write_pcap(&pcap, &frames);
    let bytes = std::fs::read(&pcap).unwrap();
    std::fs::write(&pcap, &bytes[..bytes.len() - 10]).unwrap();
    let out = scratch.join("out");
    let o = statewall(&[
        "replay",
        "--config",
        rsc.to_str().unwrap(),
        "--iface",
        &format!("ether2={}", pcap.display()),
        "--write-dir",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains(pcap.to_str().unwrap()), "{err}");
    assert!(err.contains("packet 3"), "{err}");
    let written = std::fs::read_dir(&out).map_or(0, |d| d.count());
    assert_eq!(written, 0, "no pcap is written");
}

#[test]
fn iface_without_a_file_is_refused() {
    let scratch = Scratch::new("iface-usage");
    let rsc = scratch.join("config.rsc");
    std::fs::write(&rsc, SOHO).unwrap();
    let o = statewall(&[
        "replay",
        "--config",
        rsc.to_str().unwrap(),
        "--iface",
        "ether1",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("--iface ether1"), "{err}");
    assert!(err.contains("NAME=FILE"), "{err}");
}

/// Sent frames carry the capture time of their cause to the nanosecond, as a nanosecond
/// capture gives it.
#[test]
fn written_frames_keep_a_nanosecond_capture_time() {
    let scratch = Scratch::new("nanoseconds");
    let rsc = scratch.join("config.rsc");
    std::fs::write(&rsc, SOHO).unwrap();
    let pcap = scratch.join("lan.pcap");
    let query = sent_by(
        CLIENT_MAC,
        udp_frame(ip("198.51.100.10"), ip("192.0.2.53"), 10000, 53, b"q"),
    );
    let header = PcapHeader {
        ts_resolution: TsResolution::NanoSecond,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(std::fs::File::create(&pcap).unwrap(), header).unwrap();
    let ts = Duration::new(1000, 123_456_789);
    w.write_packet(&PcapPacket::new(ts, query.len() as u32, &query))
        .unwrap();
    drop(w);
    let out = scratch.join("out");
    let o = statewall(&[
        "replay",
        "--config",
        rsc.to_str().unwrap(),
        "--iface",
        &format!("ether2={}", pcap.display()),
        "--write-dir",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(out.join("ether1.pcap")).unwrap();
    let sent = read_capture(&bytes).unwrap();
    assert_eq!(sent.frames[0].timestamp_ns, 1_000_123_456_789);
}
