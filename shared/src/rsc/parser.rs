//! Tokens → [`Script`]: menu paths, blocks, commands, selectors and arguments.
//!
//! A line is `[/][path words] [verb [selector] [args]]`, RouterOS's own command-line shape. Path
//! words run until a verb; a path with no verb changes the current menu (a header line), a path
//! before a verb applies to that one command only (`/ip firewall nat add …`), and a path before
//! `{` applies inside the block. Which words are menus is not decided here: the schema knows the
//! menus, the parser only knows the three verbs, so it stays exact for menus it never heard of.
//!
//! A broken command is reported and skipped whole (to its newline, `;` or the `}` closing its
//! block); the rest of the script is still parsed, so one pass reports every mistake.

use super::ast::{is_name, menu_name, Arg, Command, Script, Selector, Value, Verb};
use super::error::{ErrorKind, Pos, RscError};
use super::lexer::{Piece, Tok, Token};
use crate::suggest;

/// Deepest `{ … }` nesting accepted. Blocks recurse, so unbounded nesting in hostile input would
/// overflow the stack; real scripts use one or two levels.
const MAX_DEPTH: usize = 32;

/// RouterOS commands statewall does not run from a script. Named so that `print` reads as an
/// unsupported command, not as a menu called "print".
pub(crate) const OTHER_COMMANDS: &[&str] = &[
    "comment",
    "disable",
    "edit",
    "enable",
    "export",
    "find",
    "get",
    "import",
    "monitor",
    "move",
    "print",
    "reset",
    "reset-counters",
    "reset-counters-all",
    "unset",
];

pub(crate) fn parse_tokens(tokens: &[Token]) -> (Script, Vec<RscError>) {
    let mut p = Parser {
        tokens,
        i: 0,
        errors: Vec::new(),
        commands: Vec::new(),
    };
    p.block(&[], Pos::default(), 0, None);
    (
        Script {
            commands: p.commands,
        },
        p.errors,
    )
}

struct Parser<'t> {
    tokens: &'t [Token],
    i: usize,
    errors: Vec<RscError>,
    commands: Vec<Command>,
}

/// The text of a word made only of bare pieces (no quotes).
fn plain(tok: &Tok) -> Option<String> {
    match tok {
        Tok::Word(pieces) if pieces.iter().all(|p| !p.quoted) => {
            Some(pieces.iter().map(|p| p.text.as_str()).collect())
        }
        _ => None,
    }
}

/// A token as an error message shows it.
fn describe(tok: Option<&Tok>) -> String {
    match tok {
        None => "end of file".into(),
        Some(Tok::End) => "end of line".into(),
        Some(Tok::Open(c) | Tok::Close(c)) => format!("\"{c}\""),
        Some(Tok::Invalid) => "invalid text".into(),
        Some(Tok::Word(pieces)) => {
            let text: String = pieces
                .iter()
                .map(|p| {
                    if p.quoted {
                        format!("\\\"{}\\\"", p.text)
                    } else {
                        p.text.clone()
                    }
                })
                .collect();
            format!("\"{text}\"")
        }
    }
}

/// Whether a word can only be an argument, never a path word.
fn looks_like_arg(text: &str) -> bool {
    text.contains('=') || text.starts_with('!') || text.starts_with('*')
}

