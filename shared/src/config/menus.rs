//! The list menus, each as one mapping in each direction: item → arguments (as RouterOS prints
//! them) and arguments → item (with the checks RouterOS makes when it stores one).
//!
//! Both directions meet in `set`: the item's arguments, overlaid with the command's, are read
//! back as a new item. So `add` and `set` go through the same checks, and export needs nothing
//! but the first direction.

use super::model::{
    prefix_mask, AddressListEntry, AddressListTarget, Gateway, InterfaceList, IpAddress,
    ListMember, RouterConfig, StaticArp,
};
use super::rule::{Filter, Nat};
use super::settings::{IpSettingsMenu, SettingsMenu, Tracking};
use super::values::AddrMatch;
use crate::duration::Duration;
use crate::rsc::schema::{self, Menu};
use crate::rsc::{Arg, ErrorKind, Pos, RscError, Value};
use std::net::Ipv4Addr;

/// Something done for every menu of the configuration: run a command, export, renumber.
pub(crate) trait MenuVisitor {
    fn list<M: ListMenu>(&mut self);
    fn settings<S: SettingsMenu>(&mut self);
}

/// Every menu, in the order RouterOS's compact `/export` writes them. The one list of menus:
/// import, export and renumbering all go through it.
pub(crate) fn each_menu(v: &mut impl MenuVisitor) {
    v.list::<InterfaceLists>();
    v.list::<ListMembers>();
    v.settings::<Tracking>();
    v.settings::<IpSettingsMenu>();
    v.list::<IpAddresses>();
    v.list::<Arp>();
    v.list::<AddressLists>();
    v.list::<Filter>();
    v.list::<Nat>();
    v.list::<Routes>();
}

/// One list menu of the configuration.
pub(crate) trait ListMenu {
    type Item;
    const PATH: &'static [&'static str];
    /// What a compact export leaves out: RouterOS's default values.
    const DEFAULTS: &'static [(&'static str, &'static str)];
    /// Arguments whose values together may appear on one item only (RouterOS refuses a second).
    const KEY: &'static [&'static str] = &[];

    fn items(cfg: &RouterConfig) -> &Vec<Self::Item>;
    fn items_mut(cfg: &mut RouterConfig) -> &mut Vec<Self::Item>;
    fn id_mut(item: &mut Self::Item) -> &mut u32;
    fn id(item: &Self::Item) -> u32;
    /// Every property as RouterOS prints it, defaults included (what `[ find ]` sees).
    fn to_args(item: &Self::Item) -> Vec<Arg>;
    /// The item the arguments describe, or every reason it cannot be stored.
    fn from_args(id: u32, props: &Props) -> Result<Self::Item, Vec<RscError>>;
}

/// The arguments describing one item, and where to report what is wrong with them.
///
/// For `add` these are the command's arguments; for `set`, the item's own overlaid with the
/// command's. A mistake is reported at an argument the command wrote, or else at the command:
/// the user should see the line that made the item wrong.
pub(crate) struct Props<'a> {
    args: &'a [Arg],
    written: &'a [Arg],
    menu: Option<&'static Menu>,
    at: Pos,
}

impl<'a> Props<'a> {
    /// `args` describe the item, `written` are the command's own, `at` is the command.
    pub fn new(path: &[&str], args: &'a [Arg], written: &'a [Arg], at: Pos) -> Self {
        Props {
            args,
            written,
            menu: schema::menu(path),
            at,
        }
    }

    /// Whether the command being run gave `name` (rather than `set` carrying it over).
    pub fn written(&self, name: &str) -> bool {
        self.written.iter().any(|a| a.name == name)
    }

