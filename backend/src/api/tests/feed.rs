//! The live feed over a real websocket (the server bound on 127.0.0.1:0, a tungstenite client),
//! `/metrics`, `/system/resource`, and browser logins (`POST /login`).

use super::support::{request, server, server_with, Local, Server, ADMIN, VIEWER};
use crate::api::feed::MAX_CLIENT_MESSAGE;
use axum::http::{header, HeaderValue, Method, StatusCode};
use base64::Engine as _;
use dataplane::wire::build::udp_frame;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use shared::feed::{ServerMessage, Snapshot, MAX_LIMIT};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for one message before it fails.
const WAIT: Duration = Duration::from_secs(20);

/// Serves `s` on 127.0.0.1 until the test's runtime ends. `send_buffer`: the accepted
/// sockets' send buffer (inherited from the listener), to make a slow client show quickly.
async fn listen(s: &Server, send_buffer: Option<u32>) -> SocketAddr {
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = send_buffer {
        socket.set_send_buffer_size(size).unwrap();
    }
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener: TcpListener = socket.listen(16).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(crate::api::serve(
        listener,
        s.state.clone(),
        std::future::pending(),
    ));
    addr
}

fn basic((user, password): (&str, &str)) -> HeaderValue {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    HeaderValue::from_str(&format!("Basic {token}")).unwrap()
}

/// Opens `/ws` with these headers; `recv_buffer` shrinks the client's receive buffer.
async fn open(
    addr: SocketAddr,
    headers: &[(header::HeaderName, HeaderValue)],
    recv_buffer: Option<u32>,
) -> Result<Ws, tungstenite::Error> {
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(k.clone(), v.clone());
    }
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let stream = socket.connect(addr).await.unwrap();
    tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(stream))
        .await
        .map(|(ws, _)| ws)
}

async fn connect(addr: SocketAddr) -> Ws {
    open(addr, &[(header::AUTHORIZATION, basic(ADMIN))], None)
        .await
        .unwrap()
}

