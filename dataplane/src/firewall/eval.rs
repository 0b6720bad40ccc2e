//! Walking a chain, as netfilter's `ipt_do_table` does: rules in order, a jump pushes the
//! place to come back to, `return` or the end of a user chain pops it, the end of a base chain
//! is the table's default (accept, or no NAT).
//!
//! Every matching rule is counted (one packet, the IPv4 total length in bytes), whatever its
//! action, and logged if it has `log=yes` or is `action=log`. A NAT action in a user chain that
//! was reached from the other NAT base chain (masquerade reached from dstnat) cannot apply and
//! goes on like passthrough.

use super::compile::{Act, ChainId, Table};
use super::log::format_line;
use super::matcher::Facts;
use super::{FirewallState, NatHook, NatTarget, PacketView, Ruleset, MAX_JUMP_DEPTH};
use crate::time::Instant;
use shared::config::RejectWith;

/// How a walk ended before falling off its base chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    Accept,
    Drop,
    Reject(RejectWith),
    Nat(NatTarget),
}

/// Runs `table` from `base` for one packet; `None` when the packet falls off the base chain.
/// `label` names the base chain in log lines; `nat_hook` is set for the NAT table.
#[allow(clippy::too_many_arguments)]
pub fn walk(
    rs: &Ruleset,
    table: &Table,
    base: ChainId,
    label: &'static str,
    nat_hook: Option<NatHook>,
    st: &mut FirewallState,
    now: Instant,
    pkt: &PacketView,
) -> Option<Terminal> {
    st.prepare(rs, now);
    if table
        .chains
        .get(usize::from(base))
        .is_none_or(|c| c.entries.is_empty())
    {
        return None;
    }
    let facts = Facts::new(pkt);
    let mut stack = [(0 as ChainId, 0u32); MAX_JUMP_DEPTH];
    let mut depth = 0;
    let (mut chain, mut pos) = (base, 0usize);
    loop {
        let (entries, matches) = table
            .chains
            .get(usize::from(chain))
            .map_or((&[][..], &[][..]), |c| (&c.entries[..], &c.matches[..]));
        let probe = st.probe(now);
        let rest = entries.get(pos..).unwrap_or(&[]);
        let hit = rest.iter().position(|e| {
            matches
                .get(e.first as usize..(e.first + e.len) as usize)
                .unwrap_or(&[])
                .iter()
                .all(|m| m.test(&facts, &table.ports, &probe))
        });
        let Some(offset) = hit else {
            // The end of a chain: back to the jump, or off the base chain.
            if depth == 0 {
                return None;
            }
            depth -= 1;
            (chain, pos) = (stack[depth].0, stack[depth].1 as usize);
            continue;
        };
        let e = rest[offset];
        pos += offset + 1;
        let Some(rule) = table.rules.get(e.rule as usize) else {
            continue;
        };
        rule.counters.count(u64::from(pkt.ip.total_len));
        if rule.log {
            st.logger().log(now, || {
                format_line(&rule.log_prefix, label, pkt, rs.if_names())
            });
        }
        match rule.act {
            Act::Accept => return Some(Terminal::Accept),
            Act::Drop => return Some(Terminal::Drop),
            Act::Reject(w) => return Some(Terminal::Reject(w)),
            Act::Log | Act::Passthrough => {}
            Act::AddSrc { list, timeout } => st.add_to_list(list, facts.src, now, timeout),
            Act::AddDst { list, timeout } => st.add_to_list(list, facts.dst, now, timeout),
            Act::Jump(target) => {
                if depth < MAX_JUMP_DEPTH {
                    stack[depth] = (chain, pos as u32);
                    depth += 1;
                    (chain, pos) = (target, 0);
                }
            }
            Act::Return => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
                (chain, pos) = (stack[depth].0, stack[depth].1 as usize);
            }
            Act::Nat(t) => {
                if nat_hook.is_none_or(|h| h == t.hook()) {
                    return Some(Terminal::Nat(t));
                }
            }
        }
    }
}
