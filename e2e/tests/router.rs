//! statewall as a user meets it: `statewall run` routing real traffic between LAN hosts and an
//! "internet" in the network-namespace lab (`backend::lab`), with RouterOS's defconf (input and
//! forward chains, masquerade), a port forward to a LAN web server and its hairpin.
//!
//! Each test starts its own lab (about a second), so its assertions stand alone; a lock runs them
//! one at a time, since the router, the hosts and the traffic share the machine's cores. The
//! defconf's two drop rules get `log=yes` and a prefix, which changes no verdict: that is how a
//! test sees that the router itself dropped a probe, since the router has no API yet to read its
//! counters or its connection table from outside.
//!
//! Needs root: skipped with a reason elsewhere, a failure under CI.

use backend::lab::config::router_rsc;
use backend::lab::{
    Node, INTERNET_DNS, INTERNET_HTTP, INTERNET_SERVER_NAME, ISP, PC_ADDRS, PORT_FORWARD_PORT,
    ROUTER_LAN, ROUTER_WAN, WEB_SERVER_NAME,
};
use e2e::lab::{
    http_get, nft, nft_counter, snmp, Response, RouterLab, Setup, TcpServer, IO_TIMEOUT,
};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The `log-prefix` given to defconf's "drop all not coming from LAN" (input chain).
const INPUT_DROP: &str = "e2e-input-drop";
/// The `log-prefix` given to defconf's "drop all from WAN not DSTNATed" (forward chain).
const FORWARD_DROP: &str = "e2e-forward-drop";
/// What the lab's HTTP servers send as a download's body, byte after byte.
const DOWNLOAD_BYTE: u8 = 0x5a;
/// The DNS-like server's reply: `swlab-dns <client ip:port> <query>`.
const DNS_MARKER: &str = "swlab-dns";
/// How long a probe that must go unanswered is given.
const UNANSWERED: Duration = Duration::from_secs(3);
/// How long the router has to write a firewall log line.
const LOG_WAIT: Duration = Duration::from_secs(2);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The lab's generated configuration, with defconf's drop rules logging.
fn config() -> String {
    format!(
        "{}/ip firewall filter\n\
         set [ find comment=\"defconf: drop all not coming from LAN\" ] log=yes \
         log-prefix={INPUT_DROP}\n\
         set [ find comment=\"defconf: drop all from WAN not DSTNATed\" ] log=yes \
         log-prefix={FORWARD_DROP}\n",
        router_rsc()
    )
}

fn setup() -> Setup {
    Setup {
        config: Some(config()),
        ..Setup::default()
    }
}

