//! The table's query as the URL holds it (`/connections?address=192.0.2.0/24&protocol=tcp&
//! sort=orig-bytes&desc=1&offset=1200`), checked with the parsers the router itself uses
//! (`shared::config::{AddrMatch, PortRange}`, `parse_protocol`, [`Window::check`]), so a mistake
//! reads the same here as in the router's answer.
//!
//! Filter and sort parts are kept as typed text: a link with a mistake in it still opens, shows
//! the mistake beside its field, and filters by the parts that are right.

use leptos_router::params::ParamsMap;
use shared::config::values::parse_protocol;
use shared::config::{AddrMatch, PortRange};
use shared::feed::{SortColumn, Window, TCP_STATES};

/// A filter field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Address,
    Port,
    Protocol,
    State,
}

impl Field {
    pub const ALL: [Field; 4] = [Field::Address, Field::Port, Field::Protocol, Field::State];

    /// Its name in the URL (and its element ids: `conn-filter-address`).
    pub fn key(self) -> &'static str {
        match self {
            Field::Address => "address",
            Field::Port => "port",
            Field::Protocol => "protocol",
            Field::State => "state",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Address => "Address or subnet",
            Field::Port => "Port",
            Field::Protocol => "Protocol",
            Field::State => "TCP state",
        }
    }
}

/// The table's query: filter text, order, and the first row in view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableQuery {
    pub address: String,
    pub port: String,
    pub protocol: String,
    pub state: String,
    pub sort: SortColumn,
    pub descending: bool,
    /// The first row in view (the scroll position, in rows).
    pub offset: u64,
}

/// A column's name as the URL and the feed write it (`orig-bytes`, `.id`).
pub fn sort_name(c: SortColumn) -> String {
    match serde_json::to_value(c) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A column from its name; `None` if there is no such column.
pub fn parse_sort(s: &str) -> Option<SortColumn> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// The filter, checked: each part is `Ok(None)` when empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub address: Result<Option<AddrMatch>, String>,
    pub port: Result<Option<PortRange>, String>,
    pub protocol: Result<Option<u8>, String>,
    pub state: Result<Option<String>, String>,
}

impl Checked {
    /// The mistake in a field, if any.
    pub fn error(&self, field: Field) -> Option<String> {
        match field {
            Field::Address => self.address.clone().err(),
            Field::Port => self.port.clone().err(),
            Field::Protocol => self.protocol.clone().err(),
            Field::State => self.state.clone().err(),
        }
    }

    pub fn is_ok(&self) -> bool {
        Field::ALL.iter().all(|f| self.error(*f).is_none())
    }
}

/// One field's text, checked as the router checks it.
pub fn check(field: Field, text: &str, protocol: &str) -> Result<(), String> {
    match field {
        Field::Address => check_address(text).map(drop),
        Field::Port => check_port(text).map(drop),
        Field::Protocol => check_protocol(text).map(drop),
        Field::State => check_state(text, protocol).map(drop),
    }
}

