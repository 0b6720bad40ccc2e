//! Start-up checks and fixes for a port, and the guard that keeps the host stack off the ports.
//!
//! A port works for a user-space router only when (lab.md):
//! - GRO and LRO are off, or the socket is handed coalesced super-frames (up to 64 KB) that no
//!   egress port can send;
//! - the kernel has no IPv4 address on it and IPv6 is off, or the host stack answers, forwards
//!   and resets in parallel with the router;
//! - the kernel does not answer ARP on it for the router's addresses, which live on the TUN
//!   device ([`super::Tun`]) and so are "local" to the host (`arp_ignore` = 8);
//! - the host stack drops whatever arrives on it (the nft guard, [`KernelGuard`]): taps such as
//!   `AF_PACKET` sockets see frames before netfilter's prerouting hook, so the router still
//!   gets them.
//!
//! [`prepare_port`] fixes what it safely can (link down, GRO/LRO on, IPv6, `arp_ignore`),
//! reports each change, and refuses what belongs to the operator (kernel addresses).

use super::sys::{self, CtlSocket, Offload};
use super::{failed, run_command, PortError};
use std::fmt;
use std::io;
use std::path::PathBuf;

/// The nft table (family `inet`) that [`KernelGuard`] loads.
pub const GUARD_TABLE: &str = "statewall_guard";

/// One thing [`prepare_port`] changed on a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The link was down; it was set up.
    BroughtUp,
    /// Generic receive offload was on; switched off.
    GroOff,
    /// Large receive offload was on; switched off.
    LroOff,
    /// A sysctl under `/proc/sys/` was changed (restored when the [`SysctlGuard`] drops).
    Sysctl {
        key: String,
        old: String,
        new: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::BroughtUp => f.write_str("link set up"),
            Change::GroOff => f.write_str("gro off"),
            Change::LroOff => f.write_str("lro off"),
            Change::Sysctl { key, old, new } => write!(f, "{key} {old} -> {new}"),
        }
    }
}

/// What [`prepare_port`] found and did. Keep it for as long as the router runs the port:
/// dropping it puts the port's sysctls back.
#[derive(Debug)]
pub struct PortReport {
    pub name: String,
    pub ifindex: u32,
    pub mac: [u8; 6],
    pub mtu: u16,
    pub changes: Vec<Change>,
    pub guard: SysctlGuard,
}

impl fmt::Display for PortReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (ifindex {}, mtu {}): ",
            self.name, self.ifindex, self.mtu
        )?;
        if self.changes.is_empty() {
            return f.write_str("ready as found");
        }
        for (i, c) in self.changes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Checks `name` and fixes what statewall may fix; see the module docs for the list.
///
/// Refuses, before changing anything, a port that carries kernel IPv4 addresses; refuses a
/// port whose GRO or LRO cannot be switched off, with the `ethtool` command to run.
pub fn prepare_port(name: &str) -> Result<PortReport, PortError> {
    let ifindex = sys::if_index(name).map_err(failed(name, "looking up the interface"))?;
    let ctl = CtlSocket::open().map_err(failed(name, "opening a control socket"))?;
    let mac = ctl
        .mac(name)
        .map_err(failed(name, "reading the MAC address"))?;

    let addrs = sys::ipv4_addrs(name).map_err(failed(name, "listing the kernel's addresses"))?;
    if !addrs.is_empty() {
        let list: Vec<String> = addrs.iter().map(|(a, p)| format!("{a}/{p}")).collect();
        let (noun, them) = if list.len() == 1 {
            ("address", "it")
        } else {
            ("addresses", "them")
        };
        return Err(PortError::Refused {
            port: name.to_string(),
            message: format!(
                "{name} has the kernel {noun} {}: remove {them} (ip addr flush dev {name}); \
                 statewall owns the port's addresses",
                list.join(", ")
            ),
        });
    }

    let mut changes = Vec::new();
    if ctl
        .bring_up(name)
        .map_err(failed(name, "bringing the link up"))?
    {
        changes.push(Change::BroughtUp);
    }
    let mtu = ctl.mtu(name).map_err(failed(name, "reading the MTU"))?;

    let ethtool_hint = |what: &str, e: Option<io::Error>| PortError::Refused {
        port: name.to_string(),
        message: format!(
            "{name}: {what} is on and could not be switched off{}; run `ethtool -K {name} gro off \
             lro off` (a user-space router needs whole frames, not coalesced ones)",
            e.map(|e| format!(" ({e})")).unwrap_or_default()
        ),
    };
    for (offload, change) in [
        (Offload::Gro, Change::GroOff),
        (Offload::Lro, Change::LroOff),
    ] {
        let reading = format!("reading the {} setting (SIOCETHTOOL)", offload.label());
        if !ctl
            .offload_on(name, offload)
            .map_err(failed(name, &reading))?
        {
            continue;
        }
        ctl.switch_off(name, offload)
            .map_err(|e| ethtool_hint(offload.label(), Some(e)))?;
        if ctl
            .offload_on(name, offload)
            .map_err(failed(name, &reading))?
        {
            return Err(ethtool_hint(offload.label(), None));
        }
        changes.push(change);
    }

    let mut guard = SysctlGuard::default();
    // No IPv6 on the port: the host would autoconfigure, send router solicitations and answer
    // neighbour discovery on it. (A kernel without IPv6 has no such file: nothing to do.)
    let key = format!("net/ipv6/conf/{name}/disable_ipv6");
    match guard.set(&key, "1") {
        Ok(Some(c)) => changes.push(c),
        Ok(None) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(name, &format!("setting {key}"))(e)),
    }
    // 8: answer no ARP request at all on this port; the router answers for its addresses.
    let key = format!("net/ipv4/conf/{name}/arp_ignore");
    if let Some(c) = guard
        .set(&key, "8")
        .map_err(failed(name, &format!("setting {key}")))?
    {
        changes.push(c);
    }

    Ok(PortReport {
        name: name.to_string(),
        ifindex,
        mac,
        mtu,
        changes,
        guard,
    })
}

