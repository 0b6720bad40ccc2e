//! Any bytes as a capture file: the reader must return frames or an error, never panic, and
//! whatever frames it returns go through replay.
#![no_main]

use dataplane::conntrack::Conntrack;
use dataplane::drivers::pcap::read_capture;
use dataplane::drivers::replay::{track_frame, ReplayOptions};
use libfuzzer_sys::fuzz_target;
use shared::tracking::TrackingSettings;

fuzz_target!(|data: &[u8]| {
    if let Ok(capture) = read_capture(data) {
        let mut ct = Conntrack::new(TrackingSettings::default(), 64);
        for frame in &capture.frames {
            let _ = track_frame(&mut ct, frame, ReplayOptions::default());
        }
    }
});
