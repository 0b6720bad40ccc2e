//! Matcher and target values of firewall rules, parsed from the text RouterOS writes and printed
//! back the same way. [`crate::rsc::shape`] has already checked the text's shape; these parsers
//! still return errors rather than trusting that, so they are safe on any input.

use super::model::prefix_mask;
use std::fmt;
use std::net::Ipv4Addr;

/// `192.0.2.1`, `192.0.2.0/24` or `192.0.2.10-192.0.2.20`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrMatch {
    Prefix { addr: Ipv4Addr, len: u8 },
    Range { first: Ipv4Addr, last: Ipv4Addr },
}

impl AddrMatch {
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        match *self {
            AddrMatch::Prefix { addr, len } => {
                let m = prefix_mask(len);
                u32::from(a) & m == u32::from(addr) & m
            }
            AddrMatch::Range { first, last } => first <= a && a <= last,
        }
    }

    /// The inclusive bounds.
    pub fn bounds(&self) -> (Ipv4Addr, Ipv4Addr) {
        match *self {
            AddrMatch::Prefix { addr, len } => {
                let m = prefix_mask(len);
                let lo = u32::from(addr) & m;
                (Ipv4Addr::from(lo), Ipv4Addr::from(lo | !m))
            }
            AddrMatch::Range { first, last } => (first, last),
        }
    }

    /// The form RouterOS stores and prints: a network without host bits (`192.0.2.77/24` is
    /// kept as `192.0.2.0/24`, the network it matches); ranges stay as written.
    pub fn normalized(self) -> Self {
        match self {
            AddrMatch::Prefix { addr, len } => AddrMatch::Prefix {
                addr: Ipv4Addr::from(u32::from(addr) & prefix_mask(len)),
                len,
            },
            range => range,
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let addr = |t: &str| {
            t.parse::<Ipv4Addr>()
                .map_err(|_| format!("\"{t}\" is not an IPv4 address"))
        };
        if let Some((a, b)) = s.split_once('-') {
            let (first, last) = (addr(a)?, addr(b)?);
            if first > last {
                return Err(format!("range {s} ends before it starts"));
            }
            return Ok(AddrMatch::Range { first, last });
        }
        match s.split_once('/') {
            Some((a, l)) => {
                let len: u8 = l
                    .parse()
                    .ok()
                    .filter(|n| *n <= 32)
                    .ok_or_else(|| format!("prefix length \"{l}\" is not 0-32"))?;
                Ok(AddrMatch::Prefix {
                    addr: addr(a)?,
                    len,
                })
            }
            None => Ok(AddrMatch::Prefix {
                addr: addr(s)?,
                len: 32,
            }),
        }
    }
}

impl fmt::Display for AddrMatch {
    /// As RouterOS prints it: a /32 without its length, a network as address/len.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrMatch::Prefix { addr, len: 32 } => write!(f, "{addr}"),
            AddrMatch::Prefix { addr, len } => write!(f, "{addr}/{len}"),
            AddrMatch::Range { first, last } => write!(f, "{first}-{last}"),
        }
    }
}

/// IP protocol names RouterOS accepts for `protocol=`, with their numbers. RouterOS stores the
/// number and prints the name, so `protocol=6` reads back as `protocol=tcp`; where two names
/// share a number the first is the one printed.
pub const PROTOCOL_NUMBERS: &[(&str, u8)] = &[
    ("icmp", 1),
    ("igmp", 2),
    ("ggp", 3),
    ("ipencap", 4),
    ("st", 5),
    ("tcp", 6),
    ("egp", 8),
    ("pup", 12),
    ("udp", 17),
    ("hmp", 20),
    ("xns-idp", 22),
    ("rdp", 27),
    ("iso-tp4", 29),
    ("dccp", 33),
    ("xtp", 36),
    ("ddp", 37),
    ("idpr-cmtp", 38),
    ("ipv6-encap", 41),
    ("ipv6", 41),
    ("ipv6-route", 43),
    ("ipv6-frag", 44),
    ("rsvp", 46),
    ("gre", 47),
    ("ipsec-esp", 50),
    ("ipsec-ah", 51),
    ("icmpv6", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("rspf", 73),
    ("vmtp", 81),
    ("ospf", 89),
    ("ipip", 94),
    ("etherip", 97),
    ("encap", 98),
    ("pim", 103),
    ("vrrp", 112),
    ("l2tp", 115),
    ("sctp", 132),
    ("udp-lite", 136),
];

/// `tcp` or `6` → 6.
pub fn parse_protocol(s: &str) -> Result<u8, String> {
    PROTOCOL_NUMBERS
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, n)| *n)
        .or_else(|| s.parse().ok())
        .ok_or_else(|| format!("\"{s}\" is not a protocol name or number 0-255"))
}

