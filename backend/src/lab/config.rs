//! The lab router's configuration: RouterOS's defconf on `ether2` (LAN) and `ether1` (WAN), the
//! addresses and default route a user would add, a port forward to the LAN web server and the
//! hairpin masquerade RouterOS users add next to it. For `--kernel`, the nft ruleset that does
//! the same in Linux.

use super::{
    LabError, INTERNET_DNS, ISP, LAN_PREFIX_LEN, PORT_FORWARD_PORT, ROUTER_LAN, ROUTER_LAN_PORT,
    ROUTER_WAN, ROUTER_WAN_PORT, WAN_PREFIX_LEN, WEB,
};
use shared::config::{defconf, RouterConfig};
use std::net::Ipv4Addr;

/// The network of an address (`198.51.100.1/24` → `198.51.100.0`).
pub(crate) fn network(addr: Ipv4Addr, len: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(addr) & shared::config::prefix_mask(len))
}

/// The generated router configuration as RouterOS's compact export writes it.
pub fn router_rsc() -> String {
    let lan_net = network(ROUTER_LAN, LAN_PREFIX_LEN);
    let mut text = defconf(ROUTER_LAN_PORT, ROUTER_WAN_PORT).to_rsc();
    text.push_str(&format!(
        "/ip address\n\
         add address={ROUTER_LAN}/{LAN_PREFIX_LEN} comment=lab interface={ROUTER_LAN_PORT}\n\
         add address={ROUTER_WAN}/{WAN_PREFIX_LEN} comment=lab interface={ROUTER_WAN_PORT}\n\
         /ip route\n\
         add comment=lab dst-address=0.0.0.0/0 gateway={ISP}\n\
         /ip firewall nat\n\
         add action=dst-nat chain=dstnat comment=\"lab: port forward to the LAN web server\" \
         dst-address={ROUTER_WAN} dst-port={PORT_FORWARD_PORT} protocol=tcp to-addresses={WEB} \
         to-ports=80\n\
         add action=masquerade chain=srcnat comment=\"lab: hairpin NAT\" dst-address={WEB} \
         out-interface={ROUTER_LAN_PORT} src-address={lan_net}/{LAN_PREFIX_LEN}\n"
    ));
    // The export of what the script builds: menus in RouterOS's order, wrapped as it wraps.
    match RouterConfig::from_rsc(&text) {
        Ok(cfg) => cfg.to_rsc(),
        // Not reachable (a unit test imports it); the raw text then fails `validate` loudly.
        Err(_) => text,
    }
}

