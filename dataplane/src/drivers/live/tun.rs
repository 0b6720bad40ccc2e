//! The TUN device that joins the router to the host's own network stack.
//!
//! The ports carry no kernel addresses (see [`super::prepare_port`]), so the host's services
//! (SSH, the REST API, DNS, NTP) cannot be reached through them directly. Instead the router's
//! addresses live on this TUN device: the host stack owns them there and its services answer on
//! them as usual, while every packet still crosses the router's pipeline and so its input and
//! output chains:
//!
//! ```text
//! port ─► pipeline ─ input chain ─► Dest::Local frame ─► Tun::deliver ─► host stack
//!                                                        (Ethernet header off)
//! host stack ─► Tun::recv_frame ─► Router::output ─ output chain ─► port
//!               (bare IPv4, a blank Ethernet header put on)
//! ```
//!
//! The device is an `IFF_TUN | IFF_NO_PI` device (bare IP packets, no protocol prefix), not
//! persistent: the kernel deletes it when the descriptor closes, that is when the [`Tun`] drops,
//! taking its addresses and routes with it.

use super::sys::{self, CtlSocket};
use super::{failed, run_command, PortError};
use crate::wire::{ETHERNET_HEADER_LEN, ETHERTYPE_IPV4};
use std::ffi::CStr;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

const TUN_PATH: &CStr = c"/dev/net/tun";

/// The router's door into the host stack. `read` and `write` take `&self`, so one thread may
/// read while another writes (share it in an `Arc`).
#[derive(Debug)]
pub struct Tun {
    fd: OwnedFd,
    name: String,
    ifindex: u32,
    mtu: u16,
    timeout: Duration,
}

impl Tun {
    /// The MTU a new device gets.
    pub const DEFAULT_MTU: u16 = 1500;

