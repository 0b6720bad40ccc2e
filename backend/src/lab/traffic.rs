//! The lab's traffic: a bounded, rate-limited mix that keeps the connection table and the
//! counters moving without loading the box (about three actions a second in all, plus one
//! download at a fixed rate).
//!
//! - each PC, every [`PC_PERIOD`], in turn: a page from the internet server, a DNS-like query,
//!   a ping, a page through the port forward from inside the LAN (hairpin NAT);
//! - the WAN, every [`WAN_PERIOD`], in turn: pages through the port forward, and now and then an
//!   unsolicited SYN to a PC or to the router, which the firewall should drop;
//! - one PC downloads [`DOWNLOAD_BYTES`] at [`DOWNLOAD_RATE`], again and again.
//!
//! Each worker is a thread inside its host's namespace. The servers report the address they saw,
//! so a page only counts as loaded when the NAT did its part (masquerade to the router's WAN
//! address, hairpin masquerade to its LAN address, the port forward keeping the source).

use super::servers::{check_dns_reply, head_end, DNS_MARKER};
use super::{
    Node, INTERNET_DNS, INTERNET_HTTP, INTERNET_SERVER_NAME, ISP, PC_ADDRS, PORT_FORWARD_PORT,
    ROUTER_LAN, ROUTER_WAN, WEB_SERVER_NAME,
};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How often each PC acts.
pub const PC_PERIOD: Duration = Duration::from_millis(1500);
/// How often the WAN acts.
pub const WAN_PERIOD: Duration = Duration::from_millis(1500);
/// The size of the long download.
pub const DOWNLOAD_BYTES: u64 = 32 << 20;
/// Its rate, in bytes per second.
pub const DOWNLOAD_RATE: u64 = 4 << 20;
/// Connect, read and write timeout of one request.
const IO_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a WAN probe waits for an answer before it counts as dropped.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// The largest page read.
const MAX_PAGE: u64 = 64 * 1024;
/// How often sleeps look at the stop flag.
const POLL: Duration = Duration::from_millis(50);

/// One kind of traffic, counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A PC loads a page from the internet server (masqueraded).
    Page,
    /// A PC asks the DNS-like server (UDP, masqueraded).
    Dns,
    /// A PC pings the internet server.
    Ping,
    /// A PC downloads a large file at a limited rate.
    Download,
    /// The WAN loads the LAN web server's page through the port forward.
    PortForward,
    /// A PC loads the LAN web server's page through the port forward (hairpin NAT).
    Hairpin,
    /// The WAN sends an unsolicited SYN to a PC or to the router: the firewall should drop it.
    WanProbe,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Page,
        Kind::Dns,
        Kind::Ping,
        Kind::Download,
        Kind::PortForward,
        Kind::Hairpin,
        Kind::WanProbe,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Page => "page",
            Kind::Dns => "dns",
            Kind::Ping => "ping",
            Kind::Download => "download",
            Kind::PortForward => "port-forward",
            Kind::Hairpin => "hairpin",
            Kind::WanProbe => "wan-probe",
        }
    }

    fn index(self) -> usize {
        Kind::ALL.iter().position(|&k| k == self).unwrap_or(0)
    }
}

/// How one action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It worked (for a probe: the target answered the SYN with a SYN-ACK).
    Ok,
    /// The connection was refused (a RST came back, or ICMP unreachable).
    Refused,
    /// Nothing came back in time: for a probe, the firewall dropped it.
    TimedOut,
    /// Anything else, with what went wrong.
    Failed(String),
}

impl Outcome {
    fn from_io(e: &io::Error) -> Outcome {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => Outcome::Refused,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Outcome::TimedOut,
            _ => Outcome::Failed(e.to_string()),
        }
    }
}

/// The counts of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCount {
    pub ok: u64,
    pub refused: u64,
    pub timed_out: u64,
    pub failed: u64,
}

impl KindCount {
    /// Everything that was not a success.
    pub fn not_ok(&self) -> u64 {
        self.refused + self.timed_out + self.failed
    }
}

