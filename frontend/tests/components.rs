//! Components rendered into a real page (headless Chromium, `wasm-bindgen-test-runner`) and
//! read back from the DOM.
//!
//! `cargo test -p frontend --target wasm32-unknown-unknown` (the runner is set in
//! `.cargo/config.toml`).

#![cfg(target_arch = "wasm32")]

use frontend::app::LiveIndicator;
use frontend::feed::{self, ConnState, Feed};
use frontend::screens::login::LoginForm;
use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element in the page's body to mount into.
fn container() -> HtmlElement {
    let doc = document();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn testid(root: &Element, id: &str) -> Element {
    root.query_selector(&format!("[data-testid=\"{id}\"]"))
        .unwrap()
        .unwrap_or_else(|| panic!("no [data-testid={id}] in {}", root.inner_html()))
}

fn text(root: &Element, id: &str) -> String {
    testid(root, id).text_content().unwrap_or_default()
}

/// Waits for the browser's timers (the feed's socket and retries run on them).
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_login_form_shows_the_error_it_is_given() {
    let root = container();
    let error = RwSignal::new(None::<String>);
    let submitted = RwSignal::new(None::<(String, String)>);
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <LoginForm
                error=error
                busy=false
                on_submit=Callback::new(move |typed| submitted.set(Some(typed)))
            />
        }
    });
    let root: &Element = &root;
    assert_eq!(text(root, "login-error"), "");

    error.set(Some("Wrong name or password.".into()));
    tick().await;
    assert_eq!(text(root, "login-error"), "Wrong name or password.");
    assert_eq!(
        testid(root, "login-error").get_attribute("role").as_deref(),
        Some("alert")
    );

    // What is typed is what is submitted, and the error stays until the caller clears it.
    let password: HtmlInputElement = root
        .query_selector("#login-password")
        .unwrap()
        .unwrap()
        .unchecked_into();
    password.set_value("secret");
    let input = web_sys::Event::new("input").unwrap();
    password.dispatch_event(&input).unwrap();
    let button: HtmlElement = root
        .query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    button.click();
    tick().await;
    assert_eq!(
        submitted.get_untracked(),
        Some(("admin".to_string(), "secret".to_string()))
    );
    error.set(None);
    tick().await;
    assert_eq!(text(root, "login-error"), "");
}

#[wasm_bindgen_test]
async fn the_live_indicator_follows_the_feed_state() {
    let root = container();
    let feed = Feed::new("ws://feed.invalid/ws");
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! { <LiveIndicator state=feed.state_signal() /> }
    });
    let root: &Element = &root;
    assert_eq!(text(root, "live-indicator"), "connecting…");
    feed.set_state(ConnState::Live);
    tick().await;
    assert_eq!(text(root, "live-indicator"), "live");
    feed.set_state(ConnState::Reconnecting);
    tick().await;
    let indicator = testid(root, "live-indicator");
    assert_eq!(indicator.text_content().as_deref(), Some("reconnecting…"));
    assert_eq!(
        indicator.get_attribute("data-state").as_deref(),
        Some("reconnecting")
    );
    assert!(indicator.class_list().contains("down"));
}

#[wasm_bindgen_test]
async fn a_feed_the_server_refuses_shows_reconnecting() {
    // The test page's server has no /ws: the socket fails as it would with the router down.
    let root = container();
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        let feed = Feed::new(feed::page_url()).start();
        view! { <LiveIndicator state=feed.state_signal() /> }
    });
    let root: &Element = &root;
    let mut seen = String::new();
    for _ in 0..50 {
        tick().await;
        seen = text(root, "live-indicator");
        if seen.contains("reconnecting") {
            break;
        }
        sleep(100).await;
    }
    assert_eq!(seen, "reconnecting…");
}
