//! The lab's network: namespaces, the LAN switch (a bridge), the veths, addresses and routes.
//!
//! ```text
//!  pc1 pc2 pc3 web          198.51.100.10-12, .20/24, default via .1
//!    \  |   |  /
//!      lan (br0)
//!         |
//!   ether2 rtr ether1       statewall (or, with --kernel, Linux): .1 / 203.0.113.2
//!                 |
//!                wan        203.0.113.1/24; 192.0.2.10 and 192.0.2.53 on lo
//! ```
//!
//! Each veth is created inside one lab namespace with its peer in another (`ip -n A link add …
//! peer … netns B`), so no link ever exists in the host's namespace, not even for a moment.

use super::netns::{self, ip};
use super::{
    config, LabError, Node, INTERNET_DNS, INTERNET_HTTP, ISP, LAN_PREFIX_LEN, PC_ADDRS, ROUTER_LAN,
    ROUTER_LAN_PORT, ROUTER_WAN, ROUTER_WAN_PORT, WAN_PREFIX_LEN, WEB,
};
use std::net::Ipv4Addr;

/// The name of every host's port, and of the WAN's port to the router.
pub const HOST_PORT: &str = "eth0";
/// The LAN switch.
pub const BRIDGE: &str = "br0";
/// The WAN's device for the internet servers' addresses (lo: some kernels, such as this
/// project's VMs, have no `dummy` driver).
pub const SERVERS_DEV: &str = "lo";

/// A fixed, locally administered MAC: `02:73:77:GG:00:HH` ("sw").
pub fn mac(group: u8, host: u8) -> String {
    format!("02:73:77:{group:02x}:00:{host:02x}")
}

/// MAC of the router's `ether1`, `ether2`.
pub const ROUTER_MACS: [&str; 2] = ["02:73:77:00:00:01", "02:73:77:00:00:02"];

/// The LAN hosts and their addresses.
pub fn lan_hosts() -> [(Node, Ipv4Addr); 4] {
    [
        (Node::Pc1, PC_ADDRS[0]),
        (Node::Pc2, PC_ADDRS[1]),
        (Node::Pc3, PC_ADDRS[2]),
        (Node::Web, WEB),
    ]
}

/// The lab's namespaces that exist now (left by a lab that was killed).
pub(crate) fn existing(ns: &dyn Fn(Node) -> String) -> Vec<String> {
    let names: Vec<String> = Node::ALL.iter().map(|&n| ns(n)).collect();
    netns::list()
        .into_iter()
        .filter(|n| names.contains(n))
        .collect()
}

/// Deletes namespaces (with them go their veths, and the peers in other namespaces). Every one
/// is tried; the errors are returned.
pub(crate) fn remove(names: &[String]) -> Vec<LabError> {
    names
        .iter()
        .rev()
        .filter(|n| netns::netns_path(n).exists())
        .filter_map(|n| ip(&["netns", "del", n]).err())
        .collect()
}

