//! `/system scheduler`: when an entry runs, and the part of RouterOS scripting its `on-event`
//! may use: what the seed's `backup_config_daily` needs, no more.
//!
//! # Layout
//! - [`Civil`], [`parse_date`], [`parse_time_of_day`]: the router's clock. It is UTC (RouterOS
//!   with `time-zone-name=UTC`); dates print as RouterOS v7.10+ prints them (`2025-02-03`).
//! - [`Entry`]: one scheduler entry, from its RouterOS arguments and back, and
//!   [`Entry::due_from`], when it runs.
//! - [`Program`]: an `on-event` script, compiled when the entry is added or set, so a script
//!   outside the subset is refused then, naming the command and its line and column, never
//!   found out at run time. It runs against a [`ScriptHost`] (the clock, the identity, the
//!   export, the log), which the tests replace.
//!
//! # The script subset
//! - `:local name value` and `:set name value`; `$name`, also inside `"…"` strings;
//! - values: `"strings"` (RouterOS escapes), bare words, `(a . b . c)` concatenation,
//!   `[/system clock get date]` (or `time`), `[/system identity get name]`;
//! - `/export file=NAME` (with `compact`, `verbose`, `terse`, `show-sensitive`): writes
//!   `NAME.rsc` into the state directory's `backups/`. statewall has that one directory for
//!   files, so a directory part of NAME (`/disk1/backups/x.rsc`) is not used: the file is
//!   `backups/x.rsc`;
//! - `/file add name=DIR type=directory`: nothing to do (`backups/` always exists);
//! - `:log info|warning|error|debug value`: to the log;
//! - `#` comments at the start of a command, `;` between commands, `\` line continuations.
//!
//! `/system backup save` is refused: binary backups are not supported (export scripts are the
//! backups, and `/backup/restore` takes them back). There is no `/system script`: `on-event`
//! holds the script itself.
//!
//! Time is passed in (`now`, a [`UnixTime`]), never read here, so schedules are tested exactly.

use crate::store::backup_name_ok;
use shared::duration::Duration;
use shared::rsc::{escaped_char, hex_digit, Arg, Pos};
use std::collections::{HashMap, HashSet};

/// Seconds since 1970-01-01 00:00:00 UTC.
pub type UnixTime = u64;

const DAY: u64 = 86_400;

/// A moment as the router's calendar shows it (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Civil {
    pub fn from_unix(t: UnixTime) -> Civil {
        let (year, month, day) = civil_from_days((t / DAY) as i64);
        let s = (t % DAY) as u32;
        Civil {
            year,
            month,
            day,
            hour: s / 3600,
            minute: s / 60 % 60,
            second: s % 60,
        }
    }

    /// `2025-02-03`, as `[/system clock get date]` gives it on RouterOS v7.10+.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `21:27:18`, as `[/system clock get time]` gives it.
    pub fn time(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }

    /// `2025-02-03 21:27:18`: REST timestamps and the export header.
    pub fn timestamp(&self) -> String {
        format!("{} {}", self.date(), self.time())
    }

    /// `20250203-212718`, for file names.
    pub fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// The time now on the host's clock.
pub fn unix_now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The calendar date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a calendar date (the inverse of [`civil_from_days`]).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A date as RouterOS takes one, `2004-03-30` (v7.10+) or `mar/30/2004` (before); days since
/// 1970-01-01.
pub fn parse_date(text: &str) -> Result<i64, String> {
    let bad = || format!("\"{text}\" is not a date: expected YYYY-MM-DD");
    let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let (y, m, d) = if let Some((mon, rest)) = text.split_once('/') {
        let (d, y) = rest.split_once('/').ok_or_else(bad)?;
        let m = MONTHS
            .iter()
            .position(|n| n.eq_ignore_ascii_case(mon))
            .ok_or_else(bad)?;
        (num(y)?, m as u32 + 1, num(d)?)
    } else {
        let mut parts = text.splitn(3, '-');
        let mut next = || parts.next().ok_or_else(bad);
        let (y, m, d) = (next()?, next()?, next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        (num(y)?, num(m)?, num(d)?)
    };
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return Err(bad());
    }
    let days = days_from_civil(i64::from(y), m, d);
    // 31 feb is not a date: it does not come back from the day count.
    if civil_from_days(days) != (i64::from(y), m, d) {
        return Err(bad());
    }
    Ok(days)
}

/// A time of day, `HH:MM:SS` (`9:00:00` too, printed `09:00:00`; `HH:MM` means `HH:MM:00`);
/// seconds since midnight.
pub fn parse_time_of_day(text: &str) -> Result<u32, String> {
    let bad = || format!("\"{text}\" is not a time of day: expected HH:MM:SS or startup");
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let mut secs = 0u32;
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u32 = p.parse().map_err(|_| bad())?;
        if (i == 0 && n > 23) || (i > 0 && n > 59) {
            return Err(bad());
        }
        secs = secs * 60 + n;
    }
    if parts.len() == 2 {
        secs *= 60;
    }
    Ok(secs)
}

/// Where a script or an entry's arguments went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct ScriptError {
    pub pos: Pos,
    pub message: String,
}

impl ScriptError {
    fn new(pos: Pos, message: impl Into<String>) -> Self {
        ScriptError {
            pos,
            message: message.into(),
        }
    }
}

/// When an entry first runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// `start-time=startup`: [`STARTUP_DELAY`] after statewall starts (with an interval: one
    /// interval after it starts, then every interval).
    Startup,
    /// `start-date` and `start-time`: days since 1970-01-01 and seconds since midnight.
    At { day: i64, second: u32 },
}

/// How long after start a `startup` entry runs (RouterOS: 3 s after boot).
pub const STARTUP_DELAY: u64 = 3;

/// RouterOS's default `policy` of a scheduler entry.
pub const DEFAULT_POLICY: &str = "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon";
const POLICIES: &[&str] = &[
    "dude",
    "ftp",
    "password",
    "policy",
    "read",
    "reboot",
    "romon",
    "sensitive",
    "sniff",
    "test",
    "write",
];

/// The menu, as errors name it.
pub const MENU: &str = "/system scheduler";
/// The menu's path, as scripts hold it.
pub const PATH: &[&str] = &["system", "scheduler"];
/// Arguments `add` and `set` take.
pub const ARGS: &[&str] = &[
    "comment",
    "disabled",
    "interval",
    "name",
    "on-event",
    "policy",
    "start-date",
    "start-time",
];
/// Properties `print` shows that cannot be set.
const READ_ONLY: &[&str] = &["next-run", "owner", "run-count"];

