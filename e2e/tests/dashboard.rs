//! The dashboard in a real browser, as an admin on the LAN uses it: headless Chromium in pc1's
//! namespace opens `https://198.51.100.1/` (the router's own HTTPS, self-signed certificate
//! accepted as an admin would), over the lab's network and through statewall.
//!
//! Each test starts its own lab, one at a time. Screenshots of every screen go to
//! `<target>/tmp/dashboard/` (CI keeps them as artifacts). Needs root, chromium and
//! chromedriver: skipped with a reason elsewhere, a failure under CI.

use backend::lab::{Node, LAB_ADMIN_PASSWORD};
use e2e::browser::{require_browser, Browser, Page};
use e2e::lab::{RouterLab, Setup};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

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

/// Logs in through the form and waits for the shell (the feed's indicator).
async fn log_in(page: &Page, password: &str) {
    page.goto("/").await;
    page.fill("#login-name", "admin").await;
    page.fill("#login-password", password).await;
    page.click("[data-testid=login-form] button[type=submit]")
        .await;
}

#[test]
fn login_refuses_a_wrong_password_then_the_live_dashboard_opens() {
    let Some(_turn) = turn("login_refuses_a_wrong_password_then_the_live_dashboard_opens") else {
        return;
    };
    let lab = RouterLab::start(Setup::default());
    let browser = Browser::start(&lab, Node::Pc1);
    browser.session(&lab, Node::Pc1, &artifacts(), async |page: &Page| {
        log_in(page, "not-the-password").await;
        let error = page
            .until("the login error", async |p: &Page| {
                let t = p.text("[data-testid=login-error]").await;
                if t.is_empty() {
                    Err(t)
                } else {
                    Ok(t)
                }
            })
            .await;
        assert!(error.contains("Wrong name or password"), "{error}");
        page.screenshot("login-refused").await;

        log_in(page, LAB_ADMIN_PASSWORD).await;
        page.until("the feed goes live", async |p: &Page| {
            let el = p.find("[data-testid=live-indicator]").await;
            let state = el.attr("data-state").await.ok().flatten();
            match state.as_deref() {
                Some("live") => Ok(()),
                other => Err(other.map(str::to_string)),
            }
        })
        .await;
        let identity = page.text("[data-testid=identity]").await;
        assert!(!identity.is_empty());

        page.goto("/system").await;
        let resource = page
            .until("the system screen shows the uptime", async |p: &Page| {
                let t = p.text("[data-testid=resource]").await;
                if t.contains("Uptime") {
                    Ok(t)
                } else {
                    Err(t)
                }
            })
            .await;
        assert!(resource.contains("CPU"), "{resource}");
        let ports = page.text("[data-testid=interfaces]").await;
        assert!(
            ports.contains("ether1") && ports.contains("ether2"),
            "{ports}"
        );
        page.screenshot("system").await;
    });
}
