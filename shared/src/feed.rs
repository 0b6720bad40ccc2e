//! The live feed (`GET /ws`): what the dashboard asks for and what the router pushes back, one
//! JSON text message each way.
//!
//! The dashboard sends a [`ClientMessage`] whenever it wants another rate or another window of the
//! connection table: `{"interval-ms":500,"window":{"address":"192.0.2.0/24","sort":"orig-bytes",
//! "descending":true,"offset":0,"limit":50}}`. Both parts are optional; a `window` replaces the
//! whole previous one (missing fields take their defaults). The router answers each tick with a
//! [`ServerMessage::Snapshot`], and a message it cannot take with a [`ServerMessage::Error`]
//! naming the field (nothing changes then).
//!
//! A snapshot is bounded in size whatever the table holds: the connection table appears only as
//! counts and one window of at most [`MAX_LIMIT`] entries, filtered, sorted and cut by the router.
//!
//! Numbers are JSON numbers here (this is statewall's own protocol), except inside the two
//! RouterOS objects it carries as REST shows them: connection entries and `/system/resource`.

use crate::config::{AddrMatch, PortRange};
use crate::connection::{num, ConnectionEntry};
use crate::duration::Duration;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const DEFAULT_INTERVAL_MS: u64 = 1000;
pub const MIN_INTERVAL_MS: u64 = 200;
pub const MAX_INTERVAL_MS: u64 = 60_000;
/// Window rows when the client does not say.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most rows one window may hold: what keeps a snapshot small.
pub const MAX_LIMIT: u32 = 500;
/// Samples of the entry count kept, one per [`HISTORY_INTERVAL_MS`].
pub const HISTORY_LEN: usize = 120;
pub const HISTORY_INTERVAL_MS: u64 = 1000;
/// Hosts in each of the snapshot's top lists.
pub const TOP_HOSTS: usize = 10;

/// The `tcp-state` values an entry may have, as RouterOS names them, in the order of a
/// connection's life.
pub const TCP_STATES: [&str; 9] = [
    "syn-sent",
    "syn-received",
    "established",
    "fin-wait",
    "close-wait",
    "last-ack",
    "time-wait",
    "close",
    "none",
];

/// What the dashboard sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClientMessage {
    /// How often to push, in milliseconds ([`MIN_INTERVAL_MS`] to [`MAX_INTERVAL_MS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

impl ClientMessage {
    /// Checks the values serde cannot (ranges, names); the error names the field.
    pub fn check(&self) -> Result<(), FieldError> {
        if let Some(ms) = self.interval_ms {
            if !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&ms) {
                return Err(FieldError::new(
                    "interval-ms",
                    format!("{ms} is not within {MIN_INTERVAL_MS}-{MAX_INTERVAL_MS}"),
                ));
            }
        }
        match &self.window {
            Some(w) => w.check(),
            None => Ok(()),
        }
    }
}

/// A column of the connection table to sort on (the entry's field names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SortColumn {
    /// Creation order.
    #[default]
    #[serde(rename = ".id", alias = "id")]
    Id,
    Protocol,
    SrcAddress,
    DstAddress,
    ReplySrcAddress,
    ReplyDstAddress,
    TcpState,
    Timeout,
    OrigPackets,
    ReplPackets,
    /// Both directions.
    Packets,
    OrigBytes,
    ReplBytes,
    Bytes,
    OrigRate,
    ReplRate,
    Rate,
}