/// One `/system scheduler` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: u32,
    pub name: String,
    pub start: Start,
    /// `0s`: runs once.
    pub interval: Duration,
    /// The script, as written.
    pub on_event: String,
    /// The script, compiled.
    pub program: Program,
    pub policy: String,
    pub comment: String,
    pub disabled: bool,
    /// Times run since statewall started (RouterOS resets it at reboot too).
    pub run_count: u64,
    /// When it runs next; `None`: not again (disabled, or a single run that is past).
    pub next_run: Option<UnixTime>,
}

impl Entry {
    /// The entry `args` describe: on top of `base` for `set`, else a new one whose start is
    /// `now` (RouterOS sets start-date and start-time to the current ones on `add`). Every
    /// mistake, each at its argument; `on-event` is compiled here.
    pub fn from_args(
        id: u32,
        args: &[Arg],
        base: Option<&Entry>,
        now: UnixTime,
    ) -> Result<Entry, Vec<ScriptError>> {
        let today = (now / DAY) as i64;
        let mut errors = Vec::new();
        let mut entry = match base {
            Some(b) => b.clone(),
            None => Entry {
                id,
                name: String::new(),
                start: Start::At {
                    day: today,
                    second: (now % DAY) as u32,
                },
                interval: Duration::ZERO,
                on_event: String::new(),
                program: Program::default(),
                policy: DEFAULT_POLICY.to_string(),
                comment: String::new(),
                disabled: false,
                run_count: 0,
                next_run: None,
            },
        };
        let (mut date, mut time) = match entry.start {
            Start::Startup => (today, None),
            Start::At { day, second } => (day, Some(second)),
        };
        let mut seen = HashSet::new();
        for arg in args {
            let name = arg.name.as_str();
            let at = arg.value.as_ref().map_or(arg.pos, |v| v.pos);
            let mut fail = |message: String| errors.push(ScriptError::new(at, message));
            if !seen.insert(name) {
                fail(format!("argument \"{name}\" is given more than once"));
                continue;
            }
            if READ_ONLY.contains(&name) {
                fail(format!("argument \"{name}\" in {MENU} is read-only"));
                continue;
            }
            if !ARGS.contains(&name) {
                let hint = shared::suggest::closest(name, ARGS.iter().copied())
                    .map(|s| format!("; did you mean \"{s}\"?"))
                    .unwrap_or_default();
                fail(format!("unknown argument \"{name}\" in {MENU}{hint}"));
                continue;
            }
            let Some(value) = &arg.value else {
                // A verbose export's `!comment`: not set.
                if name == "comment" {
                    entry.comment.clear();
                } else {
                    fail(format!("argument \"{name}\" cannot be unset"));
                }
                continue;
            };
            if value.negated {
                fail(format!("argument \"{name}\" cannot be negated with \"!\""));
                continue;
            }
            let text = value.text.as_str();
            let bad = |expected: &str| {
                format!("invalid value \"{text}\" for argument \"{name}\": expected {expected}")
            };
            match name {
                "name" => {
                    if text.is_empty() || text.len() > 255 || text.chars().any(char::is_control) {
                        fail(bad("1 to 255 characters"));
                    } else {
                        entry.name = text.to_string();
                    }
                }
                "comment" => entry.comment = text.to_string(),
                "disabled" => match text {
                    "yes" | "true" => entry.disabled = true,
                    "no" | "false" => entry.disabled = false,
                    _ => fail(bad("yes or no")),
                },
                "interval" => match text.parse::<Duration>() {
                    Ok(d) if d == Duration::ZERO || d.as_secs() >= 1 => entry.interval = d,
                    Ok(_) => fail(bad("0s (run once) or at least 1s")),
                    Err(e) => fail(bad(&format!("a time value ({e})"))),
                },
                "start-time" => match text {
                    "startup" => time = None,
                    _ => match parse_time_of_day(text) {
                        Ok(s) => time = Some(s),
                        Err(e) => fail(e),
                    },
                },
                "start-date" => match parse_date(text) {
                    Ok(d) => date = d,
                    Err(e) => fail(e),
                },
                "policy" => {
                    let unknown: Vec<&str> = text
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !POLICIES.contains(p))
                        .collect();
                    if unknown.is_empty() {
                        entry.policy = text.to_string();
                    } else {
                        fail(bad(&format!("policies from {}", POLICIES.join(","))));
                    }
                }
                "on-event" => match Program::compile(text) {
                    Ok(p) => {
                        entry.program = p;
                        entry.on_event = text.to_string();
                    }
                    Err(inner) => {
                        for e in inner {
                            fail(format!("on-event, {e}"));
                        }
                    }
                },
                _ => unreachable!("every name of ARGS is handled"),
            }
        }
        if entry.name.is_empty() && base.is_none() {
            let at = args.first().map_or(Pos::default(), |a| a.pos);
            errors.push(ScriptError::new(
                at,
                format!("missing argument \"name\" for add in {MENU}"),
            ));
        }
        entry.start = match time {
            None => Start::Startup,
            Some(second) => Start::At { day: date, second },
        };
        if errors.is_empty() {
            Ok(entry)
        } else {
            Err(errors)
        }
    }

    /// The settable properties as RouterOS prints them, alphabetical; `rest` writes booleans as
    /// the REST API does (`true`), else as scripts do (`yes`). `start-date` only when the
    /// entry has one.
    pub fn props(&self, rest: bool) -> Vec<(String, String)> {
        let yes_no = |b: bool| match (rest, b) {
            (true, b) => b.to_string(),
            (false, true) => "yes".to_string(),
            (false, false) => "no".to_string(),
        };
        let mut out = vec![
            ("comment".to_string(), self.comment.clone()),
            ("disabled".into(), yes_no(self.disabled)),
            ("interval".into(), self.interval.to_string()),
            ("name".into(), self.name.clone()),
            ("on-event".into(), self.on_event.clone()),
            ("policy".into(), self.policy.clone()),
        ];
        match self.start {
            Start::Startup => out.push(("start-time".into(), "startup".into())),
            Start::At { day, second } => {
                let c = Civil::from_unix(day as u64 * DAY + u64::from(second));
                out.push(("start-date".into(), c.date()));
                out.push(("start-time".into(), c.time()));
            }
        }
        out
    }

    /// The arguments of its `add` line in an export: everything (`verbose`), or what differs
    /// from the defaults (name, on-event and the start always).
    pub fn export_args(&self, verbose: bool) -> Vec<Arg> {
        self.props(false)
            .into_iter()
            .filter(|(k, v)| {
                verbose
                    || match k.as_str() {
                        "comment" => !v.is_empty(),
                        "disabled" => self.disabled,
                        "interval" => self.interval != Duration::ZERO,
                        "policy" => v != DEFAULT_POLICY,
                        _ => true,
                    }
            })
            .map(|(k, v)| Arg::new(k, v))
            .collect()
    }

    /// The first time at or after `from` that the entry is due, for a router that started at
    /// `boot`; `None` if it will not run again. A missed run is not made up for: the next one
    /// is on the entry's grid of start + k × interval.
    pub fn due_from(&self, from: UnixTime, boot: UnixTime) -> Option<UnixTime> {
        if self.disabled {
            return None;
        }
        let every = self.interval.as_secs();
        let first = match self.start {
            Start::Startup if every == 0 => boot + STARTUP_DELAY,
            Start::Startup => boot + every,
            Start::At { day, second } => u64::try_from(day).ok()? * DAY + u64::from(second),
        };
        if first >= from {
            return Some(first);
        }
        if every == 0 {
            return None;
        }
        Some(first + (from - first).div_ceil(every) * every)
    }
}

