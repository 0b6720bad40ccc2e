//! What an argument's value must look like: IPv4 addresses, ports, yes/no, times, enums.
//!
//! A shape answers two questions, both used by the validator and meant for the dashboard's forms
//! too: does this text fit ([`Shape::accepts`]), and how to say what fits ([`Shape::expected`]).
//! Only the form is checked here; whether an interface or list exists is the router's question.

use crate::duration::Duration;
use std::net::Ipv4Addr;

/// The value forms statewall's menus take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Anything, including empty (comments, log prefixes).
    Text,
    /// Non-empty text: interface, list and chain names.
    Name,
    /// `yes`/`no` (RouterOS also reads `true`/`false`).
    YesNo,
    /// A RouterOS time value ([`Duration`]).
    Time,
    Integer {
        min: u64,
        max: u64,
    },
    /// A bit mask, `0x1818` or decimal, up to 32 bits (`icmp-rate-mask`).
    Mask,
    /// `192.168.88.1`.
    Ipv4,
    /// `192.168.88.1/24` or a bare address (a /32).
    Ipv4Prefix,
    /// An address, a network `10.0.0.0/8` or a range `10.0.0.1-10.0.0.9` (firewall matchers and
    /// NAT targets).
    Ipv4Match,
    /// [`Shape::Ipv4Match`] or a DNS name (address-list entries, RouterOS 6.36+).
    AddressListEntry,
    /// Comma list of gateway addresses (`10.0.0.1`, `10.0.0.1%ether1`) or interface names.
    Gateways,
    /// `80` or `1000-2000`.
    Port,
    /// Comma list of ports and ranges: `80,443,8000-8080`.
    Ports,
    /// A protocol name RouterOS knows, or a number 0-255.
    Protocol,
    /// ICMP `type[:code]`, each a number or range 0-255: `8:0`, `3:0-255`.
    IcmpOptions,
    /// `in,ipsec`, `in,none`, `out,ipsec` or `out,none`.
    IpsecPolicy,
    /// `4C:5E:0C:12:34:56`.
    Mac,
    /// A time value, `none-dynamic` or `none-static`.
    AddressListTimeout,
    /// A rule position or id: `3`, `*5` (`place-before`).
    ItemRef,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A comma list of these words (`connection-state=established,related`).
    ListOf(&'static [&'static str]),
    /// A comma list of these words, each may be `!`-negated (`tcp-flags=syn,!ack`).
    FlagsOf(&'static [&'static str]),
}

/// IP protocol names RouterOS accepts for `protocol=` (v6).
pub const PROTOCOLS: &[&str] = &[
    "dccp",
    "ddp",
    "egp",
    "encap",
    "etherip",
    "ggp",
    "gre",
    "hmp",
    "icmp",
    "icmpv6",
    "idpr-cmtp",
    "igmp",
    "ipencap",
    "ipip",
    "ipsec-ah",
    "ipsec-esp",
    "ipv6",
    "ipv6-encap",
    "ipv6-frag",
    "ipv6-nonxt",
    "ipv6-opts",
    "ipv6-route",
    "iso-tp4",
    "l2tp",
    "ospf",
    "pim",
    "pup",
    "rdp",
    "rspf",
    "rsvp",
    "sctp",
    "st",
    "tcp",
    "udp",
    "udp-lite",
    "vmtp",
    "vrrp",
    "xns-idp",
    "xtp",
];

fn number(s: &str, max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| *n <= max)
}

/// `n` or `n-m` with `n <= m <= max`.
fn number_or_range(s: &str, max: u64) -> bool {
    match s.split_once('-') {
        Some((a, b)) => matches!((number(a, max), number(b, max)), (Some(a), Some(b)) if a <= b),
        None => number(s, max).is_some(),
    }
}

fn ipv4(s: &str) -> Option<Ipv4Addr> {
    s.parse().ok()
}

fn ipv4_prefix(s: &str) -> bool {
    match s.split_once('/') {
        Some((addr, len)) => ipv4(addr).is_some() && number(len, 32).is_some(),
        None => ipv4(s).is_some(),
    }
}

fn ipv4_match(s: &str) -> bool {
    match s.split_once('-') {
        Some((a, b)) => matches!((ipv4(a), ipv4(b)), (Some(a), Some(b)) if a <= b),
        None => ipv4_prefix(s),
    }
}

fn dns_name(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && s.chars().any(|c| c.is_ascii_alphabetic())
}

