//! The dashboard's configuration screens in a real browser, checked against the REST API: the
//! settings form, the firewall and NAT rule lists, backup download and restore.
//!
//! As in `dashboard.rs`: headless Chromium in pc1's namespace opens `https://198.51.100.1/`
//! through the lab's network and statewall, and logs in as admin. What the browser did is then
//! confirmed over REST with `curl` from pc1 (HTTP Basic, as `management.rs` does). Each test
//! starts its own lab, one at a time. Screenshots of every screen go to
//! `<target>/tmp/dashboard/`. Needs root, chromium and chromedriver: skipped with a reason
//! elsewhere, a failure under CI.

use backend::lab::{Node, INTERNET_HTTP, LAB_ADMIN_PASSWORD, ROUTER_LAN};
use e2e::browser::{require_browser, Browser, Page};
use e2e::lab::{RouterLab, Setup};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// This test's turn (none if it must skip). Declare it before the lab.
fn turn(test: &str) -> Option<MutexGuard<'static, ()>> {
    if !e2e::env::require_root(test) || !require_browser(test) {
        return None;
    }
    Some(ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner))
}

fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard")
}

/// `curl -sk -u admin:… [args…] https://198.51.100.1PATH` from pc1: the status and the body.
fn curl(lab: &RouterLab, args: &[&str]) -> (u16, String) {
    let cred = format!("admin:{LAB_ADMIN_PASSWORD}");
    let (path, opts) = args.split_last().expect("a path");
    let target = format!("https://{ROUTER_LAN}{path}");
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

/// A REST answer as JSON.
fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}):\n{body}"))
}