/// One window of the connection table: a filter (every given part must match), an order, and a
/// slice of the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Window {
    /// An address, subnet or range (`192.0.2.7`, `192.0.2.0/24`, `192.0.2.1-192.0.2.9`) that
    /// any address of the entry is in: source or destination, original or reply (so NAT
    /// addresses match too).
    #[serde(skip_serializing_if = "Option::is_none", with = "addr_text")]
    pub address: Option<AddrMatch>,
    /// A port or range (`443`, `8000-8080`) that any port of the entry is in.
    #[serde(skip_serializing_if = "Option::is_none", with = "port_text")]
    pub port: Option<PortRange>,
    /// `tcp`, `udp`, `icmp`, … or a number.
    #[serde(skip_serializing_if = "Option::is_none", with = "protocol_text")]
    pub protocol: Option<u8>,
    /// One of [`TCP_STATES`] (only TCP entries have one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_state: Option<String>,
    pub sort: SortColumn,
    pub descending: bool,
    /// Matching entries to skip, in sort order.
    pub offset: u64,
    /// Entries to send, at most [`MAX_LIMIT`].
    pub limit: u32,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            address: None,
            port: None,
            protocol: None,
            tcp_state: None,
            sort: SortColumn::Id,
            descending: false,
            offset: 0,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl Window {
    /// No rows, every entry matching: for those who want only the counts.
    pub fn counts_only() -> Self {
        Window {
            limit: 0,
            ..Window::default()
        }
    }

    pub fn check(&self) -> Result<(), FieldError> {
        if self.limit > MAX_LIMIT {
            return Err(FieldError::new(
                "window.limit",
                format!("{} is more than {MAX_LIMIT}", self.limit),
            ));
        }
        if let Some(s) = &self.tcp_state {
            if !TCP_STATES.contains(&s.as_str()) {
                return Err(FieldError::new(
                    "window.tcp-state",
                    format!("\"{s}\" is not one of {}", TCP_STATES.join(", ")),
                ));
            }
        }
        Ok(())
    }
}

/// What the router pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    Snapshot(Box<Snapshot>),
    Error(FieldError),
}

/// A client message the router did not take, or a snapshot it could not make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field at fault, as a path (`window.limit`); `None` when it is not the client's.
    pub field: Option<String>,
    pub detail: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError {
            field: Some(field.into()),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.detail),
            None => f.write_str(&self.detail),
        }
    }
}

/// The router's state at one tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Snapshot {
    /// Counts this connection's snapshots from 1.
    pub seq: u64,
    /// The rate in force.
    pub interval_ms: u64,
    /// Time since the router started routing.
    pub uptime: Duration,
    pub resource: SystemResource,
    /// Per port, in index order: the diagram's first and last edges.
    pub ports: Vec<PortCounters>,
    pub flow: FlowCounters,
    /// Packets dropped, by reason (every reason, zeros included).
    pub drops: Vec<NamedCount>,
    pub conntrack: ConntrackCounters,
    pub total_entries: u64,
    pub max_entries: u64,
    /// Entries per protocol (`tcp`, `udp`, `icmp` always; others when present).
    pub entries_by_protocol: Vec<NamedCount>,
    /// TCP entries per state, every state of [`TCP_STATES`] (zeros included).
    pub entries_by_tcp_state: Vec<NamedCount>,
    /// Entries that are translated.
    pub nat_entries: NatEntries,
    /// `total-entries` once per [`HISTORY_INTERVAL_MS`], oldest first, at most [`HISTORY_LEN`].
    pub history: Vec<u64>,
    /// The original source addresses with the most entries, most first, at most [`TOP_HOSTS`].
    pub top_hosts_by_connections: Vec<HostCount>,
    /// The original source addresses whose entries carry the most bytes per second (both
    /// directions), most first, at most [`TOP_HOSTS`]; hosts with no traffic are left out.
    pub top_hosts_by_rate: Vec<HostCount>,
    /// Firewall and NAT rules in configuration order, with their counters.
    pub rules: Vec<RuleCounters>,
    pub window: WindowView,
}

/// The window the client asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct WindowView {
    /// The query it answers.
    pub query: Window,
    /// Entries matching the filter, in the whole table.
    pub matching: u64,
    /// At most `query.limit` of them, from `query.offset`, in order.
    pub entries: Vec<ConnectionEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct NamedCount {
    pub name: String,
    pub count: u64,
}