/// This test's turn (none if it must skip). Declare it before the lab, so the lab is taken down
/// before the next test starts its own.
fn turn(test: &str) -> Option<MutexGuard<'static, ()>> {
    if !e2e::env::require_root(test) {
        return None;
    }
    Some(ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Prints how long a test took (from its turn on), when it ends (also on failure).
struct Timer(&'static str, Instant);

impl Timer {
    fn start(test: &'static str) -> Timer {
        Timer(test, Instant::now())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        eprintln!("{}: {:.1} s", self.0, self.1.elapsed().as_secs_f64());
    }
}

/// Asserts that a download's body is `len` bytes of [`DOWNLOAD_BYTE`].
fn assert_download(resp: &Response, len: u64) {
    assert_eq!(
        resp.body.len() as u64,
        len,
        "download length; head:\n{}",
        resp.head
    );
    if let Some(at) = resp.body.iter().position(|&b| b != DOWNLOAD_BYTE) {
        panic!(
            "download byte {at} is {:#04x}, expected {DOWNLOAD_BYTE:#04x}",
            resp.body[at]
        );
    }
}

/// Asserts that the router logged a line containing all of `words` (printing its log if not).
fn assert_logged(lab: &RouterLab, what: &str, words: &[&str]) {
    let lines = lab.log_lines_with(words, LOG_WAIT);
    assert!(
        !lines.is_empty(),
        "{what}: no router log line with {words:?}; the log:\n{}",
        lab.router_log()
    );
}

/// A TCP connect from `node` that must go unanswered: it must time out (not be refused, not
/// reach anything).
fn assert_connect_times_out(lab: &RouterLab, node: Node, to: SocketAddrV4) {
    let result = lab.in_ns(node, || TcpStream::connect_timeout(&to.into(), UNANSWERED));
    match result {
        Err(e) if e.kind() == ErrorKind::TimedOut => {}
        Err(e) => panic!("TCP connect from {node:?} to {to}: expected no answer, got {e}"),
        Ok(s) => panic!(
            "TCP connect from {node:?} to {to}: expected no answer, but it connected (as {:?})",
            s.local_addr()
        ),
    }
}

/// 1. pc1 pings an internet server through the masquerade; the server sees the echo requests
///    come from the router's WAN address, never from the LAN.
#[test]
fn ping_through_masquerade_arrives_from_the_wan_address() {
    let Some(_turn) = turn("ping_through_masquerade_arrives_from_the_wan_address") else {
        return;
    };
    let _time = Timer::start("ping_through_masquerade_arrives_from_the_wan_address");
    let lab = RouterLab::start(setup());
    nft(
        &lab,
        Node::Wan,
        &format!(
            "table ip e2e {{\n\
             \tchain in {{\n\
             \t\ttype filter hook input priority filter; policy accept;\n\
             \t\ticmp type echo-request ip saddr {ROUTER_WAN} counter comment \"from-wan-address\"\n\
             \t\ticmp type echo-request ip saddr 198.51.100.0/24 counter comment \"from-lan\"\n\
             \t}}\n\
             }}\n"
        ),
    );
    let out = lab.run_ok(
        Node::Pc1,
        &[
            "ping",
            "-n",
            "-c",
            "3",
            "-i",
            "0.2",
            "-W",
            "2",
            &INTERNET_HTTP.to_string(),
        ],
    );
    assert!(out.contains(" 3 received"), "ping lost replies:\n{out}");
    assert_eq!(
        nft_counter(&lab, Node::Wan, "ip e2e", "from-wan-address"),
        3,
        "echo requests reaching 192.0.2.10 from {ROUTER_WAN}"
    );
    assert_eq!(
        nft_counter(&lab, Node::Wan, "ip e2e", "from-lan"),
        0,
        "echo requests reaching 192.0.2.10 with a LAN source (not masqueraded)"
    );
}

/// 2. A 10 MB HTTP download to pc1 arrives whole and unchanged, and 50 short connections in a
///    row all succeed; the server sees each from the router's WAN address.
#[test]
fn a_10_mb_download_and_50_short_connections_succeed() {
    const BYTES: u64 = 10_000_000;
    let Some(_turn) = turn("a_10_mb_download_and_50_short_connections_succeed") else {
        return;
    };
    let _time = Timer::start("a_10_mb_download_and_50_short_connections_succeed");
    let lab = RouterLab::start(setup());
    let server = SocketAddrV4::new(INTERNET_HTTP, 80);
    let started = Instant::now();
    let resp = http_get(
        &lab,
        Node::Pc1,
        server,
        &format!("/download?bytes={BYTES}"),
        BYTES,
    )
    .unwrap_or_else(|e| panic!("GET /download?bytes={BYTES} from pc1 to {server}: {e}"));
    eprintln!(
        "10 MB download through statewall: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    resp.check(INTERNET_SERVER_NAME, ROUTER_WAN)
        .unwrap_or_else(|e| panic!("the download's response: {e}"));
    assert_eq!(resp.header("Content-Length"), Some("10000000"));
    assert_download(&resp, BYTES);

    for i in 1..=50 {
        let page = http_get(&lab, Node::Pc1, server, "/", 64 * 1024)
            .unwrap_or_else(|e| panic!("short connection {i} of 50 from pc1 to {server}: {e}"));
        page.check(INTERNET_SERVER_NAME, ROUTER_WAN)
            .unwrap_or_else(|e| panic!("short connection {i} of 50: {e}"));
        assert!(
            String::from_utf8_lossy(&page.body).contains(INTERNET_SERVER_NAME),
            "short connection {i} of 50: page {:?}",
            String::from_utf8_lossy(&page.body)
        );
    }
}

/// 3. A UDP request to the internet's DNS-like server is answered through the masquerade (the
///    server saw the router's WAN address); an ICMP port-unreachable for a closed UDP port comes
///    back to the LAN host, whose connected socket reports ECONNREFUSED.
#[test]
fn udp_request_response_and_port_unreachable_come_back() {
    let Some(_turn) = turn("udp_request_response_and_port_unreachable_come_back") else {
        return;
    };
    let _time = Timer::start("udp_request_response_and_port_unreachable_come_back");
    let lab = RouterLab::start(setup());
    let dns = SocketAddrV4::new(INTERNET_DNS, 53);
    let query = b"q 1 e2e.example.test";
    let reply = lab
        .in_ns(Node::Pc1, || -> io::Result<Vec<u8>> {
            let s = UdpSocket::bind("0.0.0.0:0")?;
            s.connect(dns)?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.send(query)?;
            let mut buf = [0u8; 1500];
            let n = s.recv(&mut buf)?;
            Ok(buf[..n].to_vec())
        })
        .unwrap_or_else(|e| panic!("UDP query from pc1 to {dns}: {e}"));
    let text = String::from_utf8_lossy(&reply);
    let seen = text
        .strip_prefix(DNS_MARKER)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|a| a.parse::<SocketAddr>().ok());
    assert!(
        reply.ends_with(query),
        "the reply does not echo the query: {text:?}"
    );
    assert_eq!(
        seen.map(|a| a.ip()),
        Some(ROUTER_WAN.into()),
        "the DNS-like server saw the query come from (reply {text:?})"
    );

    // Port 9 (discard) is closed on 192.0.2.10: the WAN's kernel answers port-unreachable.
    let closed = SocketAddrV4::new(INTERNET_HTTP, 9);
    let wan_unreach =
        |lab: &RouterLab| snmp(lab, Node::Wan)[&("Icmp".into(), "OutDestUnreachs".into())];
    let before = wan_unreach(&lab);
    let got = lab
        .in_ns(Node::Pc1, || -> io::Result<io::Result<usize>> {
            let s = UdpSocket::bind("0.0.0.0:0")?;
            s.connect(closed)?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.send(b"anyone there?")?;
            let mut buf = [0u8; 64];
            Ok(s.recv(&mut buf))
        })
        .unwrap_or_else(|e| panic!("UDP socket in pc1: {e}"));
    let sent = wan_unreach(&lab) - before;
    match got {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
        other => panic!(
            "UDP from pc1 to closed {closed}: expected ECONNREFUSED from the ICMP port-unreachable \
             (the WAN sent {sent}), got {other:?}"
        ),
    }
    assert_eq!(sent, 1, "port-unreachables the WAN sent");
}

/// A server in the WAN namespace that reads a whole upload and answers `<bytes> <wrong bytes>`.
fn upload_sink(lab: &RouterLab, addr: SocketAddrV4) -> TcpServer {
    TcpServer::start(lab, Node::Wan, addr, |mut s| {
        let mut buf = vec![0u8; 64 * 1024];
        let (mut total, mut wrong) = (0u64, 0u64);
        loop {
            let n = s.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n as u64;
            wrong += buf[..n].iter().filter(|&&b| b != DOWNLOAD_BYTE).count() as u64;
        }
        writeln!(s, "{total} {wrong}")
    })
}

/// Uploads `len` bytes of [`DOWNLOAD_BYTE`] from `node` to `to`; the sink's answer.
fn upload(lab: &RouterLab, node: Node, to: SocketAddrV4, len: usize) -> io::Result<String> {
    lab.in_ns(node, || {
        let mut s = TcpStream::connect_timeout(&to.into(), IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.write_all(&vec![DOWNLOAD_BYTE; len])?;
        s.shutdown(Shutdown::Write)?;
        let mut answer = String::new();
        s.take(256).read_to_string(&mut answer)?;
        Ok(answer)
    })
}

/// The route `node` has to `to` (`ip route get`), with the path MTU it learned if any.
fn route_get(lab: &RouterLab, node: Node, to: std::net::Ipv4Addr) -> String {
    lab.run_ok(node, &["ip", "route", "get", &to.to_string()])
}

/// Whether TCP in `node` sends with DF (path MTU discovery on, Linux's default).
fn assert_pmtu_discovery_on(lab: &RouterLab, node: Node) {
    let v = lab.run_ok(node, &["cat", "/proc/sys/net/ipv4/ip_no_pmtu_disc"]);
    assert_eq!(v.trim(), "0", "net.ipv4.ip_no_pmtu_disc in {node:?}");
}

/// 4a. Path MTU through the NAT: the router's LAN port has MTU 1280 (set before it starts, as it
///     reads the MTU when it opens the port), the internet server and pc1 have 1500. A DF
///     download of 1 MB completes only if the router answers the server's 1500-byte segments
///     with fragmentation-needed, translated back through the masquerade: the server then has
///     a 1280 path MTU to the router's WAN address.
#[test]
fn pmtu_download_through_a_1280_lan_port() {
    const BYTES: u64 = 1_000_000;
    let Some(_turn) = turn("pmtu_download_through_a_1280_lan_port") else {
        return;
    };
    let _time = Timer::start("pmtu_download_through_a_1280_lan_port");
    let lab = RouterLab::start(Setup {
        before_router: vec!["ip link set ether2 mtu 1280".into()],
        ..setup()
    });
    // The switch's end of the router's link, so the link is 1280 on both ends.
    lab.run_ok(Node::Lan, &["ip", "link", "set", "p-rtr", "mtu", "1280"]);
    assert_logged(
        &lab,
        "the router's LAN port",
        &["port opened", "port=ether2", "mtu=1280"],
    );
    assert_pmtu_discovery_on(&lab, Node::Wan);
    let before = route_get(&lab, Node::Wan, ROUTER_WAN);
    assert!(!before.contains("mtu 1280"), "before: {before}");

    let server = SocketAddrV4::new(INTERNET_HTTP, 80);
    let resp = http_get(
        &lab,
        Node::Pc1,
        server,
        &format!("/download?bytes={BYTES}"),
        BYTES,
    )
    .unwrap_or_else(|e| {
        panic!(
            "1 MB DF download from {server} to pc1 over the 1280 LAN port: {e}\nthe WAN's route \
             to {ROUTER_WAN}: {}",
            route_get(&lab, Node::Wan, ROUTER_WAN)
        )
    });
    resp.check(INTERNET_SERVER_NAME, ROUTER_WAN)
        .unwrap_or_else(|e| panic!("the download's response: {e}"));
    assert_download(&resp, BYTES);
    let after = route_get(&lab, Node::Wan, ROUTER_WAN);
    assert!(
        after.contains("mtu 1280"),
        "the server learned no path MTU of 1280 to {ROUTER_WAN} (no frag-needed reached it):\n{after}"
    );
}

/// 4b. Path MTU on a 1280 WAN link (the ISP's end and the router's `ether1`, set before the
///     router starts): a 1 MB download from the internet completes, and so does a 1 MB DF upload
///     from pc1 to a server that advertises MSS 1460 (as one behind a 1500 path would): pc1's
///     1500-byte segments get fragmentation-needed from the router, and pc1 learns MTU 1280.
#[test]
fn pmtu_over_a_1280_wan_link() {
    const BYTES: u64 = 1_000_000;
    let Some(_turn) = turn("pmtu_over_a_1280_wan_link") else {
        return;
    };
    let _time = Timer::start("pmtu_over_a_1280_wan_link");
    let lab = RouterLab::start(Setup {
        before_router: vec!["ip link set ether1 mtu 1280".into()],
        ..setup()
    });
    lab.run_ok(Node::Wan, &["ip", "link", "set", "eth0", "mtu", "1280"]);
    assert_logged(
        &lab,
        "the router's WAN port",
        &["port opened", "port=ether1", "mtu=1280"],
    );
    assert_pmtu_discovery_on(&lab, Node::Pc1);

    let server = SocketAddrV4::new(INTERNET_HTTP, 80);
    let resp = http_get(
        &lab,
        Node::Pc1,
        server,
        &format!("/download?bytes={BYTES}"),
        BYTES,
    )
    .unwrap_or_else(|e| panic!("1 MB download from {server} to pc1 over the 1280 WAN link: {e}"));
    resp.check(INTERNET_SERVER_NAME, ROUTER_WAN)
        .unwrap_or_else(|e| panic!("the download's response: {e}"));
    assert_download(&resp, BYTES);

    // The server's SYN-ACK says MSS 1460, so pc1 starts with 1500-byte packets.
    lab.run_ok(
        Node::Wan,
        &[
            "ip",
            "route",
            "add",
            &format!("{ROUTER_WAN}/32"),
            "dev",
            "eth0",
            "src",
            &ISP.to_string(),
            "advmss",
            "1460",
        ],
    );
    let sink_addr = SocketAddrV4::new(INTERNET_HTTP, 9000);
    let sink = upload_sink(&lab, sink_addr);
    let answer = upload(&lab, Node::Pc1, sink_addr, BYTES as usize).unwrap_or_else(|e| {
        panic!(
            "1 MB DF upload from pc1 to {sink_addr} over the 1280 WAN link: {e}\npc1's route: {}",
            route_get(&lab, Node::Pc1, INTERNET_HTTP)
        )
    });
    assert_eq!(
        answer.trim(),
        format!("{BYTES} 0"),
        "what the sink received (bytes, wrong bytes)"
    );
    assert_eq!(sink.peers().len(), 1);
    let route = route_get(&lab, Node::Pc1, INTERNET_HTTP);
    assert!(
        route.contains("mtu 1280"),
        "pc1 learned no path MTU of 1280 to {INTERNET_HTTP} (no frag-needed reached it):\n{route}"
    );
}

/// 5. The port forward: from the internet, 203.0.113.2:8080 reaches the LAN web server (which
///    sees the real client); hairpin: from pc2, the same address works too (the web server sees
///    the router's LAN address, the hairpin masquerade).
#[test]
fn port_forward_and_hairpin_reach_the_lan_web_server() {
    let Some(_turn) = turn("port_forward_and_hairpin_reach_the_lan_web_server") else {
        return;
    };
    let _time = Timer::start("port_forward_and_hairpin_reach_the_lan_web_server");
    let lab = RouterLab::start(setup());
    let url = format!("http://{ROUTER_WAN}:{PORT_FORWARD_PORT}/");
    let curl = ["curl", "-sS", "-i", "--max-time", "5", url.as_str()];
    for (node, client) in [(Node::Wan, ISP), (Node::Pc2, ROUTER_LAN)] {
        let out = lab.run_ok(node, &curl);
        if let Err(e) = backend::lab::traffic::check_page(out.as_bytes(), WEB_SERVER_NAME, client) {
            panic!("`curl {url}` from {node:?}: {e}\n{out}");
        }
    }
}

/// 6. Unsolicited WAN → LAN: a TCP connect from the WAN to pc1:22 (where something listens)
///    gets no answer, nothing reaches pc1, and the router's forward chain dropped it.
#[test]
fn unsolicited_wan_to_lan_is_dropped() {
    let Some(_turn) = turn("unsolicited_wan_to_lan_is_dropped") else {
        return;
    };
    let _time = Timer::start("unsolicited_wan_to_lan_is_dropped");
    let lab = RouterLab::start(setup());
    nft(
        &lab,
        Node::Pc1,
        "table ip e2e {\n\
         \tchain pre {\n\
         \t\ttype filter hook prerouting priority raw; policy accept;\n\
         \t\tip saddr 203.0.113.0/24 counter comment \"from-wan\"\n\
         \t}\n\
         }\n",
    );
    let target = SocketAddrV4::new(PC_ADDRS[0], 22);
    let listener = TcpServer::start(&lab, Node::Pc1, target, |mut s| {
        s.write_all(b"SSH-2.0-e2e\r\n")
    });
    assert_connect_times_out(&lab, Node::Wan, target);
    assert_eq!(listener.peers(), [], "connections accepted on pc1:22");
    assert_eq!(
        nft_counter(&lab, Node::Pc1, "ip e2e", "from-wan"),
        0,
        "packets from the WAN that reached pc1"
    );
    assert_logged(
        &lab,
        "the forward chain's drop",
        &[FORWARD_DROP, "forward:", "->198.51.100.10:22"],
    );
}

/// 7. The router's own services: it answers ping on its LAN address, and a TCP service in its
///    namespace (listening on every address) is reachable from pc1 but not from the WAN
///    (defconf: drop all not coming from LAN), which still gets ping answers (accept ICMP).
#[test]
fn router_services_answer_the_lan_only() {
    let Some(_turn) = turn("router_services_answer_the_lan_only") else {
        return;
    };
    let _time = Timer::start("router_services_answer_the_lan_only");
    let lab = RouterLab::start(setup());
    lab.ping_ok(Node::Pc1, ROUTER_LAN);
    lab.ping_ok(Node::Wan, ROUTER_WAN);

    let service = TcpServer::start(
        &lab,
        Node::Rtr,
        SocketAddrV4::new([0, 0, 0, 0].into(), 8081),
        |mut s| s.write_all(b"hi\n"),
    );
    let from_lan = SocketAddrV4::new(ROUTER_LAN, 8081);
    let answer = lab
        .in_ns(Node::Pc1, || -> io::Result<String> {
            let s = TcpStream::connect_timeout(&from_lan.into(), IO_TIMEOUT)?;
            s.set_read_timeout(Some(IO_TIMEOUT))?;
            let mut text = String::new();
            s.take(64).read_to_string(&mut text)?;
            Ok(text)
        })
        .unwrap_or_else(|e| panic!("the router's service {from_lan} from pc1: {e}"));
    assert_eq!(answer, "hi\n", "the router's service from pc1");

    let from_wan = SocketAddrV4::new(ROUTER_WAN, 8081);
    assert_connect_times_out(&lab, Node::Wan, from_wan);
    let peers = service.peers();
    assert!(
        peers.len() == 1 && peers[0].ip() == PC_ADDRS[0],
        "who reached the router's service (pc1 only): {peers:?}"
    );
    assert_logged(
        &lab,
        "the input chain's drop",
        &[INPUT_DROP, "input:", "->203.0.113.2:8081"],
    );
}

/// The kernel's counters in the router's namespace that show it answered or received something.
fn kernel_counters(lab: &RouterLab) -> [(&'static str, &'static str, i64); 4] {
    let m = snmp(lab, Node::Rtr);
    let get = |p: &'static str, n: &'static str| (p, n, m[&(p.to_string(), n.to_string())]);
    [
        get("Tcp", "OutRsts"),
        get("Icmp", "OutDestUnreachs"),
        get("Tcp", "InSegs"),
        get("Udp", "NoPorts"),
    ]
}

/// 8. The kernel never answers for the router: WAN probes to the router's address (a TCP SYN and
///    a UDP datagram to closed ports) leave the router namespace's kernel counters (RSTs sent,
///    port-unreachables sent, segments received, UDP to no port) as they were, and the router's
///    input chain dropped them. The same probes from the LAN, which the input chain accepts, are
///    answered by the kernel (RST, port-unreachable): the counters do move when it answers.
#[test]
fn the_kernel_never_answers_wan_probes_for_the_router() {
    let Some(_turn) = turn("the_kernel_never_answers_wan_probes_for_the_router") else {
        return;
    };
    let _time = Timer::start("the_kernel_never_answers_wan_probes_for_the_router");
    let lab = RouterLab::start(setup());
    let probe = |lab: &RouterLab, node: Node, to: std::net::Ipv4Addr| {
        lab.in_ns(
            node,
            || -> io::Result<(io::Result<TcpStream>, io::Result<usize>)> {
                let tcp = TcpStream::connect_timeout(&SocketAddrV4::new(to, 23).into(), UNANSWERED);
                let udp = UdpSocket::bind("0.0.0.0:0")?;
                udp.connect(SocketAddrV4::new(to, 9999))?;
                udp.set_read_timeout(Some(Duration::from_secs(1)))?;
                udp.send(b"probe")?;
                let mut buf = [0u8; 64];
                Ok((tcp, udp.recv(&mut buf)))
            },
        )
        .unwrap_or_else(|e| panic!("probing {to} from {node:?}: {e}"))
    };

    let before = kernel_counters(&lab);
    let (tcp, udp) = probe(&lab, Node::Wan, ROUTER_WAN);
    assert!(
        matches!(&tcp, Err(e) if e.kind() == ErrorKind::TimedOut),
        "TCP SYN from the WAN to {ROUTER_WAN}:23: expected no answer, got {tcp:?}"
    );
    assert!(
        matches!(&udp, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "UDP from the WAN to {ROUTER_WAN}:9999: expected no answer, got {udp:?}"
    );
    thread::sleep(Duration::from_millis(300));
    let after = kernel_counters(&lab);
    assert_eq!(
        after, before,
        "the router namespace's kernel counters changed on WAN probes"
    );
    assert_logged(
        &lab,
        "the TCP probe's drop",
        &[INPUT_DROP, "proto TCP (SYN)", "->203.0.113.2:23"],
    );
    assert_logged(
        &lab,
        "the UDP probe's drop",
        &[INPUT_DROP, "proto UDP", "->203.0.113.2:9999"],
    );

    // The control: from the LAN the input chain lets them through and the kernel answers.
    let (tcp, udp) = probe(&lab, Node::Pc1, ROUTER_LAN);
    assert!(
        matches!(&tcp, Err(e) if e.kind() == ErrorKind::ConnectionRefused),
        "TCP SYN from pc1 to {ROUTER_LAN}:23: expected the kernel's RST, got {tcp:?}"
    );
    assert!(
        matches!(&udp, Err(e) if e.kind() == ErrorKind::ConnectionRefused),
        "UDP from pc1 to {ROUTER_LAN}:9999: expected the kernel's port-unreachable, got {udp:?}"
    );
    thread::sleep(Duration::from_millis(300));
    let control = kernel_counters(&lab);
    for ((p, n, was), (_, _, now)) in after.iter().zip(control.iter()) {
        assert!(
            now > was,
            "{p} {n} did not move when the kernel answered LAN probes ({was} -> {now})"
        );
    }
}

/// What became of three answers from a WAN peer to one datagram pc1 sent: sent at once, 1 s
/// later, and `late` after that. Also the router's WAN address and port the peer saw.
fn udp_answers(lab: &RouterLab, late: Duration) -> ([bool; 3], SocketAddr) {
    let peer_addr = SocketAddrV4::new(INTERNET_HTTP, 7000);
    let wan = lab
        .in_ns(Node::Wan, || UdpSocket::bind(peer_addr))
        .unwrap_or_else(|e| panic!("binding {peer_addr} in the WAN: {e}"));
    let pc1 = lab
        .in_ns(Node::Pc1, || -> io::Result<UdpSocket> {
            let s = UdpSocket::bind("0.0.0.0:0")?;
            s.connect(peer_addr)?;
            Ok(s)
        })
        .unwrap_or_else(|e| panic!("a UDP socket in pc1: {e}"));
    let started = Instant::now();
    pc1.send(b"query").expect("pc1 sends");
    wan.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("a read timeout");
    let mut buf = [0u8; 64];
    let (_, nat) = wan
        .recv_from(&mut buf)
        .unwrap_or_else(|e| panic!("the query from pc1 did not reach {peer_addr}: {e}"));
    let answer = |n: u8, wait: Duration| {
        wan.send_to(&[b'a', b'0' + n], nat).expect("the WAN sends");
        pc1.set_read_timeout(Some(wait)).expect("a read timeout");
        let mut buf = [0u8; 64];
        matches!(pc1.recv(&mut buf), Ok(2) if buf[..2] == [b'a', b'0' + n])
    };
    let first = answer(0, Duration::from_secs(1));
    thread::sleep(Duration::from_secs(1).saturating_sub(started.elapsed()));
    let second = answer(1, Duration::from_secs(1));
    let second_at = Instant::now();
    thread::sleep(late.saturating_sub(second_at.elapsed()));
    let third = answer(2, Duration::from_secs(2));
    ([first, second, third], nat)
}

/// 9. A shortened `udp-timeout` (3 s): after pc1's query, answers within the timeout arrive, and
///    one 5 s after the last of them is dropped (the connection is gone; it would be a new
///    connection to the router itself, which the input chain drops and logs). With the default
///    timeout the same late answer arrives. (The router cannot show its connection table from
///    outside yet, so this checks the behaviour, not the table.)
#[test]
fn a_shortened_udp_timeout_ends_the_connection() {
    let Some(_turn) = turn("a_shortened_udp_timeout_ends_the_connection") else {
        return;
    };
    let _time = Timer::start("a_shortened_udp_timeout_ends_the_connection");
    let late = Duration::from_secs(5);
    {
        let lab = RouterLab::start(Setup {
            config: Some(format!(
                "{}/ip firewall connection tracking\nset udp-timeout=3s\n",
                config()
            )),
            ..Setup::default()
        });
        let (got, nat) = udp_answers(&lab, late);
        assert_eq!(
            got,
            [true, true, false],
            "answers reaching pc1 with udp-timeout=3s: at once, after 1 s, 5 s after that"
        );
        assert_logged(
            &lab,
            "the late answer's drop",
            &[INPUT_DROP, "proto UDP", &format!("192.0.2.10:7000->{nat}")],
        );
    }
    let lab = RouterLab::start(setup());
    let (got, _) = udp_answers(&lab, late);
    assert_eq!(
        got,
        [true, true, true],
        "answers reaching pc1 with the default udp-timeout: at once, after 1 s, 5 s after that"
    );
}

/// 10. A TCP connect to a closed port on the internet is refused: the server's RST comes back
///     through the masquerade, as it does with the kernel as the router.
#[test]
fn a_connect_to_a_closed_internet_port_is_refused() {
    let Some(_turn) = turn("a_connect_to_a_closed_internet_port_is_refused") else {
        return;
    };
    let _time = Timer::start("a_connect_to_a_closed_internet_port_is_refused");
    let lab = RouterLab::start(setup());
    let closed = SocketAddrV4::new(INTERNET_HTTP, 81);
    let got = lab.in_ns(Node::Pc1, || {
        TcpStream::connect_timeout(&closed.into(), UNANSWERED).map(drop)
    });
    match got {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
        other => panic!(
            "TCP connect from pc1 to closed {closed}: expected ECONNREFUSED (the server's RST), \
             got {other:?}"
        ),
    }
}

/// 11. Fragmented datagrams cross the router, as with the kernel as the router: a 3000-byte
///     ping to the internet and a 4000-byte UDP datagram arrive whole, and a 3000-byte ping to
///     the router itself is answered in full.
#[test]
fn fragmented_datagrams_cross_the_router() {
    let Some(_turn) = turn("fragmented_datagrams_cross_the_router") else {
        return;
    };
    let _time = Timer::start("fragmented_datagrams_cross_the_router");
    let lab = RouterLab::start(setup());
    let mut failures = Vec::new();
    for to in [INTERNET_HTTP, ROUTER_LAN] {
        let to = to.to_string();
        let argv = [
            "ping",
            "-n",
            "-c",
            "1",
            "-W",
            "2",
            "-s",
            "3000",
            to.as_str(),
        ];
        let out = lab.run(Node::Pc1, &argv);
        if !String::from_utf8_lossy(&out.stdout).contains("3008 bytes from") {
            failures.push(format!(
                "no full 3008-byte echo reply: {}",
                e2e::lab::describe(Node::Pc1, &argv, &out)
            ));
        }
    }
    let sink = SocketAddrV4::new(INTERNET_HTTP, 5000);
    let wan = lab
        .in_ns(Node::Wan, || UdpSocket::bind(sink))
        .unwrap_or_else(|e| panic!("binding {sink} in the WAN: {e}"));
    wan.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("a read timeout");
    lab.in_ns(Node::Pc1, || -> io::Result<usize> {
        UdpSocket::bind("0.0.0.0:0")?.send_to(&[7u8; 4000], sink)
    })
    .unwrap_or_else(|e| panic!("sending 4000 bytes of UDP from pc1: {e}"));
    let mut buf = [0u8; 8192];
    match wan.recv_from(&mut buf) {
        Ok((4000, _)) => {}
        other => failures.push(format!(
            "a 4000-byte UDP datagram from pc1 to {sink}: {other:?}"
        )),
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
