//! The kernel's packetdrill conntrack selftests (netfilter.md §5.15), ported to literal frames
//! through the engine.
//!
//! Source: `torvalds/linux`, `tools/testing/selftests/net/netfilter/packetdrill/*.pkt`, run by
//! `nf_conntrack_packetdrill.sh`. There packetdrill drives the local TCP stack through a tun
//! device and conntrack runs on that host: `<` lines are the remote peer's segments, injected
//! (PREROUTING, INPUT); `>` lines are the local stack's (OUTPUT). Here one engine sees both; the
//! conntrack original direction belongs to whoever sent the first SYN.
//!
//! How a script becomes frames:
//! - Packet lines are quoted from the script and read as packetdrill reads them: time, direction,
//!   flags (`S . P F R`), `seq:end(len)`, `ack`, `win`, and the two options conntrack reads,
//!   `wscale` and `sackOK` (`tcp_options()` looks at nothing else, so MSS and timestamps are left
//!   out of the frames).
//! - Sequence numbers are mapped as packetdrill's `socket.h` maps them: a SYN or SYN/ACK carries
//!   its sequence number as written, every other segment one relative to its sender's ISN, and an
//!   ACK number is relative to the ISN of the side it acknowledges (so absolute in the local
//!   stack's SYN/ACK). The remote ISN is that of the first SYN injected; the local one is chosen
//!   here, as the kernel picks its own.
//! - Times (`0.1` absolute, `+0.1` after the previous event) become the `Instant` passed in.
//! - `-m conntrack --ctstate INVALID -j DROP` in a chain: an invalid packet there is not
//!   delivered, so a reaction the script expects only when it passed is not fed.
//! - `conntrack -L -p tcp --dport 8080 | grep …` searches the engine's `conntrack -L` lines.
//! - Timeouts are the kernel's defaults (netfilter.md §1.5), which the selftests run with.
//!
//! A `>` line is where packetdrill *checks* for a packet; the kernel sent it when a syscall or a
//! timer did, which can be earlier. Packets go in script order; a `grep` that ran after the kernel
//! had already sent a later-listed packet is checked after that packet (said where it happens).

use dataplane::conntrack::format::conntrack_line;
use dataplane::conntrack::tcp::TcpState;
use dataplane::conntrack::{status, Conn, Conntrack, CtState, Tracked, PENDING};
use dataplane::time::Instant;
use dataplane::wire::build::{self, TcpSpec};
use dataplane::wire::tcp_flags::{ACK, CWR, ECE, FIN, PSH, RST, SYN, URG};
use dataplane::wire::{parse_ethernet_ipv4, ParseOptions, PROTO_TCP};
use shared::duration::Duration;
use shared::tracking::TrackingSettings;
use std::net::Ipv4Addr;

const NEW: CtState = CtState::New;
const ESTABLISHED: CtState = CtState::Established;
const INVALID: CtState = CtState::Invalid;

/// packetdrill's remote peer and the local host under test (as in the scripts' kernel logs).
const REMOTE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const LOCAL: Ipv4Addr = Ipv4Addr::new(192, 168, 24, 72);
/// The port the scripts' server listens on, or their client connects to.
const PORT: u16 = 8080;
/// The other end's ephemeral port.
const EPHEMERAL: u16 = 34500;
/// The local stack's ISN. The kernel's is random; with this one the old incarnation's ACK
/// number `643160523` wraps around 2^32 on the wire.
const LOCAL_ISN: u32 = 4_000_000_000;

const PAYLOAD: [u8; 1460] = [0; 1460];

/// The kernel's default TCP timeouts (`tcp_timeouts[]`); the rest as configured by default.
fn kernel_defaults() -> TrackingSettings {
    TrackingSettings {
        tcp_syn_sent_timeout: Duration::from_secs(120),
        tcp_syn_received_timeout: Duration::from_secs(60),
        tcp_established_timeout: Duration::from_secs(432_000),
        tcp_fin_wait_timeout: Duration::from_secs(120),
        tcp_close_wait_timeout: Duration::from_secs(60),
        tcp_last_ack_timeout: Duration::from_secs(30),
        tcp_time_wait_timeout: Duration::from_secs(120),
        tcp_close_timeout: Duration::from_secs(10),
        tcp_max_retrans_timeout: Duration::from_secs(300),
        tcp_unacked_timeout: Duration::from_secs(300),
        ..TrackingSettings::default()
    }
}