    /// The value of `name`; a `!name` marker is no value.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.args
            .iter()
            .rev()
            .find(|a| a.name == name)
            .and_then(|a| a.value.as_ref())
    }

    pub fn text(&self, name: &str) -> Option<&'a str> {
        self.value(name).map(|v| v.text.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    /// Where the first of `names` that this command wrote is, else where the command is.
    pub fn pos_of(&self, names: &[&str]) -> Pos {
        names
            .iter()
            .find_map(|n| self.written.iter().find(|a| a.name == *n))
            .map_or(self.at, |a| a.pos)
    }

    pub fn error(&self, names: &[&str], kind: ErrorKind) -> RscError {
        RscError::new(self.pos_of(names), kind)
    }

    /// Reads `name` with `parse`; a value the schema let through but `parse` refuses is reported
    /// with the schema's words for what fits.
    pub fn parse<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
        errors: &mut Vec<RscError>,
    ) -> Option<T> {
        let value = self.value(name)?;
        match parse(&value.text) {
            Ok(v) => Some(v),
            Err(why) => {
                errors.push(self.bad_value(name, &value.text, why));
                None
            }
        }
    }

    pub fn bad_value(&self, name: &str, text: &str, why: String) -> RscError {
        let expected = self
            .menu
            .and_then(|m| m.spec(name))
            .map_or(why, |s| s.shape.expected());
        let pos = self
            .written
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.value.as_ref())
            .map_or(self.at, |v| v.pos);
        RscError::new(
            pos,
            ErrorKind::BadValue {
                name: name.to_string(),
                value: text.to_string(),
                expected,
            },
        )
    }

    /// A value every item has; its absence (only after `set` of `!name`) is reported.
    pub fn required(&self, name: &str, errors: &mut Vec<RscError>) -> Option<&'a str> {
        let text = self.text(name);
        if text.is_none() {
            errors.push(RscError::new(
                self.at,
                ErrorKind::MissingArgument {
                    name: name.to_string(),
                    menu: self.menu.map_or_else(String::new, Menu::name),
                },
            ));
        }
        text
    }

    pub fn flag(&self, name: &str, errors: &mut Vec<RscError>) -> bool {
        self.parse(name, parse_yes_no, errors).unwrap_or(false)
    }

    /// `comment=`; an empty comment is no comment, as RouterOS shows it.
    pub fn comment(&self) -> Option<String> {
        self.text("comment")
            .filter(|c| !c.is_empty())
            .map(str::to_string)
    }
}

pub(crate) fn parse_yes_no(text: &str) -> Result<bool, String> {
    match text {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!("\"{text}\" is not yes or no")),
    }
}

pub(crate) fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `comment` and `disabled`, which most menus share, as [`ListMenu::to_args`] writes them.
pub(crate) fn common_args(out: &mut Vec<Arg>, comment: &Option<String>, disabled: Option<bool>) {
    out.push(Arg::new("comment", comment.as_deref().unwrap_or("")));
    if let Some(d) = disabled {
        out.push(Arg::new("disabled", yes_no(d)));
    }
}

/// Turns a list of per-property errors into the item or the errors.
fn done<T>(item: T, errors: Vec<RscError>) -> Result<T, Vec<RscError>> {
    if errors.is_empty() {
        Ok(item)
    } else {
        Err(errors)
    }
}

const COMMENT_DISABLED: &[(&str, &str)] = &[("comment", ""), ("disabled", "no")];

pub(crate) struct InterfaceLists;

impl ListMenu for InterfaceLists {
    type Item = InterfaceList;
    const PATH: &'static [&'static str] = &["interface", "list"];
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[("comment", "")];
    const KEY: &'static [&'static str] = &["name"];

    fn items(cfg: &RouterConfig) -> &Vec<InterfaceList> {
        &cfg.interface_lists
    }
    fn items_mut(cfg: &mut RouterConfig) -> &mut Vec<InterfaceList> {
        &mut cfg.interface_lists
    }
    fn id(item: &InterfaceList) -> u32 {
        item.id
    }
    fn id_mut(item: &mut InterfaceList) -> &mut u32 {
        &mut item.id
    }

    fn to_args(item: &InterfaceList) -> Vec<Arg> {
        let mut out = vec![Arg::new("name", &item.name)];
        common_args(&mut out, &item.comment, None);
        out
    }

    fn from_args(id: u32, p: &Props) -> Result<InterfaceList, Vec<RscError>> {
        let mut errors = Vec::new();
        let name = p.required("name", &mut errors).unwrap_or_default();
        let item = InterfaceList {
            id,
            name: name.to_string(),
            comment: p.comment(),
        };
        done(item, errors)
    }
}