/// How `/export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportStyle {
    pub verbose: bool,
    pub terse: bool,
    pub show_sensitive: bool,
}

/// `:log` levels (RouterOS topics `script,info` and so on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
}

/// What a running script reaches outside itself.
pub trait ScriptHost {
    fn now(&self) -> UnixTime;
    /// `/system identity`'s name.
    fn identity(&self) -> String;
    /// Writes the configuration's export as `backups/NAME` (`name` is checked:
    /// [`export_file_name`]); why not.
    fn export(&mut self, name: &str, style: ExportStyle) -> Result<(), String>;
    fn log(&mut self, level: Level, text: &str);
}

/// The file `/export file=FILE` writes in `backups/`: FILE's last path component, with `.rsc`
/// added unless it has it (as RouterOS does); why not, when it is no name statewall writes.
pub fn export_file_name(file: &str) -> Result<String, String> {
    let base = file.rsplit('/').next().unwrap_or_default();
    let name = if base.ends_with(".rsc") {
        base.to_string()
    } else {
        format!("{base}.rsc")
    };
    if base.is_empty() || !backup_name_ok(&name) {
        return Err(format!(
            "\"{file}\" is not a file name statewall can write (letters, digits and . _ - : + @, \
             not starting with a dot)"
        ));
    }
    Ok(name)
}

/// An `on-event` script, compiled: statements of the subset, checked whole.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Program {
    stmts: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stmt {
    /// `:local` and `:set`.
    Assign {
        name: String,
        value: Expr,
    },
    Log {
        level: Level,
        value: Expr,
    },
    Export {
        file: Expr,
        style: ExportStyle,
        pos: Pos,
    },
    /// `/file add type=directory`: `backups/` always exists.
    MakeDir,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Text(String),
    Var(String),
    Concat(Vec<Expr>),
    Query(Query),
}

/// `[ … ]` commands that give a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Query {
    Date,
    Time,
    Identity,
}

impl Program {
    /// Compiles a script: the program, or every mistake with its line and column (one per
    /// command: after a mistake the rest of its line is skipped).
    pub fn compile(text: &str) -> Result<Program, Vec<ScriptError>> {
        let mut p = Parser {
            chars: text.chars().collect(),
            i: 0,
            pos: Pos::new(1, 1),
            defined: HashSet::new(),
        };
        let mut stmts = Vec::new();
        let mut errors = Vec::new();
        loop {
            p.skip_blanks(false);
            match p.peek() {
                None => break,
                Some('\n' | ';') => {
                    p.bump();
                    continue;
                }
                Some('#') => {
                    p.skip_line();
                    continue;
                }
                _ => {}
            }
            let start = p.i;
            if let Some(e) = p.unknown_scripting_command() {
                errors.push(e);
                p.skip_line();
                continue;
            }
            match p.items(false).and_then(|items| p.statement(items)) {
                Ok(Some(s)) => stmts.push(s),
                Ok(None) => {}
                Err(e) => {
                    errors.push(e);
                    p.skip_line();
                    p.define_anyway(start);
                }
            }
        }
        if errors.is_empty() {
            Ok(Program { stmts })
        } else {
            Err(errors)
        }
    }

    /// Runs the script; the first failure, where it happened.
    pub fn run(&self, host: &mut dyn ScriptHost) -> Result<(), ScriptError> {
        let mut vars = HashMap::new();
        for stmt in &self.stmts {
            match stmt {
                Stmt::Assign { name, value } => {
                    let v = eval(value, &vars, host);
                    vars.insert(name.clone(), v);
                }
                Stmt::Log { level, value } => {
                    let text = eval(value, &vars, host);
                    host.log(*level, &text);
                }
                Stmt::Export { file, style, pos } => {
                    let file = eval(file, &vars, host);
                    export_file_name(&file)
                        .and_then(|name| host.export(&name, *style))
                        .map_err(|e| ScriptError::new(*pos, format!("/export: {e}")))?;
                }
                Stmt::MakeDir => {}
            }
        }
        Ok(())
    }
}

fn eval(e: &Expr, vars: &HashMap<String, String>, host: &dyn ScriptHost) -> String {
    match e {
        Expr::Text(t) => t.clone(),
        // Compilation made sure every variable is set before it is read.
        Expr::Var(v) => vars.get(v).cloned().unwrap_or_default(),
        Expr::Concat(parts) => parts.iter().map(|p| eval(p, vars, host)).collect(),
        Expr::Query(Query::Date) => Civil::from_unix(host.now()).date(),
        Expr::Query(Query::Time) => Civil::from_unix(host.now()).time(),
        Expr::Query(Query::Identity) => host.identity(),
    }
}

/// What the subset runs, for error messages.
const SUBSET: &str = "statewall scripts run :local, :set, :log, /export file=NAME and \
                      /file add type=directory";