/// The protocol as RouterOS prints it: its name if it has one, else the number.
pub fn protocol_text(n: u8) -> String {
    PROTOCOL_NUMBERS
        .iter()
        .find(|(_, num)| *num == n)
        .map_or_else(|| n.to_string(), |(name, _)| (*name).to_string())
}

/// An inclusive port range; one port is `first == last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn one(p: u16) -> Self {
        PortRange { first: p, last: p }
    }

    pub fn contains(&self, p: u16) -> bool {
        self.first <= p && p <= self.last
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let port = |t: &str| {
            t.parse::<u16>()
                .map_err(|_| format!("\"{t}\" is not a port number 0-65535"))
        };
        match s.split_once('-') {
            Some((a, b)) => {
                let (first, last) = (port(a)?, port(b)?);
                if first > last {
                    return Err(format!("port range {s} ends before it starts"));
                }
                Ok(PortRange { first, last })
            }
            None => Ok(PortRange::one(port(s)?)),
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// `80,443,8000-8080`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortSet(pub Vec<PortRange>);

impl PortSet {
    pub fn contains(&self, p: u16) -> bool {
        self.0.iter().any(|r| r.contains(p))
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(PortRange::parse)
            .collect::<Result<_, _>>()
            .map(PortSet)
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// `icmp-options=3:4` or `8:0-255`: an ICMP type and code, each a number or a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcmpOptions {
    pub types: (u8, u8),
    /// `0-255` when only the type is given.
    pub codes: (u8, u8),
}

impl IcmpOptions {
    pub fn contains(&self, icmp_type: u8, code: u8) -> bool {
        (self.types.0..=self.types.1).contains(&icmp_type)
            && (self.codes.0..=self.codes.1).contains(&code)
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let range = |t: &str| -> Result<(u8, u8), String> {
            let n = |x: &str| {
                x.parse::<u8>()
                    .map_err(|_| format!("\"{x}\" is not a number 0-255"))
            };
            match t.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (n(a)?, n(b)?);
                    if a > b {
                        return Err(format!("range {t} ends before it starts"));
                    }
                    Ok((a, b))
                }
                None => n(t).map(|v| (v, v)),
            }
        };
        match s.split_once(':') {
            Some((t, c)) => Ok(IcmpOptions {
                types: range(t)?,
                codes: range(c)?,
            }),
            None => Ok(IcmpOptions {
                types: range(s)?,
                codes: (0, 255),
            }),
        }
    }
}

impl fmt::Display for IcmpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = |f: &mut fmt::Formatter<'_>, (a, b): (u8, u8)| {
            if a == b {
                write!(f, "{a}")
            } else {
                write!(f, "{a}-{b}")
            }
        };
        part(f, self.types)?;
        if self.codes != (0, 255) {
            f.write_str(":")?;
            part(f, self.codes)?;
        }
        Ok(())
    }
}

/// `tcp-flags=syn,!ack`: flags that must be set and flags that must be clear (TCP header bits:
/// FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80).
///
/// A rule-level `!` (`tcp-flags=!syn,ack`) negates the first flag only, as RouterOS reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlagsMatch {
    pub set: u8,
    pub clear: u8,
}

/// RouterOS's flag names with their header bits, in RouterOS's order.
pub const TCP_FLAG_BITS: &[(&str, u8)] = &[
    ("fin", 0x01),
    ("syn", 0x02),
    ("rst", 0x04),
    ("psh", 0x08),
    ("ack", 0x10),
    ("urg", 0x20),
    ("ece", 0x40),
    ("cwr", 0x80),
];

impl fmt::Display for TcpFlagsMatch {
    /// RouterOS's flag order, cleared flags with `!`: `syn,!ack`. A leading `!` is the rule-level
    /// negation of the first flag, which is how [`TcpFlagsMatch::parse`] reads it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, bit) in TCP_FLAG_BITS {
            for (mask, bang) in [(self.set, ""), (self.clear, "!")] {
                if mask & bit != 0 {
                    if !first {
                        f.write_str(",")?;
                    }
                    first = false;
                    write!(f, "{bang}{name}")?;
                }
            }
        }
        Ok(())
    }
}