/// `*1`, `*FFFFFFFE`, `*1,*2`: kept as written, each checked as a RouterOS id.
fn ids(text: &str) -> Option<Vec<String>> {
    text.split(',')
        .map(|id| crate::connection::parse_id(id).map(|_| id.to_string()))
        .collect()
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.i)
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.peek().map(|t| &t.tok)
    }

    fn pos(&self) -> Pos {
        self.peek()
            .or_else(|| self.tokens.last())
            .map(|t| t.pos)
            .unwrap_or_default()
    }

    fn error(&mut self, pos: Pos, kind: ErrorKind) {
        self.errors.push(RscError::new(pos, kind));
    }

    fn unexpected(&mut self, expected: &'static str) {
        let found = describe(self.peek_tok());
        let pos = self.pos();
        self.error(pos, ErrorKind::Unexpected { found, expected });
    }

    /// Drops the rest of a broken command, up to (not including) its end or its block's `}`.
    fn skip_command(&mut self) {
        while let Some(t) = self.peek() {
            if matches!(t.tok, Tok::End | Tok::Close('}')) {
                break;
            }
            self.i += 1;
        }
    }

    /// Statements until the end of input, or until the `}` matching the `{` at `open`.
    fn block(&mut self, menu: &[String], menu_pos: Pos, depth: usize, open: Option<Pos>) {
        let mut current = menu.to_vec();
        let mut current_pos = menu_pos;
        loop {
            match self.peek_tok() {
                None => {
                    if let Some(pos) = open {
                        self.error(pos, ErrorKind::Unclosed('{'));
                    }
                    return;
                }
                Some(Tok::End) => self.i += 1,
                Some(Tok::Close('}')) if open.is_some() => {
                    self.i += 1;
                    return;
                }
                Some(Tok::Close(_)) => {
                    self.unexpected("a menu path or a command");
                    self.i += 1;
                    self.skip_command();
                }
                Some(_) => self.statement(&mut current, &mut current_pos, depth),
            }
        }
    }

    /// One line (or `;`-separated part): a menu change, a command, or a block.
    fn statement(&mut self, current: &mut Vec<String>, current_pos: &mut Pos, depth: usize) {
        let mut path = current.clone();
        let mut path_pos: Option<Pos> = None;
        // The last path word and the path before it, in case it was meant as a command.
        let mut last_word: Option<(String, Pos, Vec<String>)> = None;
        while let Some(token) = self.peek() {
            let Some(text) = plain(&token.tok) else { break };
            let pos = token.pos;
            if Verb::from_word(&text).is_some() || looks_like_arg(&text) {
                break;
            }
            if text.starts_with(':') {
                self.error(
                    pos,
                    ErrorKind::Unsupported("a scripting command (:global, :if, :foreach, …)"),
                );
                self.skip_command();
                return;
            }
            if OTHER_COMMANDS.contains(&text.as_str()) {
                self.error(
                    pos,
                    ErrorKind::UnknownCommand {
                        command: text,
                        menu: menu_name(&path),
                        suggestion: None,
                    },
                );
                self.skip_command();
                return;
            }
            let before = path.clone();
            let rest = match text.strip_prefix('/') {
                Some(rest) if path_pos.is_none() => {
                    path.clear();
                    rest
                }
                _ => text.as_str(),
            };
            for seg in rest.split('/').filter(|s| !s.is_empty()) {
                if seg == ".." {
                    path.pop();
                } else if Verb::from_word(seg).is_some() || OTHER_COMMANDS.contains(&seg) {
                    // `/ip/firewall/filter/add` (or `/…/move`): a command inside a path would
                    // print as a menu segment and read back as the command, so it is refused
                    // here.
                    self.error(
                        pos,
                        ErrorKind::Unsupported(
                            "a command inside a menu path (write it after the path: /ip firewall filter add …)",
                        ),
                    );
                    self.skip_command();
                    return;
                } else if is_name(seg) {
                    path.push(seg.to_string());
                } else {
                    self.unexpected("a menu name (letters, digits and -)");
                    self.skip_command();
                    return;
                }
            }
            path_pos.get_or_insert(pos);
            last_word = Some((text, pos, before));
            self.i += 1;
        }

        let (tok, pos) = match self.peek() {
            Some(t) => (&t.tok, t.pos),
            None => (&Tok::End, self.pos()),
        };
        match tok {
            Tok::End | Tok::Close('}') => {
                // A path alone is a header line: it changes the menu for what follows.
                if let Some(pos) = path_pos {
                    *current = path;
                    *current_pos = pos;
                }
            }
            Tok::Open('{') => {
                self.i += 1;
                if depth >= MAX_DEPTH {
                    self.error(
                        pos,
                        ErrorKind::Unsupported("nesting blocks more than 32 levels deep"),
                    );
                    self.skip_command();
                    return;
                }
                let menu_pos = path_pos.unwrap_or(*current_pos);
                self.block(&path, menu_pos, depth + 1, Some(pos));
            }
            Tok::Invalid => self.skip_command(),
            Tok::Word(_) => {
                let text = plain(tok);
                match text.as_deref().and_then(Verb::from_word) {
                    Some(verb) => {
                        let menu_pos = path_pos.unwrap_or(*current_pos);
                        self.command(path, menu_pos, verb);
                    }
                    None => {
                        match last_word {
                            // `/ip firewall filter ad chain=…`: the last path word was the command.
                            Some((command, pos, before)) => {
                                let suggestion = suggest::closest(
                                    &command,
                                    Verb::ALL.iter().map(|v| v.as_str()),
                                )
                                .map(str::to_string);
                                self.error(
                                    pos,
                                    ErrorKind::UnknownCommand {
                                        command,
                                        menu: menu_name(&before),
                                        suggestion,
                                    },
                                );
                            }
                            None => self.unexpected("a menu path or a command (add, set, remove)"),
                        }
                        self.skip_command();
                    }
                }
            }
            Tok::Open(_) | Tok::Close(_) => {
                self.unexpected(if path_pos.is_some() {
                    "a command (add, set, remove)"
                } else {
                    "a menu path or a command"
                });
                self.skip_command();
            }
        }
    }

    /// The verb is the current token.
    fn command(&mut self, menu: Vec<String>, menu_pos: Pos, verb: Verb) {
        let pos = self.pos();
        self.i += 1;
        let mut selector = None;
        if verb != Verb::Add {
            match self.peek_tok() {
                Some(Tok::Open('[')) => match self.find() {
                    Some(args) => selector = Some(Selector::Find(args)),
                    None => {
                        self.skip_command();
                        return;
                    }
                },
                Some(tok) => {
                    if let Some(text) = plain(tok).filter(|t| t.starts_with('*')) {
                        match ids(&text) {
                            Some(list) => {
                                selector = Some(Selector::Ids(list));
                                self.i += 1;
                            }
                            None => {
                                self.unexpected("an item id such as *1 or *1,*A");
                                self.skip_command();
                                return;
                            }
                        }
                    }
                }
                None => {}
            }
        }
        let Some(args) = self.args() else {
            self.skip_command();
            return;
        };
        if !matches!(self.peek_tok(), None | Some(Tok::End | Tok::Close('}'))) {
            self.unexpected("an argument (name=value)");
            self.skip_command();
            return;
        }
        self.commands.push(Command {
            menu,
            verb,
            selector,
            args,
            pos,
            menu_pos,
        });
    }

    /// `[ find name=value … ]`, the cursor on `[`. `None` after reporting an error.
    fn find(&mut self) -> Option<Vec<Arg>> {
        let open = self.pos();
        self.i += 1;
        if self.peek_tok().and_then(plain).as_deref() != Some("find") {
            self.unexpected("\"find\" after \"[\"");
            return None;
        }
        self.i += 1;
        let args = self.args()?;
        match self.peek_tok() {
            Some(Tok::Close(']')) => {
                self.i += 1;
                Some(args)
            }
            None | Some(Tok::End) => {
                self.error(open, ErrorKind::Unclosed('['));
                None
            }
            Some(_) => {
                self.unexpected("a condition (name=value) or \"]\"");
                None
            }
        }
    }

    /// Arguments from the cursor up to the first token that is not a word. `None` after
    /// reporting an error (or meeting a word the lexer already reported).
    fn args(&mut self) -> Option<Vec<Arg>> {
        let tokens = self.tokens;
        let mut args = Vec::new();
        while let Some(t) = tokens.get(self.i) {
            match &t.tok {
                Tok::Word(pieces) => match arg(pieces, t.pos) {
                    Ok(a) => {
                        args.push(a);
                        self.i += 1;
                    }
                    Err(e) => {
                        self.errors.push(e);
                        return None;
                    }
                },
                Tok::Invalid => return None,
                _ => break,
            }
        }
        Some(args)
    }
}

