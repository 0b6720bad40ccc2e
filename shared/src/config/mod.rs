//! The router's configuration: typed values built from a checked `.rsc` script.
//!
//! - [`model`]: the typed configuration ([`RouterConfig`]) the dataplane compiles.
//! - [`values`]: matcher and target values (addresses, ports, ICMP options, TCP flags).

pub mod model;
pub mod values;

pub use model::*;
pub use values::{AddrMatch, IcmpOptions, PortRange, PortSet, TcpFlagsMatch};