/// The API answers over HTTPS from pc1 (the lab may still be starting its services).
fn wait_for_api(lab: &RouterLab) {
    for _ in 0..50 {
        if curl(lab, &["/rest/system/identity"]).0 == 200 {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the API did not answer over HTTPS within 10 s");
}

/// An export without its first line (`# DATE by statewall …`, which moves).
fn without_header(export: &str) -> &str {
    assert!(export.starts_with("# "), "an export's header:\n{export}");
    export.split_once('\n').map_or("", |(_, rest)| rest)
}

/// Logs in through the form and waits for the live indicator.
async fn log_in(page: &Page) {
    page.goto("/").await;
    page.fill("#login-name", "admin").await;
    page.fill("#login-password", LAB_ADMIN_PASSWORD).await;
    page.click("[data-testid=login-form] button[type=submit]")
        .await;
    page.until("the feed goes live", async |p: &Page| {
        let el = p.find("[data-testid=live-indicator]").await;
        match el.attr("data-state").await.ok().flatten().as_deref() {
            Some("live") => Ok(()),
            other => Err(other.map(str::to_string)),
        }
    })
    .await;
}

/// A control's current value (what the user sees in it).
async fn value(page: &Page, css: &str) -> String {
    page.find(css).await;
    let v = page
        .js(&format!(
            "return document.querySelector({}).value;",
            Value::String(css.into())
        ))
        .await;
    v.as_str().unwrap_or_default().to_string()
}

/// Waits until the element's text is not empty; that text.
async fn text_appears(page: &Page, what: &str, css: &str) -> String {
    page.until(what, async |p: &Page| {
        let t = p.text(css).await;
        if t.trim().is_empty() {
            Err(t)
        } else {
            Ok(t)
        }
    })
    .await
}

/// Waits until the element's text contains `want`; that text.
async fn text_contains(page: &Page, what: &str, css: &str, want: &str) -> String {
    page.until(what, async |p: &Page| {
        let t = p.text(css).await;
        if t.contains(want) {
            Ok(t)
        } else {
            Err(t)
        }
    })
    .await
}

/// Scrolls the element matching `css` to the top of the view (before a screenshot).
async fn scroll_to(page: &Page, css: &str) {
    page.find(css).await;
    page.js(&format!(
        "document.querySelector({}).scrollIntoView({{block: 'start'}});",
        Value::String(css.into())
    ))
    .await;
}

/// Whether the button matching `css` is disabled.
async fn disabled(page: &Page, css: &str) -> bool {
    page.find(css)
        .await
        .attr("disabled")
        .await
        .ok()
        .flatten()
        .is_some()
}

/// Settings: a changed timeout is applied (REST reads it back); a bad one is refused beside its
/// field, in the words REST answers for the same value.
#[test]
fn a_settings_change_applies_and_a_bad_value_shows_the_servers_error() {
    const TEST: &str = "a_settings_change_applies_and_a_bad_value_shows_the_servers_error";
    let Some(_turn) = turn(TEST) else { return };
    let lab = RouterLab::start(Setup::default());
    wait_for_api(&lab);
    let browser = Browser::start(&lab, Node::Pc1);
    let before = json(&curl_status(
        &lab,
        200,
        &["/rest/ip/firewall/connection/tracking"],
    ));
    assert_eq!(before["udp-timeout"], "10s", "{before}");

    let shown_error = browser.session(&lab, Node::Pc1, &artifacts(), async |page: &Page| {
        log_in(page).await;
        page.goto("/settings").await;
        page.until("the form shows the values in force", async |p: &Page| {
            let v = value(p, "#setting-udp-timeout").await;
            if v == "10s" {
                Ok(())
            } else {
                Err(v)
            }
        })
        .await;
        let hint = page.text("[data-testid=field-udp-timeout]").await;
        assert!(hint.contains("default 10s"), "{hint}");
        text_appears(page, "max-entries is shown", "[data-testid=max-entries]").await;
        page.screenshot("settings").await;

        page.fill("#setting-udp-timeout", "45s").await;
        page.click("[data-testid=settings-apply]").await;
        text_contains(
            page,
            "the change is applied",
            "[data-testid=settings-status]",
            "Applied and saved: udp-timeout=45s",
        )
        .await;
        assert_eq!(value(page, "#setting-udp-timeout").await, "45s");

        page.fill("#setting-udp-timeout", "soon").await;
        let error =
            text_appears(page, "the field's error", "[data-testid=error-udp-timeout]").await;
        assert!(
            disabled(page, "[data-testid=settings-apply]").await,
            "Apply with a mistake in the form"
        );
        page.screenshot("settings-error").await;
        error
    });

    let after = json(&curl_status(
        &lab,
        200,
        &["/rest/ip/firewall/connection/tracking"],
    ));
    assert_eq!(after["udp-timeout"], "45s", "REST after Apply: {after}");
    // The same value sent over REST: the router's answer is the text beside the field.
    let (status, body) = curl(
        &lab,
        &[
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"udp-timeout":"soon"}"#,
            "/rest/ip/firewall/connection/tracking/set",
        ],
    );
    assert_eq!(status, 400, "{body}");
    let detail = json(&body)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        shown_error.trim(),
        detail,
        "the browser's and the router's words"
    );
}

