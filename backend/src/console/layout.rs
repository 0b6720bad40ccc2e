//! Printed items → the text RouterOS's console shows (routeros.md §2.2, §9).
//!
//! - The `Flags:` legend names the flags that appear in the rows printed, in the menu's legend
//!   order (`Flags: S - seen-reply, A - assured`), and is left out when none does.
//! - A row starts with its number (right-aligned), a blank, one column per legend flag (its
//!   letter or a blank), a blank; `#` heads the number column.
//! - Tables: each column as wide as RouterOS makes it (connection addresses 21, `PR..` 4) or as
//!   its widest value; numbers right-aligned; a comment is a `;;; text` line of its own, the
//!   row under it.
//! - Rules (`/ip firewall filter`, `nat`) and `detail`: `name=value` pairs (chain and action
//!   first; in plain `print` without default values), wrapped to the terminal's width under the
//!   first, a blank line after each item. `terse`: the same on one line per item.
//! - Settings: `name: value` lines, names right-aligned two columns in from the longest.
//! - `count-only`: the number alone.
//!
//! Values come from the API as RouterOS's APIs send them; the console shows booleans as
//! `yes`/`no` and `/system resource`'s figures with their units (`90.7MiB`, `600MHz`, `10%`).

use super::menu::{Column, Flag, Menu, View};
use shared::rsc::{Arg, Command, Script, Verb};

/// One printed item: its properties in the order the API sent them, `.id` included.
pub type Row = Vec<(String, String)>;

/// A row and the number `print` gave it.
pub type Numbered = (Option<usize>, Row);

/// How a list is printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Style {
    /// The menu's own layout (a table, or rules).
    Plain,
    Detail,
    Terse,
    /// `print stats` (rules: chain, action, counters).
    Stats,
    /// `proplist=`: a table of these properties.
    Props(Vec<String>),
}

fn get<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    row.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn is_true(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "yes"))
}

/// A value as the console shows it.
pub fn display(value: &str) -> &str {
    match value {
        "true" => "yes",
        "false" => "no",
        v => v,
    }
}

/// `name=value` as the console prints it, quoted where RouterOS quotes (the `.rsc` printer's
/// one quoting table).
pub fn pair(name: &str, value: &str) -> String {
    let value = display(value);
    let arg = match value.strip_prefix('!') {
        Some(rest) if !rest.is_empty() && !rest.starts_with('!') => Arg::negated(name, rest),
        _ => Arg::new(name, value),
    };
    let mut cmd = Command::new(&[], Verb::Set);
    cmd.args.push(arg);
    let text = shared::rsc::print_terse(&Script {
        commands: vec![cmd],
    });
    let text = text.trim_end_matches('\n');
    text.strip_prefix("/ set ").unwrap_or(text).to_string()
}

/// `Flags: X - disabled, D - dynamic`: the menu's flags that some row has.
fn legend(flags: &[Flag], rows: &[Numbered]) -> Vec<Flag> {
    flags
        .iter()
        .filter(|f| rows.iter().any(|(_, r)| is_true(get(r, f.prop))))
        .copied()
        .collect()
}

fn legend_line(flags: &[Flag]) -> Option<String> {
    if flags.is_empty() {
        return None;
    }
    let names: Vec<String> = flags
        .iter()
        .map(|f| format!("{} - {}", f.letter, f.prop))
        .collect();
    Some(format!("Flags: {}", names.join(", ")))
}

/// The number and flag columns of every row.
struct Prefix {
    flags: Vec<Flag>,
    num_width: usize,
}

impl Prefix {
    fn new(flags: Vec<Flag>, rows: &[Numbered]) -> Self {
        let num_width = rows
            .iter()
            .filter_map(|(n, _)| n.map(|n| n.to_string().len()))
            .max()
            .unwrap_or(1);
        Prefix { flags, num_width }
    }

    fn width(&self) -> usize {
        self.num_width
            + 1
            + if self.flags.is_empty() {
                0
            } else {
                self.flags.len() + 1
            }
    }

    fn row(&self, number: Option<usize>, row: &Row) -> String {
        let num = number.map(|n| n.to_string()).unwrap_or_default();
        let mut out = format!("{num:>w$} ", w = self.num_width);
        if !self.flags.is_empty() {
            for f in &self.flags {
                out.push(if is_true(get(row, f.prop)) {
                    f.letter
                } else {
                    ' '
                });
            }
            out.push(' ');
        }
        out
    }

    fn header(&self) -> String {
        format!(
            "{:>w$}{}",
            "#",
            " ".repeat(self.width() - self.num_width),
            w = self.num_width
        )
    }

