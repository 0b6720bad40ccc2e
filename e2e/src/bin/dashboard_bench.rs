//! `dashboard_bench`: the dashboard's budgets (issue 6), measured in headless Chromium with the
//! Performance API, with a small table and then with 100 000 connections in it.
//!
//! In the lab (`statewall run` with the lab's configuration, `udp-timeout=10m` so that entries
//! without replies stay), Chromium in pc1 opens the dashboard with `?perf=1`, which makes the app
//! leave User Timing measures for every feed message (`frontend/src/perf.rs`). For each table
//! size it measures:
//! - feed message → screen: arrival of a message to the next animation frame (the DOM updated)
//!   and to the task after that frame (painted), on the Connections and the Flow screens;
//! - frame times while a script scrolls the connection table: `requestAnimationFrame` deltas, a
//!   steady scroll (10 rows a frame, back and forth) and random jumps (a new window every frame);
//! - the table's rows in the DOM.
//!
//! The table is filled by `swload spray` (one UDP datagram to each of N ports of the internet
//! server) from pc2 and pc3: first 100 entries, then 100 000 more. Figures are printed, with the
//! ratio of the large table to the small one; nothing fails on speed.
//!
//! `scripts/bench-dashboard.sh` builds what it needs and runs this as root.

use backend::lab::{Node, INTERNET_HTTP, LAB_ADMIN_PASSWORD, ROUTER_LAN};
use e2e::browser::{Browser, Page};
use e2e::lab::{RouterLab, Setup};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How long feed messages are collected on each screen (one a second).
const FEED_SECS: u64 = 20;
/// How long each scroll pattern runs.
const SCROLL_MS: u64 = 5000;
/// Entries the large table gets, half from pc2 and half from pc3.
const LARGE: u32 = 100_000;
const SMALL: u32 = 100;
/// Datagrams a second from each host while filling the table.
const SPRAY_RATE: u32 = 10_000;

/// Percentiles of a sample, in its unit.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    n: usize,
    p50: f64,
    p95: f64,
    max: f64,
}

impl Stats {
    fn of(mut v: Vec<f64>) -> Stats {
        v.retain(|x| x.is_finite());
        if v.is_empty() {
            return Stats::default();
        }
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Stats {
            n: v.len(),
            p50: at(0.5),
            p95: at(0.95),
            max: v[v.len() - 1],
        }
    }

    fn show(&self) -> String {
        format!(
            "p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (n={})",
            self.p50, self.p95, self.max, self.n
        )
    }
}

/// What one table size measured.
#[derive(Debug, Default)]
struct Run {
    entries: u64,
    conn_frame: Stats,
    conn_paint: Stats,
    conn_decode: Stats,
    flow_frame: Stats,
    flow_paint: Stats,
    steady: Stats,
    jumps: Stats,
    dom_rows: u64,
    over_budget: (usize, usize),
}

fn main() -> ExitCode {
    if !e2e::env::is_root() {
        eprintln!(
            "dashboard_bench: run as root (network namespaces); scripts/bench-dashboard.sh does"
        );
        return ExitCode::FAILURE;
    }
    let config = format!(
        "{}/ip firewall connection tracking\nset udp-timeout=10m\n",
        backend::lab::config::router_rsc()
    );
    println!("load average at start: {}", loadavg());
    let lab = RouterLab::start(Setup {
        config: Some(config),
        ..Setup::default()
    });
    let browser = Browser::start(&lab, Node::Pc1);
    let artifacts = std::env::temp_dir().join("statewall-dashboard-bench");
    let swload = swload();

    spray(&lab, &swload, Node::Pc2, 1000, SMALL);
    let small_total = wait_for_entries(&lab, u64::from(SMALL));
    let small = browser.session(&lab, Node::Pc1, &artifacts, async |page: &Page| {
        log_in(page).await;
        measure(page, small_total, "small").await
    });

    let started = Instant::now();
    let half = LARGE / 2;
    std::thread::scope(|s| {
        let (lab, swload) = (&lab, &swload);
        s.spawn(move || spray(lab, swload, Node::Pc2, 10_000, half));
        s.spawn(move || spray(lab, swload, Node::Pc3, 10_000, half));
    });
    let large_total = wait_for_entries(&lab, u64::from(SMALL + LARGE));
    println!(
        "table filled: {large_total} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let large = browser.session(&lab, Node::Pc1, &artifacts, async |page: &Page| {
        log_in(page).await;
        measure(page, large_total, "large").await
    });
    println!("load average at end: {}", loadavg());
    report(&small, &large);
    println!("screenshots: {}", artifacts.display());
    ExitCode::SUCCESS
}

