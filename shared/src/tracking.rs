//! `/ip firewall connection tracking`: the settings menu, with RouterOS v6 names, value formats
//! and defaults (routeros.md §1.1).
//!
//! The menu is described once, as data ([`PROPERTIES`]): the printer, the setter, the REST layer
//! and the dashboard's form all read the same table, so a name or a default cannot drift between
//! them.

use crate::duration::Duration;
use std::fmt;

/// `enabled=auto|yes|no`. `auto` tracks only once a firewall rule exists (RouterOS since 6.0rc2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Enabled {
    #[default]
    Auto,
    Yes,
    No,
}

impl Enabled {
    /// Whether tracking runs, given whether any filter or NAT rule exists.
    pub fn active(self, has_rules: bool) -> bool {
        match self {
            Enabled::Yes => true,
            Enabled::No => false,
            Enabled::Auto => has_rules,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Enabled::Auto => "auto",
            Enabled::Yes => "yes",
            Enabled::No => "no",
        }
    }
}

/// The settable properties of `/ip firewall connection tracking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackingSettings {
    pub enabled: Enabled,
    pub loose_tcp_tracking: bool,
    pub tcp_syn_sent_timeout: Duration,
    pub tcp_syn_received_timeout: Duration,
    pub tcp_established_timeout: Duration,
    pub tcp_fin_wait_timeout: Duration,
    pub tcp_close_wait_timeout: Duration,
    pub tcp_last_ack_timeout: Duration,
    pub tcp_time_wait_timeout: Duration,
    pub tcp_close_timeout: Duration,
    pub tcp_max_retrans_timeout: Duration,
    pub tcp_unacked_timeout: Duration,
    pub udp_timeout: Duration,
    pub udp_stream_timeout: Duration,
    pub icmp_timeout: Duration,
    pub generic_timeout: Duration,
}

impl Default for TrackingSettings {
    /// RouterOS v6 defaults (6.48.1 verbose export; routeros.md §1.3).
    fn default() -> Self {
        TrackingSettings {
            enabled: Enabled::Auto,
            loose_tcp_tracking: true,
            tcp_syn_sent_timeout: Duration::from_secs(5),
            tcp_syn_received_timeout: Duration::from_secs(5),
            tcp_established_timeout: Duration::from_secs(86_400),
            tcp_fin_wait_timeout: Duration::from_secs(10),
            tcp_close_wait_timeout: Duration::from_secs(10),
            tcp_last_ack_timeout: Duration::from_secs(10),
            tcp_time_wait_timeout: Duration::from_secs(10),
            tcp_close_timeout: Duration::from_secs(10),
            tcp_max_retrans_timeout: Duration::from_secs(300),
            tcp_unacked_timeout: Duration::from_secs(300),
            udp_timeout: Duration::from_secs(10),
            udp_stream_timeout: Duration::from_secs(180),
            icmp_timeout: Duration::from_secs(10),
            generic_timeout: Duration::from_secs(600),
        }
    }
}

/// What kind of value a property takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// `auto`, `yes` or `no`.
    AutoYesNo,
    /// `yes` or `no`.
    YesNo,
    /// A RouterOS time value.
    Time,
    /// Read-only integer.
    Count,
}

/// One property of the menu: its RouterOS name, whether it can be set, and a one-line explanation.
#[derive(Debug, Clone, Copy)]
pub struct Property {
    pub name: &'static str,
    pub kind: ValueKind,
    pub read_only: bool,
    pub help: &'static str,
}

const fn settable(name: &'static str, kind: ValueKind, help: &'static str) -> Property {
    Property {
        name,
        kind,
        read_only: false,
        help,
    }
}