    fn blank(&self) -> String {
        " ".repeat(self.width())
    }
}

fn finish(lines: Vec<String>) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A list print in `style`, `width` columns wide (for wrapping).
pub fn list(menu: &Menu, rows: &[Numbered], style: &Style, width: usize) -> String {
    let prefix = Prefix::new(legend(menu.flags, rows), rows);
    // `terse` is for reading by programs: rows only.
    let mut lines: Vec<String> = match style {
        Style::Terse => Vec::new(),
        _ => legend_line(&prefix.flags).into_iter().collect(),
    };
    match (style, menu.view) {
        (Style::Stats, _) => {
            let cols: Vec<Col> = super::menu::RULE_STATS.iter().map(Col::of).collect();
            table(&prefix, &cols, rows, true, &mut lines)
        }
        (Style::Props(props), _) => {
            let cols: Vec<Col> = props
                .iter()
                .map(|p| Col {
                    prop: p,
                    header: p.to_uppercase(),
                    width: 0,
                    right: false,
                })
                .collect();
            table(&prefix, &cols, rows, false, &mut lines);
        }
        (Style::Plain, View::Table(cols)) if !cols.is_empty() => {
            let cols: Vec<Col> = cols.iter().map(Col::of).collect();
            table(&prefix, &cols, rows, false, &mut lines)
        }
        (Style::Terse, _) => {
            for (n, row) in rows {
                let mut props = ordered(menu, row, true);
                // The comment leads, as its `;;;` line does elsewhere.
                props.sort_by_key(|(k, _)| *k != "comment");
                let pairs: Vec<String> = props.into_iter().map(|(k, v)| pair(k, v)).collect();
                lines.push(format!("{}{}", prefix.row(*n, row), pairs.join(" ")));
            }
        }
        // Rules, detail, and lists without a table of their own.
        (style, _) => {
            let all = *style == Style::Detail || menu.view != View::Rules;
            for (n, row) in rows {
                let mut first = prefix.row(*n, row);
                if let Some(c) = get(row, "comment").filter(|c| !c.is_empty()) {
                    lines.push(format!("{first};;; {c}"));
                    first = prefix.blank();
                }
                let pairs: Vec<String> = ordered(menu, row, all)
                    .into_iter()
                    .filter(|(k, _)| *k != "comment")
                    .map(|(k, v)| pair(k, v))
                    .collect();
                wrap(&first, &prefix.blank(), &pairs, width, &mut lines);
                lines.push(String::new());
            }
        }
    }
    finish(lines)
}

/// `pairs` after `first`, continuing under `indent`, lines at most `width` wide where the pairs
/// allow (a pair longer than a line gets one of its own).
fn wrap(first: &str, indent: &str, pairs: &[String], width: usize, lines: &mut Vec<String>) {
    let mut line = first.to_string();
    let mut empty = true;
    for p in pairs {
        if !empty && line.chars().count() + 1 + p.chars().count() > width {
            lines.push(std::mem::replace(&mut line, indent.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(p);
        empty = false;
    }
    lines.push(line);
}

/// The properties `detail`/`terse`/rules print, in RouterOS's order: the menu's own order
/// where it has one, else its columns first; then the rest as sent. Never `.id` or the flags (they are letters); in a rule's plain print, no defaults.
fn ordered<'r>(menu: &Menu, row: &'r Row, all: bool) -> Vec<(&'r str, &'r str)> {
    let mut order: Vec<&str> = menu.order.to_vec();
    if let View::Table(cols) = menu.view {
        order.extend(cols.iter().map(|c| c.prop));
    }
    let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
    let mut props: Vec<(usize, usize, &str, &str)> = row
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| k != ".id" && !menu.flags.iter().any(|f| f.prop == k))
        .filter(|(_, (k, v))| {
            all || !(menu.view == View::Rules
                && matches!(
                    (k.as_str(), v.as_str()),
                    ("log", "false" | "no") | ("log-prefix", "") | ("bytes" | "packets", _)
                ))
        })
        .map(|(i, (k, v))| (rank(k), i, k.as_str(), v.as_str()))
        .collect();
    props.sort_by_key(|&(r, i, _, _)| (r, i));
    props.into_iter().map(|(_, _, k, v)| (k, v)).collect()
}

/// `50 507 925 242`: counters in `print stats`, digits grouped in threes.
fn grouped(v: &str) -> String {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return v.to_string();
    }
    let digits: Vec<char> = v.chars().collect();
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(*c);
    }
    out
}

