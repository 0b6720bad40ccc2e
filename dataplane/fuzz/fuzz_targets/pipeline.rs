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

const CONFIG: &str = r#"
/interface list
add name=WAN
add name=LAN
/interface list member
add interface=ether1 list=WAN
add interface=ether2 list=LAN
/ip address
add address=198.51.100.1/24 interface=ether2
add address=203.0.113.2/24 interface=ether1
/ip route
add gateway=203.0.113.1
/ip arp
add address=203.0.113.1 interface=ether1 mac-address=02:00:00:00:99:01
/ip firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmp
add action=drop chain=input in-interface-list=!LAN
add action=fasttrack-connection chain=forward connection-state=established,related
add action=accept chain=forward connection-state=established,related,untracked
add action=drop chain=forward connection-state=invalid
add action=reject chain=forward protocol=tcp dst-port=25 reject-with=tcp-reset
add action=drop chain=forward connection-nat-state=!dstnat connection-state=new in-interface-list=WAN
/ip firewall nat
add action=masquerade chain=srcnat out-interface-list=WAN
add action=dst-nat chain=dstnat in-interface=ether1 protocol=tcp dst-port=8080 to-addresses=198.51.100.20 to-ports=80
"#;

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