impl NamedCount {
    pub fn new(name: impl Into<String>, count: u64) -> Self {
        NamedCount {
            name: name.into(),
            count,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PortCounters {
    pub name: String,
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
}

/// Packets through each node of the packet-flow diagram.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FlowCounters {
    pub prerouting: u64,
    /// Connections given a destination translation.
    pub dstnat: u64,
    pub input: u64,
    pub forward: u64,
    pub output: u64,
    pub postrouting: u64,
    /// Connections given a source translation (incl. masquerade).
    pub srcnat: u64,
    /// Handed to the router's own stack.
    pub local_delivered: u64,
    pub arp_in: u64,
    pub arp_out: u64,
    pub echo_replies: u64,
    pub icmp_errors_sent: u64,
    pub rejects_sent: u64,
    pub fragments_sent: u64,
    pub queued_for_neighbour: u64,
    /// Frames dropped before the pipeline because it was behind.
    pub queue_drops: u64,
    /// Every drop of [`Snapshot::drops`].
    pub dropped: u64,
}

/// Connection tracking's counters (the engine counts in this type itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ConntrackCounters {
    /// Packets by connection state.
    pub new: u64,
    pub established: u64,
    pub related: u64,
    pub invalid: u64,
    pub untracked: u64,
    /// Entries that entered the table.
    pub created: u64,
    /// Entries whose timeout ran out.
    pub expired: u64,
    /// Unassured entries dropped to make room.
    pub evicted: u64,
    /// Entries removed by request.
    pub removed: u64,
    /// Entries ended by the protocol (RST before a reply, a SYN reopening a closed entry).
    pub killed: u64,
    /// New connections refused: the table was full.
    pub dropped_full: u64,
    pub insert_failed: u64,
}

/// A host of the connection table: the address that opened its entries (the original source,
/// a LAN client for outgoing traffic), how many it has and their rate now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostCount {
    pub address: std::net::Ipv4Addr,
    pub connections: u64,
    /// Bytes per second, both directions of all its entries.
    pub rate: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct NatEntries {
    pub srcnat: u64,
    pub dstnat: u64,
}

/// One rule of `/ip firewall filter` or `nat` and its counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RuleCounters {
    /// `filter` or `nat`.
    pub table: String,
    /// `*3`.
    #[serde(rename = ".id")]
    pub id: String,
    pub chain: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    pub disabled: bool,
    pub invalid: bool,
    pub packets: u64,
    pub bytes: u64,
}

/// `/system resource`, as RouterOS's REST API prints it: every value a string
/// (`"cpu-load":"3"`, `"free-memory":"1503133696"`, `"uptime":"2d20h12m20s"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SystemResource {
    /// Since statewall started.
    pub uptime: Duration,
    /// `0.1.0 (development)`: the version, then the channel, as RouterOS writes it.
    pub version: String,
    /// Bytes.
    #[serde(with = "num")]
    pub free_memory: u64,
    #[serde(with = "num")]
    pub total_memory: u64,
    /// The CPU model.
    pub cpu: String,
    #[serde(with = "num")]
    pub cpu_count: u64,
    /// Percent busy over the last interval, all CPUs together.
    #[serde(with = "num")]
    pub cpu_load: u64,
    pub architecture_name: String,
    pub board_name: String,
    pub platform: String,
}

