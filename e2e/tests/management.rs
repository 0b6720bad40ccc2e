//! The management plane as a RouterOS user meets it: from a LAN host (pc1) over the lab's real
//! network to the router's LAN address, over HTTPS with HTTP Basic (the self-signed certificate
//! taken as it is, as `curl -k` and `verify=False` do): the REST connection table, a `requests`
//! client as RouterOS users write them, the websocket feed, export → restore, a scheduled
//! backup, and the binary API (the seed's section 4 script over `api-ssl`, librouteros).
//!
//! Each test starts its own lab (its router's state directory is its own), one at a time. HTTP
//! goes through `curl` and `python3` run in pc1's namespace; JSON answers are read with
//! `python3` (the e2e crate has no JSON parser).
//!
//! Needs root: skipped with a reason elsewhere, a failure under CI.

use backend::lab::{Node, INTERNET_HTTP, LAB_ADMIN_PASSWORD, PC_ADDRS, ROUTER_LAN, ROUTER_WAN};
use e2e::lab::{RouterLab, Setup};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddrV4, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How long the API has to answer at all after the lab started.
const API_READY: Duration = Duration::from_secs(10);

/// This test's turn (none if it must skip). Declare it before the lab.
fn turn(test: &str) -> Option<MutexGuard<'static, ()>> {
    if !e2e::env::require_root(test) {
        return None;
    }
    Some(ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Prints how long a test took (from its turn on), when it ends (also on failure).
struct Timer(&'static str, Instant);

impl Drop for Timer {
    fn drop(&mut self) {
        eprintln!("{}: {:.1} s", self.0, self.1.elapsed().as_secs_f64());
    }
}

/// A lab whose API answers over HTTPS from pc1.
fn start(test: &'static str) -> (Timer, RouterLab) {
    let timer = Timer(test, Instant::now());
    let lab = RouterLab::start(Setup::default());
    let deadline = Instant::now() + API_READY;
    loop {
        let (status, body) = curl(&lab, &["/rest/system/identity"]);
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the API did not answer over HTTPS within {API_READY:?} (last: {status} {body})"
        );
        thread::sleep(Duration::from_millis(200));
    }
    (timer, lab)
}

/// `https://198.51.100.1` + path.
fn url(path: &str) -> String {
    format!("https://{ROUTER_LAN}{path}")
}

/// `curl -sk -u admin:… [args…] URL` from pc1: the status and the body. `args` ends with the
/// path (`/rest/…`), which is made a URL.
fn curl(lab: &RouterLab, args: &[&str]) -> (u16, String) {
    let cred = format!("admin:{LAB_ADMIN_PASSWORD}");
    let (path, opts) = args.split_last().expect("a path");
    let target = url(path);
    let mut argv = vec![
        "curl",
        "-sk",
        "--max-time",
        "10",
        "-u",
        &cred,
        "-w",
        "\n%{http_code}",
    ];
    argv.extend_from_slice(opts);
    argv.push(&target);
    let out = lab.run(Node::Pc1, &argv);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// [`curl`] that must answer `want`.
fn curl_status(lab: &RouterLab, want: u16, args: &[&str]) -> String {
    let (status, body) = curl(lab, args);
    assert_eq!(status, want, "curl {args:?}: body:\n{body}");
    body
}

/// Evaluates a Python expression over the JSON document `json` (as `d`) and returns what it
/// prints.
fn json_eval(json: &str, expr: &str) -> String {
    let script = format!("import json,sys\nd=json.loads(sys.stdin.read())\nprint({expr})");
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .expect("python3's stdin")
        .write_all(json.as_bytes())
        .expect("writing to python3");
    let out = child.wait_with_output().expect("python3 ends");
    assert!(
        out.status.success(),
        "python3 `{expr}` on:\n{json}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// The entries of a `/ip/firewall/connection` listing whose `src-address` is `src`, each as
/// its fields.
fn entries_from(listing: &str, src: &str) -> Vec<BTreeMap<String, String>> {
    let lines = json_eval(
        listing,
        &format!("'\\n'.join(json.dumps(e) for e in d if e.get('src-address') == '{src}')"),
    );
    lines
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let fields = json_eval(l, "'\\n'.join(k + '\\t' + str(v) for k, v in d.items())");
            fields
                .lines()
                .filter_map(|f| f.split_once('\t'))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// A TCP connection from pc1 to the internet server's port 80 that stays established: a large
/// download read slowly (a few KB every 20 ms), so neither side's timeouts end it. Closed when
/// dropped.
struct HeldConnection {
    stream: TcpStream,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl HeldConnection {
    fn open(lab: &RouterLab) -> HeldConnection {
        let to = SocketAddrV4::new(INTERNET_HTTP, 80);
        let mut stream = lab
            .in_ns(Node::Pc1, || {
                TcpStream::connect_timeout(&to.into(), Duration::from_secs(5))
            })
            .unwrap_or_else(|e| panic!("connecting from pc1 to {to}: {e}"));
        write!(
            stream,
            "GET /download?bytes=1000000000 HTTP/1.0\r\nHost: {to}\r\n\r\n"
        )
        .expect("sending the request");
        let stop = Arc::new(AtomicBool::new(false));
        let (stop2, mut rd) = (stop.clone(), stream.try_clone().expect("a second handle"));
        let reader = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !stop2.load(Ordering::Relaxed) {
                if matches!(rd.read(&mut buf), Ok(0) | Err(_)) {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
        });
        HeldConnection {
            stream,
            stop,
            reader: Some(reader),
        }
    }

    /// `198.51.100.10:PORT`, as the connection table shows the original source.
    fn src(&self) -> String {
        let local = self.stream.local_addr().expect("the local address");
        assert_eq!(local.ip(), PC_ADDRS[0], "pc1's address");
        local.to_string()
    }
}

impl Drop for HeldConnection {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(t) = self.reader.take() {
            let _ = t.join();
        }
    }
}

/// Polls the REST connection list until pc1's held connection is in it (established).
fn wait_for_entry(lab: &RouterLab, src: &str) -> BTreeMap<String, String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let listing = curl_status(lab, 200, &["/rest/ip/firewall/connection"]);
        let found = entries_from(&listing, src);
        if let Some(e) = found
            .into_iter()
            .find(|e| e.get("tcp-state").map(String::as_str) == Some("established"))
        {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "no established entry from {src} in the connection list:\n{listing}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// 1. REST over HTTPS with Basic auth from pc1: the connection table lists pc1's open TCP
///    connection with RouterOS's fields, `print count-only` counts it, and `DELETE …/*ID`
///    removes it.
#[test]
fn rest_over_https_lists_counts_and_removes_a_live_connection() {
    const TEST: &str = "rest_over_https_lists_counts_and_removes_a_live_connection";
    let Some(_turn) = turn(TEST) else { return };
    let (_time, lab) = start(TEST);
    let held = HeldConnection::open(&lab);
    let src = held.src();
    let entry = wait_for_entry(&lab, &src);
    let field = |k: &str| entry.get(k).map(String::as_str).unwrap_or("<missing>");
    assert_eq!(field("protocol"), "tcp", "{entry:?}");
    assert_eq!(
        field("dst-address"),
        format!("{INTERNET_HTTP}:80"),
        "{entry:?}"
    );
    assert_eq!(
        field("reply-src-address"),
        format!("{INTERNET_HTTP}:80"),
        "{entry:?}"
    );
    assert!(
        field("reply-dst-address").starts_with(&format!("{ROUTER_WAN}:")),
        "the reply goes to the masquerade address: {entry:?}"
    );
    assert_eq!(field("tcp-state"), "established", "{entry:?}");
    let id = entry
        .get(".id")
        .unwrap_or_else(|| panic!("no .id in {entry:?}"))
        .clone();
    assert!(id.starts_with('*'), ".id {id:?}");

    let count = curl_status(
        &lab,
        200,
        &[
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"count-only":""}"#,
            "/rest/ip/firewall/connection/print",
        ],
    );
    let ret = json_eval(
        &count,
        "d['ret'] if list(d) == ['ret'] else 'bad: ' + json.dumps(d)",
    );
    let n: u64 = ret
        .parse()
        .unwrap_or_else(|_| panic!("count-only answered {count}"));
    assert!(n >= 1, "count-only: {count}");

    let path = format!("/rest/ip/firewall/connection/{id}");
    let (status, body) = curl(&lab, &["-X", "DELETE", &path]);
    assert_eq!(status, 204, "DELETE {path}: {body}");
    let listing = curl_status(&lab, 200, &["/rest/ip/firewall/connection"]);
    let ids = json_eval(&listing, "' '.join(e['.id'] for e in d)");
    assert!(
        !ids.split_whitespace().any(|i| i == id),
        "{id} is still listed after its DELETE:\n{listing}"
    );
}

/// The seed's cheat-sheet client (`API Reference Cheat Sheet`), unchanged; only its globals
/// (host, credentials, certificate check) are given.
const SEED_CLIENT: &str = r#"
# Universal API Helper Function
def mikrotik_api_call(
    method: str,
    endpoint: str,
    data: dict = None,
    timeout: int = 10
) -> dict:
    '''
    Universal MikroTik API handler with error checking
    '''
    try:
        response = requests.request(
            method,
            f"https://{ROUTER_IP}/rest{endpoint}",
            auth=HTTPBasicAuth(API_USER, API_PASS),
            json=data,
            verify=SSL_VERIFY,
            timeout=timeout
        )
        response.raise_for_status()
        return response.json()
    except requests.exceptions.HTTPError as e:
        print(f"API Error: {e.response.status_code} - {e.response.text}")
        return {"error": str(e)}
"#;

/// 2. The cheat sheet's `requests` client, run in pc1, prints the connection list with pc1's
///    connection in it.
#[test]
fn the_cheat_sheet_requests_client_prints_the_connection_list() {
    const TEST: &str = "the_cheat_sheet_requests_client_prints_the_connection_list";
    let Some(_turn) = turn(TEST) else { return };
    let (_time, lab) = start(TEST);
    let probe = lab.run(Node::Pc1, &["python3", "-c", "import requests"]);
    assert!(
        probe.status.success(),
        "python3 has no `requests` here (apt-get install python3-requests)"
    );
    let held = HeldConnection::open(&lab);
    let src = held.src();
    wait_for_entry(&lab, &src);
    let script = format!(
        "import json\nimport requests\nimport urllib3\nfrom requests.auth import HTTPBasicAuth\n\
         urllib3.disable_warnings()\n\
         ROUTER_IP = \"{ROUTER_LAN}\"\nAPI_USER = \"admin\"\nAPI_PASS = \"{LAB_ADMIN_PASSWORD}\"\n\
         SSL_VERIFY = False\n{SEED_CLIENT}\n\
         for entry in mikrotik_api_call(\"GET\", \"/ip/firewall/connection\"):\n    \
         print(json.dumps(entry, sort_keys=True))\n"
    );
    let out = lab.run_ok(Node::Pc1, &["python3", "-c", &script]);
    let line = out
        .lines()
        .find(|l| l.contains(&format!("\"src-address\": \"{src}\"")))
        .unwrap_or_else(|| panic!("the client printed no entry from {src}:\n{out}"));
    assert!(
        line.contains(&format!("\"dst-address\": \"{INTERNET_HTTP}:80\""))
            && line.contains("\"protocol\": \"tcp\""),
        "pc1's entry as the client printed it: {line}"
    );
}

/// The binary API as `statewall run` serves it by default (`api` 8728, `api-ssl` 8729 with the
/// HTTPS certificate), from pc1: the seed's section 4 script over TLS, and librouteros finding
/// pc1's live connection with `select().where()`.
#[test]
fn the_binary_api_serves_the_seeds_script_and_librouteros() {
    const TEST: &str = "the_binary_api_serves_the_seeds_script_and_librouteros";
    let Some(_turn) = turn(TEST) else { return };
    if !e2e::env::require_python_modules(TEST, &["routeros_api", "librouteros"]) {
        return;
    }
    let (_time, lab) = start(TEST);
    let held = HeldConnection::open(&lab);
    let src = held.src();
    wait_for_entry(&lab, &src);
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/seed_section4_api.py"
    );
    let host = format!("STATEWALL_HOST={ROUTER_LAN}");
    let password = format!("STATEWALL_PASSWORD={LAB_ADMIN_PASSWORD}");
    let out = lab.run_ok(
        Node::Pc1,
        &[
            "env",
            &host,
            "STATEWALL_USER=admin",
            &password,
            "python3",
            seed,
        ],
    );
    assert!(
        out.starts_with("Connection Tracking Statistics:") && out.contains("  udp-timeout: "),
        "the seed's script printed:\n{out}"
    );
    let script = format!(
        "import librouteros\nfrom librouteros.query import Key\n\
         api = librouteros.connect(\"{ROUTER_LAN}\", \"admin\", \"{LAB_ADMIN_PASSWORD}\")\n\
         conns = api.path(\"ip\", \"firewall\", \"connection\")\n\
         for row in conns.select(Key(\"dst-address\"), Key(\"protocol\"))\
         .where(Key(\"src-address\") == \"{src}\"):\n    print(row[\"protocol\"], row[\"dst-address\"])\n"
    );
    let out = lab.run_ok(Node::Pc1, &["python3", "-c", &script]);
    assert_eq!(
        out.trim(),
        format!("tcp {INTERNET_HTTP}:80"),
        "librouteros printed:\n{out}"
    );
}

/// A websocket client in ~40 lines of Python (RFC 6455 handshake, frames in): opens `/ws` with
/// Basic auth and prints the first snapshot whose window holds an entry from `argv[4]`.
const WS_CLIENT: &str = r#"
import base64, hashlib, json, os, socket, ssl, struct, sys, time
host, user, pw, want = sys.argv[1:5]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((host, 443), timeout=10), server_hostname=host)
key = base64.b64encode(os.urandom(16)).decode()
auth = base64.b64encode(f"{user}:{pw}".encode()).decode()
s.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
           f"Authorization: Basic {auth}\r\n\r\n").encode())
buf = b""
def need(n):
    global buf
    while len(buf) < n:
        c = s.recv(65536)
        if not c:
            sys.exit(f"closed by the server; got {buf[:300]!r}")
        buf += c
    out, buf = buf[:n], buf[n:]
    return out
while b"\r\n\r\n" not in buf:
    c = s.recv(4096)
    if not c:
        sys.exit(f"closed during the handshake; got {buf[:300]!r}")
    buf += c
head, buf = buf.split(b"\r\n\r\n", 1)
if not head.startswith(b"HTTP/1.1 101"):
    sys.exit(f"handshake refused: {head!r} {buf[:300]!r}")
accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
if accept not in head:
    sys.exit(f"wrong Sec-WebSocket-Accept: {head!r}")
def frame():
    b0, b1 = need(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", need(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", need(8))[0]
    mask = need(4) if b1 & 0x80 else None
    data = need(n)
    if mask:
        data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
    return b0 & 0x80, b0 & 0x0F, data
deadline, msg, seen = time.time() + 8, b"", 0
while time.time() < deadline:
    fin, op, data = frame()
    if op == 8:
        sys.exit(f"the server closed the feed: {data!r}")
    if op in (9, 10):
        continue
    msg += data
    if not fin:
        continue
    m, msg = json.loads(msg), b""
    if m.get("type") != "snapshot":
        sys.exit(f"not a snapshot: {m}")
    seen += 1
    for e in m["window"]["entries"]:
        if e.get("src-address") == want:
            print("snapshot", m["seq"], "matching", m["window"]["matching"])
            print(json.dumps(e, sort_keys=True))
            sys.exit(0)
sys.exit(f"{seen} snapshot(s), none with an entry from {want}")
"#;

/// 3. The websocket feed, opened from pc1 with Basic auth, pushes a snapshot whose window holds
///    pc1's connection.
#[test]
fn the_websocket_feed_pushes_a_snapshot_with_the_connection() {
    const TEST: &str = "the_websocket_feed_pushes_a_snapshot_with_the_connection";
    let Some(_turn) = turn(TEST) else { return };
    let (_time, lab) = start(TEST);
    let held = HeldConnection::open(&lab);
    let src = held.src();
    wait_for_entry(&lab, &src);
    let host = ROUTER_LAN.to_string();
    let out = lab.run_ok(
        Node::Pc1,
        &[
            "python3",
            "-c",
            WS_CLIENT,
            &host,
            "admin",
            LAB_ADMIN_PASSWORD,
            &src,
        ],
    );
    assert!(out.starts_with("snapshot "), "the client's output:\n{out}");
    assert!(
        out.contains(&format!("\"dst-address\": \"{INTERNET_HTTP}:80\""))
            && out.contains("\"protocol\": \"tcp\""),
        "pc1's entry in the feed:\n{out}"
    );
}

/// An export without its first line (`# DATE by statewall VERSION`).
fn without_header(export: &str) -> &str {
    assert!(export.starts_with("# "), "an export's header:\n{export}");
    export.split_once('\n').map_or("", |(_, rest)| rest)
}

/// `POST /backup/restore[?…]` with `script` as `text/plain`, from a file (the lab's hosts share
/// the file system).
fn restore(lab: &RouterLab, query: &str, script: &str) -> (u16, String) {
    let file = std::env::temp_dir().join(format!("{}restore.rsc", backend::lab::test_prefix()));
    std::fs::write(&file, script).expect("writing the restore script");
    let data = format!("@{}", file.display());
    let path = format!("/backup/restore{query}");
    let answer = curl(
        lab,
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: text/plain",
            "--data-binary",
            &data,
            &path,
        ],
    );
    let _ = std::fs::remove_file(&file);
    answer
}

