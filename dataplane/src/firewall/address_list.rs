//! `/ip firewall address-list`: static entries from the configuration and dynamic entries the
//! `add-src-to-address-list` / `add-dst-to-address-list` actions insert.
//!
//! A list keeps its single addresses in a hash set (one probe per lookup) and its prefixes and
//! ranges in a short vector (scanned). Dynamic entries are single addresses with a deadline (or
//! none: kept until restart); expiry goes in deadline order through an ordered set, never by
//! scanning the lists. Adding an address already in the list refreshes its deadline: the set
//! keeps the first deadline and, when it comes due, requeues the entry at its current one, so a
//! refresh on every packet costs one hash update, not a reordering.
//!
//! Choices where RouterOS is not documented:
//! - A DNS-name entry never matches (statewall resolves no names).
//! - A dynamic add of an address the list holds as a static single address does nothing.
//! - A static entry with `timeout=` (a single address) becomes a dynamic entry whose timeout
//!   starts with the first packet seen after loading; it is started once per entry id, so
//!   reloading the configuration does not restart it. A timed prefix or range stays static.

use crate::time::Instant;
use hashbrown::{HashMap, HashSet};
use shared::config::{AddrMatch, AddressListEntry, AddressListTarget, RouterConfig};
use shared::duration::Duration;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// A list's position in [`AddressLists`]; ids are never reused.
pub type ListId = u32;

/// One entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressListView {
    pub list: String,
    pub address: AddressListTarget,
    /// Added by a rule (RouterOS flag `D`), or a timed entry counting down.
    pub dynamic: bool,
    pub disabled: bool,
    /// Time left; `None` without a timeout.
    pub timeout: Option<Duration>,
    /// The configuration's id of a static entry.
    pub id: Option<u32>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Dynamic {
    deadline: Option<Instant>,
    /// The key this entry has in [`AddressLists::expiry`], if any.
    queued: Option<Instant>,
}

#[derive(Debug, Default)]
struct List {
    name: String,
    hosts: HashSet<u32>,
    /// Inclusive bounds of static prefixes and ranges.
    ranges: Vec<(u32, u32)>,
    dynamic: HashMap<u32, Dynamic>,
}

/// Every address list, by [`ListId`].
#[derive(Debug, Default)]
pub struct AddressLists {
    by_name: HashMap<String, ListId>,
    lists: Vec<List>,
    expiry: BTreeSet<(Instant, ListId, u32)>,
    /// Timed static entries whose timeout starts at the next packet.
    pending: Vec<(ListId, u32, std::time::Duration, u32)>,
    /// Ids of timed static entries already started.
    started: HashSet<u32>,
    statics: Vec<AddressListEntry>,
}

impl AddressLists {
    pub fn new(cfg: &RouterConfig) -> Self {
        let mut s = AddressLists::default();
        s.load(cfg);
        s
    }

    /// Replaces the static entries; dynamic entries stay.
    pub fn load(&mut self, cfg: &RouterConfig) {
        for l in &mut self.lists {
            l.hosts.clear();
            l.ranges.clear();
        }
        self.pending.clear();
        self.started
            .retain(|id| cfg.address_lists.iter().any(|e| e.id == *id));
        for e in cfg.address_lists.iter().filter(|e| !e.disabled) {
            let AddressListTarget::Addr(m) = e.address else {
                continue;
            };
            let list = self.id(&e.list);
            let (lo, hi) = m.bounds();
            let (lo, hi) = (u32::from(lo), u32::from(hi));
            match e.timeout {
                Some(t) if lo == hi => {
                    if !self.started.contains(&e.id) {
                        self.pending.push((list, lo, t.to_std(), e.id));
                    }
                }
                _ => {
                    let l = &mut self.lists[list as usize];
                    if lo == hi {
                        l.hosts.insert(lo);
                    } else {
                        l.ranges.push((lo, hi));
                    }
                }
            }
        }
        self.statics = cfg.address_lists.clone();
    }

