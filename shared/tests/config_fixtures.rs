//! Real exports (routeros.md §1.3, §8) through the typed configuration: they import, export
//! back as RouterOS writes them, and import ∘ export is the identity.

use shared::config::{
    conn_state, defconf, nat_state, Action, AddrMatch, IpsecPolicy, Neg, RouterConfig, DEFCONF_RSC,
};
use shared::rsc;
use shared::tracking::TrackingSettings;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The file without its leading `#` header block (the printer writes none).
fn body(text: &str) -> String {
    text.lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn import(text: &str) -> RouterConfig {
    RouterConfig::from_rsc(text).unwrap_or_else(|e| {
        panic!(
            "{:#?}",
            e.iter().map(ToString::to_string).collect::<Vec<_>>()
        )
    })
}

/// Export then import gives the same configuration, through the script and through the text.
fn assert_round_trips(cfg: &RouterConfig) {
    assert_eq!(
        RouterConfig::from_script(&cfg.to_script()).as_ref(),
        Ok(cfg)
    );
    let text = cfg.to_rsc();
    assert_eq!(RouterConfig::from_rsc(&text).as_ref(), Ok(cfg), "{text}");
    assert_eq!(import(&text).to_rsc(), text);
}

const IMPORTABLE: &[&str] = &[
    "defconf-compact.rsc",
    "defconf-script.rsc",
    "defconf-wrapped.rsc",
    "defconf-7-hw-offload.rsc",
    "statewall-all-menus.rsc",
    "statewall-all-menus-export.rsc",
    "tracking-6.48.1-verbose.rsc",
];

#[test]
fn every_importable_fixture_round_trips() {
    for name in IMPORTABLE {
        let cfg = import(&fixture(name));
        assert_round_trips(&cfg);
    }
}

#[test]
fn a_routeros_export_comes_back_byte_for_byte() {
    let text = fixture("defconf-wrapped.rsc");
    let cfg = import(&text);
    assert_eq!(cfg.to_rsc(), body(&text));
    // The older two-space comment is kept as it was.
    assert_eq!(
        cfg.filter.last().and_then(|r| r.comment.as_deref()),
        Some("defconf:  drop all from WAN not DSTNATed")
    );
    assert_eq!(cfg.addresses[0].network().to_string(), "192.168.88.0");
}

#[test]
fn statewall_export_is_routeros_order_without_defaults() {
    let cfg = import(&fixture("statewall-all-menus.rsc"));
    let expected = fixture("statewall-all-menus-export.rsc");
    assert_eq!(cfg.to_rsc(), body(&expected));
    assert_eq!(import(&expected), cfg);
    // `distance=1 dst-address=0.0.0.0/0` are defaults: left out, yet the route is the same.
    assert_eq!(cfg.routes[0].distance, 1);
    assert_eq!(
        (cfg.routes[0].dst_len, cfg.routes[0].comment.as_deref()),
        (0, Some("ISP uplink"))
    );
    assert!(!expected.contains("distance="));
    // `/ip settings` keeps what statewall does not act on, so an export gives it back.
    assert_eq!(
        cfg.ip_settings.other.get("rp-filter").map(String::as_str),
        Some("loose")
    );
    assert!(cfg.ip_settings.tcp_syncookies);
}

#[test]
fn a_v7_export_with_hw_offload_imports_as_if_it_had_none() {
    let with = import(&fixture("defconf-7-hw-offload.rsc"));
    let without = import(&fixture("defconf-wrapped.rsc"));
    assert_eq!(with, without);
    assert_eq!(with.filter[7].action, Action::FasttrackConnection);
    // The dry run still says that statewall does nothing with it.
    let errors = rsc::check(&fixture("defconf-7-hw-offload.rsc")).unwrap_err();
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["line 29, column 42: unknown argument \"hw-offload\" in /ip firewall filter (not supported by statewall)"]
    );
}

#[test]
fn verbose_settings_at_their_defaults_export_as_nothing() {
    let cfg = import(&fixture("tracking-6.48.1-verbose.rsc"));
    assert_eq!(cfg.tracking, TrackingSettings::default());
    assert_eq!(cfg, RouterConfig::default());
    assert_eq!(cfg.to_rsc(), "");
}

#[test]
fn the_script_form_and_the_export_of_defconf_mean_the_same() {
    let script = import(&fixture("defconf-script.rsc"));
    let export = import(&fixture("defconf-compact.rsc"));
    assert_eq!(script, export);
}

#[test]
fn defconf_rsc_is_canonical_and_is_what_defconf_builds() {
    let script = rsc::check(DEFCONF_RSC).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(rsc::print(&script), DEFCONF_RSC);
    let cfg = import(DEFCONF_RSC);
    assert_eq!(cfg.to_rsc(), DEFCONF_RSC);
    assert_eq!(defconf("bridge", "ether1"), cfg);
    assert_round_trips(&cfg);
    // The same rules as every defconf fixture, with the current one-space comments.
    let compact = import(&fixture("defconf-compact.rsc"));
    assert_eq!(
        (cfg.filter.clone(), cfg.nat.clone()),
        (compact.filter, compact.nat)
    );
}

#[test]
fn defconf_means_what_routeros_defconf_does() {
    let cfg = defconf("eth0", "eth1");
    let members: Vec<(&str, &str)> = cfg
        .list_members
        .iter()
        .map(|m| (m.list.as_str(), m.interface.as_str()))
        .collect();
    assert_eq!(members, [("LAN", "eth0"), ("WAN", "eth1")]);
    assert!(cfg.addresses.is_empty());
    assert_eq!(cfg.filter.len(), 11);
    assert_eq!(
        cfg.filter.iter().map(|r| r.id).collect::<Vec<_>>(),
        (1..=11).collect::<Vec<_>>()
    );
    let first = &cfg.filter[0];
    assert_eq!(
        (first.chain.as_str(), &first.action),
        ("input", &Action::Accept)
    );
    assert_eq!(
        first.matchers.connection_state,
        Some(Neg::is(
            conn_state::ESTABLISHED | conn_state::RELATED | conn_state::UNTRACKED
        ))
    );
    assert_eq!(
        cfg.filter[3].matchers.dst_address,
        Some(Neg::is(AddrMatch::Prefix {
            addr: "127.0.0.1".parse().unwrap(),
            len: 32
        }))
    );
    assert_eq!(
        cfg.filter[4].matchers.in_interface_list,
        Some(Neg::not("LAN".to_string()))
    );
    assert_eq!(
        cfg.filter[5].matchers.ipsec_policy,
        Some(IpsecPolicy {
            outgoing: false,
            ipsec: true
        })
    );
    let last = &cfg.filter[10];
    assert_eq!(last.action, Action::Drop);
    assert_eq!(
        last.matchers.connection_nat_state,
        Some(Neg::not(nat_state::DSTNAT))
    );
    let nat = &cfg.nat[0];
    assert_eq!(nat.action, Action::Masquerade { to_ports: None });
    assert_eq!(
        nat.matchers.ipsec_policy,
        Some(IpsecPolicy {
            outgoing: true,
            ipsec: false
        })
    );
    assert_eq!(nat.comment.as_deref(), Some("defconf: masquerade"));
    // Rendered for the host's names, it still imports to itself.
    assert_round_trips(&cfg);
}
