//! The kernel as the reference: `conntrack -L` lines and the comparison of statewall's table with
//! the kernel's listing of the same traffic.

use std::collections::BTreeMap;
use std::path::Path;

/// A `conntrack -L` line, split into what statewall and the kernel must agree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub proto: String,
    pub timeout: u64,
    pub state: Option<String>,
    /// `src dst sport dport` (or `type code id`) and `packets bytes` of the original direction.
    pub orig: BTreeMap<String, String>,
    pub reply: BTreeMap<String, String>,
    pub unreplied: bool,
    pub assured: bool,
}

/// Parses one line of `conntrack -L` (plain or `-o extended`). `None` if it is not one.
pub fn parse_line(line: &str) -> Option<Line> {
    let mut words = line.split_whitespace().peekable();
    if words.peek() == Some(&"ipv4") {
        words.next();
        words.next();
    }
    let proto = words.next()?.to_string();
    words.next()?;
    let timeout = words.next()?.parse().ok()?;
    let mut l = Line {
        proto,
        timeout,
        state: None,
        orig: BTreeMap::new(),
        reply: BTreeMap::new(),
        unreplied: false,
        assured: false,
    };
    let mut srcs = 0;
    for w in words {
        match w {
            "[UNREPLIED]" => l.unreplied = true,
            "[ASSURED]" => l.assured = true,
            _ => match w.split_once('=') {
                Some((k, v)) => {
                    if k == "src" {
                        srcs += 1;
                    }
                    if k == "mark" || k == "use" {
                        continue;
                    }
                    let side = if srcs <= 1 { &mut l.orig } else { &mut l.reply };
                    side.insert(k.to_string(), v.to_string());
                }
                None => l.state = Some(w.to_string()),
            },
        }
    }
    Some(l)
}

/// The kernel's plain `conntrack -L` listing saved as `<name>.conntrack.txt` in `dir`.
pub fn kernel_lines(dir: &Path, name: &str) -> Vec<Line> {
    let path = dir.join(format!("{name}.conntrack.txt"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let plain = text.split("# conntrack -L\n").nth(1).unwrap_or("");
    plain.lines().filter_map(parse_line).collect()
}

/// Seconds from the capture's last frame to the moment the kernel listed its table.
pub fn listing_delay_secs(dir: &Path, name: &str) -> f64 {
    let t: f64 = std::fs::read_to_string(dir.join(format!("{name}.conntrack-time")))
        .expect("conntrack-time file")
        .trim()
        .parse()
        .expect("a number of seconds");
    let bytes = std::fs::read(dir.join(format!("{name}.pcap"))).expect("capture file");
    let cap = dataplane::drivers::pcap::read_capture(&bytes).expect("capture reads");
    let last = cap.frames.iter().map(|f| f.timestamp_ns).max().unwrap_or(0);
    t - last as f64 / 1e9
}

/// Asserts that statewall's table (`ours`, listed at the last frame) agrees with the kernel's:
/// the same entries, TCP states, original tuples and counters, reply tuples (but the reply
/// destination, which the kernel masqueraded and a plain replay does not), flags, and timeouts
/// once the delay before the kernel's listing is taken off.
pub fn assert_same_table(mut ours: Vec<Line>, dir: &Path, name: &str) {
    let mut kernel = kernel_lines(dir, name);
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
    let delay = listing_delay_secs(dir, name);
    for (o, k) in ours.iter().zip(&kernel) {
        assert_eq!(o.proto, k.proto, "{name}");
        assert_eq!(o.state, k.state, "{name}: TCP state");
        assert_eq!(o.orig, k.orig, "{name}: original tuple and counters");
        assert_eq!(
            (o.unreplied, o.assured),
            (k.unreplied, k.assured),
            "{name}: flags"
        );
        for f in [
            "src", "sport", "dport", "type", "code", "id", "packets", "bytes",
        ] {
            assert_eq!(o.reply.get(f), k.reply.get(f), "{name}: reply {f}");
        }
        let expected = o.timeout as f64 - delay;
        assert!(
            (k.timeout as f64 - expected).abs() <= 1.0,
            "{name}: timeout ours {} at the last frame, kernel {} listed {delay:.3} s later",
            o.timeout,
            k.timeout
        );
    }
}

/// Replays `<name>.pcap` from `dir` through connection tracking (as `statewall replay` does) and
/// lists the table as `conntrack -L` lines.
pub fn replay_lines(dir: &Path, name: &str) -> Vec<Line> {
    use dataplane::conntrack::{format, Conntrack, MAX_ENTRIES_CEILING};
    use dataplane::drivers::replay::{track_frame, ReplayOptions};
    use dataplane::time::Instant;
    use shared::tracking::{Enabled, TrackingSettings};
    let bytes = std::fs::read(dir.join(format!("{name}.pcap"))).expect("capture file");
    let cap = dataplane::drivers::pcap::read_capture(&bytes).expect("capture reads");
    let settings = TrackingSettings {
        enabled: Enabled::Yes,
        ..TrackingSettings::default()
    };
    let mut ct = Conntrack::new(settings, MAX_ENTRIES_CEILING);
    let mut now = Instant::ZERO;
    for f in &cap.frames {
        track_frame(&mut ct, f, ReplayOptions::default());
        now = now.max(Instant::from_nanos(f.timestamp_ns));
    }
    ct.expire(now);
    ct.entries(now)
        .filter_map(|c| parse_line(&format::conntrack_line(c, now)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_extended_lines() {
        let plain = "tcp      6 9 TIME_WAIT src=198.51.100.10 dst=203.0.113.2 sport=40080 dport=8080 packets=7 bytes=452 src=203.0.113.2 dst=203.0.113.1 sport=8080 dport=40080 packets=5 bytes=468 [ASSURED] mark=0 use=1";
        let l = parse_line(plain).unwrap();
        assert_eq!(
            (l.proto.as_str(), l.timeout, l.state.as_deref()),
            ("tcp", 9, Some("TIME_WAIT"))
        );
        assert_eq!(l.orig["sport"], "40080");
        assert_eq!(l.reply["dst"], "203.0.113.1");
        assert_eq!(l.reply["packets"], "5");
        assert!(l.assured && !l.unreplied);
        let ext = format!("ipv4     2 {plain}");
        assert_eq!(parse_line(&ext), Some(l));
        assert_eq!(parse_line("# comment"), None);
    }
}
