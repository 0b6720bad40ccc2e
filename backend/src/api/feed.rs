//! The live feed: `GET /ws`, a websocket that pushes [`shared::feed::Snapshot`]s at the rate
//! the client picks, with the window of the connection table it asks for (message format in
//! [`shared::feed`]).
//!
//! - Behind the login layer like `/rest` (Basic credentials, or the session cookie of
//!   `POST /login` for browsers). A browser's request from a page of another origin is refused.
//! - Each tick asks the engine for one [`crate::engine::FeedView`]: the window is filtered,
//!   sorted and cut in the worker thread, so a message holds counts and at most
//!   [`shared::feed::MAX_LIMIT`] entries whatever the table holds. At most [`ENGINE_QUERIES`]
//!   such requests wait on the engine at once, whatever the number of clients.
//! - A slow client never builds a backlog: the next snapshot is made only once the previous one
//!   is written out, and the ticks missed meanwhile are skipped (counted in
//!   [`FeedStats::skipped`]), so the client gets the latest state when it catches up. The server
//!   holds at most one message per client; a client that takes no data for [`SEND_TIMEOUT`] is
//!   dropped.
//! - Client messages are read as any input: bounded ([`MAX_CLIENT_MESSAGE`]), checked whole,
//!   and a bad one is answered with an error naming the field while the previous settings stay.

use super::error::ApiError;
use super::AppState;
use crate::engine::FeedView;
use crate::users::Login;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use dataplane::firewall::{RuleStats, TableKind};
use shared::connection::format_id;
use shared::feed::{
    ClientMessage, FieldError, FlowCounters, NamedCount, NatEntries, PortCounters, RuleCounters,
    ServerMessage, Snapshot, SystemResource, Window, WindowView, DEFAULT_INTERVAL_MS,
    MIN_INTERVAL_MS,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::{Instant, MissedTickBehavior};

/// The largest message a client may send (a window query is a few hundred bytes).
pub const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// What the server may hold for one client's socket; a snapshot is far smaller.
pub const MAX_WRITE_BUFFER: usize = 16 << 20;
/// A client that takes no data for this long is dropped.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Feed requests waiting on the engine at once, all clients together.
pub const ENGINE_QUERIES: usize = 1;

static ENGINE: Semaphore = Semaphore::const_new(ENGINE_QUERIES);
/// The least time between two snapshots to one client, settings changes included.
const MIN_GAP: Duration = Duration::from_millis(MIN_INTERVAL_MS);

/// The feed's own counters (for `/metrics`, and for tests to see what a slow client costs).
#[derive(Debug, Default)]
pub struct FeedStats {
    /// Clients connected now.
    pub clients: AtomicU64,
    /// Messages written out.
    pub sent: AtomicU64,
    /// Ticks skipped because the client had not taken the previous message yet.
    pub skipped: AtomicU64,
    /// Bytes handed to sockets and not yet written out: at most one message per client.
    pub pending_bytes: AtomicU64,
}

/// `GET /ws`.
pub(super) async fn ws(
    State(st): State<AppState>,
    Extension(login): Extension<Login>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        return ApiError::forbidden("a page of another origin may not open the feed")
            .into_response();
    }
    upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| run(st, login, socket))
}

/// A browser names the page's origin; it must be this server (a script elsewhere must not ride
/// on the user's cookie). Clients that are not browsers send no `Origin`.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// Counts a client while it is connected.
struct Connected(Arc<FeedStats>);

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Ticks every `interval_ms` from `first`; ticks missed while a message was being written are
/// skipped, not made up.
fn ticker(first: Instant, interval_ms: u64) -> tokio::time::Interval {
    let mut t = tokio::time::interval_at(first, Duration::from_millis(interval_ms));
    t.set_missed_tick_behavior(MissedTickBehavior::Skip);
    t
}