/// A script time (`0.055`, `.01`, `1`) in nanoseconds, read exactly.
fn nanos(s: &str) -> u64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= 9, "time {s}: finer than a nanosecond");
    let int: u64 = if int.is_empty() {
        0
    } else {
        int.parse().unwrap_or_else(|_| panic!("time {s}"))
    };
    let frac: u64 = format!("{frac:0<9}")
        .parse()
        .unwrap_or_else(|_| panic!("time {s}"));
    int * 1_000_000_000 + frac
}

/// One packet of a script line: `< S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,nop,wscale 8>`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    inbound: bool,
    flags: u8,
    seq: u32,
    len: u32,
    ack: u32,
    window: u16,
    wscale: Option<u8>,
    sack_perm: bool,
}

impl Segment {
    fn parse(text: &str) -> Segment {
        let bad = |what: &str| -> String { format!("packet line `{text}`: {what}") };
        let inbound = match text.chars().next() {
            Some('<') => true,
            Some('>') => false,
            _ => panic!("{}", bad("no direction")),
        };
        let rest = &text[1..];
        let (head, options) = match rest.find('<') {
            Some(i) => {
                let opts = rest[i + 1..].trim_end();
                let opts = opts
                    .strip_suffix('>')
                    .unwrap_or_else(|| panic!("{}", bad("<options")));
                (&rest[..i], opts)
            }
            None => (rest, ""),
        };
        let mut words = head.split_whitespace();
        let flags = words
            .next()
            .unwrap_or_else(|| panic!("{}", bad("no flags")))
            .chars()
            .fold(0, |f, c| {
                f | match c {
                    'S' => SYN,
                    '.' => ACK,
                    'P' => PSH,
                    'F' => FIN,
                    'R' => RST,
                    'U' => URG,
                    'E' => ECE,
                    'W' => CWR,
                    _ => panic!("{}", bad("unknown flag")),
                }
            });
        let range = words.next().unwrap_or_else(|| panic!("{}", bad("no seq")));
        let number = |s: &str| -> u32 { s.parse().unwrap_or_else(|_| panic!("{}", bad(s))) };
        let (seq, range_rest) = range
            .split_once(':')
            .unwrap_or_else(|| panic!("{}", bad("seq:end(len)")));
        let (end, len) = range_rest
            .strip_suffix(')')
            .and_then(|r| r.split_once('('))
            .unwrap_or_else(|| panic!("{}", bad("seq:end(len)")));
        let (seq, end, len) = (number(seq), number(end), number(len));
        assert_eq!(end, seq.wrapping_add(len), "{}", bad("end != seq + len"));
        let (mut ack, mut window) = (None, None);
        while let Some(word) = words.next() {
            let value = number(words.next().unwrap_or_else(|| panic!("{}", bad(word))));
            match word {
                "ack" => ack = Some(value),
                "win" => window = Some(u16::try_from(value).expect("a 16-bit window")),
                _ => panic!("{}", bad(word)),
            }
        }
        assert_eq!(ack.is_some(), flags & ACK != 0, "{}", bad("ack without ."));
        // packetdrill requires a window on injected packets; on the local stack's it may leave it
        // unchecked (here only on SYN/ACKs, whose window is never scaled): 65535 is used.
        assert!(
            !inbound || window.is_some(),
            "{}",
            bad("inbound without win")
        );
        let (mut wscale, mut sack_perm) = (None, false);
        for option in options.split(',').map(str::trim) {
            if let Some(shift) = option.strip_prefix("wscale ") {
                wscale = Some(shift.trim().parse().expect("a window scale"));
            } else if option == "sackOK" {
                sack_perm = true;
            }
        }
        Segment {
            inbound,
            flags,
            seq,
            len,
            ack: ack.unwrap_or(0),
            window: window.unwrap_or(65535),
            wscale,
            sack_perm,
        }
    }

    fn syn(&self) -> bool {
        self.flags & SYN != 0
    }
}

/// The `-m conntrack --ctstate INVALID -j DROP` rules a script installs.
#[derive(Debug, Clone, Copy)]
struct DropInvalid {
    input: bool,
    output: bool,
}

const INPUT_AND_OUTPUT: DropInvalid = DropInvalid {
    input: true,
    output: true,
};

/// The host packetdrill drives: the engine, the script clock, and the INVALID counters.
struct Drill {
    ct: Conntrack,
    /// Script time, in nanoseconds.
    t: u64,
    local_port: u16,
    remote_port: u16,
    rules: DropInvalid,
    /// The local stack's ISN on the wire, and the one the script writes (its first SYN's).
    local_isn: u32,
    script_local_isn: Option<u32>,
    /// The remote peer's ISN: the first injected SYN's, as written.
    remote_isn: Option<u32>,
    /// Packets marked INVALID: injected ones (with their flags), and the local stack's.
    invalid_in: Vec<(String, u8)>,
    invalid_out: Vec<String>,
}

