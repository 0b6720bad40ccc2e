//! The whole router's speed: established NAT'd flows and new NAT'd connections through
//! `Router::process`, each beside the bare connection-tracking path (parse + track + confirm) of
//! the same frames in the same run, so the ratio survives a noisy machine.
//!
//! Run: `cargo bench -p dataplane --bench pipeline`

mod common;

use common::{client, handshake, settings, to_server, track};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dataplane::conntrack::Conntrack;
use dataplane::pipeline::{Disposition, Egress, Options, Port, Router};
use dataplane::time::Instant;
use dataplane::wire::build::{self, TcpSpec, ROUTER_MAC};
use dataplane::wire::tcp_flags::{ACK, SYN};
use dataplane::wire::{parse_ethernet_ipv4, ParseOptions, L4};
use shared::config::RouterConfig;
use std::fmt::Write;

const WAN_MAC: [u8; 6] = [0x02, 0, 0, 0, 0xe1, 0x01];

/// The RouterOS default firewall and masquerade; the server (203.0.113.2) sits on the WAN
/// network; every client host has a static neighbour entry.
fn router(max: usize) -> Router {
    let mut text = String::from(
        r#"/interface list
add name=WAN
add name=LAN
/interface list member
add interface=ether1 list=WAN
add interface=ether2 list=LAN
/ip address
add address=198.51.100.254/24 interface=ether2
add address=203.0.113.1/24 interface=ether1
/ip firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmp
add action=drop chain=input in-interface-list=!LAN
add action=fasttrack-connection chain=forward connection-state=established,related
add action=accept chain=forward connection-state=established,related,untracked
add action=drop chain=forward connection-state=invalid
add action=drop chain=forward connection-nat-state=!dstnat connection-state=new in-interface-list=WAN
/ip firewall nat
add action=masquerade chain=srcnat out-interface-list=WAN
/ip arp
add address=203.0.113.2 interface=ether1 mac-address=02:00:00:00:20:02
"#,
    );
    for h in 1..=20 {
        writeln!(
            text,
            "add address=198.51.100.{h} interface=ether2 mac-address=02:00:00:00:10:{h:02x}"
        )
        .unwrap();
    }
    let cfg = RouterConfig::from_rsc(&text).expect("bench configuration");
    let ports = vec![
        Port {
            name: "ether1".into(),
            mac: WAN_MAC,
            mtu: 1500,
        },
        Port {
            name: "ether2".into(),
            mac: ROUTER_MAC,
            mtu: 1500,
        },
    ];
    let opts = Options {
        max_connections: max,
        ..Options::default()
    };
    let mut r = Router::new(ports, &cfg, opts);
    r.conntrack_mut().reserve(max);
    r
}

/// Establishes client `i`'s NAT'd connection through the router.
fn nat_handshake(r: &mut Router, now: Instant, i: u32, out: &mut Vec<Egress>) {
    out.clear();
    assert_eq!(
        r.process(now, 1, to_server(i, SYN, 1000, 0), out),
        Disposition::Forwarded(0)
    );
    let (_, m) = parse_ethernet_ipv4(&out[0].frame, ParseOptions::default())
        .unwrap()
        .unwrap();
    let L4::Tcp(t) = m.l4 else { unreachable!() };
    let mut synack = build::tcp_frame(
        common::SERVER,
        m.src,
        TcpSpec {
            sport: 443,
            dport: t.sport,
            seq: 5000,
            ack: 1001,
            flags: SYN | ACK,
            ..TcpSpec::default()
        },
    );
    synack[0..6].copy_from_slice(&WAN_MAC);
    out.clear();
    assert_eq!(r.process(now, 0, synack, out), Disposition::Forwarded(1));
    out.clear();
    assert_eq!(
        r.process(now, 1, to_server(i, ACK, 1001, 5001), out),
        Disposition::Forwarded(0)
    );
    out.clear();
}

fn bench_established(c: &mut Criterion) {
    // One public address towards one server: at most 64 512 source ports, so 50k flows.
    for &n in &[1_000u32, 50_000] {
        let now = Instant::from_secs(1);
        let mut r = router(n as usize);
        let mut out = Vec::new();
        for i in 0..n {
            nat_handshake(&mut r, now, i, &mut out);
        }
        let mut ct = Conntrack::new(settings(), n as usize);
        ct.reserve(n as usize);
        for i in 0..n {
            handshake(&mut ct, now, i);
        }
        // One ACK per connection, in a scattered order.
        let order: Vec<u32> = (0..n).map(|k| (k.wrapping_mul(7919)) % n).collect();
        let frames: Vec<Vec<u8>> = order
            .iter()
            .map(|&i| to_server(i, ACK, 1001, 5001))
            .collect();
        let mut g = c.benchmark_group(format!("pipeline-established/{n}"));
        g.throughput(Throughput::Elements(1));
        g.sample_size(30);
        let later = Instant::from_secs(2);
        let mut k = 0;
        let mut buf = frames[0].clone();
        g.bench_function("router: NAT'd ACK through the whole pipeline", |b| {
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(&frames[k]);
                r.process(later, 1, std::mem::take(&mut buf), &mut out);
                // Reuse the forwarded frame's buffer, as a driver's ring would.
                if let Some(e) = out.pop() {
                    buf = e.frame;
                }
                out.clear();
                k = (k + 1) % frames.len();
            })
        });
        let mut j = 0;
        g.bench_function("bare conntrack path: parse + track", |b| {
            b.iter(|| {
                track(&mut ct, later, &frames[j]);
                j = (j + 1) % frames.len();
            })
        });
        g.finish();
        assert_eq!(
            r.counters().total_drops(),
            0,
            "no packet of the benchmark was dropped"
        );
    }
}

fn bench_new(c: &mut Criterion) {
    const BATCH: u32 = 20_000;
    let syns: Vec<Vec<u8>> = (0..BATCH).map(|i| to_server(i * 3, SYN, 1000, 0)).collect();
    assert!(client(BATCH * 3).0.octets()[3] <= 20);
    let mut g = c.benchmark_group("pipeline-new");
    g.throughput(Throughput::Elements(u64::from(BATCH)));
    g.sample_size(20);
    g.bench_function("router: SYN, masquerade, confirm (20k, pre-sized)", |b| {
        b.iter_batched(
            || (router(1 << 17), syns.clone(), Vec::with_capacity(4)),
            |(mut r, syns, mut out)| {
                let now = Instant::from_secs(1);
                for s in syns {
                    r.process(now, 1, s, &mut out);
                    out.clear();
                }
                r
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function(
        "bare conntrack path: SYN creates an entry (20k, pre-sized)",
        |b| {
            b.iter_batched(
                || {
                    let mut ct = Conntrack::new(settings(), 1 << 17);
                    ct.reserve(1 << 17);
                    ct
                },
                |mut ct| {
                    let now = Instant::from_secs(1);
                    for s in &syns {
                        track(&mut ct, now, s);
                    }
                    ct
                },
                BatchSize::PerIteration,
            )
        },
    );
    g.finish();
}

criterion_group!(benches, bench_established, bench_new);
criterion_main!(benches);
