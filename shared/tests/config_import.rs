//! Importing scripts as RouterOS does: `set`/`remove` with `[ find … ]` and `*id`, ids, and one
//! test for every kind of mistake RouterOS (or statewall) refuses once the commands run.

use shared::config::{Action, AddrRange, PortRange, RouterConfig};
use shared::rsc::{self, Arg, Command, ErrorKind, Script, Verb};

fn import(text: &str) -> RouterConfig {
    RouterConfig::from_rsc(text).unwrap_or_else(|e| {
        panic!(
            "{:#?}",
            e.iter().map(ToString::to_string).collect::<Vec<_>>()
        )
    })
}

/// Every message of a script that must be refused.
fn errors(text: &str) -> Vec<String> {
    match RouterConfig::from_rsc(text) {
        Ok(cfg) => panic!("accepted: {cfg:#?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn comments(rules: &[shared::config::Rule]) -> Vec<(u32, &str)> {
    rules
        .iter()
        .map(|r| (r.id, r.comment.as_deref().unwrap_or("")))
        .collect()
}

const THREE_RULES: &str = "\
/ip firewall filter
add chain=input comment=a
add chain=forward comment=b
add chain=forward comment=c
";

#[test]
fn rules_without_action_accept_as_in_routeros() {
    let cfg = import("/ip firewall filter\nadd chain=input\n/ip firewall nat\nadd chain=srcnat\n");
    assert_eq!(cfg.filter[0].action, Action::Accept);
    assert_eq!(cfg.nat[0].action, Action::Accept);
    assert!(cfg.to_rsc().contains("add action=accept chain=input\n"));
}

#[test]
fn set_with_find_changes_the_items_whose_properties_match() {
    let cfg = import(&format!(
        "{THREE_RULES}set [ find chain=forward ] action=drop\n\
         set [ find comment=c disabled=no ] log=yes\n\
         set [ find comment=nothing ] action=reject\n"
    ));
    let actions: Vec<&Action> = cfg.filter.iter().map(|r| &r.action).collect();
    assert_eq!(actions, [&Action::Accept, &Action::Drop, &Action::Drop]);
    assert_eq!(
        cfg.filter.iter().map(|r| r.log).collect::<Vec<_>>(),
        [false, false, true]
    );
}

#[test]
fn find_reads_values_as_routeros_prints_them() {
    let cfg = import(
        "/ip firewall filter\n\
         add chain=forward in-interface-list=!LAN comment=neg\n\
         add chain=forward in-interface-list=LAN comment=pos\n\
         add chain=forward protocol=6 comment=tcp\n\
         set [ find in-interface-list=!LAN ] action=drop\n\
         set [ find protocol=tcp ] action=reject\n\
         remove [ find comment=\"\" ]\n\
         /interface list\nadd name=LAN\nset [ find name=LAN ] comment=\"the inside\"\n\
         /ip route\nadd gateway=10.0.0.1\nset [ find dst-address=0.0.0.0/0 distance=1 ] distance=5\n",
    );
    assert_eq!(cfg.filter[0].action, Action::Drop);
    assert_eq!(cfg.filter[1].action, Action::Accept);
    assert!(matches!(cfg.filter[2].action, Action::Reject(_)));
    assert_eq!(cfg.filter.len(), 3);
    assert_eq!(
        cfg.interface_lists[0].comment.as_deref(),
        Some("the inside")
    );
    assert_eq!(cfg.routes[0].distance, 5);
}

#[test]
fn ids_are_given_in_order_never_reused_and_renumbered_at_the_end() {
    let cfg = import(&format!(
        "{THREE_RULES}remove *2\nadd chain=output comment=d\nset *4 log=yes\nset *1,*3 disabled=yes\n\
         remove [ find comment=nothing ]\n"
    ));
    assert_eq!(comments(&cfg.filter), [(1, "a"), (2, "c"), (3, "d")]);
    assert!(cfg.filter[2].log);
    assert_eq!(
        cfg.filter.iter().map(|r| r.disabled).collect::<Vec<_>>(),
        [true, true, false]
    );
    // Renumbered, the configuration is what its export imports to.
    assert_eq!(RouterConfig::from_rsc(&cfg.to_rsc()), Ok(cfg));
}

#[test]
fn place_before_puts_a_rule_before_an_id_or_a_position() {
    let cfg = import(&format!(
        "{THREE_RULES}add chain=input comment=first place-before=0\n\
         add chain=forward comment=before-c place-before=*3\n"
    ));
    assert_eq!(
        comments(&cfg.filter),
        [(1, "first"), (2, "a"), (3, "b"), (4, "before-c"), (5, "c")]
    );
}

#[test]
fn set_overlays_and_unsets_properties() {
    let cfg = import(
        "/ip firewall nat\n\
         add action=dst-nat chain=dstnat protocol=tcp dst-port=8080 to-addresses=192.168.88.5 to-ports=80\n\
         set *1 !to-ports to-addresses=192.168.88.0/30 !dst-port\n",
    );
    assert_eq!(
        cfg.nat[0].action,
        Action::DstNat {
            to_addresses: Some(AddrRange {
                first: "192.168.88.0".parse().unwrap(),
                last: "192.168.88.3".parse().unwrap(),
            }),
            to_ports: None,
        }
    );
    assert_eq!(cfg.nat[0].matchers.dst_port, None);
    let printed = rsc::print_terse(&cfg.to_script());
    assert!(
        printed.contains(" to-addresses=192.168.88.0-192.168.88.3\n"),
        "{printed}"
    );
    let cfg = import(
        "/ip firewall nat\nadd action=redirect chain=dstnat protocol=udp dst-port=53 to-ports=5353\n",
    );
    assert_eq!(
        cfg.nat[0].action,
        Action::Redirect {
            to_ports: Some(PortRange::one(5353))
        }
    );
}

#[test]
fn values_are_stored_as_routeros_stores_them() {
    let cfg = import(
        "/ip firewall filter\nadd chain=input src-address=192.168.88.77/24 protocol=47 \
         connection-state=new,established,invalid tcp-flags=ack,!syn\n\
         /ip route\nadd dst-address=10.1.2.3/8 gateway=10.0.0.1%ether1\n\
         /ip arp\nadd address=192.168.88.5 interface=bridge mac-address=4c:5e:0c:12:34:56\n\
         /ip settings\nset ip-forward=true tcp-syncookies=no\n",
    );
    let text = cfg.to_rsc();
    for printed in [
        "src-address=192.168.88.0/24",
        "protocol=gre",
        "connection-state=invalid,established,new",
        "tcp-flags=!syn,ack",
        "add dst-address=10.0.0.0/8 gateway=10.0.0.1%ether1",
        "mac-address=4C:5E:0C:12:34:56",
    ] {
        assert!(text.contains(printed), "{printed} in\n{text}");
    }
    assert!(!text.contains("/ip settings"), "{text}");
}

#[test]
fn a_script_with_one_bad_line_builds_nothing() {
    let text = format!(
        "/interface list\nadd name=LAN\n{THREE_RULES}add action=jump chain=forward\n\
         /ip firewall nat\nadd action=masquerade chain=srcnat out-interface-list=WAN\n"
    );
    let errors = RouterConfig::from_rsc(&text).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].pos, rsc::Pos::new(7, 5));
    assert_eq!(
        errors[0].kind,
        ErrorKind::ActionNeeds {
            action: "jump".into(),
            needs: &["jump-target"]
        }
    );
}

