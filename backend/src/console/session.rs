//! One console session: the current menu, the item numbers of the last `print` in each menu, and
//! running a line's commands against the API.
//!
//! Item numbers work as RouterOS's do: `print` numbers a menu's items in the router's order
//! (with `where`, the printed ones keep their place in the whole list), and later `set 3` or
//! `remove 0,1` in that menu mean those items until the next `print` there. A number used before
//! any `print` numbers the items as a `print` would have. `[find …]` is a query whose ids the
//! command is then sent with.

use super::client::{Api, Reply};
use super::error::ConsoleError;
use super::layout::{self, Numbered, Row, Style};
use super::menu::{Kind, Menu};
use super::parse::{self, Action, ItemRef, Items, Print, Statement};
use super::translate;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What the terminal does after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Continue,
    Quit,
}

pub struct Session<A: Api> {
    api: A,
    menu: &'static Menu,
    numbers: HashMap<&'static [&'static str], Vec<String>>,
    /// Where output wraps.
    pub width: usize,
    /// Whether output goes to a terminal: `interval=` then redraws in place.
    pub tty: bool,
    /// Set by Ctrl-C: stops an `interval=` print or `monitor`.
    stop: &'static AtomicBool,
    /// `/system identity set` ran: the prompt shows the old name.
    identity_changed: bool,
}

fn io(e: std::io::Error) -> ConsoleError {
    ConsoleError::Connection(format!("writing output: {e}"))
}

fn get<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    row.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

impl<A: Api> Session<A> {
    pub fn new(api: A, stop: &'static AtomicBool) -> Self {
        Session {
            api,
            menu: super::menu::find::<&str>(&[]).unwrap_or(&super::menu::MENUS[0]),
            numbers: HashMap::new(),
            width: 80,
            tty: false,
            stop,
            identity_changed: false,
        }
    }

