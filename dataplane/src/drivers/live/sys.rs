//! The few system calls the live drivers need, each wrapped once with its `unsafe` reasoning.
//!
//! Interface facts come from `SIOC*` ioctls on a socket the calling thread opens, so they follow
//! the thread's network namespace (unlike `/sys/class/net`).

use std::ffi::{CStr, CString};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

// linux/ethtool.h: the legacy one-feature commands, supported by every driver that supports
// the feature at all.
const ETHTOOL_GFLAGS: u32 = 0x25;
const ETHTOOL_SFLAGS: u32 = 0x26;
const ETHTOOL_GGRO: u32 = 0x2b;
const ETHTOOL_SGRO: u32 = 0x2c;
const ETH_FLAG_LRO: u32 = 1 << 15;

/// `struct ethtool_value`.
#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

/// An `ifreq` naming `name`; refuses names the kernel could not hold.
pub(super) fn ifreq(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a valid interface name",
        ));
    }
    // SAFETY: ifreq is plain old data (integers, arrays, a pointer in a union); all zeroes is
    // a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, &src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    Ok(req)
}

/// The name the kernel wrote back into an `ifreq`.
pub(super) fn ifreq_name(req: &libc::ifreq) -> String {
    let bytes: Vec<u8> = req
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A datagram socket used only as a handle for interface ioctls.
pub(super) struct CtlSocket(OwnedFd);

impl CtlSocket {
    pub(super) fn open() -> io::Result<CtlSocket> {
        // SAFETY: plain socket(2); the result is checked before use.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        owned(fd).map(CtlSocket)
    }

    fn ioctl(&self, request: libc::c_ulong, req: &mut libc::ifreq) -> io::Result<()> {
        // SAFETY: every request used here reads and/or writes one `struct ifreq` (for
        // SIOCETHTOOL, plus the `ethtool_value` its data pointer names, kept alive by the
        // caller); `req` is a valid, exclusive ifreq.
        let rc = unsafe { libc::ioctl(self.0.as_raw_fd(), request as _, req as *mut libc::ifreq) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub(super) fn flags(&self, name: &str) -> io::Result<libc::c_int> {
        let mut req = ifreq(name)?;
        self.ioctl(libc::SIOCGIFFLAGS, &mut req)?;
        // SAFETY: SIOCGIFFLAGS filled the flags member.
        Ok(libc::c_int::from(unsafe { req.ifr_ifru.ifru_flags }) & 0xffff)
    }

    pub(super) fn set_flags(&self, name: &str, flags: libc::c_int) -> io::Result<()> {
        let mut req = ifreq(name)?;
        req.ifr_ifru.ifru_flags = flags as libc::c_short;
        self.ioctl(libc::SIOCSIFFLAGS, &mut req)
    }

    /// Sets IFF_UP if it is not set; returns whether it had to.
    pub(super) fn bring_up(&self, name: &str) -> io::Result<bool> {
        let flags = self.flags(name)?;
        if flags & libc::IFF_UP != 0 {
            return Ok(false);
        }
        self.set_flags(name, flags | libc::IFF_UP)?;
        Ok(true)
    }

    pub(super) fn mtu(&self, name: &str) -> io::Result<u16> {
        let mut req = ifreq(name)?;
        self.ioctl(libc::SIOCGIFMTU, &mut req)?;
        // SAFETY: SIOCGIFMTU filled the mtu member.
        let mtu = unsafe { req.ifr_ifru.ifru_mtu };
        u16::try_from(mtu).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("MTU {mtu} is beyond what an Ethernet port can carry"),
            )
        })
    }

    pub(super) fn set_mtu(&self, name: &str, mtu: u16) -> io::Result<()> {
        let mut req = ifreq(name)?;
        req.ifr_ifru.ifru_mtu = libc::c_int::from(mtu);
        self.ioctl(libc::SIOCSIFMTU, &mut req)
    }

    pub(super) fn mac(&self, name: &str) -> io::Result<[u8; 6]> {
        let mut req = ifreq(name)?;
        self.ioctl(libc::SIOCGIFHWADDR, &mut req)?;
        // SAFETY: SIOCGIFHWADDR filled the hwaddr member.
        let sa = unsafe { req.ifr_ifru.ifru_hwaddr };
        if sa.sa_family != libc::ARPHRD_ETHER {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not an Ethernet interface (link type {})", sa.sa_family),
            ));
        }
        let mut mac = [0u8; 6];
        for (dst, &src) in mac.iter_mut().zip(sa.sa_data.iter()) {
            *dst = src as u8;
        }
        Ok(mac)
    }

    fn ethtool(&self, name: &str, cmd: u32, data: u32) -> io::Result<u32> {
        let mut value = EthtoolValue { cmd, data };
        let mut req = ifreq(name)?;
        req.ifr_ifru.ifru_data = (&mut value as *mut EthtoolValue).cast();
        self.ioctl(libc::SIOCETHTOOL, &mut req)?;
        Ok(value.data)
    }

    /// Whether the offload is on; `Ok(false)` for LRO on drivers without the legacy flags
    /// (they have no LRO to switch on).
    pub(super) fn offload_on(&self, name: &str, offload: Offload) -> io::Result<bool> {
        match offload {
            Offload::Gro => self.ethtool(name, ETHTOOL_GGRO, 0).map(|v| v != 0),
            Offload::Lro => match self.ethtool(name, ETHTOOL_GFLAGS, 0) {
                Ok(flags) => Ok(flags & ETH_FLAG_LRO != 0),
                Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => Ok(false),
                Err(e) => Err(e),
            },
        }
    }

    pub(super) fn switch_off(&self, name: &str, offload: Offload) -> io::Result<()> {
        match offload {
            Offload::Gro => self.ethtool(name, ETHTOOL_SGRO, 0).map(drop),
            Offload::Lro => {
                let flags = self.ethtool(name, ETHTOOL_GFLAGS, 0)?;
                self.ethtool(name, ETHTOOL_SFLAGS, flags & !ETH_FLAG_LRO)
                    .map(drop)
            }
        }
    }
}

