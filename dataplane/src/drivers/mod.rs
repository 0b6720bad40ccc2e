//! Drivers: the edge where frames enter and leave the pure core.
//!
//! Everything in here does I/O or decodes a container format; nothing in here makes a
//! forwarding decision. The core sees only frames (bytes plus a link type and a timestamp).
//!
//! - [`pcap`]: capture files (classic pcap and pcapng) read into timestamped frames, for replay
//!   and for comparing statewall with the kernel on recorded traffic.
//! - [`replay`]: a capture's frames through connection tracking at their capture times.
//! - [`router_replay`]: captures arriving on named ports through the whole router.
//! - [`live`]: real interfaces: ports opened with pnet, their start-up checks, the nft guard
//!   that keeps the host stack off them, and the TUN device for the router's own services.

pub mod live;
pub mod pcap;
pub mod replay;
pub mod router_replay;