/// The filter rules as `.id chain action` lines (no counters, which move).
fn filter_rules(lab: &RouterLab) -> String {
    let listing = curl_status(lab, 200, &["/rest/ip/firewall/filter"]);
    json_eval(
        &listing,
        "'\\n'.join(' '.join(e.get(k, '-') for k in ('.id', 'chain', 'action', 'comment')) for e in d)",
    )
}

/// 4. Export → restore of the same script changes nothing; a script with one bad line restores
///    nothing (400 naming the line), and `?dry-run=yes` reports it and changes nothing.
#[test]
fn export_restore_round_trips_and_a_bad_line_restores_nothing() {
    const TEST: &str = "export_restore_round_trips_and_a_bad_line_restores_nothing";
    let Some(_turn) = turn(TEST) else { return };
    let (_time, lab) = start(TEST);
    let first = curl_status(&lab, 200, &["/backup/export"]);
    assert!(
        first.contains("/ip firewall filter"),
        "the export has no filter rules:\n{first}"
    );
    let rules = filter_rules(&lab);
    assert!(
        rules.lines().count() >= 5,
        "defconf's filter rules:\n{rules}"
    );

    let (status, body) = restore(&lab, "", &first);
    assert_eq!(status, 200, "restoring the export itself: {body}");
    let second = curl_status(&lab, 200, &["/backup/export"]);
    assert_eq!(
        without_header(&second),
        without_header(&first),
        "the export after restoring the export"
    );

    let mut bad = first.clone();
    if !bad.ends_with('\n') {
        bad.push('\n');
    }
    let bad_line = bad.lines().count() + 2;
    bad.push_str("/ip firewall filter\nadd chain=forward action=acept\n");

    let (status, body) = restore(&lab, "?dry-run=yes", &bad);
    assert_eq!(status, 200, "dry run of the bad script: {body}");
    let errors = json_eval(
        &body,
        "'\\n'.join(str(e['line']) + ' ' + e['message'] for e in d['errors'])",
    );
    assert_eq!(
        errors.lines().count(),
        1,
        "the dry run's errors of the bad script: {body}"
    );
    assert!(
        errors.starts_with(&format!("{bad_line} ")) && errors.contains("acept"),
        "the dry run should name line {bad_line} and `acept`: {body}"
    );
    let (status, body) = restore(&lab, "?dry-run=yes", &first);
    assert_eq!(status, 200, "dry run of the good script: {body}");
    assert_eq!(json_eval(&body, "len(d['errors'])"), "0", "{body}");

    let (status, body) = restore(&lab, "", &bad);
    assert_eq!(status, 400, "restoring the bad script: {body}");
    let detail = json_eval(&body, "d['detail']");
    assert!(
        detail.contains(&format!("line {bad_line},")),
        "the refusal should name line {bad_line}: {detail}"
    );

    assert_eq!(
        filter_rules(&lab),
        rules,
        "the filter rules after the refusals"
    );
    let third = curl_status(&lab, 200, &["/backup/export"]);
    assert_eq!(
        without_header(&third),
        without_header(&first),
        "the export after the dry runs and the refused restore"
    );
}

