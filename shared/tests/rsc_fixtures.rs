//! Real RouterOS exports (routeros.md §1.3, §7, §8) through the public `.rsc` API: they parse,
//! validate (or fail exactly where statewall differs), and print back byte for byte.

use shared::rsc::{self, Script, Verb};

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

fn parse(text: &str) -> Script {
    rsc::parse(text).unwrap_or_else(|e| panic!("{e:?}"))
}

fn messages(errors: &[rsc::RscError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

/// Both printers read back to the same commands.
fn assert_round_trips(script: &Script) {
    let canonical = script.canonical();
    let printed = rsc::print(script);
    assert_eq!(parse(&printed).canonical(), canonical, "{printed}");
    assert_eq!(rsc::print(&parse(&printed)), printed);
    let terse = rsc::print_terse(script);
    assert_eq!(parse(&terse).canonical(), canonical, "{terse}");
}

#[test]
fn routeros_7_24_4_tracking_export_prints_back_byte_for_byte() {
    let text = fixture("tracking-7.24.4-verbose.rsc");
    let script = parse(&text);
    assert_eq!(rsc::print(&script), text);
    let cmd = &script.commands[0];
    assert_eq!(cmd.menu, ["ip", "firewall", "connection", "tracking"]);
    assert_eq!(cmd.verb, Verb::Set);
    assert_eq!(cmd.args.len(), 17);
    // Split mid-token by the export: `tcp-last-ack-timeout=\` / `    10s`.
    assert_eq!(
        cmd.get("tcp-last-ack-timeout").and_then(|a| a.text()),
        Some("10s")
    );
    assert_round_trips(&script);
}

#[test]
fn statewall_refuses_the_7_20_property_and_only_that() {
    let errors = rsc::check(&fixture("tracking-7.24.4-verbose.rsc")).unwrap_err();
    assert_eq!(
        messages(&errors),
        [
            "line 2, column 55: unknown argument \"liberal-tcp-tracking\" in /ip firewall \
          connection tracking (RouterOS 7.20+ only)"
        ]
    );
}

#[test]
fn wrapped_defconf_export_prints_back_byte_for_byte() {
    let text = fixture("defconf-wrapped.rsc");
    let script = rsc::check(&text).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(rsc::print(&script), body(&text));
    // The older two-space comment survives exactly.
    let last_filter = script
        .in_menu(&["ip", "firewall", "filter"])
        .last()
        .and_then(|c| c.get("comment"))
        .and_then(|a| a.text());
    assert_eq!(
        last_filter,
        Some("defconf:  drop all from WAN not DSTNATed")
    );
    assert_round_trips(&script);
}

#[test]
fn compact_export_with_v6_header_wraps_as_routeros_files_do() {
    let text = fixture("defconf-compact.rsc");
    let script = rsc::check(&text).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(script.commands.len(), 12);
    let negated = script.commands[4]
        .get("in-interface-list")
        .and_then(|a| a.value.clone());
    assert!(
        negated
            .as_ref()
            .is_some_and(|v| v.negated && v.text == "LAN"),
        "{negated:?}"
    );
    // The wrapped fixture holds the same rules (with the two-space variant of one comment).
    let wrapped = fixture("defconf-wrapped.rsc").replace("defconf:  drop", "defconf: drop");
    let from_filter = wrapped
        .split_once("/ip firewall filter\n")
        .map(|(_, rest)| format!("/ip firewall filter\n{rest}"))
        .unwrap_or_default();
    assert_eq!(rsc::print(&script), from_filter);
    assert_round_trips(&script);
}

#[test]
fn defconf_script_form_means_the_same_as_its_export() {
    let script = rsc::check(&fixture("defconf-script.rsc")).unwrap_or_else(|e| panic!("{e:?}"));
    let export = parse(&fixture("defconf-compact.rsc"));
    for menu in [
        &["ip", "firewall", "filter"][..],
        &["ip", "firewall", "nat"][..],
    ] {
        let a: Vec<_> = script.canonical().in_menu(menu).cloned().collect();
        let b: Vec<_> = export.canonical().in_menu(menu).cloned().collect();
        assert!(!a.is_empty());
        assert_eq!(a, b, "{menu:?}");
    }
    // `/ip firewall nat add …` and `/ip firewall { filter add … }` keep positions of their own.
    assert_eq!(script.commands[0].pos, rsc::Pos::new(1, 20));
    assert_eq!(script.commands[1].menu_pos, rsc::Pos::new(3, 5));
    assert_round_trips(&script);
}

#[test]
fn every_menu_statewall_runs() {
    let text = fixture("statewall-all-menus.rsc");
    let script = rsc::check(&text).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(rsc::print(&script), body(&text));
    assert_round_trips(&script);
}

#[test]
fn a_dry_run_reports_every_mistake_at_once() {
    let text = "\
# a restore with one of every mistake
/ip firewall connection tracking
set tcp-loose-tracking=no udp-timeout=soon
/ip firewall filtr
add chain=input
/ip firewall filter
ad chain=input
add chain input
add chain=input action=drop ]
add chain=forward comment=!x protocol=tcp dst-port=99999
/ip settings
add tcp-syncookies=yes
/ip firewall nat
add chain=srcnat comment=\"unterminated
add chain=dstnat to-ports=80 \\";
    let errors = rsc::check(text).unwrap_err();
    assert_eq!(
        messages(&errors),
        [
            "line 3, column 5: unknown argument \"tcp-loose-tracking\" in /ip firewall connection tracking; did you mean \"loose-tcp-tracking\"?",
            "line 3, column 39: invalid value \"soon\" for argument \"udp-timeout\": expected a time value such as 10s, 5m or 1d",
            "line 4, column 1: unknown menu /ip firewall filtr; did you mean \"/ip firewall filter\"?",
            "line 7, column 1: unknown command \"ad\" in /ip firewall filter; did you mean \"add\"?",
            "line 8, column 5: missing \"=\" after \"chain\": arguments are written name=value",
            "line 9, column 29: unexpected \"]\"; expected an argument (name=value)",
            "line 10, column 27: argument \"comment\" cannot be negated with \"!\"",
            "line 10, column 52: invalid value \"99999\" for argument \"dst-port\": expected ports 0-65535, ranges (1000-2000), comma-separated",
            "line 12, column 1: \"add\" is not a command of /ip settings; expected set (it is a settings menu)",
            "line 14, column 26: unterminated quoted string",
            "line 15, column 30: line continuation \"\\\" at end of file",
        ]
    );
    // Each error keeps its parts as data, too.
    assert!(matches!(
        &errors[0].kind,
        rsc::ErrorKind::UnknownArgument { name, suggestion: Some(s), .. }
            if name == "tcp-loose-tracking" && s == "loose-tcp-tracking"
    ));
    assert_eq!((errors[2].pos.line, errors[2].pos.column), (4, 1));
}
