//! The statewall packet path.
//!
//! # Layout (in the order a packet meets it)
//! - [`wire`]: untrusted bytes to checked headers, and headers back to bytes.
//! - [`conntrack`]: the connection-tracking engine: tuples, the table, TCP/UDP/ICMP/generic
//!   state machines, timeouts and early drop.
//! - [`drivers`]: the edge: capture files in, replay through the engine.
//! - [`time`]: the clock reading every entry point takes as an argument.
//!
//! The core does no I/O and reads no clock: frames and a timestamp go in, verdicts and table
//! state come out.

pub mod conntrack;
pub mod drivers;
pub mod time;
pub mod wire;
