//! `statewall console` end to end: the real binary against a real binary API server
//! (`ros_api::serve`, plain and TLS, on 127.0.0.1 ephemeral ports) over a router in memory
//! (`backend::testing`: the SOHO configuration, a TCP, a UDP and an ICMP connection).
//!
//! - through `-c`: every console command of the seed's sections 3, 5 and 9 that statewall
//!   runs (and the seed's mistakes, refused as RouterOS refuses them), prints, `where`,
//!   item numbers, `[find]`, errors, TLS, logins;
//! - in a pty (expectrl), as a person types: the prompt, menu navigation, Tab completion,
//!   history, `interval=` stopped by Ctrl-C, `/quit`.

use backend::api::AppState;
use backend::ros_api::{self, Options};
use backend::testing::{self, Local, TempDir, ADMIN, VIEWER};
use expectrl::{Expect, Session};
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

const STATEWALL: &str = env!("CARGO_BIN_EXE_statewall");

/// A router in memory behind the binary API on two ephemeral ports.
struct Router {
    _runtime: tokio::runtime::Runtime,
    plain: SocketAddr,
    tls: SocketAddr,
    cert: std::path::PathBuf,
    _state: AppState,
    local: Arc<Local>,
    _stop: tokio::sync::watch::Sender<bool>,
    dir: TempDir,
}

impl Router {
    fn start() -> Router {
        Router::start_with(Options::default())
    }

    fn start_with(options: Options) -> Router {
        let dir = TempDir::new("console");
        let (state, local) = testing::state_with(&dir, Local::new);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let (cert, key) =
            backend::tls::self_signed("statewall", &[]).expect("a self-signed certificate");
        let cert_path = dir.0.join("cert.pem");
        let key_path = dir.0.join("key.pem");
        std::fs::write(&cert_path, cert).expect("cert written");
        std::fs::write(&key_path, key).expect("key written");
        let https = backend::tls::server_config(&cert_path, &key_path).expect("TLS config");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let bind = |tls| {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .expect("a port");
            let addr = listener.local_addr().expect("its address");
            let mut stopped = stopped.clone();
            runtime.spawn(ros_api::serve(
                listener,
                tls,
                state.clone(),
                options.clone(),
                async move {
                    let _ = stopped.changed().await;
                },
            ));
            addr
        };
        let plain = bind(None);
        let tls = bind(Some(ros_api::tls_config(&https)));
        Router {
            _runtime: runtime,
            plain,
            tls,
            cert: cert_path,
            _state: state,
            local,
            _stop: stop,
            dir,
        }
    }

    /// `statewall console` on the plain port as `who`, with `args` after it.
    fn command(&self, who: (&str, &str), args: &[&str]) -> Command {
        let mut cmd = Command::new(STATEWALL);
        cmd.args([
            "console",
            "--port",
            &self.plain.port().to_string(),
            "--user",
            who.0,
        ])
        .args(args)
        .env("STATEWALL_PASSWORD", who.1)
        .stdin(Stdio::null());
        cmd
    }

    /// The interactive console in a pty, at its first prompt.
    fn terminal(&self) -> expectrl::session::OsSession {
        let mut cmd = Command::new(STATEWALL);
        cmd.args(["console", "--port", &self.plain.port().to_string()])
            .env("STATEWALL_PASSWORD", ADMIN.1)
            .env("TERM", "xterm");
        let mut p = Session::spawn(cmd).expect("a pty");
        p.set_expect_timeout(Some(Duration::from_secs(20)));
        p.expect("[admin@statewall] > ").expect("the root prompt");
        p
    }

    /// `statewall console -c LINE` as admin.
    fn run(&self, line: &str) -> Output {
        self.command(ADMIN, &["-c", line])
            .output()
            .expect("statewall runs")
    }