/// 5. A scheduler entry `/export file=e2e-backup` every 5 s from startup writes
///    `e2e-backup.rsc` within 12 s; the file is an export that a dry-run restore takes.
#[test]
fn a_scheduled_backup_appears_within_its_interval() {
    const TEST: &str = "a_scheduled_backup_appears_within_its_interval";
    let Some(_turn) = turn(TEST) else { return };
    let (_time, lab) = start(TEST);
    let body = curl_status(
        &lab,
        201,
        &[
            "-X",
            "PUT",
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"name":"e2e-backup","interval":"5s","on-event":"/export file=e2e-backup","start-time":"startup"}"#,
            "/rest/system/scheduler",
        ],
    );
    assert!(body.contains("e2e-backup"), "the added entry: {body}");
    let added = Instant::now();
    loop {
        let files = curl_status(&lab, 200, &["/backup/files"]);
        let names = json_eval(&files, "' '.join(f['name'] for f in d)");
        if names.split_whitespace().any(|n| n == "e2e-backup.rsc") {
            eprintln!(
                "e2e-backup.rsc after {:.1} s",
                added.elapsed().as_secs_f64()
            );
            break;
        }
        assert!(
            added.elapsed() < Duration::from_secs(12),
            "no e2e-backup.rsc in /backup/files 12 s after the entry was added: {files}"
        );
        thread::sleep(Duration::from_millis(500));
    }
    let backup = curl_status(&lab, 200, &["/backup/files/e2e-backup.rsc"]);
    assert!(
        backup.starts_with("# ") && backup.contains("/ip firewall filter"),
        "the backup:\n{backup}"
    );
    assert!(
        backup.contains("/system scheduler"),
        "the backup holds the scheduler:\n{backup}"
    );
    let (status, answer) = restore(&lab, "?dry-run=yes", &backup);
    assert_eq!(status, 200, "dry run of the backup: {answer}");
    assert_eq!(
        json_eval(&answer, "len(d['errors'])"),
        "0",
        "the backup does not restore cleanly: {answer}"
    );
}

/// An address added through the API is in force at once: the router answers ARP for it and the
/// host's services (the API itself) answer on it, behind the input chain.
#[test]
fn an_address_added_through_the_api_serves_at_once() {
    const TEST: &str = "an_address_added_through_the_api_serves_at_once";
    let Some(_turn) = turn(TEST) else { return };
    let (_time, lab) = start(TEST);
    curl_status(
        &lab,
        201,
        &[
            "-X",
            "PUT",
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"address":"198.51.100.254/24","interface":"ether2"}"#,
            "/rest/ip/address",
        ],
    );
    let cred = format!("admin:{LAB_ADMIN_PASSWORD}");
    let out = lab.run(
        Node::Pc1,
        &[
            "curl",
            "-sk",
            "--max-time",
            "10",
            "-u",
            &cred,
            "https://198.51.100.254/rest/system/identity",
        ],
    );
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(
        body.contains("\"name\""),
        "the API on the new address 198.51.100.254: {body} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