impl Drill {
    fn new(local_port: u16, remote_port: u16, rules: DropInvalid) -> Self {
        Drill {
            ct: Conntrack::new(kernel_defaults(), 1024),
            t: 0,
            local_port,
            remote_port,
            rules,
            local_isn: LOCAL_ISN,
            script_local_isn: None,
            remote_isn: None,
            invalid_in: Vec::new(),
            invalid_out: Vec::new(),
        }
    }

    /// The local stack listens on 8080; the peer's SYN opens the connection.
    fn server(rules: DropInvalid) -> Self {
        Drill::new(PORT, EPHEMERAL, rules)
    }

    /// The local stack connects to the peer's 8080.
    fn client(rules: DropInvalid) -> Self {
        Drill::new(EPHEMERAL, PORT, rules)
    }

    fn now(&self) -> Instant {
        Instant::from_secs(1_000) + std::time::Duration::from_nanos(self.t)
    }

    /// Moves the script clock: `0.1` is absolute, `+0.1` after the previous event.
    fn at(&mut self, time: &str) {
        match time.strip_prefix('+') {
            Some(delta) => self.t += nanos(delta),
            None => self.t = nanos(time),
        }
    }

    /// The segment's sequence and ACK numbers on the wire (packetdrill's `socket.h`).
    fn wire_numbers(&mut self, s: &Segment) -> (u32, u32) {
        if s.inbound {
            if s.syn() && self.remote_isn.is_none() {
                self.remote_isn = Some(s.seq);
            }
        } else if s.syn() && self.script_local_isn.is_none() {
            self.script_local_isn = Some(s.seq);
        }
        let remote = if s.syn() {
            0
        } else {
            self.remote_isn.unwrap_or(0)
        };
        let local = if s.syn() {
            self.local_isn
                .wrapping_sub(self.script_local_isn.unwrap_or(0))
        } else {
            self.local_isn
        };
        let ack_offset = if s.flags & ACK == 0 {
            0
        } else if s.inbound {
            local
        } else {
            remote
        };
        let seq_offset = if s.inbound { remote } else { local };
        (
            s.seq.wrapping_add(seq_offset),
            s.ack.wrapping_add(ack_offset),
        )
    }

    /// Feeds one packet line (`[time] < …` or `[time] > …`). Returns what the engine said and
    /// whether the packet got through (not dropped by the script's INVALID rules).
    fn feed(&mut self, line: &str) -> (Tracked, bool) {
        let line = line.trim();
        let text = if line.starts_with(['<', '>']) {
            line
        } else {
            let (time, rest) = line
                .split_once(char::is_whitespace)
                .unwrap_or_else(|| panic!("packet line `{line}`"));
            self.at(time);
            rest.trim_start()
        };
        let seg = Segment::parse(text);
        let (seq, ack) = self.wire_numbers(&seg);
        let (src, dst, sport, dport) = if seg.inbound {
            (REMOTE, LOCAL, self.remote_port, self.local_port)
        } else {
            (LOCAL, REMOTE, self.local_port, self.remote_port)
        };
        let frame = build::tcp_frame(
            src,
            dst,
            TcpSpec {
                sport,
                dport,
                seq,
                ack,
                flags: seg.flags,
                window: seg.window,
                wscale: seg.wscale,
                sack_perm: seg.sack_perm,
                payload: &PAYLOAD[..seg.len as usize],
            },
        );
        let (_, ip) = parse_ethernet_ipv4(&frame, ParseOptions::default())
            .expect("the frame parses")
            .expect("the frame is IPv4");
        let tracked = self.ct.track(self.now(), &ip);
        let mut delivered = true;
        if tracked.state == INVALID {
            if seg.inbound {
                self.invalid_in.push((line.to_string(), seg.flags));
                delivered = !self.rules.input;
            } else {
                self.invalid_out.push(line.to_string());
                delivered = !self.rules.output;
            }
        }
        if tracked.conn.map(|f| f.slot) == Some(PENDING) {
            if delivered {
                self.ct.confirm();
            } else {
                self.ct.discard();
            }
        }
        (tracked, delivered)
    }

    /// Feeds a packet line and asserts its state word; returns whether it got through.
    fn expect(&mut self, line: &str, want: CtState) -> bool {
        let (tracked, delivered) = self.feed(line);
        assert_eq!(
            tracked.state,
            want,
            "`{line}` ({})",
            tracked.reason.unwrap_or("no reason given")
        );
        delivered
    }