/// `swload` beside this binary (both built by the script).
fn swload() -> PathBuf {
    let me = std::env::current_exe().expect("this binary's path");
    let path = me.with_file_name("swload");
    assert!(
        path.exists(),
        "{} is missing: build it first",
        path.display()
    );
    path
}

/// `swload spray` from a LAN host: `count` entries, ports from `first`.
fn spray(lab: &RouterLab, swload: &std::path::Path, node: Node, first: u16, count: u32) {
    let exe = swload.display().to_string();
    let to = INTERNET_HTTP.to_string();
    let (first, count, rate) = (first.to_string(), count.to_string(), SPRAY_RATE.to_string());
    let out = lab.run_ok(node, &[&exe, "spray", &to, &first, &count, &rate]);
    println!("spray from {node:?}: {}", out.trim());
}

/// `total-entries` of the tracking menu, through REST from pc1.
fn total_entries(lab: &RouterLab) -> Option<u64> {
    let cred = format!("admin:{LAB_ADMIN_PASSWORD}");
    let url = format!("https://{ROUTER_LAN}/rest/ip/firewall/connection/tracking");
    let out = lab.run(
        Node::Pc1,
        &["curl", "-sk", "--max-time", "10", "-u", &cred, &url],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v.get("total-entries")?.as_str()?.parse().ok()
}

/// Waits until the table holds at least `n` entries; the count then.
fn wait_for_entries(lab: &RouterLab, n: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = total_entries(lab).unwrap_or(0);
        if now >= n {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "the table holds {now} entries, not {n}, after 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn log_in(page: &Page) {
    page.goto("/").await;
    page.fill("#login-name", "admin").await;
    page.fill("#login-password", LAB_ADMIN_PASSWORD).await;
    page.click("[data-testid=login-form] button[type=submit]")
        .await;
    page.find("[data-testid=live-indicator][data-state=live]")
        .await;
}

/// The durations (ms) of the User Timing measures named `name`.
async fn measures(page: &Page, name: &str) -> Vec<f64> {
    let v = page
        .js(&format!(
            "return performance.getEntriesByName({name:?}).map(e => e.duration)"
        ))
        .await;
    v.as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default()
}

/// Feed messages for [`FEED_SECS`] on the page open now: (to frame, to paint, decode).
async fn feed_times(page: &Page) -> (Stats, Stats, Stats) {
    // The first seconds load the page and the first windows: not steady state.
    tokio::time::sleep(Duration::from_secs(3)).await;
    page.js("performance.clearMeasures(); performance.clearMarks();")
        .await;
    tokio::time::sleep(Duration::from_secs(FEED_SECS)).await;
    (
        Stats::of(measures(page, "statewall:feed-to-frame").await),
        Stats::of(measures(page, "statewall:feed-to-paint").await),
        Stats::of(measures(page, "statewall:feed-decode").await),
    )
}

/// Scrolls the table for [`SCROLL_MS`] and returns the `requestAnimationFrame` deltas (ms):
/// `jumps` moves to a random row every frame, else 10 rows a frame, turning at the ends.
async fn scroll_frames(page: &Page, jumps: bool) -> Vec<f64> {
    let script = format!(
        r#"
        const done = arguments[arguments.length - 1];
        const el = document.querySelector('[data-testid=conn-scroll]');
        const deltas = [];
        let dir = 1, last = performance.now();
        const t0 = last;
        const step = (now) => {{
            deltas.push(now - last);
            last = now;
            const max = el.scrollHeight - el.clientHeight;
            if ({jumps}) {{
                el.scrollTop = Math.random() * max;
            }} else {{
                if ((dir > 0 && el.scrollTop >= max) || (dir < 0 && el.scrollTop <= 0)) dir = -dir;
                el.scrollTop += dir * 280;
            }}
            if (now - t0 < {SCROLL_MS}) requestAnimationFrame(step); else done(deltas.slice(1));
        }};
        requestAnimationFrame((now) => {{ last = now; requestAnimationFrame(step); }});
        "#
    );
    let v = page
        .client
        .execute_async(&script, vec![])
        .await
        .unwrap_or_else(|e| panic!("the scroll script: {e}"));
    v.as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default()
}

async fn measure(page: &Page, entries: u64, label: &str) -> Run {
    let mut run = Run {
        entries,
        ..Run::default()
    };
    page.goto("/connections?perf=1").await;
    page.find("tr.conn-row[data-id]").await;
    (run.conn_frame, run.conn_paint, run.conn_decode) = feed_times(page).await;
    page.screenshot(&format!("connections-{label}")).await;
    let steady = scroll_frames(page, false).await;
    run.over_budget = (steady.iter().filter(|d| **d > 17.0).count(), steady.len());
    run.steady = Stats::of(steady);
    run.jumps = Stats::of(scroll_frames(page, true).await);
    run.dom_rows = page
        .js("return document.querySelectorAll('tr.conn-row').length")
        .await
        .as_u64()
        .unwrap_or(0);
    page.goto("/?perf=1").await;
    page.find("[data-testid=flow-diagram]").await;
    (run.flow_frame, run.flow_paint, _) = feed_times(page).await;
    page.screenshot(&format!("flow-{label}")).await;
    run
}

fn ratio(large: f64, small: f64) -> String {
    if small > 0.0 {
        format!("{:.2}×", large / small)
    } else {
        "–".into()
    }
}

fn report(small: &Run, large: &Run) {
    println!();
    for r in [small, large] {
        println!("== {} entries in the table", r.entries);
        println!("feed → frame (Connections):  {}", r.conn_frame.show());
        println!("feed → paint (Connections):  {}", r.conn_paint.show());
        println!("decode (Connections):        {}", r.conn_decode.show());
        println!("feed → frame (Flow):         {}", r.flow_frame.show());
        println!("feed → paint (Flow):         {}", r.flow_paint.show());
        println!("scroll, steady, frame:       {}", r.steady.show());
        println!(
            "  frames over 17 ms:         {} of {}",
            r.over_budget.0, r.over_budget.1
        );
        println!("scroll, random jumps, frame: {}", r.jumps.show());
        println!("table rows in the DOM:       {}", r.dom_rows);
    }
    println!();
    println!(
        "| figure | {} entries | {} entries | ratio |",
        small.entries, large.entries
    );
    println!("|---|---|---|---|");
    let row = |name: &str, a: Stats, b: Stats| {
        println!(
            "| {name} p50 / p95 / max | {:.1} / {:.1} / {:.1} ms | {:.1} / {:.1} / {:.1} ms | {} (p50), {} (p95) |",
            a.p50,
            a.p95,
            a.max,
            b.p50,
            b.p95,
            b.max,
            ratio(b.p50, a.p50),
            ratio(b.p95, a.p95)
        );
    };
    row(
        "feed → frame, Connections",
        small.conn_frame,
        large.conn_frame,
    );
    row(
        "feed → paint, Connections",
        small.conn_paint,
        large.conn_paint,
    );
    row("decode, Connections", small.conn_decode, large.conn_decode);
    row("feed → frame, Flow", small.flow_frame, large.flow_frame);
    row("scroll frame, steady", small.steady, large.steady);
    row("scroll frame, random jumps", small.jumps, large.jumps);
    println!(
        "| table rows in the DOM | {} | {} | |",
        small.dom_rows, large.dom_rows
    );
}
