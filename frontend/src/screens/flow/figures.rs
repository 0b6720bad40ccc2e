//! The diagram's numbers: every node's and edge's figures from the latest snapshot and the one
//! before it. Pure (no signals, no DOM), so tests give it two fixed snapshots.
//!
//! Rates are counter differences over the router's clock between the two snapshots
//! ([`crate::feed::rate_between`]). An edge's rate is the packets that leave one node for the
//! next: what entered the node less what the node dropped.

use crate::feed::rate_between;
use crate::format;
use shared::feed::Snapshot;

/// A counter: its total in the latest snapshot and its rate per second since the one before
/// (`None` for the first snapshot, or after the router restarted).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figure {
    pub total: u64,
    pub rate: Option<f64>,
}

impl Figure {
    pub fn of(
        previous: Option<&Snapshot>,
        latest: &Snapshot,
        f: impl Fn(&Snapshot) -> u64,
    ) -> Self {
        Figure {
            total: f(latest),
            rate: previous.and_then(|p| rate_between(p, latest, &f)),
        }
    }

    /// `12.5 k/s`, or `–/s` until there is a rate.
    pub fn per_second(&self) -> String {
        match self.rate {
            Some(r) => format!("{}/s", format::per_second(r)),
            None => "–/s".into(),
        }
    }
}

/// Where a drop reason happens on the diagram. Reasons the dashboard does not know yet (a newer
/// router) are counted in the drop list only.
pub fn drop_node(reason: &str) -> Option<Node> {
    Some(match reason {
        "bad-frame" | "other-host" | "unsupported-ethertype" | "bad-ip-header" | "fragment" => {
            Node::Incoming
        }
        "conntrack-full" => Node::Prerouting,
        "nat-exhausted" | "no-source-address" | "nat-rewrite" => Node::Nat,
        "forwarding-disabled" | "no-route" => Node::Routing,
        "filter-input" => Node::Input,
        "filter-output" => Node::Output,
        "filter-forward" | "ttl-exceeded" | "frag-needed" => Node::Forward,
        "insert-failed" => Node::Postrouting,
        "neighbour-queue-full" => Node::Outgoing,
        _ => return None,
    })
}

/// The boxes of the diagram, in the order a packet meets them, then the connection-tracking
/// subsystem beside the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Node {
    Incoming,
    Prerouting,
    Dstnat,
    Routing,
    Input,
    Local,
    Output,
    Forward,
    Postrouting,
    Outgoing,
    Table,
    Nat,
    Timeout,
}

impl Node {
    pub const ALL: [Node; 13] = [
        Node::Incoming,
        Node::Prerouting,
        Node::Dstnat,
        Node::Routing,
        Node::Input,
        Node::Local,
        Node::Output,
        Node::Forward,
        Node::Postrouting,
        Node::Outgoing,
        Node::Table,
        Node::Nat,
        Node::Timeout,
    ];

    /// `data-testid` and element ids: `flow-node-forward`.
    pub fn key(self) -> &'static str {
        match self {
            Node::Incoming => "incoming",
            Node::Prerouting => "prerouting",
            Node::Dstnat => "dstnat",
            Node::Routing => "routing",
            Node::Input => "input",
            Node::Local => "local",
            Node::Output => "output",
            Node::Forward => "forward",
            Node::Postrouting => "srcnat",
            Node::Outgoing => "outgoing",
            Node::Table => "table",
            Node::Nat => "nat",
            Node::Timeout => "timeout",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Node::Incoming => "Incoming packet",
            Node::Prerouting => "Prerouting/conntrack",
            Node::Dstnat => "dstnat",
            Node::Routing => "Routing decision",
            Node::Input => "Input chain",
            Node::Local => "Router itself",
            Node::Output => "Output chain",
            Node::Forward => "Forward chain",
            Node::Postrouting => "srcnat · postrouting",
            Node::Outgoing => "Outgoing interface",
            Node::Table => "Connection table",
            Node::Nat => "NAT",
            Node::Timeout => "Timeout & removal",
        }
    }

    /// Where the node leads: its rules, its connections, its details.
    pub fn href(self) -> &'static str {
        match self {
            Node::Incoming | Node::Outgoing | Node::Routing | Node::Local => "/system",
            Node::Prerouting | Node::Table => "/connections",
            Node::Dstnat => "/nat?chain=dstnat",
            Node::Postrouting => "/nat?chain=srcnat",
            Node::Nat => "/?show=nat",
            Node::Input => "/firewall?chain=input",
            Node::Output => "/firewall?chain=output",
            Node::Forward => "/firewall?chain=forward",
            Node::Timeout => "/?show=timeouts",
        }
    }

    /// What following the link does, for screen readers and the tooltip.
    pub fn link_text(self) -> &'static str {
        match self {
            Node::Incoming | Node::Outgoing => "Interfaces and their counters",
            Node::Routing | Node::Local => "The router's interfaces",
            Node::Prerouting | Node::Table => "The connection table",
            Node::Dstnat => "dstnat rules",
            Node::Postrouting => "srcnat rules",
            Node::Nat => "Translations: the NAT rules and the translated connections",
            Node::Input => "Input chain rules",
            Node::Output => "Output chain rules",
            Node::Forward => "Forward chain rules",
            Node::Timeout => "Expirations and the timeouts in force",
        }
    }
}