/// `GET /` from the host this thread's namespace is (pc1) to the internet server: one new
/// connection through the router.
fn web_request() {
    let to = SocketAddrV4::new(INTERNET_HTTP, 80);
    let mut s = TcpStream::connect_timeout(&to.into(), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connecting to {to}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    write!(s, "GET / HTTP/1.0\r\nHost: {to}\r\n\r\n").expect("sending the request");
    let mut answer = Vec::new();
    let _ = s.take(1 << 20).read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1."),
        "an HTTP answer from {to}: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
}

const RULE_COMMENT: &str = "e2e: web from the LAN";
const EDITED: &str = "e2e: web from anywhere";

/// Empties a text field as a user does (select all, delete), so the page sees the change.
async fn erase(page: &Page, css: &str) {
    let input = page.find(css).await;
    input.click().await.ok();
    // Control down, `a`, all keys up, Backspace (WebDriver key codes).
    input
        .send_keys("\u{E009}a\u{E000}\u{E003}")
        .await
        .unwrap_or_else(|e| panic!("erasing {css}: {e}"));
    assert_eq!(value(page, css).await, "", "{css} after erasing");
}

/// Firewall: a bad address is refused beside its field; a rule added through the form is in
/// REST and counts the traffic it matches on the screen; moved up (the focus stays on the
/// button), edited (a field emptied is unset) and disabled, as REST confirms. The NAT list shows.
#[test]
fn a_rule_added_in_the_firewall_screen_is_in_rest_and_counts() {
    const TEST: &str = "a_rule_added_in_the_firewall_screen_is_in_rest_and_counts";
    let Some(_turn) = turn(TEST) else { return };
    let lab = RouterLab::start(Setup::default());
    wait_for_api(&lab);
    let browser = Browser::start(&lab, Node::Pc1);
    let http = INTERNET_HTTP.to_string();

    let (id, bad_address) = browser.session(&lab, Node::Pc1, &artifacts(), async |page: &Page| {
        log_in(page).await;
        page.goto("/firewall?chain=forward").await;
        page.find("[data-testid=rule-row]").await;
        let rows = page.find_all("[data-testid=rule-row]").await.len();
        let count = page.text("[data-testid=rule-count]").await;
        assert!(count.contains(&format!("{rows} of ")), "{count}");

        page.click("[data-testid=rule-add]").await;
        page.find("[data-testid=rule-form]").await;
        assert_eq!(value(page, "#rule-chain").await, "forward");
        page.fill("#rule-src-address", "10.0.0.300").await;
        let bad = text_appears(
            page,
            "the address's error",
            "[data-testid=error-src-address]",
        )
        .await;
        assert!(disabled(page, "[data-testid=rule-save]").await);
        page.screenshot("firewall-form-error").await;

        page.fill("#rule-src-address", "198.51.100.0/24").await;
        page.fill("#rule-protocol", "tcp").await;
        page.fill("#rule-dst-address", &http).await;
        page.fill("#rule-dst-port", "80").await;
        page.fill("#rule-comment", RULE_COMMENT).await;
        page.until("the form has no mistake", async |p: &Page| {
            if disabled(p, "[data-testid=rule-save]").await {
                Err(p.text("[data-testid=rule-form]").await)
            } else {
                Ok(())
            }
        })
        .await;
        page.click("[data-testid=rule-save]").await;
        let status = text_contains(
            page,
            "the rule is added",
            "[data-testid=rules-status]",
            "added",
        )
        .await;
        let id = status
            .split_whitespace()
            .find(|w| w.starts_with('*'))
            .unwrap_or_else(|| panic!("no id in {status:?}"))
            .to_string();
        let row = format!("[data-testid=rule-row][data-id=\"{id}\"]");
        let text = page.text(&row).await;
        assert!(text.contains(RULE_COMMENT), "{text}");
        assert_eq!(
            page.find_all("[data-testid=rule-row]").await.len(),
            rows + 1
        );

        // Traffic that the rule matches: its counter climbs on the screen (the live feed).
        for _ in 0..3 {
            web_request();
        }
        let packets = format!("{row} [data-testid=rule-packets]");
        let counted = page
            .until("the rule's packet counter climbs", async |p: &Page| {
                let t = p.text(&packets).await;
                if t.trim() != "0" && !t.trim().is_empty() {
                    Ok(t)
                } else {
                    Err(t)
                }
            })
            .await;
        eprintln!("the new rule counted {counted} packets on the screen");
        scroll_to(page, "[data-testid=rule-table]").await;
        page.screenshot("firewall").await;

        // Moved up once: before the forward rule shown above it.
        let short = id.trim_start_matches('*').to_string();
        page.click(&format!("#rule-{short}-up")).await;
        text_contains(
            page,
            "the rule moves up",
            "[data-testid=rules-status]",
            "moved up",
        )
        .await;
        // The keyboard's place stays on the button pressed, on the rule's new row.
        let up = format!("rule-{short}-up");
        page.until(
            "the focus stays on the moved rule's button",
            async |p: &Page| {
                let focused = p
                    .js("return document.activeElement && document.activeElement.id;")
                    .await;
                if focused.as_str() == Some(up.as_str()) {
                    Ok(())
                } else {
                    Err(focused)
                }
            },
        )
        .await;

        // Edit: another comment, the source address emptied (unset); then disabled.
        page.click(&format!("#rule-{short}-edit")).await;
        page.find("[data-testid=rule-form]").await;
        assert_eq!(value(page, "#rule-comment").await, RULE_COMMENT);
        page.fill("#rule-comment", EDITED).await;
        erase(page, "#rule-src-address").await;
        page.click("[data-testid=rule-save]").await;
        text_contains(
            page,
            "the rule is saved",
            "[data-testid=rules-status]",
            "saved",
        )
        .await;
        page.click(&format!("{row} [data-testid=rule-toggle]"))
            .await;
        text_contains(
            page,
            "the rule is disabled",
            "[data-testid=rules-status]",
            "disabled",
        )
        .await;
        let text = page.text(&row).await;
        assert!(text.contains(EDITED) && text.contains("Enable"), "{text}");

        page.goto("/nat").await;
        page.find("[data-testid=rule-row]").await;
        page.screenshot("nat").await;
        (id, bad)
    });

    assert!(
        bad_address.starts_with("invalid value for argument src-address: \"10.0.0.300\""),
        "{bad_address}"
    );
    let rules = json(&curl_status(&lab, 200, &["/rest/ip/firewall/filter"]));
    let rules = rules.as_array().expect("a list of rules");
    let at = rules
        .iter()
        .position(|r| r[".id"] == id.as_str())
        .unwrap_or_else(|| panic!("rule {id} is not in REST: {rules:?}"));
    let rule = &rules[at];
    assert_eq!(rule["comment"], EDITED, "{rule}");
    assert_eq!(rule["disabled"], "true", "{rule}");
    assert!(rule.get("src-address").is_none(), "unset: {rule}");
    assert_eq!(rule["chain"], "forward");
    assert_eq!(rule["action"], "accept");
    assert_eq!(rule["protocol"], "tcp");
    assert_eq!(rule["dst-address"], http.as_str());
    assert_eq!(rule["dst-port"], "80");
    let packets: u64 = rule["packets"].as_str().unwrap_or("0").parse().unwrap_or(0);
    assert!(packets >= 3, "REST counts {packets} packets for {rule}");
    // After the move the forward rule that was above it is now below it: it was last, so it
    // is now the second last of the forward chain.
    let forward: Vec<&Value> = rules.iter().filter(|r| r["chain"] == "forward").collect();
    let pos = forward.iter().position(|r| r[".id"] == id.as_str());
    assert_eq!(
        pos,
        Some(forward.len() - 2),
        "the forward chain: {forward:?}"
    );
}

/// Fetches a link's target inside the page (with the page's session): status, the
/// `Content-Disposition` header and the body.
async fn fetch_link(page: &Page, css: &str) -> (u64, String, String) {
    page.find(css).await;
    let script = format!(
        "const done = arguments[arguments.length - 1];\
         fetch(document.querySelector({}).href, {{credentials: 'same-origin'}})\
           .then(r => r.text().then(t => done([r.status, r.headers.get('content-disposition') || '', t])))\
           .catch(e => done([0, String(e), '']));",
        Value::String(css.into())
    );
    let answer = page
        .client
        .execute_async(&script, Vec::new())
        .await
        .unwrap_or_else(|e| panic!("fetching {css}'s link: {e}"));
    let status = answer[0].as_u64().unwrap_or(0);
    let disposition = answer[1].as_str().unwrap_or_default().to_string();
    let body = answer[2].as_str().unwrap_or_default().to_string();
    (status, disposition, body)
}

/// Backup: the export links download what REST's export gives (compact and verbose); a
/// scheduled backup added through the form is in the scheduler and its file appears among the
/// stored backups, downloadable.
#[test]
fn the_backup_download_is_the_export() {
    const TEST: &str = "the_backup_download_is_the_export";
    let Some(_turn) = turn(TEST) else { return };
    let lab = RouterLab::start(Setup::default());
    wait_for_api(&lab);
    let browser = Browser::start(&lab, Node::Pc1);
    // REST's exports of the configuration the page downloads (before the page adds to it).
    let rest = curl_status(&lab, 200, &["/backup/export"]);
    let rest_verbose = curl_status(&lab, 200, &["/backup/export?verbose=yes"]);
    let command = json(&curl_status(
        &lab,
        200,
        &[
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            "{}",
            "/rest/export",
        ],
    ));
    let (compact, verbose, stored) =
        browser.session(&lab, Node::Pc1, &artifacts(), async |page: &Page| {
            log_in(page).await;
            page.goto("/backups").await;
            let compact = fetch_link(page, "[data-testid=export-compact]").await;
            let verbose = fetch_link(page, "[data-testid=export-verbose]").await;
            page.screenshot("backup").await;

            // A scheduled backup every 5 s from startup, with a fixed file name: the file appears
            // among the stored backups, and its link downloads it.
            page.fill("#schedule-name", "e2e-ui").await;
            page.fill("#schedule-file", "e2e-ui").await;
            page.fill("#schedule-interval", "5s").await;
            page.fill("#schedule-start", "startup").await;
            page.click("[data-testid=schedule-dated]").await;
            let script = page.text("[data-testid=schedule-script]").await;
            assert_eq!(script, "/export file=e2e-ui");
            page.click("[data-testid=schedule-add]").await;
            text_contains(
                page,
                "the scheduled backup is added",
                "[data-testid=schedule-status]",
                "e2e-ui added",
            )
            .await;
            let link = "[data-testid=file-row] a[href=\"/backup/files/e2e-ui.rsc\"]";
            page.until("the scheduled backup is stored", async |p: &Page| {
                if p.find_all(link).await.is_empty() {
                    p.click("[data-testid=files-refresh]").await;
                    Err("not yet")
                } else {
                    Ok(())
                }
            })
            .await;
            let stored = fetch_link(page, link).await;
            scroll_to(page, "#schedule-h").await;
            page.screenshot("backup-schedule").await;
            (compact, verbose, stored)
        });
    let (status, _, stored) = stored;
    assert_eq!(status, 200);
    assert!(
        stored.starts_with("# ") && stored.contains("/system scheduler"),
        "the stored backup:\n{stored}"
    );
    let entries = json(&curl_status(&lab, 200, &["/rest/system/scheduler"]));
    let entry = entries
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == "e2e-ui"))
        .unwrap_or_else(|| panic!("no e2e-ui entry in REST: {entries}"));
    assert_eq!(entry["on-event"], "/export file=e2e-ui", "{entry}");
    assert_eq!(entry["interval"], "5s", "{entry}");
    let (status, disposition, body) = compact;
    assert_eq!(status, 200, "{body}");
    assert!(
        disposition.starts_with("attachment; filename=\"statewall-")
            && disposition.ends_with(".rsc\""),
        "{disposition}"
    );
    assert_eq!(without_header(&body), without_header(&rest));
    assert!(body.contains("/ip firewall filter"), "{body}");
    // The same as the `/export` command over REST.
    let ret = command["ret"].as_str().expect("the export as ret");
    assert_eq!(
        without_header(&body).trim_end(),
        without_header(ret).trim_end()
    );

    let (status, _, body) = verbose;
    assert_eq!(status, 200);
    assert_eq!(without_header(&body), without_header(&rest_verbose));
    assert!(body.contains("loose-tcp-tracking="), "verbose:\n{body}");
}

