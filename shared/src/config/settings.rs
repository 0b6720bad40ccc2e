//! The settings menus (`/ip firewall connection tracking`, `/ip settings`): one record each,
//! changed by `set`, exported as the properties that differ from RouterOS's defaults.

use super::menus::{parse_yes_no, yes_no};
use super::model::{IpSettings, RouterConfig};
use crate::duration::Duration;
use crate::rsc::schema;
use crate::rsc::shape::Shape;

/// One settings menu of the configuration.
pub(crate) trait SettingsMenu {
    const PATH: &'static [&'static str];
    /// Sets one property from its RouterOS text; on error (why) nothing changes.
    fn set(cfg: &mut RouterConfig, name: &str, value: &str) -> Result<(), String>;
    /// `name=value` pairs a compact export writes.
    fn changed(cfg: &RouterConfig) -> Vec<(String, String)>;
    /// Every settable property as `print` shows it, alphabetical.
    fn pairs(cfg: &RouterConfig) -> Vec<(String, String)>;
}

pub(crate) struct Tracking;

impl SettingsMenu for Tracking {
    const PATH: &'static [&'static str] = &["ip", "firewall", "connection", "tracking"];

    fn set(cfg: &mut RouterConfig, name: &str, value: &str) -> Result<(), String> {
        cfg.tracking.set(name, value).map_err(|e| e.to_string())
    }

    fn changed(cfg: &RouterConfig) -> Vec<(String, String)> {
        cfg.tracking
            .changed_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    fn pairs(cfg: &RouterConfig) -> Vec<(String, String)> {
        cfg.tracking
            .pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }
}

pub(crate) struct IpSettingsMenu;

impl SettingsMenu for IpSettingsMenu {
    const PATH: &'static [&'static str] = &["ip", "settings"];

    fn set(cfg: &mut RouterConfig, name: &str, value: &str) -> Result<(), String> {
        cfg.ip_settings.set(name, value)
    }

    fn changed(cfg: &RouterConfig) -> Vec<(String, String)> {
        cfg.ip_settings.changed_pairs()
    }

    fn pairs(cfg: &RouterConfig) -> Vec<(String, String)> {
        cfg.ip_settings.pairs()
    }
}

/// `/ip settings` properties statewall accepts without acting on them, with RouterOS's defaults
/// (v6). `max-neighbor-entries` has none: it depends on the router's memory, so any value
/// given is kept.
const OTHER_DEFAULTS: &[(&str, Option<&str>)] = &[
    ("accept-redirects", Some("no")),
    ("accept-source-route", Some("no")),
    ("allow-fast-path", Some("yes")),
    ("icmp-rate-mask", Some("0x1818")),
    ("max-neighbor-entries", None),
    ("route-cache", Some("yes")),
    ("rp-filter", Some("no")),
    ("secure-redirects", Some("yes")),
    ("send-redirects", Some("yes")),
];

/// The value as RouterOS prints it, by the schema's shape of the property.
fn normalized(name: &str, value: &str) -> Result<String, String> {
    let shape = schema::menu(IpSettingsMenu::PATH)
        .and_then(|m| m.spec(name))
        .map(|s| s.shape);
    let bad = || format!("invalid value \"{value}\" for argument \"{name}\"");
    Ok(match shape {
        Some(Shape::YesNo) => yes_no(parse_yes_no(value)?).to_string(),
        Some(Shape::Integer { .. }) => value.parse::<u64>().map_err(|_| bad())?.to_string(),
        Some(Shape::Mask) => {
            let mask = match value.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => value.parse(),
            };
            format!("0x{:X}", mask.map_err(|_| bad())?)
        }
        _ => value.to_string(),
    })
}