/// Builds the network. Each namespace made is pushed onto `created` at once, so the caller can
/// remove what exists if a later step fails. `kernel`: the kernel routes (addresses on the
/// router ports, ip_forward, the nft ruleset); otherwise the ports stay bare for statewall.
pub(crate) fn build(
    ns: &dyn Fn(Node) -> String,
    created: &mut Vec<String>,
    kernel: bool,
) -> Result<(), LabError> {
    let io = |what: String| {
        move |e: std::io::Error| LabError::Io {
            context: what,
            source: e,
        }
    };
    for node in Node::ALL {
        let name = ns(node);
        ip(&["netns", "add", &name])?;
        created.push(name.clone());
        netns::run_in(&name, || -> std::io::Result<()> {
            // No IPv6: statewall routes IPv4, and router solicitations and MLD would only be
            // noise on its ports (lab.md, pitfall 4).
            netns::sysctl("net/ipv6/conf/all/disable_ipv6", "1")?;
            netns::sysctl("net/ipv6/conf/default/disable_ipv6", "1")?;
            if node == Node::Rtr {
                // With statewall the kernel must stay out of the data path (lab.md, pitfall 2).
                netns::sysctl("net/ipv4/ip_forward", if kernel { "1" } else { "0" })?;
            }
            Ok(())
        })
        .and_then(|r| r)
        .map_err(io(format!("sysctls in {name}")))?;
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
    }
    let (lan, rtr, wan) = (ns(Node::Lan), ns(Node::Rtr), ns(Node::Wan));

    // The LAN switch and its ports.
    ip(&[
        "-n",
        &lan,
        "link",
        "add",
        BRIDGE,
        "address",
        &mac(2, 0),
        "type",
        "bridge",
    ])?;
    ip(&[
        "-n",
        &lan,
        "link",
        "set",
        BRIDGE,
        "type",
        "bridge",
        "stp_state",
        "0",
    ])?;
    let mut switch_ports = vec![("p-rtr".to_string(), mac(2, 1))];
    ip(&[
        "-n",
        &lan,
        "link",
        "add",
        "p-rtr",
        "address",
        &mac(2, 1),
        "type",
        "veth",
        "peer",
        "name",
        ROUTER_LAN_PORT,
        "address",
        ROUTER_MACS[1],
        "netns",
        &rtr,
    ])?;
    for (node, addr) in lan_hosts() {
        let port = format!("p-{}", node.suffix());
        let last = addr.octets()[3];
        ip(&[
            "-n",
            &lan,
            "link",
            "add",
            &port,
            "address",
            &mac(2, last),
            "type",
            "veth",
            "peer",
            "name",
            HOST_PORT,
            "address",
            &mac(3, last),
            "netns",
            &ns(node),
        ])?;
        switch_ports.push((port, mac(2, last)));
    }
    ip(&[
        "-n",
        &wan,
        "link",
        "add",
        HOST_PORT,
        "address",
        &mac(1, 1),
        "type",
        "veth",
        "peer",
        "name",
        ROUTER_WAN_PORT,
        "address",
        ROUTER_MACS[0],
        "netns",
        &rtr,
    ])?;

    // Offloads off on every veth end: complete checksums and MTU-sized frames for a userspace
    // router (lab.md, pitfall 1), and the same conditions for the kernel when it routes.
    let off = |name: &str, devs: Vec<String>| {
        netns::run_in(name, || {
            devs.iter().try_for_each(|d| netns::offloads_off(d))
        })
        .and_then(|r| r)
        .map_err(io(format!("offloads in {name}")))
    };
    off(&lan, switch_ports.iter().map(|(p, _)| p.clone()).collect())?;
    for (node, _) in lan_hosts() {
        off(&ns(node), vec![HOST_PORT.into()])?;
    }
    off(&wan, vec![HOST_PORT.into()])?;
    off(&rtr, vec![ROUTER_WAN_PORT.into(), ROUTER_LAN_PORT.into()])?;

    ip(&["-n", &lan, "link", "set", BRIDGE, "up"])?;
    for (port, _) in &switch_ports {
        ip(&["-n", &lan, "link", "set", port, "master", BRIDGE, "up"])?;
    }

    let lan_len = LAN_PREFIX_LEN.to_string();
    for (node, addr) in lan_hosts() {
        let host = ns(node);
        ip(&[
            "-n",
            &host,
            "addr",
            "add",
            &format!("{addr}/{lan_len}"),
            "dev",
            HOST_PORT,
        ])?;
        ip(&["-n", &host, "link", "set", HOST_PORT, "up"])?;
        ip(&[
            "-n",
            &host,
            "route",
            "add",
            "default",
            "via",
            &ROUTER_LAN.to_string(),
        ])?;
    }

    // The ISP side and the "internet".
    ip(&[
        "-n",
        &wan,
        "addr",
        "add",
        &format!("{ISP}/{WAN_PREFIX_LEN}"),
        "dev",
        HOST_PORT,
    ])?;
    ip(&["-n", &wan, "link", "set", HOST_PORT, "up"])?;
    for server in [INTERNET_HTTP, INTERNET_DNS] {
        ip(&[
            "-n",
            &wan,
            "addr",
            "add",
            &format!("{server}/32"),
            "dev",
            SERVERS_DEV,
        ])?;
    }
    // Only for the unsolicited probes: an ISP would not route the customer's private LAN, but
    // a neighbour on the WAN segment can aim packets at it, and the firewall must drop them.
    let lan_net = format!("{}/{lan_len}", config::network(ROUTER_LAN, LAN_PREFIX_LEN));
    ip(&[
        "-n",
        &wan,
        "route",
        "add",
        &lan_net,
        "via",
        &ROUTER_WAN.to_string(),
    ])?;

    // The router's ports: up, and with the kernel as the router, addressed and ruled.
    for port in [ROUTER_WAN_PORT, ROUTER_LAN_PORT] {
        ip(&["-n", &rtr, "link", "set", port, "up"])?;
    }
    if kernel {
        let lan_addr = format!("{ROUTER_LAN}/{lan_len}");
        let wan_addr = format!("{ROUTER_WAN}/{WAN_PREFIX_LEN}");
        ip(&["-n", &rtr, "addr", "add", &lan_addr, "dev", ROUTER_LAN_PORT])?;
        ip(&["-n", &rtr, "addr", "add", &wan_addr, "dev", ROUTER_WAN_PORT])?;
        ip(&[
            "-n",
            &rtr,
            "route",
            "add",
            "default",
            "via",
            &ISP.to_string(),
        ])?;
        netns::run(
            "ip",
            &["netns", "exec", &rtr, "nft", "-f", "-"],
            Some(&config::kernel_ruleset()),
        )?;
    }
    for (node, _) in lan_hosts() {
        netns::wait_carrier(&ns(node), HOST_PORT)?;
    }
    netns::wait_carrier(&wan, HOST_PORT)?;
    for port in [ROUTER_WAN_PORT, ROUTER_LAN_PORT] {
        netns::wait_carrier(&rtr, port)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_locally_administered_unicast_and_distinct() {
        let mut all: Vec<String> = ROUTER_MACS.iter().map(|m| m.to_string()).collect();
        all.push(mac(1, 1));
        all.push(mac(2, 0));
        all.push(mac(2, 1));
        for (_, addr) in lan_hosts() {
            all.push(mac(2, addr.octets()[3]));
            all.push(mac(3, addr.octets()[3]));
        }
        for m in &all {
            let first = u8::from_str_radix(&m[..2], 16).unwrap();
            assert_eq!(first & 0b11, 0b10, "{m}");
        }
        assert_eq!(ROUTER_MACS, [mac(0, 1), mac(0, 2)]);
        let mut dedup = all.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), all.len());
    }
}
