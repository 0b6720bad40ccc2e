//! [`Script`] → text, as RouterOS `/export` writes it.
//!
//! Canonical form: a header line per run of commands in one menu, arguments sorted by name,
//! values quoted only when they must be, non-ASCII as `\XX` bytes. Lines are wrapped the way
//! RouterOS wraps them, which this reproduces byte for byte on the 7.24.4 export in
//! `routeros.md` §1.3:
//!
//! - a line's text stays within 77 columns, so with the ` \` or `\` marker it is under 80;
//! - `name=` and its value are separate pieces: when the value does not fit, the line ends
//!   `name=\` and the value starts the next line (`tcp-last-ack-timeout=\` / `    10s`);
//! - otherwise the break is at a blank, written ` \`;
//! - continuation lines are indented 4 spaces;
//! - a piece too long for any line is split where it stands, between characters, never before a
//!   blank (the reader drops a continuation line's indentation) and never inside an escape.
//!
//! [`print_terse`] is the unwrapped form: one command per line with its full menu path.

use super::ast::{menu_name, Arg, Command, Script, Selector};
use super::escape;

/// Longest line text before the continuation marker.
const LIMIT: usize = 77;
const INDENT: &str = "    ";

/// A piece of a command line that moves to the next line as a whole if it fits there.
struct Chunk {
    /// Characters, or escape sequences, that a line may be split between.
    units: Vec<String>,
    /// Separated from the previous chunk by a blank (else glued to it, like a value to `name=`).
    space_before: bool,
}

impl Chunk {
    fn text(text: &str, space_before: bool) -> Self {
        Chunk {
            units: text.chars().map(String::from).collect(),
            space_before,
        }
    }