async fn run(st: AppState, login: Login, mut socket: WebSocket) {
    st.feed.clients.fetch_add(1, Ordering::Relaxed);
    let _connected = Connected(st.feed.clone());
    tracing::info!(user = %login.user, "feed client connected");
    let mut interval_ms = DEFAULT_INTERVAL_MS;
    let mut window = Window::default();
    // A client gets a snapshot as soon as it connects, and as soon as it changes its settings,
    // but never two within MIN_INTERVAL_MS: changing settings in a loop does not make the
    // engine scan its table in a loop.
    let mut ticks = ticker(Instant::now(), interval_ms);
    // The last snapshot's time; the same, unless the settings changed since (for counting
    // skipped ticks).
    let mut last_snapshot: Option<Instant> = None;
    let mut last_tick: Option<Instant> = None;
    let mut seq = 0u64;
    loop {
        let outgoing = tokio::select! {
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Text(text))) => match decode(text.as_str()) {
                    Ok(m) => {
                        interval_ms = m.interval_ms.unwrap_or(interval_ms);
                        window = m.window.unwrap_or(window);
                        let now = Instant::now();
                        let first = last_snapshot.map_or(now, |t| (t + MIN_GAP).max(now));
                        ticks = ticker(first, interval_ms);
                        last_tick = None;
                        continue;
                    }
                    Err(e) => ServerMessage::Error(e),
                },
                Some(Ok(Message::Binary(_))) => ServerMessage::Error(FieldError {
                    field: None,
                    detail: "messages are JSON text".into(),
                }),
                // Pings are answered by the websocket layer.
                Some(Ok(_)) => continue,
            },
            _ = ticks.tick() => {
                let now = Instant::now();
                if let Some(prev) = last_tick {
                    let periods = (now - prev).as_millis() as u64 / interval_ms;
                    st.feed.skipped.fetch_add(periods.saturating_sub(1), Ordering::Relaxed);
                }
                last_tick = Some(now);
                last_snapshot = Some(now);
                seq += 1;
                snapshot(&st, &window, seq, interval_ms).await
            }
        };
        let text = match serde_json::to_string(&outgoing) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!("encoding a feed message: {e}");
                break;
            }
        };
        if let Err(e) = send(&st.feed, &mut socket, text).await {
            tracing::debug!(user = %login.user, "feed client dropped: {e}");
            break;
        }
    }
    tracing::info!(user = %login.user, "feed client gone");
}

/// Writes one message out, or gives up after [`SEND_TIMEOUT`].
async fn send(stats: &FeedStats, socket: &mut WebSocket, text: String) -> Result<(), String> {
    let len = text.len() as u64;
    stats.pending_bytes.fetch_add(len, Ordering::Relaxed);
    let sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await;
    stats.pending_bytes.fetch_sub(len, Ordering::Relaxed);
    match sent {
        Ok(Ok(())) => {
            stats.sent.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("took no data for {SEND_TIMEOUT:?}")),
    }
}

/// A client message, checked whole; the error names the field at fault.
pub fn decode(text: &str) -> Result<ClientMessage, FieldError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let message: ClientMessage = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = (path != ".").then_some(path);
        FieldError {
            field,
            detail: e.into_inner().to_string(),
        }
    })?;
    de.end().map_err(|e| FieldError {
        field: None,
        detail: e.to_string(),
    })?;
    message.check()?;
    Ok(message)
}

/// One snapshot for a client, or an error saying the router did not answer.
async fn snapshot(st: &AppState, window: &Window, seq: u64, interval_ms: u64) -> ServerMessage {
    let query = window.clone();
    let answer = async {
        let _turn = ENGINE.acquire().await.ok()?;
        st.blocking(move |st| {
            let view = st.dataplane.feed(query)?;
            Some((view, super::resource::current()))
        })
        .await
        .ok()
        .flatten()
    }
    .await;
    match answer {
        Some((view, resource)) => ServerMessage::Snapshot(Box::new(build(
            st,
            view,
            resource,
            window.clone(),
            seq,
            interval_ms,
        ))),
        None => ServerMessage::Error(FieldError {
            field: None,
            detail: "the router did not answer in time".into(),
        }),
    }
}