impl IpSettings {
    /// Sets one property from its RouterOS text. On error nothing changes.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let bad = || format!("invalid value \"{value}\" for argument \"{name}\"");
        match name {
            "ip-forward" => self.ip_forward = parse_yes_no(value)?,
            "tcp-syncookies" => self.tcp_syncookies = parse_yes_no(value)?,
            "arp-timeout" => self.arp_timeout = value.parse::<Duration>().map_err(|_| bad())?,
            "icmp-rate-limit" => self.icmp_rate_limit = value.parse().map_err(|_| bad())?,
            _ => {
                let (_, default) = OTHER_DEFAULTS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .ok_or_else(|| format!("unknown argument \"{name}\" in /ip settings"))?;
                let value = normalized(name, value)?;
                if Some(value.as_str()) == *default {
                    self.other.remove(name);
                } else {
                    self.other.insert(name.to_string(), value);
                }
            }
        }
        Ok(())
    }

    /// Every property as `print` shows it, defaults included, alphabetical.
    /// `max-neighbor-entries` appears only when it was given (its default depends on memory).
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = OTHER_DEFAULTS
            .iter()
            .filter_map(|(name, default)| {
                let value = self.other.get(*name).map(String::as_str).or(*default)?;
                Some((name.to_string(), value.to_string()))
            })
            .collect();
        out.push(("arp-timeout".into(), self.arp_timeout.to_string()));
        out.push(("icmp-rate-limit".into(), self.icmp_rate_limit.to_string()));
        out.push(("ip-forward".into(), yes_no(self.ip_forward).into()));
        out.push(("tcp-syncookies".into(), yes_no(self.tcp_syncookies).into()));
        out.sort();
        out
    }

    /// The properties that differ from RouterOS's defaults, by name, as a compact export writes.
    pub fn changed_pairs(&self) -> Vec<(String, String)> {
        let d = IpSettings::default();
        let mut out: Vec<(String, String)> = self
            .other
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut put = |name: &str, differs: bool, value: String| {
            if differs {
                out.push((name.to_string(), value));
            }
        };
        put(
            "arp-timeout",
            self.arp_timeout != d.arp_timeout,
            self.arp_timeout.to_string(),
        );
        put(
            "icmp-rate-limit",
            self.icmp_rate_limit != d.icmp_rate_limit,
            self.icmp_rate_limit.to_string(),
        );
        put(
            "ip-forward",
            self.ip_forward != d.ip_forward,
            yes_no(self.ip_forward).into(),
        );
        put(
            "tcp-syncookies",
            self.tcp_syncookies != d.tcp_syncookies,
            yes_no(self.tcp_syncookies).into(),
        );
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_settings_keep_what_differs_from_the_defaults() {
        let mut s = IpSettings::default();
        assert!(s.changed_pairs().is_empty());
        s.set("tcp-syncookies", "true").unwrap();
        s.set("rp-filter", "loose").unwrap();
        s.set("send-redirects", "yes").unwrap();
        s.set("icmp-rate-mask", "6168").unwrap();
        s.set("accept-redirects", "true").unwrap();
        s.set("arp-timeout", "1m").unwrap();
        assert_eq!(
            s.changed_pairs(),
            [
                ("accept-redirects", "yes"),
                ("arp-timeout", "1m"),
                ("rp-filter", "loose"),
                ("tcp-syncookies", "yes"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        s.set("rp-filter", "no").unwrap();
        assert!(!s.other.contains_key("rp-filter"));
        assert!(s.set("ip-forward", "maybe").is_err());
        assert!(s.set("tcp-syncookie", "yes").is_err());
        assert!(s.ip_forward);
    }

    #[test]
    fn ip_settings_print_every_property() {
        let mut s = IpSettings::default();
        s.set("rp-filter", "strict").unwrap();
        let pairs = s.pairs();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        let mut expected = schema::menu(IpSettingsMenu::PATH).unwrap().arg_names();
        expected.retain(|n| *n != "max-neighbor-entries");
        expected.sort_unstable();
        assert_eq!(names, expected);
        let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("rp-filter"), Some("strict"));
        assert_eq!(get("ip-forward"), Some("yes"));
        assert_eq!(get("icmp-rate-mask"), Some("0x1818"));
        s.set("max-neighbor-entries", "8192").unwrap();
        assert!(s
            .pairs()
            .iter()
            .any(|(k, v)| k == "max-neighbor-entries" && v == "8192"));
    }

    #[test]
    fn every_ip_settings_argument_is_handled() {
        let menu = schema::menu(IpSettingsMenu::PATH).unwrap();
        for name in menu.arg_names() {
            let value = match menu.spec(name).map(|s| s.shape) {
                Some(Shape::YesNo) => "yes",
                Some(Shape::Time) => "1m",
                Some(Shape::Mask) => "0x10",
                Some(Shape::Integer { .. }) => "5",
                _ => "strict",
            };
            IpSettings::default()
                .set(name, value)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