/// Sysctls changed under `/proc/sys/`, put back to their old values on drop (in reverse order).
/// Drop it on a thread in the namespace it was made in.
#[derive(Debug, Default)]
pub struct SysctlGuard {
    restore: Vec<(PathBuf, String)>,
}

impl SysctlGuard {
    /// Sets `key` (a path under /proc/sys) to `value`; returns the change if there was one.
    fn set(&mut self, key: &str, value: &str) -> io::Result<Option<Change>> {
        let path = PathBuf::from("/proc/sys").join(key);
        let old = std::fs::read_to_string(&path)?.trim().to_string();
        if old == value {
            return Ok(None);
        }
        std::fs::write(&path, value)?;
        self.restore.push((path, old.clone()));
        Ok(Some(Change::Sysctl {
            key: key.to_string(),
            old,
            new: value.to_string(),
        }))
    }
}

impl Drop for SysctlGuard {
    fn drop(&mut self) {
        for (path, old) in self.restore.drain(..).rev() {
            match std::fs::write(&path, &old) {
                Ok(()) => {}
                // The interface is gone, and its settings with it.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "could not restore sysctl")
                }
            }
        }
    }
}

/// An nft table that makes the host stack drop everything arriving on the ports (`inet`
/// family, prerouting at priority raw, before connection tracking). Removed on drop.
///
/// Without it the kernel would act on the router's traffic too (lab.md pitfalls 2 and 3):
/// forward it a second time, or answer replies aimed at NAT ports with resets. `AF_PACKET`
/// sockets still see every frame: taps run before netfilter's hooks.
#[derive(Debug)]
pub struct KernelGuard {
    ports: String,
}

impl KernelGuard {
    /// Loads the guard for these ports, replacing a guard table left by an earlier run.
    pub fn install<S: AsRef<str>>(ports: &[S]) -> Result<KernelGuard, PortError> {
        let names: Vec<&str> = ports.iter().map(AsRef::as_ref).collect();
        let label = names.join(",");
        let script = guard_script(&names).map_err(|message| PortError::Refused {
            port: label.clone(),
            message,
        })?;
        run_command(
            &label,
            "loading the nft guard",
            &["nft", "-f", "-"],
            Some(&script),
        )?;
        tracing::debug!(ports = %label, table = GUARD_TABLE, "kernel guard loaded");
        Ok(KernelGuard { ports: label })
    }
}

impl Drop for KernelGuard {
    fn drop(&mut self) {
        if let Err(e) = run_command(
            &self.ports,
            "removing the nft guard",
            &["nft", "delete", "table", "inet", GUARD_TABLE],
            None,
        ) {
            tracing::warn!(error = %e, "kernel guard not removed");
        }
    }
}

/// The guard table as an nft script: declares and deletes any older copy first, so loading is
/// one atomic replace.
fn guard_script(ports: &[&str]) -> Result<String, String> {
    if ports.is_empty() {
        return Err("the kernel guard needs at least one port".into());
    }
    let mut set = Vec::new();
    for p in ports {
        if p.is_empty() || p.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
            return Err(format!("{p:?}: not an interface name nft can quote"));
        }
        set.push(format!("\"{p}\""));
    }
    Ok(format!(
        "table inet {t}\ndelete table inet {t}\ntable inet {t} {{\n  chain prerouting {{\n    \
         type filter hook prerouting priority raw; policy accept;\n    iifname {{ {} }} drop\n  \
         }}\n}}\n",
        set.join(", "),
        t = GUARD_TABLE
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_drops_only_the_named_ports() {
        let s = guard_script(&["ether1", "ether2"]).unwrap();
        assert_eq!(
            s,
            "table inet statewall_guard\ndelete table inet statewall_guard\n\
             table inet statewall_guard {\n  chain prerouting {\n    \
             type filter hook prerouting priority raw; policy accept;\n    \
             iifname { \"ether1\", \"ether2\" } drop\n  }\n}\n"
        );
        assert!(guard_script(&[]).is_err());
        assert!(guard_script(&["bad\"name"]).is_err());
        assert!(guard_script(&[""]).is_err());
    }

    #[test]
    fn a_report_lists_what_changed() {
        let mut r = PortReport {
            name: "ether2".into(),
            ifindex: 4,
            mac: [2, 0, 0, 0, 2, 1],
            mtu: 1500,
            changes: vec![],
            guard: SysctlGuard::default(),
        };
        assert_eq!(
            r.to_string(),
            "ether2 (ifindex 4, mtu 1500): ready as found"
        );
        r.changes = vec![
            Change::BroughtUp,
            Change::GroOff,
            Change::Sysctl {
                key: "net/ipv4/conf/ether2/arp_ignore".into(),
                old: "0".into(),
                new: "8".into(),
            },
        ];
        assert_eq!(
            r.to_string(),
            "ether2 (ifindex 4, mtu 1500): link set up, gro off, \
             net/ipv4/conf/ether2/arp_ignore 0 -> 8"
        );
    }

    #[test]
    fn preparing_a_missing_port_names_it() {
        let e = prepare_port("swlp-missing0").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("swlp-missing0: looking up the interface"),
            "{e}"
        );
    }
}