/// The counts of every kind at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub kinds: [KindCount; 7],
    pub download_bytes: u64,
}

impl Snapshot {
    pub fn get(&self, kind: Kind) -> KindCount {
        self.kinds[kind.index()]
    }

    /// One line: `page 12 ok | dns 12 ok | … | wan-probe 0 answered, 4 dropped`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = Kind::ALL
            .iter()
            .map(|&kind| {
                let c = self.get(kind);
                let mut s = if kind == Kind::WanProbe {
                    let mut s = format!(
                        "{} {} answered, {} dropped",
                        kind.name(),
                        c.ok + c.refused,
                        c.timed_out
                    );
                    if c.failed > 0 {
                        s.push_str(&format!(", {} failed", c.failed));
                    }
                    s
                } else {
                    let mut s = format!("{} {} ok", kind.name(), c.ok);
                    if c.not_ok() > 0 {
                        s.push_str(&format!(", {} failed", c.not_ok()));
                    }
                    s
                };
                if kind == Kind::Download {
                    s.push_str(&format!(
                        " ({:.1} MiB)",
                        self.download_bytes as f64 / f64::from(1 << 20)
                    ));
                }
                s
            })
            .collect();
        parts.join(" | ")
    }
}

/// The running counts, shared by the workers.
#[derive(Debug, Default)]
pub struct Stats {
    counts: [[AtomicU64; 4]; 7],
    download_bytes: AtomicU64,
    last_error: Mutex<[Option<String>; 7]>,
}

impl Stats {
    pub fn record(&self, kind: Kind, outcome: &Outcome) {
        let slot = match outcome {
            Outcome::Ok => 0,
            Outcome::Refused => 1,
            Outcome::TimedOut => 2,
            Outcome::Failed(_) => 3,
        };
        self.counts[kind.index()][slot].fetch_add(1, Ordering::Relaxed);
        let detail = match outcome {
            Outcome::Ok => return,
            Outcome::Refused => "connection refused".to_string(),
            Outcome::TimedOut => "timed out".to_string(),
            Outcome::Failed(e) => e.clone(),
        };
        if let Ok(mut last) = self.last_error.lock() {
            last[kind.index()] = Some(detail);
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut snap = Snapshot {
            download_bytes: self.download_bytes.load(Ordering::Relaxed),
            ..Snapshot::default()
        };
        for (c, counts) in snap.kinds.iter_mut().zip(&self.counts) {
            let [ok, refused, timed_out, failed] =
                counts.each_ref().map(|a| a.load(Ordering::Relaxed));
            *c = KindCount {
                ok,
                refused,
                timed_out,
                failed,
            };
        }
        snap
    }

    /// The last thing that went wrong, per kind (for a probe, a drop is what should happen).
    pub fn last_errors(&self) -> Vec<(Kind, String)> {
        let Ok(last) = self.last_error.lock() else {
            return Vec::new();
        };
        Kind::ALL
            .iter()
            .filter_map(|&k| Some((k, last[k.index()].clone()?)))
            .collect()
    }
}

/// Starts the workers, each in its namespace; `ns` names a node's namespace.
pub(crate) fn start(
    ns: &dyn Fn(Node) -> String,
    stop: &Arc<AtomicBool>,
    stats: &Arc<Stats>,
) -> io::Result<Vec<(String, JoinHandle<()>)>> {
    let mut workers = Vec::new();
    for (i, pc) in [Node::Pc1, Node::Pc2, Node::Pc3].into_iter().enumerate() {
        let name = format!("traffic-{}", pc.suffix());
        let (pc_ns, stop, stats) = (ns(pc), stop.clone(), stats.clone());
        let handle =
            super::netns::spawn_in(&ns(pc), &name, move || pc_worker(i, &pc_ns, &stop, &stats))?;
        workers.push((name, handle));
    }
    let (stop_w, stats_w) = (stop.clone(), stats.clone());
    workers.push((
        "traffic-wan".to_string(),
        super::netns::spawn_in(&ns(Node::Wan), "traffic-wan", move || {
            wan_worker(&stop_w, &stats_w)
        })?,
    ));
    let (stop_d, stats_d) = (stop.clone(), stats.clone());
    workers.push((
        "traffic-download".to_string(),
        super::netns::spawn_in(&ns(Node::Pc3), "traffic-download", move || {
            download_worker(&stop_d, &stats_d)
        })?,
    ));
    Ok(workers)
}

/// Sleeps until `deadline`; false if the lab is stopping.
fn sleep_until(deadline: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        thread::sleep((deadline - now).min(POLL));
    }
}

