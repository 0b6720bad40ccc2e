//! `statewall replay` on real captures (made by `e2e/scripts/make-fixtures.sh` in network
//! namespaces, with the Linux kernel as the router), compared with what the kernel's own
//! conntrack listed for the same traffic (`<name>.conntrack.txt`).

use std::collections::BTreeMap;
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

/// A `conntrack -L` line, split into what both sides must agree on.
#[derive(Debug, PartialEq)]
struct Line {
    proto: String,
    timeout: u64,
    state: Option<String>,
    orig: BTreeMap<String, String>,
    reply: BTreeMap<String, String>,
    unreplied: bool,
    assured: bool,
}

fn parse_line(line: &str) -> Line {
    let mut words = line.split_whitespace().peekable();
    if words.peek() == Some(&"ipv4") {
        words.next();
        words.next();
    }
    let proto = words.next().unwrap().to_string();
    words.next();
    let timeout = words.next().unwrap().parse().unwrap();
    let mut state = None;
    let (mut orig, mut reply) = (BTreeMap::new(), BTreeMap::new());
    let (mut unreplied, mut assured) = (false, false);
    let mut srcs = 0;
    for w in words {
        match w {
            "[UNREPLIED]" => unreplied = true,
            "[ASSURED]" => assured = true,
            _ => match w.split_once('=') {
                Some(("src", _)) => {
                    srcs += 1;
                    let side = if srcs == 1 { &mut orig } else { &mut reply };
                    side.insert("src".into(), w[4..].to_string());
                }
                Some((k, v)) if k != "mark" && k != "use" => {
                    let side = if srcs <= 1 { &mut orig } else { &mut reply };
                    side.insert(k.to_string(), v.to_string());
                }
                Some(_) => {}
                None => state = Some(w.to_string()),
            },
        }
    }
    Line {
        proto,
        timeout,
        state,
        orig,
        reply,
        unreplied,
        assured,
    }
}

fn kernel_lines(name: &str) -> Vec<Line> {
    let text = std::fs::read_to_string(fixture(&format!("{name}.conntrack.txt"))).unwrap();
    // The file holds `-o extended` then plain; take the plain section.
    let plain = text.split("# conntrack -L\n").nth(1).unwrap_or("");
    plain
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_line)
        .collect()
}

/// The capture's last frame time and the time the kernel's table was listed.
fn listing_delay_secs(name: &str) -> f64 {
    let t: f64 = std::fs::read_to_string(fixture(&format!("{name}.conntrack-time")))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let bytes = std::fs::read(fixture(&format!("{name}.pcap"))).unwrap();
    let cap = dataplane::drivers::pcap::read_capture(&bytes).unwrap();
    let last = cap.frames.iter().map(|f| f.timestamp_ns).max().unwrap();
    t - last as f64 / 1e9
}

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
        .map(parse_line)
        .collect()
}

/// The capture was taken on the router's LAN port while the kernel masqueraded, so the kernel's
/// reply destination is the router's WAN address; statewall replays without NAT.
fn compare(name: &str) {
    let mut ours = replay_lines(name);
    let mut kernel = kernel_lines(name);
    let key = |l: &Line| {
        (
            l.proto.clone(),
            l.orig.get("sport").cloned(),
            l.orig.get("id").cloned(),
        )
    };
    ours.sort_by_key(key);
    kernel.sort_by_key(key);
    assert_eq!(
        ours.len(),
        kernel.len(),
        "{name}: entries\nours: {ours:#?}\nkernel: {kernel:#?}"
    );
    let delay = listing_delay_secs(name);
    for (o, k) in ours.iter().zip(&kernel) {
        assert_eq!(o.proto, k.proto, "{name}");
        assert_eq!(o.state, k.state, "{name}: TCP state");
        assert_eq!(o.orig, k.orig, "{name}: original tuple and counters");
        assert_eq!(
            (o.unreplied, o.assured),
            (k.unreplied, k.assured),
            "{name}: flags"
        );
        for f in ["src", "sport", "dport", "type", "code", "id"] {
            assert_eq!(o.reply.get(f), k.reply.get(f), "{name}: reply {f}");
        }
        // The kernel listed its table `delay` seconds after the last frame; timeouts are whole
        // seconds rounded down on both sides.
        let expected = o.timeout as f64 - delay;
        assert!(
            (k.timeout as f64 - expected).abs() <= 1.0,
            "{name}: timeout ours {} at the last frame, kernel {} {delay:.3} s later",
            o.timeout,
            k.timeout
        );
    }
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