#[test]
fn schema_and_meaning_mistakes_come_together_in_order() {
    assert_eq!(
        errors(
            "/ip firewall filter\n\
             add chain=input action=dorp\n\
             add chain=input dst-port=22\n\
             set *1 disabled=yes\n\
             set *9 disabled=yes\n"
        ),
        [
            "line 2, column 24: invalid value \"dorp\" for argument \"action\": expected one of accept, add-dst-to-address-list, add-src-to-address-list, drop, fasttrack-connection, jump, log, passthrough, reject, return, tarpit",
            "line 3, column 17: argument \"dst-port\" needs protocol=tcp or protocol=udp (RouterOS refuses ports for other protocols)",
            // *1 was refused by the schema: not a second mistake. *9 never existed.
            "line 5, column 1: no such item *9 in /ip firewall filter",
        ]
    );
    // Syntax errors stop before anything runs.
    assert_eq!(
        errors("/ip firewall filter\nadd chain=input comment=\"open\n"),
        ["line 2, column 25: unterminated quoted string"]
    );
}

#[test]
fn ports_need_tcp_or_udp() {
    assert_eq!(
        errors(
            "/ip firewall filter\n\
             add chain=input protocol=icmp src-port=1\n\
             add chain=input protocol=!tcp port=80\n\
             add chain=input protocol=tcp dst-port=22 comment=ok\n\
             set [ find comment=ok ] protocol=gre\n"
        ),
        [
            "line 2, column 31: argument \"src-port\" needs protocol=tcp or protocol=udp (RouterOS refuses ports for other protocols)",
            "line 3, column 31: argument \"port\" needs protocol=tcp or protocol=udp (RouterOS refuses ports for other protocols)",
            // The set broke a good rule: reported at what it changed.
            "line 5, column 25: argument \"dst-port\" needs protocol=tcp or protocol=udp (RouterOS refuses ports for other protocols)",
        ]
    );
}

