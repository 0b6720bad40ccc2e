//! Firewall and NAT: the rule lists with their counters (the dashboard issue's "Firewall and
//! NAT" screens). To come; one component serves both tables.

use leptos::prelude::*;

/// Which rule list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleTable {
    /// `/ip firewall filter`.
    Filter,
    /// `/ip firewall nat`.
    Nat,
}

impl RuleTable {
    /// The menu under `/rest`.
    pub fn rest_path(self) -> &'static str {
        match self {
            RuleTable::Filter => "/ip/firewall/filter",
            RuleTable::Nat => "/ip/firewall/nat",
        }
    }

    /// The feed's name for it (`shared::feed::RuleCounters::table`).
    pub fn feed_name(self) -> &'static str {
        match self {
            RuleTable::Filter => "filter",
            RuleTable::Nat => "nat",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            RuleTable::Filter => "Firewall rules",
            RuleTable::Nat => "NAT rules",
        }
    }
}

#[component]
pub fn Rules(table: RuleTable) -> impl IntoView {
    view! {
        <h1>{table.title()}</h1>
        <p class="placeholder">"The rule list comes here."</p>
    }
}