/// One line of a node: a label and a value (the value alone when the label is empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: &'static str,
    pub value: String,
}

fn line(label: &'static str, value: impl Into<String>) -> Line {
    Line {
        label,
        value: value.into(),
    }
}

/// The arrows, each from one node to the next, with the rate of what travels along it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edge {
    IncomingPrerouting,
    PreroutingDstnat,
    DstnatRouting,
    RoutingInput,
    InputLocal,
    LocalOutput,
    OutputPostrouting,
    RoutingForward,
    ForwardPostrouting,
    PostroutingOutgoing,
    PreroutingTable,
    TableTimeout,
    DstnatNat,
    PostroutingNat,
}

impl Edge {
    pub const ALL: [Edge; 14] = [
        Edge::IncomingPrerouting,
        Edge::PreroutingDstnat,
        Edge::DstnatRouting,
        Edge::RoutingInput,
        Edge::InputLocal,
        Edge::LocalOutput,
        Edge::OutputPostrouting,
        Edge::RoutingForward,
        Edge::ForwardPostrouting,
        Edge::PostroutingOutgoing,
        Edge::PreroutingTable,
        Edge::TableTimeout,
        Edge::DstnatNat,
        Edge::PostroutingNat,
    ];

    pub fn ends(self) -> (Node, Node) {
        match self {
            Edge::IncomingPrerouting => (Node::Incoming, Node::Prerouting),
            Edge::PreroutingDstnat => (Node::Prerouting, Node::Dstnat),
            Edge::DstnatRouting => (Node::Dstnat, Node::Routing),
            Edge::RoutingInput => (Node::Routing, Node::Input),
            Edge::InputLocal => (Node::Input, Node::Local),
            Edge::LocalOutput => (Node::Local, Node::Output),
            Edge::OutputPostrouting => (Node::Output, Node::Postrouting),
            Edge::RoutingForward => (Node::Routing, Node::Forward),
            Edge::ForwardPostrouting => (Node::Forward, Node::Postrouting),
            Edge::PostroutingOutgoing => (Node::Postrouting, Node::Outgoing),
            Edge::PreroutingTable => (Node::Prerouting, Node::Table),
            Edge::TableTimeout => (Node::Table, Node::Timeout),
            Edge::DstnatNat => (Node::Dstnat, Node::Nat),
            Edge::PostroutingNat => (Node::Postrouting, Node::Nat),
        }
    }

    /// Packets, except where the arrow carries entries or translations.
    pub fn unit(self) -> &'static str {
        match self {
            Edge::PreroutingTable => "new",
            Edge::TableTimeout => "ended",
            Edge::DstnatNat | Edge::PostroutingNat => "conn",
            _ => "pkt",
        }
    }

    /// A translation, not a packet path: drawn dashed.
    pub fn is_relation(self) -> bool {
        matches!(
            self,
            Edge::PreroutingTable | Edge::TableTimeout | Edge::DstnatNat | Edge::PostroutingNat
        )
    }

    pub fn key(self) -> String {
        let (a, b) = self.ends();
        format!("{}-{}", a.key(), b.key())
    }
}

