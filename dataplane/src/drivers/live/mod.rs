//! Live ports: frames in and out of real interfaces, and the host kernel kept out of their way.
//!
//! The router is a user-space program sitting on interfaces the host kernel also knows. Two
//! things must hold for it to work (the lab measurements in `shared/reference/lab.md`):
//! frames reach it whole and exactly once (no GRO/LRO super-frames, no echo of what it sent
//! itself), and the host stack never acts on those frames in parallel (no kernel addresses, no
//! kernel ARP answers, no kernel forwarding or resets).
//!
//! # Layout
//! - [`FrameRx`] / [`FrameTx`]: the two halves of a port as the worker loop sees them; a faster
//!   back end (a TPACKET_V3 ring) can replace [`open_pnet`] without touching the pipeline.
//! - `pnet` ([`open_pnet`]): the portable back end, an `AF_PACKET` socket tuned by hand and run
//!   through `pnet_datalink`.
//! - `check`: start-up checks and fixes for a port ([`prepare_port`]) and the nft guard that
//!   keeps the host stack off the ports ([`KernelGuard`]).
//! - `tun` ([`Tun`]): the TUN device that carries the router's own traffic to and from the host
//!   stack.
//!
//! Everything here works in the network namespace of the *calling thread*: interface facts come
//! from ioctls and netlink on sockets opened by that thread, `/proc/sys/net` follows the thread,
//! and helper commands (`ip`, `nft`) inherit it. (`/sys/class/net` is avoided: it shows the
//! namespace sysfs was mounted in, not the thread's.) Guards must therefore be dropped on a
//! thread in the same namespace they were made in.

mod check;
mod pnet;
mod sys;
mod tun;

pub use check::{prepare_port, Change, KernelGuard, PortReport, SysctlGuard, GUARD_TABLE};
pub use pnet::{open_pnet, OpenOptions, OpenedPort};
pub use tun::Tun;

use crate::pipeline::Port;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The receiving half of a port.
pub trait FrameRx: Send {
    /// Waits up to the configured read timeout for a frame for the pipeline.
    ///
    /// `Ok(None)` means no frame this time: the timeout passed, or the frame that arrived was
    /// dropped here (truncated, oversize, our own) and counted in [`PortStats`]. Callers loop,
    /// checking for shutdown between calls. The slice is valid until the next call.
    fn recv(&mut self) -> Result<Option<&[u8]>, PortError>;
}

/// The sending half of a port.
pub trait FrameTx: Send {
    /// Sends one complete Ethernet frame (no FCS). A failure concerns this frame only (counted
    /// in [`PortStats::tx_errors`]); the port stays usable.
    fn send(&mut self, frame: &[u8]) -> Result<(), PortError>;
}

/// What the driver learnt about a port when it opened it.
#[derive(Debug, Clone)]
pub struct PortInfo {
    pub name: String,
    pub ifindex: u32,
    pub mac: [u8; 6],
    pub mtu: u16,
    /// The port's counters, updated by its [`FrameRx`] and [`FrameTx`] and read by the
    /// management side.
    pub stats: Arc<PortStats>,
}

impl PortInfo {
    /// The port as the pipeline knows it.
    pub fn port(&self) -> Port {
        Port {
            name: self.name.clone(),
            mac: self.mac,
            mtu: self.mtu,
        }
    }
}

/// A port's driver counters. Shared (`Arc`) between the I/O threads that count and the
/// management side that reads; relaxed atomics, since each counter stands alone.
#[derive(Debug, Default)]
pub struct PortStats {
    /// Frames handed to the pipeline, and their bytes.
    pub rx_frames: AtomicU64,
    pub rx_bytes: AtomicU64,
    /// Frames sent, and their bytes.
    pub tx_frames: AtomicU64,
    pub tx_bytes: AtomicU64,
    /// Frames that filled the whole read buffer: cut short by the socket, so dropped.
    pub truncated: AtomicU64,
    /// Frames longer than the port's MTU allows (MTU + Ethernet header + one VLAN tag) but
    /// whole: GRO/LRO super-frames or an MTU raised under us. Dropped.
    pub oversize: AtomicU64,
    /// Frames with the port's own MAC as source: our own frames seen again. Dropped.
    pub own_source: AtomicU64,
    /// Receive and send calls that failed.
    pub rx_errors: AtomicU64,
    pub tx_errors: AtomicU64,
}

/// A plain copy of [`PortStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortCounters {
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    pub truncated: u64,
    pub oversize: u64,
    pub own_source: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
}