/// Imports a configuration as `statewall run` will: every mistake, with its line, or the
/// configuration.
pub fn validate(text: &str) -> Result<RouterConfig, LabError> {
    RouterConfig::from_rsc(text).map_err(|errors| {
        LabError::Config(
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// The nft ruleset that makes the Linux kernel do what [`router_rsc`] asks of statewall:
/// defconf's input and forward chains, masquerade out of the WAN port, the port forward and the
/// hairpin masquerade. (No fasttrack: it changes no verdict.)
pub fn kernel_ruleset() -> String {
    let lan = ROUTER_LAN_PORT;
    let wan = ROUTER_WAN_PORT;
    let lan_net = network(ROUTER_LAN, LAN_PREFIX_LEN);
    // nft 1.0.6 wants a newline, not "; }", after the last statement (lab.md, tooling traps).
    format!(
        r#"table ip statewall_lab {{
	chain input {{
		type filter hook input priority filter; policy accept;
		ct state established,related,untracked accept comment "defconf: accept established,related,untracked"
		ct state invalid drop comment "defconf: drop invalid"
		ip protocol icmp accept comment "defconf: accept ICMP"
		ip daddr 127.0.0.1 accept comment "defconf: accept to local loopback (for CAPsMAN)"
		iifname "lo" accept comment "the kernel's own traffic to itself"
		iifname != "{lan}" drop comment "defconf: drop all not coming from LAN"
	}}
	chain forward {{
		type filter hook forward priority filter; policy accept;
		ct state established,related,untracked accept comment "defconf: accept established,related, untracked"
		ct state invalid drop comment "defconf: drop invalid"
		iifname "{wan}" ct state new ct status & dnat == 0 drop comment "defconf: drop all from WAN not DSTNATed"
	}}
	chain dstnat {{
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr {ROUTER_WAN} tcp dport {PORT_FORWARD_PORT} dnat to {WEB}:80 comment "lab: port forward to the LAN web server"
	}}
	chain srcnat {{
		type nat hook postrouting priority srcnat; policy accept;
		oifname "{wan}" masquerade comment "defconf: masquerade"
		ip saddr {lan_net}/{LAN_PREFIX_LEN} ip daddr {WEB} oifname "{lan}" masquerade comment "lab: hairpin NAT"
	}}
}}
"#
    )
}

/// One line on the lab's network, for the start-up message.
pub(crate) fn describe() -> String {
    format!(
        "LAN {lan}/{LAN_PREFIX_LEN} on {ROUTER_LAN_PORT}, WAN {ROUTER_WAN}/{WAN_PREFIX_LEN} on \
         {ROUTER_WAN_PORT} via {ISP}; port forward {ROUTER_WAN}:{PORT_FORWARD_PORT} -> {WEB}:80; \
         internet servers {http}:80 (HTTP), {INTERNET_DNS}:53 (UDP)",
        lan = ROUTER_LAN,
        http = super::INTERNET_HTTP,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::config::{Action, Gateway};

    #[test]
    fn the_generated_config_imports_and_is_its_own_export() {
        let text = router_rsc();
        let cfg = validate(&text).unwrap();
        assert_eq!(cfg.to_rsc(), text);
        // defconf's eleven filter rules and masquerade, plus the port forward and the hairpin.
        assert_eq!((cfg.filter.len(), cfg.nat.len()), (11, 3));
        let members: Vec<_> = cfg
            .list_members
            .iter()
            .map(|m| (m.interface.as_str(), m.list.as_str()))
            .collect();
        assert_eq!(members, [("ether2", "LAN"), ("ether1", "WAN")]);
        let addrs: Vec<_> = cfg
            .addresses
            .iter()
            .map(|a| (a.address, a.prefix_len, a.interface.as_str()))
            .collect();
        assert_eq!(
            addrs,
            [(ROUTER_LAN, 24, "ether2"), (ROUTER_WAN, 24, "ether1")]
        );
        assert_eq!(cfg.routes.len(), 1);
        assert_eq!(cfg.routes[0].gateway, Gateway::Address(ISP));
        assert_eq!(cfg.routes[0].dst_len, 0);
    }

    #[test]
    fn the_port_forward_and_hairpin_follow_defconfs_masquerade() {
        let cfg = validate(&router_rsc()).unwrap();
        assert!(matches!(cfg.nat[0].action, Action::Masquerade { .. }));
        assert_eq!(cfg.nat[0].chain, "srcnat");
        assert!(matches!(cfg.nat[1].action, Action::DstNat { .. }));
        assert_eq!(cfg.nat[1].chain, "dstnat");
        assert!(matches!(cfg.nat[2].action, Action::Masquerade { .. }));
        let text = router_rsc();
        assert!(text.contains("to-addresses=198.51.100.20"), "{text}");
        assert!(text.contains("dst-port=8080"), "{text}");
        assert!(text.contains("src-address=198.51.100.0/24"), "{text}");
    }

    #[test]
    fn a_broken_config_is_refused_with_its_line() {
        let err = validate("/ip firewall filter\nadd chain=forward action=bogus\n").unwrap_err();
        let LabError::Config(msg) = err else {
            panic!("{err:?}")
        };
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn the_kernel_ruleset_names_the_router_ports() {
        let nft = kernel_ruleset();
        assert!(nft.contains(r#"iifname != "ether2" drop"#));
        assert!(nft.contains(r#"oifname "ether1" masquerade"#));
        assert!(nft.contains("dnat to 198.51.100.20:80"));
        assert!(!nft.contains("; }"), "nft 1.0.6 refuses \"; }}\"");
    }
}