pub(crate) struct ListMembers;

impl ListMenu for ListMembers {
    type Item = ListMember;
    const PATH: &'static [&'static str] = &["interface", "list", "member"];
    const DEFAULTS: &'static [(&'static str, &'static str)] = COMMENT_DISABLED;
    const KEY: &'static [&'static str] = &["list", "interface"];

    fn items(cfg: &RouterConfig) -> &Vec<ListMember> {
        &cfg.list_members
    }
    fn items_mut(cfg: &mut RouterConfig) -> &mut Vec<ListMember> {
        &mut cfg.list_members
    }
    fn id(item: &ListMember) -> u32 {
        item.id
    }
    fn id_mut(item: &mut ListMember) -> &mut u32 {
        &mut item.id
    }

    fn to_args(item: &ListMember) -> Vec<Arg> {
        let mut out = vec![
            Arg::new("list", &item.list),
            Arg::new("interface", &item.interface),
        ];
        common_args(&mut out, &item.comment, Some(item.disabled));
        out
    }

    fn from_args(id: u32, p: &Props) -> Result<ListMember, Vec<RscError>> {
        let mut errors = Vec::new();
        let item = ListMember {
            id,
            list: p.required("list", &mut errors).unwrap_or_default().into(),
            interface: p
                .required("interface", &mut errors)
                .unwrap_or_default()
                .into(),
            disabled: p.flag("disabled", &mut errors),
            comment: p.comment(),
        };
        done(item, errors)
    }
}

/// `192.0.2.1/24` (a bare address is a /32).
fn parse_prefix(text: &str) -> Result<(Ipv4Addr, u8), String> {
    match AddrMatch::parse(text)? {
        AddrMatch::Prefix { addr, len } => Ok((addr, len)),
        AddrMatch::Range { .. } => Err(format!("\"{text}\" is a range, not an address/length")),
    }
}

pub(crate) struct IpAddresses;

impl ListMenu for IpAddresses {
    type Item = IpAddress;
    const PATH: &'static [&'static str] = &["ip", "address"];
    const DEFAULTS: &'static [(&'static str, &'static str)] = COMMENT_DISABLED;

    fn items(cfg: &RouterConfig) -> &Vec<IpAddress> {
        &cfg.addresses
    }
    fn items_mut(cfg: &mut RouterConfig) -> &mut Vec<IpAddress> {
        &mut cfg.addresses
    }
    fn id(item: &IpAddress) -> u32 {
        item.id
    }
    fn id_mut(item: &mut IpAddress) -> &mut u32 {
        &mut item.id
    }

    /// `network=` is always printed, as RouterOS's export does, though it is derived.
    fn to_args(item: &IpAddress) -> Vec<Arg> {
        let mut out = vec![
            Arg::new("address", format!("{}/{}", item.address, item.prefix_len)),
            Arg::new("interface", &item.interface),
            Arg::new("network", item.network().to_string()),
        ];
        common_args(&mut out, &item.comment, Some(item.disabled));
        out
    }

    fn from_args(id: u32, p: &Props) -> Result<IpAddress, Vec<RscError>> {
        let mut errors = Vec::new();
        p.required("address", &mut errors);
        let (address, prefix_len) = p
            .parse("address", parse_prefix, &mut errors)
            .unwrap_or((Ipv4Addr::UNSPECIFIED, 32));
        let item = IpAddress {
            id,
            address,
            prefix_len,
            interface: p
                .required("interface", &mut errors)
                .unwrap_or_default()
                .into(),
            disabled: p.flag("disabled", &mut errors),
            comment: p.comment(),
        };
        // statewall derives the network from the address; a network given in this command
        // must be that one (RouterOS allows another for point-to-point /32s, statewall not).
        // One carried over by `set` is the old derived value and is recomputed.
        if let Some(network) = p.text("network").filter(|_| p.written("network")) {
            if network != item.network().to_string() {
                errors.push(p.error(
                    &["network"],
                    ErrorKind::NotSupported(format!(
                        "network={network} other than the address's own network {}",
                        item.network()
                    )),
                ));
            }
        }
        done(item, errors)
    }
}

