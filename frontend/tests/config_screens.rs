//! The configuration screens' components in a real page (headless Chromium,
//! `wasm-bindgen-test-runner`): the settings form and the rule form with their validation
//! messages, and the restore preview on fixed scripts.
//!
//! `cargo test -p frontend --target wasm32-unknown-unknown --test config_screens`

#![cfg(target_arch = "wasm32")]

use frontend::api::{ApiError, RosError};
use frontend::screens::backup::{preview, Line, RestorePreview};
use frontend::screens::rules::{check_rule, RuleForm, RuleTable};
use frontend::screens::settings::{self, SettingsForm, Values};
use leptos::prelude::*;
use leptos::task::tick;
use shared::config::edit::Editor;
use shared::config::RouterConfig;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlButtonElement, HtmlElement, HtmlInputElement, HtmlSelectElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element in the page's body to mount into.
fn container() -> HtmlElement {
    let doc = document();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn find(root: &Element, css: &str) -> Element {
    root.query_selector(css)
        .unwrap()
        .unwrap_or_else(|| panic!("no {css} in {}", root.inner_html()))
}

fn text(root: &Element, testid: &str) -> String {
    find(root, &format!("[data-testid=\"{testid}\"]"))
        .text_content()
        .unwrap_or_default()
}

/// Lets effects that set signals, and the effects those signals drive, run.
async fn settle() {
    for _ in 0..5 {
        tick().await;
    }
}

/// Types `value` into the input `css` as a user would (the input event follows).
fn type_into(root: &Element, css: &str, value: &str) {
    let input: HtmlInputElement = find(root, css).unchecked_into();
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// Picks `value` in the select `css`.
fn choose(root: &Element, css: &str, value: &str) {
    let select: HtmlSelectElement = find(root, css).unchecked_into();
    select.set_value(value);
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
}

fn button(root: &Element, testid: &str) -> HtmlButtonElement {
    find(root, &format!("[data-testid=\"{testid}\"]")).unchecked_into()
}

/// The tracking menu as REST prints it on a router with the defaults.
fn default_tracking() -> Values {
    Editor::new(RouterConfig::default())
        .settings(settings::MENU)
        .unwrap()
        .into_iter()
        .collect()
}

#[wasm_bindgen_test]
async fn a_bad_duration_in_settings_is_shown_beside_its_field() {
    let root = container();
    let current = RwSignal::new(default_tracking());
    let sent = RwSignal::new(None::<Vec<(String, String)>>);
    let server = RwSignal::new(None::<ApiError>);
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <SettingsForm
                current=current
                on_apply=Callback::new(move |changes| sent.set(Some(changes)))
                busy=false
                server_error=server
                status=Signal::derive(|| None::<String>)
            />
        }
    });
    let root: &Element = &root;
    tick().await;
    // Every settable property has its field, with its explanation, unit and default.
    for p in shared::tracking::PROPERTIES.iter().filter(|p| !p.read_only) {
        find(root, &format!("#setting-{}", p.name));
    }
    let udp = text(root, "field-udp-timeout");
    assert!(
        udp.contains("time · default 10s") && udp.contains("Timeout of a UDP flow"),
        "{udp}"
    );
    assert!(
        button(root, "settings-apply").disabled(),
        "nothing changed yet"
    );

    type_into(root, "#setting-udp-timeout", "5 minutes");
    tick().await;
    let shown = text(root, "error-udp-timeout");
    assert_eq!(
        shown,
        "invalid value for argument udp-timeout: \"5 minutes\", expected a time value such as \
         10s, 5m or 1d"
    );
    // The words are those of the router's own check (the editor REST runs).
    assert_eq!(
        Some(shown),
        settings::check_one("udp-timeout", "5 minutes"),
        "the same check as the router"
    );
    assert_eq!(
        find(root, "#setting-udp-timeout")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("true")
    );
    assert!(
        button(root, "settings-apply").disabled(),
        "a mistake blocks Apply"
    );

    type_into(root, "#setting-udp-timeout", "45s");
    choose(root, "#setting-loose-tcp-tracking", "no");
    tick().await;
    assert_eq!(text(root, "error-udp-timeout"), "");
    let apply = button(root, "settings-apply");
    assert!(!apply.disabled());
    assert_eq!(apply.text_content().as_deref(), Some("Apply 2 changes"));
    apply.click();
    tick().await;
    assert_eq!(
        sent.get_untracked(),
        Some(vec![
            ("loose-tcp-tracking".to_string(), "no".to_string()),
            ("udp-timeout".to_string(), "45s".to_string()),
        ])
    );

    // The router's refusal goes beside the field it names, until that field is edited.
    let detail =
        "invalid value for argument tcp-established-timeout: \"x\", expected a time value \
                  such as 10s, 5m or 1d";
    server.set(Some(ApiError::Router(RosError {
        error: 400,
        message: "Bad Request".into(),
        detail: Some(detail.into()),
    })));
    tick().await;
    assert_eq!(text(root, "error-tcp-established-timeout"), detail);
    assert_eq!(text(root, "settings-error"), "");
    type_into(root, "#setting-tcp-established-timeout", "2d");
    tick().await;
    assert_eq!(text(root, "error-tcp-established-timeout"), "");

    // An error about no field is shown above the buttons.
    server.set(Some(ApiError::Network("Failed to fetch".into())));
    tick().await;
    assert!(text(root, "settings-error").contains("cannot reach the router"));

    // Revert: the values in force again.
    button(root, "settings-revert").click();
    tick().await;
    let udp: HtmlInputElement = find(root, "#setting-udp-timeout").unchecked_into();
    assert_eq!(udp.value(), "10s");
    assert!(button(root, "settings-apply").disabled());

    // New values in force (after an Apply) replace the form's.
    let mut applied = default_tracking();
    applied.insert("udp-timeout".into(), "45s".into());
    current.set(applied);
    settle().await;
    assert_eq!(udp.value(), "45s");
}

