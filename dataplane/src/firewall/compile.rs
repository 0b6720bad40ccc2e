//! Configuration rules to packet-path tables.
//!
//! Everything by name is resolved here, once: interfaces and interface lists to bit masks, chains
//! and address lists to indices. A rule that names something missing is kept but marked invalid
//! with a reason and left out of its chain, as RouterOS shows it with flag `I`. Jump loops are
//! refused the way RouterOS refuses them when a rule is added: jump rules are taken in
//! configuration order, and a jump that would close a loop is the one marked invalid.
//!
//! Counters live in one `Arc` per rule id, shared by the old and the new ruleset, so a packet
//! counted by the old ruleset while the new one is being swapped in is not lost.

use super::matcher::{self, Match};
use super::{NatHook, NatTarget, Ruleset};
use crate::iface::Interfaces;
use hashbrown::HashMap;
use shared::config::{Action, PortRange, RejectWith, RouterConfig, Rule};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// A chain's position in [`Table::chains`].
pub type ChainId = u16;

pub const INPUT: ChainId = 0;
pub const FORWARD: ChainId = 1;
pub const OUTPUT: ChainId = 2;
pub const DSTNAT: ChainId = 0;
pub const SRCNAT: ChainId = 1;

const FILTER_BASE: &[&str] = &["input", "forward", "output"];
const NAT_BASE: &[&str] = &["dstnat", "srcnat"];

/// A rule's packet and byte counters (`print stats`).
///
/// Only the dataplane thread counts, so counting is a plain load and store (no locked
/// read-modify-write on the packet path); the management side reads them, and resets by moving
/// a baseline it alone writes, so a reset never races with counting.
#[derive(Debug, Default)]
pub struct Counters {
    packets: AtomicU64,
    bytes: AtomicU64,
    base_packets: AtomicU64,
    base_bytes: AtomicU64,
}

impl Counters {
    /// Counts one packet of `bytes` (the dataplane thread only).
    #[inline]
    pub fn count(&self, bytes: u64) {
        self.packets
            .store(self.packets.load(Relaxed).wrapping_add(1), Relaxed);
        self.bytes
            .store(self.bytes.load(Relaxed).wrapping_add(bytes), Relaxed);
    }

    /// Packets and bytes since the last reset.
    pub fn read(&self) -> (u64, u64) {
        (
            self.packets
                .load(Relaxed)
                .wrapping_sub(self.base_packets.load(Relaxed)),
            self.bytes
                .load(Relaxed)
                .wrapping_sub(self.base_bytes.load(Relaxed)),
        )
    }

    /// Starts counting from zero again (`reset-counters`).
    pub fn reset(&self) {
        self.base_packets.store(self.packets.load(Relaxed), Relaxed);
        self.base_bytes.store(self.bytes.load(Relaxed), Relaxed);
    }
}

/// What a matching rule does, with every name resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Accept,
    Drop,
    Reject(RejectWith),
    Log,
    Passthrough,
    Jump(ChainId),
    Return,
    AddSrc {
        list: u16,
        timeout: Option<std::time::Duration>,
    },
    AddDst {
        list: u16,
        timeout: Option<std::time::Duration>,
    },
    Nat(NatTarget),
}

/// A rule as compiled: its action and everything `print stats` shows.
#[derive(Debug)]
pub struct CompiledRule {
    pub id: u32,
    pub act: Act,
    /// `log=yes`, or `action=log`: one line per matching packet.
    pub log: bool,
    pub log_prefix: String,
    pub invalid: Option<String>,
    pub counters: Arc<Counters>,
}

/// A rule in its chain: the range of its matchers in [`Chain::matches`] and its index in
/// [`Table::rules`]. Kept small, as the packet path walks these.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub first: u32,
    pub len: u32,
    pub rule: u32,
}

/// The runnable rules of one chain, with their matchers side by side in walk order.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    pub entries: Vec<Entry>,
    pub matches: Vec<Match>,
}

/// One table (filter or nat): rules in configuration order and chains of runnable rules.
#[derive(Debug, Default)]
pub struct Table {
    pub rules: Vec<CompiledRule>,
    /// By [`ChainId`]; the base chains come first.
    pub chains: Vec<Chain>,
    pub chain_names: Vec<String>,
    /// Port sets of more than one range, shared by all chains.
    pub ports: Vec<PortRange>,
}