pub(crate) struct Routes;

impl ListMenu for Routes {
    type Item = super::model::Route;
    const PATH: &'static [&'static str] = &["ip", "route"];
    const DEFAULTS: &'static [(&'static str, &'static str)] = &[
        ("comment", ""),
        ("disabled", "no"),
        ("distance", "1"),
        ("dst-address", "0.0.0.0/0"),
    ];

    fn items(cfg: &RouterConfig) -> &Vec<Self::Item> {
        &cfg.routes
    }
    fn items_mut(cfg: &mut RouterConfig) -> &mut Vec<Self::Item> {
        &mut cfg.routes
    }
    fn id(item: &Self::Item) -> u32 {
        item.id
    }
    fn id_mut(item: &mut Self::Item) -> &mut u32 {
        &mut item.id
    }

    fn to_args(item: &Self::Item) -> Vec<Arg> {
        let mut out = vec![
            Arg::new("dst-address", format!("{}/{}", item.dst, item.dst_len)),
            Arg::new("gateway", item.gateway.to_string()),
            Arg::new("distance", item.distance.to_string()),
        ];
        common_args(&mut out, &item.comment, Some(item.disabled));
        out
    }

    fn from_args(id: u32, p: &Props) -> Result<Self::Item, Vec<RscError>> {
        let mut errors = Vec::new();
        // A destination is a network: host bits are dropped, as RouterOS stores it.
        let (dst, dst_len) = p
            .parse("dst-address", parse_prefix, &mut errors)
            .map_or((Ipv4Addr::UNSPECIFIED, 0), |(addr, len)| {
                (Ipv4Addr::from(u32::from(addr) & prefix_mask(len)), len)
            });
        let gateways = p.required("gateway", &mut errors).unwrap_or_default();
        let gateway = if gateways.contains(',') {
            errors.push(p.error(
                &["gateway"],
                ErrorKind::NotSupported(format!(
                    "gateway={gateways} (more than one gateway, ECMP)"
                )),
            ));
            None
        } else {
            p.parse("gateway", Gateway::parse, &mut errors)
        };
        let distance = p
            .parse(
                "distance",
                |t| t.parse::<u8>().map_err(|e| e.to_string()),
                &mut errors,
            )
            .unwrap_or(1);
        let item = super::model::Route {
            id,
            dst,
            dst_len,
            gateway: gateway.unwrap_or(Gateway::Address(Ipv4Addr::UNSPECIFIED)),
            distance,
            disabled: p.flag("disabled", &mut errors),
            comment: p.comment(),
        };
        done(item, errors)
    }
}

fn parse_mac(text: &str) -> Result<[u8; 6], String> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        let part = parts.next().unwrap_or_default();
        *byte = u8::from_str_radix(part, 16)
            .ok()
            .filter(|_| part.len() == 2)
            .ok_or_else(|| format!("\"{text}\" is not a MAC address"))?;
    }
    if parts.next().is_some() {
        return Err(format!("\"{text}\" is not a MAC address"));
    }
    Ok(mac)
}

/// Upper-case hex, as RouterOS prints MAC addresses.
fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub(crate) struct Arp;