fn gateway(s: &str) -> bool {
    if let Some((addr, iface)) = s.split_once('%') {
        return ipv4(addr).is_some() && !iface.is_empty();
    }
    // Only digits and dots is an attempt at an address, so it must be one.
    if s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return ipv4(s).is_some();
    }
    !s.is_empty()
}

fn mask(s: &str) -> bool {
    match s.strip_prefix("0x") {
        Some(hex) => {
            !hex.is_empty() && hex.len() <= 8 && hex.chars().all(|c| c.is_ascii_hexdigit())
        }
        None => number(s, u64::from(u32::MAX)).is_some(),
    }
}

fn join(words: &[&str]) -> String {
    words.join(", ")
}

impl Shape {
    /// Whether `text` (the value without a leading `!`) has this shape.
    pub fn accepts(self, text: &str) -> bool {
        match self {
            Shape::Text => true,
            Shape::Name => !text.is_empty(),
            Shape::YesNo => matches!(text, "yes" | "no" | "true" | "false"),
            Shape::Time => text.parse::<Duration>().is_ok(),
            Shape::Integer { min, max } => number(text, max).is_some_and(|n| n >= min),
            Shape::Mask => mask(text),
            Shape::Ipv4 => ipv4(text).is_some(),
            Shape::Ipv4Prefix => ipv4_prefix(text),
            Shape::Ipv4Match => ipv4_match(text),
            Shape::AddressListEntry => ipv4_match(text) || dns_name(text),
            Shape::Gateways => text.split(',').all(gateway),
            Shape::Port => number_or_range(text, 65_535),
            Shape::Ports => text.split(',').all(|p| number_or_range(p, 65_535)),
            Shape::Protocol => PROTOCOLS.contains(&text) || number(text, 255).is_some(),
            Shape::IcmpOptions => match text.split_once(':') {
                Some((t, c)) => number_or_range(t, 255) && number_or_range(c, 255),
                None => number_or_range(text, 255),
            },
            Shape::IpsecPolicy => {
                matches!(text.split_once(','), Some(("in" | "out", "ipsec" | "none")))
            }
            Shape::Mac => {
                let parts: Vec<&str> = text.split(':').collect();
                parts.len() == 6
                    && parts
                        .iter()
                        .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
            }
            Shape::AddressListTimeout => {
                matches!(text, "none-dynamic" | "none-static") || Shape::Time.accepts(text)
            }
            Shape::ItemRef => {
                crate::connection::parse_id(text).is_some() || number(text, u64::MAX).is_some()
            }
            Shape::OneOf(words) => words.contains(&text),
            Shape::ListOf(words) => text.split(',').all(|w| words.contains(&w)),
            Shape::FlagsOf(words) => text
                .split(',')
                .all(|w| words.contains(&w.strip_prefix('!').unwrap_or(w))),
        }
    }

