//! The live feed: one websocket to `/ws` (message format in [`shared::feed`]), kept open for as
//! long as the app is logged in.
//!
//! - The latest [`Snapshot`] (and the one before, for rates) and the connection's
//!   [`ConnState`] are signals: a screen reads them and redraws on each tick.
//! - The socket reconnects by itself, waiting [`RETRY_FIRST_MS`] and doubling up to
//!   [`RETRY_MAX_MS`]; a socket that stays silent for three intervals is taken for dead and
//!   replaced. A socket that brings no snapshot may mean the session is over: the feed then asks
//!   the REST API, whose 401 sends the app to its login form (`api::on_unauthorized`).
//! - What the screens want (rate, table window) is kept and sent again on every reconnect.
//!   The default window is [`Window::counts_only`]: no rows until a screen asks for them.
//!
//! The app starts one [`Feed`] after login and provides it as context ([`use_feed`]).

use crate::api;
use leptos::prelude::*;
use shared::feed::{ClientMessage, FieldError, ServerMessage, Snapshot, Window};
use std::sync::Arc;
use std::time::Duration;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

/// The first wait before reconnecting.
pub const RETRY_FIRST_MS: u64 = 500;
/// The longest wait between two attempts.
pub const RETRY_MAX_MS: u64 = 10_000;
/// How often the feed checks that a live socket still speaks.
const WATCHDOG_MS: u64 = 2_000;
/// A socket silent for this long (or three intervals, if longer) is replaced.
const SILENCE_MIN_MS: f64 = 5_000.0;

/// Where the feed stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// The first attempt, before any snapshot.
    Connecting,
    /// Snapshots arriving.
    Live,
    /// Lost or refused; trying again.
    Reconnecting,
}

impl ConnState {
    /// What the indicator says.
    pub fn label(self) -> &'static str {
        match self {
            ConnState::Connecting => "connecting",
            ConnState::Live => "live",
            ConnState::Reconnecting => "reconnecting",
        }
    }
}

/// A snapshot and when it arrived (`performance.now()`-like milliseconds, for rates).
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped {
    pub snapshot: Arc<Snapshot>,
    pub at_ms: f64,
}

/// The feed's handles: cheap to copy into closures and components.
#[derive(Clone, Copy)]
pub struct Feed {
    latest: RwSignal<Option<Stamped>>,
    previous: RwSignal<Option<Stamped>>,
    state: RwSignal<ConnState>,
    error: RwSignal<Option<FieldError>>,
    inner: StoredValue<Inner, LocalStorage>,
}

/// The socket and what lives with it (not `Send`: browser objects).
struct Inner {
    url: String,
    wanted: ClientMessage,
    socket: Option<Socket>,
    /// The handlers of a closed socket; dropped at the next attempt, not inside themselves.
    retired: Option<Socket>,
    /// Failed attempts since snapshots last arrived.
    failures: u32,
    retry: Option<TimeoutHandle>,
    watchdog: Option<IntervalHandle>,
    last_message_ms: f64,
    stopped: bool,
}