/// `Option<AddrMatch>` as its RouterOS text.
mod addr_text {
    use crate::config::AddrMatch;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<AddrMatch>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(a) => s.collect_str(a),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AddrMatch>, D::Error> {
        Option::<String>::deserialize(d)?
            .filter(|t| !t.is_empty())
            .map(|t| AddrMatch::parse(t.trim()).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// `Option<PortRange>` as `443` or `8000-8080` (a JSON number is taken too).
mod port_text {
    use crate::config::PortRange;
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Number(u16),
        Text(String),
    }

    pub fn serialize<S: Serializer>(v: &Option<PortRange>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(p) => s.collect_str(p),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PortRange>, D::Error> {
        match Option::<Text>::deserialize(d)? {
            Some(Text::Number(p)) => Ok(Some(PortRange::one(p))),
            Some(Text::Text(t)) if !t.is_empty() => PortRange::parse(t.trim())
                .map(Some)
                .map_err(serde::de::Error::custom),
            _ => Ok(None),
        }
    }
}

/// `Option<u8>` as a protocol name (`tcp`) or number.
mod protocol_text {
    use crate::config::values::{parse_protocol, protocol_text};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<u8>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(p) => s.serialize_str(&protocol_text(*p)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
        Option::<String>::deserialize(d)?
            .filter(|t| !t.is_empty())
            .map(|t| parse_protocol(t.trim()).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn client(text: &str) -> ClientMessage {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn client_messages_read_routeros_values() {
        let m = client(
            r#"{"interval-ms":500,"window":{"address":"192.0.2.7/24","port":"8000-8080",
                "protocol":"tcp","tcp-state":"established","sort":"orig-bytes",
                "descending":true,"offset":20,"limit":10}}"#,
        );
        assert_eq!(m.check(), Ok(()));
        assert_eq!(m.interval_ms, Some(500));
        let w = m.window.clone().unwrap();
        assert!(w.address.unwrap().contains(Ipv4Addr::new(192, 0, 2, 200)));
        assert_eq!(
            w.port,
            Some(PortRange {
                first: 8000,
                last: 8080
            })
        );
        assert_eq!(w.protocol, Some(6));
        assert_eq!(w.sort, SortColumn::OrigBytes);
        // Written back the same way (the dashboard sends what it decodes).
        let back: ClientMessage =
            serde_json::from_value(serde_json::to_value(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        // Missing parts take their defaults; a number is a port too; ".id" and "id" both sort.
        let m = client(r#"{"window":{"port":53,"sort":"id"}}"#);
        let w = m.window.unwrap();
        assert_eq!(
            (w.limit, w.offset, w.port),
            (DEFAULT_LIMIT, 0, Some(PortRange::one(53)))
        );
        assert_eq!(serde_json::to_value(w.sort).unwrap(), ".id");
        assert_eq!(client("{}"), ClientMessage::default());
    }

    #[test]
    fn bad_values_are_refused_naming_the_field() {
        let bad = |text: &str| {
            serde_json::from_str::<ClientMessage>(text)
                .unwrap_err()
                .to_string()
        };
        assert!(bad(r#"{"window":{"adress":"x"}}"#).contains("adress"));
        assert!(bad(r#"{"window":{"address":"300.1.1.1"}}"#).contains("300.1.1.1"));
        assert!(bad(r#"{"window":{"protocol":"tcpp"}}"#).contains("tcpp"));
        assert!(bad(r#"{"window":{"sort":"colour"}}"#).contains("colour"));
        let check = |text: &str| client(text).check().unwrap_err();
        assert_eq!(
            check(r#"{"interval-ms":100}"#).field.as_deref(),
            Some("interval-ms")
        );
        assert_eq!(
            check(r#"{"interval-ms":60001}"#).field.as_deref(),
            Some("interval-ms")
        );
        assert_eq!(
            check(r#"{"window":{"limit":501}}"#).to_string(),
            "window.limit: 501 is more than 500"
        );
        assert_eq!(
            check(r#"{"window":{"tcp-state":"open"}}"#).field.as_deref(),
            Some("window.tcp-state")
        );
    }

    #[test]
    fn resource_is_all_strings() {
        let r = SystemResource {
            uptime: Duration::from_secs(2 * 86_400 + 20 * 3600 + 12 * 60 + 20),
            version: "0.1.0 (development)".into(),
            free_memory: 1_503_133_696,
            total_memory: 2_046_820_352,
            cpu: "QEMU".into(),
            cpu_count: 2,
            cpu_load: 1,
            architecture_name: "x86_64".into(),
            board_name: "statewall".into(),
            platform: "statewall".into(),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["uptime"], "2d20h12m20s");
        assert_eq!(v["free-memory"], "1503133696");
        assert_eq!(v["cpu-load"], "1");
        assert!(v.as_object().unwrap().values().all(|v| v.is_string()));
        assert_eq!(serde_json::from_value::<SystemResource>(v).unwrap(), r);
    }

    #[test]
    fn server_messages_are_tagged() {
        let e = ServerMessage::Error(FieldError::new("window.limit", "too many"));
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type":"error","field":"window.limit","detail":"too many"})
        );
        assert_eq!(serde_json::from_value::<ServerMessage>(v).unwrap(), e);
    }
}