/// `name=value`, `name=!value`, `name="quoted"`, or `!name`.
fn arg(pieces: &[Piece], pos: Pos) -> Result<Arg, RscError> {
    let word = || describe(Some(&Tok::Word(pieces.to_vec())));
    // The name is the bare text before the first `=`, which must come before any quote.
    let mut name = String::new();
    let mut split: Option<(usize, usize)> = None;
    for (pi, piece) in pieces.iter().enumerate() {
        if piece.quoted {
            break;
        }
        if let Some(ci) = piece.text.find('=') {
            name.push_str(piece.text.get(..ci).unwrap_or_default());
            split = Some((pi, ci));
            break;
        }
        name.push_str(&piece.text);
    }
    let Some((pi, ci)) = split else {
        if pieces.iter().any(|p| p.quoted) {
            return Err(RscError::new(
                pos,
                ErrorKind::Unexpected {
                    found: word(),
                    expected: "an argument (name=value)",
                },
            ));
        }
        if let Some(unset) = name.strip_prefix('!').filter(|n| is_name(n)) {
            return Ok(Arg {
                name: unset.to_string(),
                value: None,
                pos,
            });
        }
        return Err(RscError::new(pos, ErrorKind::MissingEquals(name)));
    };
    if !is_name(&name) {
        return Err(RscError::new(
            pos,
            ErrorKind::Unexpected {
                found: word(),
                expected: if name.is_empty() {
                    "an argument name before \"=\""
                } else {
                    "an argument name (letters, digits and -) before \"=\""
                },
            },
        ));
    }
    // The value: the rest of the piece holding `=`, then every later piece.
    let first = pieces.get(pi);
    let rest = first.and_then(|p| p.text.get(ci + 1..)).unwrap_or_default();
    let mut value_pieces: Vec<(String, bool, Pos)> = Vec::new();
    if !rest.is_empty() {
        let p = first.map(|p| p.pos).unwrap_or(pos);
        let offset = piece_chars(first, ci) + 1;
        value_pieces.push((rest.to_string(), false, Pos::new(p.line, p.column + offset)));
    }
    for p in pieces.iter().skip(pi + 1) {
        value_pieces.push((p.text.clone(), p.quoted, p.pos));
    }
    let value_pos = match value_pieces.first() {
        Some((_, _, p)) => *p,
        None => {
            let p = first.map(|p| p.pos).unwrap_or(pos);
            Pos::new(p.line, p.column + piece_chars(first, ci) + 1)
        }
    };
    let mut negated = false;
    if let Some((text, false, _)) = value_pieces.first_mut() {
        if let Some(stripped) = text.strip_prefix('!') {
            *text = stripped.to_string();
            negated = true;
        }
    }
    let text = value_pieces.into_iter().map(|(t, _, _)| t).collect();
    Ok(Arg {
        name,
        value: Some(Value {
            text,
            negated,
            pos: value_pos,
        }),
        pos,
    })
}