    fn flows(&self) -> Vec<Conn<Ipv4Addr>> {
        let now = self.now();
        self.ct
            .entries(now)
            .filter(|c| c.orig().proto == PROTO_TCP && c.orig().dport == PORT)
            .copied()
            .collect()
    }

    /// `conntrack -L -p tcp --dport 8080`.
    fn conntrack_l(&self) -> Vec<String> {
        let now = self.now();
        self.flows()
            .iter()
            .map(|c| conntrack_line(c, now))
            .collect()
    }

    /// `conntrack -L -p tcp --dport 8080 | grep a | grep -q b` must succeed.
    fn grep(&self, words: &[&str]) {
        let lines = self.conntrack_l();
        assert!(
            lines.iter().any(|l| words.iter().all(|w| l.contains(w))),
            "conntrack -L | grep {words:?}: no match in {lines:#?}"
        );
    }

    /// The one entry `conntrack -L --dport 8080` lists.
    fn entry(&self) -> Conn<Ipv4Addr> {
        let flows = self.flows();
        assert_eq!(flows.len(), 1, "{:#?}", self.conntrack_l());
        flows[0]
    }

    fn tcp_state(&self) -> TcpState {
        self.entry().tcp().expect("a TCP entry").state
    }

    /// `iptables -v -S INPUT|OUTPUT | grep INVALID`: how many packets each rule matched.
    fn assert_invalid(&self, input: usize, output: usize) {
        assert_eq!(
            self.invalid_in.len(),
            input,
            "INPUT: {:#?}",
            self.invalid_in
        );
        assert_eq!(
            self.invalid_out.len(),
            output,
            "OUTPUT: {:#?}",
            self.invalid_out
        );
        assert_eq!(self.ct.counters().invalid, (input + output) as u64);
    }
}

/// `conntrack_ack_loss_stall.pkt`: a retransmission of data already acknowledged ("SEQ is under
/// the lower bound") must pass, so the server can answer it with a fresh ACK.
///
/// ```text
/// +0 `$xtables -A INPUT -m conntrack --ctstate INVALID -j DROP`
/// +0 < S 0:0(0) win 32792 <mss 1000>
/// +0 > S. 0:0(0) ack 1 <mss 1460>
/// +.01 < . 1:1(0) ack 1 win 65535
/// +0.0001 < P. 1:1461(1460) ack 1 win 257          (46 segments in order, up to
/// +.0 > . 1:1(0) ack 1461 win 65535                  65701:67161, each ACKed)
/// +0.0001 < P. 1:1461(1460) ack 1 win 257          (the first one again)
/// // only sent if above packet isn't flagged as invalid
/// +.0 > . 1:1(0) ack 67161 win 65535
/// ```
#[test]
fn conntrack_ack_loss_stall() {
    let mut d = Drill::server(DropInvalid {
        input: true,
        output: false,
    });
    d.expect("+0 < S 0:0(0) win 32792 <mss 1000>", NEW);
    d.expect("+0 > S. 0:0(0) ack 1 <mss 1460>", ESTABLISHED);
    d.expect("+.01 < . 1:1(0) ack 1 win 65535", ESTABLISHED);
    for k in 0..46u32 {
        let (from, to) = (1 + 1460 * k, 1 + 1460 * (k + 1));
        d.expect(
            &format!("+0.0001 < P. {from}:{to}(1460) ack 1 win 257"),
            ESTABLISHED,
        );
        // The script gives this one ACK an absolute time.
        let at = if to == 24821 { "0.055" } else { "+.0" };
        d.expect(&format!("{at} > . 1:1(0) ack {to} win 65535"), ESTABLISHED);
    }

    // nf_ct_proto_6: SEQ is under the lower bound (already ACKed data retransmitted)
    let passed = d.expect("+0.0001 < P. 1:1461(1460) ack 1 win 257", ESTABLISHED);
    // Let through without moving conntrack's view of the stream back (IGNORE, not INVALID).
    let c = d.entry();
    assert_eq!(c.tcp().expect("TCP").seen[0].end, 67161);
    // only sent if above packet isn't flagged as invalid
    if passed {
        d.expect("+.0 > . 1:1(0) ack 67161 win 65535", ESTABLISHED);
    }

    d.assert_invalid(0, 0);
    assert_eq!(d.tcp_state(), TcpState::Established);
    assert!(d.entry().has(status::ASSURED));
}

