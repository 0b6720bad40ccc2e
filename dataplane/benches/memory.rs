//! Memory per tracked connection at 1M entries, measured by counting what the allocator hands
//! out, beside the entry's own size.
//!
//! Run: `cargo bench -p dataplane --bench memory`

mod common;

use common::{handshake, settings};
use dataplane::conntrack::{Conn, Conntrack};
use dataplane::time::Instant;
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

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    const N: u32 = 1_000_000;
    let before = LIVE.load(Ordering::Relaxed);
    let mut ct = Conntrack::new(settings(), N as usize);
    let now = Instant::from_secs(1);
    for i in 0..N {
        handshake(&mut ct, now, i);
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