/// The receive offloads that coalesce frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Offload {
    Gro,
    Lro,
}

impl Offload {
    pub(super) fn label(self) -> &'static str {
        match self {
            Offload::Gro => "GRO",
            Offload::Lro => "LRO",
        }
    }
}

pub(super) fn owned(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor from a successful call, owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The interface's index, in the calling thread's namespace.
pub(super) fn if_index(name: &str) -> io::Result<u32> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "not a valid interface name"))?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(index)
}

/// The IPv4 addresses (with prefix lengths) the kernel has on the interface.
pub(super) fn ipv4_addrs(name: &str) -> io::Result<Vec<(Ipv4Addr, u8)>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed; its name is a
        // NUL-terminated string and its address pointers are null or point at sockaddrs of
        // the family they announce.
        unsafe {
            let ifa = &*cur;
            cur = ifa.ifa_next;
            if ifa.ifa_addr.is_null()
                || i32::from((*ifa.ifa_addr).sa_family) != libc::AF_INET
                || CStr::from_ptr(ifa.ifa_name).to_bytes() != name.as_bytes()
            {
                continue;
            }
            let addr = &*(ifa.ifa_addr as *const libc::sockaddr_in);
            let prefix = if ifa.ifa_netmask.is_null() {
                32
            } else {
                let mask = &*(ifa.ifa_netmask as *const libc::sockaddr_in);
                u32::from_be(mask.sin_addr.s_addr).count_ones() as u8
            };
            found.push((Ipv4Addr::from(u32::from_be(addr.sin_addr.s_addr)), prefix));
        }
    }
    // SAFETY: the list came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(found)
}

/// Sets an integer socket option.
pub(super) fn set_int_opt(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value is one c_int, passed by pointer with its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads an integer socket option.
pub(super) fn int_opt(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `value`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

/// Waits up to `timeout` for `fd` to become readable; `Ok(false)` on timeout or a signal.
pub(super) fn poll_readable(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd.
    let rc = unsafe { libc::poll(&mut p, 1, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(rc > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_must_fit_the_kernel() {
        assert!(ifreq("ether1").is_ok());
        assert!(ifreq("").is_err());
        assert!(ifreq("a-name-far-too-long").is_err());
        assert!(ifreq("nul\0inside").is_err());
        assert_eq!(ifreq_name(&ifreq("ether12").unwrap()), "ether12");
    }

    #[test]
    fn loopback_is_visible_without_privileges() {
        let ctl = CtlSocket::open().unwrap();
        assert!(if_index("lo").unwrap() > 0);
        assert_ne!(ctl.flags("lo").unwrap() & libc::IFF_LOOPBACK, 0);
        // Loopback is not Ethernet: refused rather than misread.
        assert!(ctl.mac("lo").is_err());
        assert!(if_index("swlp-none").is_err());
    }
}
