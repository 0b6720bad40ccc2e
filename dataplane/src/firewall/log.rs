//! Firewall log lines (`log=yes`, `action=log`) in RouterOS's format, and their rate limit.
//!
//! The text is what RouterOS v7 writes under the `firewall,info` topics, as seen in published
//! router logs:
//!
//! ```text
//! <log-prefix> forward: in:ether2 out:ether1, connection-state:new src-mac 02:00:00:00:01:10, proto TCP (SYN), 198.51.100.10:40000->203.0.113.5:80, len 60
//! input: in:ether1 out:(unknown 0), connection-state:established,snat proto ICMP (type 8, code 0), 192.0.2.1->203.0.113.2, len 84
//! ```
//!
//! - The chain word is the base chain (hook) the packet is in, also for rules in user chains.
//! - A missing interface is `(unknown 0)`; `src-mac` is left out when the frame has none (output).
//! - `,snat` / `,dnat` follow the connection state when the connection is NATed.
//! - TCP flags are listed in the order RouterOS logs show them (`SYN,ACK`, `ACK,FIN,PSH`,
//!   `ACK,RST`); the place of URG, ECE and CWR is a guess. Other protocols are numbers
//!   (`proto 47`).
//! - Not written: the `NAT (…)` part RouterOS adds for NATed connections, since the rules see
//!   only the packet's current addresses.
//!
//! Rate limit: a token bucket of [`LOG_BURST`] lines refilled at [`LOG_PER_SEC`] lines a second
//! (a scan or flood logs its first hundred packets, then ten a second), and at most
//! [`LOG_QUEUE`] lines waiting to be drained. Lines over either limit are counted as suppressed,
//! never queued, so logging cannot grow memory or slow the packet path without bound.

use super::PacketView;
use crate::time::Instant;
use crate::wire::{L4, PROTO_ICMP, PROTO_TCP, PROTO_UDP};
use shared::config::nat_state;
use std::fmt::Write;

/// Lines that may be written at once after a quiet period.
pub const LOG_BURST: u64 = 100;
/// Lines a second in a sustained stream.
pub const LOG_PER_SEC: u64 = 10;
/// Lines kept until [`super::FirewallState::drain_logs`].
pub const LOG_QUEUE: usize = 1000;

const NS_PER_TOKEN: u64 = 1_000_000_000 / LOG_PER_SEC;

/// One firewall log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: Instant,
    pub text: String,
}

/// The pending lines and the token bucket.
#[derive(Debug)]
pub struct Logger {
    lines: Vec<LogLine>,
    /// Credit in nanoseconds of refill; one line costs [`NS_PER_TOKEN`].
    credit: u64,
    last: Option<Instant>,
    suppressed: u64,
}

impl Default for Logger {
    fn default() -> Self {
        Logger {
            lines: Vec::new(),
            credit: LOG_BURST * NS_PER_TOKEN,
            last: None,
            suppressed: 0,
        }
    }
}

impl Logger {
    /// Queues the line `text()` if the rate limit allows; `text` runs only then.
    pub fn log(&mut self, now: Instant, text: impl FnOnce() -> String) {
        let elapsed = self
            .last
            .map_or(0, |l| now.as_nanos().saturating_sub(l.as_nanos()));
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
        self.credit = self
            .credit
            .saturating_add(elapsed)
            .min(LOG_BURST * NS_PER_TOKEN);
        if self.credit < NS_PER_TOKEN || self.lines.len() >= LOG_QUEUE {
            self.suppressed += 1;
            return;
        }
        self.credit -= NS_PER_TOKEN;
        self.lines.push(LogLine {
            time: now,
            text: text(),
        });
    }

    pub fn drain(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.lines)
    }

    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }
}

/// RouterOS's order of TCP flags in log lines.
const FLAG_ORDER: [(u8, &str); 8] = [
    (0x02, "SYN"),
    (0x10, "ACK"),
    (0x01, "FIN"),
    (0x04, "RST"),
    (0x08, "PSH"),
    (0x20, "URG"),
    (0x40, "ECE"),
    (0x80, "CWR"),
];