impl Table {
    pub fn chain(&self, name: &str) -> Option<ChainId> {
        self.chain_names
            .iter()
            .position(|n| n == name)
            .map(|i| i as ChainId)
    }
}

/// Address-list names by the index compiled rules use.
#[derive(Debug, Default)]
pub struct ListNames {
    names: Vec<String>,
    index: HashMap<String, u16>,
}

impl ListNames {
    pub fn intern(&mut self, name: &str) -> Result<u16, String> {
        if let Some(&i) = self.index.get(name) {
            return Ok(i);
        }
        let i = u16::try_from(self.names.len())
            .map_err(|_| "more address lists than statewall supports".to_string())?;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        Ok(i)
    }
}

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

impl Ruleset {
    /// Compiles the configuration's filter and NAT rules.
    ///
    /// `ifaces` must carry the configuration's interface lists
    /// ([`Interfaces::with_lists`]). With `previous`, rules keep their counters by id.
    pub fn compile(cfg: &RouterConfig, ifaces: &Interfaces, previous: Option<&Ruleset>) -> Ruleset {
        let mut lists = ListNames::default();
        let filter = compile_table(
            &cfg.filter,
            FILTER_BASE,
            ifaces,
            &mut lists,
            previous.map(|p| &p.filter),
        );
        let nat = compile_table(
            &cfg.nat,
            NAT_BASE,
            ifaces,
            &mut lists,
            previous.map(|p| &p.nat),
        );
        Ruleset {
            serial: NEXT_SERIAL.fetch_add(1, Relaxed),
            filter,
            nat,
            lists: lists.names,
            if_names: ifaces.names().map(str::to_string).collect(),
        }
    }

    pub(super) fn serial(&self) -> u64 {
        self.serial
    }

    pub(super) fn list_names(&self) -> &[String] {
        &self.lists
    }

    pub(super) fn if_names(&self) -> &[String] {
        &self.if_names
    }
}

fn compile_table(
    rules: &[Rule],
    base: &[&str],
    ifaces: &Interfaces,
    lists: &mut ListNames,
    previous: Option<&Table>,
) -> Table {
    let mut t = Table {
        chain_names: base.iter().map(|s| s.to_string()).collect(),
        ..Table::default()
    };
    for r in rules {
        if t.chain(&r.chain).is_none() {
            t.chain_names.push(r.chain.clone());
        }
    }
    t.chains = vec![Chain::default(); t.chain_names.len()];
    let carried: HashMap<u32, Arc<Counters>> = previous
        .map(|p| {
            p.rules
                .iter()
                .map(|r| (r.id, Arc::clone(&r.counters)))
                .collect()
        })
        .unwrap_or_default();
    let is_nat = base == NAT_BASE;

    let mut compiled = Vec::with_capacity(rules.len());
    for r in rules {
        let mut matches = Vec::new();
        let mut invalid =
            matcher::compile(&r.matchers, ifaces, lists, &mut matches, &mut t.ports).err();
        let act = match compile_action(r, &t, is_nat, lists) {
            Ok(a) => a,
            Err(e) => {
                invalid.get_or_insert(e);
                Act::Passthrough
            }
        };
        compiled.push(matches);
        t.rules.push(CompiledRule {
            id: r.id,
            act,
            log: r.log || act == Act::Log,
            log_prefix: r.log_prefix.clone(),
            invalid,
            counters: carried.get(&r.id).cloned().unwrap_or_default(),
        });
    }

    refuse_jump_loops(rules, &mut t);

    for (i, (r, matches)) in rules.iter().zip(&compiled).enumerate() {
        let never = matches.iter().any(|m| matches!(m, Match::Never));
        if r.disabled || t.rules[i].invalid.is_some() || never {
            continue;
        }
        let id = t.chain(&r.chain).unwrap_or(0);
        let chain = &mut t.chains[usize::from(id)];
        chain.entries.push(Entry {
            first: chain.matches.len() as u32,
            len: matches.len() as u32,
            rule: i as u32,
        });
        chain.matches.extend_from_slice(matches);
    }
    t
}