    /// The id of list `name`, created empty if new.
    pub fn id(&mut self, name: &str) -> ListId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let id = self.lists.len() as ListId;
        self.lists.push(List {
            name: name.to_string(),
            ..List::default()
        });
        self.by_name.insert(name.to_string(), id);
        id
    }

    /// Ids for a ruleset's list names, in its order.
    pub fn bind(&mut self, names: &[String], out: &mut Vec<ListId>) {
        out.clear();
        for n in names {
            let id = self.id(n);
            out.push(id);
        }
    }

    pub fn contains(&self, list: ListId, addr: u32, now: Instant) -> bool {
        let Some(l) = self.lists.get(list as usize) else {
            return false;
        };
        l.hosts.contains(&addr)
            || l.ranges.iter().any(|&(lo, hi)| lo <= addr && addr <= hi)
            || l.dynamic
                .get(&addr)
                .is_some_and(|d| d.deadline.is_none_or(|t| now < t))
    }

    /// Inserts or refreshes a dynamic entry; `timeout` `None` keeps it until restart.
    pub fn add(
        &mut self,
        list: ListId,
        addr: u32,
        now: Instant,
        timeout: Option<std::time::Duration>,
    ) {
        let Some(l) = self.lists.get_mut(list as usize) else {
            return;
        };
        if l.hosts.contains(&addr) {
            return;
        }
        let deadline = timeout.map(|t| now + t);
        let d = l.dynamic.entry(addr).or_insert(Dynamic {
            deadline,
            queued: None,
        });
        d.deadline = deadline;
        if let Some(t) = deadline {
            // Requeue only when the entry would otherwise be looked at too late.
            if d.queued.is_none_or(|q| t < q) {
                if let Some(q) = d.queued.replace(t) {
                    self.expiry.remove(&(q, list, addr));
                }
                self.expiry.insert((t, list, addr));
            }
        }
    }

    /// Removes entries whose deadline has passed; starts pending timed static entries.
    pub fn expire(&mut self, now: Instant) {
        if !self.pending.is_empty() {
            for (list, addr, timeout, id) in std::mem::take(&mut self.pending) {
                self.started.insert(id);
                self.add(list, addr, now, Some(timeout));
            }
        }
        while let Some(&(due, list, addr)) = self.expiry.first() {
            if due > now {
                break;
            }
            self.expiry.pop_first();
            let Some(l) = self.lists.get_mut(list as usize) else {
                continue;
            };
            let Some(d) = l.dynamic.get_mut(&addr) else {
                continue;
            };
            match d.deadline {
                Some(t) if t > now => {
                    d.queued = Some(t);
                    self.expiry.insert((t, list, addr));
                }
                Some(_) => {
                    l.dynamic.remove(&addr);
                }
                None => d.queued = None,
            }
        }
    }

    /// Timed static entries wait for their first packet.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The earliest time [`expire`](Self::expire) has work to do.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.expiry.first().map(|e| e.0)
    }

    pub fn dynamic_len(&self) -> usize {
        self.lists.iter().map(|l| l.dynamic.len()).sum()
    }

    /// Matching view for one packet: the ruleset's list indices bound to ids.
    pub fn probe<'a>(&'a self, binding: &'a [ListId], now: Instant) -> ListProbe<'a> {
        ListProbe {
            lists: self,
            binding,
            now,
        }
    }

    /// Static entries in configuration order (timed ones while not yet started), then dynamic
    /// entries by list and address.
    pub fn views(&self, now: Instant) -> Vec<AddressListView> {
        let mut out: Vec<AddressListView> = self
            .statics
            .iter()
            .filter(|e| !self.started.contains(&e.id))
            .map(|e| AddressListView {
                list: e.list.clone(),
                address: e.address.clone(),
                dynamic: e.timeout.is_some(),
                disabled: e.disabled,
                timeout: e.timeout,
                id: Some(e.id),
                comment: e.comment.clone(),
            })
            .collect();
        let mut dynamic: Vec<(&str, u32, Option<Instant>)> = self
            .lists
            .iter()
            .flat_map(|l| {
                l.dynamic
                    .iter()
                    .filter(|(_, d)| d.deadline.is_none_or(|t| now < t))
                    .map(|(&a, d)| (l.name.as_str(), a, d.deadline))
            })
            .collect();
        dynamic.sort_unstable();
        out.extend(
            dynamic
                .into_iter()
                .map(|(list, a, deadline)| AddressListView {
                    list: list.to_string(),
                    address: AddressListTarget::Addr(AddrMatch::Prefix {
                        addr: Ipv4Addr::from(a),
                        len: 32,
                    }),
                    dynamic: true,
                    disabled: false,
                    timeout: deadline.map(|t| Duration::from_std(t.saturating_since(now))),
                    id: None,
                    comment: None,
                }),
        );
        out
    }
}

/// Address-list lookups for one packet.
#[derive(Debug, Clone, Copy)]
pub struct ListProbe<'a> {
    lists: &'a AddressLists,
    binding: &'a [ListId],
    now: Instant,
}