/// Runs `kinds` in turn every `period`, the first after `delay`.
fn every(
    period: Duration,
    delay: Duration,
    kinds: &[Kind],
    stop: &AtomicBool,
    stats: &Stats,
    mut act: impl FnMut(Kind) -> Outcome,
) {
    let mut next = Instant::now() + delay;
    let mut n = 0usize;
    while sleep_until(next, stop) {
        let kind = kinds[n % kinds.len()];
        let outcome = act(kind);
        // What ends because the lab is stopping says nothing about the router.
        if !stop.load(Ordering::Relaxed) {
            stats.record(kind, &outcome);
        }
        n += 1;
        next = (next + period).max(Instant::now());
    }
}

fn pc_worker(i: usize, ns: &str, stop: &AtomicBool, stats: &Stats) {
    let kinds = [Kind::Page, Kind::Dns, Kind::Ping, Kind::Hairpin];
    // PC i starts i steps into the cycle, half a period after the one before.
    let kinds: Vec<Kind> = kinds.iter().cycle().skip(i).take(4).copied().collect();
    let delay = PC_PERIOD / 3 * i as u32;
    let mut seq = 0u32;
    every(PC_PERIOD, delay, &kinds, stop, stats, |kind| match kind {
        Kind::Page => http_page(
            SocketAddrV4::new(INTERNET_HTTP, 80),
            INTERNET_SERVER_NAME,
            ROUTER_WAN,
        ),
        Kind::Dns => {
            seq += 1;
            dns_query(&format!("q {} {seq} www.example.test", PC_ADDRS[i]))
        }
        Kind::Ping => ping(ns, INTERNET_HTTP),
        _ => http_page(
            SocketAddrV4::new(ROUTER_WAN, PORT_FORWARD_PORT),
            WEB_SERVER_NAME,
            ROUTER_LAN,
        ),
    });
}

fn wan_worker(stop: &AtomicBool, stats: &Stats) {
    let kinds = [
        Kind::PortForward,
        Kind::WanProbe,
        Kind::PortForward,
        Kind::PortForward,
        Kind::WanProbe,
        Kind::PortForward,
    ];
    let mut to_pc = true;
    every(WAN_PERIOD, POLL, &kinds, stop, stats, |kind| {
        if kind == Kind::WanProbe {
            // Alternately a PC's SSH port (forwarded to nobody) and the router's telnet port.
            let target = if to_pc {
                SocketAddrV4::new(PC_ADDRS[0], 22)
            } else {
                SocketAddrV4::new(ROUTER_WAN, 23)
            };
            to_pc = !to_pc;
            probe(target)
        } else {
            http_page(
                SocketAddrV4::new(ROUTER_WAN, PORT_FORWARD_PORT),
                WEB_SERVER_NAME,
                ISP,
            )
        }
    });
}

fn download_worker(stop: &AtomicBool, stats: &Stats) {
    let mut next = Instant::now() + Duration::from_secs(1);
    while sleep_until(next, stop) {
        let outcome = download(DOWNLOAD_BYTES, DOWNLOAD_RATE, stop, &stats.download_bytes);
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let pause = if outcome == Outcome::Ok { 1 } else { 3 };
        stats.record(Kind::Download, &outcome);
        next = Instant::now() + Duration::from_secs(pause);
    }
}

