//! The parsed script: a flat list of commands, each carrying the menu it runs in.
//!
//! RouterOS has several spellings for "this command runs in that menu" (a header line, a path on
//! the command's own line, `{ … }` blocks, the `/a/b/c` slash form). They all mean the same, so the
//! tree keeps only the meaning: the absolute menu path on every command. Printing regroups
//! commands under header lines, as `/export` does.
//!
//! Values are kept as the raw text RouterOS would see after unquoting; what they mean is the
//! schema's business ([`super::schema`]), so the parser and printer stay exact for menus statewall
//! does not know.

use super::error::Pos;

/// A whole script, in source order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub commands: Vec<Command>,
}

/// One `add`, `set` or `remove`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Absolute menu path, e.g. `["ip", "firewall", "filter"]`.
    pub menu: Vec<String>,
    pub verb: Verb,
    /// Which existing items `set`/`remove` change; `None` for `add` and for settings menus.
    pub selector: Option<Selector>,
    /// In source order; the printer sorts them as `/export` does.
    pub args: Vec<Arg>,
    /// Where the verb is.
    pub pos: Pos,
    /// Where the menu path that applies to this command was written (its header line, or the path
    /// before the verb), so an unknown menu is reported once, where it was mistyped.
    pub menu_pos: Pos,
}

/// The commands a saved configuration is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Add,
    Set,
    Remove,
}

impl Verb {
    pub const ALL: [Verb; 3] = [Verb::Add, Verb::Set, Verb::Remove];

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Add => "add",
            Verb::Set => "set",
            Verb::Remove => "remove",
        }
    }

    pub fn from_word(word: &str) -> Option<Verb> {
        Verb::ALL.into_iter().find(|v| v.as_str() == word)
    }
}

/// The items a `set` or `remove` applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `[ find default-name=ether1 ]`: items whose properties equal all of these.
    Find(Vec<Arg>),
    /// `*0`, `*1,*A`: internal ids, kept as written (with the `*`).
    Ids(Vec<String>),
}

/// `name=value`, `name=!value`, or the verbose export's `!name` ("not set").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: String,
    /// `None` for a `!name` marker.
    pub value: Option<Value>,
    pub pos: Pos,
}

/// An argument's value after unquoting and unescaping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub text: String,
    /// Written `!value`: the rule matches what is *not* this (`in-interface-list=!LAN`).
    pub negated: bool,
    pub pos: Pos,
}

impl Arg {
    /// `name=text`, as built in code (no source position).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Arg {
            name: name.into(),
            value: Some(Value {
                text: text.into(),
                negated: false,
                pos: Pos::default(),
            }),
            pos: Pos::default(),
        }
    }

    /// `name=!text`.
    pub fn negated(name: impl Into<String>, text: impl Into<String>) -> Self {
        let mut arg = Arg::new(name, text);
        if let Some(v) = &mut arg.value {
            v.negated = true;
        }
        arg
    }

    /// `!name`.
    pub fn unset(name: impl Into<String>) -> Self {
        Arg {
            name: name.into(),
            value: None,
            pos: Pos::default(),
        }
    }

    /// The value's text, if the argument has one (negated or not).
    pub fn text(&self) -> Option<&str> {
        self.value.as_ref().map(|v| v.text.as_str())
    }
}

impl Command {
    /// A command built in code, in menu `path` (e.g. `&["ip", "address"]`).
    pub fn new(path: &[&str], verb: Verb) -> Self {
        Command {
            menu: path.iter().map(|s| s.to_string()).collect(),
            verb,
            selector: None,
            args: Vec::new(),
            pos: Pos::default(),
            menu_pos: Pos::default(),
        }
    }

    /// Builder: adds `name=text`.
    pub fn arg(mut self, name: &str, text: &str) -> Self {
        self.args.push(Arg::new(name, text));
        self
    }

    /// Builder: sets the selector.
    pub fn select(mut self, selector: Selector) -> Self {
        self.selector = Some(selector);
        self
    }

    /// The first argument called `name`.
    pub fn get(&self, name: &str) -> Option<&Arg> {
        self.args.iter().find(|a| a.name == name)
    }

    /// `/ip firewall filter`, as headers and error messages write it.
    pub fn menu_name(&self) -> String {
        menu_name(&self.menu)
    }
}

/// `/ip firewall filter` for `["ip", "firewall", "filter"]`; `/` for the root.
pub fn menu_name<S: AsRef<str>>(path: &[S]) -> String {
    let mut out = String::from("/");
    for (i, seg) in path.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(seg.as_ref());
    }
    out
}

impl Script {
    /// The form the printer writes and the parser gives back: arguments sorted by name (stably, as
    /// `/export` orders them) and every source position cleared. `parse(print(s))` equals
    /// `s.canonical()` for every well-formed script `s`.
    pub fn canonical(&self) -> Script {
        let mut out = self.clone();
        for cmd in &mut out.commands {
            cmd.pos = Pos::default();
            cmd.menu_pos = Pos::default();
            cmd.args.sort_by(|a, b| a.name.cmp(&b.name));
            for arg in &mut cmd.args {
                clear_arg(arg);
            }
            if let Some(Selector::Find(args)) = &mut cmd.selector {
                args.iter_mut().for_each(clear_arg);
            }
        }
        out
    }

    /// Commands that run in `path`, in order.
    pub fn in_menu<'a>(&'a self, path: &'a [&'a str]) -> impl Iterator<Item = &'a Command> + 'a {
        self.commands.iter().filter(move |c| c.menu == path)
    }
}

fn clear_arg(arg: &mut Arg) {
    arg.pos = Pos::default();
    if let Some(v) = &mut arg.value {
        v.pos = Pos::default();
    }
}

/// Whether `s` can be a menu segment, verb or argument name: what RouterOS names are made of.
/// Everything the printer writes bare relies on this, so it is the one definition.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_arguments_stably_and_forgets_positions() {
        let mut cmd = Command::new(&["ip", "firewall", "filter"], Verb::Add)
            .arg("chain", "input")
            .arg("action", "drop")
            .arg("action", "accept");
        cmd.pos = Pos::new(3, 1);
        cmd.args[0].pos = Pos::new(3, 5);
        let s = Script {
            commands: vec![cmd],
        }
        .canonical();
        let names: Vec<_> = s.commands[0]
            .args
            .iter()
            .map(|a| (a.name.as_str(), a.text().unwrap_or("")))
            .collect();
        assert_eq!(
            names,
            [("action", "drop"), ("action", "accept"), ("chain", "input")]
        );
        assert_eq!(s.commands[0].pos, Pos::default());
        assert_eq!(s.commands[0].args[2].pos, Pos::default());
    }

    #[test]
    fn menu_names_and_name_chars() {
        assert_eq!(menu_name(&["ip", "firewall", "nat"]), "/ip firewall nat");
        assert_eq!(menu_name::<&str>(&[]), "/");
        assert!(is_name("tcp-syn-sent-timeout"));
        assert!(is_name(".id"));
        assert!(!is_name(""));
        assert!(!is_name("a b"));
        assert!(!is_name("!x"));
    }
}