impl ListProbe<'_> {
    /// Whether `addr` is in the ruleset's list number `list`.
    #[inline]
    pub fn contains(&self, list: u16, addr: u32) -> bool {
        self.binding
            .get(usize::from(list))
            .is_some_and(|&id| self.lists.contains(id, addr, self.now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firewall::tests::a;

    fn entry(id: u32, list: &str, addr: &str) -> AddressListEntry {
        AddressListEntry {
            id,
            list: list.into(),
            address: AddressListTarget::Addr(AddrMatch::parse(addr).unwrap()),
            timeout: None,
            disabled: false,
            comment: None,
        }
    }

    fn cfg(entries: Vec<AddressListEntry>) -> RouterConfig {
        RouterConfig {
            address_lists: entries,
            ..RouterConfig::default()
        }
    }

    fn ip(s: &str) -> u32 {
        u32::from(a(s))
    }

    #[test]
    fn static_hosts_prefixes_ranges_names_and_disabled() {
        let mut off = entry(4, "bad", "192.0.2.99");
        off.disabled = true;
        let cfg = cfg(vec![
            entry(1, "bad", "192.0.2.1"),
            entry(2, "bad", "198.51.100.0/24"),
            entry(3, "bad", "203.0.113.10-203.0.113.20"),
            off,
            AddressListEntry {
                address: AddressListTarget::Name("example.com".into()),
                ..entry(5, "bad", "192.0.2.200")
            },
        ]);
        let mut l = AddressLists::new(&cfg);
        let bad = l.id("bad");
        let now = Instant::ZERO;
        assert!(l.contains(bad, ip("192.0.2.1"), now));
        assert!(!l.contains(bad, ip("192.0.2.2"), now));
        assert!(l.contains(bad, ip("198.51.100.77"), now));
        assert!(l.contains(bad, ip("203.0.113.20"), now));
        assert!(!l.contains(bad, ip("203.0.113.21"), now));
        assert!(!l.contains(bad, ip("192.0.2.99"), now), "disabled");
        let other = l.id("nobody-made-this");
        assert!(
            !l.contains(other, ip("192.0.2.1"), now),
            "a new list is empty"
        );
        assert_eq!(l.views(now).len(), 5);
    }

    #[test]
    fn dynamic_entries_expire_exactly_and_refresh() {
        let mut l = AddressLists::new(&RouterConfig::default());
        let list = l.id("scanners");
        let host = ip("198.51.100.10");
        let t0 = Instant::from_secs(100);
        l.add(list, host, t0, Some(std::time::Duration::from_secs(10)));
        assert!(l.contains(list, host, Instant::from_secs(109)));
        assert!(
            !l.contains(list, host, Instant::from_secs(110)),
            "gone at the deadline"
        );
        // Refreshed at 105: now lasts until 115, and the expiry set keeps one key.
        l.add(
            list,
            host,
            Instant::from_secs(105),
            Some(std::time::Duration::from_secs(10)),
        );
        assert_eq!(l.expiry.len(), 1);
        l.expire(Instant::from_secs(111));
        assert_eq!(l.dynamic_len(), 1, "requeued at its new deadline");
        assert_eq!(l.next_expiry(), Some(Instant::from_secs(115)));
        let v = l.views(Instant::from_secs(111));
        assert_eq!(v[0].timeout, Some(Duration::from_secs(4)));
        assert!(v[0].dynamic);
        l.expire(Instant::from_secs(115));
        assert_eq!(l.dynamic_len(), 0);
        assert!(l.expiry.is_empty());
    }

    #[test]
    fn no_timeout_lasts_and_a_static_host_is_not_duplicated() {
        let cfg = cfg(vec![entry(1, "ok", "192.0.2.1")]);
        let mut l = AddressLists::new(&cfg);
        let ok = l.id("ok");
        l.add(
            ok,
            ip("192.0.2.1"),
            Instant::ZERO,
            Some(std::time::Duration::from_secs(1)),
        );
        assert_eq!(l.dynamic_len(), 0);
        l.add(ok, ip("192.0.2.2"), Instant::ZERO, None);
        l.expire(Instant::from_secs(1_000_000));
        assert!(l.contains(ok, ip("192.0.2.2"), Instant::from_secs(1_000_000)));
        assert_eq!(l.views(Instant::ZERO)[1].timeout, None);
    }

    #[test]
    fn reload_keeps_dynamic_entries_and_replaces_static_ones() {
        let mut cfg = cfg(vec![entry(1, "x", "192.0.2.1")]);
        let mut l = AddressLists::new(&cfg);
        let x = l.id("x");
        l.add(x, ip("192.0.2.50"), Instant::ZERO, None);
        cfg.address_lists = vec![entry(2, "x", "192.0.2.2")];
        l.load(&cfg);
        let now = Instant::ZERO;
        assert!(!l.contains(x, ip("192.0.2.1"), now));
        assert!(l.contains(x, ip("192.0.2.2"), now));
        assert!(l.contains(x, ip("192.0.2.50"), now));
    }

    #[test]
    fn a_timed_static_entry_starts_counting_once() {
        let cfg = cfg(vec![AddressListEntry {
            timeout: Some(Duration::from_secs(60)),
            ..entry(7, "t", "192.0.2.7")
        }]);
        let mut l = AddressLists::new(&cfg);
        let t = l.id("t");
        assert!(
            !l.contains(t, ip("192.0.2.7"), Instant::ZERO),
            "not before the first packet"
        );
        l.expire(Instant::from_secs(10));
        assert!(l.contains(t, ip("192.0.2.7"), Instant::from_secs(69)));
        l.load(&cfg);
        l.expire(Instant::from_secs(50));
        assert!(
            !l.contains(t, ip("192.0.2.7"), Instant::from_secs(70)),
            "not restarted"
        );
    }
}
