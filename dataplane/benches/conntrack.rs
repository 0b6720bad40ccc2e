//! Connection-tracking speed: established-flow packets, new connections, expiry.
//!
//! Each established-flow figure is measured beside a bare `hashbrown` lookup of the same keys in
//! the same order, in the same run, so the ratio survives a noisy machine.
//!
//! Run: `cargo bench -p dataplane --bench conntrack`

mod common;

use common::{handshake, settings, to_server, track};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dataplane::conntrack::{Conntrack, Tuple};
use dataplane::time::Instant;
use dataplane::wire::tcp_flags::{ACK, SYN};
use dataplane::wire::{parse_ethernet_ipv4, ParseOptions, L4};
use std::net::Ipv4Addr;
use std::time::Duration;

/// Frames of equal length stored back to back.
struct Frames {
    bytes: Vec<u8>,
    stride: usize,
}

impl Frames {
    fn new(frames: impl Iterator<Item = Vec<u8>>) -> Self {
        let mut bytes = Vec::new();
        let mut stride = 0;
        for f in frames {
            stride = f.len();
            bytes.extend_from_slice(&f);
        }
        Frames { bytes, stride }
    }

    fn len(&self) -> usize {
        self.bytes.len() / self.stride
    }

    fn get(&self, i: usize) -> &[u8] {
        &self.bytes[i * self.stride..(i + 1) * self.stride]
    }
}

/// A table of `n` established, assured TCP connections, and frames of one ACK per connection
/// (client to server) in a shuffled order.
fn established(n: u32) -> (Conntrack, Frames, Vec<Tuple<Ipv4Addr>>) {
    let mut ct = Conntrack::new(settings(), n as usize);
    ct.reserve(n as usize);
    let now = Instant::from_secs(1);
    for i in 0..n {
        handshake(&mut ct, now, i);
    }
    assert_eq!(ct.len(), n as usize);
    let mut order: Vec<u32> = (0..n).collect();
    shuffle(&mut order);
    let frames = Frames::new(order.iter().map(|&i| to_server(i, ACK, 1001, 5001)));
    let keys = (0..frames.len())
        .map(|i| {
            let (_, ip) = parse_ethernet_ipv4(frames.get(i), ParseOptions::default())
                .unwrap()
                .unwrap();
            let L4::Tcp(t) = ip.l4 else { unreachable!() };
            Tuple {
                src: ip.src,
                dst: ip.dst,
                sport: t.sport,
                dport: t.dport,
                proto: 6,
            }
        })
        .collect();
    (ct, frames, keys)
}

/// A deterministic shuffle (xorshift), so runs compare.
fn shuffle<T>(v: &mut [T]) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

fn bench_established(c: &mut Criterion) {
    for &n in &[1_000u32, 100_000, 1_000_000] {
        let (mut ct, frames, keys) = established(n);
        let mut g = c.benchmark_group(format!("established/{n}"));
        g.throughput(Throughput::Elements(1));
        g.sample_size(30);
        let now = Instant::from_secs(2);
        let mut i = 0;
        g.bench_function("statewall parse+lookup+update", |b| {
            b.iter(|| {
                track(&mut ct, now, frames.get(i));
                i += 1;
                if i == frames.len() {
                    i = 0;
                }
            })
        });
        // The same keys in the same order through a bare hashbrown map of tuple -> u32.
        let mut bare: hashbrown::HashMap<Tuple<Ipv4Addr>, u32> =
            hashbrown::HashMap::with_capacity(keys.len());
        for (v, k) in keys.iter().enumerate() {
            bare.insert(*k, v as u32);
        }
        let mut j = 0;
        g.bench_function("bare hashbrown lookup", |b| {
            b.iter(|| {
                black_box(bare.get(&keys[j]));
                j += 1;
                if j == keys.len() {
                    j = 0;
                }
            })
        });
        // Parse + bare lookup: what a table with no state machine would cost.
        let mut k = 0;
        g.bench_function("parse + bare hashbrown lookup", |b| {
            b.iter(|| {
                let (_, ip) = parse_ethernet_ipv4(frames.get(k), ParseOptions::default())
                    .unwrap()
                    .unwrap();
                let L4::Tcp(t) = ip.l4 else { unreachable!() };
                let key = Tuple {
                    src: ip.src,
                    dst: ip.dst,
                    sport: t.sport,
                    dport: t.dport,
                    proto: 6,
                };
                black_box(bare.get(&key));
                k += 1;
                if k == frames.len() {
                    k = 0;
                }
            })
        });
        g.finish();
    }
}

fn bench_new(c: &mut Criterion) {
    const BATCH: u32 = 100_000;
    let syns = Frames::new((0..BATCH).map(|i| to_server(i, SYN, 1000, 0)));
    let mut g = c.benchmark_group("new");
    g.throughput(Throughput::Elements(u64::from(BATCH)));
    g.sample_size(20);
    g.bench_function("SYN creates an entry (100k into an empty table)", |b| {
        b.iter_batched(
            || Conntrack::new(settings(), 1 << 20),
            |mut ct| {
                let now = Instant::from_secs(1);
                for i in 0..syns.len() {
                    track(&mut ct, now, syns.get(i));
                }
                ct
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("SYN creates an entry (100k, table pre-sized)", |b| {
        b.iter_batched(
            || {
                let mut ct = Conntrack::new(settings(), 1 << 20);
                ct.reserve(BATCH as usize);
                ct
            },
            |mut ct| {
                let now = Instant::from_secs(1);
                for i in 0..syns.len() {
                    track(&mut ct, now, syns.get(i));
                }
                ct
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn bench_expiry(c: &mut Criterion) {
    const N: u32 = 100_000;
    let syns = Frames::new((0..N).map(|i| to_server(i, SYN, 1000, 0)));
    let mut g = c.benchmark_group("expiry");
    g.throughput(Throughput::Elements(u64::from(N)));
    g.sample_size(20);
    g.bench_function("expire 100k SYN_SENT entries at their deadline", |b| {
        b.iter_batched(
            || {
                let mut ct = Conntrack::new(settings(), 1 << 20);
                // Spread over 5 s of creation so the entries fall into many wheel ticks.
                for i in 0..syns.len() {
                    let now = Instant::from_secs(1) + Duration::from_micros(50 * i as u64);
                    track(&mut ct, now, syns.get(i));
                }
                ct
            },
            |mut ct| {
                ct.expire(Instant::from_secs(60));
                assert!(ct.is_empty());
                ct
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_established, bench_new, bench_expiry);
criterion_main!(benches);