fn trimmed(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

pub fn check_address(text: &str) -> Result<Option<AddrMatch>, String> {
    trimmed(text).map(AddrMatch::parse).transpose()
}

pub fn check_port(text: &str) -> Result<Option<PortRange>, String> {
    trimmed(text).map(PortRange::parse).transpose()
}

pub fn check_protocol(text: &str) -> Result<Option<u8>, String> {
    trimmed(text).map(parse_protocol).transpose()
}

/// A TCP state, as the feed checks it; also refused beside a protocol other than TCP, which
/// would match nothing.
pub fn check_state(text: &str, protocol: &str) -> Result<Option<String>, String> {
    let Some(state) = trimmed(text) else {
        return Ok(None);
    };
    let window = Window {
        tcp_state: Some(state.to_string()),
        ..Window::counts_only()
    };
    window.check().map_err(|e| e.detail)?;
    if let Ok(Some(p)) = check_protocol(protocol) {
        if p != 6 {
            return Err(format!(
                "only TCP entries have a state, and protocol is {}",
                protocol.trim()
            ));
        }
    }
    Ok(Some(state.to_string()))
}

impl TableQuery {
    /// From the URL's query (unknown keys are left alone, a bad sort is the default order).
    pub fn from_params(map: &ParamsMap) -> TableQuery {
        let text = |k: &str| map.get(k).unwrap_or_default();
        TableQuery {
            address: text("address"),
            port: text("port"),
            protocol: text("protocol"),
            state: text("state"),
            sort: map.get_str("sort").and_then(parse_sort).unwrap_or_default(),
            descending: matches!(map.get_str("desc"), Some("1" | "yes" | "true")),
            offset: map
                .get_str("offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0),
        }
    }

    /// `?address=…&sort=…`: the parts that differ from the default, in a fixed order (empty when
    /// none do).
    pub fn to_query_string(&self) -> String {
        let mut map = ParamsMap::new();
        for field in Field::ALL {
            let v = self.text(field).trim();
            if !v.is_empty() {
                map.insert(field.key(), v.to_string());
            }
        }
        if self.sort != SortColumn::default() {
            map.insert("sort", sort_name(self.sort));
        }
        if self.descending {
            map.insert("desc", "1".into());
        }
        if self.offset > 0 {
            map.insert("offset", self.offset.to_string());
        }
        map.to_query_string()
    }

    /// `/connections?…`.
    pub fn href(&self) -> String {
        format!("/connections{}", self.to_query_string())
    }

    pub fn text(&self, field: Field) -> &str {
        match field {
            Field::Address => &self.address,
            Field::Port => &self.port,
            Field::Protocol => &self.protocol,
            Field::State => &self.state,
        }
    }

    /// This query with one field's text replaced, back at the first row.
    pub fn with(&self, field: Field, text: &str) -> TableQuery {
        let mut q = TableQuery {
            offset: 0,
            ..self.clone()
        };
        let slot = match field {
            Field::Address => &mut q.address,
            Field::Port => &mut q.port,
            Field::Protocol => &mut q.protocol,
            Field::State => &mut q.state,
        };
        *slot = text.trim().to_string();
        q
    }

    /// Sorted by `column`: a second click on the column turns its order round.
    pub fn sorted_by(&self, column: SortColumn) -> TableQuery {
        TableQuery {
            sort: column,
            descending: self.sort == column && !self.descending,
            offset: 0,
            ..self.clone()
        }
    }

    pub fn checked(&self) -> Checked {
        Checked {
            address: check_address(&self.address),
            port: check_port(&self.port),
            protocol: check_protocol(&self.protocol),
            state: check_state(&self.state, &self.protocol),
        }
    }

    /// The feed's window for rows `offset..offset + limit`: the parts of the filter that are
    /// right (a wrong part filters nothing; the form shows it).
    pub fn window(&self, offset: u64, limit: u32) -> Window {
        let c = self.checked();
        Window {
            address: c.address.ok().flatten(),
            port: c.port.ok().flatten(),
            protocol: c.protocol.ok().flatten(),
            tcp_state: c.state.ok().flatten(),
            sort: self.sort,
            descending: self.descending,
            offset,
            limit,
        }
    }

    /// The same filter and order (whatever the rows in view).
    pub fn same_selection(&self, other: &TableQuery) -> bool {
        TableQuery {
            offset: 0,
            ..self.clone()
        } == TableQuery {
            offset: 0,
            ..other.clone()
        }
    }

    /// What the filter selects, in words: `tcp, address 192.0.2.0/24` (or `every entry`).
    pub fn describe(&self) -> String {
        let w = self.window(0, 0);
        let mut parts = Vec::new();
        if let Some(p) = w.protocol {
            parts.push(shared::config::values::protocol_text(p));
        }
        if let Some(s) = &w.tcp_state {
            parts.push(format!("state {s}"));
        }
        if let Some(a) = w.address {
            parts.push(format!("address {a}"));
        }
        if let Some(p) = w.port {
            parts.push(format!("port {p}"));
        }
        if parts.is_empty() {
            "every entry".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Whether a snapshot's window answers `want`'s filter and order (rows from another query are
/// not shown under this one's headings).
pub fn answers(window: &Window, want: &Window) -> bool {
    window.address == want.address
        && window.port == want.port
        && window.protocol == want.protocol
        && window.tcp_state == want.tcp_state
        && window.sort == want.sort
        && window.descending == want.descending
}

/// The TCP states for the form's list.
pub fn states() -> &'static [&'static str] {
    &TCP_STATES
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn params(q: &str) -> ParamsMap {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[wasm_bindgen_test]
    fn the_url_round_trips() {
        let q = TableQuery::from_params(&params(
            "address=192.0.2.0/24&port=80&protocol=tcp&state=established&sort=orig-bytes&desc=1&offset=40",
        ));
        assert_eq!(q.sort, SortColumn::OrigBytes);
        assert!(q.descending);
        assert_eq!(q.offset, 40);
        assert_eq!(
            q.to_query_string(),
            "?address=192.0.2.0%2F24&port=80&protocol=tcp&state=established&sort=orig-bytes&desc=1&offset=40"
        );
        assert_eq!(TableQuery::default().to_query_string(), "");
        // A bad sort or offset in a hand-edited link is the default.
        let q = TableQuery::from_params(&params("sort=colour&offset=-3"));
        assert_eq!((q.sort, q.offset), (SortColumn::Id, 0));
    }

    #[wasm_bindgen_test]
    fn mistakes_read_as_the_router_writes_them() {
        let q = TableQuery {
            address: "300.1.1.1".into(),
            port: "90000".into(),
            protocol: "tcpp".into(),
            state: "open".into(),
            ..TableQuery::default()
        };
        let c = q.checked();
        assert_eq!(
            c.error(Field::Address).as_deref(),
            Some("\"300.1.1.1\" is not an IPv4 address")
        );
        assert_eq!(
            c.error(Field::Port).as_deref(),
            Some("\"90000\" is not a port number 0-65535")
        );
        assert_eq!(
            c.error(Field::Protocol).as_deref(),
            Some("\"tcpp\" is not a protocol name or number 0-255")
        );
        assert!(c
            .error(Field::State)
            .unwrap()
            .starts_with("\"open\" is not one of syn-sent"));
        // The wrong parts filter nothing; the window is still one the router takes.
        let w = q.window(0, 10);
        assert_eq!(
            (w.address, w.port, w.protocol, w.tcp_state.clone()),
            (None, None, None, None)
        );
        assert_eq!(w.check(), Ok(()));
        let udp = TableQuery {
            protocol: "udp".into(),
            state: "established".into(),
            ..TableQuery::default()
        };
        assert_eq!(
            udp.checked().error(Field::State).as_deref(),
            Some("only TCP entries have a state, and protocol is udp")
        );
    }

    #[wasm_bindgen_test]
    fn sorting_twice_turns_the_order_round() {
        let q = TableQuery {
            offset: 300,
            ..TableQuery::default()
        };
        let once = q.sorted_by(SortColumn::Rate);
        assert_eq!(
            (once.sort, once.descending, once.offset),
            (SortColumn::Rate, false, 0)
        );
        let twice = once.sorted_by(SortColumn::Rate);
        assert!(twice.descending);
        let other = twice.sorted_by(SortColumn::Protocol);
        assert!(!other.descending);
        assert_eq!(sort_name(SortColumn::Id), ".id");
        assert_eq!(
            parse_sort("reply-dst-address"),
            Some(SortColumn::ReplyDstAddress)
        );
    }
}
