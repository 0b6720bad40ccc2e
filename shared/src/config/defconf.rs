//! RouterOS's default configuration ("defconf"): what a SOHO MikroTik ships with.

use super::model::RouterConfig;

/// The IPv4 part of RouterOS's default configuration as a router's compact `/export` writes it
/// (routeros.md §8): the `LAN` and `WAN` interface lists with `bridge` and `ether1` in them, the
/// eleven filter rules and the masquerade rule, comments exactly as RouterOS has them. No
/// `/ip address`: statewall's addresses come from the host.
pub const DEFCONF_RSC: &str = r#"/interface list
add comment=defconf name=WAN
add comment=defconf name=LAN
/interface list member
add comment=defconf interface=bridge list=LAN
add comment=defconf interface=ether1 list=WAN
/ip firewall filter
add action=accept chain=input comment=\
    "defconf: accept established,related,untracked" connection-state=\
    established,related,untracked
add action=drop chain=input comment="defconf: drop invalid" connection-state=\
    invalid
add action=accept chain=input comment="defconf: accept ICMP" protocol=icmp
add action=accept chain=input comment=\
    "defconf: accept to local loopback (for CAPsMAN)" dst-address=127.0.0.1
add action=drop chain=input comment="defconf: drop all not coming from LAN" \
    in-interface-list=!LAN
add action=accept chain=forward comment="defconf: accept in ipsec policy" \
    ipsec-policy=in,ipsec
add action=accept chain=forward comment="defconf: accept out ipsec policy" \
    ipsec-policy=out,ipsec
add action=fasttrack-connection chain=forward comment="defconf: fasttrack" \
    connection-state=established,related
add action=accept chain=forward comment=\
    "defconf: accept established,related, untracked" connection-state=\
    established,related,untracked
add action=drop chain=forward comment="defconf: drop invalid" \
    connection-state=invalid
add action=drop chain=forward comment=\
    "defconf: drop all from WAN not DSTNATed" connection-nat-state=!dstnat \
    connection-state=new in-interface-list=WAN
/ip firewall nat
add action=masquerade chain=srcnat comment="defconf: masquerade" \
    ipsec-policy=out,none out-interface-list=WAN
"#;

/// The default configuration with the host's interfaces in the lists: `lan` in `LAN` (where
/// RouterOS has `bridge`), `wan` in `WAN` (where it has `ether1`). Both must be interface names
/// (not empty), as an export of the result must import.
pub fn defconf(lan: &str, wan: &str) -> RouterConfig {
    // DEFCONF_RSC is a constant that the tests import; it cannot fail at run time.
    let mut cfg = RouterConfig::from_rsc(DEFCONF_RSC).expect("DEFCONF_RSC imports (tested)");
    for member in &mut cfg.list_members {
        match member.list.as_str() {
            "LAN" => member.interface = lan.to_string(),
            "WAN" => member.interface = wan.to_string(),
            _ => {}
        }
    }
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsc;

    #[test]
    fn defconf_rsc_imports_and_is_the_canonical_print() {
        let cfg = RouterConfig::from_rsc(DEFCONF_RSC).unwrap();
        assert_eq!((cfg.filter.len(), cfg.nat.len()), (11, 1));
        assert_eq!(rsc::print(&rsc::parse(DEFCONF_RSC).unwrap()), DEFCONF_RSC);
        assert_eq!(cfg.to_rsc(), DEFCONF_RSC);
    }

    #[test]
    fn the_host_interfaces_take_the_place_of_bridge_and_ether1() {
        assert_eq!(
            defconf("bridge", "ether1"),
            RouterConfig::from_rsc(DEFCONF_RSC).unwrap()
        );
        let cfg = defconf("br-lan", "eth0");
        let text = cfg.to_rsc();
        assert!(text.contains("add comment=defconf interface=br-lan list=LAN\n"));
        assert!(text.contains("add comment=defconf interface=eth0 list=WAN\n"));
        assert_eq!(
            text.replace("br-lan", "bridge").replace("eth0", "ether1"),
            DEFCONF_RSC
        );
    }
}
