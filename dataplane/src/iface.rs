//! The router's ports by index, and the interface lists rules match on.
//!
//! Rules name interfaces; the packet path carries small indices. An index is a position in
//! [`Interfaces`], fixed while the router runs; lists are bit sets over the indices, so
//! `in-interface-list=LAN` is one AND.

use hashbrown::HashMap;
use shared::config::RouterConfig;

/// A port's position in [`Interfaces`].
pub type IfIndex = u16;

/// At most this many ports (interface lists are 64-bit sets).
pub const MAX_INTERFACES: usize = 64;

/// The ports the router runs on, by name, and the interface lists over them.
#[derive(Debug, Clone, Default)]
pub struct Interfaces {
    names: Vec<String>,
    lists: HashMap<String, u64>,
}

impl Interfaces {
    /// The ports in index order; names past [`MAX_INTERFACES`] are ignored.
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        let names: Vec<String> = names
            .into_iter()
            .map(Into::into)
            .take(MAX_INTERFACES)
            .collect();
        let mut lists = HashMap::new();
        let all = if names.len() == 64 {
            u64::MAX
        } else {
            (1u64 << names.len()) - 1
        };
        // RouterOS's built-in lists.
        lists.insert("all".to_string(), all);
        lists.insert("none".to_string(), 0);
        lists.insert("static".to_string(), all);
        lists.insert("dynamic".to_string(), 0);
        Interfaces { names, lists }
    }

    /// The same ports with the configuration's `/interface list` and its members. A member
    /// naming a port the host lacks is left out (RouterOS shows it invalid).
    pub fn with_lists(mut self, cfg: &RouterConfig) -> Self {
        for list in &cfg.interface_lists {
            self.lists.entry(list.name.clone()).or_insert(0);
        }
        for m in cfg.list_members.iter().filter(|m| !m.disabled) {
            let Some(i) = self.index(&m.interface) else {
                continue;
            };
            // A member may itself be a list (RouterOS allows lists of lists).
            let bits = 1u64 << i;
            *self.lists.entry(m.list.clone()).or_insert(0) |= bits;
        }
        for m in cfg.list_members.iter().filter(|m| !m.disabled) {
            if let Some(&inner) = self.lists.get(&m.interface) {
                *self.lists.entry(m.list.clone()).or_insert(0) |= inner;
            }
        }
        self
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn index(&self, name: &str) -> Option<IfIndex> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| i as IfIndex)
    }

    pub fn name(&self, i: IfIndex) -> &str {
        self.names.get(usize::from(i)).map_or("?", String::as_str)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// The members of list `name` as a bit set over indices; `None` if there is no such list.
    pub fn list(&self, name: &str) -> Option<u64> {
        self.lists.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::config::{InterfaceList, ListMember};

    #[test]
    fn lists_are_bit_sets_over_indices() {
        let mut cfg = RouterConfig::default();
        for (id, name) in [(1, "LAN"), (2, "WAN")] {
            cfg.interface_lists.push(InterfaceList {
                id,
                name: name.into(),
                comment: None,
            });
        }
        for (id, list, iface) in [
            (1, "LAN", "ether2"),
            (2, "WAN", "ether1"),
            (3, "LAN", "gone"),
        ] {
            cfg.list_members.push(ListMember {
                id,
                list: list.into(),
                interface: iface.into(),
                disabled: false,
                comment: None,
            });
        }
        let ifs = Interfaces::new(["ether1", "ether2", "ether3"]).with_lists(&cfg);
        assert_eq!(ifs.list("WAN"), Some(0b001));
        assert_eq!(ifs.list("LAN"), Some(0b010));
        assert_eq!(ifs.list("all"), Some(0b111));
        assert_eq!(ifs.list("nope"), None);
        assert_eq!(ifs.index("ether3"), Some(2));
        assert_eq!(ifs.name(1), "ether2");
    }
}