/// A table column: a menu's [`Column`], or a `proplist=` property.
struct Col<'a> {
    prop: &'a str,
    header: String,
    width: usize,
    right: bool,
}

impl Col<'static> {
    /// The heading is the property in capitals, cut to a fixed width as RouterOS cuts it
    /// (`PROTOCOL` in 4 columns is `PR..`).
    fn of(c: &Column) -> Col<'static> {
        let h = c
            .header
            .map_or_else(|| c.prop.to_uppercase(), str::to_string);
        let header = if c.width >= 3 && h.len() > c.width {
            format!("{}..", &h[..c.width - 2])
        } else {
            h
        };
        Col {
            prop: c.prop,
            header,
            width: c.width,
            right: c.right,
        }
    }
}

fn table(prefix: &Prefix, cols: &[Col], rows: &[Numbered], group: bool, lines: &mut Vec<String>) {
    let cell = |row: &Row, c: &Col| -> String {
        let v = display(get(row, c.prop).unwrap_or_default());
        if group && c.right {
            grouped(v)
        } else {
            v.to_string()
        }
    };
    let headers: Vec<String> = cols.iter().map(|c| c.header.clone()).collect();
    let widths: Vec<usize> = cols
        .iter()
        .zip(&headers)
        .map(|(c, h)| {
            rows.iter()
                .map(|(_, r)| cell(r, c).chars().count())
                .chain([c.width, h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let render = |cells: &[String]| -> String {
        let mut out = String::new();
        for (i, (c, text)) in cols.iter().zip(cells).enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let w = widths[i];
            if c.right {
                out.push_str(&format!("{text:>w$}"));
            } else {
                out.push_str(&format!("{text:<w$}"));
            }
        }
        out
    };
    lines.push(format!("{}{}", prefix.header(), render(&headers)));
    for (n, row) in rows {
        let cells: Vec<String> = cols.iter().map(|c| cell(row, c)).collect();
        let mut start = prefix.row(*n, row);
        if let Some(c) = get(row, "comment").filter(|c| !c.is_empty()) {
            lines.push(format!("{start};;; {c}"));
            start = prefix.blank();
        }
        lines.push(format!("{start}{}", render(&cells)));
    }
}

/// A settings record: `name: value`, names right-aligned, in the menu's order where it has one
/// (`/system resource`), else as sent.
pub fn settings(menu: &Menu, row: &Row) -> String {
    let rank = |k: &str| {
        menu.order
            .iter()
            .position(|o| *o == k)
            .unwrap_or(usize::MAX)
    };
    let mut props: Vec<(usize, usize, &str, &str)> = row
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| k != ".id")
        .map(|(i, (k, v))| (rank(k), i, k.as_str(), v.as_str()))
        .collect();
    props.sort_by_key(|&(r, i, _, _)| (r, i));
    let shown: Vec<(&str, String)> = props
        .into_iter()
        .map(|(_, _, k, v)| (k, value_in(menu, k, v)))
        .collect();
    let w = shown.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    let lines = shown
        .into_iter()
        .map(|(k, v)| format!("{k:>w$}: {v}"))
        .collect();
    finish(lines)
}

/// A settings value with the units `/system resource print` shows.
pub fn value_in(menu: &Menu, name: &str, value: &str) -> String {
    if menu.path == ["system", "resource"] {
        match name {
            "free-memory" | "total-memory" | "free-hdd-space" | "total-hdd-space" => {
                if let Ok(n) = value.parse::<u64>() {
                    return bytes(n);
                }
            }
            "cpu-frequency" if value.parse::<u64>().is_ok() => return format!("{value}MHz"),
            "cpu-load" if value.parse::<u64>().is_ok() => return format!("{value}%"),
            _ => {}
        }
    }
    display(value).to_string()
}

/// `90.7MiB`, `1.9GiB`, `512.0KiB`, `100B`.
fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if n >= size {
            return format!("{:.1}{unit}", n as f64 / size as f64);
        }
    }
    format!("{n}B")
}

/// `/system resource monitor`'s lines.
pub fn monitor(row: &Row) -> String {
    let cpu = get(row, "cpu-load").unwrap_or("0");
    let free = get(row, "free-memory")
        .and_then(|v| v.parse().ok())
        .map_or_else(String::new, bytes);
    format!("     cpu-used: {cpu}%\n  free-memory: {free}\n")
}

