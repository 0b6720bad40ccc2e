//! `GET /metrics`: the router's counters in Prometheus's text exposition format (0.0.4), behind
//! the same login as the rest of the API. Every family is `statewall_…` with its `# HELP` and
//! `# TYPE`; `_total` families are counters, the others gauges.
//!
//! The figures are the live feed's (one [`crate::engine::FeedView`] with an empty window), so a
//! scrape costs one pass over the connection table in the worker and nothing per entry beyond.

use super::error::ApiError;
use super::feed::{self, FeedStats};
use super::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use shared::feed::{Snapshot, Window};
use std::fmt::Write;
use std::sync::atomic::Ordering;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) async fn metrics(State(st): State<AppState>) -> Result<Response, ApiError> {
    let (view, resource) = st
        .blocking(|st| {
            let view = st.dataplane.feed(Window::counts_only())?;
            Some((view, super::resource::current()))
        })
        .await?
        .ok_or_else(|| ApiError::internal("the dataplane did not answer"))?;
    let snap = feed::build(&st, view, resource, Window::counts_only(), 0, 0);
    let text = render(&snap, &st.feed);
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}

/// Writes families: each one's `# HELP` and `# TYPE` once, then its samples.
struct Exposition {
    out: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A family of one unlabelled sample.
    fn single(&mut self, name: &str, kind: &str, help: &str, value: u64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

/// Label values escape `\`, `"` and newlines.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Help text escapes `\` and newlines.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// The exposition of one snapshot and the feed's own counters.
fn render(s: &Snapshot, feed: &FeedStats) -> String {
    let mut e = Exposition {
        out: String::with_capacity(8192),
    };
    e.single(
        "statewall_uptime_seconds",
        "gauge",
        "Time since statewall started.",
        s.resource.uptime.as_secs(),
    );
    e.single(
        "statewall_conntrack_entries",
        "gauge",
        "Entries in the connection table (total-entries).",
        s.total_entries,
    );
    e.single(
        "statewall_conntrack_max_entries",
        "gauge",
        "Entries the connection table may hold (max-entries).",
        s.max_entries,
    );
    e.family(
        "statewall_conntrack_entries_by_protocol",
        "gauge",
        "Entries in the connection table by protocol.",
    );
    for c in &s.entries_by_protocol {
        e.sample(
            "statewall_conntrack_entries_by_protocol",
            &[("protocol", &c.name)],
            c.count,
        );
    }
    e.family(
        "statewall_conntrack_entries_by_tcp_state",
        "gauge",
        "TCP entries in the connection table by tcp-state.",
    );
    for c in &s.entries_by_tcp_state {
        e.sample(
            "statewall_conntrack_entries_by_tcp_state",
            &[("tcp_state", &c.name)],
            c.count,
        );
    }
    e.family(
        "statewall_conntrack_nat_entries",
        "gauge",
        "Entries of translated connections, by translation.",
    );
    e.sample(
        "statewall_conntrack_nat_entries",
        &[("nat", "srcnat")],
        s.nat_entries.srcnat,
    );
    e.sample(
        "statewall_conntrack_nat_entries",
        &[("nat", "dstnat")],
        s.nat_entries.dstnat,
    );
    let ct = &s.conntrack;
    e.family(
        "statewall_conntrack_packets_total",
        "counter",
        "Packets by connection state, as connection-state matches them.",
    );
    for (state, n) in [
        ("new", ct.new),
        ("established", ct.established),
        ("related", ct.related),
        ("invalid", ct.invalid),
        ("untracked", ct.untracked),
    ] {
        e.sample(
            "statewall_conntrack_packets_total",
            &[("connection_state", state)],
            n,
        );
    }
    e.family(
        "statewall_conntrack_entry_events_total",
        "counter",
        "Entries created and ended, by event (expired: timeout; evicted: early drop when full; \
         removed: by request; killed: by the protocol; dropped-full, insert-failed: refused).",
    );
    for (event, n) in [
        ("created", ct.created),
        ("expired", ct.expired),
        ("evicted", ct.evicted),
        ("removed", ct.removed),
        ("killed", ct.killed),
        ("dropped-full", ct.dropped_full),
        ("insert-failed", ct.insert_failed),
    ] {
        e.sample(
            "statewall_conntrack_entry_events_total",
            &[("event", event)],
            n,
        );
    }
    e.family(
        "statewall_nat_translations_total",
        "counter",
        "Connections given a translation, by NAT chain.",
    );
    e.sample(
        "statewall_nat_translations_total",
        &[("chain", "srcnat")],
        s.flow.srcnat,
    );
    e.sample(
        "statewall_nat_translations_total",
        &[("chain", "dstnat")],
        s.flow.dstnat,
    );
    e.family(
        "statewall_packets_total",
        "counter",
        "Packets through each node of the packet-flow diagram.",
    );
    let f = &s.flow;
    for (node, n) in [
        ("prerouting", f.prerouting),
        ("input", f.input),
        ("forward", f.forward),
        ("output", f.output),
        ("postrouting", f.postrouting),
        ("local-delivered", f.local_delivered),
        ("arp-in", f.arp_in),
        ("arp-out", f.arp_out),
        ("echo-replies", f.echo_replies),
        ("icmp-errors-sent", f.icmp_errors_sent),
        ("rejects-sent", f.rejects_sent),
        ("fragments-sent", f.fragments_sent),
        ("queued-for-neighbour", f.queued_for_neighbour),
    ] {
        e.sample("statewall_packets_total", &[("node", node)], n);
    }
    e.family(
        "statewall_drops_total",
        "counter",
        "Packets dropped, by reason.",
    );
    for d in &s.drops {
        e.sample("statewall_drops_total", &[("reason", &d.name)], d.count);
    }
    e.single(
        "statewall_queue_drops_total",
        "counter",
        "Frames dropped before the pipeline because it was behind.",
        f.queue_drops,
    );
    let ports = [
        (
            "statewall_interface_rx_packets_total",
            "Packets received, by interface.",
        ),
        (
            "statewall_interface_rx_bytes_total",
            "Bytes received, by interface.",
        ),
        (
            "statewall_interface_tx_packets_total",
            "Packets sent, by interface.",
        ),
        (
            "statewall_interface_tx_bytes_total",
            "Bytes sent, by interface.",
        ),
    ];
    for (i, (name, help)) in ports.iter().enumerate() {
        e.family(name, "counter", help);
        for p in &s.ports {
            let v = [p.rx_packets, p.rx_bytes, p.tx_packets, p.tx_bytes][i];
            e.sample(name, &[("interface", &p.name)], v);
        }
    }
    for (name, help, bytes) in [
        (
            "statewall_rule_packets_total",
            "Packets that matched a firewall or NAT rule.",
            false,
        ),
        (
            "statewall_rule_bytes_total",
            "Bytes that matched a firewall or NAT rule.",
            true,
        ),
    ] {
        e.family(name, "counter", help);
        for r in &s.rules {
            let labels = [
                ("table", r.table.as_str()),
                ("chain", r.chain.as_str()),
                ("id", r.id.as_str()),
                ("action", r.action.as_str()),
                ("comment", r.comment.as_str()),
            ];
            e.sample(name, &labels, if bytes { r.bytes } else { r.packets });
        }
    }
    e.single(
        "statewall_cpu_load_percent",
        "gauge",
        "CPU load of the host, all CPUs, over the last interval.",
        s.resource.cpu_load,
    );
    e.single(
        "statewall_memory_free_bytes",
        "gauge",
        "Memory available on the host.",
        s.resource.free_memory,
    );
    e.single(
        "statewall_memory_total_bytes",
        "gauge",
        "Memory of the host.",
        s.resource.total_memory,
    );
    e.single(
        "statewall_feed_clients",
        "gauge",
        "Live feed (websocket) clients connected.",
        feed.clients.load(Ordering::Relaxed),
    );
    e.single(
        "statewall_feed_messages_total",
        "counter",
        "Live feed messages written out.",
        feed.sent.load(Ordering::Relaxed),
    );
    e.single(
        "statewall_feed_skipped_ticks_total",
        "counter",
        "Live feed ticks skipped because a client had not taken the previous message.",
        feed.skipped.load(Ordering::Relaxed),
    );
    e.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape_label(r#"a "b" \ c"#), r#"a \"b\" \\ c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
        let mut e = Exposition { out: String::new() };
        e.sample("m", &[("a", "1"), ("b", "\"")], 7);
        assert_eq!(e.out, "m{a=\"1\",b=\"\\\"\"} 7\n");
    }
}
