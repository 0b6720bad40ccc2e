//! Parsing plus tracking: any byte string, cut into frames, through `wire` and `conntrack`.
//! Input: repeated [len: u8][time step in ms: u8][frame bytes: len]. A small table (8 entries)
//! so that early drop and expiry run too.
#![no_main]

use dataplane::conntrack::{Conntrack, PENDING};
use dataplane::time::Instant;
use dataplane::wire::{parse_ethernet_ipv4, ParseOptions};
use libfuzzer_sys::fuzz_target;
use shared::tracking::TrackingSettings;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let mut ct = Conntrack::new(TrackingSettings::default(), 8);
    let mut now = Instant::from_secs(1);
    let mut rest = data;
    let opts = ParseOptions { verify_checksums: false };
    while let [len, step, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (frame, after) = tail.split_at(len);
        rest = after;
        now = now + Duration::from_millis(u64::from(*step) * 40);
        ct.expire(now);
        if let Ok(Some((_, ip))) = parse_ethernet_ipv4(frame, opts) {
            let t = ct.track(now, &ip);
            if t.conn.map(|f| f.slot) == Some(PENDING) {
                ct.confirm();
            }
            assert!(ct.len() <= 8);
        }
    }
    for c in ct.entries(now) {
        let _ = dataplane::conntrack::format::conntrack_line(c, now);
    }
});
