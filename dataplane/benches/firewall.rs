//! Filter cost per packet: an empty forward chain beside 100-rule chains in which the packet
//! matches only the last rule, so the difference divided by 100 is the cost of one rule that
//! does not match.
//!
//! Two kinds of 100-rule chain: `protocol=tcp dst-port=N` (the protocol matches, the port does
//! not: two matchers tested per rule) and `src-address=192.0.2.N` (the first matcher fails).
//! The packet is parsed once, outside the timed loop.
//!
//! Run: `cargo bench -p dataplane --bench firewall`

use criterion::{black_box, criterion_group, Criterion};
use dataplane::conntrack::CtState;
use dataplane::firewall::{FilterVerdict, FirewallState, Hook, PacketView, Ruleset};
use dataplane::iface::Interfaces;
use dataplane::time::Instant;
use dataplane::wire::build::{tcp_frame, TcpSpec};
use dataplane::wire::tcp_flags::ACK;
use dataplane::wire::{parse_ethernet_ipv4, Ipv4Meta, ParseOptions};
use shared::config::{Action, AddrMatch, Matchers, Neg, PortSet, RouterConfig, Rule};
use std::net::Ipv4Addr;

const RULES: u32 = 100;

fn rule(id: u32, action: Action, matchers: Matchers) -> Rule {
    Rule {
        id,
        chain: "forward".into(),
        action,
        matchers,
        disabled: false,
        log: false,
        log_prefix: String::new(),
        comment: None,
    }
}

fn port_rule(id: u32, port: u16, action: Action) -> Rule {
    rule(
        id,
        action,
        Matchers {
            protocol: Some(Neg::is(6)),
            dst_port: Some(Neg::is(PortSet::parse(&port.to_string()).expect("port"))),
            ..Matchers::default()
        },
    )
}

fn addr_rule(id: u32, addr: Ipv4Addr, action: Action) -> Rule {
    rule(
        id,
        action,
        Matchers {
            src_address: Some(Neg::is(AddrMatch::Prefix { addr, len: 32 })),
            ..Matchers::default()
        },
    )
}

/// Port rules to 1000.. that miss, then one to port 443 that drops.
fn port_chain() -> Vec<Rule> {
    let mut rules: Vec<Rule> = (1..RULES)
        .map(|i| port_rule(i, 1000 + i as u16, Action::Accept))
        .collect();
    rules.push(port_rule(RULES, 443, Action::Drop));
    rules
}

/// Source-address rules for 192.0.2.x that miss, then one for the client that drops.
fn addr_chain() -> Vec<Rule> {
    let mut rules: Vec<Rule> = (1..RULES)
        .map(|i| addr_rule(i, Ipv4Addr::new(192, 0, 2, i as u8), Action::Accept))
        .collect();
    rules.push(addr_rule(RULES, CLIENT, Action::Drop));
    rules
}

const CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);

fn packet() -> Ipv4Meta {
    let frame = tcp_frame(
        CLIENT,
        Ipv4Addr::new(203, 0, 113, 2),
        TcpSpec {
            sport: 40000,
            dport: 443,
            flags: ACK,
            ..TcpSpec::default()
        },
    );
    parse_ethernet_ipv4(&frame, ParseOptions::default())
        .ok()
        .flatten()
        .expect("benchmark frame parses")
        .1
}

struct Setup {
    rs: Ruleset,
    st: FirewallState,
    ip: Ipv4Meta,
}

impl Setup {
    fn new(filter: Vec<Rule>) -> Setup {
        let cfg = RouterConfig {
            filter,
            ..RouterConfig::default()
        };
        let ifaces = Interfaces::new(["ether1", "ether2"]).with_lists(&cfg);
        Setup {
            rs: Ruleset::compile(&cfg, &ifaces, None),
            st: FirewallState::new(&cfg),
            ip: packet(),
        }
    }

    fn run(&mut self) -> FilterVerdict {
        let pkt = PacketView {
            ip: black_box(&self.ip),
            in_iface: Some(1),
            out_iface: Some(0),
            ct_state: CtState::New,
            nat_state: 0,
            src_mac: None,
        };
        self.rs
            .filter(&mut self.st, Instant::from_secs(1), Hook::Forward, &pkt)
    }
}

fn chains() -> [(&'static str, Vec<Rule>, FilterVerdict); 3] {
    [
        ("empty", Vec::new(), FilterVerdict::Accept),
        ("100 port rules", port_chain(), FilterVerdict::Drop),
        ("100 address rules", addr_chain(), FilterVerdict::Drop),
    ]
}

fn bench_filter(c: &mut Criterion) {
    let mut g = c.benchmark_group("filter/forward");
    for (name, rules, want) in chains() {
        let mut s = Setup::new(rules);
        assert_eq!(s.run(), want, "{name}");
        g.bench_function(name, |b| b.iter(|| black_box(s.run())));
    }
    g.finish();
}

/// Median nanoseconds per packet over a few timed runs (criterion's figures are in its report;
/// this gives the per-rule figure in one line).
fn ns_per_packet(s: &mut Setup) -> f64 {
    const N: u32 = 200_000;
    let mut runs: Vec<f64> = (0..7)
        .map(|_| {
            let t = std::time::Instant::now();
            for _ in 0..N {
                black_box(s.run());
            }
            t.elapsed().as_nanos() as f64 / f64::from(N)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

fn summary() {
    let figures: Vec<(&str, f64)> = chains()
        .into_iter()
        .map(|(name, rules, _)| (name, ns_per_packet(&mut Setup::new(rules))))
        .collect();
    let empty = figures[0].1;
    println!("filter/forward, one packet (median of 7 x 200k):");
    for (name, ns) in &figures {
        print!("  {name:<18} {ns:>7.1} ns/packet");
        if *name != "empty" {
            print!(
                "  => {:.2} ns per non-matching rule",
                (ns - empty) / f64::from(RULES - 1)
            );
        }
        println!();
    }
}

criterion_group!(benches, bench_filter);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench` passes --bench; `cargo test --benches` does not and only checks it runs.
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