impl ListMenu for Arp {
    type Item = StaticArp;
    const PATH: &'static [&'static str] = &["ip", "arp"];
    const DEFAULTS: &'static [(&'static str, &'static str)] = COMMENT_DISABLED;

    fn items(cfg: &RouterConfig) -> &Vec<StaticArp> {
        &cfg.arp
    }
    fn items_mut(cfg: &mut RouterConfig) -> &mut Vec<StaticArp> {
        &mut cfg.arp
    }
    fn id(item: &StaticArp) -> u32 {
        item.id
    }
    fn id_mut(item: &mut StaticArp) -> &mut u32 {
        &mut item.id
    }

    fn to_args(item: &StaticArp) -> Vec<Arg> {
        let mut out = vec![
            Arg::new("address", item.address.to_string()),
            Arg::new("mac-address", mac_text(&item.mac)),
            Arg::new("interface", &item.interface),
        ];
        common_args(&mut out, &item.comment, Some(item.disabled));
        out
    }

    fn from_args(id: u32, p: &Props) -> Result<StaticArp, Vec<RscError>> {
        let mut errors = Vec::new();
        p.required("address", &mut errors);
        p.required("mac-address", &mut errors);
        let item = StaticArp {
            id,
            address: p
                .parse(
                    "address",
                    |t| t.parse().map_err(|_| format!("\"{t}\" is not an address")),
                    &mut errors,
                )
                .unwrap_or(Ipv4Addr::UNSPECIFIED),
            mac: p
                .parse("mac-address", parse_mac, &mut errors)
                .unwrap_or_default(),
            interface: p
                .required("interface", &mut errors)
                .unwrap_or_default()
                .into(),
            disabled: p.flag("disabled", &mut errors),
            comment: p.comment(),
        };
        done(item, errors)
    }
}

pub(crate) struct AddressLists;

impl ListMenu for AddressLists {
    type Item = AddressListEntry;
    const PATH: &'static [&'static str] = &["ip", "firewall", "address-list"];
    const DEFAULTS: &'static [(&'static str, &'static str)] = COMMENT_DISABLED;
    const KEY: &'static [&'static str] = &["list", "address"];

    fn items(cfg: &RouterConfig) -> &Vec<AddressListEntry> {
        &cfg.address_lists
    }
    fn items_mut(cfg: &mut RouterConfig) -> &mut Vec<AddressListEntry> {
        &mut cfg.address_lists
    }
    fn id(item: &AddressListEntry) -> u32 {
        item.id
    }
    fn id_mut(item: &mut AddressListEntry) -> &mut u32 {
        &mut item.id
    }

    fn to_args(item: &AddressListEntry) -> Vec<Arg> {
        let address = match &item.address {
            AddressListTarget::Addr(a) => a.to_string(),
            AddressListTarget::Name(n) => n.clone(),
        };
        let mut out = vec![Arg::new("list", &item.list), Arg::new("address", address)];
        if let Some(t) = item.timeout {
            out.push(Arg::new("timeout", t.to_string()));
        }
        common_args(&mut out, &item.comment, Some(item.disabled));
        out
    }

    fn from_args(id: u32, p: &Props) -> Result<AddressListEntry, Vec<RscError>> {
        let mut errors = Vec::new();
        let address = p.required("address", &mut errors).unwrap_or_default();
        let address = match AddrMatch::parse(address) {
            Ok(a) => AddressListTarget::Addr(a.normalized()),
            // The shape check let it through, so it is a DNS name.
            Err(_) => AddressListTarget::Name(address.to_string()),
        };
        let item = AddressListEntry {
            id,
            list: p.required("list", &mut errors).unwrap_or_default().into(),
            address,
            timeout: p.parse(
                "timeout",
                |t| t.parse::<Duration>().map_err(|e| e.to_string()),
                &mut errors,
            ),
            disabled: p.flag("disabled", &mut errors),
            comment: p.comment(),
        };
        done(item, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_read_either_case_and_print_upper() {
        let mac = parse_mac("4c:5e:0C:12:34:56").unwrap();
        assert_eq!(mac_text(&mac), "4C:5E:0C:12:34:56");
        for bad in [
            "4C:5E:0C:12:34",
            "4C:5E:0C:12:34:56:78",
            "4C:5E:0C:12:34:5",
            "",
        ] {
            assert!(parse_mac(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn carried_over_arguments_report_at_the_command() {
        let mut written = Arg::new("interface", "ether2");
        written.pos = Pos::new(3, 30);
        let written = [written];
        let args = [Arg::new("address", "10.0.0.1/24"), written[0].clone()];
        let p = Props::new(IpAddresses::PATH, &args, &written, Pos::new(3, 1));
        assert_eq!(p.pos_of(&["address"]), Pos::new(3, 1));
        assert_eq!(p.pos_of(&["address", "interface"]), Pos::new(3, 30));
    }
}
