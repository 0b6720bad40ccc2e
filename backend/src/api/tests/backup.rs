//! Backup and restore, `/system/scheduler` and its scheduled backups, `/ip/service`, HTTPS with
//! a real TLS client, and the saved configuration under `kill -9`.

use super::support::{all_strings, request, server, Local, Server, ADMIN, SOHO, VIEWER};
use crate::api::{app, backup, run_due, ConfigState, Service};
use crate::scheduler::{UnixTime, DEFAULT_POLICY};
use crate::store::{Store, BACKUPS_DIR, CONFIG_FILE};
use crate::tls;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use base64::Engine as _;
use serde_json::{json, Value};
use shared::config::edit::Change;
use shared::config::RouterConfig;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

/// The seed's `backup_config_daily`, as the scheduler tests use it (see `scheduler.rs`).
const DAILY: &str = include_str!("../../../fixtures/backup_config_daily.rsc");
const SCHED: &str = "/rest/system/scheduler";
/// 2025-02-03 21:27:18 UTC.
const T: UnixTime = 1_738_618_038;
const DAY: UnixTime = 86_400;

/// An answer whose body is text.
struct Text {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Text {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn raw(s: &Server, req: Request<Body>) -> Text {
    let res = s.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Text {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get_text(s: &Server, who: (&str, &str), uri: &str) -> Text {
    raw(s, request(Some(who), Method::GET, uri, None)).await
}

/// `POST uri` with `body` as `content_type`.
fn typed(who: (&str, &str), uri: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", who.0, who.1));
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Basic {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

async fn restore(s: &Server, query: &str, script: &str) -> Text {
    let uri = format!("/backup/restore{query}");
    let req = typed(ADMIN, &uri, "text/plain; charset=utf-8", script.into());
    raw(s, req).await
}

fn pairs(args: &[(&str, &str)]) -> Vec<(String, String)> {
    args.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What a restore must leave alone when it fails.
fn saved_state(s: &Server) -> (String, String, Vec<String>, String) {
    let read = |name: &str| std::fs::read_to_string(s.dir.0.join(name)).unwrap_or_default();
    let names = s
        .state
        .scheduler
        .rows()
        .iter()
        .map(|r| r.get("name").unwrap().to_string())
        .collect();
    let identity = s.state.identity.read().unwrap().clone();
    (read(CONFIG_FILE), read("scheduler.rsc"), names, identity)
}

#[tokio::test]
async fn scheduler_is_a_list_menu_checked_up_front_and_saved() {
    let s = server();
    let added = s
        .call(
            Method::PUT,
            SCHED,
            Some(json!({
                "name": "daily_config_backup", "interval": "24h", "start-time": "3:00:00",
                "on-event": DAILY, "policy": DEFAULT_POLICY,
            })),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.json);
    assert_eq!(
        added.header(header::LOCATION),
        Some("/rest/system/scheduler/*1")
    );
    let e = &added.json;
    assert!(all_strings(&json!([e])), "{e}");
    assert_eq!(e["interval"], "1d");
    assert_eq!(e["start-time"], "03:00:00");
    assert_eq!(e["run-count"], "0");
    assert_eq!(e["disabled"], "false");
    assert_eq!(e["on-event"], DAILY);
    assert!(e["start-date"].as_str().unwrap().len() == 10, "{e}");
    assert!(
        e["next-run"].as_str().unwrap().ends_with(" 03:00:00"),
        "{e}"
    );
    assert_eq!(s.get(SCHED).await.json.as_array().unwrap().len(), 1);
    let by_name = s.get(&format!("{SCHED}/daily_config_backup")).await;
    assert_eq!(by_name.json[".id"], "*1");

    let set = s
        .call(
            Method::PATCH,
            &format!("{SCHED}/*1"),
            Some(json!({"interval": "12h"})),
        )
        .await;
    assert_eq!(set.json["interval"], "12h");
    s.post(&format!("{SCHED}/disable"), json!({".id": "*1"}))
        .await;
    let off = s.get(&format!("{SCHED}/*1")).await.json;
    assert_eq!(
        (off["disabled"].as_str(), off.get("next-run")),
        (Some("true"), None)
    );
    s.post(&format!("{SCHED}/enable"), json!({".id": "*1"}))
        .await;

    // Outside the script subset: refused when added, naming the command and where it is.
    let bad = [
        (
            ":log info ok\n/system backup save name=x",
            "on-event, line 2, column 1: /system backup save: binary backups are not supported",
        ),
        (
            "/tool fetch url=http://x",
            "on-event, line 1, column 1: unknown command /tool fetch",
        ),
        (
            "backup_config_daily",
            "there is no /system script: on-event holds the script itself",
        ),
    ];
    for (script, want) in bad {
        let a = s
            .call(
                Method::PUT,
                SCHED,
                Some(json!({"name": "x", "on-event": script})),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(a.detail().contains(want), "{}", a.detail());
    }
    let dup = s
        .call(
            Method::PUT,
            SCHED,
            Some(json!({"name": "daily_config_backup"})),
        )
        .await;
    assert!(
        dup.detail().contains("already has an entry named"),
        "{}",
        dup.json
    );
    let unknown = s
        .call(
            Method::PUT,
            SCHED,
            Some(json!({"name": "y", "every": "1d"})),
        )
        .await;
    assert!(unknown.detail().contains("unknown argument \"every\""));
    let viewer = s
        .call_as(VIEWER, Method::PUT, SCHED, Some(json!({"name": "v"})))
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    assert_eq!(s.get(SCHED).await.json.as_array().unwrap().len(), 1);

    // Saved as a script, and loaded back as it was.
    let saved = std::fs::read_to_string(s.dir.0.join("scheduler.rsc")).unwrap();
    assert!(
        saved.contains("/system scheduler\nadd interval=12h name=daily_config_backup on-event="),
        "{saved}"
    );
    let store = Store::open(&s.dir.0).unwrap();
    let loaded = crate::api::Scheduler::load(&store, T).unwrap();
    let shown = |o: &Value| {
        let mut o = o.clone();
        o.as_object_mut().unwrap().remove("next-run");
        o
    };
    let now = s.get(SCHED).await.json;
    assert_eq!(
        loaded
            .rows()
            .into_iter()
            .map(|r| shown(&Value::Object(r.into_json())))
            .collect::<Vec<_>>(),
        now.as_array()
            .unwrap()
            .iter()
            .map(shown)
            .collect::<Vec<_>>()
    );
    // The export has it, `$` escaped as RouterOS writes it.
    let export = s.post("/rest/export", json!({})).await.json["ret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        export.contains("/system scheduler\nadd interval=12h"),
        "{export}"
    );
    assert!(export.contains("\\$backup_path"), "{export}");

    let del = s.call(Method::DELETE, &format!("{SCHED}/*1"), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(SCHED).await.json, json!([]));
}

#[tokio::test]
async fn the_seeds_backup_runs_on_schedule_and_old_files_go() {
    let s = server();
    let sched = &s.state.scheduler;
    let store = s.state.config.store();
    sched.set_keep_backups(2);
    let add = Change::Add(pairs(&[
        ("name", "daily_config_backup"),
        ("interval", "1d"),
        ("start-time", "03:00:00"),
        ("on-event", DAILY),
    ]));
    sched.apply(store, &add, T).unwrap();
    // Added at 21:27: nothing is due until 03:00 the next day, then every day.
    assert!(sched.take_due(T).is_empty());
    let first = (T / DAY + 1) * DAY + 3 * 3600;
    assert!(sched.take_due(first - 1).is_empty());
    let mut written = Vec::new();
    for day in 0..3 {
        let at = first + day * DAY;
        let due = sched.take_due(at);
        assert_eq!(due.len(), 1, "day {day}");
        run_due(&s.state, due, at);
        assert!(sched.take_due(at).is_empty());
        let date = crate::scheduler::Civil::from_unix(at).date();
        written.push(format!("backup_{date}_03:00:00.rsc"));
    }
    assert_eq!(s.get(SCHED).await.json[0]["run-count"], "3");
    // Two kept, the oldest removed.
    let names: Vec<String> = store
        .backups()
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, written[1..]);
    // Each is a whole export: the header at its time, and it restores to what runs.
    let text = String::from_utf8(store.read_backup(&written[2]).unwrap().unwrap()).unwrap();
    assert!(
        text.starts_with("# 2025-02-06 03:00:00 by statewall "),
        "{text}"
    );
    let r = backup::check(&text, T, T).unwrap();
    assert_eq!(&r.config, s.state.config.read().config());
    assert_eq!(r.entries.len(), 1);

    // Listed and downloaded through the API.
    let list = s.call_as(VIEWER, Method::GET, "/backup/files", None).await;
    assert_eq!(list.status, StatusCode::OK);
    let files = list.json.as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[1]["name"], written[2].as_str());
    assert_eq!(files[1]["size"], text.len());
    assert_eq!(files[1]["time"].as_str().unwrap().len(), 19);
    let one = get_text(&s, ADMIN, &format!("/backup/files/{}", written[2])).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body, text);
    assert_eq!(
        one.header(header::CONTENT_DISPOSITION),
        format!("attachment; filename=\"{}\"", written[2])
    );
    // Nothing outside backups/ can be named.
    std::fs::write(s.dir.0.join(BACKUPS_DIR).join(".hidden"), "x").unwrap();
    for uri in [
        "/backup/files/..%2Fconfig.rsc",
        "/backup/files/..%2F..%2Fetc%2Fpasswd",
        "/backup/files/../config.rsc",
        "/backup/files/%2E%2E",
        "/backup/files/%2Fetc%2Fpasswd",
        "/backup/files/.hidden",
        "/backup/files/backup_nothing.rsc",
    ] {
        let a = get_text(&s, ADMIN, uri).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}: {}", a.body);
    }
    assert_eq!(
        get_text(&s, ("admin", "wrong"), "/backup/files")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn exports_download_with_options() {
    let s = server();
    let plain = get_text(&s, VIEWER, "/backup/export").await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(
        plain.header(header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    let disposition = plain.header(header::CONTENT_DISPOSITION);
    let name = disposition
        .strip_prefix("attachment; filename=\"statewall-statewall-")
        .and_then(|n| n.strip_suffix(".rsc\""))
        .unwrap_or_else(|| panic!("{disposition}"));
    assert!(
        name.len() == 15
            && name.as_bytes()[8] == b'-'
            && name.replace('-', "").bytes().all(|b| b.is_ascii_digit()),
        "{disposition}"
    );
    let first = plain.body.lines().next().unwrap();
    assert!(
        first.starts_with("# ") && first.contains(" by statewall "),
        "{first}"
    );
    assert_eq!(
        RouterConfig::from_rsc(&plain.body).unwrap(),
        *s.state.config.read().config()
    );

    let verbose = get_text(&s, ADMIN, "/backup/export?verbose=yes").await;
    assert!(verbose.body.contains(" !src-address"), "{}", verbose.body);
    assert!(verbose
        .body
        .contains("/system identity\nset name=statewall"));
    assert_eq!(
        RouterConfig::from_rsc(
            &verbose
                .body
                .replace("/system identity\nset name=statewall\n", "")
        )
        .unwrap(),
        *s.state.config.read().config()
    );
    let terse = get_text(&s, ADMIN, "/backup/export?terse").await;
    assert!(
        terse.body.contains("\n/ip firewall nat add "),
        "{}",
        terse.body
    );
    assert_eq!(
        get_text(&s, VIEWER, "/backup/export?show-sensitive=yes")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get_text(&s, ADMIN, "/backup/export?show-sensitive=yes")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        get_text(&s, ADMIN, "/backup/export?verbose=maybe")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get_text(&s, ADMIN, "/backup/export?file=x").await.status,
        StatusCode::BAD_REQUEST
    );

    // The identity names the file and is in the export.
    s.post("/rest/system/identity/set", json!({"name": "gw 1"}))
        .await;
    let named = get_text(&s, ADMIN, "/backup/export").await;
    assert!(named
        .header(header::CONTENT_DISPOSITION)
        .starts_with("attachment; filename=\"statewall-gw_1-"));
    assert!(
        named.body.contains("/system identity\nset name=\"gw 1\""),
        "{}",
        named.body
    );

    // POST /rest/export file=NAME writes backups/NAME.rsc (full group only).
    let wrote = s.post("/rest/export", json!({"file": "manual"})).await;
    assert_eq!((wrote.status, &wrote.json), (StatusCode::OK, &json!([])));
    let saved = s
        .state
        .config
        .store()
        .read_backup("manual.rsc")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8(saved)
        .unwrap()
        .contains("/ip firewall filter"));
    let viewer = s
        .call_as(
            VIEWER,
            Method::POST,
            "/rest/export",
            Some(json!({"file": "v"})),
        )
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    let bad = s.post("/rest/export", json!({"file": "a b"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.detail().starts_with("invalid value for argument file"));
}

#[tokio::test]
async fn export_then_restore_changes_nothing() {
    let s = server();
    s.post("/rest/system/identity/set", json!({"name": "gw"}))
        .await;
    let entry =
        json!({"name": "daily", "interval": "1d", "start-time": "03:00:00", "on-event": DAILY});
    s.call(Method::PUT, SCHED, Some(entry)).await;
    let running = s.state.config.read().config().clone();
    let before = (
        running,
        s.get(SCHED).await.json,
        s.get("/rest/ip/firewall/filter").await.json,
    );
    for verbose in ["", "?verbose=yes"] {
        let export = get_text(&s, ADMIN, &format!("/backup/export{verbose}"))
            .await
            .body;
        let dry = restore(&s, "?dry-run=yes", &export).await;
        assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
        let dry = dry.json();
        assert_eq!(dry["errors"], json!([]));
        assert_eq!(dry["summary"]["ip/firewall/filter"], 11);
        assert_eq!(dry["summary"]["system/scheduler"], 1);
        assert_eq!(dry["summary"]["system/identity"], "gw");
        let done = restore(&s, "", &export).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(done.json()["restored"], true);
        s.assert_saved();
        let running = s.state.config.read().config().clone();
        let after = (
            running,
            s.get(SCHED).await.json,
            s.get("/rest/ip/firewall/filter").await.json,
        );
        assert_eq!(after, before, "restoring the export{verbose}");
        assert_eq!(*s.state.identity.read().unwrap(), "gw");
    }
}

#[tokio::test]
async fn restore_is_all_or_nothing() {
    let s = server();
    s.call(
        Method::PUT,
        SCHED,
        Some(json!({"name": "keep", "on-event": ":log info kept"})),
    )
    .await;
    let untouched = saved_state(&s);
    let export = get_text(&s, ADMIN, "/backup/export").await.body;

    // One bad line: nothing restored, and the answer says which.
    let line = export
        .lines()
        .position(|l| l.starts_with("add address=203.0.113.2/24"))
        .unwrap()
        + 1;
    let bad = export.replace("add address=203.0.113.2/24", "add address=203.0.113.300/24");
    let a = restore(&s, "", &bad).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    let body = a.json();
    assert_eq!(body["error"], 400);
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["line"], line);
    // At the value.
    assert_eq!(errors[0]["column"], 13);
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("203.0.113.300/24"));
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("nothing was restored") && detail.contains(&format!("line {line}")));
    assert_eq!(saved_state(&s), untouched);

    // A dry run reports every mistake, of the configuration and of the scheduler, in order.
    let two = format!(
        "{bad}/system scheduler\nadd name=nightly on-event=\"/system backup save name=x\"\n"
    );
    let dry = restore(&s, "?dry-run=yes", &two).await;
    assert_eq!(dry.status, StatusCode::OK);
    let errors = dry.json()["errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0]["line"], line);
    assert!(errors[1]["line"].as_u64().unwrap() > line as u64);
    assert!(errors[1]["message"]
        .as_str()
        .unwrap()
        .contains("binary backups are not supported"));
    assert_eq!(saved_state(&s), untouched);

    // Refused requests.
    let json_body = typed(
        ADMIN,
        "/backup/restore",
        "application/json",
        export.clone().into(),
    );
    assert_eq!(
        raw(&s, json_body).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let viewer = typed(
        VIEWER,
        "/backup/restore",
        "text/plain",
        export.clone().into(),
    );
    assert_eq!(raw(&s, viewer).await.status, StatusCode::FORBIDDEN);
    let huge = vec![b'#'; backup::RESTORE_LIMIT + 1];
    let huge = typed(ADMIN, "/backup/restore", "text/plain", huge);
    assert_eq!(raw(&s, huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let binary = typed(ADMIN, "/backup/restore", "text/plain", vec![0xff, 0xfe]);
    assert_eq!(raw(&s, binary).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        restore(&s, "?dry-run=maybe", &export).await.status,
        StatusCode::BAD_REQUEST
    );
    // The dataplane refusing it: nothing changes either.
    s.local
        .fail_reconfigure
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let other = "/ip address\nadd address=192.0.2.1/24 interface=ether1\n";
    assert_eq!(
        restore(&s, "", other).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(saved_state(&s), untouched);
    s.assert_saved();

    // A good script replaces everything: configuration, identity, scheduler.
    let script = format!("{other}/system identity\nset name=other\n");
    let a = restore(&s, "", &script).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["summary"]["ip/address"], 1);
    let want = RouterConfig::from_rsc(other).unwrap();
    assert_eq!(*s.state.config.read().config(), want);
    assert_eq!(s.local.applied.lock().unwrap().as_ref(), Some(&want));
    s.assert_saved();
    assert_eq!(*s.state.identity.read().unwrap(), "other");
    assert_eq!(s.get(SCHED).await.json, json!([]));
    assert_eq!(
        std::fs::read_to_string(s.dir.0.join("identity")).unwrap(),
        "other\n"
    );
}

#[tokio::test]
async fn ip_service_lists_www_and_www_ssl() {
    let s = server();
    let mut st = s.state.clone();
    st.services = Arc::new(vec![
        Service::www(Some("0.0.0.0:80".parse().unwrap())),
        Service::www_ssl(Some("0.0.0.0:8443".parse().unwrap()), "self-signed".into()),
    ]);
    let s = Server { app: app(st), ..s };
    let a = s.get("/rest/ip/service").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(all_strings(&a.json));
    assert_eq!(
        a.json,
        json!([
            {".id": "*0", "address": "", "disabled": "false", "invalid": "false",
             "listen": "0.0.0.0:80", "name": "www", "port": "80"},
            {".id": "*1", "address": "", "certificate": "self-signed", "disabled": "false",
             "invalid": "false", "listen": "0.0.0.0:8443", "name": "www-ssl", "port": "8443",
             "tls-version": "any"},
        ])
    );
    assert_eq!(s.get("/rest/ip/service/www-ssl").await.json["port"], "8443");
    let set = s
        .call(
            Method::PATCH,
            "/rest/ip/service/*0",
            Some(json!({"port": "81"})),
        )
        .await;
    assert_eq!(set.status, StatusCode::BAD_REQUEST);
}

mod https {
    use super::*;
    use hyper_util::rt::TokioIo;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
    use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

    /// A GET over TLS, trusting only `roots`, checking the certificate for `statewall`.
    async fn get(
        addr: SocketAddr,
        roots: &RootCertStore,
        who: Option<(&str, &str)>,
        path: &str,
    ) -> (StatusCode, HeaderMap, String) {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("statewall").unwrap();
        let tls = connector.connect(name, tcp).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = request(who, Method::GET, path, None);
        let (mut parts, body) = req.into_parts();
        parts
            .headers
            .insert(header::HOST, "statewall".parse().unwrap());
        let res = sender
            .send_request(Request::from_parts(parts, body))
            .await
            .unwrap();
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(Body::new(body), usize::MAX)
            .await
            .unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    /// Starts the HTTPS server on 127.0.0.1 with the state directory's certificate.
    async fn start(
        s: &Server,
    ) -> (
        SocketAddr,
        tls::Source,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        let localhost = "127.0.0.1".parse().unwrap();
        let (config, source) =
            tls::load(s.state.config.store(), None, "statewall", &[localhost]).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(tls::serve(listener, config, app(s.state.clone()), async {
            let _ = stopped.await;
        }));
        (addr, source, stop, task)
    }

    #[tokio::test]
    async fn a_real_client_logs_in_over_tls_and_the_certificate_is_kept() {
        let s = server();
        let (addr, source, stop, task) = start(&s).await;
        assert!(matches!(
            source,
            tls::Source::SelfSigned { created: true, .. }
        ));
        let cert_path = s.dir.0.join(tls::TLS_DIR).join(tls::CERT_FILE);
        let first_cert = std::fs::read(&cert_path).unwrap();
        let mut roots = RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(&first_cert) {
            roots.add(c.unwrap()).unwrap();
        }
        let (status, headers, _) = get(addr, &roots, None, "/rest/system/identity").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            headers.get(header::WWW_AUTHENTICATE).unwrap(),
            "Basic realm=\"statewall\""
        );
        let (status, _, body) = get(addr, &roots, Some(ADMIN), "/rest/system/identity").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"name": "statewall"})
        );
        stop.send(()).unwrap();
        task.await.unwrap().unwrap();

        // A second start uses the same certificate: the client trusting the first still
        // connects.
        let (addr, source, stop, task) = start(&s).await;
        assert!(matches!(
            source,
            tls::Source::SelfSigned { created: false, .. }
        ));
        assert_eq!(std::fs::read(&cert_path).unwrap(), first_cert);
        let (status, _, _) = get(addr, &roots, Some(ADMIN), "/rest/ip/firewall/filter").await;
        assert_eq!(status, StatusCode::OK);
        stop.send(()).unwrap();
        task.await.unwrap().unwrap();
    }
}

/// The child of the crash test: makes changes through the real change path (check, save,
/// reconfigure, commit) to the state directory `STATEWALL_CRASH_DIR` until it is killed (or,
/// should its parent be gone, for [`CHILD_LIFETIME`] at most).
const READY: &str = "crash-child ready";
const CHILD_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30);

#[test]
#[ignore = "the crash test's child process; runs only when that test starts it"]
fn crash_child() {
    let Some(dir) = std::env::var_os("STATEWALL_CRASH_DIR") else {
        return;
    };
    let store = Store::open(std::path::Path::new(&dir)).unwrap();
    let cfg = match store.load().unwrap() {
        Some(cfg) => cfg,
        None => {
            let cfg = RouterConfig::from_rsc(SOHO).unwrap();
            store.save(&cfg).unwrap();
            cfg
        }
    };
    let local = Local::new(&cfg);
    let config = ConfigState::new(store, cfg);
    let path: &[&str] = &["ip", "firewall", "address-list"];
    println!("\n{READY}");
    let started = std::time::Instant::now();
    // Addresses new to this child (an address may be in a list once).
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u32;
    for i in 0u32.. {
        if started.elapsed() > CHILD_LIFETIME {
            return;
        }
        let n = base.wrapping_add(i);
        let address = format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255);
        let comment = format!("change {i} {}", "x".repeat((i % 7) as usize * 40));
        let add = Change::Add(pairs(&[
            ("list", "crash"),
            ("address", &address),
            ("comment", &comment),
        ]));
        // An address some earlier child left behind is refused; the next one is not.
        if config.change(&local, path, &add).is_err() {
            continue;
        }
        let ids: Vec<u32> = config
            .read()
            .list(path)
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect();
        if ids.len() > 20 {
            config
                .change(&local, path, &Change::Remove(ids[..5].to_vec()))
                .unwrap();
        }
    }
}

/// `kill -9` while changes are being saved, 30 times: every time, the saved configuration is
/// whole and parses, and so is its previous copy.
#[test]
fn saved_configuration_survives_kill_9_while_changing() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = crate::store::tests::TempDir::new("crash");
    let exe = std::env::current_exe().unwrap();
    // A little randomness without a crate: the clock's nanoseconds through xorshift.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    let mut random = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    // Rounds whose child saved something before it was killed.
    let mut changed = 0;
    let mut previous = String::new();
    for round in 0..30 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "api::tests::backup::crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("STATEWALL_CRASH_DIR", &dir.0)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Its "ready" line, read on a thread so a child that never says it cannot hang the test.
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let ready = BufReader::new(out)
                .lines()
                .map_while(Result::ok)
                .any(|l| l == READY);
            let _ = tx.send(ready);
        });
        let ready = rx.recv_timeout(std::time::Duration::from_secs(30));
        if ready != Ok(true) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("round {round}: the child did not start ({ready:?})");
        }
        std::thread::sleep(std::time::Duration::from_millis(5 + random(60)));
        // SIGKILL, to this child only (by its pid).
        child.kill().unwrap();
        child.wait().unwrap();
        for name in [CONFIG_FILE, crate::store::BACKUP_FILE] {
            let Ok(text) = std::fs::read_to_string(dir.0.join(name)) else {
                assert_eq!(name, crate::store::BACKUP_FILE, "round {round}: no {name}");
                continue;
            };
            if let Err(e) = RouterConfig::from_rsc(&text) {
                panic!("round {round}: {name} is broken: {e:?}\n{text}");
            }
            if name == CONFIG_FILE && text != previous {
                changed += 1;
                previous = text;
            }
        }
    }
    // The kills did land while changes were being made (how often depends on the machine's
    // load, so only "at all" is asserted).
    assert!(changed > 1, "no change was ever saved");
}