    /// Creates the device `name` in the calling thread's namespace, switches IPv6 off on it
    /// (the pipeline is IPv4), sets the MTU to [`Tun::DEFAULT_MTU`] and brings it up.
    pub fn create(name: &str) -> Result<Tun, PortError> {
        // SAFETY: open(2) of a constant NUL-terminated path, checked by `owned`.
        let raw = unsafe {
            libc::open(
                TUN_PATH.as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        let fd = sys::owned(raw).map_err(failed(name, "opening /dev/net/tun"))?;
        let mut req = sys::ifreq(name).map_err(failed(name, "naming the TUN device"))?;
        req.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes one `struct ifreq`.
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF as _, &mut req) };
        if rc < 0 {
            return Err(failed(name, "creating the TUN device (TUNSETIFF)")(
                io::Error::last_os_error(),
            ));
        }
        // The kernel may have completed a pattern such as "sw%d".
        let created = sys::ifreq_name(&req);
        let name = created.as_str();
        let ifindex = sys::if_index(name).map_err(failed(name, "looking up the TUN device"))?;
        let key = format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6");
        match std::fs::write(&key, "1") {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(failed(name, &format!("writing {key}"))(e)),
        }
        let ctl = CtlSocket::open().map_err(failed(name, "opening a control socket"))?;
        ctl.set_mtu(name, Self::DEFAULT_MTU)
            .map_err(failed(name, "setting the MTU"))?;
        ctl.bring_up(name)
            .map_err(failed(name, "bringing the link up"))?;
        tracing::debug!(tun = %name, ifindex, "TUN device created");
        Ok(Tun {
            fd,
            name: created,
            ifindex,
            mtu: Self::DEFAULT_MTU,
            timeout: Duration::from_millis(100),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    pub fn mtu(&self) -> u16 {
        self.mtu
    }

    /// Sets the device's MTU (use the largest of the ports'; the pipeline fragments or answers
    /// frag-needed per egress port).
    pub fn set_mtu(&mut self, mtu: u16) -> Result<(), PortError> {
        let ctl = CtlSocket::open()
            .map_err(|e| PortError::os(&self.name, "opening a control socket", e))?;
        ctl.set_mtu(&self.name, mtu)
            .map_err(|e| PortError::os(&self.name, "setting the MTU", e))?;
        self.mtu = mtu;
        Ok(())
    }

    /// How long [`Tun::read`] and [`Tun::recv_frame`] wait at most (100 ms at first).
    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Gives the host stack one of the router's addresses (`ip addr add`); the connected
    /// route comes with it, through this device.
    pub fn add_address(&self, addr: Ipv4Addr, prefix_len: u8) -> Result<(), PortError> {
        if prefix_len > 32 {
            return Err(PortError::Refused {
                port: self.name.clone(),
                message: format!("{}: {addr}/{prefix_len} is not an IPv4 prefix", self.name),
            });
        }
        let cidr = format!("{addr}/{prefix_len}");
        run_command(
            &self.name,
            &format!("adding the address {cidr}"),
            &["ip", "addr", "replace", &cidr, "dev", &self.name],
            None,
        )
    }

    /// Takes an address off the device (`ip addr del`), when the configuration drops it.
    pub fn remove_address(&self, addr: Ipv4Addr, prefix_len: u8) -> Result<(), PortError> {
        let cidr = format!("{addr}/{prefix_len}");
        run_command(
            &self.name,
            &format!("removing the address {cidr}"),
            &["ip", "addr", "del", &cidr, "dev", &self.name],
            None,
        )
    }

    /// Routes everything the host does not know better through the router
    /// (`ip route replace default dev <tun>`).
    pub fn set_default_route(&self) -> Result<(), PortError> {
        run_command(
            &self.name,
            "setting the default route",
            &["ip", "route", "replace", "default", "dev", &self.name],
            None,
        )
    }

    /// Reads one packet the host stack sent (bare IP) into `buf`; `Ok(None)` when none came
    /// within the timeout. A packet longer than `buf` is cut to it by the kernel.
    pub fn read(&self, buf: &mut [u8]) -> Result<Option<usize>, PortError> {
        if !sys::poll_readable(self.fd.as_raw_fd(), self.timeout)
            .map_err(|e| PortError::os(&self.name, "waiting for the TUN device", e))?
        {
            return Ok(None);
        }
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) {
                return Ok(None);
            }
            return Err(PortError::os(&self.name, "reading the TUN device", e));
        }
        Ok(Some(n as usize))
    }

    /// Hands one IP packet to the host stack, as if it had arrived on this device.
    pub fn write(&self, ip_packet: &[u8]) -> Result<(), PortError> {
        // SAFETY: the kernel reads `ip_packet.len()` bytes from `ip_packet`.
        let n = unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                ip_packet.as_ptr().cast(),
                ip_packet.len(),
            )
        };
        if n < 0 {
            return Err(PortError::os(
                &self.name,
                "writing the TUN device",
                io::Error::last_os_error(),
            ));
        }
        Ok(())
    }

    /// Delivers a frame the pipeline addressed to the router itself (`Dest::Local`): the IPv4
    /// packet inside goes to the host stack.
    pub fn deliver(&self, frame: &[u8]) -> Result<(), PortError> {
        match ipv4_payload(frame) {
            Some(packet) => self.write(packet),
            None => Err(PortError::os(
                &self.name,
                "delivering a frame",
                io::Error::new(io::ErrorKind::InvalidInput, "not an Ethernet IPv4 frame"),
            )),
        }
    }

    /// Reads one packet the host stack sent and frames it for `Router::output`: an Ethernet
    /// header (addresses zero, filled in by the pipeline; type IPv4) and the packet.
    /// `Ok(None)` on timeout, and for anything but IPv4 (dropped).
    pub fn recv_frame(&self) -> Result<Option<Vec<u8>>, PortError> {
        // One byte more than the MTU, so a packet cut short by the buffer is recognised.
        let mut frame = vec![0u8; ETHERNET_HEADER_LEN + usize::from(self.mtu) + 1];
        let Some(n) = self.read(&mut frame[ETHERNET_HEADER_LEN..])? else {
            return Ok(None);
        };
        if n > usize::from(self.mtu) || frame.get(ETHERNET_HEADER_LEN).map(|b| b >> 4) != Some(4) {
            return Ok(None);
        }
        frame.truncate(ETHERNET_HEADER_LEN + n);
        frame[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        Ok(Some(frame))
    }
}

/// The IPv4 packet of an Ethernet frame, if it is one.
fn ipv4_payload(frame: &[u8]) -> Option<&[u8]> {
    let ethertype = frame.get(12..14)?;
    if ethertype != ETHERTYPE_IPV4.to_be_bytes() {
        return None;
    }
    frame.get(ETHERNET_HEADER_LEN..).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::build;

    #[test]
    fn only_ipv4_frames_are_delivered() {
        let f = build::icmp_echo_frame(
            Ipv4Addr::new(192, 0, 2, 2),
            Ipv4Addr::new(192, 0, 2, 1),
            8,
            1,
            1,
        );
        assert_eq!(ipv4_payload(&f), Some(&f[14..]));
        let mut arp = f.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(ipv4_payload(&arp), None);
        assert_eq!(ipv4_payload(&f[..14]), None);
        assert_eq!(ipv4_payload(&f[..10]), None);
    }
}
