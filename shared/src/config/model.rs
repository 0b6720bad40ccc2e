//! The router's configuration as typed values: what the `.rsc` script means once every line has
//! been checked. The dataplane compiles these into its tables; the dashboard shows them.
//!
//! Interfaces are kept by name: the script names RouterOS interfaces (`ether1`, `bridge`), the
//! host has its own, and only the dataplane knows which exist right now. A rule naming an
//! interface that is not there is kept and marked invalid, as RouterOS does (flag `I`).

use super::values::{AddrMatch, IcmpOptions, PortRange, PortSet, TcpFlagsMatch};
use crate::duration::Duration;
use crate::tracking::TrackingSettings;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// The whole configuration of one router.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouterConfig {
    pub interface_lists: Vec<InterfaceList>,
    pub list_members: Vec<ListMember>,
    pub addresses: Vec<IpAddress>,
    pub routes: Vec<Route>,
    pub arp: Vec<StaticArp>,
    pub tracking: TrackingSettings,
    pub filter: Vec<Rule>,
    pub nat: Vec<Rule>,
    pub address_lists: Vec<AddressListEntry>,
    pub ip_settings: IpSettings,
}

impl RouterConfig {
    /// The ports the configuration names (addresses, list members, static neighbours, routes
    /// through an interface), in the order it names them, without interface lists. These are
    /// the ports the router opens.
    pub fn interface_names(&self) -> Vec<String> {
        let named = self
            .addresses
            .iter()
            .map(|a| a.interface.as_str())
            .chain(self.list_members.iter().map(|m| m.interface.as_str()))
            .chain(self.arp.iter().map(|a| a.interface.as_str()))
            .chain(self.routes.iter().filter_map(|r| match &r.gateway {
                Gateway::AddressOn(_, i) | Gateway::Interface(i) => Some(i.as_str()),
                Gateway::Address(_) => None,
            }));
        let mut names: Vec<String> = Vec::new();
        for n in named {
            // A list member may name another list rather than a port.
            let is_list = self.interface_lists.iter().any(|l| l.name == n);
            if !is_list && !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
        names
    }
}

/// `/interface list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceList {
    pub id: u32,
    pub name: String,
    pub comment: Option<String>,
}

/// `/interface list member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMember {
    pub id: u32,
    pub list: String,
    pub interface: String,
    pub disabled: bool,
    pub comment: Option<String>,
}

/// `/ip address`: `address=192.0.2.1/24 interface=ether2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpAddress {
    pub id: u32,
    pub address: Ipv4Addr,
    pub prefix_len: u8,
    pub interface: String,
    pub disabled: bool,
    pub comment: Option<String>,
}

impl IpAddress {
    /// The connected network (`network=` in RouterOS, derived unless given).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & prefix_mask(self.prefix_len))
    }
}

/// The netmask of a prefix length (`24` → `0xffffff00`).
#[inline]
pub fn prefix_mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

/// `/ip route`: a static route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub id: u32,
    /// `dst-address`, default `0.0.0.0/0`.
    pub dst: Ipv4Addr,
    pub dst_len: u8,
    pub gateway: Gateway,
    /// Default 1 for static routes.
    pub distance: u8,
    pub disabled: bool,
    pub comment: Option<String>,
}

/// Where a route sends its packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gateway {
    /// `gateway=203.0.113.1`, resolved through the connected networks.
    Address(Ipv4Addr),
    /// `gateway=203.0.113.1%ether1`.
    AddressOn(Ipv4Addr, String),
    /// `gateway=ether1`: destinations on the link itself.
    Interface(String),
}

impl Gateway {
    /// `203.0.113.1`, `203.0.113.1%ether1` or an interface name.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some((addr, iface)) = s.split_once('%') {
            let addr = addr
                .parse()
                .map_err(|_| format!("\"{addr}\" is not an IPv4 address"))?;
            if iface.is_empty() {
                return Err(format!("gateway {s} names no interface after %"));
            }
            return Ok(Gateway::AddressOn(addr, iface.to_string()));
        }
        if let Ok(addr) = s.parse() {
            return Ok(Gateway::Address(addr));
        }
        if s.is_empty() || s.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(format!(
                "\"{s}\" is neither an IPv4 address nor an interface name"
            ));
        }
        Ok(Gateway::Interface(s.to_string()))
    }
}