impl PortStats {
    pub fn snapshot(&self) -> PortCounters {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        PortCounters {
            rx_frames: r(&self.rx_frames),
            rx_bytes: r(&self.rx_bytes),
            tx_frames: r(&self.tx_frames),
            tx_bytes: r(&self.tx_bytes),
            truncated: r(&self.truncated),
            oversize: r(&self.oversize),
            own_source: r(&self.own_source),
            rx_errors: r(&self.rx_errors),
            tx_errors: r(&self.tx_errors),
        }
    }
}

fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Something about a port failed; the message names the port and the step.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// A system call failed.
    #[error("{port}: {op}: {source}{}", hint(.source))]
    Os {
        port: String,
        op: String,
        #[source]
        source: io::Error,
    },
    /// The port is in a state statewall does not run on and does not change by itself; the
    /// message says what to do.
    #[error("{message}")]
    Refused { port: String, message: String },
    /// A helper command (`ip`, `nft`) failed.
    #[error("{port}: {op}: `{command}` {outcome}")]
    Command {
        port: String,
        op: String,
        command: String,
        /// The exit status and what the command wrote to stderr.
        outcome: String,
    },
}

impl PortError {
    /// The port (or ports, comma-separated) the error is about.
    pub fn port(&self) -> &str {
        match self {
            PortError::Os { port, .. }
            | PortError::Refused { port, .. }
            | PortError::Command { port, .. } => port,
        }
    }

    fn os(port: &str, op: impl Into<String>, source: io::Error) -> PortError {
        PortError::Os {
            port: port.to_string(),
            op: op.into(),
            source,
        }
    }
}

/// `map_err` for a failed step on a port.
fn failed<'a>(port: &'a str, op: &'a str) -> impl FnOnce(io::Error) -> PortError + 'a {
    move |e| PortError::os(port, op, e)
}

fn hint(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => " (are you root?)",
        _ => "",
    }
}

/// Runs a helper command (in the calling thread's namespace), feeding it `stdin`; a non-zero
/// exit becomes [`PortError::Command`] with its stderr.
fn run_command(port: &str, op: &str, argv: &[&str], stdin: Option<&str>) -> Result<(), PortError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let command = argv.join(" ");
    let fail = |outcome: String| PortError::Command {
        port: port.to_string(),
        op: op.to_string(),
        command: command.clone(),
        outcome,
    };
    let (prog, args) = argv.split_first().ok_or_else(|| fail("is empty".into()))?;
    let mut child = Command::new(prog)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("could not start: {e}")))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A failed write shows up as the command's own failure below.
        let _ = pipe.write_all(text.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| fail(format!("could not be waited for: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(fail(format!("{}: {}", output.status, stderr.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_port_and_the_step() {
        let e = PortError::os(
            "ether2",
            "opening AF_PACKET socket",
            io::Error::from_raw_os_error(libc::EPERM),
        );
        let text = e.to_string();
        assert!(
            text.starts_with("ether2: opening AF_PACKET socket: Operation not permitted"),
            "{text}"
        );
        assert!(text.ends_with("(are you root?)"), "{text}");
        assert_eq!(e.port(), "ether2");
        let e = PortError::os("ether2", "x", io::Error::from_raw_os_error(libc::ENODEV));
        assert!(!e.to_string().contains("root"));
    }

    #[test]
    fn a_failing_command_reports_its_status_and_stderr() {
        let e = run_command(
            "ether1",
            "testing",
            &["sh", "-c", "echo 'it broke' >&2; exit 3"],
            None,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("ether1: testing: `sh -c"), "{text}");
        assert!(text.contains("exit status: 3"), "{text}");
        assert!(text.ends_with("it broke"), "{text}");
        run_command(
            "ether1",
            "testing",
            &["sh", "-c", "read x; test \"$x\" = hi"],
            Some("hi\n"),
        )
        .unwrap();
        let e = run_command("ether1", "testing", &["/nonexistent/prog"], None).unwrap_err();
        assert!(e.to_string().contains("could not start"), "{e}");
    }

    #[test]
    fn port_info_converts_to_the_pipeline_port() {
        let info = PortInfo {
            name: "ether1".into(),
            ifindex: 3,
            mac: [2, 0, 0, 0, 1, 1],
            mtu: 1500,
            stats: Arc::default(),
        };
        bump(&info.stats.truncated, 2);
        assert_eq!(info.stats.snapshot().truncated, 2);
        assert_eq!(
            info.port(),
            Port {
                name: "ether1".into(),
                mac: [2, 0, 0, 0, 1, 1],
                mtu: 1500
            }
        );
    }
}