/// Checks a whole HTTP response: status 200, from `server`, which saw the client as `client`.
pub fn check_page(resp: &[u8], server: &str, client: Ipv4Addr) -> Result<(), String> {
    let end = head_end(resp).ok_or("no complete response head")?;
    let head = String::from_utf8_lossy(&resp[..end]);
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    if !status.starts_with("HTTP/1.0 200") && !status.starts_with("HTTP/1.1 200") {
        return Err(format!("status {status:?}"));
    }
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    let got_server = header("Server").unwrap_or_default();
    if got_server != server {
        return Err(format!("answered by {got_server:?}, not {server:?}"));
    }
    let seen = header("X-Client")
        .and_then(|c| c.parse::<SocketAddr>().ok())
        .ok_or("no X-Client header")?;
    if seen.ip() != client {
        return Err(format!(
            "{server} saw the client as {seen}, expected {client}"
        ));
    }
    Ok(())
}

/// Loads a page over a short TCP connection.
fn http_page(addr: SocketAddrV4, server: &str, client: Ipv4Addr) -> Outcome {
    let result = (|| -> io::Result<Vec<u8>> {
        let mut s = TcpStream::connect_timeout(&addr.into(), IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        write!(s, "GET / HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
        let mut resp = Vec::new();
        s.take(MAX_PAGE).read_to_end(&mut resp)?;
        Ok(resp)
    })();
    match result {
        Ok(resp) => match check_page(&resp, server, client) {
            Ok(()) => Outcome::Ok,
            Err(e) => Outcome::Failed(format!("{addr}: {e}")),
        },
        Err(e) => Outcome::from_io(&e),
    }
}

/// One DNS-like query to the internet's resolver.
fn dns_query(query: &str) -> Outcome {
    let result = (|| -> io::Result<Vec<u8>> {
        let sock = UdpSocket::bind("0.0.0.0:0")?;
        sock.connect(SocketAddrV4::new(INTERNET_DNS, 53))?;
        sock.set_read_timeout(Some(IO_TIMEOUT))?;
        sock.send(query.as_bytes())?;
        let mut buf = [0u8; 1500];
        let n = sock.recv(&mut buf)?;
        Ok(buf[..n].to_vec())
    })();
    match result {
        Ok(reply) => match check_dns_reply(&reply, query.as_bytes()) {
            Ok(seen) if seen.ip() == ROUTER_WAN => Outcome::Ok,
            Ok(seen) => Outcome::Failed(format!(
                "{DNS_MARKER}: saw the client as {seen}, expected {ROUTER_WAN}"
            )),
            Err(e) => Outcome::Failed(e),
        },
        Err(e) => Outcome::from_io(&e),
    }
}

/// One ping (the system's `ping`, in the PC's namespace).
fn ping(ns: &str, to: Ipv4Addr) -> Outcome {
    let status = Command::new("ip")
        .args([
            "netns", "exec", ns, "ping", "-n", "-q", "-c", "1", "-W", "2",
        ])
        .arg(to.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Outcome::Ok,
        // ping exits 1 when no reply came.
        Ok(s) if s.code() == Some(1) => Outcome::TimedOut,
        Ok(s) => Outcome::Failed(format!("ping {to}: {s}")),
        Err(e) => Outcome::Failed(format!("running ping: {e}")),
    }
}

/// An unsolicited SYN: Ok if answered with a SYN-ACK, Refused if with a RST, TimedOut if
/// dropped.
fn probe(target: SocketAddrV4) -> Outcome {
    match TcpStream::connect_timeout(&target.into(), PROBE_TIMEOUT) {
        Ok(_) => Outcome::Ok,
        Err(e) => Outcome::from_io(&e),
    }
}

/// Downloads `bytes` from the internet server, no faster than `rate` bytes a second.
fn download(bytes: u64, rate: u64, stop: &AtomicBool, counter: &AtomicU64) -> Outcome {
    let addr = SocketAddrV4::new(INTERNET_HTTP, 80);
    let result = (|| -> io::Result<Result<(), String>> {
        let mut s = TcpStream::connect_timeout(&addr.into(), IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        write!(
            s,
            "GET /download?bytes={bytes} HTTP/1.0\r\nHost: {addr}\r\n\r\n"
        )?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut head = Vec::new();
        let body_start = loop {
            let n = s.read(&mut buf)?;
            if n == 0 {
                return Ok(Err("closed before the response head".into()));
            }
            head.extend_from_slice(&buf[..n]);
            if let Some(end) = head_end(&head) {
                break end;
            }
            if head.len() > 4096 {
                return Ok(Err("response head too long".into()));
            }
        };
        if !head.starts_with(b"HTTP/1.0 200") {
            return Ok(Err(format!(
                "status {:?}",
                String::from_utf8_lossy(&head[..head.len().min(40)])
            )));
        }
        let started = Instant::now();
        let mut got = (head.len() - body_start) as u64;
        counter.fetch_add(got, Ordering::Relaxed);
        while got < bytes {
            if stop.load(Ordering::Relaxed) {
                return Ok(Err("stopped".into()));
            }
            // Keep to the rate: wait until the bytes so far are due.
            let due = Duration::from_secs_f64(got as f64 / rate as f64);
            let elapsed = started.elapsed();
            if due > elapsed {
                thread::sleep((due - elapsed).min(POLL));
                continue;
            }
            let want = buf.len().min((bytes - got) as usize);
            let n = s.read(&mut buf[..want])?;
            if n == 0 {
                return Ok(Err(format!("closed after {got} of {bytes} bytes")));
            }
            got += n as u64;
            counter.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(Ok(()))
    })();
    match result {
        Ok(Ok(())) => Outcome::Ok,
        Ok(Err(e)) => Outcome::Failed(format!("download: {e}")),
        Err(e) => Outcome::from_io(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_counts_only_with_the_expected_server_and_client() {
        let resp = b"HTTP/1.0 200 OK\r\nServer: internet\r\nX-Client: 203.0.113.2:40000\r\n\r\nhi";
        let wan: Ipv4Addr = "203.0.113.2".parse().unwrap();
        assert_eq!(check_page(resp, "internet", wan), Ok(()));
        assert!(check_page(resp, "web", wan)
            .unwrap_err()
            .contains("answered by"));
        let lan: Ipv4Addr = "198.51.100.10".parse().unwrap();
        assert!(check_page(resp, "internet", lan)
            .unwrap_err()
            .contains("saw the client"));
        assert!(check_page(b"HTTP/1.0 400 Bad\r\n\r\n", "internet", wan).is_err());
        assert!(check_page(b"HTTP/1.0 200 OK\r\n", "internet", wan).is_err());
    }

    #[test]
    fn the_summary_names_every_kind_and_calls_dropped_probes_dropped() {
        let stats = Stats::default();
        stats.record(Kind::Page, &Outcome::Ok);
        stats.record(Kind::Page, &Outcome::Ok);
        stats.record(Kind::Page, &Outcome::Refused);
        stats.record(Kind::WanProbe, &Outcome::TimedOut);
        stats.record(Kind::WanProbe, &Outcome::Refused);
        stats.download_bytes.store(3 << 20, Ordering::Relaxed);
        let snap = stats.snapshot();
        assert_eq!(
            snap.get(Kind::Page),
            KindCount {
                ok: 2,
                refused: 1,
                ..KindCount::default()
            }
        );
        assert_eq!(
            snap.summary(),
            "page 2 ok, 1 failed | dns 0 ok | ping 0 ok | download 0 ok (3.0 MiB) | \
             port-forward 0 ok | hairpin 0 ok | wan-probe 1 answered, 1 dropped"
        );
        assert_eq!(
            stats.last_errors(),
            [
                (Kind::Page, "connection refused".to_string()),
                (Kind::WanProbe, "connection refused".to_string())
            ]
        );
    }

    #[test]
    fn refused_and_timed_out_are_told_apart() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(Outcome::from_io(&refused), Outcome::Refused);
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(Outcome::from_io(&timed_out), Outcome::TimedOut);
        let other = io::Error::other("boom");
        assert_eq!(Outcome::from_io(&other), Outcome::Failed("boom".into()));
    }
}