impl std::fmt::Display for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gateway::Address(a) => write!(f, "{a}"),
            Gateway::AddressOn(a, iface) => write!(f, "{a}%{iface}"),
            Gateway::Interface(iface) => f.write_str(iface),
        }
    }
}

/// `/ip arp`: a static neighbour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticArp {
    pub id: u32,
    pub address: Ipv4Addr,
    pub mac: [u8; 6],
    pub interface: String,
    pub disabled: bool,
    pub comment: Option<String>,
}

/// `/ip firewall address-list` (static entries; dynamic ones live in the dataplane).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressListEntry {
    pub id: u32,
    pub list: String,
    /// A DNS name (RouterOS resolves it) is kept as `AddressListTarget::Name` and never matches
    /// until resolved.
    pub address: AddressListTarget,
    pub timeout: Option<Duration>,
    pub disabled: bool,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressListTarget {
    Addr(AddrMatch),
    Name(String),
}

/// `/ip settings`: the properties the dataplane uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpSettings {
    /// `ip-forward`, default yes.
    pub ip_forward: bool,
    /// `tcp-syncookies`, default no.
    pub tcp_syncookies: bool,
    /// `arp-timeout`, default 30s.
    pub arp_timeout: Duration,
    /// `icmp-rate-limit` in ms between ICMP errors, default 10.
    pub icmp_rate_limit: u32,
    /// The other `/ip settings` properties (`rp-filter`, `send-redirects`, …), which statewall
    /// accepts but does not act on: name → value as RouterOS prints it, only those that differ
    /// from RouterOS's default. Kept so that an export gives back what an import was given.
    pub other: BTreeMap<String, String>,
}

impl Default for IpSettings {
    fn default() -> Self {
        IpSettings {
            ip_forward: true,
            tcp_syncookies: false,
            arp_timeout: Duration::from_secs(30),
            icmp_rate_limit: 10,
            other: BTreeMap::new(),
        }
    }
}

/// A `/ip firewall filter` or `/ip firewall nat` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// RouterOS's internal id (`*A` is 10); stable across edits, so counters follow the rule.
    pub id: u32,
    pub chain: String,
    pub action: Action,
    pub matchers: Matchers,
    pub disabled: bool,
    /// `log=yes`: a log line for every packet the rule matches (rate-limited by the dataplane).
    pub log: bool,
    pub log_prefix: String,
    pub comment: Option<String>,
}

/// A matcher's value, possibly negated with `!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neg<T> {
    pub value: T,
    pub negated: bool,
}

impl<T> Neg<T> {
    pub fn is(value: T) -> Self {
        Neg {
            value,
            negated: false,
        }
    }

    pub fn not(value: T) -> Self {
        Neg {
            value,
            negated: true,
        }
    }

    /// `positive` is whether the un-negated matcher matches.
    pub fn test(&self, positive: bool) -> bool {
        positive != self.negated
    }
}

/// Connection states (`connection-state=established,related`) as a bit set.
pub mod conn_state {
    pub const NEW: u8 = 1 << 0;
    pub const ESTABLISHED: u8 = 1 << 1;
    pub const RELATED: u8 = 1 << 2;
    pub const INVALID: u8 = 1 << 3;
    pub const UNTRACKED: u8 = 1 << 4;
}

/// Connection NAT states (`connection-nat-state=srcnat,dstnat`) as a bit set.
pub mod nat_state {
    pub const SRCNAT: u8 = 1 << 0;
    pub const DSTNAT: u8 = 1 << 1;
}

/// `ipsec-policy=in,none`: statewall has no IPsec, so `ipsec` never matches and `none` always does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpsecPolicy {
    pub outgoing: bool,
    pub ipsec: bool,
}