/// `conntrack_inexact_rst.pkt`: after the peer's FIN (CLOSE_WAIT) the local RST closes the
/// entry, and a later peer RST with an inexact sequence number is not INVALID, the entry being
/// already closing.
///
/// ```text
/// 0.1 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>
/// +0.1 < S. 1:1(0) ack 1 win 65535 <mss 1460>
/// ... 3000 bytes in, acked; 1000 bytes out ...
/// +0 < F. 3001:3001(0) ack 1001 win 65535
/// +0 >  . 1001:1001(0) ack 3002 win 65535
/// +0 `conntrack … |grep -q CLOSE_WAIT`
/// +1 close(3) = 0
/// +0 > R. 1001:1001(0) ack 3002 win 65535
/// +0 `conntrack … |grep -q CLOSE\ `
/// +0.1 < R 2001:2001(0) win 0
/// // No packets should have been marked INVALID   (INPUT and OUTPUT: -c 0 0)
/// ```
#[test]
fn conntrack_inexact_rst() {
    let mut d = Drill::client(INPUT_AND_OUTPUT);
    d.expect(
        "0.1 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>",
        NEW,
    );
    d.expect("+0.1 < S. 1:1(0) ack 1 win 65535 <mss 1460>", ESTABLISHED);
    d.expect("+0 > . 1:1(0) ack 1 win 65535", ESTABLISHED);
    d.expect("+0 < . 1:1001(1000) ack 1 win 65535", ESTABLISHED);
    d.expect("+0 < . 1001:2001(1000) ack 1 win 65535", ESTABLISHED);
    d.expect("+0 < . 2001:3001(1000) ack 1 win 65535", ESTABLISHED);
    d.expect("+0 > . 1:1(0) ack 1001 win 65535", ESTABLISHED);
    d.expect("+0 > . 1:1(0) ack 2001 win 65535", ESTABLISHED);
    d.expect("+0 > . 1:1(0) ack 3001 win 65535", ESTABLISHED);
    // +0 write(3, ..., 1000) = 1000
    d.expect("+0.0 > P. 1:1001(1000) ack 3001 win 65535", ESTABLISHED);
    d.at("+0.1"); // read(3, ..., 1000) = 1000

    // Conntrack should move to FIN_WAIT, then CLOSE_WAIT.
    d.expect("+0 < F. 3001:3001(0) ack 1001 win 65535", ESTABLISHED);
    assert_eq!(d.tcp_state(), TcpState::FinWait);
    d.expect("+0 >  . 1001:1001(0) ack 3002 win 65535", ESTABLISHED);
    d.grep(&["CLOSE_WAIT"]);

    // +1 close(3) = 0
    d.at("+1");
    // RST: unread data. FIN was seen, hence ack + 1
    d.expect("+0 > R. 1001:1001(0) ack 3002 win 65535", ESTABLISHED);
    // ... and then, CLOSE.
    d.grep(&["CLOSE "]);

    // Spurious RST from peer -- no sk state.  Should NOT get
    // marked INVALID, because conntrack is already closing.
    d.expect("+0.1 < R 2001:2001(0) win 0", ESTABLISHED);
    d.grep(&["CLOSE "]);
    assert_eq!(d.tcp_state(), TcpState::Close);

    // No packets should have been marked INVALID
    d.assert_invalid(0, 0);
}

