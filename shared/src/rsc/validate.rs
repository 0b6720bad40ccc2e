//! Checks a parsed [`Script`] against the [`schema`]: menus, commands, selectors, argument names,
//! negation, value shapes, required arguments.
//!
//! The whole script is checked and every mistake reported, so a dry run shows all of them at
//! once; nothing here changes state, so an import either applies a script that passed or nothing.

use super::ast::{Arg, Command, Script, Selector, Verb};
use super::error::{ErrorKind, Pos, RscError};
use super::schema::{self, Args, Menu, MenuKind};
use crate::suggest;
use crate::tracking::{SettingError, TrackingSettings};
use std::collections::HashSet;

/// Every schema mistake in `script`, sorted by position; `Ok` when there is none.
pub fn validate(script: &Script) -> Result<(), Vec<RscError>> {
    let mut errors = Vec::new();
    check_script(script, &mut errors);
    errors.sort_by_key(|e| e.pos);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

pub(crate) fn check_script(script: &Script, errors: &mut Vec<RscError>) {
    // One unknown header line is one mistake, however many commands sit under it.
    let mut unknown_menus: HashSet<(Vec<String>, Pos)> = HashSet::new();
    for cmd in &script.commands {
        let Some(menu) = schema::menu(&cmd.menu) else {
            if unknown_menus.insert((cmd.menu.clone(), cmd.menu_pos)) {
                let name = cmd.menu_name();
                let suggestion = suggest::closest(&name, schema::MENUS.iter().map(Menu::name));
                let pos = if cmd.menu_pos == Pos::default() {
                    cmd.pos
                } else {
                    cmd.menu_pos
                };
                errors.push(RscError::new(
                    pos,
                    ErrorKind::UnknownMenu {
                        menu: name,
                        suggestion,
                    },
                ));
            }
            continue;
        };
        check_command(menu, cmd, errors);
    }
}

fn check_command(menu: &Menu, cmd: &Command, errors: &mut Vec<RscError>) {
    let mut err = |pos: Pos, kind: ErrorKind| errors.push(RscError::new(pos, kind));
    let menu_name = menu.name();
    if menu.kind == MenuKind::Settings {
        if cmd.verb != Verb::Set {
            err(
                cmd.pos,
                ErrorKind::CommandNotAllowed {
                    command: cmd.verb.as_str().into(),
                    menu: menu_name.clone(),
                    expected: "set (it is a settings menu)",
                },
            );
            return;
        }
        if cmd.selector.is_some() {
            err(
                cmd.pos,
                ErrorKind::UnexpectedSelector {
                    verb: cmd.verb.as_str(),
                    menu: menu_name.clone(),
                },
            );
        }
    } else if cmd.verb != Verb::Add && cmd.selector.is_none() {
        err(
            cmd.pos,
            ErrorKind::MissingSelector {
                verb: cmd.verb.as_str(),
                menu: menu_name.clone(),
            },
        );
    }
    if let Some(Selector::Find(conditions)) = &cmd.selector {
        for c in conditions {
            let known = menu.spec(&c.name).is_some()
                || menu.is_unsupported(&c.name)
                || schema::FIND_PROPERTIES.contains(&c.name.as_str());
            if !known {
                err(c.pos, unknown_argument(menu, &c.name, None));
            }
        }
    }
    if cmd.verb == Verb::Remove {
        if let Some(first) = cmd.args.first() {
            err(first.pos, ErrorKind::ArgumentsNotAllowed);
        }
        return;
    }
    let mut seen = HashSet::new();
    for arg in &cmd.args {
        if !seen.insert(arg.name.as_str()) {
            err(arg.pos, ErrorKind::DuplicateArgument(arg.name.clone()));
            continue;
        }
        if let Err(e) = check_arg(menu, arg) {
            err(e.pos, e.kind);
        }
    }
    if cmd.verb == Verb::Add {
        for name in menu.required() {
            if !cmd.args.iter().any(|a| a.name == name && a.value.is_some()) {
                err(
                    cmd.pos,
                    ErrorKind::MissingArgument {
                        name: name.into(),
                        menu: menu_name.clone(),
                    },
                );
            }
        }
    }
}

fn unknown_argument(menu: &Menu, name: &str, suggestion: Option<String>) -> ErrorKind {
    let note = menu.refusal(name);
    let suggestion = if note.is_some() {
        None
    } else {
        suggestion.or_else(|| suggest::closest(name, menu.arg_names()).map(str::to_string))
    };
    ErrorKind::UnknownArgument {
        name: name.into(),
        menu: menu.name(),
        suggestion,
        note,
    }
}

fn check_arg(menu: &Menu, arg: &Arg) -> Result<(), RscError> {
    let at_name = |kind| RscError::new(arg.pos, kind);
    let value_pos = arg.value.as_ref().map_or(arg.pos, |v| v.pos);
    let at_value = |kind| RscError::new(value_pos, kind);
    if menu.note(&arg.name).is_some() {
        // Known elsewhere (another menu, a later RouterOS): say so rather than guess a typo.
        return Err(at_name(unknown_argument(menu, &arg.name, None)));
    }
    match menu.args {
        Args::Tracking => {
            let Some(value) = &arg.value else {
                return if menu.arg_names().contains(&arg.name.as_str()) {
                    Ok(())
                } else {
                    Err(at_name(unknown_argument(
                        menu,
                        &arg.name,
                        crate::tracking::suggest(&arg.name),
                    )))
                };
            };
            // The tracking module is the one authority on its names and values.
            let set = TrackingSettings::default().set(&arg.name, &value.text);
            match set {
                Err(SettingError::UnknownArgument { suggestion, .. }) => {
                    Err(at_name(unknown_argument(menu, &arg.name, suggestion)))
                }
                Err(SettingError::ReadOnly(name)) => Err(at_name(ErrorKind::ReadOnly {
                    name,
                    menu: menu.name(),
                })),
                _ if value.negated => {
                    Err(at_value(ErrorKind::NegationNotAllowed(arg.name.clone())))
                }
                Err(SettingError::InvalidValue {
                    name,
                    value,
                    expected,
                }) => Err(at_value(ErrorKind::BadValue {
                    name,
                    value,
                    expected: expected.into(),
                })),
                Ok(()) => Ok(()),
            }
        }
        Args::Table(_) => {
            let Some(spec) = menu.spec(&arg.name) else {
                if arg.value.is_none() && menu.is_unsupported(&arg.name) {
                    // Verbose export's "not set" for a property statewall lacks: nothing to do.
                    return Ok(());
                }
                return Err(at_name(unknown_argument(menu, &arg.name, None)));
            };
            let Some(value) = &arg.value else {
                return Ok(());
            };
            if value.negated && !spec.negatable {
                return Err(at_value(ErrorKind::NegationNotAllowed(arg.name.clone())));
            }
            if !spec.shape.accepts(&value.text) {
                return Err(at_value(ErrorKind::BadValue {
                    name: arg.name.clone(),
                    value: value.text.clone(),
                    expected: spec.shape.expected(),
                }));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    /// Every error message of `text`, which must parse.
    fn errors(text: &str) -> Vec<String> {
        let script = parse(text).expect("parses");
        match validate(&script) {
            Ok(()) => vec![],
            Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn a_good_script_passes() {
        assert_eq!(
            errors(
                "/interface list\nadd comment=defconf name=WAN\n\
                 /interface list member\nadd interface=ether1 list=WAN\n\
                 /ip address\nadd address=192.168.88.1/24 comment=defconf interface=bridge network=192.168.88.0\n\
                 /ip route\nadd distance=1 gateway=10.0.0.1\n\
                 /ip arp\nadd address=192.168.88.5 interface=bridge mac-address=4C:5E:0C:12:34:56\n\
                 /ip firewall address-list\nadd address=10.0.0.0/8 list=bogons timeout=1d\n\
                 /ip firewall filter\nadd action=reject chain=input protocol=tcp dst-port=22,80 reject-with=tcp-reset\n\
                 add chain=forward !connection-bytes !dst-address log=no log-prefix=\"\"\n\
                 set [ find comment=x ] disabled=yes\nremove *3\n\
                 /ip firewall nat\nadd action=dst-nat chain=dstnat dst-port=8080 protocol=tcp to-addresses=192.168.88.5 to-ports=80\n\
                 /ip firewall connection tracking\nset udp-timeout=30s loose-tcp-tracking=no\n\
                 /ip settings\nset tcp-syncookies=yes rp-filter=strict"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn tracking_names_come_from_the_tracking_module() {
        assert_eq!(
            errors("/ip firewall connection tracking\nset udp-timeout=1s \\\n    tcp-loose-tracking=no"),
            ["line 3, column 5: unknown argument \"tcp-loose-tracking\" in /ip firewall connection tracking; did you mean \"loose-tcp-tracking\"?"]
        );
        assert_eq!(
            errors("/ip firewall connection tracking\nset tcp-syncookie=yes"),
            ["line 2, column 5: unknown argument \"tcp-syncookie\" in /ip firewall connection tracking; did you mean \"tcp-syncookies in /ip settings\"?"]
        );
        assert_eq!(
            errors("/ip firewall connection tracking\nset max-entries=8192 icmp-timeout=soon enabled=!yes"),
            [
                "line 2, column 5: argument \"max-entries\" in /ip firewall connection tracking is read-only",
                "line 2, column 35: invalid value \"soon\" for argument \"icmp-timeout\": expected a time value such as 10s, 5m or 1d",
                "line 2, column 48: argument \"enabled\" cannot be negated with \"!\"",
            ]
        );
        assert_eq!(
            errors("/ip firewall connection tracking\nset liberal-tcp-tracking=yes"),
            ["line 2, column 5: unknown argument \"liberal-tcp-tracking\" in /ip firewall connection tracking (RouterOS 7.20+ only)"]
        );
    }

    #[test]
    fn every_kind_of_schema_mistake() {
        assert_eq!(
            errors("/ip firewall filtr\nadd chain=input\nadd chain=forward"),
            ["line 1, column 1: unknown menu /ip firewall filtr; did you mean \"/ip firewall filter\"?"]
        );
        assert_eq!(
            errors("/interface bridge\nadd name=bridge"),
            ["line 1, column 1: unknown menu /interface bridge"]
        );
        assert_eq!(
            errors("/ip settings\nadd tcp-syncookies=yes"),
            ["line 2, column 1: \"add\" is not a command of /ip settings; expected set (it is a settings menu)"]
        );
        assert_eq!(
            errors("/ip firewall filter\nadd chain=input action=dorp"),
            ["line 2, column 24: invalid value \"dorp\" for argument \"action\": expected one of accept, add-dst-to-address-list, add-src-to-address-list, drop, fasttrack-connection, jump, log, passthrough, reject, return, tarpit"]
        );
        assert_eq!(
            errors("/ip firewall nat\nadd chain=srcnat action=masquerade comment=!x"),
            ["line 2, column 44: argument \"comment\" cannot be negated with \"!\""]
        );
        assert_eq!(
            errors("/ip firewall nat\nadd chain=srcnat connection-state=new to-port=80"),
            [
                "line 2, column 18: unknown argument \"connection-state\" in /ip firewall nat (only in /ip firewall filter)",
                "line 2, column 39: unknown argument \"to-port\" in /ip firewall nat; did you mean \"to-ports\"?",
            ]
        );
        assert_eq!(
            errors("/ip firewall filter\nadd chain=input connection-mark=x hw-offload=yes"),
            [
                "line 2, column 17: unknown argument \"connection-mark\" in /ip firewall filter (not supported by statewall)",
                "line 2, column 35: unknown argument \"hw-offload\" in /ip firewall filter (not supported by statewall)",
            ]
        );
        assert_eq!(
            errors("/ip address\nadd address=192.168.88.1/33 comment=a comment=b"),
            [
                "line 2, column 1: missing argument \"interface\" for add in /ip address",
                "line 2, column 13: invalid value \"192.168.88.1/33\" for argument \"address\": expected an IPv4 address with prefix length such as 192.168.88.1/24",
                "line 2, column 39: argument \"comment\" is given more than once",
            ]
        );
        assert_eq!(
            errors("/ip firewall filter\nset disabled=yes\nremove *1 chain=x\nset [ find chian=input ] disabled=no"),
            [
                "line 2, column 1: set in /ip firewall filter needs the items it applies to: [ find name=value ] or *id",
                "line 3, column 11: remove takes no arguments besides the items to remove",
                "line 4, column 12: unknown argument \"chian\" in /ip firewall filter; did you mean \"chain\"?",
            ]
        );
        assert_eq!(
            errors("/ip settings\nset [ find ] tcp-syncookie=yes"),
            [
                "line 2, column 1: /ip settings is a settings menu: set takes no [ find … ] or *id",
                "line 2, column 14: unknown argument \"tcp-syncookie\" in /ip settings; did you mean \"tcp-syncookies\"?",
            ]
        );
    }
}
