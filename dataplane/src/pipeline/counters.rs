//! What the pipeline counts: every node of the packet-flow diagram, and every drop by reason.

use crate::iface::MAX_INTERFACES;

/// Why the router dropped a packet. Each has a counter and a name for the dashboard and API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Not an Ethernet frame the router reads (too short).
    BadFrame,
    /// Addressed to another host's MAC address.
    OtherHost,
    /// An EtherType the router does not route (IPv6 and others, for now).
    UnsupportedEthertype,
    /// An IPv4 header that does not check out (length, version, checksum).
    BadIpHeader,
    /// The connection table is full and nothing could be evicted.
    ConntrackFull,
    /// A new connection's tuple clashed at confirmation.
    InsertFailed,
    /// No free NAT tuple in the rule's range.
    NatExhausted,
    /// Masquerade on a port without an address.
    NoSourceAddress,
    /// A packet of a translated connection that could not be rewritten (truncated, or an ICMP
    /// error with a bad checksum): it must not leave untranslated.
    NatRewrite,
    FilterInput,
    FilterForward,
    FilterOutput,
    /// `/ip settings ip-forward=no`.
    ForwardingDisabled,
    NoRoute,
    TtlExceeded,
    /// Larger than the egress MTU with DF set.
    FragNeeded,
    /// The next hop's ARP queue was full.
    NeighbourQueueFull,
    /// A fragment that could not be reassembled (overlap, bad size, memory full).
    Fragment,
}

impl DropReason {
    pub const ALL: [DropReason; 18] = [
        DropReason::BadFrame,
        DropReason::OtherHost,
        DropReason::UnsupportedEthertype,
        DropReason::BadIpHeader,
        DropReason::ConntrackFull,
        DropReason::InsertFailed,
        DropReason::NatExhausted,
        DropReason::NoSourceAddress,
        DropReason::NatRewrite,
        DropReason::FilterInput,
        DropReason::FilterForward,
        DropReason::FilterOutput,
        DropReason::ForwardingDisabled,
        DropReason::NoRoute,
        DropReason::TtlExceeded,
        DropReason::FragNeeded,
        DropReason::NeighbourQueueFull,
        DropReason::Fragment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::BadFrame => "bad-frame",
            DropReason::OtherHost => "other-host",
            DropReason::UnsupportedEthertype => "unsupported-ethertype",
            DropReason::BadIpHeader => "bad-ip-header",
            DropReason::ConntrackFull => "conntrack-full",
            DropReason::InsertFailed => "insert-failed",
            DropReason::NatExhausted => "nat-exhausted",
            DropReason::NoSourceAddress => "no-source-address",
            DropReason::NatRewrite => "nat-rewrite",
            DropReason::FilterInput => "filter-input",
            DropReason::FilterForward => "filter-forward",
            DropReason::FilterOutput => "filter-output",
            DropReason::ForwardingDisabled => "forwarding-disabled",
            DropReason::NoRoute => "no-route",
            DropReason::TtlExceeded => "ttl-exceeded",
            DropReason::FragNeeded => "frag-needed",
            DropReason::NeighbourQueueFull => "neighbour-queue-full",
            DropReason::Fragment => "fragment",
        }
    }

    fn index(self) -> usize {
        DropReason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// Packets through each node of the flow diagram, and drops by reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    pub rx_packets: [u64; MAX_INTERFACES],
    pub rx_bytes: [u64; MAX_INTERFACES],
    pub tx_packets: [u64; MAX_INTERFACES],
    pub tx_bytes: [u64; MAX_INTERFACES],
    pub arp_in: u64,
    pub arp_out: u64,
    /// IPv4 packets through prerouting (connection tracking and dstnat).
    pub prerouting: u64,
    pub dstnat: u64,
    pub input: u64,
    pub forward: u64,
    pub output: u64,
    pub postrouting: u64,
    pub srcnat: u64,
    /// Packets handed to the router's own stack.
    pub local_delivered: u64,
    pub echo_replies: u64,
    pub icmp_errors_sent: u64,
    pub rejects_sent: u64,
    pub fragments_sent: u64,
    pub queued_for_neighbour: u64,
    drops: [u64; DropReason::ALL.len()],
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            rx_packets: [0; MAX_INTERFACES],
            rx_bytes: [0; MAX_INTERFACES],
            tx_packets: [0; MAX_INTERFACES],
            tx_bytes: [0; MAX_INTERFACES],
            arp_in: 0,
            arp_out: 0,
            prerouting: 0,
            dstnat: 0,
            input: 0,
            forward: 0,
            output: 0,
            postrouting: 0,
            srcnat: 0,
            local_delivered: 0,
            echo_replies: 0,
            icmp_errors_sent: 0,
            rejects_sent: 0,
            fragments_sent: 0,
            queued_for_neighbour: 0,
            drops: [0; DropReason::ALL.len()],
        }
    }
}

impl Counters {
    pub fn drop(&mut self, r: DropReason) {
        self.drops[r.index()] += 1;
    }

    pub fn drops(&self, r: DropReason) -> u64 {
        self.drops[r.index()]
    }

    /// Every reason with its count, zeros included (for a stable table).
    pub fn drop_table(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL.iter().map(|r| (*r, self.drops(*r)))
    }

    pub fn total_drops(&self) -> u64 {
        self.drops.iter().sum()
    }
}