#[wasm_bindgen_test]
async fn a_bad_address_in_a_rule_is_shown_beside_its_field() {
    let root = container();
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <RuleForm
                table=RuleTable::Filter
                editing=None
                chain="forward"
                on_saved=Callback::new(|_: String| {})
                on_cancel=Callback::new(|()| {})
            />
        }
    });
    let root: &Element = &root;
    tick().await;
    let chain: HtmlInputElement = find(root, "#rule-chain").unchecked_into();
    assert_eq!(chain.value(), "forward");
    assert!(!button(root, "rule-save").disabled());
    // NAT-only fields are not in the filter form; the jump target only with action=jump.
    assert!(root.query_selector("#rule-to-addresses").unwrap().is_none());
    assert!(root.query_selector("#rule-jump-target").unwrap().is_none());

    type_into(root, "#rule-src-address", "10.0.0.300");
    tick().await;
    let shown = text(root, "error-src-address");
    assert!(
        shown.starts_with("invalid value for argument src-address: \"10.0.0.300\", expected"),
        "{shown}"
    );
    let args = [
        ("chain", "forward".to_string()),
        ("src-address", "10.0.0.300".into()),
    ];
    assert_eq!(
        check_rule(RuleTable::Filter, None, &args)[0].message,
        shown,
        "the same check as the router"
    );
    assert!(button(root, "rule-save").disabled());

    type_into(root, "#rule-src-address", "10.0.0.0/8");
    type_into(root, "#rule-dst-port", "80");
    tick().await;
    assert_eq!(text(root, "error-src-address"), "");
    assert!(
        text(root, "error-dst-port").contains("needs protocol=tcp or protocol=udp"),
        "{}",
        text(root, "error-dst-port")
    );
    type_into(root, "#rule-protocol", "tcp");
    tick().await;
    assert_eq!(text(root, "error-dst-port"), "");
    assert!(!button(root, "rule-save").disabled());

    choose(root, "#rule-action", "jump");
    tick().await;
    find(root, "#rule-jump-target");
    assert_eq!(
        text(root, "error-jump-target"),
        "action=jump needs argument \"jump-target\""
    );
    type_into(root, "#rule-jump-target", "mine");
    tick().await;
    assert_eq!(text(root, "error-jump-target"), "");
}

/// The export of a small router, as the router writes it (compact).
const CURRENT: &str = "\
# 2026-01-01 00:00:00 by statewall 0.1.0
/interface list
add name=WAN
add name=LAN
/ip firewall connection tracking
set udp-timeout=30s
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=drop chain=input in-interface-list=!LAN
/ip firewall nat
add action=masquerade chain=srcnat out-interface-list=WAN
/system scheduler
add interval=1d name=nightly on-event=\"/export file=nightly\" start-time=startup
";

/// The same configuration written another way (paths on each line, other argument order,
/// wrapped), with a rule added, the UDP timeout back to its default and the scheduler entry
/// gone.
const UPLOADED: &str = "\
/interface list add name=WAN
/interface list add name=LAN
/ip firewall filter
add chain=input connection-state=established,related action=accept
add chain=input action=accept protocol=icmp comment=\"allow ping\"
add chain=input in-interface-list=!LAN \\
    action=drop
/ip firewall nat add chain=srcnat action=masquerade out-interface-list=WAN
";

#[wasm_bindgen_test]
async fn the_restore_preview_shows_what_changes_menu_by_menu() {
    let p = preview(CURRENT, UPLOADED);
    assert!(!p.unreadable);
    let changed: Vec<&str> = p.changed().map(|m| m.menu.as_str()).collect();
    assert_eq!(
        changed,
        [
            "/ip firewall connection tracking",
            "/ip firewall filter",
            "/system scheduler"
        ],
        "{p:#?}"
    );
    let filter = p.menu("/ip firewall filter").unwrap();
    assert_eq!(
        filter.added().collect::<Vec<_>>(),
        ["add action=accept chain=input comment=\"allow ping\" protocol=icmp"]
    );
    assert_eq!(filter.removed().count(), 0);
    assert_eq!(filter.unchanged(), 2);
    let tracking = p.menu("/ip firewall connection tracking").unwrap();
    assert_eq!(
        tracking.lines,
        vec![Line::Removed("set udp-timeout=30s".into())]
    );
    assert!(!p.menu("/ip firewall nat").unwrap().is_changed());
    assert!(!p.menu("/interface list").unwrap().is_changed());

    let unreadable = preview(CURRENT, "/ip firewall filter\nadd chain=\"input\n");
    assert!(unreadable.unreadable);
    assert_eq!(preview(CURRENT, CURRENT).changed().count(), 0);

    let root = container();
    let shown = RwSignal::new(p);
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! { <RestorePreview preview=shown /> }
    });
    let root: &Element = &root;
    tick().await;
    let menus = root
        .query_selector_all("[data-testid=preview-menu]")
        .unwrap();
    assert_eq!(menus.length(), 3);
    let added = text(root, "preview-added");
    assert!(
        added.starts_with('+') && added.contains("comment=\"allow ping\""),
        "{added}"
    );
    let removed = text(root, "preview-removed");
    assert!(removed.contains("set udp-timeout=30s"), "{removed}");
    assert!(root
        .query_selector("[data-testid=preview-unchanged]")
        .unwrap()
        .is_none());

    shown.set(preview(CURRENT, CURRENT));
    tick().await;
    assert!(text(root, "preview-unchanged").contains("changes nothing"));
    assert_eq!(
        root.query_selector_all("[data-testid=preview-menu]")
            .unwrap()
            .length(),
        0
    );
}
