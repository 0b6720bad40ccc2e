//! The filter and NAT rule tables: RouterOS chains compiled for the packet path.
//!
//! # Layout
//! - [`compile`]: `/ip firewall filter` and `nat` rules to [`Ruleset`] tables:
//!   names resolved to indices, invalid rules (flag `I`) and jump loops marked, counters carried.
//! - [`matcher`]: one packet's facts, read once, and the compiled matchers that test them.
//! - [`eval`]: walking a chain: jump, return, fall-through, actions, counters.
//! - [`address_list`]: `/ip firewall address-list`, static entries and the dynamic ones rules add.
//! - [`log`]: RouterOS firewall log lines and their rate limit.
//!
//! Two halves, as the packet path needs them. A [`Ruleset`] is immutable once compiled (its
//! counters are atomics), so the management thread reads it through an `Arc` while the dataplane
//! runs; a rule change compiles a new one and swaps the `Arc` between two packets, so a packet sees
//! the old rules or the new ones, never a mix. [`FirewallState`] is what the rules change at run
//! time (dynamic address-list entries, pending log lines); the dataplane thread owns it.
//!
//! Bounds per packet: one pass over the rules reached (each rule tests at most its own matchers,
//! an address-list matcher is one hash probe plus a scan of that list's prefixes and ranges), at
//! most [`MAX_JUMP_DEPTH`] nested jumps, and for each matching rule with logging one formatted
//! line. Nothing else allocates: adding to an address list inserts one entry.

pub mod address_list;
pub mod compile;
pub mod eval;
pub mod log;
pub mod matcher;
mod state;

#[cfg(test)]
mod tests;

use crate::conntrack::CtState;
use crate::iface::IfIndex;
use crate::time::Instant;
use crate::wire::Ipv4Meta;
use compile::Table;
use shared::config::{AddrRange, PortRange, RejectWith};

pub use address_list::AddressListView;
pub use log::LogLine;
pub use state::FirewallState;

/// Nested jumps one packet may take; a deeper jump is not taken (the rule is counted and the
/// walk goes on with the next rule). Compiling already refuses jump loops, so only a very deep
/// but finite chain graph can reach this.
pub const MAX_JUMP_DEPTH: usize = 16;

/// One packet as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct PacketView<'a> {
    /// Current addresses and ports (after any DNAT already applied).
    pub ip: &'a Ipv4Meta,
    /// `None` in the output chain.
    pub in_iface: Option<IfIndex>,
    /// `None` in the input chain and in dstnat.
    pub out_iface: Option<IfIndex>,
    pub ct_state: CtState,
    /// [`shared::config::nat_state`] bits of the packet's connection.
    pub nat_state: u8,
    /// Only for log lines.
    pub src_mac: Option<[u8; 6]>,
}

/// The filter table's base chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    Input,
    Forward,
    Output,
}

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
        }
    }
}

/// The NAT table's base chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NatHook {
    Dstnat,
    Srcnat,
}

impl NatHook {
    pub fn as_str(self) -> &'static str {
        match self {
            NatHook::Dstnat => "dstnat",
            NatHook::Srcnat => "srcnat",
        }
    }
}

/// What the filter decided. The pipeline builds the ICMP error or TCP reset of a reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterVerdict {
    Accept,
    Drop,
    Reject(RejectWith),
}

/// The translation a NAT rule asks for; the NAT module picks the concrete tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatTarget {
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
    Redirect {
        to_ports: Option<PortRange>,
    },
}

impl NatTarget {
    /// The base chain the action belongs to (masquerade and src-nat in srcnat, dst-nat and
    /// redirect in dstnat).
    pub fn hook(&self) -> NatHook {
        match self {
            NatTarget::Masquerade { .. } | NatTarget::SrcNat { .. } => NatHook::Srcnat,
            NatTarget::DstNat { .. } | NatTarget::Redirect { .. } => NatHook::Dstnat,
        }
    }
}

/// `/ip firewall filter` or `/ip firewall nat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKind {
    Filter,
    Nat,
}

/// One rule's counters and validity, as `print stats` and the dashboard show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStats {
    pub table: TableKind,
    pub id: u32,
    pub packets: u64,
    pub bytes: u64,
    /// Why the rule is invalid (RouterOS flag `I`); `None` for a valid rule.
    pub invalid: Option<String>,
}

/// The compiled filter and NAT tables. Immutable but for its counters; share it as
/// `Arc<Ruleset>` and replace the `Arc` to change rules.
#[derive(Debug)]
pub struct Ruleset {
    /// Tells a [`FirewallState`] when its address-list binding is stale.
    serial: u64,
    filter: Table,
    nat: Table,
    /// Address lists the rules name, by the index the compiled matchers and actions use.
    lists: Vec<String>,
    /// Port names, for log lines.
    if_names: Vec<String>,
}

impl Ruleset {
    /// The verdict of the filter table's `hook` chain for one packet.
    pub fn filter(
        &self,
        st: &mut FirewallState,
        now: Instant,
        hook: Hook,
        pkt: &PacketView,
    ) -> FilterVerdict {
        let base = match hook {
            Hook::Input => compile::INPUT,
            Hook::Forward => compile::FORWARD,
            Hook::Output => compile::OUTPUT,
        };
        match eval::walk(self, &self.filter, base, hook.as_str(), None, st, now, pkt) {
            Some(eval::Terminal::Drop) => FilterVerdict::Drop,
            Some(eval::Terminal::Reject(w)) => FilterVerdict::Reject(w),
            Some(eval::Terminal::Accept | eval::Terminal::Nat(_)) | None => FilterVerdict::Accept,
        }
    }

    /// The translation the NAT table's `hook` chain asks for; `None` when the chain falls
    /// through or a rule accepts (no NAT).
    pub fn nat(
        &self,
        st: &mut FirewallState,
        now: Instant,
        hook: NatHook,
        pkt: &PacketView,
    ) -> Option<NatTarget> {
        let base = match hook {
            NatHook::Dstnat => compile::DSTNAT,
            NatHook::Srcnat => compile::SRCNAT,
        };
        match eval::walk(
            self,
            &self.nat,
            base,
            hook.as_str(),
            Some(hook),
            st,
            now,
            pkt,
        ) {
            Some(eval::Terminal::Nat(t)) => Some(t),
            _ => None,
        }
    }

    /// Every rule's counters, filter rules first, each table in configuration order.
    pub fn stats(&self) -> Vec<RuleStats> {
        [
            (TableKind::Filter, &self.filter),
            (TableKind::Nat, &self.nat),
        ]
        .into_iter()
        .flat_map(|(kind, t)| {
            t.rules.iter().map(move |r| {
                let (packets, bytes) = r.counters.read();
                RuleStats {
                    table: kind,
                    id: r.id,
                    packets,
                    bytes,
                    invalid: r.invalid.clone(),
                }
            })
        })
        .collect()
    }

    /// `reset-counters <id>` (`Some`) or `reset-counters-all` (`None`) in one table.
    pub fn reset_counters(&self, table: TableKind, id: Option<u32>) {
        let t = match table {
            TableKind::Filter => &self.filter,
            TableKind::Nat => &self.nat,
        };
        for r in t.rules.iter().filter(|r| id.is_none_or(|id| r.id == id)) {
            r.counters.reset();
        }
    }
}