/// Everything the diagram shows at one tick.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowFigures {
    pub rx: Figure,
    pub rx_bytes: Figure,
    pub tx: Figure,
    pub tx_bytes: Figure,
    pub prerouting: Figure,
    pub dstnat: Figure,
    pub input: Figure,
    pub local_delivered: Figure,
    pub output: Figure,
    pub forward: Figure,
    pub postrouting: Figure,
    pub srcnat: Figure,
    pub queue_drops: Figure,
    pub dropped: Figure,
    pub created: Figure,
    pub invalid: Figure,
    pub expired: Figure,
    pub removed: Figure,
    pub evicted: Figure,
    pub killed: Figure,
    pub dropped_full: Figure,
    pub entries: u64,
    pub max_entries: u64,
    pub nat_srcnat: u64,
    pub nat_dstnat: u64,
    /// `tcp 12 · udp 3 · icmp 0`.
    pub by_protocol: String,
    /// Every drop reason the router reports, in its order.
    pub drops: Vec<(String, Figure)>,
}

impl FlowFigures {
    /// The figures of `latest`, with rates since `previous`.
    pub fn between(previous: Option<&Snapshot>, latest: &Snapshot) -> FlowFigures {
        let fig = |f: &dyn Fn(&Snapshot) -> u64| Figure::of(previous, latest, f);
        let drops = latest
            .drops
            .iter()
            .map(|d| {
                let name = d.name.clone();
                let f = Figure::of(previous, latest, |s| drop_count(s, &name));
                (d.name.clone(), f)
            })
            .collect();
        FlowFigures {
            rx: fig(&|s| s.ports.iter().map(|p| p.rx_packets).sum()),
            rx_bytes: fig(&|s| s.ports.iter().map(|p| p.rx_bytes).sum()),
            tx: fig(&|s| s.ports.iter().map(|p| p.tx_packets).sum()),
            tx_bytes: fig(&|s| s.ports.iter().map(|p| p.tx_bytes).sum()),
            prerouting: fig(&|s| s.flow.prerouting),
            dstnat: fig(&|s| s.flow.dstnat),
            input: fig(&|s| s.flow.input),
            local_delivered: fig(&|s| s.flow.local_delivered),
            output: fig(&|s| s.flow.output),
            forward: fig(&|s| s.flow.forward),
            postrouting: fig(&|s| s.flow.postrouting),
            srcnat: fig(&|s| s.flow.srcnat),
            queue_drops: fig(&|s| s.flow.queue_drops),
            dropped: fig(&|s| s.flow.dropped),
            created: fig(&|s| s.conntrack.created),
            invalid: fig(&|s| s.conntrack.invalid),
            expired: fig(&|s| s.conntrack.expired),
            removed: fig(&|s| s.conntrack.removed),
            evicted: fig(&|s| s.conntrack.evicted),
            killed: fig(&|s| s.conntrack.killed),
            dropped_full: fig(&|s| s.conntrack.dropped_full),
            entries: latest.total_entries,
            max_entries: latest.max_entries,
            nat_srcnat: latest.nat_entries.srcnat,
            nat_dstnat: latest.nat_entries.dstnat,
            by_protocol: latest
                .entries_by_protocol
                .iter()
                .map(|c| format!("{} {}", c.name, format::count(c.count)))
                .collect::<Vec<_>>()
                .join(" · "),
            drops,
        }
    }

    /// Packets a node dropped: the sum of its reasons.
    pub fn drops_at(&self, node: Node) -> Figure {
        let mut total = Figure {
            total: 0,
            rate: Some(0.0),
        };
        for (_, f) in self
            .drops
            .iter()
            .filter(|(r, _)| drop_node(r) == Some(node))
        {
            total = add(total, *f);
        }
        if node == Node::Incoming {
            total = add(total, self.queue_drops);
        }
        total
    }

    /// Every entry that left the table, however it ended.
    pub fn ended(&self) -> Figure {
        [self.removed, self.evicted, self.killed]
            .into_iter()
            .fold(self.expired, add)
    }