/// Every matcher a rule may carry; `None` matches anything. A rule matches when all its matchers do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Matchers {
    pub protocol: Option<Neg<u8>>,
    pub src_address: Option<Neg<AddrMatch>>,
    pub dst_address: Option<Neg<AddrMatch>>,
    pub src_port: Option<Neg<PortSet>>,
    pub dst_port: Option<Neg<PortSet>>,
    /// `port=`: source or destination.
    pub port: Option<Neg<PortSet>>,
    pub in_interface: Option<Neg<String>>,
    pub out_interface: Option<Neg<String>>,
    pub in_interface_list: Option<Neg<String>>,
    pub out_interface_list: Option<Neg<String>>,
    pub src_address_list: Option<Neg<String>>,
    pub dst_address_list: Option<Neg<String>>,
    /// Bits of [`conn_state`].
    pub connection_state: Option<Neg<u8>>,
    /// Bits of [`nat_state`].
    pub connection_nat_state: Option<Neg<u8>>,
    pub tcp_flags: Option<TcpFlagsMatch>,
    pub icmp_options: Option<Neg<IcmpOptions>>,
    pub ipsec_policy: Option<IpsecPolicy>,
}

/// What a rule does when it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Accept,
    Drop,
    Reject(RejectWith),
    /// Writes a log line and goes on with the next rule.
    Log,
    /// Counts and goes on with the next rule.
    Passthrough,
    Jump(String),
    Return,
    AddSrcToAddressList(AddressListAdd),
    AddDstToAddressList(AddressListAdd),
    /// RouterOS's fast path; statewall has none, so the packet is accepted.
    FasttrackConnection,
    /// Source NAT to the out-interface's address (`to-ports` optional).
    Masquerade {
        to_ports: Option<PortRange>,
    },
    SrcNat {
        to_addresses: Option<AddrRange>,
        to_ports: Option<PortRange>,
    },
    DstNat {
        to_addresses: Option<AddrRange>,
        to_ports: Option<PortRange>,
    },
    /// Destination NAT to the router itself (the in-interface's address).
    Redirect {
        to_ports: Option<PortRange>,
    },
}

impl Action {
    /// The action's name as RouterOS writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Drop => "drop",
            Action::Reject(_) => "reject",
            Action::Log => "log",
            Action::Passthrough => "passthrough",
            Action::Jump(_) => "jump",
            Action::Return => "return",
            Action::AddSrcToAddressList(_) => "add-src-to-address-list",
            Action::AddDstToAddressList(_) => "add-dst-to-address-list",
            Action::FasttrackConnection => "fasttrack-connection",
            Action::Masquerade { .. } => "masquerade",
            Action::SrcNat { .. } => "src-nat",
            Action::DstNat { .. } => "dst-nat",
            Action::Redirect { .. } => "redirect",
        }
    }

    /// Whether the rule ends evaluation of the packet (in its table) when it matches.
    pub fn is_terminal(&self) -> bool {
        !matches!(
            self,
            Action::Log
                | Action::Passthrough
                | Action::Jump(_)
                | Action::AddSrcToAddressList(_)
                | Action::AddDstToAddressList(_)
        )
    }
}

/// `address-list=` and `address-list-timeout=` of the add-…-to-address-list actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressListAdd {
    pub list: String,
    /// `None` is `none-dynamic` (RouterOS default): kept until reboot. `none-static` is refused
    /// by statewall for now, as it would change the saved configuration from the packet path.
    pub timeout: Option<Duration>,
}

/// An inclusive address range (`to-addresses=203.0.113.5-203.0.113.9`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    pub first: Ipv4Addr,
    pub last: Ipv4Addr,
}

/// `reject-with=`; RouterOS's default is `icmp-network-unreachable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RejectWith {
    IcmpAdminProhibited,
    IcmpHostProhibited,
    IcmpHostUnreachable,
    IcmpNetProhibited,
    #[default]
    IcmpNetworkUnreachable,
    IcmpPortUnreachable,
    IcmpProtocolUnreachable,
    TcpReset,
}

impl RejectWith {
    /// The ICMP destination-unreachable code, or `None` for `tcp-reset`.
    pub fn icmp_code(self) -> Option<u8> {
        Some(match self {
            RejectWith::IcmpNetworkUnreachable => 0,
            RejectWith::IcmpHostUnreachable => 1,
            RejectWith::IcmpProtocolUnreachable => 2,
            RejectWith::IcmpPortUnreachable => 3,
            RejectWith::IcmpNetProhibited => 9,
            RejectWith::IcmpHostProhibited => 10,
            RejectWith::IcmpAdminProhibited => 13,
            RejectWith::TcpReset => return None,
        })
    }
}