/// `conntrack_rst_invalid.pkt`: RSTs below the next expected sequence number (`0`, `42`, and
/// `R. 3000` one short of 3001) or beyond the window (`1000000`) are INVALID and leave the entry
/// ESTABLISHED; the exact `R. 3001` closes it.
///
/// ```text
/// 0.1 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>
/// +0.1 < S. 1:1(0) ack 1 win 65535 <mss 1460>
/// ... 3000 bytes in, acked; write 1000 ...
/// +0.0 < R 0:0(0) win 0                 (out of window)
/// +0.0 < R 1000000:1000000(0) win 0     (out of window)
/// +0.0 < R 42:42(0) win 0               (in-window but not exact match)
/// +0.0 > P. 1:1001(1000) ack 3001 win 65535
/// +0 < . 3001:3001(0) ack 1001 win 65535
/// +0.0 < R. 3000:3000(0) ack 1001 win 0
/// +0.0 < R. 3001:3001(0) ack 1001 win 0 (exact next sequence)
/// // Expect four invalid RSTs             (INPUT -c 4, OUTPUT -c 0 0, then grep CLOSE\ )
/// ```
///
/// The data segment leaves at `write()`, before the RSTs, though the script checks for it after
/// them; conntrack's verdicts are the same either way (the RSTs are judged against the local
/// side's highest ACK, 3001, and its window, which that segment does not move).
#[test]
fn conntrack_rst_invalid() {
    let mut d = Drill::client(INPUT_AND_OUTPUT);
    d.expect(
        "0.1 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>",
        NEW,
    );
    d.expect("+0.1 < S. 1:1(0) ack 1 win 65535 <mss 1460>", ESTABLISHED);
    d.expect("+0 > . 1:1(0) ack 1 win 65535", ESTABLISHED);
    d.expect("+0 < . 1:1001(1000) ack 1 win 65535", ESTABLISHED);
    d.expect("+0 < . 1001:2001(1000) ack 1 win 65535", ESTABLISHED);
    d.expect("+0 < . 2001:3001(1000) ack 1 win 65535", ESTABLISHED);
    d.expect("+0 > . 1:1(0) ack 1001 win 65535", ESTABLISHED);
    d.expect("+0 > . 1:1(0) ack 2001 win 65535", ESTABLISHED);
    d.expect("+0 > . 1:1(0) ack 3001 win 65535", ESTABLISHED);
    // +0 write(3, ..., 1000) = 1000

    // out of window
    d.expect("+0.0 < R 0:0(0) win 0", INVALID);
    d.grep(&["ESTABLISHED"]);
    // out of window
    d.expect("+0.0 < R 1000000:1000000(0) win 0", INVALID);
    d.grep(&["ESTABLISHED"]);
    // in-window but not exact match
    d.expect("+0.0 < R 42:42(0) win 0", INVALID);
    d.grep(&["ESTABLISHED"]);

    d.expect("+0.0 > P. 1:1001(1000) ack 3001 win 65535", ESTABLISHED);
    d.at("+0.1"); // read(3, ..., 1000) = 1000
    d.grep(&["ESTABLISHED"]);

    d.expect("+0 < . 3001:3001(0) ack 1001 win 65535", ESTABLISHED);
    d.expect("+0.0 < R. 3000:3000(0) ack 1001 win 0", INVALID);
    d.grep(&["ESTABLISHED"]);
    assert_eq!(d.tcp_state(), TcpState::Established);

    // exact next sequence
    d.expect("+0.0 < R. 3001:3001(0) ack 1001 win 0", ESTABLISHED);
    // Conntrack should move to CLOSE

    // Expect four invalid RSTs
    d.assert_invalid(4, 0);
    assert!(d.invalid_in.iter().all(|(_, flags)| flags & RST != 0));
    d.grep(&["CLOSE "]);
    assert_eq!(d.tcp_state(), TcpState::Close);
}

/// `conntrack_syn_challenge_ack.pkt`: the peer answers the SYN with a challenge ACK from an old
/// incarnation; conntrack lets everything pass (the ACK, the local RST, the SYN again), and the
/// new connection gets established.
///
/// ```text
/// 0.1 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>
/// // Challenge ACK, old incarnation.
/// 0.1 < . 145824453:145824453(0) ack 643160523 win 240 <mss 1460,nop,nop,TS val 1 ecr 1,nop,wscale 0>
/// +0.01 > R 643160523:643160523(0) win 0
/// +0.01 `conntrack … | grep UNREPLIED | grep -q SYN_SENT`
/// // Must go through.
/// +0.01 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>
/// // correct synack
/// +0.1 < S. 0:0(0) ack 1 win 250 <mss 1460,nop,nop,TS val 1 ecr 1,nop,wscale 0>
/// // 3whs completes.
/// +0.01 > . 1:1(0) ack 1 win 256 <nop,nop,TS val 1 ecr 1>
/// +0 `conntrack … | grep ESTABLISHED | grep -q ASSURED`
/// // No packets should have been marked INVALID   (INPUT and OUTPUT: -c 0 0)
/// ```
///
/// The `grep UNREPLIED` is checked after the second SYN: having answered the bad ACK with a RST,
/// the kernel re-arms the SYN timer to `TCP_TIMEOUT_MIN` (`tcp_rcv_synsent_state_process`:
/// "Previous FIN/ACK or RST/ACK might be ignored"), so that SYN leaves a few milliseconds after
/// the RST, before the grep at 0.12; packetdrill matches it to the 0.13 line within its 1 s
/// tolerance. Between the RST and that SYN the entry is CLOSE; the SYN replaces it.
#[test]
fn conntrack_syn_challenge_ack() {
    let mut d = Drill::client(INPUT_AND_OUTPUT);
    d.expect(
        "0.1 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>",
        NEW,
    );
    // Challenge ACK, old incarnation.
    let passed = d.expect(
        "0.1 < . 145824453:145824453(0) ack 643160523 win 240 \
         <mss 1460,nop,nop,TS val 1 ecr 1,nop,wscale 0>",
        ESTABLISHED,
    );
    // The local stack's answers to that ACK: a RST, then its SYN again.
    if passed {
        d.expect("+0.01 > R 643160523:643160523(0) win 0", ESTABLISHED);
        // Must go through.
        d.expect(
            "+0.01 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>",
            NEW,
        );
    }
    d.grep(&["UNREPLIED", "SYN_SENT"]);
    assert_eq!(d.tcp_state(), TcpState::SynSent);
    assert_eq!(
        d.ct.counters().killed,
        1,
        "the SYN reopened the closed entry"
    );

    // correct synack
    d.expect(
        "+0.1 < S. 0:0(0) ack 1 win 250 <mss 1460,nop,nop,TS val 1 ecr 1,nop,wscale 0>",
        ESTABLISHED,
    );
    // 3whs completes.
    d.expect(
        "+0.01 > . 1:1(0) ack 1 win 256 <nop,nop,TS val 1 ecr 1>",
        ESTABLISHED,
    );
    d.grep(&["ESTABLISHED", "ASSURED"]);
    assert_eq!(d.tcp_state(), TcpState::Established);

    // No packets should have been marked INVALID
    d.assert_invalid(0, 0);
}