/// Every property, in the alphabetical order RouterOS prints them.
pub const PROPERTIES: &[Property] = &[
    settable("enabled", ValueKind::AutoYesNo, "auto: tracking starts once a firewall rule exists; yes: always; no: never"),
    settable("generic-timeout", ValueKind::Time, "Idle timeout for protocols other than TCP, UDP and ICMP"),
    settable("icmp-timeout", ValueKind::Time, "Idle timeout for ICMP entries (echo, timestamp, ...)"),
    settable("loose-tcp-tracking", ValueKind::YesNo, "yes: pick up TCP connections already established (ACK without SYN); no: such packets are invalid"),
    Property { name: "max-entries", kind: ValueKind::Count, read_only: true, help: "The most entries the table holds; new connections beyond it evict unassured entries or are dropped" },
    settable("tcp-close-timeout", ValueKind::Time, "Timeout after a RST closed the connection"),
    settable("tcp-close-wait-timeout", ValueKind::Time, "Timeout after the responder's FIN was acknowledged"),
    settable("tcp-established-timeout", ValueKind::Time, "Idle timeout of an established TCP connection"),
    settable("tcp-fin-wait-timeout", ValueKind::Time, "Timeout after the first FIN"),
    settable("tcp-last-ack-timeout", ValueKind::Time, "Timeout after FINs from both sides, waiting for the last ACK"),
    settable("tcp-max-retrans-timeout", ValueKind::Time, "Timeout once a segment was retransmitted 3 times"),
    settable("tcp-syn-received-timeout", ValueKind::Time, "Timeout after the SYN/ACK, waiting for the handshake's last ACK"),
    settable("tcp-syn-sent-timeout", ValueKind::Time, "Timeout after a SYN, waiting for the SYN/ACK"),
    settable("tcp-time-wait-timeout", ValueKind::Time, "Timeout after both FINs were acknowledged"),
    settable("tcp-unacked-timeout", ValueKind::Time, "Timeout while sent data is not yet acknowledged"),
    Property { name: "total-entries", kind: ValueKind::Count, read_only: true, help: "Entries in the table now" },
    settable("udp-stream-timeout", ValueKind::Time, "Timeout of a UDP flow that saw replies and stayed active over 2 s"),
    settable("udp-timeout", ValueKind::Time, "Timeout of a UDP flow without replies, or replied within its first 2 s"),
];

/// Names people write that are not properties of this menu, with the property they mean.
const MISNAMED: &[(&str, &str)] = &[
    ("tcp-loose-tracking", "loose-tcp-tracking"),
    ("tcp-syncookie", "tcp-syncookies in /ip settings"),
    ("tcp-syncookies", "tcp-syncookies in /ip settings"),
];

/// Why a property could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("unknown argument \"{name}\" in /ip firewall connection tracking{}", suggestion_text(.suggestion))]
    UnknownArgument {
        name: String,
        suggestion: Option<String>,
    },
    #[error("argument \"{0}\" is read-only")]
    ReadOnly(String),
    #[error("invalid value \"{value}\" for argument \"{name}\": expected {expected}")]
    InvalidValue {
        name: String,
        value: String,
        expected: &'static str,
    },
}

fn suggestion_text(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("; did you mean \"{s}\"?"),
        None => String::new(),
    }
}

/// The property a mistyped name most likely meant.
pub fn suggest(name: &str) -> Option<String> {
    if let Some((_, right)) = MISNAMED.iter().find(|(wrong, _)| *wrong == name) {
        return Some((*right).to_string());
    }
    crate::suggest::closest(
        name,
        PROPERTIES.iter().filter(|p| !p.read_only).map(|p| p.name),
    )
    .map(str::to_string)
}

fn parse_yes_no(value: &str) -> Option<bool> {
    match value {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl TrackingSettings {
    fn time_mut(&mut self, name: &str) -> Option<&mut Duration> {
        Some(match name {
            "generic-timeout" => &mut self.generic_timeout,
            "icmp-timeout" => &mut self.icmp_timeout,
            "tcp-close-timeout" => &mut self.tcp_close_timeout,
            "tcp-close-wait-timeout" => &mut self.tcp_close_wait_timeout,
            "tcp-established-timeout" => &mut self.tcp_established_timeout,
            "tcp-fin-wait-timeout" => &mut self.tcp_fin_wait_timeout,
            "tcp-last-ack-timeout" => &mut self.tcp_last_ack_timeout,
            "tcp-max-retrans-timeout" => &mut self.tcp_max_retrans_timeout,
            "tcp-syn-received-timeout" => &mut self.tcp_syn_received_timeout,
            "tcp-syn-sent-timeout" => &mut self.tcp_syn_sent_timeout,
            "tcp-time-wait-timeout" => &mut self.tcp_time_wait_timeout,
            "tcp-unacked-timeout" => &mut self.tcp_unacked_timeout,
            "udp-stream-timeout" => &mut self.udp_stream_timeout,
            "udp-timeout" => &mut self.udp_timeout,
            _ => return None,
        })
    }

    /// The value of a settable property as RouterOS prints it (`yes`, `10s`, `auto`).
    pub fn get(&self, name: &str) -> Option<String> {
        match name {
            "enabled" => Some(self.enabled.as_str().to_string()),
            "loose-tcp-tracking" => Some(yes_no(self.loose_tcp_tracking).to_string()),
            _ => {
                let mut copy = *self;
                copy.time_mut(name).map(|d| d.to_string())
            }
        }
    }

    /// Sets one property from its RouterOS text form. On error nothing changes.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), SettingError> {
        let invalid = |expected| SettingError::InvalidValue {
            name: name.to_string(),
            value: value.to_string(),
            expected,
        };
        match PROPERTIES.iter().find(|p| p.name == name) {
            None => {
                return Err(SettingError::UnknownArgument {
                    name: name.to_string(),
                    suggestion: suggest(name),
                })
            }
            Some(p) if p.read_only => return Err(SettingError::ReadOnly(name.to_string())),
            Some(_) => {}
        }
        match name {
            "enabled" => {
                self.enabled = match value {
                    "auto" => Enabled::Auto,
                    "yes" | "true" => Enabled::Yes,
                    "no" | "false" => Enabled::No,
                    _ => return Err(invalid("auto, yes or no")),
                }
            }
            "loose-tcp-tracking" => {
                self.loose_tcp_tracking = parse_yes_no(value).ok_or_else(|| invalid("yes or no"))?
            }
            _ => {
                let d: Duration = value
                    .parse()
                    .map_err(|_| invalid("a time value such as 10s, 5m or 1d"))?;
                if let Some(slot) = self.time_mut(name) {
                    *slot = d;
                }
            }
        }
        Ok(())
    }

    /// `name=value` pairs of every settable property, alphabetical, as `/export verbose` prints.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        PROPERTIES
            .iter()
            .filter(|p| !p.read_only)
            .filter_map(|p| self.get(p.name).map(|v| (p.name, v)))
            .collect()
    }

    /// Only the properties that differ from the defaults, as a compact `/export` prints.
    pub fn changed_pairs(&self) -> Vec<(&'static str, String)> {
        let defaults = TrackingSettings::default();
        self.pairs()
            .into_iter()
            .filter(|(name, value)| defaults.get(name).as_deref() != Some(value))
            .collect()
    }
}

