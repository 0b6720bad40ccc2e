//! The Flow and Connections screens rendered into a real page (headless Chromium,
//! `wasm-bindgen-test-runner`) from fixed snapshots pushed into a feed that has no socket, and
//! read back from the DOM: the diagram's rates from two snapshots, the table's rows and NAT
//! addresses, the filter's messages, sorting through the URL and the feed's window, and a
//! 100 000-entry table that keeps a small DOM while it scrolls.
//!
//! `cargo test -p frontend --target wasm32-unknown-unknown --test flow_connections`

#![cfg(target_arch = "wasm32")]

use frontend::feed::Feed;
use frontend::screens::connections::table::{MAX_POOL, ROW_H};
use frontend::screens::connections::Connections;
use frontend::screens::flow::figures::{Edge, FlowFigures, Node};
use frontend::screens::flow::Flow;
use leptos::prelude::*;
use leptos::task::tick;
use leptos_router::components::Router;
use shared::connection::{format_id, ConnectionEntry};
use shared::duration::Duration;
use shared::feed::{
    ConntrackCounters, FlowCounters, HostCount, NamedCount, NatEntries, PortCounters, Snapshot,
    SortColumn, SystemResource, Window, WindowView,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

// ---- fixtures -------------------------------------------------------------------------------

fn snapshot(uptime_s: u64, scale: u64) -> Snapshot {
    Snapshot {
        seq: uptime_s,
        interval_ms: 1000,
        uptime: Duration::from_secs(uptime_s),
        resource: SystemResource {
            uptime: Duration::from_secs(uptime_s),
            version: "0.1.0 (development)".into(),
            free_memory: 1 << 30,
            total_memory: 2 << 30,
            cpu: "QEMU".into(),
            cpu_count: 2,
            cpu_load: 3,
            architecture_name: "x86_64".into(),
            board_name: "statewall".into(),
            platform: "statewall".into(),
        },
        ports: vec![
            PortCounters {
                name: "ether1".into(),
                rx_packets: 400 * scale,
                rx_bytes: 400_000 * scale,
                tx_packets: 500 * scale,
                tx_bytes: 50_000 * scale,
            },
            PortCounters {
                name: "ether2".into(),
                rx_packets: 600 * scale,
                rx_bytes: 60_000 * scale,
                tx_packets: 420 * scale,
                tx_bytes: 420_000 * scale,
            },
        ],
        flow: FlowCounters {
            prerouting: 1000 * scale,
            dstnat: 2 * scale,
            input: 100 * scale,
            forward: 880 * scale,
            output: 90 * scale,
            postrouting: 960 * scale,
            srcnat: 10 * scale,
            local_delivered: 95 * scale,
            dropped: 25 * scale,
            ..FlowCounters::default()
        },
        drops: vec![
            NamedCount::new("bad-frame", 0),
            NamedCount::new("filter-input", 5 * scale),
            NamedCount::new("filter-forward", 20 * scale),
            NamedCount::new("no-route", 0),
        ],
        conntrack: ConntrackCounters {
            created: 12 * scale,
            expired: 8 * scale,
            removed: scale,
            invalid: 3 * scale,
            ..ConntrackCounters::default()
        },
        total_entries: 40 + scale,
        max_entries: 262_144,
        entries_by_protocol: vec![
            NamedCount::new("tcp", 30),
            NamedCount::new("udp", 10 + scale),
            NamedCount::new("icmp", 1),
        ],
        entries_by_tcp_state: shared::feed::TCP_STATES
            .iter()
            .map(|s| NamedCount::new(*s, u64::from(*s == "established") * 30))
            .collect(),
        nat_entries: NatEntries {
            srcnat: 25,
            dstnat: 2,
        },
        history: vec![10, 20, 40, 41],
        top_hosts_by_connections: vec![HostCount {
            address: "198.51.100.10".parse().unwrap(),
            connections: 30,
            rate: 1000,
        }],
        top_hosts_by_rate: vec![],
        rules: vec![],
        window: WindowView {
            query: Window::counts_only(),
            matching: 0,
            entries: vec![],
        },
    }
}

fn entry(n: u32) -> ConnectionEntry {
    ConnectionEntry {
        id: format_id(n),
        protocol: "tcp".into(),
        src_address: format!("198.51.100.10:{}", 40000 + n),
        dst_address: "192.0.2.10:80".into(),
        reply_src_address: "192.0.2.10:80".into(),
        reply_dst_address: format!("203.0.113.2:{}", 40000 + n),
        tcp_state: Some("established".into()),
        icmp_type: None,
        icmp_code: None,
        icmp_id: None,
        timeout: Duration::from_millis(86_398_500),
        orig_packets: 5,
        orig_bytes: 380,
        repl_packets: 4,
        repl_bytes: 1536,
        orig_rate: 0,
        repl_rate: 8000,
        seen_reply: true,
        assured: true,
        confirmed: true,
        dying: false,
        srcnat: true,
        dstnat: false,
        expected: false,
        fasttrack: false,
    }
}

/// A plain entry, not translated (UDP to the router itself).
fn untranslated(n: u32) -> ConnectionEntry {
    ConnectionEntry {
        protocol: "udp".into(),
        src_address: format!("198.51.100.11:{}", 50000 + n),
        dst_address: "198.51.100.1:53".into(),
        reply_src_address: "198.51.100.1:53".into(),
        reply_dst_address: format!("198.51.100.11:{}", 50000 + n),
        tcp_state: None,
        srcnat: false,
        assured: false,
        ..entry(n)
    }
}

/// A snapshot answering `window` with `matching` entries, of which `entries` are the window's.
fn answering(window: Window, matching: u64, entries: Vec<ConnectionEntry>) -> Snapshot {
    Snapshot {
        window: WindowView {
            query: window,
            matching,
            entries,
        },
        ..snapshot(10, 1)
    }
}

// ---- DOM helpers ----------------------------------------------------------------------------

fn container() -> HtmlElement {
    let doc = document();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

/// Back to the runner's page without a query (a previous test may have navigated).
fn reset_url() {
    let w = web_sys::window().unwrap();
    let _ =
        w.history()
            .unwrap()
            .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
}

fn search() -> String {
    web_sys::window().unwrap().location().search().unwrap()
}

fn testid(root: &Element, id: &str) -> Element {
    root.query_selector(&format!("[data-testid=\"{id}\"]"))
        .unwrap()
        .unwrap_or_else(|| panic!("no [data-testid={id}] in {}", root.inner_html()))
}

fn text(root: &Element, id: &str) -> String {
    testid(root, id).text_content().unwrap_or_default()
}

fn all(root: &Element, css: &str) -> Vec<Element> {
    let list = root.query_selector_all(css).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .collect()
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Lets effects, timers (the window's debounce) and the router's navigation run.
async fn settle() {
    tick().await;
    sleep(300).await;
    tick().await;
}

fn type_into(input: &HtmlInputElement, value: &str) {
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// The window the screen asked the feed for.
fn asked(feed: &Feed) -> Window {
    feed.wanted().window.expect("a window")
}

// ---- Flow -----------------------------------------------------------------------------------

#[wasm_bindgen_test]
fn flow_figures_are_rates_between_two_snapshots() {
    // Two snapshots 2 s apart by the router's clock; every counter of the second is twice the
    // first's.
    let (a, b) = (snapshot(10, 1), snapshot(12, 2));
    let f = FlowFigures::between(Some(&a), &b);
    assert_eq!(f.prerouting.total, 2000);
    assert_eq!(f.prerouting.rate, Some(500.0));
    assert_eq!(f.rx.rate, Some(500.0));
    assert_eq!(f.rx_bytes.rate, Some(230_000.0));
    assert_eq!(f.edge(Edge::IncomingPrerouting).rate, Some(500.0));
    // Forward: 880 in, 20 dropped by its rules a second → 430 pkt/s go on to postrouting.
    assert_eq!(f.drops_at(Node::Forward).rate, Some(10.0));
    assert_eq!(f.edge(Edge::ForwardPostrouting).rate, Some(430.0));
    assert_eq!(f.edge(Edge::RoutingInput).rate, Some(50.0));
    assert_eq!(f.edge(Edge::PreroutingTable).rate, Some(6.0));
    // Expired 8 + removed 1 per unit: 4.5 entries end a second.
    assert_eq!(f.ended().rate, Some(4.5));
    assert_eq!(f.edge(Edge::TableTimeout).rate, Some(4.5));
    // The first snapshot alone has totals but no rates.
    let first = FlowFigures::between(None, &a);
    assert_eq!(first.prerouting.total, 1000);
    assert_eq!(first.prerouting.rate, None);
    assert_eq!(first.prerouting.per_second(), "–/s");
    // A counter that went back (the router restarted) has no rate.
    let back = FlowFigures::between(Some(&b), &snapshot(14, 1));
    assert_eq!(back.prerouting.rate, None);
}

#[wasm_bindgen_test]
async fn the_flow_screen_shows_the_rates_of_the_feed() {
    reset_url();
    let root = container();
    let feed = Feed::new("ws://feed.invalid/ws");
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(feed);
        view! {
            <Router>
                <Flow />
            </Router>
        }
    });
    let root: &Element = &root;
    tick().await;
    assert!(root
        .text_content()
        .unwrap()
        .contains("Waiting for the router"));

    feed.push(snapshot(10, 1));
    tick().await;
    assert_eq!(text(root, "flow-edge-incoming-prerouting"), "–/s");
    let table = text(root, "flow-node-table");
    assert!(table.contains("41 / 262\u{202f}144"), "{table}");

    feed.push(snapshot(12, 2));
    tick().await;
    assert_eq!(text(root, "flow-edge-incoming-prerouting"), "500/s");
    assert_eq!(text(root, "flow-edge-forward-srcnat"), "430/s");
    assert!(text(root, "flow-edge-table-timeout").starts_with("4.5/s"));
    let forward = text(root, "flow-node-forward");
    assert!(forward.contains("Forward chain"), "{forward}");
    assert!(forward.contains("440/s pkt"), "{forward}");
    assert!(forward.contains("dropped 40 (10/s)"), "{forward}");
    let incoming = text(root, "flow-node-incoming");
    assert!(incoming.contains("1.8 Mbit/s"), "{incoming}");
    let drops = text(root, "flow-drops");
    assert!(drops.contains("filter-forward"), "{drops}");
    // Each box is a link: a chain to its rules, the table to the connections.
    let link = |node: &str| {
        root.query_selector(&format!("[data-testid=flow-node-{node}] a"))
            .unwrap()
            .unwrap()
            .get_attribute("href")
            .unwrap_or_default()
    };
    assert_eq!(link("forward"), "/firewall?chain=forward");
    assert_eq!(link("input"), "/firewall?chain=input");
    assert_eq!(link("table"), "/connections");
    assert_eq!(link("timeout"), "/?show=timeouts");
}

// ---- Connections ----------------------------------------------------------------------------

/// The Connections screen over a feed without a socket.
fn mount_connections(
    root: &HtmlElement,
    feed: Feed,
) -> leptos::mount::UnmountHandle<impl Mountable> {
    leptos::mount::mount_to(root.clone(), move || {
        provide_context(feed);
        view! {
            <Router>
                <Connections />
            </Router>
        }
    })
}

#[wasm_bindgen_test]
async fn rows_show_nat_as_translated_original_and_sorting_goes_through_the_url() {
    reset_url();
    let root = container();
    let feed = Feed::new("ws://feed.invalid/ws");
    let _mounted = mount_connections(&root, feed);
    let root: &Element = &root;
    settle().await;
    let w = asked(&feed);
    assert_eq!((w.offset, w.sort, w.descending), (0, SortColumn::Id, false));
    assert!(w.limit > 0 && w.limit <= 500, "{w:?}");

    feed.push(answering(w.clone(), 2, vec![entry(1), untranslated(2)]));
    settle().await;
    let rows: Vec<Element> = all(root, "tr.conn-row")
        .into_iter()
        .filter(|r| r.get_attribute("data-id").is_some())
        .collect();
    assert_eq!(rows.len(), 2, "{}", root.inner_html());
    let cells = |row: &Element| -> Vec<String> {
        all(row, "td")
            .iter()
            .map(|c| c.text_content().unwrap_or_default())
            .collect()
    };
    let first = cells(&rows[0]);
    assert_eq!(first[0], "tcp");
    assert_eq!(first[1], "198.51.100.10:40001");
    assert_eq!(first[3], "192.0.2.10:80", "reply source not translated");
    assert_eq!(
        first[4], "203.0.113.2:40001 (198.51.100.10:40001)",
        "masquerade: translated (original)"
    );
    assert_eq!(first[5], "established");
    assert_eq!(first[6], "23h59m58s");
    assert_eq!(first[7], "380 B / 5");
    assert_eq!(first[8], "1.5 KiB / 4");
    assert_eq!(first[10], "8.0 kbit/s");
    assert_eq!(first[11], "SACs");
    let second = cells(&rows[1]);
    assert_eq!(second[4], "198.51.100.11:50002");
    assert_eq!(rows[1].get_attribute("data-id").as_deref(), Some("*2"));
    assert!(text(root, "conn-totals").starts_with("2 matching"));

    // Sorting is the router's: a header click puts the order in the URL and the window.
    let by_source = root
        .query_selector("button.sort[data-sort=src-address]")
        .unwrap()
        .unwrap()
        .unchecked_into::<HtmlElement>();
    by_source.click();
    settle().await;
    assert!(search().contains("sort=src-address"), "{}", search());
    assert!(!search().contains("desc"));
    assert_eq!(asked(&feed).sort, SortColumn::SrcAddress);
    let th = by_source.closest("th").unwrap().unwrap();
    assert_eq!(th.get_attribute("aria-sort").as_deref(), Some("ascending"));
    // The rows of the old order are not shown under the new heading.
    assert!(all(root, "tr.conn-row[data-id]").is_empty());
    by_source.click();
    settle().await;
    assert!(search().contains("desc=1"), "{}", search());
    let w = asked(&feed);
    assert!(w.descending);
    assert_eq!(th.get_attribute("aria-sort").as_deref(), Some("descending"));
    feed.push(answering(w, 2, vec![untranslated(2), entry(1)]));
    settle().await;
    let ids: Vec<String> = all(root, "tr.conn-row[data-id]")
        .iter()
        .filter_map(|r| r.get_attribute("data-id"))
        .collect();
    assert_eq!(ids, ["*2", "*1"]);
}

#[wasm_bindgen_test]
async fn the_filter_checks_as_typed_and_applies_through_the_url() {
    reset_url();
    let root = container();
    let feed = Feed::new("ws://feed.invalid/ws");
    let _mounted = mount_connections(&root, feed);
    let root: &Element = &root;
    settle().await;
    let address: HtmlInputElement = testid(root, "filter-address").unchecked_into();
    type_into(&address, "300.1.1.1");
    tick().await;
    assert_eq!(
        text(root, "filter-address-error"),
        "\"300.1.1.1\" is not an IPv4 address"
    );
    assert_eq!(
        address.get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    let port: HtmlInputElement = testid(root, "filter-port").unchecked_into();
    type_into(&port, "80-20");
    tick().await;
    assert_eq!(
        text(root, "filter-port-error"),
        "port range 80-20 ends before it starts"
    );
    // Nothing is applied while a field is wrong.
    testid(root, "filter-apply")
        .unchecked_into::<HtmlElement>()
        .click();
    settle().await;
    assert_eq!(search(), "");
    assert_eq!(asked(&feed).address, None);

    type_into(&address, "192.0.2.0/24");
    type_into(&port, "80");
    tick().await;
    assert_eq!(text(root, "filter-address-error"), "");
    assert_eq!(
        address.get_attribute("aria-invalid").as_deref(),
        Some("false")
    );
    testid(root, "filter-apply")
        .unchecked_into::<HtmlElement>()
        .click();
    settle().await;
    assert!(search().contains("address=192.0.2.0%2F24"), "{}", search());
    let w = asked(&feed);
    assert_eq!(
        w.address.map(|a| a.to_string()).as_deref(),
        Some("192.0.2.0/24")
    );
    assert_eq!(w.port.map(|p| p.to_string()).as_deref(), Some("80"));

    // A state beside a protocol other than TCP is refused with a reason.
    let protocol: HtmlInputElement = testid(root, "filter-protocol").unchecked_into();
    type_into(&protocol, "udp");
    let state: web_sys::HtmlSelectElement = testid(root, "filter-state").unchecked_into();
    state.set_value("established");
    state
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    tick().await;
    assert_eq!(
        text(root, "filter-state-error"),
        "only TCP entries have a state, and protocol is udp"
    );
}

#[wasm_bindgen_test]
async fn a_link_with_a_filter_opens_filtered_and_shows_its_mistakes() {
    let w = web_sys::window().unwrap();
    let _ = w.history().unwrap().replace_state_with_url(
        &wasm_bindgen::JsValue::NULL,
        "",
        Some("/connections?address=10.0.0.0/33&protocol=icmp&sort=rate&desc=1"),
    );
    let root = container();
    let feed = Feed::new("ws://feed.invalid/ws");
    let _mounted = mount_connections(&root, feed);
    let root: &Element = &root;
    settle().await;
    assert_eq!(
        text(root, "filter-address-error"),
        "prefix length \"33\" is not 0-32"
    );
    let asked = asked(&feed);
    assert_eq!(asked.address, None, "the wrong part filters nothing");
    assert_eq!(asked.protocol, Some(1));
    assert_eq!((asked.sort, asked.descending), (SortColumn::Rate, true));
    assert_eq!(
        testid(root, "filter-protocol")
            .unchecked_into::<HtmlInputElement>()
            .value(),
        "icmp"
    );
}

#[wasm_bindgen_test]
async fn a_table_of_100000_keeps_a_small_dom_while_it_scrolls() {
    reset_url();
    let root = container();
    let feed = Feed::new("ws://feed.invalid/ws");
    let _mounted = mount_connections(&root, feed);
    let root: &Element = &root;
    settle().await;
    let w = asked(&feed);
    let entries = (0..w.limit).map(|i| entry(i + 1)).collect();
    feed.push(answering(w.clone(), 100_000, entries));
    settle().await;
    let rows = all(root, "tr.conn-row");
    assert!(
        !rows.is_empty() && rows.len() <= MAX_POOL,
        "{} rows in the DOM",
        rows.len()
    );
    assert!(text(root, "conn-totals").starts_with("100\u{202f}000 matching"));
    let table = testid(root, "conn-table");
    assert_eq!(
        table.get_attribute("aria-rowcount").as_deref(),
        Some("100001")
    );
    // The scroll height is every row's, though only the pool is there.
    let scroller: HtmlElement = testid(root, "conn-scroll").unchecked_into();
    assert!(
        f64::from(scroller.scroll_height()) >= 100_000.0 * ROW_H,
        "scroll height {}",
        scroller.scroll_height()
    );

    // Halfway down: the pool shows rows 50 000…, "…" until they arrive; the window follows.
    scroller.set_scroll_top((50_000.0 * ROW_H) as i32);
    scroller
        .dispatch_event(&web_sys::Event::new("scroll").unwrap())
        .unwrap();
    tick().await;
    let first = all(root, "tr.conn-row")[0].clone();
    assert_eq!(
        first.get_attribute("aria-rowindex").as_deref(),
        Some("50002")
    );
    assert!(first.class_list().contains("loading"));
    settle().await;
    let w = asked(&feed);
    assert!(
        w.offset <= 50_000 && 50_000 < w.offset + u64::from(w.limit),
        "the window {w:?} does not hold row 50 000"
    );
    assert!(search().contains("offset=50000"), "{}", search());
    let entries = (0..w.limit)
        .map(|i| entry(w.offset as u32 + i + 1))
        .collect();
    feed.push(answering(w.clone(), 100_000, entries));
    settle().await;
    let rows = all(root, "tr.conn-row");
    assert!(rows.len() <= MAX_POOL, "{} rows", rows.len());
    assert_eq!(rows[0].get_attribute("data-id"), Some(format_id(50_001)));
    assert!(rows.iter().all(|r| !r.class_list().contains("loading")));
}

#[wasm_bindgen_test]
fn the_history_graph_spans_its_box() {
    use frontend::screens::connections::summary::graph_points;
    let pts = graph_points(&[0, 50, 100], 300.0, 100.0);
    assert_eq!(pts, vec![(0.0, 100.0), (150.0, 50.0), (300.0, 0.0)]);
    assert!(graph_points(&[], 300.0, 100.0).is_empty());
    assert_eq!(graph_points(&[0], 300.0, 100.0), vec![(300.0, 100.0)]);
}