/// The message for a view of the engine.
pub(super) fn build(
    st: &AppState,
    view: FeedView,
    resource: SystemResource,
    query: Window,
    seq: u64,
    interval_ms: u64,
) -> Snapshot {
    let s = &view.stats;
    let c = &s.counters;
    let at = |a: &[u64], i: usize| a.get(i).copied().unwrap_or(0);
    let ct = &s.conntrack;
    let t = view.table;
    Snapshot {
        seq,
        interval_ms,
        uptime: shared::duration::Duration::from_std(s.uptime),
        resource,
        ports: s
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| PortCounters {
                name: p.name.clone(),
                rx_packets: at(&c.rx_packets, i),
                rx_bytes: at(&c.rx_bytes, i),
                tx_packets: at(&c.tx_packets, i),
                tx_bytes: at(&c.tx_bytes, i),
            })
            .collect(),
        flow: FlowCounters {
            prerouting: c.prerouting,
            dstnat: c.dstnat,
            input: c.input,
            forward: c.forward,
            output: c.output,
            postrouting: c.postrouting,
            srcnat: c.srcnat,
            local_delivered: c.local_delivered,
            arp_in: c.arp_in,
            arp_out: c.arp_out,
            echo_replies: c.echo_replies,
            icmp_errors_sent: c.icmp_errors_sent,
            rejects_sent: c.rejects_sent,
            fragments_sent: c.fragments_sent,
            queued_for_neighbour: c.queued_for_neighbour,
            queue_drops: s.queue_drops,
            dropped: c.total_drops(),
        },
        drops: c
            .drop_table()
            .map(|(r, n)| NamedCount::new(r.as_str(), n))
            .collect(),
        conntrack: *ct,
        total_entries: s.total_entries as u64,
        max_entries: s.max_entries as u64,
        entries_by_protocol: by_protocol(&t.by_protocol),
        entries_by_tcp_state: t
            .by_tcp_state
            .iter()
            .map(|(name, n)| NamedCount::new(*name, *n))
            .collect(),
        nat_entries: NatEntries {
            srcnat: t.srcnat,
            dstnat: t.dstnat,
        },
        history: view.history,
        top_hosts_by_connections: t.top_by_connections,
        top_hosts_by_rate: t.top_by_rate,
        rules: rule_counters(st, &s.rules),
        window: WindowView {
            query,
            matching: t.matching,
            entries: t.entries,
        },
    }
}

/// Entries per protocol by name: `tcp`, `udp` and `icmp` always, then the others present.
pub(super) fn by_protocol(counts: &[(u8, u64)]) -> Vec<NamedCount> {
    let count = |p: u8| counts.iter().find(|(n, _)| *n == p).map_or(0, |(_, c)| *c);
    const ALWAYS: [u8; 3] = [6, 17, 1];
    ALWAYS
        .iter()
        .map(|p| (*p, count(*p)))
        .chain(counts.iter().copied().filter(|(p, _)| !ALWAYS.contains(p)))
        .map(|(p, n)| NamedCount::new(shared::config::values::protocol_text(p), n))
        .collect()
}

/// Every filter and NAT rule in configuration order, with its counters.
pub(super) fn rule_counters(st: &AppState, stats: &[RuleStats]) -> Vec<RuleCounters> {
    let cfg = st.config.read();
    let tables = [
        (TableKind::Filter, "filter", ["ip", "firewall", "filter"]),
        (TableKind::Nat, "nat", ["ip", "firewall", "nat"]),
    ];
    let mut out = Vec::new();
    for (kind, name, path) in tables {
        let Ok(items) = cfg.list(&path) else {
            continue;
        };
        for item in items {
            let s = stats.iter().find(|r| r.table == kind && r.id == item.id);
            let prop = |k: &str| item.get(k).unwrap_or_default().to_string();
            out.push(RuleCounters {
                table: name.into(),
                id: format_id(item.id),
                chain: prop("chain"),
                action: prop("action"),
                comment: prop("comment"),
                disabled: item.get("disabled") == Some("true"),
                invalid: s.is_some_and(|s| s.invalid.is_some()),
                packets: s.map_or(0, |s| s.packets),
                bytes: s.map_or(0, |s| s.bytes),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let field = |text: &str| decode(text).unwrap_err().field;
        assert_eq!(
            field(r#"{"window":{"limit":"ten"}}"#).as_deref(),
            Some("window.limit")
        );
        assert_eq!(
            field(r#"{"window":{"port":"http"}}"#).as_deref(),
            Some("window.port")
        );
        assert_eq!(
            field(r#"{"window":{"limit":9999}}"#).as_deref(),
            Some("window.limit")
        );
        assert_eq!(
            field(r#"{"interval-ms":-1}"#).as_deref(),
            Some("interval-ms")
        );
        assert_eq!(
            field(r#"{"window":{"adress":"x"}}"#).as_deref(),
            Some("window.adress")
        );
        let e = decode(r#"{"colour":"red"}"#).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        assert!(decode("not json").is_err());
        assert!(decode(r#"{} {}"#).is_err());
        assert!(decode(r#"[1]"#).is_err());
        assert_eq!(decode("{}"), Ok(ClientMessage::default()));
    }

    #[test]
    fn origins() {
        let headers = |pairs: &[(header::HeaderName, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(k.clone(), v.parse().unwrap());
            }
            h
        };
        assert!(same_origin(&headers(&[(header::HOST, "r:8080")])));
        assert!(same_origin(&headers(&[
            (header::HOST, "r:8080"),
            (header::ORIGIN, "http://r:8080")
        ])));
        assert!(!same_origin(&headers(&[
            (header::HOST, "r:8080"),
            (header::ORIGIN, "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[(header::ORIGIN, "null")])));
    }
}
