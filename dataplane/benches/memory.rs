//! Memory per tracked connection at 1M entries, measured by counting what the allocator hands
//! out, beside the entry's own size.
//!
//! Run: `cargo bench -p dataplane --bench memory`

use dataplane::conntrack::{Conn, Conntrack, PENDING};
use dataplane::time::Instant;
use dataplane::wire::build::{self, TcpSpec};
use dataplane::wire::tcp_flags::{ACK, SYN};
use dataplane::wire::{parse_ethernet_ipv4, ParseOptions};
use shared::tracking::{Enabled, TrackingSettings};
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static A: Counting = Counting;

fn track(ct: &mut Conntrack, now: Instant, frame: &[u8]) {
    let (_, ip) = parse_ethernet_ipv4(frame, ParseOptions::default())
        .unwrap()
        .unwrap();
    if ct.track(now, &ip).conn.map(|f| f.slot) == Some(PENDING) {
        ct.confirm();
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    const N: u32 = 1_000_000;
    let settings = TrackingSettings {
        enabled: Enabled::Yes,
        ..TrackingSettings::default()
    };
    let before = LIVE.load(Ordering::Relaxed);
    let mut ct = Conntrack::new(settings, N as usize);
    let now = Instant::from_secs(1);
    let server = Ipv4Addr::new(203, 0, 113, 2);
    for i in 0..N {
        let addr = Ipv4Addr::new(198, 51, 100, (i >> 16) as u8 + 1);
        let port = (i & 0xffff) as u16;
        let c = |flags, seq, ack| {
            build::tcp_frame(
                addr,
                server,
                TcpSpec {
                    sport: port,
                    dport: 443,
                    seq,
                    ack,
                    flags,
                    ..TcpSpec::default()
                },
            )
        };
        let s = |flags, seq, ack| {
            build::tcp_frame(
                server,
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
        track(&mut ct, now, &c(SYN, 1000, 0));
        track(&mut ct, now, &s(SYN | ACK, 5000, 1001));
        track(&mut ct, now, &c(ACK, 1001, 5001));
    }
    let after = LIVE.load(Ordering::Relaxed);
    assert_eq!(ct.len(), N as usize);
    let per = (after - before) as f64 / f64::from(N);
    println!("memory/1M established TCP connections (table grown on demand):");
    println!(
        "  allocated: {:.1} MiB, {per:.1} bytes per connection",
        (after - before) as f64 / 1048576.0
    );
    println!(
        "  entry size: {} bytes (size_of::<Conn<Ipv4Addr>>)",
        std::mem::size_of::<Conn<Ipv4Addr>>()
    );
    println!("  of which index: 2 x (4 + 1) bytes per connection at the index's load factor");
    println!("  Linux nf_conn: about 300 bytes plus extensions (netfilter.md §3.5)");
    println!("  ratio to 128-byte target: {:.2}", per / 128.0);
}