#[test]
fn jump_and_its_target_go_together() {
    assert_eq!(
        errors(
            "/ip firewall filter\n\
             add action=jump chain=forward\n\
             add action=accept chain=forward jump-target=lan-out\n\
             add action=jump chain=forward jump-target=lan-out\n\
             set *3 !jump-target\n"
        ),
        [
            "line 2, column 5: action=jump needs argument \"jump-target\"",
            "line 3, column 33: argument \"jump-target\" is only valid with action=jump",
            "line 5, column 8: action=jump needs argument \"jump-target\"",
        ]
    );
}

#[test]
fn address_list_actions_need_their_list() {
    assert_eq!(
        errors(
            "/ip firewall filter\n\
             add action=add-src-to-address-list chain=input\n\
             add action=drop chain=input address-list=x address-list-timeout=1d\n"
        ),
        [
            "line 2, column 5: action=add-src-to-address-list needs argument \"address-list\"",
            "line 3, column 29: argument \"address-list\" is only valid with action=add-src-to-address-list or add-dst-to-address-list",
            "line 3, column 44: argument \"address-list-timeout\" is only valid with action=add-src-to-address-list or add-dst-to-address-list",
        ]
    );
}

#[test]
fn nat_targets_go_with_nat_actions() {
    assert_eq!(
        errors(
            "/ip firewall nat\n\
             add action=masquerade chain=srcnat to-addresses=203.0.113.1\n\
             add action=accept chain=dstnat to-ports=80\n\
             add action=dst-nat chain=dstnat protocol=tcp dst-port=80\n\
             add action=redirect chain=dstnat to-addresses=10.0.0.1 to-ports=53\n"
        ),
        [
            "line 2, column 36: argument \"to-addresses\" is only valid with action=src-nat or dst-nat",
            "line 3, column 32: argument \"to-ports\" is only valid with action=src-nat, dst-nat, masquerade or redirect",
            "line 4, column 5: action=dst-nat needs argument \"to-addresses\" or \"to-ports\"",
            "line 5, column 34: argument \"to-addresses\" is only valid with action=src-nat or dst-nat",
        ]
    );
}

#[test]
fn reject_with_goes_with_reject() {
    assert_eq!(
        errors("/ip firewall filter\nadd action=drop chain=input reject-with=tcp-reset\n"),
        ["line 2, column 29: argument \"reject-with\" is only valid with action=reject"]
    );
    let cfg = import("/ip firewall filter\nadd action=reject chain=input\n");
    assert_eq!(
        cfg.to_rsc(),
        "/ip firewall filter\nadd action=reject chain=input\n"
    );
}