    /// Runs `line` and expects it to succeed; its stdout.
    fn ok(&self, line: &str) -> String {
        let out = self.run(line);
        assert!(
            out.status.success(),
            "{line}: status {:?}, stderr {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs `line` and expects it to fail with status 1; its stderr.
    fn fails(&self, line: &str) -> String {
        let out = self.run(line);
        assert_eq!(out.status.code(), Some(1), "{line}: {out:?}");
        String::from_utf8(out.stderr).expect("utf-8 output")
    }
}

/// Section 3 of the seed, line by line, as `-c` commands in the tracking menu. Its valid lines
/// take effect in the router; its three mistakes are refused as RouterOS refuses them.
#[test]
fn seed_section_3_configures_tracking() {
    let r = Router::start();
    let out = r.ok(
        "/ip firewall connection tracking; set enabled=yes; set tcp-syn-sent-timeout=5s; \
         set tcp-syn-received-timeout=5s; set tcp-established-timeout=1d; \
         set tcp-fin-wait-timeout=10s; set tcp-close-wait-timeout=10s; \
         set tcp-last-ack-timeout=10s; set tcp-time-wait-timeout=10s; \
         set tcp-close-timeout=10s; set udp-timeout=30s; set udp-stream-timeout=3m; \
         set icmp-timeout=30s; set generic-timeout=10m",
    );
    assert_eq!(out, "");
    assert_eq!(
        r.local.udp_timeout(),
        shared::duration::Duration::from_secs(30)
    );
    let print = r.ok("/ip firewall connection tracking print");
    for line in [
        "enabled: yes",
        "udp-timeout: 30s",
        "icmp-timeout: 30s",
        "generic-timeout: 10m",
        "tcp-established-timeout: 1d",
    ] {
        assert!(
            print.lines().any(|l| l.trim_start() == line),
            "{line} in\n{print}"
        );
    }
    // Names right-aligned two columns in from the longest (routeros.md §9's layout).
    let width = print.lines().map(|l| l.find(':').unwrap_or(0)).max();
    assert!(
        print
            .lines()
            .all(|l| Some(l.find(':').unwrap_or(0)) == width),
        "{print}"
    );
    assert!(print.lines().any(|l| l.starts_with("  ")), "{print}");

    // `max-entries` is read-only: the router says so.
    let e = r.fails("/ip firewall connection tracking set max-entries=8192");
    assert!(e.contains("max-entries"), "{e}");
    // Misnamed properties are not arguments at all: RouterOS's own error.
    assert_eq!(
        r.fails("/ip firewall connection tracking set tcp-loose-tracking=no"),
        "expected end of command (line 1 column 38)\n"
    );
    assert_eq!(
        r.fails("/ip firewall connection tracking set tcp-syncookie=no"),
        "expected end of command (line 1 column 38)\n"
    );
    // The correct knob is in force and printed.
    r.ok("/ip firewall connection tracking set loose-tcp-tracking=no");
    assert!(r
        .ok("/ip firewall connection tracking get loose-tcp-tracking")
        .starts_with("no"));
}

/// Section 5's console commands.
#[test]
fn seed_section_5_debugging() {
    let r = Router::start();
    let print = r.ok("/ip firewall connection tracking print");
    assert!(print.contains("total-entries: 3"), "{print}");
    r.ok("/ip firewall connection tracking set udp-timeout=1m");
    assert_eq!(
        r.local.udp_timeout(),
        shared::duration::Duration::from_secs(60)
    );
    r.ok("/ip firewall connection tracking set enabled=no");
    assert!(r
        .ok("/ip firewall connection tracking print")
        .contains("enabled: no"));
    r.ok("/ip firewall connection tracking set enabled=auto");
    // The seed counts connections in the settings menu, which has no count-only (RouterOS
    // refuses it the same way); the connection list counts them.
    assert_eq!(
        r.fails("/ip firewall connection tracking print count-only"),
        "expected end of command (line 1 column 40)\n"
    );
    assert_eq!(r.ok("/ip firewall connection print count-only"), "3\n");
    let resource = r.ok("/system resource print");
    for name in [
        "uptime:",
        "version:",
        "free-memory:",
        "cpu-load:",
        "platform:",
    ] {
        assert!(resource.contains(name), "{name} in\n{resource}");
    }
    assert!(
        resource
            .lines()
            .next()
            .is_some_and(|l| l.trim_start().starts_with("uptime: ")),
        "{resource}"
    );
    assert!(
        resource.contains("iB\n"),
        "memory in MiB or GiB: {resource}"
    );
    let monitor = r.ok("/system resource monitor once");
    assert!(
        monitor.contains("cpu-used:") && monitor.contains("free-memory:"),
        "{monitor}"
    );
}

/// Section 9's: the monitoring count every 5 s (stopped by Ctrl-C, i.e. SIGINT), the snapshot,
/// and the backup export to a file.
#[test]
fn seed_section_9_monitoring_and_backup() {
    let r = Router::start();
    let mut child = r
        .command(
            ADMIN,
            &["-c", "/ip firewall connection print count-only interval=5s"],
        )
        .stdout(Stdio::piped())
        .spawn()
        .expect("statewall runs");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 2];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("the first count");
    assert_eq!(&first, b"3\n");
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = child.wait().expect("it ends");
    assert!(
        status.success(),
        "Ctrl-C ends an interval print normally: {status:?}"
    );

    let table = r.ok("/ip firewall connection print");
    let mut lines = table.lines();
    let header = lines.find(|l| l.contains("PR..")).expect("a header");
    assert!(
        header.ends_with("PR.. SRC-ADDRESS           DST-ADDRESS           TCP-STATE   TIMEOUT"),
        "{table}"
    );
    assert!(table.contains("198.51.100.10:40000"), "{table}");
    assert!(table.contains("syn-sent"), "{table}");

    assert_eq!(r.ok("/export file=backup_config.rsc"), "");
    let saved = std::fs::read_to_string(r.dir.0.join("backups").join("backup_config.rsc"))
        .expect("the export file");
    assert!(saved.contains("/ip firewall filter"), "{saved}");
    let shown = r.ok("/export");
    assert!(shown.starts_with("# "), "{shown}");
    assert!(shown.contains("/ip firewall nat"), "{shown}");
    let verbose = r.ok("/export verbose");
    assert!(
        verbose.contains("/ip firewall connection tracking"),
        "{verbose}"
    );

    // `/import file-name=` runs a file of the router's on top of what is there.
    let backups = r.dir.0.join("backups");
    std::fs::write(
        backups.join("tune.rsc"),
        "/ip firewall connection tracking\nset udp-timeout=1m\n",
    )
    .expect("a script to import");
    std::fs::write(
        backups.join("broken.rsc"),
        "/ip firewall connection tracking\nset udp-timeout=1m\nset udp-timout=2m\n",
    )
    .expect("a broken script");
    let err = r.fails("/import file-name=broken.rsc");
    assert!(
        err.contains("udp-timout") && err.contains("line 3"),
        "{err}"
    );
    assert_eq!(r.local.udp_timeout().to_string(), "10s", "nothing applied");
    let out = r.ok("/import file-name=tune.rsc");
    assert!(
        out.contains("Script file loaded and executed successfully"),
        "{out}"
    );
    assert_eq!(r.local.udp_timeout().to_string(), "1m");
}

#[test]
fn where_numbers_find_and_removal() {
    let r = Router::start();
    let tcp = r.ok("/ip firewall connection print where protocol=tcp");
    let rows: Vec<&str> = tcp
        .lines()
        .filter(|l| l.contains("198.51.100.10"))
        .collect();
    assert_eq!(rows.len(), 1, "{tcp}");
    assert!(rows[0].contains("tcp"), "{tcp}");
    assert_eq!(
        r.ok("/ip firewall connection print count-only where protocol=udp or protocol=icmp"),
        "2\n"
    );
    assert_eq!(
        r.ok("/ip firewall connection print count-only where !(protocol=tcp)"),
        "2\n"
    );
    let detail = r.ok("/ip firewall connection print detail where protocol=udp");
    assert!(detail.contains("reply-src-address="), "{detail}");
    let terse = r.ok("/ip firewall connection print terse");
    assert_eq!(terse.lines().count(), 3, "{terse}");
    let e = r.fails("/ip firewall connection print where dst-address~\":53$\"");
    assert!(
        e.starts_with("~ is not supported (line 1 column 37)"),
        "{e}"
    );
    // Numbers of a print in the same line; one that names nothing.
    assert_eq!(
        r.fails("/ip firewall connection; print; remove 7"),
        "no such item\n"
    );
    r.ok("/ip firewall connection remove [find where protocol=udp]");
    assert_eq!(r.ok("/ip firewall connection print count-only"), "2\n");
    r.ok("/ip firewall connection; print; remove 0");
    assert_eq!(r.ok("/ip firewall connection print count-only"), "1\n");
}

#[test]
fn rules_print_and_change_by_number_and_find() {
    let r = Router::start();
    let rules = r.ok("/ip firewall filter print");
    assert!(rules.contains(";;; defconf: drop invalid"), "{rules}");
    assert!(
        rules.contains("chain=input action=drop connection-state=invalid"),
        "{rules}"
    );
    r.ok("/ip firewall filter disable 1");
    let rules = r.ok("/ip firewall filter print");
    assert!(rules.starts_with("Flags: X - disabled\n"), "{rules}");
    assert!(
        rules
            .lines()
            .any(|l| l.trim_start().starts_with("1 X ;;; defconf: drop invalid")),
        "{rules}"
    );
    r.ok("/ip firewall filter enable [find disabled]");
    assert!(!r.ok("/ip firewall filter print").contains("Flags:"));
    r.ok("/ip firewall filter set [find where chain=input and action=drop] log=yes");
    assert!(r
        .ok("/ip firewall filter print count-only where log")
        .trim()
        .parse::<u32>()
        .is_ok_and(|n| n >= 2));
    r.ok("/ip firewall filter add chain=forward action=drop protocol=tcp dst-port=23 comment=\"no telnet\"");
    let added = r.ok("/ip firewall filter print where comment=\"no telnet\"");
    assert!(added.contains("dst-port=23"), "{added}");
    assert_eq!(
        r.ok("/ip firewall filter get [find comment=\"no telnet\"] dst-port"),
        "23\n"
    );
    let stats = r.ok("/ip firewall filter print stats");
    assert!(
        stats.contains("CHAIN") && stats.contains("PACKETS"),
        "{stats}"
    );
    r.ok("/ip firewall filter remove [find comment=\"no telnet\"]");
    assert!(!r.ok("/ip firewall filter print").contains("no telnet"));
    let e = r.fails("/ip firewall filter add chain=forward action=jump");
    assert!(e.contains("jump-target"), "{e}");
}

#[test]
fn errors_read_like_routeros() {
    let r = Router::start();
    assert_eq!(
        r.fails("/ip firewall foo"),
        "bad command name foo (line 1 column 14)\n"
    );
    assert_eq!(
        r.fails("/ip firewall connection tracking set udp-timeout=30s junk"),
        "expected end of command (line 1 column 54)\n"
    );
    let e = r.fails("/ip firewall connection tracking set udp-timeout=soon");
    assert!(
        e.starts_with("invalid value for argument udp-timeout"),
        "{e}"
    );
    // Nothing of a line runs when any of it is wrong.
    r.fails("/ip firewall connection tracking set udp-timeout=45s; bogus");
    assert_ne!(
        r.local.udp_timeout(),
        shared::duration::Duration::from_secs(45)
    );
    // A read-only user.
    let out = r
        .command(
            VIEWER,
            &["-c", "/ip firewall connection tracking set udp-timeout=45s"],
        )
        .output()
        .expect("statewall runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not enough permissions"),
        "{out:?}"
    );
    // A wrong password.
    let out = r
        .command(("admin", "wrong"), &["-c", "/system identity print"])
        .output()
        .expect("statewall runs");
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.starts_with("statewall console: invalid user name or password"),
        "{e}"
    );
}

