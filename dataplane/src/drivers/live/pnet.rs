//! The pnet back end: an `AF_PACKET` socket prepared by hand, then run by `pnet_datalink`.
//!
//! pnet's own socket is not good enough for a router (lab.md): its default receive buffer loses
//! frames under load (TCP retransmits fell from ~170 k per 10 s to 0 with 4 MiB), it sees the
//! frames it sends itself and everything the host sends out of the port, and it truncates
//! frames longer than its read buffer without saying so. So the socket is made here and handed
//! over through `Config.socket_fd`:
//! - `SO_RCVBUF`/`SO_SNDBUF` 4 MiB (the `…FORCE` variants first, which pass `rmem_max` as root);
//! - `PACKET_QDISC_BYPASS`: frames go straight to the driver, as a forwarder's should;
//! - `PACKET_IGNORE_OUTGOING` (Linux 4.20+): no outgoing frame, ours or the host's, comes back;
//! - frames whose source MAC is the port's own are dropped as well (older kernels, and frames
//!   looped back by a switch);
//! - the read buffer is larger than the biggest frame the MTU allows, so a frame that fills it
//!   exactly was cut short: counted and dropped, as are whole frames above the MTU.
//!
//! Cost (lab.md): about 3.9 µs of CPU per forwarded frame, 4 syscalls (poll+recvfrom,
//! poll+sendto); one `recv` handles at most one frame.

use super::sys::{self, CtlSocket};
use super::{bump, failed, FrameRx, FrameTx, PortError, PortInfo, PortStats};
use crate::wire::ETHERNET_HEADER_LEN;
use pnet_datalink::linux::{self as pnet_linux};
use pnet_datalink::{Channel, ChannelType, DataLinkReceiver, DataLinkSender, MacAddr};
use std::io;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::sync::Arc;
use std::time::Duration;

/// Room for one 802.1Q tag on top of the Ethernet header.
const VLAN_TAG_LEN: usize = 4;
/// The smallest read buffer: a standard frame fits with room to spare, as measured in lab.md.
const MIN_READ_BUFFER: usize = 2048;

/// How a port is opened.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How long [`FrameRx::recv`] and [`FrameTx::send`] wait at most, so I/O threads notice a
    /// shutdown.
    pub timeout: Duration,
    /// `SO_RCVBUF` and `SO_SNDBUF`.
    pub socket_buffer: usize,
    /// Receive frames for any destination MAC (not needed by a router: it gets its own,
    /// broadcast and multicast frames anyway).
    pub promiscuous: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            timeout: Duration::from_millis(100),
            socket_buffer: 4 << 20,
            promiscuous: false,
        }
    }
}

/// The largest frame a port with this MTU carries: Ethernet header, one VLAN tag, the MTU.
fn frame_max(mtu: u16) -> usize {
    usize::from(mtu) + ETHERNET_HEADER_LEN + VLAN_TAG_LEN
}

/// The read buffer: strictly larger than [`frame_max`], so `len == buffer` always means cut.
fn read_buffer_len(mtu: u16) -> usize {
    (frame_max(mtu) + 1).max(MIN_READ_BUFFER)
}

/// What becomes of a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Accept,
    Truncated,
    Oversize,
    OwnSource,
}

fn classify(frame: &[u8], buffer_len: usize, frame_max: usize, own_mac: &[u8; 6]) -> Verdict {
    if frame.len() >= buffer_len {
        Verdict::Truncated
    } else if frame.len() > frame_max {
        Verdict::Oversize
    } else if frame.get(6..12) == Some(own_mac.as_slice()) {
        Verdict::OwnSource
    } else {
        Verdict::Accept
    }
}

/// A port as [`open_pnet`] hands it over: its facts, and its two halves for the I/O threads.
pub type OpenedPort = (PortInfo, Box<dyn FrameRx>, Box<dyn FrameTx>);