    /// The current menu.
    pub fn menu(&self) -> &'static Menu {
        self.menu
    }

    /// The router's name (`/system identity`), for the prompt.
    pub fn identity(&mut self) -> Result<String, ConsoleError> {
        let reply = self.api.call(&translate::identity())?;
        Ok(reply
            .rows
            .first()
            .and_then(|r| get(r, "name"))
            .unwrap_or("statewall")
            .to_string())
    }

    /// Whether the router's name may have changed since the last call.
    pub fn take_identity_changed(&mut self) -> bool {
        std::mem::take(&mut self.identity_changed)
    }

    /// Runs every command of `line`. The whole line is read first, so a mistake anywhere in it
    /// runs nothing; then its commands run in order until one fails.
    pub fn run_line(&mut self, line: &str, out: &mut dyn Write) -> Result<Outcome, ConsoleError> {
        let statements = parse::parse_line(line, self.menu)?;
        for s in statements {
            match s {
                Statement::Go(menu) => self.menu = menu,
                Statement::Run(_, Action::Quit) => return Ok(Outcome::Quit),
                Statement::Run(menu, action) => self.run(menu, action, out)?,
            }
        }
        Ok(Outcome::Continue)
    }

    fn run(
        &mut self,
        menu: &'static Menu,
        action: Action,
        out: &mut dyn Write,
    ) -> Result<(), ConsoleError> {
        match action {
            Action::Print(p) => self.print(menu, &p, out),
            Action::Get { items, name } => self.get(menu, items, name.as_deref(), out),
            Action::Add { mut args } => {
                self.place_before(menu, &mut args)?;
                self.api
                    .call(&translate::change(menu, "add", None, &args))?;
                Ok(())
            }
            Action::Set { items, args } => {
                let ids = match items {
                    Some(items) => Some(self.resolve(menu, &items)?),
                    None => None,
                };
                if ids.as_ref().is_some_and(Vec::is_empty) {
                    return Ok(());
                }
                self.api
                    .call(&translate::change(menu, "set", ids.as_deref(), &args))?;
                self.identity_changed |= menu.path == ["system", "identity"];
                Ok(())
            }
            Action::Unset { items, names } => {
                let ids = self.resolve(menu, &items)?;
                if !ids.is_empty() {
                    self.api.call(&translate::unset(menu, &ids, &names))?;
                }
                Ok(())
            }
            Action::OnItems { verb, items } => {
                let ids = self.resolve(menu, &items)?;
                if !ids.is_empty() {
                    self.api
                        .call(&translate::change(menu, verb, Some(&ids), &[]))?;
                }
                Ok(())
            }
            Action::ResetCountersAll => {
                self.api
                    .call(&[translate::command(menu, "reset-counters-all")])?;
                Ok(())
            }
            Action::Move { items, destination } => {
                let ids = self.resolve(menu, &items)?;
                let dest = match destination {
                    Some(r) => self.resolve(menu, &Items::Refs(vec![r]))?.pop(),
                    None => None,
                };
                self.api
                    .call(&translate::move_items(menu, &ids, dest.as_deref()))?;
                Ok(())
            }
            Action::Export { switches, file } => {
                let reply = self
                    .api
                    .call(&translate::export(menu, &switches, file.as_deref()))?;
                write_text(out, &texts(&reply))
            }
            Action::Import { file, args } => {
                let reply = self.api.call(&translate::import(&file, &args))?;
                let text = texts(&reply);
                if text.is_empty() {
                    writeln!(out, "Script file loaded and executed successfully").map_err(io)
                } else {
                    write_text(out, &text)
                }
            }
            Action::Monitor { once } => {
                self.repeat(out, (!once).then_some(Duration::from_secs(1)), |s| {
                    let reply = s.api.call(&translate::monitor())?;
                    Ok(reply.rows.first().map(layout::monitor).unwrap_or_default())
                })
            }
            Action::Quit => Ok(()),
        }
    }

    /// `print`, once or every `interval` until Ctrl-C.
    fn print(
        &mut self,
        menu: &'static Menu,
        p: &Print,
        out: &mut dyn Write,
    ) -> Result<(), ConsoleError> {
        self.repeat(out, p.interval.map(|d| d.to_std()), |s| {
            s.print_once(menu, p)
        })
    }

    fn print_once(&mut self, menu: &'static Menu, p: &Print) -> Result<String, ConsoleError> {
        let reply = self.api.call(&translate::print(menu, p))?;
        if menu.kind != Kind::List {
            return Ok(reply
                .rows
                .first()
                .map(|r| layout::settings(menu, r))
                .unwrap_or_default());
        }
        if p.count_only {
            return Ok(format!("{}\n", reply.ret().unwrap_or("0")));
        }
        let ids: Vec<String> = if p.filter.is_some() {
            // Printed items keep their number in the whole list.
            self.ids(menu, None)?
        } else {
            reply
                .rows
                .iter()
                .map(|r| get(r, ".id").unwrap_or_default().to_string())
                .collect()
        };
        let numbered: Vec<Numbered> = reply
            .rows
            .into_iter()
            .map(|r| {
                let n = get(&r, ".id").and_then(|id| ids.iter().position(|i| i == id));
                (n, r)
            })
            .collect();
        self.numbers.insert(menu.path, ids);
        // With `proplist=`, the rows hold only those properties (and the flags), so `detail`
        // and `terse` show just them; alone, it makes a table of them.
        let style = if p.stats {
            Style::Stats
        } else if p.detail {
            Style::Detail
        } else if p.terse {
            Style::Terse
        } else if let Some(props) = &p.proplist {
            Style::Props(props.clone())
        } else {
            Style::Plain
        };
        Ok(layout::list(menu, &numbered, &style, self.width))
    }

    /// Writes what `once` makes; with an interval, again and again (in place on a terminal)
    /// until Ctrl-C.
    fn repeat(
        &mut self,
        out: &mut dyn Write,
        interval: Option<Duration>,
        mut once: impl FnMut(&mut Self) -> Result<String, ConsoleError>,
    ) -> Result<(), ConsoleError> {
        let Some(interval) = interval else {
            let text = once(self)?;
            return write_text(out, &text);
        };
        self.stop.store(false, Ordering::SeqCst);
        let mut shown = 0;
        loop {
            let text = once(self)?;
            if self.tty && shown > 0 {
                // Back to where the last print started, and clear it.
                write!(out, "\x1b[{shown}F\x1b[J").map_err(io)?;
            }
            write_text(out, &text)?;
            out.flush().map_err(io)?;
            shown = text.lines().count();
            if pause(interval, self.stop) {
                self.stop.store(false, Ordering::SeqCst);
                return Ok(());
            }
        }
    }

    fn get(
        &mut self,
        menu: &'static Menu,
        items: Option<Items>,
        name: Option<&str>,
        out: &mut dyn Write,
    ) -> Result<(), ConsoleError> {
        let ids = match &items {
            Some(items) => self.resolve(menu, items)?.into_iter().map(Some).collect(),
            None => vec![None],
        };
        for id in ids {
            let text = match name {
                Some(name) => {
                    let reply = self.api.call(&translate::get(menu, id.as_deref(), name))?;
                    layout::value_in(menu, name, reply.ret().unwrap_or_default())
                }
                None => {
                    let reply = self.api.call(&translate::get_all(menu, id.as_deref()))?;
                    let row = reply
                        .rows
                        .into_iter()
                        .next()
                        .ok_or(ConsoleError::NoSuchItem)?;
                    row.iter()
                        .map(|(k, v)| format!("{k}={}", layout::display(v)))
                        .collect::<Vec<_>>()
                        .join(";")
                }
            };
            writeln!(out, "{text}").map_err(io)?;
        }
        Ok(())
    }

    /// The ids of all items (or those `filter` chooses), in print order.
    fn ids(
        &mut self,
        menu: &Menu,
        filter: Option<&super::query::Expr>,
    ) -> Result<Vec<String>, ConsoleError> {
        let reply = self.api.call(&translate::ids(menu, filter))?;
        Ok(reply
            .rows
            .iter()
            .filter_map(|r| get(r, ".id").map(str::to_string))
            .collect())
    }

    /// The ids `items` names.
    fn resolve(&mut self, menu: &'static Menu, items: &Items) -> Result<Vec<String>, ConsoleError> {
        let refs = match items {
            Items::Find(filter) => return self.ids(menu, filter.as_ref()),
            Items::Refs(refs) => refs,
        };
        let mut out = Vec::new();
        for r in refs {
            let id = match r {
                ItemRef::Id(id) => id.clone(),
                ItemRef::Number(n) => {
                    if !self.numbers.contains_key(menu.path) {
                        let ids = self.ids(menu, None)?;
                        self.numbers.insert(menu.path, ids);
                    }
                    self.numbers
                        .get(menu.path)
                        .and_then(|ids| ids.get(*n))
                        .cloned()
                        .ok_or(ConsoleError::NoSuchItem)?
                }
                ItemRef::Name(name) => {
                    let reply = self.api.call(&translate::named(menu, name))?;
                    reply
                        .rows
                        .first()
                        .and_then(|r| get(r, ".id"))
                        .map(str::to_string)
                        .ok_or(ConsoleError::NoSuchItem)?
                }
            };
            out.push(id);
        }
        Ok(out)
    }

    /// `add place-before=3`: the item number as the id it stands for.
    fn place_before(
        &mut self,
        menu: &'static Menu,
        args: &mut [(String, String)],
    ) -> Result<(), ConsoleError> {
        for (name, value) in args.iter_mut() {
            if name == "place-before"
                && !value.is_empty()
                && value.bytes().all(|b| b.is_ascii_digit())
            {
                let n = value.parse().map_err(|_| ConsoleError::NoSuchItem)?;
                if let Some(id) = self
                    .resolve(menu, &Items::Refs(vec![ItemRef::Number(n)]))?
                    .pop()
                {
                    *value = id;
                }
            }
        }
        Ok(())
    }
}