#[test]
fn tls_trusts_the_routers_certificate_only() {
    let r = Router::start();
    let port = r.tls.port().to_string();
    let cert = r.cert.display().to_string();
    let out = Command::new(STATEWALL)
        .args(["console", "--tls", "--port", &port, "--tls-cert", &cert])
        .args(["-c", "/system identity print"])
        .env("STATEWALL_PASSWORD", ADMIN.1)
        .output()
        .expect("statewall runs");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "  name: statewall\n");
    // Another certificate: refused before any password is sent.
    let (other, _) = backend::tls::self_signed("other", &[]).expect("a certificate");
    let other_path = r.dir.0.join("other.pem");
    std::fs::write(&other_path, other).expect("written");
    let out = Command::new(STATEWALL)
        .args(["console", "--tls", "--port", &port, "--tls-cert"])
        .arg(&other_path)
        .args(["-c", "/system identity print"])
        .env("STATEWALL_PASSWORD", ADMIN.1)
        .output()
        .expect("statewall runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not the one trusted"),
        "{out:?}"
    );
}

/// The console in a terminal, as a person uses it.
#[test]
fn interactive_in_a_pty() {
    let r = Router::start();
    let mut p = r.terminal();

    // Menu navigation.
    p.send_line("/ip firewall connection").expect("typed");
    p.expect("[admin@statewall] /ip firewall connection> ")
        .expect("the connection menu's prompt");
    p.send_line("..").expect("typed");
    p.expect("[admin@statewall] /ip firewall> ")
        .expect("one up");
    p.send_line("/").expect("typed");
    p.expect("[admin@statewall] > ").expect("the root again");

    // Tab completion of menus and commands, then the command runs.
    p.send("/sys\t").expect("typed");
    p.expect("/system ").expect("completed to /system");
    p.send("res\t").expect("typed");
    p.expect("resource ").expect("completed to resource");
    p.send("pr\t").expect("typed");
    p.expect("print ").expect("completed to print");
    p.send("\r").expect("enter");
    p.expect("uptime:").expect("the resource print");
    p.expect("[admin@statewall] > ").expect("the prompt");

    // History: Up brings the last line back.
    p.send("\x1b[A\r").expect("up, enter");
    p.expect("uptime:").expect("the same print again");
    p.expect("[admin@statewall] > ").expect("the prompt");

    // Argument names complete too.
    p.send("/ip firewall connection tracking set udp-t\t")
        .expect("typed");
    p.expect("udp-timeout=").expect("completed to udp-timeout=");
    p.send("30s\r").expect("typed");
    p.expect("[admin@statewall] > ").expect("the prompt");

    // An error, and the session goes on.
    p.send_line("foo").expect("typed");
    p.expect("bad command name foo (line 1 column 1)")
        .expect("the error");

    // interval= refreshes until Ctrl-C, then the prompt comes back.
    p.send_line("/ip firewall connection print count-only interval=1s")
        .expect("typed");
    p.expect("3").expect("the count");
    std::thread::sleep(Duration::from_millis(1500));
    p.send("\x03").expect("Ctrl-C");
    p.expect("[admin@statewall] > ")
        .expect("the prompt after Ctrl-C");

    // The prompt follows a new identity.
    p.send_line("/system identity set name=gw").expect("typed");
    p.expect("[admin@gw] > ")
        .expect("the new name in the prompt");

    // Ctrl-D on an empty line ends the session.
    p.send("\x04").expect("Ctrl-D");
    p.expect(expectrl::Eof).expect("the console ends");
}