/// Opens `name` with pnet on a socket tuned as above. The port's index, MAC and MTU are read
/// once, now: a later MTU change needs a reopen (until then bigger frames count as oversize).
pub fn open_pnet(name: &str, opts: &OpenOptions) -> Result<OpenedPort, PortError> {
    let ifindex = sys::if_index(name).map_err(failed(name, "looking up the interface"))?;
    let ctl = CtlSocket::open().map_err(failed(name, "opening a control socket"))?;
    let mac = ctl
        .mac(name)
        .map_err(failed(name, "reading the MAC address"))?;
    let mtu = ctl.mtu(name).map_err(failed(name, "reading the MTU"))?;
    drop(ctl);

    // Protocol 0: the socket receives nothing until pnet binds it to this port with ETH_P_ALL,
    // so no frame of another interface slips into its queue in between.
    // SAFETY: plain socket(2), checked by `owned`.
    let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    let fd = sys::owned(raw).map_err(failed(name, "opening AF_PACKET socket"))?;
    let buffer = libc::c_int::try_from(opts.socket_buffer).unwrap_or(libc::c_int::MAX);
    for (force, plain, what) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF, "setting SO_RCVBUF"),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF, "setting SO_SNDBUF"),
    ] {
        let fd = fd.as_raw_fd();
        if let Err(e) = sys::set_int_opt(fd, libc::SOL_SOCKET, force, buffer) {
            tracing::debug!(
                port = name,
                error = %e,
                "{what}FORCE refused; the size is capped by net.core.rmem_max/wmem_max"
            );
            sys::set_int_opt(fd, libc::SOL_SOCKET, plain, buffer).map_err(failed(name, what))?;
        }
    }
    sys::set_int_opt(
        fd.as_raw_fd(),
        libc::SOL_PACKET,
        libc::PACKET_QDISC_BYPASS,
        1,
    )
    .map_err(failed(name, "setting PACKET_QDISC_BYPASS"))?;
    match sys::set_int_opt(
        fd.as_raw_fd(),
        libc::SOL_PACKET,
        libc::PACKET_IGNORE_OUTGOING,
        1,
    ) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => tracing::warn!(
            port = name,
            "kernel older than 4.20 (no PACKET_IGNORE_OUTGOING): the host's outgoing frames \
             on this port reach the router; only those with the port's MAC are dropped"
        ),
        Err(e) => return Err(failed(name, "setting PACKET_IGNORE_OUTGOING")(e)),
    }
    let rcvbuf = sys::int_opt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF).unwrap_or(0);

    let buffer_len = read_buffer_len(mtu);
    let config = pnet_linux::Config {
        read_buffer_size: buffer_len,
        write_buffer_size: buffer_len,
        read_timeout: Some(opts.timeout),
        write_timeout: Some(opts.timeout),
        channel_type: ChannelType::Layer2,
        fanout: None,
        promiscuous: opts.promiscuous,
        socket_fd: Some(fd.into_raw_fd()),
    };
    let iface = pnet_datalink::NetworkInterface {
        name: name.to_string(),
        description: String::new(),
        index: ifindex,
        mac: Some(MacAddr::from(mac)),
        ips: Vec::new(),
        flags: 0,
    };
    // pnet owns the descriptor from here; it closes it itself if it fails.
    let (tx, rx) = match pnet_linux::channel(&iface, config) {
        Ok(Channel::Ethernet(tx, rx)) => (tx, rx),
        Ok(_) => {
            return Err(failed(name, "starting the pnet channel")(io::Error::new(
                io::ErrorKind::Unsupported,
                "not an Ethernet channel",
            )))
        }
        Err(e) => return Err(failed(name, "binding the AF_PACKET socket")(e)),
    };
    tracing::debug!(
        port = name,
        ifindex,
        mtu,
        read_buffer = buffer_len,
        rcvbuf,
        "port open (pnet)"
    );

    let stats = Arc::new(PortStats::default());
    let info = PortInfo {
        name: name.to_string(),
        ifindex,
        mac,
        mtu,
        stats: stats.clone(),
    };
    let rx = PnetRx {
        rx,
        buffer_len,
        frame_max: frame_max(mtu),
        mac,
        stats: stats.clone(),
        name: name.to_string(),
    };
    let tx = PnetTx {
        tx,
        stats,
        name: name.to_string(),
    };
    Ok((info, Box::new(rx), Box::new(tx)))
}