impl fmt::Display for TrackingSettings {
    /// `set k=v …` as in the verbose export.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("set")?;
        for (k, v) in self.pairs() {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_routeros_v6() {
        let s = TrackingSettings::default();
        assert_eq!(
            s.to_string(),
            "set enabled=auto generic-timeout=10m icmp-timeout=10s loose-tcp-tracking=yes \
             tcp-close-timeout=10s tcp-close-wait-timeout=10s tcp-established-timeout=1d \
             tcp-fin-wait-timeout=10s tcp-last-ack-timeout=10s tcp-max-retrans-timeout=5m \
             tcp-syn-received-timeout=5s tcp-syn-sent-timeout=5s tcp-time-wait-timeout=10s \
             tcp-unacked-timeout=5m udp-stream-timeout=3m udp-timeout=10s"
        );
        assert!(s.changed_pairs().is_empty());
    }

    #[test]
    fn set_parses_routeros_values() {
        let mut s = TrackingSettings::default();
        s.set("udp-timeout", "30s").unwrap();
        s.set("tcp-established-timeout", "24h").unwrap();
        s.set("loose-tcp-tracking", "no").unwrap();
        s.set("enabled", "yes").unwrap();
        assert_eq!(s.udp_timeout, Duration::from_secs(30));
        assert_eq!(s.get("tcp-established-timeout").unwrap(), "1d");
        assert!(!s.loose_tcp_tracking);
        assert_eq!(
            s.changed_pairs(),
            vec![
                ("enabled", "yes".to_string()),
                ("loose-tcp-tracking", "no".to_string()),
                ("udp-timeout", "30s".to_string())
            ]
        );
    }

    #[test]
    fn the_seeds_wrong_names_point_to_the_right_ones() {
        let mut s = TrackingSettings::default();
        let e = s.set("tcp-loose-tracking", "no").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown argument \"tcp-loose-tracking\" in /ip firewall connection tracking; did you mean \"loose-tcp-tracking\"?"
        );
        let e = s.set("tcp-syncookie", "no").unwrap_err();
        assert!(
            e.to_string().contains("tcp-syncookies in /ip settings"),
            "{e}"
        );
        assert_eq!(s, TrackingSettings::default());
    }

    #[test]
    fn typos_get_a_suggestion_and_read_only_is_refused() {
        let mut s = TrackingSettings::default();
        match s.set("udp-timeot", "1s").unwrap_err() {
            SettingError::UnknownArgument { suggestion, .. } => {
                assert_eq!(suggestion.as_deref(), Some("udp-timeout"))
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(
            s.set("max-entries", "8192").unwrap_err(),
            SettingError::ReadOnly("max-entries".into())
        );
        let e = s.set("icmp-timeout", "soon").unwrap_err();
        assert!(matches!(e, SettingError::InvalidValue { .. }));
        assert!(s.set("enabled", "maybe").is_err());
        assert_eq!(s, TrackingSettings::default());
    }

    #[test]
    fn auto_means_tracking_once_a_rule_exists() {
        assert!(!Enabled::Auto.active(false));
        assert!(Enabled::Auto.active(true));
        assert!(Enabled::Yes.active(false));
        assert!(!Enabled::No.active(true));
    }
}
