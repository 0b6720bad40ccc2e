//! The whole router: any byte string, cut into frames arriving on its two ports, through the
//! packet flow with a RouterOS default firewall, masquerade and a port forward.
//! Input: repeated [flags: u8][time step in ms: u8][len: u8][bytes: len]. Flags bit 0 picks the
//! port, bit 1 fills in the checksums (so most frames get past the IPv4 header check).
//! Every IPv4 frame the router emits must have a correct header checksum.
#![no_main]

use dataplane::pipeline::{Options, Port, Router};
use dataplane::time::Instant;
use dataplane::wire::{build, checksum};
use libfuzzer_sys::fuzz_target;
use shared::config::RouterConfig;
use std::sync::OnceLock;
use std::time::Duration;

/// The SOHO router of the pipeline scenario tests.
const CONFIG: &str = include_str!("../../fixtures/soho.rsc");

fn config() -> &'static RouterConfig {
    static CFG: OnceLock<RouterConfig> = OnceLock::new();
    CFG.get_or_init(|| RouterConfig::from_rsc(CONFIG).expect("the fuzz configuration is valid"))
}

const MACS: [[u8; 6]; 2] = [[2, 0, 0, 0, 0xe1, 1], [2, 0, 0, 0, 0xe2, 1]];

fuzz_target!(|data: &[u8]| {
    let ports = vec![
        Port { name: "ether1".into(), mac: MACS[0], mtu: 1280 },
        Port { name: "ether2".into(), mac: MACS[1], mtu: 1500 },
    ];
    let opts = Options { max_connections: 16, ..Options::default() };
    let mut r = Router::new(ports, config(), opts);
    let mut now = Instant::from_secs(1);
    let mut out = Vec::new();
    let mut rest = data;
    while let [flags, step, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (bytes, after) = tail.split_at(len);
        rest = after;
        now = now + Duration::from_millis(u64::from(*step) * 50);
        let port = u16::from(flags & 1);
        let mut frame = Vec::with_capacity(14 + bytes.len());
        frame.extend_from_slice(&MACS[usize::from(port)]);
        frame.extend_from_slice(&[2, 0, 0, 0, 0x10, 0x10]);
        frame.extend_from_slice(bytes);
        if flags & 2 != 0 {
            frame = build::fill_checksums(frame);
        }
        r.tick(now, &mut out);
        r.process(now, port, frame, &mut out);
        for e in out.drain(..) {
            let f = &e.frame;
            if f.len() >= 34 && f[12..14] == [8, 0] {
                let hl = usize::from(f[14] & 0x0f) * 4;
                assert!(checksum::verify(0, &f[14..14 + hl]), "bad IPv4 header checksum out");
            }
        }
        assert!(r.conntrack().len() <= 16);
    }
});
