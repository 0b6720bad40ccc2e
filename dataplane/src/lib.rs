//! The statewall packet path.
//!
//! # Layout (in the order a packet meets it)
//! - [`wire`]: untrusted bytes to checked headers, and headers back to bytes.
//! - [`conntrack`]: the connection-tracking engine: tuples, the table, TCP/UDP/ICMP/generic
//!   state machines, timeouts and early drop.
//! - [`iface`]: the router's ports by index, and interface lists as bit sets.
//! - [`firewall`]: filter and NAT rule tables (RouterOS chains) compiled for the packet path.
//! - [`nat`]: choosing a connection's unique NAT tuple and rewriting its packets.
//! - [`pipeline`]: RouterOS's packet flow: prerouting, routing, input/forward/output, postrouting.
//! - [`drivers`]: the edge: capture files in, replay through the engine.
//! - [`time`]: the clock reading every entry point takes as an argument.
//!
//! The core does no I/O and reads no clock: frames and a timestamp go in, verdicts and table
//! state come out.

pub mod conntrack;
pub mod drivers;
pub mod firewall;
pub mod iface;
pub mod nat;
pub mod pipeline;
pub mod time;
pub mod wire;