struct PnetRx {
    rx: Box<dyn DataLinkReceiver>,
    buffer_len: usize,
    frame_max: usize,
    mac: [u8; 6],
    stats: Arc<PortStats>,
    name: String,
}

impl FrameRx for PnetRx {
    fn recv(&mut self) -> Result<Option<&[u8]>, PortError> {
        match self.rx.next() {
            Ok(frame) => {
                let counter = match classify(frame, self.buffer_len, self.frame_max, &self.mac) {
                    Verdict::Accept => {
                        bump(&self.stats.rx_frames, 1);
                        bump(&self.stats.rx_bytes, frame.len() as u64);
                        return Ok(Some(frame));
                    }
                    Verdict::Truncated => &self.stats.truncated,
                    Verdict::Oversize => &self.stats.oversize,
                    Verdict::OwnSource => &self.stats.own_source,
                };
                bump(counter, 1);
                Ok(None)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                        | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(None)
            }
            Err(e) => {
                bump(&self.stats.rx_errors, 1);
                Err(PortError::os(&self.name, "receiving", e))
            }
        }
    }
}

struct PnetTx {
    tx: Box<dyn DataLinkSender>,
    stats: Arc<PortStats>,
    name: String,
}

impl FrameTx for PnetTx {
    fn send(&mut self, frame: &[u8]) -> Result<(), PortError> {
        let result = self
            .tx
            .send_to(frame, None)
            .unwrap_or_else(|| Err(io::Error::other("pnet refused the frame")));
        match result {
            Ok(()) => {
                bump(&self.stats.tx_frames, 1);
                bump(&self.stats.tx_bytes, frame.len() as u64);
                Ok(())
            }
            Err(e) => {
                bump(&self.stats.tx_errors, 1);
                Err(PortError::os(&self.name, "sending", e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [2, 0, 0, 0, 1, 1];

    fn frame(len: usize, src: [u8; 6]) -> Vec<u8> {
        let mut f = vec![0u8; len];
        f[6..12].copy_from_slice(&src);
        f
    }

    #[test]
    fn the_read_buffer_is_always_larger_than_the_largest_frame() {
        assert_eq!(frame_max(1500), 1518);
        assert_eq!(read_buffer_len(1500), 2048);
        assert_eq!(read_buffer_len(9000), 9019);
        for mtu in [68, 1500, 2029, 2030, 2031, 9000, u16::MAX] {
            assert!(read_buffer_len(mtu) > frame_max(mtu), "mtu {mtu}");
        }
    }

    #[test]
    fn frames_are_sorted_by_length_then_source() {
        let other = [2, 0, 0, 0, 9, 9];
        let (buf, max) = (read_buffer_len(1500), frame_max(1500));
        assert_eq!(classify(&frame(60, other), buf, max, &MAC), Verdict::Accept);
        assert_eq!(
            classify(&frame(1518, other), buf, max, &MAC),
            Verdict::Accept
        );
        assert_eq!(
            classify(&frame(1519, other), buf, max, &MAC),
            Verdict::Oversize
        );
        assert_eq!(
            classify(&frame(2047, other), buf, max, &MAC),
            Verdict::Oversize
        );
        assert_eq!(
            classify(&frame(2048, other), buf, max, &MAC),
            Verdict::Truncated
        );
        assert_eq!(
            classify(&frame(60, MAC), buf, max, &MAC),
            Verdict::OwnSource
        );
        // Length is judged first: an own frame cut short still counts as cut.
        assert_eq!(
            classify(&frame(2048, MAC), buf, max, &MAC),
            Verdict::Truncated
        );
        // Runts are the pipeline's to judge (it counts malformed frames).
        assert_eq!(classify(&[0u8; 8], buf, max, &MAC), Verdict::Accept);
    }

    #[test]
    fn opening_a_missing_port_names_it() {
        let e = match open_pnet("swlp-missing0", &OpenOptions::default()) {
            Err(e) => e,
            Ok(_) => panic!("a missing interface opened"),
        };
        let text = e.to_string();
        assert!(
            text.starts_with("swlp-missing0: looking up the interface"),
            "{text}"
        );
    }
}
