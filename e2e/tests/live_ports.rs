//! The live drivers (`dataplane::drivers::live`) on real interfaces.
//!
//! Each test makes its own network namespaces (`swlp-<pid>-<tag>`) with veth pairs, runs the
//! driver code on a thread that entered the namespace (`setns`), and removes the namespaces when
//! it ends, panicking or not. Addresses come from the documentation ranges only; no traffic
//! leaves the namespaces. Needs root: skipped with a reason elsewhere, a failure under CI.

use dataplane::drivers::live::{
    open_pnet, prepare_port, Change, FrameRx, KernelGuard, OpenOptions, Tun, GUARD_TABLE,
};
use dataplane::wire::build::icmp_echo_frame;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// An IEEE "local experimental" EtherType: nothing in the namespace sends it but the tests.
const ETHERTYPE_TEST: u16 = 0x88b5;
const WAIT: Duration = Duration::from_secs(5);

fn run(argv: &[&str]) -> Output {
    Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("{}: could not start: {e}", argv.join(" ")))
}

fn run_ok(argv: &[&str]) -> String {
    let out = run(argv);
    assert!(
        out.status.success(),
        "{} failed ({}): {}",
        argv.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace of this test process; deleted (with its links) on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("swlp-{}-{tag}", std::process::id());
        run_ok(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    fn ip(&self, args: &[&str]) -> String {
        let mut argv = vec!["ip", "-n", &self.name];
        argv.extend_from_slice(args);
        run_ok(&argv)
    }

    /// Waits until `dev` has carrier and its queueing discipline is attached. The kernel does
    /// both later, from its link-watch work; until then the device's qdisc is `noop`, which drops
    /// every frame sent through it (a qdisc-bypass socket is not affected, the host's stack is).
    fn wait_carrier(&self, dev: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let line = self.ip(&["-o", "link", "show", dev]);
            if line.contains("state UP") && !line.contains("qdisc noop") {
                return;
            }
            assert!(Instant::now() < deadline, "{dev} never came up: {line}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs a command inside the namespace.
    fn exec(&self, args: &[&str]) -> Output {
        let mut argv = vec!["ip", "netns", "exec", &self.name];
        argv.extend_from_slice(args);
        run(&argv)
    }

    fn exec_ok(&self, args: &[&str]) -> String {
        let mut argv = vec!["ip", "netns", "exec", &self.name];
        argv.extend_from_slice(args);
        run_ok(&argv)
    }

    /// Reads `/proc/sys/<key>` inside the namespace.
    fn sysctl(&self, key: &str) -> String {
        let path = format!("/proc/sys/{key}");
        self.enter(|| std::fs::read_to_string(&path).expect("sysctl reads"))
            .trim()
            .to_string()
    }

    /// Runs `f` on a thread inside the namespace (its panic is this thread's panic).
    fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|s| {
            let thread = s.spawn(|| {
                let file = std::fs::File::open(&path).expect("namespace file opens");
                // SAFETY: setns on a valid namespace descriptor; it changes only this thread.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            });
            match thread.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let out = run(&["ip", "netns", "del", &self.name]);
        if !out.status.success() {
            eprintln!(
                "could not delete namespace {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// A namespace with the veth pair p0 (the router's port) – p1 (its peer), both up.
fn veth_lab(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.ip(&["link", "add", "p0", "type", "veth", "peer", "name", "p1"]);
    ns.ip(&["link", "set", "p0", "up"]);
    ns.ip(&["link", "set", "p1", "up"]);
    ns.wait_carrier("p0");
    ns.wait_carrier("p1");
    ns
}

fn test_frame(dst: [u8; 6], src: [u8; 6], marker: &str, len: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ETHERTYPE_TEST.to_be_bytes());
    f.extend_from_slice(marker.as_bytes());
    f.push(0);
    let mut i = 0u8;
    while f.len() < len {
        f.push(i);
        i = i.wrapping_add(1);
    }
    f
}

fn marker_of(frame: &[u8]) -> Option<String> {
    if frame.get(12..14)? != ETHERTYPE_TEST.to_be_bytes() {
        return None;
    }
    let rest = frame.get(14..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// Receives until a test frame marked `last` arrives; returns every test frame seen, in order
/// (other traffic, such as IPv6 autoconfiguration, is skipped).
fn test_frames_until(rx: &mut dyn FrameRx, last: &str) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let Some(frame) = rx.recv().expect("recv") else {
            continue;
        };
        if let Some(m) = marker_of(frame) {
            seen.push(frame.to_vec());
            if m == last {
                return seen;
            }
        }
    }
    panic!("no frame marked {last:?} within {WAIT:?}; test frames seen: {seen:?}");
}

fn markers(frames: &[Vec<u8>]) -> Vec<String> {
    frames.iter().filter_map(|f| marker_of(f)).collect()
}

/// A plain pnet channel (pnet's own socket: no qdisc bypass, sees outgoing frames).
fn plain_channel(
    name: &str,
    index: u32,
) -> (
    Box<dyn pnet_datalink::DataLinkSender>,
    Box<dyn pnet_datalink::DataLinkReceiver>,
) {
    let iface = pnet_datalink::NetworkInterface {
        name: name.into(),
        description: String::new(),
        index,
        mac: None,
        ips: Vec::new(),
        flags: 0,
    };
    let config = pnet_datalink::linux::Config {
        read_timeout: Some(Duration::from_millis(50)),
        promiscuous: false,
        ..Default::default()
    };
    match pnet_datalink::linux::channel(&iface, config) {
        Ok(pnet_datalink::Channel::Ethernet(tx, rx)) => (tx, rx),
        Ok(_) => panic!("not an Ethernet channel"),
        Err(e) => panic!("plain channel on {name}: {e}"),
    }
}

#[test]
fn a_frame_crosses_a_veth_intact() {
    if !e2e::env::require_root("a_frame_crosses_a_veth_intact") {
        return;
    }
    let ns = veth_lab("cross");
    let mac_line = ns.ip(&["-o", "link", "show", "p0"]);
    ns.enter(|| {
        let opts = OpenOptions::default();
        let (p0, mut rx0, mut tx0) = open_pnet("p0", &opts).expect("open p0");
        let (p1, mut rx1, mut tx1) = open_pnet("p1", &opts).expect("open p1");
        assert_eq!(p0.mtu, 1500);
        assert!(p0.ifindex > 0 && p0.ifindex != p1.ifindex);
        let mac_text = p0
            .mac
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        assert!(mac_line.contains(&mac_text), "{mac_text} not in {mac_line}");

        let there = test_frame(p0.mac, p1.mac, "there", 300);
        tx1.send(&there).expect("send on p1");
        assert_eq!(test_frames_until(rx0.as_mut(), "there"), vec![there]);

        let back = test_frame(p1.mac, p0.mac, "back", 1514);
        tx0.send(&back).expect("send on p0");
        assert_eq!(test_frames_until(rx1.as_mut(), "back"), vec![back]);

        let s0 = p0.stats.snapshot();
        assert!(s0.rx_frames >= 1 && s0.rx_bytes >= 300, "{s0:?}");
        assert_eq!((s0.tx_frames, s0.tx_bytes), (1, 1514));
        assert_eq!((s0.truncated, s0.oversize, s0.own_source), (0, 0, 0));
    });
}

#[test]
fn own_and_outgoing_frames_are_not_received_back() {
    if !e2e::env::require_root("own_and_outgoing_frames_are_not_received_back") {
        return;
    }
    let ns = veth_lab("own");
    ns.enter(|| {
        let opts = OpenOptions::default();
        let (p0, mut rx0, mut tx0) = open_pnet("p0", &opts).expect("open p0");
        let (p1, mut rx1, mut tx1) = open_pnet("p1", &opts).expect("open p1");
        // A plain socket on p0 that sees outgoing frames, and another that sends like the host
        // would (through the qdisc, so taps see it).
        let (_, mut tap) = plain_channel("p0", p0.ifindex);
        let (mut host_tx, _) = plain_channel("p0", p0.ifindex);

        tx0.send(&test_frame(p1.mac, p0.mac, "ours", 100)).unwrap();
        let host = test_frame(p1.mac, [2, 0, 0, 0, 0, 0x99], "host", 100);
        host_tx.send_to(&host, None).unwrap().unwrap();
        assert_eq!(
            markers(&test_frames_until(rx1.as_mut(), "host")),
            ["ours", "host"]
        );
        // An ordinary tap on p0 does see the host's frame leave.
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(
                Instant::now() < deadline,
                "the tap never saw the host frame"
            );
            if let Ok(f) = tap.next() {
                if marker_of(f).as_deref() == Some("host") {
                    break;
                }
            }
        }

        // The peer sends a frame claiming p0's MAC, then an ordinary one.
        tx1.send(&test_frame(p0.mac, p0.mac, "spoof", 100)).unwrap();
        tx1.send(&test_frame(p0.mac, p1.mac, "last", 100)).unwrap();
        assert_eq!(markers(&test_frames_until(rx0.as_mut(), "last")), ["last"]);
        assert_eq!(p0.stats.snapshot().own_source, 1);
    });
}

#[test]
fn frames_longer_than_the_port_allows_are_counted_not_delivered() {
    if !e2e::env::require_root("frames_longer_than_the_port_allows_are_counted_not_delivered") {
        return;
    }
    let ns = veth_lab("big");
    ns.enter(|| {
        let opts = OpenOptions::default();
        // Opened at MTU 1500: 2048-byte read buffer, frames up to 1518 bytes.
        let (p0, mut rx0, _tx0) = open_pnet("p0", &opts).expect("open p0");
        // The MTU raised under the open port, as a GRO super-frame would exceed it.
        for dev in ["p0", "p1"] {
            run_ok(&["ip", "link", "set", dev, "mtu", "4000"]);
        }
        let (p1, _rx1, mut tx1) = open_pnet("p1", &opts).expect("open p1");
        assert_eq!(p1.mtu, 4000);
        tx1.send(&test_frame(p0.mac, p1.mac, "oversize", 1700))
            .unwrap();
        tx1.send(&test_frame(p0.mac, p1.mac, "truncated", 3000))
            .unwrap();
        tx1.send(&test_frame(p0.mac, p1.mac, "last", 1518)).unwrap();
        assert_eq!(markers(&test_frames_until(rx0.as_mut(), "last")), ["last"]);
        let s = p0.stats.snapshot();
        assert_eq!((s.oversize, s.truncated), (1, 1), "{s:?}");
    });
}

#[test]
fn prepare_port_switches_gro_off_and_restores_sysctls() {
    if !e2e::env::require_root("prepare_port_switches_gro_off_and_restores_sysctls") {
        return;
    }
    let ns = Netns::new("prep");
    ns.ip(&["link", "add", "p0", "type", "veth", "peer", "name", "p1"]);
    ns.exec_ok(&["ethtool", "-K", "p0", "gro", "on"]);
    assert!(ns
        .exec_ok(&["ethtool", "-k", "p0"])
        .contains("generic-receive-offload: on"));
    let v6 = "net/ipv6/conf/p0/disable_ipv6";
    let arp = "net/ipv4/conf/p0/arp_ignore";
    let (v6_before, arp_before) = (ns.sysctl(v6), ns.sysctl(arp));
    assert_eq!((v6_before.as_str(), arp_before.as_str()), ("0", "0"));

    let report = ns.enter(|| {
        let report = prepare_port("p0").expect("prepare p0");
        assert_eq!(report.mtu, 1500);
        assert!(report.changes.contains(&Change::BroughtUp), "{report}");
        assert!(report.changes.contains(&Change::GroOff), "{report}");
        assert!(
            report
                .changes
                .iter()
                .any(|c| matches!(c, Change::Sysctl { key, new, .. }
                if key == "net/ipv4/conf/p0/arp_ignore" && new == "8")),
            "{report}"
        );
        report
    });
    assert!(ns
        .exec_ok(&["ethtool", "-k", "p0"])
        .contains("generic-receive-offload: off"));
    assert!(ns.ip(&["-o", "link", "show", "p0"]).contains(",UP"));
    assert_eq!((ns.sysctl(v6), ns.sysctl(arp)), ("1".into(), "8".into()));
    // Restored on drop (on a thread in the namespace: /proc/sys follows the thread).
    ns.enter(move || drop(report));
    assert_eq!((ns.sysctl(v6), ns.sysctl(arp)), (v6_before, arp_before));

    // A second run finds nothing to change but the sysctls.
    ns.enter(|| {
        let again = prepare_port("p0").expect("prepare p0 again");
        assert!(
            again
                .changes
                .iter()
                .all(|c| matches!(c, Change::Sysctl { .. })),
            "{again}"
        );
    });
}

#[test]
fn prepare_port_refuses_a_port_with_a_kernel_address() {
    if !e2e::env::require_root("prepare_port_refuses_a_port_with_a_kernel_address") {
        return;
    }
    let ns = Netns::new("addr");
    ns.ip(&["link", "add", "p0", "type", "veth", "peer", "name", "p1"]);
    ns.ip(&["addr", "add", "198.51.100.1/24", "dev", "p0"]);
    let err = ns.enter(|| prepare_port("p0").expect_err("a port with an address is refused"));
    let text = err.to_string();
    assert!(
        text.starts_with(
            "p0 has the kernel address 198.51.100.1/24: remove it (ip addr flush dev p0)"
        ),
        "{text}"
    );
    assert_eq!(err.port(), "p0");
    // Refused before anything changed: the link is still down.
    assert!(!ns.ip(&["-o", "link", "show", "p0"]).contains(",UP"));
}

fn ping(ns: &Netns, addr: &str) -> bool {
    ns.exec(&["ping", "-c1", "-W1", addr]).status.success()
}

#[test]
fn the_kernel_guard_keeps_the_host_stack_off_the_port() {
    if !e2e::env::require_root("the_kernel_guard_keeps_the_host_stack_off_the_port") {
        return;
    }
    // rtr's port p0 (with a kernel address, so the host stack would answer) – host's h0.
    let rtr = Netns::new("grtr");
    let host = Netns::new("ghost");
    rtr.ip(&[
        "link", "add", "p0", "type", "veth", "peer", "name", "h0", "netns", &host.name,
    ]);
    rtr.ip(&["addr", "add", "192.0.2.1/24", "dev", "p0"]);
    rtr.ip(&["link", "set", "p0", "up"]);
    host.ip(&["addr", "add", "192.0.2.2/24", "dev", "h0"]);
    host.ip(&["link", "set", "h0", "up"]);
    assert!(
        ping(&host, "192.0.2.1"),
        "the kernel answers without the guard"
    );

    rtr.enter(|| {
        let (_, mut rx, _tx) = open_pnet("p0", &OpenOptions::default()).expect("open p0");
        let guard = KernelGuard::install(&["p0", "h9"]).expect("guard loads");
        let listing = run_ok(&["nft", "list", "table", "inet", GUARD_TABLE]);
        assert!(
            listing.contains("hook prerouting priority raw"),
            "{listing}"
        );
        assert!(
            listing.contains(r#"iifname { "p0", "h9" } drop"#),
            "{listing}"
        );

        assert!(!ping(&host, "192.0.2.1"), "the guard stops the host stack");
        // The router's socket still saw the echo request.
        let deadline = Instant::now() + WAIT;
        let saw_echo = loop {
            if Instant::now() >= deadline {
                break false;
            }
            if let Some(f) = rx.recv().expect("recv") {
                let ip = &f[14..];
                if f[12..14] == [0x08, 0x00] && ip[9] == 1 && ip[12..16] == [192, 0, 2, 2] {
                    break ip[usize::from(ip[0] & 0x0f) * 4] == 8;
                }
            }
        };
        assert!(saw_echo, "the AF_PACKET socket sees frames the guard drops");

        drop(guard);
        let gone = run(&["nft", "list", "table", "inet", GUARD_TABLE]);
        assert!(!gone.status.success(), "the guard table is removed on drop");
    });
    assert!(ping(&host, "192.0.2.1"), "the kernel answers again");
}

#[test]
fn the_tun_device_carries_packets_to_the_host_stack_and_back() {
    if !e2e::env::require_root("the_tun_device_carries_packets_to_the_host_stack_and_back") {
        return;
    }
    let ns = Netns::new("tun");
    let (router, peer) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
    ns.enter(|| {
        let tun = Tun::create("swt0").expect("create the TUN device");
        assert_eq!(tun.name(), "swt0");
        tun.add_address(router, 24).expect("address");
        tun.set_default_route().expect("default route");
        let addrs = run_ok(&["ip", "-o", "addr", "show", "dev", "swt0"]);
        assert!(addrs.contains("inet 192.0.2.1/24"), "{addrs}");
        let routes = run_ok(&["ip", "route", "show", "default"]);
        assert!(routes.contains("dev swt0"), "{routes}");

        // An echo request as the pipeline delivers it (Dest::Local: an Ethernet frame).
        let id = 0x5157;
        tun.deliver(&icmp_echo_frame(peer, router, 8, id, 1))
            .expect("deliver");
        let deadline = Instant::now() + WAIT;
        let reply = loop {
            assert!(
                Instant::now() < deadline,
                "no echo reply from the host stack"
            );
            let Some(f) = tun.recv_frame().expect("recv_frame") else {
                continue;
            };
            let ip = &f[14..];
            let hl = usize::from(ip[0] & 0x0f) * 4;
            if ip[9] == 1 && ip[hl] == 0 && ip[hl + 4..hl + 6] == id.to_be_bytes() {
                break f;
            }
        };
        assert_eq!(
            reply[12..14],
            [0x08, 0x00],
            "framed as IPv4 for Router::output"
        );
        assert_eq!(reply[14 + 12..14 + 16], router.octets());
        assert_eq!(reply[14 + 16..14 + 20], peer.octets());
        drop(tun);
        assert!(
            !run(&["ip", "link", "show", "swt0"]).status.success(),
            "the device goes with the Tun"
        );
    });
}
