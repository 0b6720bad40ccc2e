//! What the rules change at run time: address lists and pending log lines.

use super::address_list::{AddressListView, AddressLists, ListId, ListProbe};
use super::log::{LogLine, Logger};
use super::Ruleset;
use crate::time::Instant;
use shared::config::RouterConfig;

/// The firewall's mutable state, owned by the dataplane thread.
#[derive(Debug)]
pub struct FirewallState {
    lists: AddressLists,
    /// The [`Ruleset`] serial `binding` was made for (0: none yet).
    bound: u64,
    /// The ruleset's address-list indices to [`ListId`]s.
    binding: Vec<ListId>,
    logger: Logger,
}

impl FirewallState {
    pub fn new(cfg: &RouterConfig) -> Self {
        FirewallState {
            lists: AddressLists::new(cfg),
            bound: 0,
            binding: Vec::new(),
            logger: Logger::default(),
        }
    }

    /// Takes the configuration's static address-list entries; dynamic entries are kept.
    pub fn reconfigure(&mut self, cfg: &RouterConfig) {
        self.lists.load(cfg);
    }

    /// Every address-list entry with the time it has left.
    pub fn address_lists(&self, now: Instant) -> Vec<AddressListView> {
        self.lists.views(now)
    }

    pub fn drain_logs(&mut self) -> Vec<LogLine> {
        self.logger.drain()
    }

    /// Lines the rate limit has dropped since start.
    pub fn logs_suppressed(&self) -> u64 {
        self.logger.suppressed()
    }

    /// Before a packet: bind the ruleset's list names (once per ruleset) and expire entries.
    pub(super) fn prepare(&mut self, rs: &Ruleset, now: Instant) {
        if self.bound != rs.serial() {
            self.lists.bind(rs.list_names(), &mut self.binding);
            self.bound = rs.serial();
        }
        if self.lists.next_expiry().is_some_and(|t| t <= now) || self.lists.has_pending() {
            self.lists.expire(now);
        }
    }

    pub(super) fn probe(&self, now: Instant) -> ListProbe<'_> {
        self.lists.probe(&self.binding, now)
    }

    /// Adds `addr` to the ruleset's list number `list`.
    pub(super) fn add_to_list(
        &mut self,
        list: u16,
        addr: u32,
        now: Instant,
        timeout: Option<std::time::Duration>,
    ) {
        if let Some(&id) = self.binding.get(usize::from(list)) {
            self.lists.add(id, addr, now, timeout);
        }
    }

    pub(super) fn logger(&mut self) -> &mut Logger {
        &mut self.logger
    }
}