#[cfg(test)]
mod tests {
    use super::super::menu;
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn m(path: &[&str]) -> &'static Menu {
        menu::find(path).expect("menu")
    }

    /// A connection; `established` makes it a seen-reply, assured TCP one.
    fn conn(
        id: &str,
        proto: &str,
        src: &str,
        dst: &str,
        state: Option<&str>,
        timeout: &str,
    ) -> Row {
        let yes = |on: bool| if on { "true" } else { "false" };
        let established = state == Some("established");
        let mut r = row(&[
            (".id", id),
            ("protocol", proto),
            ("src-address", src),
            ("dst-address", dst),
            ("reply-src-address", dst),
            ("reply-dst-address", src),
        ]);
        if let Some(s) = state {
            r.push(("tcp-state".into(), s.into()));
        }
        r.extend(row(&[
            ("timeout", timeout),
            ("orig-packets", "5"),
            ("seen-reply", yes(established)),
            ("assured", yes(established)),
            ("confirmed", "false"),
            ("srcnat", "false"),
        ]));
        r
    }

    /// routeros.md §2.2's example, character for character.
    #[test]
    fn connection_table_like_the_manual() {
        let rows = vec![
            (
                Some(0),
                conn(
                    "*1",
                    "udp",
                    "10.5.8.176:5678",
                    "255.255.255.255:5678",
                    None,
                    "0s",
                ),
            ),
            (
                Some(2),
                conn("*3", "ospf", "10.5.101.161", "224.0.0.5", None, "9m58s"),
            ),
            (
                Some(4),
                conn(
                    "*5",
                    "tcp",
                    "10.5.101.147:48984",
                    "10.5.101.1:8291",
                    Some("established"),
                    "4m59s",
                ),
            ),
        ];
        let text = list(
            m(&["ip", "firewall", "connection"]),
            &rows,
            &Style::Plain,
            80,
        );
        assert_eq!(
            text,
            "\
Flags: S - seen-reply, A - assured
#    PR.. SRC-ADDRESS           DST-ADDRESS           TCP-STATE   TIMEOUT
0    udp  10.5.8.176:5678       255.255.255.255:5678              0s
2    ospf 10.5.101.161          224.0.0.5                         9m58s
4 SA tcp  10.5.101.147:48984    10.5.101.1:8291       established 4m59s
"
        );
    }

    #[test]
    fn no_flags_no_legend_and_numbers_right_aligned() {
        let rows: Vec<Numbered> = (0..11)
            .map(|i| {
                (
                    Some(i),
                    conn("*1", "udp", "10.0.0.2:53", "10.0.0.1:53", None, "10s"),
                )
            })
            .collect();
        let text = list(
            m(&["ip", "firewall", "connection"]),
            &rows[9..],
            &Style::Plain,
            80,
        );
        assert_eq!(
            text,
            " # PR.. SRC-ADDRESS           DST-ADDRESS           TCP-STATE   TIMEOUT
 9 udp  10.0.0.2:53           10.0.0.1:53                       10s
10 udp  10.0.0.2:53           10.0.0.1:53                       10s
"
        );
    }

    fn rule(id: &str, pairs: &[(&str, &str)]) -> Row {
        let mut r = row(&[(".id", id)]);
        r.extend(row(pairs));
        r
    }

    fn rules() -> Vec<Numbered> {
        vec![
            (
                Some(0),
                rule(
                    "*1",
                    &[
                        ("action", "accept"),
                        ("bytes", "20090211549"),
                        ("chain", "input"),
                        ("comment", "defconf: accept established,related,untracked"),
                        ("connection-state", "established,related,untracked"),
                        ("disabled", "false"),
                        ("dynamic", "false"),
                        ("invalid", "false"),
                        ("log", "false"),
                        ("log-prefix", ""),
                        ("packets", "20009864"),
                    ],
                ),
            ),
            (
                Some(1),
                rule(
                    "*2",
                    &[
                        ("action", "drop"),
                        ("bytes", "0"),
                        ("chain", "forward"),
                        ("connection-nat-state", "!dstnat"),
                        ("connection-state", "new"),
                        ("disabled", "true"),
                        ("in-interface-list", "WAN"),
                        ("log", "false"),
                        ("log-prefix", ""),
                        ("packets", "0"),
                        ("protocol", "tcp"),
                    ],
                ),
            ),
        ]
    }

    #[test]
    fn rules_print_compactly_and_wrap() {
        let text = list(
            m(&["ip", "firewall", "filter"]),
            &rules(),
            &Style::Plain,
            60,
        );
        assert_eq!(
            text,
            "\
Flags: X - disabled
0   ;;; defconf: accept established,related,untracked
    chain=input action=accept
    connection-state=established,related,untracked

1 X chain=forward action=drop connection-state=new
    connection-nat-state=!dstnat protocol=tcp
    in-interface-list=WAN

"
        );
    }

    #[test]
    fn rule_detail_terse_and_stats() {
        let filter = m(&["ip", "firewall", "filter"]);
        let detail = list(filter, &rules()[1..], &Style::Detail, 80);
        assert_eq!(
            detail,
            "\
Flags: X - disabled
1 X chain=forward action=drop connection-state=new connection-nat-state=!dstnat
    protocol=tcp in-interface-list=WAN log=no log-prefix=\"\" bytes=0 packets=0

"
        );
        let terse = list(filter, &rules()[..1], &Style::Terse, 80);
        assert_eq!(
            terse,
            "0 comment=\"defconf: accept established,related,untracked\" chain=input \
             action=accept connection-state=established,related,untracked log=no \
             log-prefix=\"\" bytes=20090211549 packets=20009864\n"
        );
        let stats = list(filter, &rules(), &Style::Stats, 80);
        assert_eq!(
            stats,
            "\
Flags: X - disabled
#   CHAIN   ACTION          BYTES    PACKETS
0   ;;; defconf: accept established,related,untracked
    input   accept 20 090 211 549 20 009 864
1 X forward drop                0          0
"
        );
    }

    #[test]
    fn connection_detail_has_every_property_and_letters_for_flags() {
        let rows = vec![(
            Some(0),
            conn(
                "*5",
                "tcp",
                "10.5.101.147:48984",
                "10.5.101.1:8291",
                Some("established"),
                "4m59s",
            ),
        )];
        let text = list(
            m(&["ip", "firewall", "connection"]),
            &rows,
            &Style::Detail,
            80,
        );
        assert_eq!(
            text,
            "\
Flags: S - seen-reply, A - assured
0 SA protocol=tcp src-address=10.5.101.147:48984 dst-address=10.5.101.1:8291
     reply-src-address=10.5.101.1:8291 reply-dst-address=10.5.101.147:48984
     tcp-state=established timeout=4m59s orig-packets=5

"
        );
    }

    #[test]
    fn proplist_table_and_interfaces() {
        let rows = vec![(
            Some(0),
            row(&[
                (".id", "*1"),
                ("actual-mtu", "1500"),
                ("mac-address", "02:00:00:00:00:01"),
                ("name", "lan"),
                ("running", "true"),
                ("type", "ether"),
            ]),
        )];
        let iface = m(&["interface"]);
        assert_eq!(
            list(iface, &rows, &Style::Plain, 80),
            "\
Flags: R - running
#   NAME TYPE  ACTUAL-MTU MAC-ADDRESS
0 R lan  ether       1500 02:00:00:00:00:01
"
        );
        assert_eq!(
            list(
                iface,
                &rows,
                &Style::Props(vec!["name".into(), "mtu".into()]),
                80
            ),
            "\
Flags: R - running
#   NAME MTU
0 R lan
"
        );
    }

    #[test]
    fn settings_are_name_colon_value() {
        let tracking = m(&["ip", "firewall", "connection", "tracking"]);
        let r = row(&[
            ("enabled", "auto"),
            ("loose-tcp-tracking", "true"),
            ("max-entries", "262144"),
            ("udp-timeout", "30s"),
        ]);
        assert_eq!(
            settings(tracking, &r),
            "             enabled: auto
  loose-tcp-tracking: yes
         max-entries: 262144
         udp-timeout: 30s
"
        );
        let resource = m(&["system", "resource"]);
        // Sent sorted by name; printed in RouterOS's order.
        let r = row(&[
            ("cpu-frequency", "600"),
            ("cpu-load", "10"),
            ("free-memory", "95078400"),
            ("total-memory", "134217728"),
            ("uptime", "1w2d5h28m35s"),
        ]);
        assert_eq!(
            settings(resource, &r),
            "         uptime: 1w2d5h28m35s
    free-memory: 90.7MiB
   total-memory: 128.0MiB
  cpu-frequency: 600MHz
       cpu-load: 10%
"
        );
        assert_eq!(monitor(&r), "     cpu-used: 10%\n  free-memory: 90.7MiB\n");
    }

    #[test]
    fn pairs_quote_as_exports_do() {
        assert_eq!(pair("comment", "a b"), "comment=\"a b\"");
        assert_eq!(pair("log-prefix", ""), "log-prefix=\"\"");
        assert_eq!(pair("in-interface-list", "!LAN"), "in-interface-list=!LAN");
        assert_eq!(pair("disabled", "true"), "disabled=yes");
        assert_eq!(grouped("50507925242"), "50 507 925 242");
        assert_eq!(bytes(1 << 31), "2.0GiB");
    }
}