    /// What travels along an edge.
    pub fn edge(&self, e: Edge) -> Figure {
        let less = |a: Figure, node: Node| sub(a, self.drops_at(node));
        match e {
            Edge::IncomingPrerouting => self.prerouting,
            Edge::PreroutingDstnat => less(self.prerouting, Node::Prerouting),
            Edge::DstnatRouting => add(add(self.input, self.forward), self.drops_at(Node::Routing)),
            Edge::RoutingInput => self.input,
            Edge::InputLocal => self.local_delivered,
            Edge::LocalOutput => self.output,
            Edge::OutputPostrouting => less(self.output, Node::Output),
            Edge::RoutingForward => self.forward,
            Edge::ForwardPostrouting => less(self.forward, Node::Forward),
            Edge::PostroutingOutgoing => self.postrouting,
            Edge::PreroutingTable => self.created,
            Edge::TableTimeout => self.ended(),
            Edge::DstnatNat => self.dstnat,
            Edge::PostroutingNat => self.srcnat,
        }
    }

    /// The lines a node shows under its title.
    pub fn lines(&self, node: Node) -> Vec<Line> {
        let drops = self.drops_at(node);
        let dropped = line(
            "dropped",
            format!("{} ({})", format::count(drops.total), drops.per_second()),
        );
        let pkts = |f: Figure| line("", format!("{} pkt", f.per_second()));
        let total = |f: Figure| line("total", format::count(f.total));
        match node {
            Node::Incoming => vec![
                pkts(self.rx),
                line("", bits(self.rx_bytes)),
                total(self.rx),
                dropped,
            ],
            Node::Prerouting => vec![
                pkts(self.prerouting),
                line("new", format!("{} conn", self.created.per_second())),
                line("invalid", self.invalid.per_second()),
                dropped,
            ],
            Node::Dstnat => vec![
                line("", format!("{} conn", self.dstnat.per_second())),
                total(self.dstnat),
                line("entries", format::count(self.nat_dstnat)),
            ],
            Node::Routing => vec![pkts(self.edge(Edge::DstnatRouting)), dropped],
            Node::Input => vec![pkts(self.input), total(self.input), dropped],
            Node::Local => vec![
                line("in", format!("{} pkt", self.local_delivered.per_second())),
                total(self.local_delivered),
            ],
            Node::Output => vec![pkts(self.output), total(self.output), dropped],
            Node::Forward => vec![pkts(self.forward), total(self.forward), dropped],
            Node::Postrouting => vec![
                pkts(self.postrouting),
                line("srcnat", format!("{} conn", self.srcnat.per_second())),
                line("entries", format::count(self.nat_srcnat)),
                dropped,
            ],
            Node::Outgoing => vec![
                pkts(self.tx),
                line("", bits(self.tx_bytes)),
                total(self.tx),
                dropped,
            ],
            Node::Table => vec![
                line(
                    "",
                    format!(
                        "{} / {}",
                        format::count(self.entries),
                        format::count(self.max_entries)
                    ),
                ),
                line("full", format::percent(self.entries, self.max_entries)),
                line("", self.by_protocol.clone()),
                line("refused (full)", format::count(self.dropped_full.total)),
            ],
            Node::Nat => vec![
                line(
                    "",
                    format!(
                        "{} translated",
                        format::count(self.nat_srcnat + self.nat_dstnat)
                    ),
                ),
                line(
                    "",
                    format!("{} conn", add(self.srcnat, self.dstnat).per_second()),
                ),
                dropped,
            ],
            Node::Timeout => vec![
                line("expired", self.expired.per_second()),
                line("removed", self.removed.per_second()),
                line("evicted", self.evicted.per_second()),
                line("ended", format::count(self.ended().total)),
            ],
        }
    }
}

fn drop_count(s: &Snapshot, name: &str) -> u64 {
    s.drops
        .iter()
        .find(|d| d.name == name)
        .map_or(0, |d| d.count)
}

fn bits(f: Figure) -> String {
    f.rate
        .map_or_else(|| "–bit/s".into(), format::bits_per_second)
}

fn add(a: Figure, b: Figure) -> Figure {
    Figure {
        total: a.total + b.total,
        rate: a.rate.zip(b.rate).map(|(x, y)| x + y),
    }
}

/// `a` less `b` (never below zero: the two are read at the same instant, but a drop may be
/// counted by a node that a packet reached by another way).
fn sub(a: Figure, b: Figure) -> Figure {
    Figure {
        total: a.total.saturating_sub(b.total),
        rate: a.rate.zip(b.rate).map(|(x, y)| (x - y).max(0.0)),
    }
}