/// The log line of `pkt` matched by a rule with `prefix`, in base chain `chain`.
pub fn format_line(prefix: &str, chain: &str, pkt: &PacketView, if_names: &[String]) -> String {
    let mut s = String::with_capacity(160);
    let name = |i: Option<u16>| {
        i.and_then(|i| if_names.get(usize::from(i)))
            .map_or("(unknown 0)", String::as_str)
    };
    if !prefix.is_empty() {
        s.push_str(prefix);
        s.push(' ');
    }
    let _ = write!(
        s,
        "{chain}: in:{} out:{}, connection-state:{}",
        name(pkt.in_iface),
        name(pkt.out_iface),
        pkt.ct_state.as_str()
    );
    if pkt.nat_state & nat_state::SRCNAT != 0 {
        s.push_str(",snat");
    }
    if pkt.nat_state & nat_state::DSTNAT != 0 {
        s.push_str(",dnat");
    }
    s.push(' ');
    if let Some(m) = pkt.src_mac {
        let _ = write!(
            s,
            "src-mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, ",
            m[0], m[1], m[2], m[3], m[4], m[5]
        );
    }
    let ip = pkt.ip;
    match ip.proto {
        PROTO_TCP => s.push_str("proto TCP"),
        PROTO_UDP => s.push_str("proto UDP"),
        PROTO_ICMP => s.push_str("proto ICMP"),
        p => {
            let _ = write!(s, "proto {p}");
        }
    }
    let ports = match ip.l4 {
        L4::Tcp(t) => {
            let mut sep = " (";
            for (bit, flag) in FLAG_ORDER {
                if t.flags & bit != 0 {
                    s.push_str(sep);
                    s.push_str(flag);
                    sep = ",";
                }
            }
            if sep == "," {
                s.push(')');
            }
            Some((t.sport, t.dport))
        }
        L4::Udp { sport, dport } => Some((sport, dport)),
        L4::Icmp(m) => {
            let (t, c) = match m {
                crate::wire::IcmpMeta::Query {
                    icmp_type, code, ..
                }
                | crate::wire::IcmpMeta::Error {
                    icmp_type, code, ..
                }
                | crate::wire::IcmpMeta::Other { icmp_type, code } => (icmp_type, code),
            };
            let _ = write!(s, " (type {t}, code {c})");
            None
        }
        L4::Other | L4::Fragment | L4::Malformed(_) => None,
    };
    let _ = match ports {
        Some((sp, dp)) => write!(s, ", {}:{sp}->{}:{dp}", ip.src, ip.dst),
        None => write!(s, ", {}->{}", ip.src, ip.dst),
    };
    let _ = write!(s, ", len {}", ip.total_len);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::CtState;
    use crate::firewall::tests::{icmp_echo, tcp, udp, view};
    use crate::wire::build::CLIENT_MAC;
    use crate::wire::tcp_flags::{ACK, FIN, PSH, SYN};

    fn names() -> Vec<String> {
        ["ether1", "ether2", "ether3"].map(String::from).to_vec()
    }

    #[test]
    fn tcp_line_as_routeros_writes_it() {
        let t = tcp("198.51.100.10", "203.0.113.5", 40000, 80, SYN);
        let mut v = view(&t, Some(1), Some(0), CtState::New);
        v.src_mac = Some(CLIENT_MAC);
        assert_eq!(
            format_line("web", "forward", &v, &names()),
            "web forward: in:ether2 out:ether1, connection-state:new src-mac 02:00:00:00:01:10, \
             proto TCP (SYN), 198.51.100.10:40000->203.0.113.5:80, len 40"
        );
        let t = tcp("198.51.100.10", "203.0.113.5", 40000, 80, ACK | FIN | PSH);
        let mut v = view(&t, Some(1), Some(0), CtState::Established);
        v.nat_state = nat_state::SRCNAT;
        assert_eq!(
            format_line("", "forward", &v, &names()),
            "forward: in:ether2 out:ether1, connection-state:established,snat \
             proto TCP (ACK,FIN,PSH), 198.51.100.10:40000->203.0.113.5:80, len 40"
        );
    }

    #[test]
    fn icmp_udp_and_missing_interfaces() {
        let e = icmp_echo();
        let v = view(&e, Some(0), None, CtState::New);
        assert_eq!(
            format_line("", "input", &v, &names()),
            "input: in:ether1 out:(unknown 0), connection-state:new \
             proto ICMP (type 8, code 0), 198.51.100.10->203.0.113.2, len 84"
        );
        let u = udp(53);
        let v = view(&u, None, Some(2), CtState::Untracked);
        assert_eq!(
            format_line("", "output", &v, &names()),
            "output: in:(unknown 0) out:ether3, connection-state:untracked \
             proto UDP, 198.51.100.10:5000->203.0.113.2:53, len 29"
        );
    }

    #[test]
    fn token_bucket_bursts_then_refills() {
        let mut l = Logger::default();
        let t0 = Instant::from_secs(10);
        for _ in 0..150 {
            l.log(t0, || "x".into());
        }
        assert_eq!(l.drain().len(), 100);
        assert_eq!(l.suppressed(), 50);
        // 1.05 s later: ten more lines' worth of credit.
        let t1 = Instant::from_millis(11_050);
        for _ in 0..20 {
            l.log(t1, || "y".into());
        }
        assert_eq!(l.drain().len(), 10);
        assert_eq!(l.suppressed(), 60);
        // A long quiet period refills to the burst, not beyond.
        let t2 = Instant::from_secs(1_000);
        for _ in 0..200 {
            l.log(t2, || "z".into());
        }
        assert_eq!(l.drain().len(), 100);
    }

    #[test]
    fn undrained_lines_are_capped() {
        let mut l = Logger::default();
        for i in 0..(LOG_QUEUE as u64 + 5) {
            // One line a second keeps the bucket full.
            l.log(Instant::from_secs(i), || "x".into());
        }
        assert_eq!(l.drain().len(), LOG_QUEUE);
        assert_eq!(l.suppressed(), 5);
    }
}