impl TcpFlagsMatch {
    pub fn matches(&self, flags: u8) -> bool {
        flags & self.set == self.set && flags & self.clear == 0
    }

    /// `text` is the value after any rule-level `!`; `negated` is that `!`.
    pub fn parse(text: &str, negated: bool) -> Result<Self, String> {
        let mut m = TcpFlagsMatch::default();
        for (i, word) in text.split(',').enumerate() {
            let (neg, name) = match word.strip_prefix('!') {
                Some(n) => (true, n),
                None => (i == 0 && negated, word),
            };
            let bit = TCP_FLAG_BITS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| *b)
                .ok_or_else(|| format!("\"{name}\" is not a TCP flag"))?;
            if neg {
                m.clear |= bit;
            } else {
                m.set |= bit;
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_networks_and_ranges() {
        let net = AddrMatch::parse("198.51.100.0/24").unwrap();
        assert!(net.contains("198.51.100.77".parse().unwrap()));
        assert!(!net.contains("198.51.101.1".parse().unwrap()));
        let host = AddrMatch::parse("192.0.2.1").unwrap();
        assert_eq!(host.to_string(), "192.0.2.1");
        assert!(!host.contains("192.0.2.2".parse().unwrap()));
        let r = AddrMatch::parse("203.0.113.5-203.0.113.9").unwrap();
        assert!(r.contains("203.0.113.9".parse().unwrap()));
        assert!(!r.contains("203.0.113.10".parse().unwrap()));
        assert_eq!(r.to_string(), "203.0.113.5-203.0.113.9");
        // A host address with a network length still means the network (RouterOS stores it so).
        let loose = AddrMatch::parse("192.0.2.77/24").unwrap();
        assert_eq!(
            loose.bounds(),
            ("192.0.2.0".parse().unwrap(), "192.0.2.255".parse().unwrap())
        );
        assert!(AddrMatch::parse("192.0.2.9-192.0.2.1").is_err());
        assert!(AddrMatch::parse("192.0.2.0/33").is_err());
    }

    #[test]
    fn ports_icmp_and_flags() {
        let p = PortSet::parse("80,443,8000-8080").unwrap();
        assert!(p.contains(443) && p.contains(8080) && !p.contains(8081));
        assert_eq!(p.to_string(), "80,443,8000-8080");
        assert!(PortSet::parse("70000").is_err());
        let i = IcmpOptions::parse("3:4").unwrap();
        assert!(i.contains(3, 4) && !i.contains(3, 3));
        let t = IcmpOptions::parse("8").unwrap();
        assert!(t.contains(8, 0) && t.contains(8, 9));
        assert_eq!(t.to_string(), "8");
        let f = TcpFlagsMatch::parse("syn,!ack", false).unwrap();
        assert!(f.matches(0x02) && !f.matches(0x12));
        let neg = TcpFlagsMatch::parse("syn", true).unwrap();
        assert!(neg.matches(0x10) && !neg.matches(0x02));
        assert!(TcpFlagsMatch::parse("sin", false).is_err());
        assert_eq!(f.to_string(), "syn,!ack");
        assert_eq!(neg.to_string(), "!syn");
    }

    #[test]
    fn protocols_by_name_and_number() {
        assert_eq!(parse_protocol("tcp"), Ok(6));
        assert_eq!(parse_protocol("47"), Ok(47));
        assert!(parse_protocol("256").is_err());
        assert_eq!(protocol_text(6), "tcp");
        assert_eq!(protocol_text(41), "ipv6-encap");
        assert_eq!(protocol_text(253), "253");
        // The schema's list of names and this table are the same names.
        let mut ours: Vec<&str> = PROTOCOL_NUMBERS.iter().map(|(n, _)| *n).collect();
        ours.sort_unstable();
        assert_eq!(ours, crate::rsc::shape::PROTOCOLS);
    }

    #[test]
    fn normalized_addresses_lose_host_bits() {
        let a = AddrMatch::parse("192.0.2.77/24").unwrap().normalized();
        assert_eq!(a.to_string(), "192.0.2.0/24");
        let host = AddrMatch::parse("192.0.2.77").unwrap();
        assert_eq!(host.normalized(), host);
    }
}