/// How many characters of `piece` come before byte `byte`.
fn piece_chars(piece: Option<&Piece>, byte: usize) -> usize {
    piece
        .and_then(|p| p.text.get(..byte))
        .map_or(0, |s| s.chars().count())
}

#[cfg(test)]
mod tests {
    use super::super::{lexer, Script};
    use super::*;

    fn parse(text: &str) -> Script {
        let (tokens, errors) = lexer::lex(text);
        assert!(errors.is_empty(), "{errors:?}");
        let (script, errors) = parse_tokens(&tokens);
        assert!(errors.is_empty(), "{errors:?}");
        script
    }

    fn errors(text: &str) -> Vec<String> {
        let (tokens, mut errors) = lexer::lex(text);
        errors.extend(parse_tokens(&tokens).1);
        errors.iter().map(|e| e.to_string()).collect()
    }

    fn menus(s: &Script) -> Vec<String> {
        s.commands.iter().map(|c| c.menu_name()).collect()
    }

    #[test]
    fn a_command_word_inside_a_slash_path_is_refused() {
        // Found by the rsc_parse fuzz target: `m/0I/-0rumo/move remove` printed `move` as a
        // path word, which reads back as the unsupported command.
        let errors = super::super::parse("m/x/move remove").unwrap_err();
        assert!(
            errors[0]
                .to_string()
                .contains("a command inside a menu path"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_verb_inside_a_menu_path_is_refused() {
        // Found by the rsc_parse fuzz target: `-//add set` read as menu "- add" with verb set,
        // which printed as `/- add` + `set` and read back differently.
        let e = crate::rsc::parse("-//add set").unwrap_err();
        assert!(
            e[0].to_string().contains("a command inside a menu path"),
            "{}",
            e[0]
        );
        assert!(crate::rsc::parse("/ip/firewall/filter/add chain=input").is_err());
    }

    #[test]
    fn every_way_of_naming_a_menu() {
        let s = parse(
            "/ip firewall filter\nadd chain=input\n/ip/firewall/nat\nadd chain=srcnat\n\
             /ip firewall nat add chain=dstnat\nadd chain=srcnat\n\
             /ip firewall {\n  filter add chain=forward\n  nat add chain=x\n}\n\
             /ip { firewall { address-list add list=a } }\nadd chain=y",
        );
        assert_eq!(
            menus(&s),
            [
                "/ip firewall filter",
                "/ip firewall nat",
                "/ip firewall nat",
                // A path on the command's own line does not change the current menu.
                "/ip firewall nat",
                "/ip firewall filter",
                "/ip firewall nat",
                "/ip firewall address-list",
                // Blocks do not change it either.
                "/ip firewall nat",
            ]
        );
        assert_eq!(s.commands[0].menu, ["ip", "firewall", "filter"]);
        assert_eq!(s.commands[0].menu_pos, Pos::new(1, 1));
        assert_eq!(s.commands[4].menu_pos, Pos::new(8, 3));
    }

    #[test]
    fn relative_paths_and_semicolons() {
        let s = parse(
            "/ip\nfirewall filter\nadd chain=a; add chain=b\n.. address add address=1.1.1.1/32",
        );
        assert_eq!(
            menus(&s),
            [
                "/ip firewall filter",
                "/ip firewall filter",
                "/ip firewall address"
            ]
        );
    }

    #[test]
    fn arguments_values_negation_and_unset_markers() {
        let s = parse(
            "/ip firewall filter\nadd in-interface-list=!LAN comment=\"defconf: x\" \
             connection-state=established,related !dst-address log-prefix=\"\" \
             src-address-list=!\"my list\" x=\"!lit\" empty= a=b=c",
        );
        let args = &s.commands[0].args;
        let shown: Vec<String> = args
            .iter()
            .map(|a| match &a.value {
                None => format!("!{}", a.name),
                Some(v) => format!(
                    "{}={}{}",
                    a.name,
                    if v.negated { "NOT " } else { "" },
                    v.text
                ),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "in-interface-list=NOT LAN",
                "comment=defconf: x",
                "connection-state=established,related",
                "!dst-address",
                "log-prefix=",
                "src-address-list=NOT my list",
                "x=!lit",
                "empty=",
                "a=b=c",
            ]
        );
        assert_eq!(args[0].pos, Pos::new(2, 5));
        assert_eq!(args[0].value.as_ref().map(|v| v.pos), Some(Pos::new(2, 23)));
        assert_eq!(args[1].value.as_ref().map(|v| v.pos), Some(Pos::new(2, 36)));
    }

    #[test]
    fn selectors() {
        let s = parse(
            "/interface ethernet\nset [ find default-name=ether1 ] name=wan\nset *0 x=1\n\
             remove *1,*A\nset [find name=all] comment=c\nremove [ find ]",
        );
        assert_eq!(
            s.commands[0].selector,
            Some(Selector::Find(vec![Arg {
                name: "default-name".into(),
                value: Some(Value {
                    text: "ether1".into(),
                    negated: false,
                    pos: Pos::new(2, 25)
                }),
                pos: Pos::new(2, 12),
            }]))
        );
        assert_eq!(
            s.commands[1].selector,
            Some(Selector::Ids(vec!["*0".into()]))
        );
        assert_eq!(
            s.commands[2].selector,
            Some(Selector::Ids(vec!["*1".into(), "*A".into()]))
        );
        assert!(matches!(&s.commands[3].selector, Some(Selector::Find(a)) if a.len() == 1));
        assert_eq!(s.commands[4].selector, Some(Selector::Find(vec![])));
    }

    #[test]
    fn syntax_errors_name_the_place_and_the_fix() {
        assert_eq!(
            errors("/ip firewall filter\nad chain=input"),
            ["line 2, column 1: unknown command \"ad\" in /ip firewall filter; did you mean \"add\"?"]
        );
        assert_eq!(
            errors("/ip firewall filter print"),
            ["line 1, column 21: unknown command \"print\" in /ip firewall filter (statewall scripts use add, set and remove)"]
        );
        assert_eq!(
            errors("/ip firewall filter\nadd chain input"),
            ["line 2, column 5: missing \"=\" after \"chain\": arguments are written name=value"]
        );
        assert_eq!(
            errors("add chain=input ]"),
            ["line 1, column 17: unexpected \"]\"; expected an argument (name=value)"]
        );
        assert_eq!(
            errors("]"),
            ["line 1, column 1: unexpected \"]\"; expected a menu path or a command"]
        );
        assert_eq!(
            errors("/ip firewall {\n filter add chain=x\n"),
            ["line 1, column 14: \"{\" is never closed"]
        );
        assert_eq!(
            errors("set [ find name=x\nadd a=b"),
            ["line 1, column 5: \"[\" is never closed"]
        );
        assert_eq!(
            errors("set *Q a=b"),
            ["line 1, column 5: unexpected \"*Q\"; expected an item id such as *1 or *1,*A"]
        );
        assert_eq!(
            errors("add =x"),
            ["line 1, column 5: unexpected \"=x\"; expected an argument name before \"=\""]
        );
        assert_eq!(
            errors(":global x 1"),
            ["line 1, column 1: a scripting command (:global, :if, :foreach, …) is not supported in statewall scripts"]
        );
    }

    #[test]
    fn one_broken_command_does_not_hide_the_others() {
        let text = "/ip firewall filter\nadd chain=a\nad chain=b\nadd chain c\nadd chain=d\n\
                    /ip firewall { filter ad x=1 }\nadd chain=e";
        let (tokens, _) = lexer::lex(text);
        let (script, errors) = parse_tokens(&tokens);
        assert_eq!(errors.len(), 3, "{errors:?}");
        let chains: Vec<_> = script
            .commands
            .iter()
            .filter_map(|c| c.get("chain").and_then(Arg::text))
            .collect();
        assert_eq!(chains, ["a", "d", "e"]);
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let text = "{".repeat(10_000) + &"}".repeat(10_000);
        let (tokens, _) = lexer::lex(&text);
        let (_, errors) = parse_tokens(&tokens);
        assert!(!errors.is_empty());
    }
}