/// Without STATEWALL_PASSWORD or --password-file the console asks, without echo; the file
/// works too.
#[test]
fn the_password_is_asked_for_or_read_from_a_file() {
    let r = Router::start();
    let mut cmd = Command::new(STATEWALL);
    cmd.args(["console", "--port", &r.plain.port().to_string()])
        .env_remove("STATEWALL_PASSWORD")
        .env("TERM", "xterm");
    let mut p = Session::spawn(cmd).expect("a pty");
    p.set_expect_timeout(Some(Duration::from_secs(20)));
    p.expect("password for admin: ").expect("the question");
    p.send_line(ADMIN.1).expect("typed");
    let seen = p.expect("[admin@statewall] > ").expect("logged in");
    assert!(
        !String::from_utf8_lossy(seen.before()).contains(ADMIN.1),
        "the password is not echoed"
    );
    p.send_line("/quit").expect("typed");
    p.expect(expectrl::Eof).expect("the console ends");

    let file = r.dir.0.join("password");
    std::fs::write(&file, format!("{}\n", ADMIN.1)).expect("written");
    let out = Command::new(STATEWALL)
        .args([
            "console",
            "--port",
            &r.plain.port().to_string(),
            "--password-file",
        ])
        .arg(&file)
        .args(["-c", "/system identity get name"])
        .env_remove("STATEWALL_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("statewall runs");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "statewall\n");
}

/// The router ends API sessions idle for long; the console opens a new one and goes on.
#[test]
fn an_idle_session_is_opened_again() {
    let r = Router::start_with(Options {
        idle_timeout: Duration::from_millis(300),
        ..Options::default()
    });
    let mut p = r.terminal();
    std::thread::sleep(Duration::from_millis(1000));
    p.send_line("/ip firewall connection print count-only")
        .expect("typed");
    p.expect("3").expect("the count, on a new session");
    p.expect("[admin@statewall] > ").expect("the prompt");
    p.send_line("/quit").expect("typed");
    p.expect(expectrl::Eof).expect("the console ends");
}