/// The next message's text, within `wait`.
async fn next_text(ws: &mut Ws, wait: Duration) -> Option<String> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await.ok()?? {
            Ok(Message::Text(t)) => return Some(t.as_str().to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

async fn next_message(ws: &mut Ws) -> (ServerMessage, usize) {
    let text = next_text(ws, WAIT).await.expect("a message");
    let msg = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (msg, text.len())
}

async fn next_snapshot(ws: &mut Ws) -> (Snapshot, usize) {
    match next_message(ws).await {
        (ServerMessage::Snapshot(s), len) => (*s, len),
        (other, _) => panic!("expected a snapshot, got {other:?}"),
    }
}

async fn say(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// Sends new settings and returns the first snapshot made with them (`query` echoes them).
async fn ask(ws: &mut Ws, v: Value) -> (Snapshot, usize) {
    say(ws, v.clone()).await;
    let limit = v["window"]["limit"].as_u64();
    let interval = v["interval-ms"].as_u64();
    loop {
        let (s, len) = next_snapshot(ws).await;
        let window_ok = limit.is_none_or(|l| u64::from(s.window.query.limit) == l);
        if window_ok && interval.is_none_or(|i| s.interval_ms == i) {
            return (s, len);
        }
    }
}

fn status_of(e: tungstenite::Error) -> StatusCode {
    match e {
        tungstenite::Error::Http(r) => r.status(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_needs_a_login() {
    let s = server();
    let addr = listen(&s, None).await;
    let refused = open(addr, &[], None).await.unwrap_err();
    assert_eq!(status_of(refused), StatusCode::UNAUTHORIZED);
    let wrong = open(
        addr,
        &[(header::AUTHORIZATION, basic(("admin", "wrong")))],
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(status_of(wrong), StatusCode::UNAUTHORIZED);
    let forged = HeaderValue::from_static("statewall-session=forged");
    let e = open(addr, &[(header::COOKIE, forged)], None).await;
    assert_eq!(status_of(e.unwrap_err()), StatusCode::UNAUTHORIZED);

    // A read user may watch.
    let mut ws = open(addr, &[(header::AUTHORIZATION, basic(VIEWER))], None)
        .await
        .unwrap();
    next_snapshot(&mut ws).await;

    // A browser: POST /login, then the cookie opens the feed.
    let a = s
        .send(request(
            None,
            Method::POST,
            "/login",
            Some(json!({"name": ADMIN.0, "password": ADMIN.1})),
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let set = a.header(header::SET_COOKIE).unwrap().to_string();
    let pair = set.split(';').next().unwrap().to_string();
    let cookie = HeaderValue::from_str(&pair).unwrap();
    let origin = HeaderValue::from_str(&format!("http://{addr}")).unwrap();
    let mut ws = open(
        addr,
        &[(header::COOKIE, cookie.clone()), (header::ORIGIN, origin)],
        None,
    )
    .await
    .unwrap();
    next_snapshot(&mut ws).await;
    // Not from another site's page.
    let evil = HeaderValue::from_static("https://evil.example");
    let e = open(
        addr,
        &[(header::COOKIE, cookie.clone()), (header::ORIGIN, evil)],
        None,
    )
    .await;
    assert_eq!(status_of(e.unwrap_err()), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_carry_the_router_and_the_window_asked_for() {
    let s = server();
    let addr = listen(&s, None).await;
    let mut ws = connect(addr).await;
    let (snap, _) = next_snapshot(&mut ws).await;
    assert_eq!((snap.seq, snap.interval_ms), (1, 1000));
    assert_eq!(snap.total_entries, 3);
    assert_eq!(snap.window.matching, 3);
    let tcp = snap
        .window
        .entries
        .iter()
        .find(|e| e.protocol == "tcp")
        .expect("the TCP connection the router tracks");
    assert_eq!(tcp.src_address, "198.51.100.10:40000");
    assert_eq!(tcp.dst_address, "192.0.2.1:80");
    assert_eq!(tcp.tcp_state.as_deref(), Some("syn-sent"));
    assert!(tcp.srcnat);
    let count = |v: &[shared::feed::NamedCount], name: &str| {
        v.iter().find(|c| c.name == name).map(|c| c.count)
    };
    assert_eq!(count(&snap.entries_by_protocol, "tcp"), Some(1));
    assert_eq!(count(&snap.entries_by_protocol, "udp"), Some(1));
    assert_eq!(count(&snap.entries_by_protocol, "icmp"), Some(1));
    assert_eq!(count(&snap.entries_by_tcp_state, "syn-sent"), Some(1));
    assert_eq!(count(&snap.entries_by_tcp_state, "established"), Some(0));
    assert_eq!(snap.nat_entries.srcnat, 2);
    assert_eq!(snap.flow.srcnat, 2);
    assert_eq!(snap.conntrack.created, 3);
    assert_eq!(snap.history, [3]);
    let top: Vec<_> = snap
        .top_hosts_by_connections
        .iter()
        .map(|h| (h.address.to_string(), h.connections))
        .collect();
    let sources: std::collections::BTreeSet<_> = snap
        .window
        .entries
        .iter()
        .map(|e| e.src_address.split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(top.iter().map(|(_, n)| n).sum::<u64>(), 3, "{top:?}");
    assert!(top.iter().all(|(a, _)| sources.contains(a)), "{top:?}");
    assert_eq!(snap.drops.len(), dataplane::pipeline::DropReason::ALL.len());
    let ports: Vec<_> = snap.ports.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(ports, ["ether1", "ether2"]);
    assert_eq!(snap.ports[1].rx_packets, 3);
    assert_eq!(snap.resource.platform, "statewall");
    let icmp_rule = snap
        .rules
        .iter()
        .find(|r| r.table == "filter" && r.id == "*3")
        .unwrap();
    assert_eq!((icmp_rule.chain.as_str(), icmp_rule.packets), ("input", 1));
    assert!(snap
        .rules
        .iter()
        .any(|r| r.table == "nat" && r.action == "masquerade"));

    // Filter on protocol.
    let (snap, _) = ask(&mut ws, json!({"window": {"protocol": "udp", "limit": 7}})).await;
    assert_eq!(snap.window.matching, 1);
    assert_eq!(snap.window.entries[0].dst_address, "192.0.2.1:53");
    // A subnet on either side: the router's own address is the ping's destination.
    let (snap, _) = ask(
        &mut ws,
        json!({"window": {"address": "198.51.100.1/32", "limit": 8}}),
    )
    .await;
    assert_eq!(snap.window.matching, 1);
    assert_eq!(snap.window.entries[0].protocol, "icmp");
    // Sort and slice: by destination port, descending, the second one.
    let (snap, _) = ask(
        &mut ws,
        json!({"window": {"sort": "dst-address", "descending": true, "offset": 1, "limit": 1}}),
    )
    .await;
    assert_eq!(snap.window.matching, 3);
    assert_eq!(snap.window.entries.len(), 1);
    assert_eq!(snap.window.entries[0].dst_address, "192.0.2.1:80");
    let (snap, _) = ask(
        &mut ws,
        json!({"window": {"port": "53", "tcp-state": "established", "limit": 2}}),
    )
    .await;
    assert_eq!((snap.window.matching, snap.window.entries.len()), (0, 0));

    // Bad messages: an error naming the field; the connection and its settings stay.
    for (bad, field) in [
        (
            json!({"window": {"limit": MAX_LIMIT + 1}}),
            Some("window.limit"),
        ),
        (
            json!({"window": {"address": "10.0.0.300"}}),
            Some("window.address"),
        ),
        (json!({"window": {"sort": "colour"}}), Some("window.sort")),
        (json!({"interval-ms": 10}), Some("interval-ms")),
        (json!({"interval-ms": "fast"}), Some("interval-ms")),
    ] {
        say(&mut ws, bad.clone()).await;
        loop {
            match next_message(&mut ws).await.0 {
                ServerMessage::Error(e) => {
                    assert_eq!(e.field.as_deref(), field, "{bad}: {e}");
                    break;
                }
                ServerMessage::Snapshot(_) => continue,
            }
        }
    }
    say(&mut ws, json!({"windw": {}})).await;
    let e = loop {
        if let ServerMessage::Error(e) = next_message(&mut ws).await.0 {
            break e;
        }
    };
    assert!(e.to_string().contains("windw"), "{e}");
    ws.send(Message::text("not json")).await.unwrap();
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    let mut errors = 0;
    while errors < 2 {
        if let ServerMessage::Error(_) = next_message(&mut ws).await.0 {
            errors += 1;
        }
    }
    // Still serving, with the last good window.
    let (snap, _) = ask(&mut ws, json!({"interval-ms": 200})).await;
    assert_eq!(snap.window.query.tcp_state.as_deref(), Some("established"));
    // A message larger than the limit ends the connection, not the server.
    let huge = json!({"window": {"tcp-state": "x".repeat(MAX_CLIENT_MESSAGE)}});
    let _ = ws.send(Message::text(huge.to_string())).await;
    let mut closed = false;
    for _ in 0..100 {
        if next_text(&mut ws, WAIT).await.is_none() {
            closed = true;
            break;
        }
    }
    assert!(
        closed,
        "the connection stays open after an oversized message"
    );
    let mut again = connect(addr).await;
    next_snapshot(&mut again).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_come_at_the_rate_the_client_picks() {
    let s = server();
    let addr = listen(&s, None).await;
    let mut ws = connect(addr).await;
    next_snapshot(&mut ws).await;
    // A minute between snapshots: one now, then nothing for a good while.
    let (snap, _) = ask(&mut ws, json!({"interval-ms": 60_000})).await;
    assert_eq!(snap.interval_ms, 60_000);
    assert!(next_text(&mut ws, Duration::from_millis(1500))
        .await
        .is_none());
    // 200 ms: one now, then one per tick (never faster).
    let (first, _) = ask(&mut ws, json!({"interval-ms": 200})).await;
    let started = std::time::Instant::now();
    let mut seqs = vec![first.seq];
    for _ in 0..4 {
        let (snap, _) = next_snapshot(&mut ws).await;
        assert_eq!(snap.interval_ms, 200);
        seqs.push(snap.seq);
    }
    // Four ticks after the first: never faster than asked (no upper bound: the machine may be
    // busy).
    assert!(started.elapsed() >= Duration::from_millis(3 * 200));
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");

    // Changing settings in a loop does not make snapshots (engine scans) faster than 200 ms.
    let started = std::time::Instant::now();
    for i in 0..20 {
        say(
            &mut ws,
            json!({"interval-ms": 60_000, "window": {"offset": i}}),
        )
        .await;
    }
    let mut snapshots = 0u128;
    while let Some(text) = next_text(&mut ws, Duration::from_millis(1000)).await {
        assert!(text.contains("\"type\":\"snapshot\""), "{text}");
        snapshots += 1;
    }
    let elapsed = started.elapsed().as_millis();
    assert!(snapshots >= 1);
    // (+ 2: one already on its way, and the first.)
    assert!(
        snapshots <= elapsed / 200 + 2,
        "{snapshots} in {elapsed} ms"
    );
}

/// 100 000 UDP flows from LAN hosts to the router's DNS port, through the real pipeline:
/// host `198.51.100.(10 + i % 200)`, source port `10000 + i / 200`.
fn big_table(cfg: &shared::config::RouterConfig) -> Local {
    let local = Local::with_table_size(cfg, 200_000);
    let router = Ipv4Addr::new(198, 51, 100, 1);
    for i in 0..100_000u32 {
        let host = Ipv4Addr::new(198, 51, 100, 10 + (i % 200) as u8);
        let frame = udp_frame(host, router, 10_000 + (i / 200) as u16, 53, b"q");
        local.receive(1, frame);
    }
    local
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_table_makes_bounded_messages_and_a_slow_client_no_backlog() {
    let s = server_with(big_table);
    // Small socket buffers on both sides: a snapshot of 500 entries cannot fit in them.
    let addr = listen(&s, Some(16 * 1024)).await;
    let mut ws = open(
        addr,
        &[(header::AUTHORIZATION, basic(ADMIN))],
        Some(8 * 1024),
    )
    .await
    .unwrap();
    let (snap, _) = next_snapshot(&mut ws).await;
    assert_eq!(snap.total_entries, 100_003);

    // The largest window: 500 entries, whatever the table holds.
    let (snap, len) = ask(
        &mut ws,
        json!({"window": {"sort": "src-address", "descending": true, "limit": MAX_LIMIT}}),
    )
    .await;
    assert_eq!(snap.window.matching, 100_003);
    assert_eq!(snap.window.entries.len(), MAX_LIMIT as usize);
    assert_eq!(snap.window.entries[0].src_address, "198.51.100.209:10499");
    let bound = MAX_LIMIT as usize * 1024 + 64 * 1024;
    assert!(len < bound, "{len} bytes");
    // One host's flows, a page in.
    let (snap, small) = ask(
        &mut ws,
        json!({"window": {"address": "198.51.100.15", "offset": 495, "limit": 10}}),
    )
    .await;
    assert_eq!(snap.window.matching, 500);
    assert_eq!(snap.window.entries.len(), 5);
    assert!(small < 32 * 1024, "{small} bytes");

    // Now the client stops reading, with large snapshots five times a second.
    let (_, big) = ask(
        &mut ws,
        json!({"interval-ms": 200, "window": {"limit": MAX_LIMIT}}),
    )
    .await;
    let feed = s.state.feed.clone();
    let sent_before = feed.sent.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Fifteen ticks passed: the server holds one message for the client, not fifteen.
    let pending = feed.pending_bytes.load(Ordering::Relaxed);
    assert!(pending <= big as u64 + 1024, "{pending} bytes pending");
    let sent_during = feed.sent.load(Ordering::Relaxed) - sent_before;
    assert!(
        sent_during <= 2,
        "{sent_during} messages written while stalled"
    );
    // Reading again: the client catches up with the present, and the missed ticks were
    // skipped rather than queued.
    for _ in 0..3 {
        next_snapshot(&mut ws).await;
    }
    assert!(feed.skipped.load(Ordering::Relaxed) >= 5);
    assert!(feed.pending_bytes.load(Ordering::Relaxed) <= big as u64 + 1024);
}

/// Every sample's family has one `# HELP` and one `# TYPE` before it; counters end in
/// `_total`. The samples, by `name{labels}`.
fn exposition(text: &str) -> HashMap<String, u64> {
    let mut help = HashMap::new();
    let mut kind: HashMap<String, String> = HashMap::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(
                help.insert(name.to_string(), ()).is_none(),
                "HELP twice: {name}"
            );
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, t) = rest.split_once(' ').unwrap();
            assert!(help.contains_key(name), "TYPE before HELP: {name}");
            assert!(["counter", "gauge"].contains(&t), "{line}");
            assert_eq!(t == "counter", name.ends_with("_total"), "{line}");
            assert!(kind.insert(name.into(), t.into()).is_none(), "TYPE twice");
        } else {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let name = series.split('{').next().unwrap();
            assert!(name.starts_with("statewall_"), "{line}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{line}"
            );
            assert!(kind.contains_key(name), "sample before its TYPE: {line}");
            if let Some(labels) = series.strip_prefix(name) {
                if !labels.is_empty() {
                    assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                }
            }
            let v = value.parse().unwrap_or_else(|_| panic!("{line}"));
            assert!(
                samples.insert(series.to_string(), v).is_none(),
                "twice: {line}"
            );
        }
    }
    samples
}

#[tokio::test]
async fn metrics_in_prometheus_text_format() {
    let s = server();
    let refused = s.send(request(None, Method::GET, "/metrics", None)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let req = request(Some(VIEWER), Method::GET, "/metrics", None);
    let res = tower::ServiceExt::oneshot(s.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    let m = exposition(&text);
    let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("no {k} in\n{text}"));
    assert_eq!(get("statewall_conntrack_entries"), 3);
    assert_eq!(get("statewall_conntrack_max_entries"), 65_536);
    assert_eq!(
        get(r#"statewall_conntrack_entries_by_protocol{protocol="udp"}"#),
        1
    );
    assert_eq!(
        get(r#"statewall_conntrack_entries_by_tcp_state{tcp_state="syn-sent"}"#),
        1
    );
    assert_eq!(
        get(r#"statewall_conntrack_packets_total{connection_state="new"}"#),
        3
    );
    assert_eq!(
        get(r#"statewall_conntrack_entry_events_total{event="created"}"#),
        3
    );
    assert_eq!(get(r#"statewall_drops_total{reason="filter-input"}"#), 0);
    assert_eq!(get(r#"statewall_packets_total{node="prerouting"}"#), 3);
    assert_eq!(
        get(r#"statewall_nat_translations_total{chain="srcnat"}"#),
        2
    );
    assert_eq!(
        get(r#"statewall_interface_rx_packets_total{interface="ether2"}"#),
        3
    );
    let icmp = r#"statewall_rule_packets_total{table="filter",chain="input",id="*3",action="accept",comment="defconf: accept ICMP"}"#;
    assert_eq!(get(icmp), 1);
    assert!(m.contains_key("statewall_feed_clients"));
    assert!(get("statewall_memory_total_bytes") > 0);
}

#[tokio::test]
async fn system_resource_as_routeros_rest() {
    let s = server();
    let a = s
        .send(request(None, Method::GET, "/rest/system/resource", None))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = s
        .call_as(VIEWER, Method::GET, "/rest/system/resource", None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let obj = a.json.as_object().expect("one object");
    assert!(obj.values().all(Value::is_string), "{}", a.json);
    for k in [
        "uptime",
        "cpu-load",
        "free-memory",
        "total-memory",
        "cpu-count",
        "version",
        "platform",
        "board-name",
        "architecture-name",
    ] {
        assert!(obj.contains_key(k), "{k} missing: {}", a.json);
    }
    assert_eq!(a.json["platform"], "statewall");
    let uptime: shared::duration::Duration = a.json["uptime"].as_str().unwrap().parse().unwrap();
    assert!(uptime.as_secs() < 7 * 86_400);
    let load: u64 = a.json["cpu-load"].as_str().unwrap().parse().unwrap();
    assert!(load <= 100);
    let total: u64 = a.json["total-memory"].as_str().unwrap().parse().unwrap();
    let free: u64 = a.json["free-memory"].as_str().unwrap().parse().unwrap();
    assert!(free <= total && total > 0);
    assert!(a.json["version"].as_str().unwrap().starts_with("0.1.0 ("));

    let p = s
        .call_as(
            VIEWER,
            Method::POST,
            "/rest/system/resource/print",
            Some(json!({".proplist": "platform,cpu-count"})),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let arr = p.json.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    assert_eq!(arr[0].as_object().unwrap().len(), 2);
    let count = s
        .post("/rest/system/resource/print", json!({"count-only": ""}))
        .await;
    assert_eq!(count.json, json!({"ret": "1"}));
    for (method, uri, detail) in [
        (
            Method::GET,
            "/rest/system/resource/cpu",
            "no such command or directory (cpu)",
        ),
        (
            Method::POST,
            "/rest/system/resource/set",
            "no such command (set)",
        ),
        (
            Method::PATCH,
            "/rest/system/resource",
            "no such command (PATCH)",
        ),
    ] {
        let a = s.call(method, uri, Some(json!({}))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(a.detail(), detail);
    }
}

#[tokio::test]
async fn browser_logins_give_a_session_cookie() {
    let s = server();
    let login = |name: &str, password: &str| {
        request(
            None,
            Method::POST,
            "/login",
            Some(json!({"name": name, "password": password})),
        )
    };
    let bad = s.send(login("admin", "wrong")).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    // No Basic prompt for the dashboard's own form.
    assert_eq!(bad.header(header::WWW_AUTHENTICATE), None);
    assert_eq!(bad.header(header::SET_COOKIE), None);
    let missing = s
        .send(request(
            None,
            Method::POST,
            "/login",
            Some(json!({"name": "admin"})),
        ))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.detail(), "missing =password=");

    let ok = s.send(login(VIEWER.0, VIEWER.1)).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json, json!({"name": "viewer", "group": "read"}));
    let set = ok.header(header::SET_COOKIE).unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    let with_cookie = |method: Method, uri: &str| {
        let mut r = request(None, method, uri, None);
        r.headers_mut()
            .insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        r
    };
    let a = s
        .send(with_cookie(Method::GET, "/rest/ip/firewall/filter"))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    // The session is the viewer's: read only.
    let a = s
        .send(with_cookie(Method::DELETE, "/rest/ip/firewall/filter/*1"))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // Disabling the user ends its sessions.
    let disable = s.post("/rest/user/disable", json!({".id": "viewer"})).await;
    assert_eq!(disable.status, StatusCode::OK, "{}", disable.json);
    let a = s
        .send(with_cookie(Method::GET, "/rest/ip/firewall/filter"))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);

    // Logging out ends a session.
    let ok = s.send(login(ADMIN.0, ADMIN.1)).await;
    let cookie = ok
        .header(header::SET_COOKIE)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let mut r = request(None, Method::GET, "/rest/system/identity", None);
    r.headers_mut()
        .insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
    assert_eq!(s.send(r).await.status, StatusCode::OK);
    // A password change (any change to /user) ends the sessions opened before it.
    let changed = s
        .post(
            "/rest/user/set",
            json!({".id": "admin", "password": ADMIN.1}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    let mut r = request(None, Method::GET, "/rest/system/identity", None);
    r.headers_mut()
        .insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
    assert_eq!(s.send(r).await.status, StatusCode::UNAUTHORIZED);
    let ok = s.send(login(ADMIN.0, ADMIN.1)).await;
    let cookie = ok
        .header(header::SET_COOKIE)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let mut out = request(None, Method::POST, "/logout", None);
    out.headers_mut()
        .insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
    let bye = s.send(out).await;
    assert_eq!(bye.status, StatusCode::OK);
    assert!(bye
        .header(header::SET_COOKIE)
        .unwrap()
        .contains("Max-Age=0"));
    let mut r = request(None, Method::GET, "/rest/system/identity", None);
    r.headers_mut()
        .insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
    assert_eq!(s.send(r).await.status, StatusCode::UNAUTHORIZED);
}
