//! `statewall replay` on real captures (made by `e2e/scripts/make-fixtures.sh` in network
//! namespaces, with the Linux kernel as the router), compared with what the kernel's own
//! conntrack listed for the same traffic (`<name>.conntrack.txt`).

use e2e::kernel::{assert_same_table, parse_line, Line};
use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../e2e/fixtures")
        .join(name)
}

fn statewall(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_statewall"))
        .args(args)
        .output()
        .expect("statewall runs")
}

fn fixtures() -> PathBuf {
    fixture("")
}

/// The table `statewall replay` prints for a fixture, as parsed `conntrack -L` lines.
fn replay_lines(name: &str) -> Vec<Line> {
    let out = statewall(&["replay", fixture(&format!("{name}.pcap")).to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| parse_line(l).unwrap_or_else(|| panic!("not a conntrack line: {l}")))
        .collect()
}

/// The capture was taken on the router's LAN port while the kernel masqueraded, so the kernel's
/// reply destination is the router's WAN address; statewall replays without NAT.
fn compare(name: &str) {
    assert_same_table(replay_lines(name), &fixtures(), name);
}

#[test]
fn curl_session_matches_the_kernel() {
    compare("curl-http");
}

#[test]
fn ping_and_port_unreachable_match_the_kernel() {
    compare("ping");
}

#[test]
fn dns_like_udp_matches_the_kernel() {
    compare("udp-dns-like");
}

#[test]
fn refused_tcp_leaves_no_entry_as_in_the_kernel() {
    compare("tcp-refused");
}

#[test]
fn verdicts_give_each_packets_state() {
    let out = statewall(&[
        "replay",
        "--verdicts",
        fixture("ping.pcap").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let verdicts: Vec<&str> = text.lines().take_while(|l| !l.contains('=')).collect();
    assert_eq!(verdicts[0], "1 untracked (ARP)");
    assert_eq!(verdicts[2], "3 new");
    assert_eq!(verdicts[3], "4 established");
    assert!(verdicts.contains(&"10 related"), "{verdicts:?}");
}

#[test]
fn json_output_uses_routeros_fields() {
    let out = statewall(&[
        "replay",
        "--format",
        "json",
        fixture("curl-http.pcap").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let rows: Vec<shared::connection::ConnectionEntry> =
        serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r.id, "*1");
    assert_eq!(r.protocol, "tcp");
    assert_eq!(r.src_address, "198.51.100.10:40080");
    assert_eq!(r.dst_address, "203.0.113.2:8080");
    assert_eq!(r.tcp_state.as_deref(), Some("time-wait"));
    assert!(r.assured && r.seen_reply && r.confirmed);
    assert_eq!(r.orig_packets, 7);
    let raw: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(raw[0]["orig-packets"], "7");
    assert_eq!(raw[0]["timeout"], "10s");
}

#[test]
fn a_truncated_capture_names_the_packet_and_offset() {
    let bytes = std::fs::read(fixture("curl-http.pcap")).unwrap();
    let dir = std::env::temp_dir().join(format!("statewall-replay-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 20]).unwrap();
    let out = statewall(&["replay", cut.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("packet 14"), "{err}");
    assert!(err.contains("byte offset"), "{err}");
    let missing = statewall(&["replay", "/nonexistent/statewall.pcap"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/statewall.pcap"));
}