#[test]
fn nat_actions_stay_in_their_chain_or_a_user_chain() {
    assert_eq!(
        errors(
            "/ip firewall nat\n\
             add action=masquerade chain=dstnat\n\
             add action=src-nat chain=dstnat to-addresses=203.0.113.1\n\
             add action=dst-nat chain=srcnat to-addresses=192.168.88.5\n\
             add action=redirect chain=srcnat\n\
             add action=masquerade chain=my-chain comment=ok\n\
             add action=dst-nat chain=dstnat to-ports=80 protocol=tcp comment=ok\n\
             set [ find comment=ok ] chain=srcnat\n"
        ),
        [
            "line 2, column 5: action=masquerade is not allowed in chain dstnat of /ip firewall nat; expected chain srcnat or a chain of your own (reached by jump)",
            "line 3, column 5: action=src-nat is not allowed in chain dstnat of /ip firewall nat; expected chain srcnat or a chain of your own (reached by jump)",
            "line 4, column 5: action=dst-nat is not allowed in chain srcnat of /ip firewall nat; expected chain dstnat or a chain of your own (reached by jump)",
            "line 5, column 5: action=redirect is not allowed in chain srcnat of /ip firewall nat; expected chain dstnat or a chain of your own (reached by jump)",
            "line 8, column 25: action=dst-nat is not allowed in chain srcnat of /ip firewall nat; expected chain dstnat or a chain of your own (reached by jump)",
        ]
    );
}

#[test]
fn what_statewall_does_not_implement_is_refused_by_name() {
    assert_eq!(
        errors(
            "/ip firewall filter\n\
             add action=tarpit chain=input protocol=tcp\n\
             add action=add-dst-to-address-list address-list=x address-list-timeout=none-static chain=input\n\
             /ip firewall nat\n\
             add action=netmap chain=dstnat to-addresses=10.0.0.0/24\n\
             add action=same chain=srcnat\n\
             add action=endpoint-independent-nat chain=srcnat\n\
             /ip address\nadd address=10.0.0.1/32 interface=ether1 network=10.0.0.2\n\
             /ip route\nadd gateway=10.0.0.1,10.0.0.2\n"
        ),
        [
            "line 2, column 5: action=tarpit is not supported by statewall",
            "line 3, column 51: address-list-timeout=none-static is not supported by statewall",
            "line 5, column 5: action=netmap is not supported by statewall",
            "line 6, column 5: action=same is not supported by statewall",
            "line 7, column 5: action=endpoint-independent-nat is not supported by statewall",
            "line 9, column 42: network=10.0.0.2 other than the address's own network 10.0.0.1 is not supported by statewall",
            "line 11, column 5: gateway=10.0.0.1,10.0.0.2 (more than one gateway, ECMP) is not supported by statewall",
        ]
    );
}

#[test]
fn selectors_and_keys_that_refer_to_nothing_or_clash() {
    assert_eq!(
        errors(
            "/interface list\n\
             add name=LAN\n\
             add name=LAN comment=again\n\
             /interface list member\n\
             add list=LAN interface=ether2\n\
             add interface=ether2 list=LAN\n\
             /ip firewall address-list\n\
             add list=bogons address=10.0.0.0/8\n\
             add list=bogons address=10.1.1.1/8\n\
             /ip firewall filter\n\
             add chain=input comment=a\n\
             remove *2\n\
             add chain=input place-before=*7\n\
             add chain=input place-before=5\n\
             set *1 place-before=0\n\
             set *1 !chain\n"
        ),
        [
            "line 3, column 5: /interface list already has an item with name=LAN",
            "line 6, column 22: /interface list member already has an item with list=LAN interface=ether2",
            "line 9, column 5: /ip firewall address-list already has an item with list=bogons address=10.0.0.0/8",
            "line 12, column 1: no such item *2 in /ip firewall filter",
            "line 13, column 17: no such item *7 in /ip firewall filter",
            "line 14, column 17: no such item 5 in /ip firewall filter",
            "line 15, column 8: argument \"place-before\" is only valid with add",
            "line 16, column 8: argument \"chain\" cannot be unset: every item needs it",
        ]
    );
}

#[test]
fn scripts_built_in_code_report_at_the_command() {
    let script = Script {
        commands: vec![
            Command::new(&["ip", "firewall", "filter"], Verb::Add)
                .arg("chain", "input")
                .arg("dst-port", "22"),
            Command {
                args: vec![Arg::new("chain", "forward")],
                ..Command::new(&["ip", "firewall", "filter"], Verb::Add)
            },
        ],
    };
    let errors = RouterConfig::from_script(&script).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].kind,
        ErrorKind::PortsNeedProtocol("dst-port".into())
    );
}