    fn width(&self) -> usize {
        self.units.iter().map(|u| width(u)).sum()
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn push_arg(chunks: &mut Vec<Chunk>, arg: &Arg) {
    match &arg.value {
        Some(v) => {
            chunks.push(Chunk::text(&format!("{}=", arg.name), true));
            chunks.push(Chunk {
                units: escape::value_units(&v.text, v.negated),
                space_before: false,
            });
        }
        None => chunks.push(Chunk::text(&format!("!{}", arg.name), true)),
    }
}

/// The command after its menu: verb, selector, arguments in `/export` order.
fn chunks(cmd: &Command) -> Vec<Chunk> {
    let mut out = vec![Chunk::text(cmd.verb.as_str(), false)];
    match &cmd.selector {
        Some(Selector::Find(conditions)) => {
            out.push(Chunk::text("[", true));
            out.push(Chunk::text("find", true));
            for c in conditions {
                push_arg(&mut out, c);
            }
            out.push(Chunk::text("]", true));
        }
        Some(Selector::Ids(ids)) => out.push(Chunk::text(&ids.join(","), true)),
        None => {}
    }
    let mut args: Vec<&Arg> = cmd.args.iter().collect();
    args.sort_by(|a, b| a.name.cmp(&b.name));
    for arg in args {
        push_arg(&mut out, arg);
    }
    out
}

fn unwrapped(chunks: &[Chunk], out: &mut String) {
    for (i, c) in chunks.iter().enumerate() {
        if c.space_before && i > 0 {
            out.push(' ');
        }
        out.extend(c.units.iter().map(String::as_str));
    }
}

/// Lays chunks out on lines as RouterOS does (see the module docs).
struct Wrapper {
    lines: Vec<String>,
    line: String,
    col: usize,
    /// Nothing but indentation on the current line yet.
    fresh: bool,
}

impl Wrapper {
    fn new() -> Self {
        Wrapper {
            lines: Vec::new(),
            line: String::new(),
            col: 0,
            fresh: true,
        }
    }

    fn put(&mut self, s: &str) {
        self.line.push_str(s);
        self.col += width(s);
        self.fresh = false;
    }

    /// Ends the line with ` \` (at a blank) or `\` (inside a token).
    fn break_line(&mut self, at_blank: bool) {
        self.line.push_str(if at_blank { " \\" } else { "\\" });
        self.lines
            .push(std::mem::replace(&mut self.line, INDENT.to_string()));
        self.col = INDENT.len();
        self.fresh = true;
    }

    fn chunk(&mut self, chunk: &Chunk) {
        let sep = usize::from(chunk.space_before && !self.fresh);
        let len = chunk.width();
        if self.col + sep + len <= LIMIT {
            if sep == 1 {
                self.put(" ");
            }
            self.chunk_units(chunk);
            return;
        }
        if !self.fresh && INDENT.len() + len <= LIMIT {
            self.break_line(chunk.space_before);
            self.chunk_units(chunk);
            return;
        }
        // Longer than any line: start it here and split it between characters.
        let first = chunk.units.first().map_or(0, |u| width(u));
        if !self.fresh && self.col + sep + first > LIMIT {
            self.break_line(chunk.space_before);
        } else if sep == 1 {
            self.put(" ");
        }
        for (k, unit) in chunk.units.iter().enumerate() {
            let w = width(unit);
            let placed_any = k > 0 || !self.fresh;
            // A blank may not start a continuation line: its indentation would swallow it.
            let may_break = !unit.starts_with([' ', '\t']);
            if placed_any && may_break && self.col + w > LIMIT {
                self.break_line(false);
            }
            self.put(unit);
        }
    }

    fn chunk_units(&mut self, chunk: &Chunk) {
        for u in &chunk.units {
            self.put(u);
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.lines.push(self.line);
        self.lines
    }
}

/// The script as `/export` writes it: menu headers, sorted arguments, 80-column wrapping.
///
/// Menu segments, argument names and ids are written as they are, so they must be RouterOS
/// names ([`super::ast::is_name`], ids `*HEX`), as everything the parser produces is; values may
/// be any text.
pub fn print(script: &Script) -> String {
    let mut out = String::new();
    let mut menu: Option<&[String]> = None;
    for cmd in &script.commands {
        if menu != Some(cmd.menu.as_slice()) {
            out.push_str(&menu_name(&cmd.menu));
            out.push('\n');
            menu = Some(&cmd.menu);
        }
        let mut w = Wrapper::new();
        for c in chunks(cmd) {
            w.chunk(&c);
        }
        for line in w.finish() {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// One command per line with its full menu path, never wrapped (RouterOS's `export terse`).
pub fn print_terse(script: &Script) -> String {
    let mut out = String::new();
    for cmd in &script.commands {
        out.push_str(&menu_name(&cmd.menu));
        out.push(' ');
        unwrapped(&chunks(cmd), &mut out);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::ast::{Command, Verb};
    use super::*;

    /// routeros.md §1.3: RouterOS 7.24.4 verbose export, byte for byte.
    const EXPORT_7_24_4: &str = "\
/ip firewall connection tracking
set enabled=auto generic-timeout=10m icmp-timeout=10s liberal-tcp-tracking=no \\
    loose-tcp-tracking=yes tcp-close-timeout=10s tcp-close-wait-timeout=10s \\
    tcp-established-timeout=1d tcp-fin-wait-timeout=10s tcp-last-ack-timeout=\\
    10s tcp-max-retrans-timeout=5m tcp-syn-received-timeout=5s \\
    tcp-syn-sent-timeout=5s tcp-time-wait-timeout=10s tcp-unacked-timeout=5m \\
    udp-stream-timeout=3m udp-timeout=30s
";

    fn tracking_7_24_4() -> Script {
        let pairs = [
            ("udp-timeout", "30s"),
            ("enabled", "auto"),
            ("generic-timeout", "10m"),
            ("icmp-timeout", "10s"),
            ("liberal-tcp-tracking", "no"),
            ("loose-tcp-tracking", "yes"),
            ("tcp-close-timeout", "10s"),
            ("tcp-close-wait-timeout", "10s"),
            ("tcp-established-timeout", "1d"),
            ("tcp-fin-wait-timeout", "10s"),
            ("tcp-last-ack-timeout", "10s"),
            ("tcp-max-retrans-timeout", "5m"),
            ("tcp-syn-received-timeout", "5s"),
            ("tcp-syn-sent-timeout", "5s"),
            ("tcp-time-wait-timeout", "10s"),
            ("tcp-unacked-timeout", "5m"),
            ("udp-stream-timeout", "3m"),
        ];
        let mut cmd = Command::new(&["ip", "firewall", "connection", "tracking"], Verb::Set);
        for (k, v) in pairs {
            cmd = cmd.arg(k, v);
        }
        Script {
            commands: vec![cmd],
        }
    }

    #[test]
    fn wraps_exactly_like_routeros() {
        assert_eq!(print(&tracking_7_24_4()), EXPORT_7_24_4);
    }

    #[test]
    fn terse_is_one_line_per_command() {
        let text = print_terse(&tracking_7_24_4());
        assert_eq!(text.lines().count(), 1);
        assert!(text
            .starts_with("/ip firewall connection tracking set enabled=auto generic-timeout=10m"));
        assert!(text.ends_with("udp-stream-timeout=3m udp-timeout=30s\n"));
    }

    #[test]
    fn headers_group_runs_of_one_menu() {
        let s = Script {
            commands: vec![
                Command::new(&["interface", "list"], Verb::Add)
                    .arg("name", "WAN")
                    .arg("comment", "defconf"),
                Command::new(&["interface", "list"], Verb::Add).arg("name", "LAN"),
                Command::new(&["interface", "list", "member"], Verb::Add)
                    .arg("list", "LAN")
                    .arg("interface", "bridge"),
                Command {
                    args: vec![Arg::negated("in-interface-list", "LAN"), Arg::unset("log")],
                    ..Command::new(&["ip", "firewall", "filter"], Verb::Add)
                },
                Command::new(&["interface", "ethernet"], Verb::Set)
                    .select(Selector::Find(vec![Arg::new("default-name", "ether1")]))
                    .arg("comment", "to ISP"),
                Command::new(&["ip", "firewall", "filter"], Verb::Remove)
                    .select(Selector::Ids(vec!["*1".into(), "*A".into()])),
            ],
        };
        assert_eq!(
            print(&s),
            "/interface list\n\
             add comment=defconf name=WAN\n\
             add name=LAN\n\
             /interface list member\n\
             add interface=bridge list=LAN\n\
             /ip firewall filter\n\
             add in-interface-list=!LAN !log\n\
             /interface ethernet\n\
             set [ find default-name=ether1 ] comment=\"to ISP\"\n\
             /ip firewall filter\n\
             remove *1,*A\n"
        );
    }

    #[test]
    fn long_values_split_inside_the_token_and_not_before_a_blank() {
        let comment = format!("{}  x", "a".repeat(100));
        let s = Script {
            commands: vec![Command::new(&["ip", "address"], Verb::Add).arg("comment", &comment)],
        };
        let text = print(&s);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], format!("add comment=\"{}\\", "a".repeat(64)));
        assert!(lines.iter().all(|l| l.len() < 80), "{text}");
        assert!(lines
            .iter()
            .skip(2)
            .all(|l| l.starts_with("    ") && !l.starts_with("     ")));
    }
}