/// `conntrack_synack_old.pkt`: the SYN is answered by a SYN/ACK of an old incarnation (wrong
/// ACK number), which is INVALID; the SYN is sent again and the correct SYN/ACK, sequence number
/// 65535 below the bogus one, must be accepted.
///
/// ```text
/// 0.1 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>
/// // bogus/outdated synack, invalid ack value
/// 0.1 < S. 145824453:145824453(0) ack 643160523 win 240 <mss 1440,nop,nop,TS val 1 ecr 1,nop,wscale 0>
/// // syn retransmitted
/// 1.01 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1015 ecr 0,nop,wscale 8>
/// +0 `conntrack … | grep UNREPLIED | grep -q SYN_SENT`
/// // correct synack
/// +0 < S. 145758918:145758918(0) ack 1 win 250 <mss 1460,nop,nop,TS val 1 ecr 1,nop,wscale 0>
/// +0 write(3, ..., 1) = 1
/// +0 `conntrack … | grep ESTABLISHED | grep -q ASSURED`
/// +0 > P. 1:2(1) ack 4294901762 win 256 <nop,nop,TS val 1067 ecr 1>
/// +0 `conntrack … | grep ASSURED | grep -q ESTABLISHED`
/// // No packets should have been marked INVALID in OUTPUT direction, 1 in INPUT
/// ```
///
/// `ack 4294901762` is relative to the remote ISN packetdrill took from the first SYN/ACK: on the
/// wire it is 145758919. The first `grep ESTABLISHED` is checked after the data segment, which
/// `write()` had sent by then (the SYN/ACK's answer is what makes the entry ESTABLISHED).
#[test]
fn conntrack_synack_old() {
    let mut d = Drill::client(INPUT_AND_OUTPUT);
    d.expect(
        "0.1 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>",
        NEW,
    );
    // bogus/outdated synack, invalid ack value
    d.expect(
        "0.1 < S. 145824453:145824453(0) ack 643160523 win 240 \
         <mss 1440,nop,nop,TS val 1 ecr 1,nop,wscale 0>",
        INVALID,
    );
    // syn retransmitted
    d.expect(
        "1.01 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1015 ecr 0,nop,wscale 8>",
        NEW,
    );
    d.grep(&["UNREPLIED", "SYN_SENT"]);

    // correct synack
    let passed = d.expect(
        "+0 < S. 145758918:145758918(0) ack 1 win 250 \
         <mss 1460,nop,nop,TS val 1 ecr 1,nop,wscale 0>",
        ESTABLISHED,
    );
    assert_eq!(d.tcp_state(), TcpState::SynRecv);
    // +0 write(3, ..., 1) = 1
    // with buggy conntrack above packet is dropped, so SYN rtx is seen
    if passed {
        d.expect(
            "+0 > P. 1:2(1) ack 4294901762 win 256 <nop,nop,TS val 1067 ecr 1>",
            ESTABLISHED,
        );
    }
    d.grep(&["ESTABLISHED", "ASSURED"]);
    assert_eq!(d.tcp_state(), TcpState::Established);

    // No packets should have been marked INVALID in OUTPUT direction, 1 in INPUT
    d.assert_invalid(1, 0);
}