/// One word or value of a command line.
#[derive(Debug)]
enum Item {
    /// A bare word: a command, a path segment, a flag.
    Word(String, Pos),
    /// `name=value`.
    Arg(String, Expr, Pos),
    /// A value standing alone (`"text"`, `$x`, `( … )`, `[ … ]`).
    Value(Expr, Pos),
}

impl Item {
    fn pos(&self) -> Pos {
        match self {
            Item::Word(_, p) | Item::Arg(_, _, p) | Item::Value(_, p) => *p,
        }
    }

    fn describe(&self) -> String {
        match self {
            Item::Word(w, _) => format!("\"{w}\""),
            Item::Arg(n, _, _) => format!("argument {n}="),
            Item::Value(..) => "a value".into(),
        }
    }

    /// The value this item gives (a bare word is its text).
    fn value(self) -> Expr {
        match self {
            Item::Word(w, _) => Expr::Text(w),
            Item::Arg(n, v, _) => Expr::Concat(vec![Expr::Text(format!("{n}=")), v]),
            Item::Value(v, _) => v,
        }
    }
}

struct Parser {
    chars: Vec<char>,
    i: usize,
    pos: Pos,
    /// Variables set by the statements so far.
    defined: HashSet<String>,
}

/// Characters that end a bare word.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, ';' | '"' | '$' | '(' | ')' | '[' | ']' | '{' | '}')
}

fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.i + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.pos = Pos::new(self.pos.line + 1, 1);
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    /// Whether the cursor is on `\` that ends its line (a continuation); how many characters
    /// the continuation has, newline included.
    fn continuation(&self) -> Option<usize> {
        if self.peek() != Some('\\') {
            return None;
        }
        let mut n = 1;
        while matches!(self.peek_at(n), Some(' ' | '\t' | '\r')) {
            n += 1;
        }
        (self.peek_at(n) == Some('\n')).then_some(n + 1)
    }

    /// Skips blanks and line continuations, and newlines too when `newlines`.
    fn skip_blanks(&mut self, newlines: bool) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r') => {}
                Some('\n') if newlines => {}
                Some('\\') => match self.continuation() {
                    Some(n) => {
                        for _ in 0..n {
                            self.bump();
                        }
                        continue;
                    }
                    None => return,
                },
                _ => return,
            }
            self.bump();
        }
    }

    /// A `:command` outside the subset at the cursor (`:if`, `:foreach`, `:global` …), refused
    /// before its arguments (often a `{ … }` block) are read.
    fn unknown_scripting_command(&self) -> Option<ScriptError> {
        let word: String = self.chars[self.i..]
            .iter()
            .take_while(|c| !ends_word(**c))
            .collect();
        let cmd = word.strip_prefix(':')?;
        (!matches!(cmd, "local" | "set" | "log"))
            .then(|| ScriptError::new(self.pos, format!("unknown command :{cmd}: {SUBSET}")))
    }

    /// After a mistake in the command that starts at `start`: if it was `:local NAME …`, NAME
    /// counts as set, so later lines that use it are not reported too.
    fn define_anyway(&mut self, start: usize) {
        let line: String = self.chars[start..self.i].iter().collect();
        let mut words = line.split_whitespace();
        if words.next() == Some(":local") {
            if let Some(name) = words.next().filter(|n| n.chars().all(is_var_char)) {
                self.defined.insert(name.to_string());
            }
        }
    }

    /// Skips to the end of the line (not past its newline).
    fn skip_line(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.bump();
        }
    }

    /// The items of one command: up to the end of its line or `;` (left for the caller), or
    /// up to and past `]` when `bracket`.
    fn items(&mut self, bracket: bool) -> Result<Vec<Item>, ScriptError> {
        let open = self.pos;
        let mut items = Vec::new();
        loop {
            self.skip_blanks(bracket);
            let at = self.pos;
            match self.peek() {
                None if bracket => return Err(ScriptError::new(open, "\"[\" is never closed")),
                None | Some('\n' | ';') => return Ok(items),
                Some(']') if bracket => {
                    self.bump();
                    return Ok(items);
                }
                Some(c @ (']' | ')')) => {
                    return Err(ScriptError::new(at, format!("unexpected \"{c}\"")));
                }
                Some('{' | '}') => {
                    return Err(ScriptError::new(
                        at,
                        format!("blocks {{ … }} are not supported: {SUBSET}"),
                    ));
                }
                Some('\\') => {
                    return Err(ScriptError::new(
                        at,
                        "\"\\\" outside quotes must end the line (a line continuation)",
                    ));
                }
                Some('"' | '$' | '(' | '[') => {
                    let v = self.value()?;
                    items.push(Item::Value(v, at));
                }
                Some(_) => {
                    let mut word = String::new();
                    while let Some(c) = self.peek().filter(|c| !ends_word(*c)) {
                        word.push(c);
                        self.bump();
                    }
                    if word.starts_with('#') {
                        return Err(ScriptError::new(
                            at,
                            "a comment must start its own line or follow \";\"",
                        ));
                    }
                    match word.split_once('=') {
                        Some((name, rest)) if !name.is_empty() => {
                            let value = if rest.is_empty()
                                && matches!(self.peek(), Some('"' | '$' | '(' | '['))
                            {
                                self.value()?
                            } else {
                                Expr::Text(rest.to_string())
                            };
                            items.push(Item::Arg(name.to_string(), value, at));
                        }
                        _ => items.push(Item::Word(word, at)),
                    }
                }
            }
        }
    }

    /// A value starting at `"`, `$`, `(` or `[`.
    fn value(&mut self) -> Result<Expr, ScriptError> {
        let at = self.pos;
        match self.peek() {
            Some('"') => self.string(),
            Some('$') => {
                self.bump();
                self.variable(at)
            }
            Some('(') => {
                self.bump();
                self.concat(at)
            }
            Some('[') => {
                self.bump();
                let items = self.items(true)?;
                query(items, at)
            }
            _ => Err(ScriptError::new(at, "expected a value")),
        }
    }

    /// `$name`, the cursor after the `$`.
    fn variable(&mut self, at: Pos) -> Result<Expr, ScriptError> {
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|c| is_var_char(*c)) {
            name.push(c);
            self.bump();
        }
        if name.is_empty() {
            return Err(ScriptError::new(
                at,
                "expected a variable name after \"$\" ($(…), $[…] and $\"…\" are not supported; \
                 write \\$ for a dollar sign in a string)",
            ));
        }
        if !self.defined.contains(&name) {
            return Err(ScriptError::new(
                at,
                format!("undefined variable ${name}: set it with :local first"),
            ));
        }
        Ok(Expr::Var(name))
    }

    /// `( a . b … )`, the cursor after `(`.
    fn concat(&mut self, open: Pos) -> Result<Expr, ScriptError> {
        let mut parts = Vec::new();
        loop {
            self.skip_blanks(true);
            let at = self.pos;
            match self.peek() {
                None => return Err(ScriptError::new(open, "\"(\" is never closed")),
                Some(')') if parts.is_empty() => {
                    self.bump();
                    return Ok(Expr::Text(String::new()));
                }
                Some('"' | '$' | '(' | '[') => parts.push(self.value()?),
                Some(c) if is_var_char(c) => {
                    let mut word = String::new();
                    while let Some(c) = self.peek().filter(|c| is_var_char(*c)) {
                        word.push(c);
                        self.bump();
                    }
                    parts.push(Expr::Text(word));
                }
                Some(c) => {
                    return Err(ScriptError::new(
                        at,
                        format!("unexpected \"{c}\" in ( … ): expected a value"),
                    ));
                }
            }
            self.skip_blanks(true);
            let at = self.pos;
            match self.peek() {
                Some(')') => {
                    self.bump();
                    break;
                }
                Some('.') => {
                    self.bump();
                }
                None => return Err(ScriptError::new(open, "\"(\" is never closed")),
                Some(c) => {
                    return Err(ScriptError::new(
                        at,
                        format!(
                            "unexpected \"{c}\" in ( … ): only \".\" (concatenation) is supported"
                        ),
                    ));
                }
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Concat(parts)
        })
    }

    /// A quoted string with `$name` substitutions, the cursor on its opening quote.
    fn string(&mut self) -> Result<Expr, ScriptError> {
        let open = self.pos;
        self.bump();
        let mut parts = Vec::new();
        let mut bytes: Vec<u8> = Vec::new();
        let flush = |bytes: &mut Vec<u8>, parts: &mut Vec<Expr>| -> Result<(), ScriptError> {
            if !bytes.is_empty() {
                let text = String::from_utf8(std::mem::take(bytes)).map_err(|_| {
                    ScriptError::new(open, "\\XX escapes in this string do not form UTF-8 text")
                })?;
                parts.push(Expr::Text(text));
            }
            Ok(())
        };
        loop {
            let at = self.pos;
            match self.peek() {
                None | Some('\n') => {
                    return Err(ScriptError::new(open, "unterminated quoted string"));
                }
                Some('"') => {
                    self.bump();
                    break;
                }
                Some('$') => {
                    flush(&mut bytes, &mut parts)?;
                    self.bump();
                    parts.push(self.variable(at)?);
                }
                Some('\\') => {
                    if let Some(n) = self.continuation() {
                        for _ in 0..n {
                            self.bump();
                        }
                        continue;
                    }
                    self.bump();
                    let c = self.peek();
                    match (c.and_then(escaped_char), c.and_then(hex_digit)) {
                        (Some(e), _) => {
                            self.bump();
                            let mut buf = [0u8; 4];
                            bytes.extend_from_slice(e.encode_utf8(&mut buf).as_bytes());
                        }
                        (None, Some(hi)) => {
                            self.bump();
                            let lo = self.peek().and_then(hex_digit).ok_or_else(|| {
                                ScriptError::new(at, "invalid escape: expected two hex digits")
                            })?;
                            self.bump();
                            bytes.push(hi << 4 | lo);
                        }
                        _ => {
                            return Err(ScriptError::new(
                                at,
                                format!("invalid escape \"\\{}\"", c.unwrap_or(' ')),
                            ));
                        }
                    }
                }
                Some(c) => {
                    self.bump();
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        flush(&mut bytes, &mut parts)?;
        Ok(match parts.len() {
            0 => Expr::Text(String::new()),
            1 => parts.remove(0),
            _ => Expr::Concat(parts),
        })
    }

    /// One command line, compiled (`None`: nothing to run).
    fn statement(&mut self, items: Vec<Item>) -> Result<Option<Stmt>, ScriptError> {
        let mut items = items.into_iter();
        let Some(first) = items.next() else {
            return Ok(None);
        };
        let Item::Word(word, at) = first else {
            return Err(ScriptError::new(
                first.pos(),
                format!("expected a command, found {}", first.describe()),
            ));
        };
        if let Some(cmd) = word.strip_prefix(':') {
            return self.scripting(cmd, at, items.collect()).map(Some);
        }
        let (path, rest) = path_words(&word, items.collect());
        match path.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["export", ..] => export(&path[1..], rest, at).map(Some),
            ["system", "backup", "save", ..] => Err(ScriptError::new(
                at,
                "/system backup save: binary backups are not supported by statewall; use \
                 /export file=NAME (a script that /backup/restore takes back)",
            )),
            ["file", "add"] => make_dir(rest, at).map(Some),
            _ => {
                let shown = format!("/{}", path.join(" "));
                let hint = if path.len() == 1 && !word.starts_with('/') {
                    " (there is no /system script: on-event holds the script itself)"
                } else {
                    ""
                };
                Err(ScriptError::new(
                    at,
                    format!("unknown command {shown}{hint}: {SUBSET}"),
                ))
            }
        }
    }

    /// `:local`, `:set`, `:log`.
    fn scripting(&mut self, cmd: &str, at: Pos, items: Vec<Item>) -> Result<Stmt, ScriptError> {
        let mut items = items.into_iter();
        let mut word = |what: &str| match items.next() {
            Some(Item::Word(w, _)) => Ok(w),
            Some(other) => Err(ScriptError::new(
                other.pos(),
                format!("expected {what}, found {}", other.describe()),
            )),
            None => Err(ScriptError::new(at, format!(":{cmd} needs {what}"))),
        };
        let stmt = match cmd {
            "local" | "set" => {
                let name = word("a variable name")?;
                if !name.chars().all(is_var_char) {
                    return Err(ScriptError::new(
                        at,
                        format!("\"{name}\" is not a variable name (letters, digits and _)"),
                    ));
                }
                if cmd == "set" && !self.defined.contains(&name) {
                    return Err(ScriptError::new(
                        at,
                        format!("undefined variable ${name}: set it with :local first"),
                    ));
                }
                let value = items.next().map_or(Expr::Text(String::new()), Item::value);
                self.defined.insert(name.clone());
                Stmt::Assign { name, value }
            }
            "log" => {
                let level = match word("a level (info, warning, error or debug)")?.as_str() {
                    "info" => Level::Info,
                    "warning" => Level::Warning,
                    "error" => Level::Error,
                    "debug" => Level::Debug,
                    other => {
                        return Err(ScriptError::new(
                            at,
                            format!(
                            "unknown :log level {other}: expected info, warning, error or debug"
                        ),
                        ))
                    }
                };
                let value = items
                    .next()
                    .map(Item::value)
                    .ok_or_else(|| ScriptError::new(at, ":log needs a message"))?;
                Stmt::Log { level, value }
            }
            _ => {
                return Err(ScriptError::new(
                    at,
                    format!("unknown command :{cmd}: {SUBSET}"),
                ))
            }
        };
        match items.next() {
            Some(extra) => Err(ScriptError::new(
                extra.pos(),
                format!("unexpected {} after :{cmd}", extra.describe()),
            )),
            None => Ok(stmt),
        }
    }
}

/// A command's menu path (`/system backup save`, `/file/add`, `export`) and the items after it.
fn path_words(first: &str, items: Vec<Item>) -> (Vec<String>, Vec<Item>) {
    let mut path: Vec<String> = first
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut rest = Vec::new();
    let mut in_path = true;
    for item in items {
        match item {
            Item::Word(w, _) if in_path && !KNOWN_END.contains(&path_key(&path).as_str()) => {
                path.extend(w.split('/').filter(|s| !s.is_empty()).map(str::to_string));
            }
            other => {
                in_path = false;
                rest.push(other);
            }
        }
    }
    (path, rest)
}

/// Commands after which bare words are flags, not more of the path.
const KNOWN_END: &[&str] = &["export", "file add", "system backup save"];

fn path_key(path: &[String]) -> String {
    path.join(" ")
}

/// `/export file=… [compact|verbose|terse|show-sensitive|hide-sensitive]`.
fn export(flags: &[String], items: Vec<Item>, at: Pos) -> Result<Stmt, ScriptError> {
    let mut style = ExportStyle::default();
    let mut file = None;
    let mut flag = |w: &str, pos: Pos| -> Result<(), ScriptError> {
        match w {
            "verbose" => style.verbose = true,
            "terse" => style.terse = true,
            "show-sensitive" => style.show_sensitive = true,
            "compact" | "hide-sensitive" => {}
            _ => {
                return Err(ScriptError::new(
                    pos,
                    format!("unknown argument \"{w}\" of /export (expected file=, compact, verbose, terse, show-sensitive)"),
                ))
            }
        }
        Ok(())
    };
    for f in flags {
        flag(f, at)?;
    }
    for item in items {
        match item {
            Item::Arg(n, v, _) if n == "file" => file = Some(v),
            Item::Word(w, pos) => flag(&w, pos)?,
            other => {
                return Err(ScriptError::new(
                    other.pos(),
                    format!(
                        "unexpected {} in /export (expected file=, compact, verbose, terse, show-sensitive)",
                        other.describe()
                    ),
                ))
            }
        }
    }
    let file = file.ok_or_else(|| {
        ScriptError::new(
            at,
            "/export needs file=NAME here: a scheduled script has no console to print to",
        )
    })?;
    Ok(Stmt::Export {
        file,
        style,
        pos: at,
    })
}

/// `/file add name=DIR type=directory`.
fn make_dir(items: Vec<Item>, at: Pos) -> Result<Stmt, ScriptError> {
    let mut directory = false;
    let mut named = false;
    for item in items {
        match item {
            Item::Arg(n, _, _) if n == "name" => named = true,
            Item::Arg(n, Expr::Text(t), _) if n == "type" && t == "directory" => directory = true,
            other => {
                return Err(ScriptError::new(
                    other.pos(),
                    format!(
                        "unexpected {} in /file add (statewall scripts only make directories: \
                         /file add name=DIR type=directory)",
                        other.describe()
                    ),
                ))
            }
        }
    }
    if !directory || !named {
        return Err(ScriptError::new(
            at,
            "statewall scripts only make directories: /file add name=DIR type=directory",
        ));
    }
    Ok(Stmt::MakeDir)
}

/// `[ … ]`: the commands that give a value. `open` is where the `[` is.
fn query(items: Vec<Item>, open: Pos) -> Result<Expr, ScriptError> {
    let at = items.first().map_or(open, Item::pos);
    let mut words = Vec::new();
    let mut rest = Vec::new();
    for item in items {
        match item {
            Item::Word(w, _) if rest.is_empty() => {
                words.extend(w.split('/').filter(|s| !s.is_empty()).map(str::to_string))
            }
            other => rest.push(other),
        }
    }
    let q = match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["system", "clock", "get", "date"] => Query::Date,
        ["system", "clock", "get", "time"] => Query::Time,
        ["system", "identity", "get", "name"] => Query::Identity,
        _ => {
            let leading = words.first().map_or("", String::as_str);
            return Err(ScriptError::new(
                at,
                format!(
                    "unknown command {}{} in [ … ]: statewall's [ … ] take /system clock get \
                     date, /system clock get time and /system identity get name",
                    if leading.starts_with(':') { "" } else { "/" },
                    words.join(" ")
                ),
            ));
        }
    };
    match rest.first() {
        Some(extra) => Err(ScriptError::new(
            extra.pos(),
            format!("unexpected {} in [ … ]", extra.describe()),
        )),
        None => Ok(Expr::Query(q)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's `backup_config_daily` (seed §9.5), adapted only where RouterOS itself would
    /// refuse it: `[:system date format=…]` is no RouterOS command (`[/system clock get date]`
    /// and `time` are); a `#` comment after a command needs a `;` before it; RouterOS v7 makes
    /// directories with `/file add type=directory`, it has no `/file directory create`.
    pub(crate) const BACKUP_CONFIG_DAILY: &str =
        include_str!("../fixtures/backup_config_daily.rsc");
    /// The script exactly as the seed prints it.
    const SEED_AS_WRITTEN: &str = include_str!("../fixtures/backup_config_daily.seed.rsc");

    /// A host that records what the script did, at a fixed time.
    pub(crate) struct Recorder {
        pub now: UnixTime,
        pub exports: Vec<(String, ExportStyle)>,
        pub logs: Vec<(Level, String)>,
    }

    impl Recorder {
        pub(crate) fn at(now: UnixTime) -> Recorder {
            Recorder {
                now,
                exports: Vec::new(),
                logs: Vec::new(),
            }
        }
    }

    impl ScriptHost for Recorder {
        fn now(&self) -> UnixTime {
            self.now
        }
        fn identity(&self) -> String {
            "gw".into()
        }
        fn export(&mut self, name: &str, style: ExportStyle) -> Result<(), String> {
            self.exports.push((name.to_string(), style));
            Ok(())
        }
        fn log(&mut self, level: Level, text: &str) {
            self.logs.push((level, text.to_string()));
        }
    }

    /// 2025-02-03 21:27:18 UTC, the seed's generation time.
    const T: UnixTime = 1_738_618_038;

    #[test]
    fn civil_dates_round_trip() {
        let c = Civil::from_unix(T);
        assert_eq!(c.timestamp(), "2025-02-03 21:27:18");
        assert_eq!(c.compact(), "20250203-212718");
        assert_eq!(Civil::from_unix(0).timestamp(), "1970-01-01 00:00:00");
        assert_eq!(Civil::from_unix(951_782_400).date(), "2000-02-29");
        assert_eq!(parse_date("2025-02-03"), Ok((T / DAY) as i64));
        assert_eq!(parse_date("feb/03/2025"), Ok((T / DAY) as i64));
        assert_eq!(parse_date("Feb/03/2025"), Ok((T / DAY) as i64));
        assert_eq!(parse_date("2000-02-29"), Ok(11_016));
        for bad in [
            "2001-02-29",
            "2025-13-01",
            "2025-2-3",
            "x",
            "1969-12-31",
            "2025-02-00",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_time_of_day("03:00:00"), Ok(3 * 3600));
        assert_eq!(parse_time_of_day("9:00:00"), Ok(9 * 3600));
        assert_eq!(parse_time_of_day("23:59"), Ok(23 * 3600 + 59 * 60));
        for bad in [
            "24:00:00",
            "12:60:00",
            "1",
            "a:b:c",
            "12:00:00:00",
            "-1:00:00",
        ] {
            assert!(parse_time_of_day(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_seeds_backup_script_compiles_and_runs() {
        let p = Program::compile(BACKUP_CONFIG_DAILY).expect("compiles");
        let mut host = Recorder::at(T);
        p.run(&mut host).unwrap();
        assert_eq!(
            host.exports,
            [(
                "backup_2025-02-03_21:27:18.rsc".to_string(),
                ExportStyle::default()
            )]
        );
        assert_eq!(
            host.logs,
            [
                (
                    Level::Info,
                    "Configuration backup created: /disk1/backups/backup_2025-02-03_21:27:18.rsc"
                        .to_string()
                ),
                (Level::Info, "Backup script finished.".to_string()),
            ]
        );
    }

    #[test]
    fn the_seeds_script_as_written_is_refused_line_by_line() {
        let errors = Program::compile(SEED_AS_WRITTEN).unwrap_err();
        let found: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].starts_with("line 3, column 39: unknown command :system date in [ … ]"));
        assert!(found[1].starts_with("line 4, column 40: a comment must start its own line"));
        assert!(found[2].starts_with("line 7, column 1: unknown command /file directory create"));
    }

    fn error(text: &str) -> String {
        let errors = Program::compile(text).expect_err(text);
        errors[0].to_string()
    }

    #[test]
    fn outside_the_subset_is_refused_with_command_and_position() {
        assert_eq!(
            error(":log info \"a\"\n/system backup save name=x"),
            "line 2, column 1: /system backup save: binary backups are not supported by \
             statewall; use /export file=NAME (a script that /backup/restore takes back)"
        );
        assert!(error("/tool fetch url=x")
            .starts_with("line 1, column 1: unknown command /tool fetch:"));
        assert!(error("  :global x 1").starts_with("line 1, column 3: unknown command :global:"));
        assert!(error("backup_config_daily").contains("there is no /system script"));
        assert!(
            error(":if (1) do={ :log info x }").contains("line 1, column 1: unknown command :if")
        );
        assert!(error(":log info $nope").starts_with("line 1, column 11: undefined variable $nope"));
        assert!(error(":local a \"x\"\n:log info (\"a\" + $a)")
            .starts_with("line 2, column 16: unexpected \"+\""));
        assert!(error("/export").contains("needs file=NAME"));
        assert!(error("/export file=x hidden").contains("unknown argument \"hidden\""));
        assert!(error(":local a [/ip address print]")
            .contains("unknown command /ip address print in [ … ]"));
        assert!(error(":local a \"open").contains("unterminated quoted string"));
        assert!(error(":local a (\"x\" . ").contains("\"(\" is never closed"));
        assert!(error(":log loud x").contains("unknown :log level loud"));
        assert!(error("/file add name=x").contains("only make directories"));
        // Every mistake, one per line.
        assert_eq!(
            Program::compile("/a\n/b\n:log info ok\n/c")
                .unwrap_err()
                .len(),
            3
        );
    }

    #[test]
    fn values_strings_and_concatenation() {
        let script = r#"
# comments, continuations, escapes and ;
:local a "x\"y\$z"; :local b ( v . "-" . [/system identity get name] )
:set a ("$a/$b/\C3\A9" . \
    tail)
:log warning $a
/export file=("out/" . $b) verbose show-sensitive
/export file=plain.rsc terse
"#;
        let p = Program::compile(script).unwrap();
        let mut host = Recorder::at(T);
        p.run(&mut host).unwrap();
        assert_eq!(
            host.logs,
            [(Level::Warning, "x\"y$z/v-gw/étail".to_string())]
        );
        let verbose = ExportStyle {
            verbose: true,
            show_sensitive: true,
            ..ExportStyle::default()
        };
        let terse = ExportStyle {
            terse: true,
            ..ExportStyle::default()
        };
        assert_eq!(
            host.exports,
            [
                ("v-gw.rsc".to_string(), verbose),
                ("plain.rsc".to_string(), terse)
            ]
        );
    }

    #[test]
    fn export_file_names_stay_in_backups() {
        assert_eq!(export_file_name("daily"), Ok("daily.rsc".into()));
        assert_eq!(export_file_name("daily.rsc"), Ok("daily.rsc".into()));
        assert_eq!(export_file_name("/disk1/backups/x.rsc"), Ok("x.rsc".into()));
        assert_eq!(
            export_file_name("../../etc/passwd"),
            Ok("passwd.rsc".into())
        );
        for bad in ["", "dir/", "..", ".hidden", "a b", "x\u{0}"] {
            assert!(export_file_name(bad).is_err(), "{bad:?}");
        }
        // A name the script builds at run time is checked then.
        let p = Program::compile(":local n \"a b\"\n/export file=$n").unwrap();
        let e = p.run(&mut Recorder::at(T)).unwrap_err();
        assert_eq!(e.pos, Pos::new(2, 1));
        assert!(e.message.starts_with("/export: \"a b\" is not a file name"));
    }

    fn entry(args: &[(&str, &str)], now: UnixTime) -> Result<Entry, Vec<ScriptError>> {
        let args: Vec<Arg> = args.iter().map(|(k, v)| Arg::new(*k, *v)).collect();
        Entry::from_args(1, &args, None, now)
    }

    #[test]
    fn entries_from_arguments() {
        let e = entry(
            &[
                ("name", "daily_config_backup"),
                ("interval", "24h"),
                ("start-time", "3:00:00"),
                ("on-event", BACKUP_CONFIG_DAILY),
                ("policy", DEFAULT_POLICY),
            ],
            T,
        )
        .unwrap();
        assert_eq!(
            e.start,
            Start::At {
                day: (T / DAY) as i64,
                second: 3 * 3600
            }
        );
        let props = e.props(true);
        let get = |k: &str| props.iter().find(|p| p.0 == k).map(|p| p.1.as_str());
        assert_eq!(get("interval"), Some("1d"));
        assert_eq!(get("start-time"), Some("03:00:00"));
        assert_eq!(get("start-date"), Some("2025-02-03"));
        assert_eq!(get("disabled"), Some("false"));
        let names: Vec<String> = e.export_args(false).into_iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            ["interval", "name", "on-event", "start-date", "start-time"]
        );
        assert_eq!(e.export_args(true).len(), 8);
        // Defaults of add: now, once, enabled.
        let e = entry(&[("name", "x")], T).unwrap();
        assert_eq!(e.due_from(T, 0), Some(T));
        // Set overlays the entry.
        let set = Entry::from_args(1, &[Arg::new("start-time", "startup")], Some(&e), T).unwrap();
        assert_eq!((set.start, set.name.as_str()), (Start::Startup, "x"));

        let errs = |args: &[(&str, &str)]| {
            entry(args, T)
                .unwrap_err()
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            errs(&[("interval", "1d")]),
            ["missing argument \"name\" for add in /system scheduler"]
        );
        assert_eq!(
            errs(&[("name", "x"), ("intervall", "1d")]),
            ["unknown argument \"intervall\" in /system scheduler; did you mean \"interval\"?"]
        );
        assert!(errs(&[("name", "x"), ("run-count", "1")])[0].contains("read-only"));
        assert!(errs(&[("name", "x"), ("interval", "soon")])[0].contains("invalid value \"soon\""));
        assert!(errs(&[("name", "x"), ("interval", "500ms")])[0].contains("at least 1s"));
        assert!(errs(&[("name", "x"), ("start-time", "25:00:00")])[0].contains("not a time of day"));
        assert!(errs(&[("name", "x"), ("start-date", "2025-02-30")])[0].contains("not a date"));
        assert!(errs(&[("name", "x"), ("policy", "read,root")])[0].contains("policies from"));
        assert!(errs(&[("name", "x"), ("disabled", "maybe")])[0].contains("yes or no"));
        let e = errs(&[
            ("name", "x"),
            ("on-event", ":log info ok\n/system backup save"),
        ]);
        assert!(
            e[0].starts_with("on-event, line 2, column 1: /system backup save: binary backups"),
            "{e:?}"
        );
    }

    #[test]
    fn when_entries_run() {
        let boot = T - 100;
        let day = (T / DAY) as i64;
        let at = |second: u32, interval: u64| Entry {
            start: Start::At { day, second },
            interval: Duration::from_secs(interval),
            ..entry(&[("name", "x")], T).unwrap()
        };
        let midnight = (T / DAY) * DAY;
        // Daily at 03:00, added at 21:27: next is tomorrow 03:00, then every day.
        let daily = at(3 * 3600, DAY);
        assert_eq!(daily.due_from(T, boot), Some(midnight + DAY + 3 * 3600));
        assert_eq!(
            daily.due_from(midnight + DAY + 3 * 3600 + 1, boot),
            Some(midnight + 2 * DAY + 3 * 3600)
        );
        // At the start time itself it is due.
        assert_eq!(
            daily.due_from(midnight + 3 * 3600, boot),
            Some(midnight + 3 * 3600)
        );
        // Once (interval 0): at the start if that is still ahead, else never.
        assert_eq!(
            at(22 * 3600, 0).due_from(T, boot),
            Some(midnight + 22 * 3600)
        );
        assert_eq!(at(3 * 3600, 0).due_from(T, boot), None);
        // Every 10 minutes from 03:00: on that grid.
        let t = at(3 * 3600, 600).due_from(T, boot).unwrap();
        assert_eq!((t - midnight - 3 * 3600) % 600, 0);
        assert!((T..T + 600).contains(&t));
        // Startup: 3 s after start, once; with an interval, every interval after start.
        let startup = |interval| Entry {
            start: Start::Startup,
            ..at(0, interval)
        };
        assert_eq!(startup(0).due_from(boot, boot), Some(boot + 3));
        assert_eq!(startup(0).due_from(boot + 4, boot), None);
        assert_eq!(startup(60).due_from(boot, boot), Some(boot + 60));
        assert_eq!(startup(60).due_from(boot + 61, boot), Some(boot + 120));
        // Disabled: never.
        let off = Entry {
            disabled: true,
            ..daily
        };
        assert_eq!(off.due_from(T, boot), None);
    }
}