fn compile_action(r: &Rule, t: &Table, is_nat: bool, lists: &mut ListNames) -> Result<Act, String> {
    let table = if is_nat { "nat" } else { "filter" };
    let wrong_table = || {
        format!(
            "action {} is not valid in /ip firewall {table}",
            &r.action.name()
        )
    };
    let nat = |target: NatTarget| {
        if !is_nat {
            return Err(wrong_table());
        }
        // A NAT action in the other base chain can never apply; in a user chain it applies
        // when the chain is reached from the right base chain (checked per packet).
        let other = match target.hook() {
            NatHook::Srcnat => "dstnat",
            NatHook::Dstnat => "srcnat",
        };
        if r.chain == other {
            return Err(format!(
                "action {} is only valid in the {} chain",
                &r.action.name(),
                target.hook().as_str()
            ));
        }
        Ok(Act::Nat(target))
    };
    Ok(match &r.action {
        Action::Accept => Act::Accept,
        Action::FasttrackConnection if !is_nat => Act::Accept,
        Action::Drop if !is_nat => Act::Drop,
        Action::Reject(w) if !is_nat => Act::Reject(*w),
        Action::FasttrackConnection | Action::Drop | Action::Reject(_) => return Err(wrong_table()),
        Action::Log => Act::Log,
        Action::Passthrough => Act::Passthrough,
        Action::Return => Act::Return,
        Action::Jump(target) => match t.chain(target) {
            Some(c) if !target.is_empty() => Act::Jump(c),
            _ => return Err(format!("unknown jump target \"{target}\"")),
        },
        Action::AddSrcToAddressList(a) => Act::AddSrc {
            list: lists.intern(&a.list)?,
            timeout: a.timeout.map(|d| d.to_std()),
        },
        Action::AddDstToAddressList(a) => Act::AddDst {
            list: lists.intern(&a.list)?,
            timeout: a.timeout.map(|d| d.to_std()),
        },
        Action::Masquerade { to_ports } => nat(NatTarget::Masquerade {
            to_ports: *to_ports,
        })?,
        Action::SrcNat {
            to_addresses,
            to_ports,
        } => nat(NatTarget::SrcNat {
            to_addresses: *to_addresses,
            to_ports: *to_ports,
        })?,
        Action::DstNat {
            to_addresses,
            to_ports,
        } => nat(NatTarget::DstNat {
            to_addresses: *to_addresses,
            to_ports: *to_ports,
        })?,
        Action::Redirect { to_ports } => nat(NatTarget::Redirect {
            to_ports: *to_ports,
        })?,
    })
}

/// Marks invalid each enabled jump that would close a loop, in configuration order (so the
/// rule RouterOS would have refused to add is the one marked).
fn refuse_jump_loops(rules: &[Rule], t: &mut Table) {
    let mut edges: Vec<Vec<ChainId>> = vec![Vec::new(); t.chain_names.len()];
    for (i, r) in rules.iter().enumerate() {
        let Act::Jump(to) = t.rules[i].act else {
            continue;
        };
        if r.disabled || t.rules[i].invalid.is_some() {
            continue;
        }
        let from = t.chain(&r.chain).unwrap_or(0);
        if reaches(&edges, to, from) {
            t.rules[i].invalid = Some(format!(
                "jump to \"{}\" makes a loop back to \"{}\"",
                t.chain_names[usize::from(to)],
                r.chain
            ));
        } else {
            edges[usize::from(from)].push(to);
        }
    }
}