/// Every `ret` of a reply (export and import answer with text), one after another.
fn texts(reply: &Reply) -> String {
    reply
        .rows
        .iter()
        .chain(std::iter::once(&reply.done))
        .filter_map(|r| get(r, "ret"))
        .collect::<Vec<_>>()
        .concat()
}

fn write_text(out: &mut dyn Write, text: &str) -> Result<(), ConsoleError> {
    out.write_all(text.as_bytes()).map_err(io)?;
    if !text.is_empty() && !text.ends_with('\n') {
        out.write_all(b"\n").map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Waits `d`; whether Ctrl-C ended the wait.
fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    loop {
        if stop.load(Ordering::SeqCst) {
            return true;
        }
        let now = Instant::now();
        if now >= until {
            return false;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Answers with canned replies and records what was sent.
    #[derive(Default)]
    struct Fake {
        sent: Vec<Vec<String>>,
        replies: VecDeque<Result<Reply, ConsoleError>>,
    }

    impl Api for &mut Fake {
        fn call(&mut self, words: &[String]) -> Result<Reply, ConsoleError> {
            self.sent.push(words.to_vec());
            self.replies
                .pop_front()
                .unwrap_or_else(|| Ok(Reply::default()))
        }
    }

    fn row(pairs: &[(&str, &str)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn rows(ids: &[&str]) -> Reply {
        Reply {
            rows: ids.iter().map(|id| row(&[(".id", id)])).collect(),
            done: vec![],
        }
    }

    static STOP: AtomicBool = AtomicBool::new(false);

    fn run(fake: &mut Fake, lines: &[&str]) -> (String, Result<Outcome, ConsoleError>) {
        let mut s = Session::new(fake, &STOP);
        let mut out = Vec::new();
        let mut last = Ok(Outcome::Continue);
        for l in lines {
            last = s.run_line(l, &mut out);
            if last.is_err() {
                break;
            }
        }
        (String::from_utf8(out).expect("utf-8"), last)
    }

    #[test]
    fn settings_print_and_set() {
        let mut fake = Fake::default();
        fake.replies.push_back(Ok(Reply {
            rows: vec![row(&[("enabled", "auto"), ("udp-timeout", "30s")])],
            done: vec![],
        }));
        let (out, r) = run(
            &mut fake,
            &[
                "/ip firewall connection tracking print",
                "/ip firewall connection tracking",
                "set udp-timeout=10s",
            ],
        );
        assert_eq!(r, Ok(Outcome::Continue));
        assert_eq!(out, "      enabled: auto\n  udp-timeout: 30s\n");
        assert_eq!(
            fake.sent,
            [
                vec!["/ip/firewall/connection/tracking/print".to_string()],
                vec![
                    "/ip/firewall/connection/tracking/set".to_string(),
                    "=udp-timeout=10s".to_string()
                ]
            ]
        );
    }

    #[test]
    fn numbers_come_from_the_last_print() {
        let mut fake = Fake::default();
        fake.replies.push_back(Ok(Reply {
            rows: vec![
                row(&[(".id", "*A"), ("protocol", "tcp"), ("timeout", "1d")]),
                row(&[(".id", "*B"), ("protocol", "udp"), ("timeout", "10s")]),
            ],
            done: vec![],
        }));
        let (out, r) = run(
            &mut fake,
            &["/ip firewall connection", "print", "remove 1,0", "remove 2"],
        );
        assert!(out.contains("0 tcp"), "{out}");
        assert_eq!(r, Err(ConsoleError::NoSuchItem));
        assert_eq!(
            fake.sent[1],
            ["/ip/firewall/connection/remove", "=.id=*B,*A"]
        );
        assert_eq!(
            fake.sent.len(),
            2,
            "nothing sent for a number that names nothing"
        );
    }

    #[test]
    fn where_keeps_numbers_of_the_whole_list() {
        let mut fake = Fake::default();
        fake.replies.push_back(Ok(Reply {
            rows: vec![row(&[(".id", "*C"), ("protocol", "tcp")])],
            done: vec![],
        }));
        fake.replies.push_back(Ok(rows(&["*A", "*B", "*C"])));
        let (out, _) = run(
            &mut fake,
            &["/ip firewall connection print where protocol=tcp"],
        );
        assert!(out.lines().any(|l| l.starts_with("2 tcp")), "{out}");
        assert_eq!(
            fake.sent,
            [
                vec!["/ip/firewall/connection/print", "?protocol=tcp"],
                vec!["/ip/firewall/connection/print", "=.proplist=.id"]
            ]
        );
    }

    #[test]
    fn numbers_without_a_print_and_find() {
        let mut fake = Fake::default();
        fake.replies.push_back(Ok(rows(&["*1", "*2"])));
        fake.replies.push_back(Ok(Reply::default()));
        fake.replies.push_back(Ok(rows(&["*2"])));
        let (_, r) = run(
            &mut fake,
            &[
                "/ip firewall filter disable 1",
                "/ip firewall filter set [find chain=input] comment=x",
            ],
        );
        assert_eq!(r, Ok(Outcome::Continue));
        assert_eq!(
            fake.sent,
            [
                vec!["/ip/firewall/filter/print", "=.proplist=.id"],
                vec!["/ip/firewall/filter/disable", "=.id=*2"],
                vec![
                    "/ip/firewall/filter/print",
                    "=.proplist=.id",
                    "?chain=input"
                ],
                vec!["/ip/firewall/filter/set", "=.id=*2", "=comment=x"],
            ]
        );
    }

    #[test]
    fn find_choosing_nothing_sends_nothing() {
        let mut fake = Fake::default();
        fake.replies.push_back(Ok(rows(&[])));
        let (_, r) = run(
            &mut fake,
            &["/ip firewall connection remove [find where protocol=udp]"],
        );
        assert_eq!(r, Ok(Outcome::Continue));
        assert_eq!(fake.sent.len(), 1);
    }

    #[test]
    fn count_only_export_import_get_and_traps() {
        let mut fake = Fake::default();
        fake.replies.push_back(Ok(Reply {
            rows: vec![],
            done: row(&[("ret", "42")]),
        }));
        fake.replies.push_back(Ok(Reply {
            rows: vec![],
            done: row(&[(
                "ret",
                "# header\n/ip firewall connection tracking\nset udp-timeout=30s\n",
            )]),
        }));
        fake.replies.push_back(Ok(Reply::default()));
        fake.replies.push_back(Ok(Reply {
            rows: vec![],
            done: row(&[("ret", "30s")]),
        }));
        fake.replies.push_back(Err(ConsoleError::Trap {
            category: Some(1),
            message: "invalid value for argument udp-timeout".into(),
        }));
        let (out, r) = run(
            &mut fake,
            &[
                "/ip firewall connection print count-only",
                "/export",
                "/import file-name=x.rsc",
                "/ip firewall connection tracking get udp-timeout",
                "/ip firewall connection tracking set udp-timeout=soon",
            ],
        );
        assert_eq!(
            out,
            "42\n# header\n/ip firewall connection tracking\nset udp-timeout=30s\n\
             Script file loaded and executed successfully\n30s\n"
        );
        assert_eq!(
            r.unwrap_err().to_string(),
            "invalid value for argument udp-timeout"
        );
    }

    #[test]
    fn interval_stops_on_ctrl_c() {
        static STOP_IT: AtomicBool = AtomicBool::new(false);
        let mut fake = Fake::default();
        for n in ["3", "4"] {
            fake.replies.push_back(Ok(Reply {
                rows: vec![],
                done: row(&[("ret", n)]),
            }));
        }
        let stopper = std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(150));
            STOP_IT.store(true, Ordering::SeqCst);
        });
        let mut s = Session::new(&mut fake, &STOP_IT);
        let mut out = Vec::new();
        let r = s.run_line(
            "/ip firewall connection print count-only interval=100ms",
            &mut out,
        );
        stopper.join().expect("stopper");
        assert_eq!(r, Ok(Outcome::Continue));
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.starts_with("3\n4\n"), "{text:?}");
        assert!(
            !STOP_IT.load(Ordering::SeqCst),
            "cleared for the next command"
        );
    }

    #[test]
    fn quit_and_menu_changes() {
        let mut fake = Fake::default();
        let mut s = Session::new(&mut fake, &STOP);
        let mut out = Vec::new();
        assert_eq!(
            s.run_line("/ip firewall connection", &mut out),
            Ok(Outcome::Continue)
        );
        assert_eq!(s.menu().name(), "/ip firewall connection");
        assert_eq!(s.run_line(".. ; /quit", &mut out), Ok(Outcome::Quit));
        assert_eq!(s.menu().name(), "/ip firewall");
    }
}
