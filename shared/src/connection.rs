//! A connection-table entry as RouterOS shows it (`/ip firewall connection`, routeros.md §2).
//!
//! Field names are RouterOS's. In JSON every value is a string, as the RouterOS REST API sends
//! them (`"orig-packets":"12"`, `"assured":"true"`, `"timeout":"23h59m58s"`); in Rust they are
//! typed, so the dashboard can sort and filter without parsing.

use crate::duration::Duration;
use serde::{Deserialize, Serialize};

/// One entry of `/ip firewall connection`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ConnectionEntry {
    /// RouterOS item id, `*1A`.
    #[serde(rename = ".id")]
    pub id: String,
    /// `tcp`, `udp`, `icmp`, or the protocol number.
    pub protocol: String,
    /// `address:port` for protocols with ports, else the address (RouterOS v6 form).
    pub src_address: String,
    pub dst_address: String,
    pub reply_src_address: String,
    pub reply_dst_address: String,
    /// `established`, `syn-sent`, … (TCP only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_num")]
    pub icmp_type: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_num")]
    pub icmp_code: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_num")]
    pub icmp_id: Option<u64>,
    pub timeout: Duration,
    #[serde(with = "num")]
    pub orig_packets: u64,
    #[serde(with = "num")]
    pub orig_bytes: u64,
    #[serde(with = "num")]
    pub repl_packets: u64,
    #[serde(with = "num")]
    pub repl_bytes: u64,
    /// Bits per second over the last second.
    #[serde(with = "num")]
    pub orig_rate: u64,
    #[serde(with = "num")]
    pub repl_rate: u64,
    #[serde(with = "flag")]
    pub seen_reply: bool,
    #[serde(with = "flag")]
    pub assured: bool,
    #[serde(with = "flag")]
    pub confirmed: bool,
    #[serde(with = "flag")]
    pub dying: bool,
    #[serde(with = "flag")]
    pub srcnat: bool,
    #[serde(with = "flag")]
    pub dstnat: bool,
    #[serde(with = "flag")]
    pub expected: bool,
    #[serde(with = "flag")]
    pub fasttrack: bool,
}

/// RouterOS item ids: `*` and uppercase hex.
pub fn format_id(n: u32) -> String {
    format!("*{n:X}")
}

/// Reads `*1A` back; `None` if it is not an id.
pub fn parse_id(s: &str) -> Option<u32> {
    let hex = s.strip_prefix('*')?;
    if hex.is_empty() || hex.len() > 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// Integers as JSON strings.
pub mod num {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Optional integers as JSON strings.
pub mod opt_num {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| s.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Booleans as `"true"`/`"false"` (RouterOS REST); `yes`/`no` are read too.
pub mod flag {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if *v { "true" } else { "false" })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match String::deserialize(d)?.as_str() {
            "true" | "yes" => Ok(true),
            "false" | "no" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "expected true or false, got {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_star_hex() {
        assert_eq!(format_id(26), "*1A");
        assert_eq!(parse_id("*1A"), Some(26));
        assert_eq!(parse_id("*FFFFFFFE"), Some(0xFFFF_FFFE));
        assert_eq!(parse_id("1A"), None);
        assert_eq!(parse_id("*"), None);
        assert_eq!(parse_id("*XYZ"), None);
        assert_eq!(parse_id("*+1"), None);
    }

    #[test]
    fn json_uses_routeros_names_and_strings() {
        let e = ConnectionEntry {
            id: format_id(1),
            protocol: "tcp".into(),
            src_address: "198.51.100.10:40000".into(),
            dst_address: "203.0.113.2:80".into(),
            reply_src_address: "203.0.113.2:80".into(),
            reply_dst_address: "203.0.113.1:40000".into(),
            tcp_state: Some("established".into()),
            icmp_type: None,
            icmp_code: None,
            icmp_id: None,
            timeout: Duration::from_secs(86_398),
            orig_packets: 5,
            orig_bytes: 380,
            repl_packets: 4,
            repl_bytes: 1200,
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
        };
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v[".id"], "*1");
        assert_eq!(v["tcp-state"], "established");
        assert_eq!(v["timeout"], "23h59m58s");
        assert_eq!(v["orig-packets"], "5");
        assert_eq!(v["assured"], "true");
        assert!(v.get("icmp-type").is_none());
        let back: ConnectionEntry = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}