    /// What fits, for "expected …" in error messages.
    pub fn expected(self) -> String {
        match self {
            Shape::Text => "text".into(),
            Shape::Name => "a name (not empty)".into(),
            Shape::YesNo => "yes or no".into(),
            Shape::Time => "a time value such as 10s, 5m or 1d".into(),
            Shape::Integer { min, max } => format!("a whole number from {min} to {max}"),
            Shape::Mask => "a 32-bit mask such as 0x1818".into(),
            Shape::Ipv4 => "an IPv4 address such as 192.168.88.1".into(),
            Shape::Ipv4Prefix => {
                "an IPv4 address with prefix length such as 192.168.88.1/24".into()
            }
            Shape::Ipv4Match => {
                "an IPv4 address, network (10.0.0.0/8) or range (10.0.0.1-10.0.0.9)".into()
            }
            Shape::AddressListEntry => {
                "an IPv4 address, network (10.0.0.0/8), range (10.0.0.1-10.0.0.9) or DNS name"
                    .into()
            }
            Shape::Gateways => "gateway addresses or interface names, comma-separated".into(),
            Shape::Port => "a port 0-65535 or a range such as 1000-2000".into(),
            Shape::Ports => "ports 0-65535, ranges (1000-2000), comma-separated".into(),
            Shape::Protocol => "a protocol name (tcp, udp, icmp, gre, …) or number 0-255".into(),
            Shape::IcmpOptions => "type[:code], numbers or ranges 0-255, such as 8:0".into(),
            Shape::IpsecPolicy => "in,ipsec, in,none, out,ipsec or out,none".into(),
            Shape::Mac => "a MAC address such as 4C:5E:0C:12:34:56".into(),
            Shape::AddressListTimeout => "a time value, none-dynamic or none-static".into(),
            Shape::ItemRef => "a rule number or id such as *5".into(),
            Shape::OneOf(words) => format!("one of {}", join(words)),
            Shape::ListOf(words) => format!("a comma-separated list of {}", join(words)),
            Shape::FlagsOf(words) => format!(
                "a comma-separated list of {}, each may be negated with !",
                join(words)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(shape: Shape, good: &[&str], bad: &[&str]) {
        for v in good {
            assert!(shape.accepts(v), "{shape:?} should take {v:?}");
        }
        for v in bad {
            assert!(!shape.accepts(v), "{shape:?} should refuse {v:?}");
        }
    }

    #[test]
    fn addresses() {
        check(
            Shape::Ipv4,
            &["127.0.0.1", "0.0.0.0"],
            &["256.1.1.1", "1.2.3", "1.2.3.4/24", ""],
        );
        check(
            Shape::Ipv4Prefix,
            &["192.168.88.1/24", "10.0.0.0/8", "1.2.3.4", "0.0.0.0/0"],
            &["1.2.3.4/33", "1.2.3.4/", "/24", "1.2.3.4/-1"],
        );
        check(
            Shape::Ipv4Match,
            &["1.2.3.4", "10.0.0.0/8", "192.168.88.10-192.168.88.254"],
            &["10.0.0.9-10.0.0.1", "1.2.3.4-", "a.b.c.d"],
        );
        check(
            Shape::AddressListEntry,
            &["1.2.3.4", "example.com", "10.0.0.0/8"],
            &["", "bad name", "1.2.3.999"],
        );
        check(
            Shape::Gateways,
            &[
                "10.0.0.1",
                "ether1",
                "10.0.0.1,10.0.0.2",
                "10.0.0.1%ether1",
                "pppoe-out1",
            ],
            &["10.0.0.256", "", "10.0.0.1%", "a,,b"],
        );
        check(
            Shape::Mac,
            &["4C:5E:0C:12:34:56", "aa:bb:cc:dd:ee:ff"],
            &["4C:5E:0C:12:34", "4C-5E-0C-12-34-56", "4C:5E:0C:12:34:5G"],
        );
    }

    #[test]
    fn ports_protocols_and_icmp() {
        check(
            Shape::Port,
            &["0", "65535", "1000-2000"],
            &["65536", "2000-1000", "-1", "80,443"],
        );
        check(
            Shape::Ports,
            &["80,443,8000-8080", "22"],
            &["80,", "http", "1-2-3"],
        );
        check(
            Shape::Protocol,
            &["tcp", "udp", "icmp", "47", "255"],
            &["256", "TCP", "tcpp"],
        );
        check(
            Shape::IcmpOptions,
            &["8:0", "3", "3:0-255", "0-255:0"],
            &["8:", "300:0", "a:b"],
        );
        check(
            Shape::IpsecPolicy,
            &["in,ipsec", "out,none"],
            &["in", "both,ipsec", "in,ipsec,x"],
        );
    }

    #[test]
    fn words_numbers_times() {
        check(
            Shape::YesNo,
            &["yes", "no", "true", "false"],
            &["Yes", "1", ""],
        );
        check(
            Shape::Time,
            &["10s", "1d", "00:00:10", "300"],
            &["soon", ""],
        );
        check(
            Shape::Integer { min: 1, max: 255 },
            &["1", "255"],
            &["0", "256", "-1", "1.5"],
        );
        check(
            Shape::Mask,
            &["0x1818", "6168"],
            &["0x", "0x123456789", "x1818"],
        );
        check(
            Shape::AddressListTimeout,
            &["none-dynamic", "none-static", "1d"],
            &["none", "forever"],
        );
        check(Shape::ItemRef, &["0", "12", "*5", "*A1"], &["*", "*G", "x"]);
        let states = &["new", "established"];
        check(
            Shape::ListOf(states),
            &["new", "new,established"],
            &["", "new,", "!new"],
        );
        check(
            Shape::FlagsOf(&["syn", "ack"]),
            &["syn", "syn,!ack"],
            &["fin", "!!syn"],
        );
        assert_eq!(Shape::OneOf(&["a", "b"]).expected(), "one of a, b");
    }
}