struct Socket {
    ws: WebSocket,
    opened: bool,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    fn detach(&self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The feed's URL on this page's origin: `ws://host/ws`, or `wss://` under HTTPS.
pub fn page_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let https = location
        .as_ref()
        .and_then(|l| l.protocol().ok())
        .is_some_and(|p| p == "https:");
    let host = location
        .and_then(|l| l.host().ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{}://{host}/ws", if https { "wss" } else { "ws" })
}

/// The feed the app provided.
pub fn use_feed() -> Feed {
    expect_context::<Feed>()
}

impl Feed {
    /// A feed that is not connected: its state stays [`ConnState::Connecting`] until
    /// [`Feed::start`] or a test sets it. Lives as long as the current reactive owner.
    pub fn new(url: impl Into<String>) -> Feed {
        let wanted = ClientMessage {
            interval_ms: None,
            window: Some(Window::counts_only()),
        };
        Feed {
            latest: RwSignal::new(None),
            previous: RwSignal::new(None),
            state: RwSignal::new(ConnState::Connecting),
            error: RwSignal::new(None),
            inner: StoredValue::new_local(Inner {
                url: url.into(),
                wanted,
                socket: None,
                retired: None,
                failures: 0,
                retry: None,
                watchdog: None,
                last_message_ms: 0.0,
                stopped: false,
            }),
        }
    }

    /// Opens the socket, keeps it open, and closes it when the current owner is cleaned up
    /// (logout unmounts the screens that own it).
    pub fn start(self) -> Feed {
        let feed = self;
        let watchdog = set_interval_with_handle(move || feed.check_silence(), ms(WATCHDOG_MS)).ok();
        feed.inner.update_value(|i| i.watchdog = watchdog);
        feed.open();
        on_cleanup(move || feed.stop());
        feed
    }

    /// Closes the socket for good.
    pub fn stop(&self) {
        self.inner.try_update_value(|i| {
            i.stopped = true;
            if let Some(t) = i.retry.take() {
                t.clear();
            }
            if let Some(t) = i.watchdog.take() {
                t.clear();
            }
            if let Some(s) = i.socket.take() {
                s.detach();
                let _ = s.ws.close();
            }
            i.retired = None;
        });
    }

    /// The latest snapshot (tracked).
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.latest.with(|s| s.as_ref().map(|s| s.snapshot.clone()))
    }

    /// The latest snapshot with its arrival time (tracked).
    pub fn latest(&self) -> Option<Stamped> {
        self.latest.get()
    }

    /// What the screens asked the router for (rate and window), as sent on every connect.
    pub fn wanted(&self) -> ClientMessage {
        self.inner.with_value(|i| i.wanted.clone())
    }

    /// The connection's state (tracked).
    pub fn state(&self) -> ConnState {
        self.state.get()
    }

    /// The state as a signal, for components that take one.
    pub fn state_signal(&self) -> Signal<ConnState> {
        self.state.into()
    }

    /// The router's answer to the last message it refused (`window.limit: …`), until the next
    /// message is sent (tracked).
    pub fn error(&self) -> Option<FieldError> {
        self.error.get()
    }

    /// The snapshot before the latest one, with its arrival time (tracked).
    pub fn previous(&self) -> Option<Stamped> {
        self.previous.get()
    }

    /// A counter's rate per second between the last two snapshots (tracked); `None` until
    /// there are two, or if the counter went back (the router restarted).
    pub fn rate(&self, counter: impl Fn(&Snapshot) -> u64) -> Option<f64> {
        let latest = self.latest.get()?;
        let previous = self.previous.get()?;
        rate_between(&previous.snapshot, &latest.snapshot, counter)
    }

    /// Changes what the router sends: a given `interval_ms` or `window` replaces the one in
    /// force (kept across reconnects); the other stays.
    pub fn send(&self, message: ClientMessage) {
        self.error.set(None);
        self.inner.update_value(|i| {
            if message.interval_ms.is_some() {
                i.wanted.interval_ms = message.interval_ms;
            }
            if message.window.is_some() {
                i.wanted.window = message.window;
            }
            i.send_wanted();
        });
    }

    /// The connection table's window (filter, sort, slice).
    pub fn set_window(&self, window: Window) {
        self.send(ClientMessage {
            interval_ms: None,
            window: Some(window),
        });
    }

    /// Milliseconds between snapshots (`shared::feed::MIN_INTERVAL_MS` to `MAX_INTERVAL_MS`).
    pub fn set_interval(&self, interval_ms: u64) {
        self.send(ClientMessage {
            interval_ms: Some(interval_ms),
            window: None,
        });
    }

    /// Sets the state by hand (tests, and screens' previews).
    pub fn set_state(&self, state: ConnState) {
        self.state.set(state);
    }

    /// Puts a snapshot in as if it had arrived (tests).
    pub fn push(&self, snapshot: Snapshot) {
        self.received(snapshot);
    }

    fn received(&self, snapshot: Snapshot) {
        let stamped = Stamped {
            snapshot: Arc::new(snapshot),
            at_ms: now_ms(),
        };
        let old = self.latest.try_update(|l| l.replace(stamped)).flatten();
        if old.is_some() {
            self.previous.set(old);
        }
    }

    fn open(self) {
        let feed = self;
        let Some(Some(url)) = self
            .inner
            .try_with_value(|i| (!i.stopped).then(|| i.url.clone()))
        else {
            return;
        };
        self.inner.update_value(|i| i.retired = None);
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => return self.closed(),
        };
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            feed.inner.update_value(|i| {
                i.last_message_ms = now_ms();
                if let Some(s) = i.socket.as_mut() {
                    s.opened = true;
                }
                i.send_wanted();
            });
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            feed.inner.update_value(|i| i.last_message_ms = now_ms());
            let Some(text) = e.data().as_string() else {
                return;
            };
            crate::perf::feed_message_arrived();
            match decode(&text) {
                Ok(ServerMessage::Snapshot(s)) => {
                    // Live once snapshots arrive, not when the socket opens: a proxy may open
                    // it and then find the router refusing (and the waits must keep growing).
                    if feed.state.get_untracked() != ConnState::Live {
                        feed.inner.update_value(|i| i.failures = 0);
                        feed.state.set(ConnState::Live);
                    }
                    feed.received(*s);
                    crate::perf::feed_message_applied();
                }
                Ok(ServerMessage::Error(e)) => feed.error.set(Some(e)),
                Err(e) => leptos::logging::warn!("feed: a message that does not decode: {e}"),
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| {
            let ours = feed
                .inner
                .try_update_value(|i| {
                    let s = i.socket.take()?;
                    s.detach();
                    i.retired = Some(s);
                    Some(())
                })
                .flatten();
            if ours.is_some() {
                feed.closed();
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.inner.update_value(|i| {
            i.socket = Some(Socket {
                ws,
                opened: false,
                _on_open: on_open,
                _on_message: on_message,
                _on_close: on_close,
            })
        });
    }

    /// The socket closed (or could not be made): say so, and try again after a while.
    fn closed(self) {
        let Some(delay) = self
            .inner
            .try_update_value(|i| {
                if i.stopped {
                    return None;
                }
                let delay = RETRY_FIRST_MS
                    .saturating_mul(1 << i.failures.min(10))
                    .min(RETRY_MAX_MS);
                i.failures = i.failures.saturating_add(1);
                Some(delay)
            })
            .flatten()
        else {
            return;
        };
        let was_live = self.state.get_untracked() == ConnState::Live;
        self.state.set(ConnState::Reconnecting);
        if !was_live {
            // Refused before any snapshot: perhaps the session ended. A 401 here logs the app
            // out.
            leptos::task::spawn_local(async {
                let _ = api::get::<serde_json::Value>("/system/identity").await;
            });
        }
        let feed = self;
        let retry = set_timeout_with_handle(move || feed.open(), ms(delay)).ok();
        self.inner.update_value(|i| i.retry = retry);
    }

    /// Replaces a live socket that has said nothing for too long (a sleeping laptop, a
    /// vanished router: the browser may not notice for minutes).
    fn check_silence(self) {
        if self.state.get_untracked() != ConnState::Live {
            return;
        }
        let interval = self
            .latest
            .with_untracked(|l| l.as_ref().map(|s| s.snapshot.interval_ms))
            .unwrap_or(shared::feed::DEFAULT_INTERVAL_MS);
        let limit = (3.0 * interval as f64).max(SILENCE_MIN_MS);
        self.inner.update_value(|i| {
            if now_ms() - i.last_message_ms > limit {
                if let Some(s) = &i.socket {
                    // onclose follows and reconnects.
                    let _ = s.ws.close();
                }
            }
        });
    }
}

impl Inner {
    fn send_wanted(&self) {
        let Some(s) = self.socket.as_ref().filter(|s| s.opened) else {
            return;
        };
        match serde_json::to_string(&self.wanted) {
            Ok(text) => {
                let _ = s.ws.send_with_str(&text);
            }
            Err(e) => leptos::logging::warn!("feed: cannot encode {:?}: {e}", self.wanted),
        }
    }
}

/// A counter's rate per second from one snapshot to a later one, timed by the router's own
/// clock (`uptime`, read with the counters), so the browser's delays in receiving them do not
/// count; `None` if no time passed or the counter went back (the router restarted).
pub fn rate_between(
    previous: &Snapshot,
    latest: &Snapshot,
    counter: impl Fn(&Snapshot) -> u64,
) -> Option<f64> {
    let seconds = latest.uptime.to_std().as_secs_f64() - previous.uptime.to_std().as_secs_f64();
    let (now, before) = (counter(latest), counter(previous));
    (seconds > 0.0 && now >= before).then(|| (now - before) as f64 / seconds)
}

/// A [`ServerMessage`] from its JSON. Its tag is read first, then the variant's type straight
/// from the text: serde's own way with an internally tagged enum buffers every field of the
/// message in a generic tree first, which costs a copy of each snapshot and tens of KB of wasm.
pub fn decode(text: &str) -> Result<ServerMessage, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Tag {
        #[serde(rename = "type")]
        kind: String,
    }
    match serde_json::from_str::<Tag>(text)?.kind.as_str() {
        "snapshot" => serde_json::from_str(text).map(|s| ServerMessage::Snapshot(Box::new(s))),
        "error" => serde_json::from_str(text).map(ServerMessage::Error),
        other => Err(serde::de::Error::unknown_variant(
            other,
            &["snapshot", "error"],
        )),
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::feed::{
        ConntrackCounters, FlowCounters, NamedCount, NatEntries, PortCounters, SystemResource,
        WindowView,
    };
    use wasm_bindgen_test::wasm_bindgen_test;

    fn snapshot() -> Snapshot {
        Snapshot {
            seq: 7,
            interval_ms: 500,
            uptime: shared::duration::Duration::from_secs(90),
            resource: SystemResource {
                uptime: shared::duration::Duration::from_secs(100),
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
            ports: vec![PortCounters {
                name: "ether1".into(),
                rx_packets: 1,
                rx_bytes: 60,
                tx_packets: 2,
                tx_bytes: 120,
            }],
            flow: FlowCounters::default(),
            drops: vec![NamedCount::new("filter-forward", 4)],
            conntrack: ConntrackCounters::default(),
            total_entries: 1,
            max_entries: 1024,
            entries_by_protocol: vec![NamedCount::new("tcp", 1)],
            entries_by_tcp_state: vec![NamedCount::new("established", 1)],
            nat_entries: NatEntries::default(),
            history: vec![0, 1],
            top_hosts_by_connections: vec![],
            top_hosts_by_rate: vec![],
            rules: vec![],
            window: WindowView {
                query: serde_json::from_str(
                    r#"{"address":"192.0.2.0/24","port":"80","protocol":"tcp","limit":10}"#,
                )
                .unwrap(),
                matching: 0,
                entries: vec![],
            },
        }
    }

    #[wasm_bindgen_test]
    fn messages_decode_as_serde_reads_them() {
        for message in [
            ServerMessage::Snapshot(Box::new(snapshot())),
            ServerMessage::Error(FieldError::new("window.limit", "501 is more than 500")),
        ] {
            let text = serde_json::to_string(&message).unwrap();
            assert_eq!(decode(&text).unwrap(), message);
            assert_eq!(
                serde_json::from_str::<ServerMessage>(&text).unwrap(),
                message
            );
        }
        assert!(decode(r#"{"type":"hello"}"#).is_err());
        assert!(decode(r#"{"seq":1}"#).is_err());
    }
}