/// Restore: a script with a mistake shows the dry run's error at its line and cannot be
/// restored; the export with a changed timeout and an added rule previews exactly those two
/// changes, and Restore puts them in force (REST confirms).
#[test]
fn restoring_a_modified_backup_changes_the_configuration() {
    const TEST: &str = "restoring_a_modified_backup_changes_the_configuration";
    let Some(_turn) = turn(TEST) else { return };
    let lab = RouterLab::start(Setup::default());
    wait_for_api(&lab);
    let browser = Browser::start(&lab, Node::Pc1);
    let export = curl_status(&lab, 200, &["/backup/export"]);
    let modified = format!(
        "{export}/ip firewall connection tracking\nset udp-timeout=33s\n\
         /ip firewall filter\nadd action=accept chain=forward comment=\"restored by e2e\" protocol=icmp\n"
    );
    // One mistake: ports without a protocol, on a line whose number the dry run must name.
    let broken = format!("{modified}add action=drop chain=forward dst-port=25\n");
    let bad_line = broken.lines().count();
    let dir = std::env::temp_dir();
    let prefix = backend::lab::test_prefix();
    let broken_file = dir.join(format!("{prefix}broken.rsc"));
    let good_file = dir.join(format!("{prefix}modified.rsc"));
    std::fs::write(&broken_file, &broken).expect("writing the broken script");
    std::fs::write(&good_file, &modified).expect("writing the modified script");

    browser.session(&lab, Node::Pc1, &artifacts(), async |page: &Page| {
        log_in(page).await;
        page.goto("/backups").await;
        let input = page.find("[data-testid=restore-file]").await;
        input
            .send_keys(&broken_file.display().to_string())
            .await
            .expect("choosing the broken script");
        let error = page.find("[data-testid=dry-run-error]").await;
        let line = error.attr("data-line").await.ok().flatten();
        assert_eq!(line, Some(bad_line.to_string()));
        let text = error.text().await.unwrap_or_default();
        assert!(
            text.contains(&format!("line {bad_line},")) && text.contains("dst-port"),
            "{text}"
        );
        assert!(disabled(page, "[data-testid=restore-apply]").await);
        scroll_to(page, "#restore-checked-h").await;
        page.screenshot("backup-dry-run-errors").await;

        let input = page.find("[data-testid=restore-file]").await;
        input.clear().await.ok();
        input
            .send_keys(&good_file.display().to_string())
            .await
            .expect("choosing the modified script");
        page.find("[data-testid=dry-run-ok]").await;
        let tracking = page
            .text("[data-testid=preview-menu][data-menu=\"/ip firewall connection tracking\"]")
            .await;
        assert!(tracking.contains("set udp-timeout=33s"), "{tracking}");
        let filter = page
            .text("[data-testid=preview-menu][data-menu=\"/ip firewall filter\"]")
            .await;
        assert!(
            filter.contains("1 added, 0 removed") && filter.contains("restored by e2e"),
            "{filter}"
        );
        assert_eq!(
            page.find_all("[data-testid=preview-menu]").await.len(),
            2,
            "only the two changed menus"
        );
        scroll_to(page, "#restore-checked-h").await;
        page.screenshot("backup-preview").await;
        page.click("[data-testid=restore-apply]").await;
        text_contains(
            page,
            "the restore is done",
            "[data-testid=restore-status]",
            "Restored",
        )
        .await;
        scroll_to(page, "#restore-h").await;
        page.screenshot("backup-restored").await;
    });
    let _ = std::fs::remove_file(&broken_file);
    let _ = std::fs::remove_file(&good_file);

    let tracking = json(&curl_status(
        &lab,
        200,
        &["/rest/ip/firewall/connection/tracking"],
    ));
    assert_eq!(tracking["udp-timeout"], "33s", "{tracking}");
    let rules = json(&curl_status(&lab, 200, &["/rest/ip/firewall/filter"]));
    assert!(
        rules
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["comment"] == "restored by e2e")),
        "{rules}"
    );
}
