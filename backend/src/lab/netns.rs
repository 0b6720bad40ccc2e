//! Network namespaces from the inside: a thread enters one with `setns` (sockets it then creates
//! stay there for their life, whichever thread uses them), commands run in one through
//! `ip netns exec`, and sysctls and offloads are set by a thread that is inside.
//!
//! Nothing here touches the host's own namespace: links are created by `ip -n NS`, never moved
//! out of or into the host.

use super::LabError;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};

/// Where `ip netns add` keeps a namespace's handle.
pub(crate) const NETNS_DIR: &str = "/run/netns";

pub(crate) fn netns_path(ns: &str) -> PathBuf {
    Path::new(NETNS_DIR).join(ns)
}

/// The namespaces `ip netns` knows, by name.
pub(crate) fn list() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(NETNS_DIR) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// Moves the calling thread (only it) into the named namespace.
pub(crate) fn enter(ns: &str) -> io::Result<()> {
    let file = File::open(netns_path(ns))?;
    // SAFETY: a valid open fd of a network namespace; setns changes only this thread's
    // namespace and touches no memory of ours.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Runs `f` on a thread inside `ns` and returns its result; a panic in `f` is resumed here.
pub(crate) fn run_in<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    thread::scope(|s| {
        let handle = s.spawn(|| {
            enter(ns)?;
            Ok(f())
        });
        match handle.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Spawns a named thread that enters `ns` and then runs `f`. Returns once the thread is inside
/// (or could not get in).
pub(crate) fn spawn_in(
    ns: &str,
    name: &str,
    f: impl FnOnce() + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    let (tx, rx) = mpsc::sync_channel(1);
    let ns_owned = ns.to_string();
    let handle = thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let entered = enter(&ns_owned);
            let ok = entered.is_ok();
            let _ = tx.send(entered);
            if ok {
                f();
            }
        })?;
    match rx.recv() {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => {
            let _ = handle.join();
            Err(io::Error::new(e.kind(), format!("entering {ns}: {e}")))
        }
        Err(_) => {
            let _ = handle.join();
            Err(io::Error::other(format!(
                "thread {name} ended before entering {ns}"
            )))
        }
    }
}

/// Runs a program to completion; an exit status other than 0 is an error carrying its stderr.
pub(crate) fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Result<Output, LabError> {
    let shown = || {
        std::iter::once(program)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ")
    };
    tracing::debug!(command = %shown(), "lab");
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let spawn_error = |e: io::Error| LabError::Io {
        context: format!("running {}", shown()),
        source: e,
    };
    let mut child = cmd.spawn().map_err(spawn_error)?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).map_err(spawn_error)?;
    }
    let output = child.wait_with_output().map_err(spawn_error)?;
    if !output.status.success() {
        return Err(LabError::Command {
            command: shown(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output)
}

/// `ip ARGS…`, checked.
pub(crate) fn ip(args: &[&str]) -> Result<(), LabError> {
    run("ip", args, None).map(drop)
}

/// Waits (up to 5 s) until `dev` in namespace `ns` has carrier and a queueing discipline. The
/// kernel attaches the qdisc later, from its link-watch work; until then the device's qdisc is
/// `noop`, which drops every frame a host sends, so a test's first packet could vanish.
pub(crate) fn wait_carrier(ns: &str, dev: &str) -> Result<(), LabError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let out = run("ip", &["-n", ns, "-o", "link", "show", dev], None)?;
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        if line.contains("state UP") && !line.contains("qdisc noop") {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(LabError::Io {
                context: format!("{dev} in {ns} never came up: {}", line.trim()),
                source: io::Error::from(io::ErrorKind::TimedOut),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Writes a sysctl of the calling thread's network namespace (`net/ipv4/ip_forward`).
/// `/proc/sys/net` shows the namespace of the thread that opens it.
pub(crate) fn sysctl(key: &str, value: &str) -> io::Result<()> {
    let path = Path::new("/proc/sys").join(key);
    std::fs::write(&path, value)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let read = std::fs::read_to_string(&path)?;
    if read.trim() != value {
        return Err(io::Error::other(format!(
            "{} reads {} after writing {value}",
            path.display(),
            read.trim()
        )));
    }
    Ok(())
}

/// Whether a device feature (ethtool's name for it) must be off for a userspace router on veth
/// (lab.md, pitfall 1): TX checksum offload (else TCP and UDP leave with partial checksums),
/// every kind of TSO and GSO, GRO and LRO (else AF_PACKET hands over frames bigger than the
/// MTU).
pub(crate) fn must_be_off(feature: &str) -> bool {
    feature.starts_with("tx-checksum")
        || (feature.starts_with("tx-") && feature.ends_with("segmentation"))
        || feature.starts_with("tx-gso")
        || feature.starts_with("rx-gro")
        || feature == "rx-lro"
}

// linux/ethtool.h
const ETHTOOL_GSTRINGS: u32 = 0x1b;
const ETHTOOL_GSSET_INFO: u32 = 0x37;
const ETHTOOL_GFEATURES: u32 = 0x3a;
const ETHTOOL_SFEATURES: u32 = 0x3b;
const ETH_SS_FEATURES: u32 = 4;
const ETH_GSTRING_LEN: usize = 32;

/// `struct ethtool_sset_info` with room for one count.
#[repr(C)]
struct SsetInfo {
    cmd: u32,
    reserved: u32,
    sset_mask: u64,
    count: u32,
    _pad: u32,
}

/// `struct ifreq` with the `ifr_data` member of its union (40 bytes on 64-bit Linux).
#[repr(C)]
struct IfreqData {
    name: [libc::c_char; libc::IFNAMSIZ],
    data: *mut libc::c_void,
    _pad: [u8; 24 - std::mem::size_of::<*mut libc::c_void>()],
}

/// One SIOCETHTOOL call; `data` is the command's struct, starting with its `cmd`.
fn ethtool(fd: libc::c_int, dev: &str, data: *mut libc::c_void) -> io::Result<()> {
    if dev.len() >= libc::IFNAMSIZ || dev.bytes().any(|b| b == 0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad interface name {dev:?}"),
        ));
    }
    let mut req = IfreqData {
        name: [0; libc::IFNAMSIZ],
        data,
        _pad: [0; 24 - std::mem::size_of::<*mut libc::c_void>()],
    };
    for (dst, src) in req.name.iter_mut().zip(dev.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: `req` is a properly laid out ifreq; callers pass a buffer sized for the command
    // (the counts in it say how much the kernel may write), alive for the call.
    if unsafe { libc::ioctl(fd, libc::SIOCETHTOOL as _, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The device's feature names (ETH_SS_FEATURES), in bit order.
fn feature_names(fd: libc::c_int, dev: &str) -> io::Result<Vec<String>> {
    let mut info = SsetInfo {
        cmd: ETHTOOL_GSSET_INFO,
        reserved: 0,
        sset_mask: 1 << ETH_SS_FEATURES,
        count: 0,
        _pad: 0,
    };
    ethtool(fd, dev, (&mut info as *mut SsetInfo).cast())?;
    if info.sset_mask & (1 << ETH_SS_FEATURES) == 0 {
        return Err(io::Error::other(format!("{dev}: no feature names")));
    }
    let n = info.count as usize;
    // struct ethtool_gstrings: cmd, string_set, len, then len names of 32 bytes.
    let mut buf = vec![0u32; 3 + n * ETH_GSTRING_LEN / 4];
    buf[..3].copy_from_slice(&[ETHTOOL_GSTRINGS, ETH_SS_FEATURES, info.count]);
    ethtool(fd, dev, buf.as_mut_ptr().cast())?;
    let bytes: Vec<u8> = buf[3..].iter().flat_map(|w| w.to_ne_bytes()).collect();
    Ok(bytes
        .chunks(ETH_GSTRING_LEN)
        .map(|c| {
            let end = c.iter().position(|&b| b == 0).unwrap_or(c.len());
            String::from_utf8_lossy(&c[..end]).into_owned()
        })
        .collect())
}

/// The device's feature words (`struct ethtool_gfeatures`): per block of 32 features,
/// available, requested, active, never_changed.
fn features(fd: libc::c_int, dev: &str, blocks: usize) -> io::Result<Vec<[u32; 4]>> {
    let mut buf = vec![0u32; 2 + 4 * blocks];
    buf[..2].copy_from_slice(&[ETHTOOL_GFEATURES, blocks as u32]);
    ethtool(fd, dev, buf.as_mut_ptr().cast())?;
    Ok(buf[2..]
        .chunks(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect())
}

/// Switches off every feature [`must_be_off`] names on a device of the calling thread's
/// namespace, then reads them back: an error names any still on.
pub(crate) fn offloads_off(dev: &str) -> io::Result<()> {
    // SAFETY: plain socket(2); the fd is owned by `sock` below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nothing else owns.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let fd = sock.as_raw_fd();
    let context = |e: io::Error| io::Error::new(e.kind(), format!("{dev}: offloads: {e}"));
    let names = feature_names(fd, dev).map_err(context)?;
    let blocks = names.len().div_ceil(32);
    let before = features(fd, dev, blocks).map_err(context)?;
    // struct ethtool_sfeatures: cmd, size, then per block valid, requested (0: off).
    let mut set = vec![0u32; 2 + 2 * blocks];
    set[..2].copy_from_slice(&[ETHTOOL_SFEATURES, blocks as u32]);
    for (i, name) in names.iter().enumerate() {
        let (block, bit) = (i / 32, 1u32 << (i % 32));
        if must_be_off(name) && before[block][0] & bit != 0 {
            set[2 + 2 * block] |= bit;
        }
    }
    ethtool(fd, dev, set.as_mut_ptr().cast()).map_err(context)?;
    let after = features(fd, dev, blocks).map_err(context)?;
    let still_on: Vec<&str> = names
        .iter()
        .enumerate()
        .filter(|(i, name)| must_be_off(name) && after[i / 32][2] & (1 << (i % 32)) != 0)
        .map(|(_, name)| name.as_str())
        .collect();
    if !still_on.is_empty() {
        return Err(io::Error::other(format!(
            "{dev}: still on after switching them off: {}",
            still_on.join(" ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offloads_a_userspace_router_needs_off() {
        for on in [
            "tx-checksum-ip-generic",
            "tx-checksum-ipv4",
            "tx-tcp-segmentation",
            "tx-tcp6-segmentation",
            "tx-tcp-accecn-segmentation",
            "tx-generic-segmentation",
            "tx-udp-segmentation",
            "tx-gso-list",
            "rx-gro",
            "rx-gro-list",
            "rx-gro-hw",
            "rx-lro",
        ] {
            assert!(must_be_off(on), "{on}");
        }
        for fine in [
            "rx-checksum",
            "tx-scatter-gather",
            "rx-vlan-hw-parse",
            "highdma",
        ] {
            assert!(!must_be_off(fine), "{fine}");
        }
    }
}