/// Whether `to` can be reached from `from` (or is `from`).
fn reaches(edges: &[Vec<ChainId>], from: ChainId, to: ChainId) -> bool {
    let mut seen = vec![false; edges.len()];
    let mut todo = vec![from];
    while let Some(c) = todo.pop() {
        if c == to {
            return true;
        }
        if std::mem::replace(&mut seen[usize::from(c)], true) {
            continue;
        }
        todo.extend_from_slice(&edges[usize::from(c)]);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firewall::tests::{ifaces, rule};
    use shared::config::Neg;

    fn filter(rules: Vec<Rule>) -> RouterConfig {
        RouterConfig {
            filter: rules,
            ..RouterConfig::default()
        }
    }

    #[test]
    fn chains_are_base_first_then_in_order_of_appearance() {
        let cfg = filter(vec![
            rule(1, "mine", Action::Accept),
            rule(2, "forward", Action::Jump("mine".into())),
            rule(3, "other", Action::Drop),
        ]);
        let rs = Ruleset::compile(&cfg, &ifaces(), None);
        assert_eq!(
            rs.filter.chain_names,
            ["input", "forward", "output", "mine", "other"]
        );
        assert_eq!(rs.filter.chains[usize::from(FORWARD)].entries.len(), 1);
        assert_eq!(rs.nat.chain_names, ["dstnat", "srcnat"]);
    }

    #[test]
    fn loops_are_refused_at_the_rule_that_closes_them() {
        let cfg = filter(vec![
            rule(1, "forward", Action::Jump("a".into())),
            rule(2, "a", Action::Jump("b".into())),
            rule(3, "b", Action::Jump("a".into())),
            rule(4, "b", Action::Jump("b".into())),
            rule(5, "b", Action::Jump("forward".into())),
            rule(6, "a", Action::Accept),
        ]);
        let rs = Ruleset::compile(&cfg, &ifaces(), None);
        let invalid: Vec<(u32, Option<String>)> =
            rs.stats().into_iter().map(|s| (s.id, s.invalid)).collect();
        assert_eq!(invalid[0], (1, None));
        assert_eq!(invalid[1], (2, None));
        assert_eq!(
            invalid[2],
            (3, Some("jump to \"a\" makes a loop back to \"b\"".into()))
        );
        assert!(invalid[3].1.is_some(), "a jump to its own chain is a loop");
        assert!(invalid[4].1.is_some(), "back to a base chain is a loop");
        assert_eq!(invalid[5], (6, None));
    }

    #[test]
    fn a_disabled_jump_does_not_count_towards_loops() {
        let mut back = rule(1, "a", Action::Jump("forward".into()));
        back.disabled = true;
        let cfg = filter(vec![back, rule(2, "forward", Action::Jump("a".into()))]);
        let rs = Ruleset::compile(&cfg, &ifaces(), None);
        assert!(rs.stats().iter().all(|s| s.invalid.is_none()));
    }

    #[test]
    fn actions_of_the_wrong_table_or_chain_are_invalid() {
        let mut cfg = filter(vec![rule(
            1,
            "forward",
            Action::Masquerade { to_ports: None },
        )]);
        cfg.nat = vec![
            rule(2, "srcnat", Action::Drop),
            rule(
                3,
                "srcnat",
                Action::DstNat {
                    to_addresses: None,
                    to_ports: None,
                },
            ),
            rule(4, "dstnat", Action::Masquerade { to_ports: None }),
            rule(5, "mine", Action::Masquerade { to_ports: None }),
            rule(6, "srcnat", Action::Jump(String::new())),
        ];
        let rs = Ruleset::compile(&cfg, &ifaces(), None);
        let reasons: Vec<Option<String>> = rs.stats().into_iter().map(|s| s.invalid).collect();
        assert_eq!(
            reasons,
            [
                Some("action masquerade is not valid in /ip firewall filter".into()),
                Some("action drop is not valid in /ip firewall nat".into()),
                Some("action dst-nat is only valid in the dstnat chain".into()),
                Some("action masquerade is only valid in the srcnat chain".into()),
                None,
                Some("unknown jump target \"\"".into()),
            ]
        );
    }

    #[test]
    fn never_matching_rules_are_left_out_of_their_chain() {
        let mut r = rule(1, "forward", Action::Accept);
        r.matchers.ipsec_policy = Some(shared::config::IpsecPolicy {
            outgoing: false,
            ipsec: true,
        });
        let mut d = rule(2, "forward", Action::Accept);
        d.disabled = true;
        let mut p = rule(3, "forward", Action::Accept);
        p.matchers.protocol = Some(Neg::is(6));
        let cfg = filter(vec![r, d, p]);
        let rs = Ruleset::compile(&cfg, &ifaces(), None);
        let forward = &rs.filter.chains[usize::from(FORWARD)].entries;
        assert_eq!(forward.len(), 1);
        assert_eq!(forward[0].rule, 2);
    }
}