/// `conntrack_synack_reuse.pkt`: an established server connection receives a SYN with another
/// ISN (port reuse); the server's challenge ACK passes, the client's RST clears the state, and
/// the SYN sent again gives a new SYN_RECV entry. No SYN/ACK may be INVALID.
///
/// ```text
/// +0 `iptables -A INPUT -m conntrack --ctstate INVALID -p tcp --tcp-flags SYN,ACK SYN,ACK`
/// +0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7, TS val 1 ecr 0,nop,nop>
/// +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,TS val 100 ecr 1,nop,wscale 8>
/// +.01 < . 1:1(0) ack 1 win 257 <TS val 1 ecr 100,nop,nop>
/// +0 < P. 1:101(100) ack 1 win 257 <TS val 2 ecr 100,nop,nop>
/// +.001 > . 1:1(0) ack 101 win 256 <nop,nop,TS val 110 ecr 2>
/// 1.0 < S 2000:2000(0) win 32792 <mss 1000,nop,wscale 7, TS val 233 ecr 0,nop,nop>
/// +0 > . 1:1(0) ack 101 win 256 <nop,nop,TS val 112 ecr 2>
/// +0 < R. 101:101(0) ack 1 win 257
/// 1.5 < S 2000:2000(0) win 32792 <mss 1000,nop,wscale 0, TS val 233 ecr 0,nop,nop>
/// +0 `conntrack … | grep -q SYN_RECV`
/// +0 `iptables -v -S INPUT | grep INVALID | grep -q -- "-c 0 0"`
/// ```
///
/// The rule only counts (no `-j DROP`). SYN_RECV is reached by the listener's SYN/ACK to the last
/// SYN, which the kernel sends as soon as that SYN is delivered, before the grep; the script
/// leaves it out (packetdrill stops checking there), so it is written here with a new ISN.
#[test]
fn conntrack_synack_reuse() {
    let mut d = Drill::server(DropInvalid {
        input: false,
        output: false,
    });
    d.expect(
        "+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7, TS val 1 ecr 0,nop,nop>",
        NEW,
    );
    d.expect(
        "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,TS val 100 ecr 1,nop,wscale 8>",
        ESTABLISHED,
    );
    d.expect(
        "+.01 < . 1:1(0) ack 1 win 257 <TS val 1 ecr 100,nop,nop>",
        ESTABLISHED,
    );
    d.expect(
        "+0 < P. 1:101(100) ack 1 win 257 <TS val 2 ecr 100,nop,nop>",
        ESTABLISHED,
    );
    d.expect(
        "+.001 > . 1:1(0) ack 101 win 256 <nop,nop,TS val 110 ecr 2>",
        ESTABLISHED,
    );
    assert!(d.entry().has(status::ASSURED));

    d.expect(
        "1.0 < S 2000:2000(0) win 32792 <mss 1000,nop,wscale 7, TS val 233 ecr 0,nop,nop>",
        ESTABLISHED,
    );
    assert_eq!(d.tcp_state(), TcpState::Established, "the SYN is ignored");
    // Won't expect this: challenge ack.
    d.expect(
        "+0 > . 1:1(0) ack 101 win 256 <nop,nop,TS val 112 ecr 2>",
        ESTABLISHED,
    );
    d.expect("+0 < R. 101:101(0) ack 1 win 257", ESTABLISHED);
    assert_eq!(d.tcp_state(), TcpState::Close, "the RST clears the state");
    // +0 close(4) = 0

    d.expect(
        "1.5 < S 2000:2000(0) win 32792 <mss 1000,nop,wscale 0, TS val 233 ecr 0,nop,nop>",
        NEW,
    );
    assert_eq!(
        d.ct.counters().killed,
        1,
        "the SYN replaced the closed entry"
    );
    // Not in the script: the listener's SYN/ACK to that SYN, from a new ISN.
    d.local_isn = 2_500_000_000;
    d.expect(
        "+0 > S. 0:0(0) ack 2001 <mss 1460,nop,nop,TS val 300 ecr 233,nop,wscale 8>",
        ESTABLISHED,
    );
    d.grep(&["SYN_RECV"]);
    assert_eq!(d.tcp_state(), TcpState::SynRecv);

    let invalid_synacks = d
        .invalid_in
        .iter()
        .filter(|(_, flags)| flags & (SYN | ACK) == SYN | ACK)
        .count();
    assert_eq!(invalid_synacks, 0, "-c 0 0");
    d.assert_invalid(0, 0);
}
