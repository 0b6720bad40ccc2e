//! `where` expressions and `[find …]` filters → the binary API's query words.
//!
//! The console's expressions (`protocol=tcp and !(dst-port=80 or dst-port=443)`) become the API's
//! postfix stack (routeros.md §5): `?name=value` pushes a comparison, `?<name=value` and
//! `?>name=value` order, `?name` "has a value", and `?#!`, `?#&`, `?#|` negate and combine the
//! top of the stack. `!=`, `<=` and `>=` are a comparison and a negation. Precedence: `not`
//! (`!`) binds tightest, then `and` (`&&`), then `or` (`||`); parentheses group.
//!
//! The API has no regular expressions, so `~` is refused (and so is `in`), saying why, rather
//! than matched some other way.

use super::error::{Column, ConsoleError};
use super::lexer::{Tok, Token};
use super::menu::Menu;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Cmp {
        name: String,
        op: Op,
        value: String,
    },
    /// A bare property name: "is yes" for yes/no properties, else "has a value".
    Prop(String),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// The API's query words for this expression, in `menu` (which knows the yes/no properties).
    pub fn to_words(&self, menu: &Menu) -> Vec<String> {
        let mut out = Vec::new();
        self.push_words(menu, &mut out);
        out
    }

    fn push_words(&self, menu: &Menu, out: &mut Vec<String>) {
        match self {
            Expr::Cmp { name, op, value } => {
                let (word, negate) = match op {
                    Op::Eq => (format!("?{name}={value}"), false),
                    Op::Ne => (format!("?{name}={value}"), true),
                    Op::Lt => (format!("?<{name}={value}"), false),
                    Op::Gt => (format!("?>{name}={value}"), false),
                    Op::Le => (format!("?>{name}={value}"), true),
                    Op::Ge => (format!("?<{name}={value}"), true),
                };
                out.push(word);
                if negate {
                    out.push("?#!".into());
                }
            }
            Expr::Prop(name) if menu.is_yes_no(name) => out.push(format!("?{name}=true")),
            Expr::Prop(name) => out.push(format!("?{name}")),
            Expr::Not(e) => {
                e.push_words(menu, out);
                out.push("?#!".into());
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.push_words(menu, out);
                b.push_words(menu, out);
                out.push(
                    if matches!(self, Expr::And(..)) {
                        "?#&"
                    } else {
                        "?#|"
                    }
                    .into(),
                );
            }
        }
    }
}

/// Reads a whole expression from `tokens` (everything up to the end of the command or the `]`
/// closing a `[find where …]`); `end` is where the text ends, for "expected an operand" errors.
pub fn parse(tokens: &[Token], end: Column) -> Result<Expr, ConsoleError> {
    let mut p = Parser { tokens, i: 0, end };
    let e = p.or()?;
    match p.tokens.get(p.i) {
        None => Ok(e),
        Some(t) => Err(ConsoleError::ExpectedEnd { at: t.at }),
    }
}

struct Parser<'t> {
    tokens: &'t [Token],
    i: usize,
    end: Column,
}

/// The operators a comparison may use, longest first so `!=` is not read as `!`.
const OPERATORS: &[(&str, Option<Op>)] = &[
    ("!=", Some(Op::Ne)),
    ("<=", Some(Op::Le)),
    (">=", Some(Op::Ge)),
    ("=", Some(Op::Eq)),
    ("<", Some(Op::Lt)),
    (">", Some(Op::Gt)),
    ("~", None),
];

impl Parser<'_> {
    fn peek_keyword(&self) -> Option<&str> {
        self.tokens.get(self.i).and_then(Token::bare_word)
    }

    fn here(&self) -> Column {
        self.tokens.get(self.i).map_or(self.end, |t| t.at)
    }

    fn or(&mut self) -> Result<Expr, ConsoleError> {
        let mut left = self.and()?;
        while matches!(self.peek_keyword(), Some("or" | "||")) {
            self.i += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ConsoleError> {
        let mut left = self.unary()?;
        while matches!(self.peek_keyword(), Some("and" | "&&")) {
            self.i += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ConsoleError> {
        let at = self.here();
        let Some(token) = self.tokens.get(self.i) else {
            return Err(ConsoleError::Syntax { at });
        };
        match &token.tok {
            Tok::Open('(') => {
                self.i += 1;
                let e = self.or()?;
                match self.tokens.get(self.i) {
                    Some(Token {
                        tok: Tok::Close(')'),
                        ..
                    }) => {
                        self.i += 1;
                        Ok(e)
                    }
                    _ => Err(ConsoleError::Syntax { at: self.here() }),
                }
            }
            Tok::Word { text, bare } => {
                if token.bare_word() == Some("not") || (text == "!" && *bare == 1) {
                    self.i += 1;
                    return Ok(Expr::Not(Box::new(self.unary()?)));
                }
                if *bare > 1 && text.starts_with('!') && !text.starts_with("!=") {
                    // `!name` or `!name=value`: the rest of the word, negated.
                    let rest = Token {
                        tok: Tok::Word {
                            text: text[1..].to_string(),
                            bare: bare - 1,
                        },
                        at: Column(at.0 + 1),
                    };
                    self.i += 1;
                    return Ok(Expr::Not(Box::new(self.term(&rest)?)));
                }
                let token = token.clone();
                self.i += 1;
                self.term(&token)
            }
            _ => Err(ConsoleError::Syntax { at }),
        }
    }

    /// One comparison (or bare property name) starting with `token`: `name=value` in one word,
    /// or `name = value` over three.
    fn term(&mut self, token: &Token) -> Result<Expr, ConsoleError> {
        let Tok::Word { text, bare } = &token.tok else {
            return Err(ConsoleError::Syntax { at: token.at });
        };
        let bare_part = &text[..*bare];
        let found = bare_part.char_indices().find_map(|(i, _)| {
            OPERATORS
                .iter()
                .find(|(sym, _)| bare_part[i..].starts_with(sym))
                .map(|(sym, op)| (i, *sym, *op))
        });
        let (name, sym, op, value) = match found {
            Some((i, sym, op)) => (
                text[..i].to_string(),
                sym,
                op,
                Some(text[i + sym.len()..].to_string()),
            ),
            None => {
                // `name = value` over three words.
                let op = self
                    .tokens
                    .get(self.i)
                    .and_then(Token::bare_word)
                    .and_then(|w| OPERATORS.iter().find(|(sym, _)| *sym == w).copied());
                match op {
                    Some((sym, op)) => {
                        self.i += 1;
                        let value = self
                            .tokens
                            .get(self.i)
                            .and_then(|t| t.word().map(str::to_string))
                            .ok_or(ConsoleError::Syntax { at: self.here() })?;
                        self.i += 1;
                        (text.clone(), sym, op, Some(value))
                    }
                    None => (text.clone(), "", None, None),
                }
            }
        };
        if name.is_empty() {
            return Err(ConsoleError::Syntax { at: token.at });
        }
        if name == "in" || self.peek_keyword() == Some("in") {
            return Err(ConsoleError::Unsupported {
                what: "in".into(),
                at: token.at,
                why: "the API's queries compare whole values only",
            });
        }
        match (value, op) {
            (None, _) => Ok(Expr::Prop(name)),
            (Some(_), None) => Err(ConsoleError::Unsupported {
                what: sym.into(),
                at: token.at,
                why: "the API's queries have no regular expressions; compare with = or !=",
            }),
            (Some(value), Some(op)) => Ok(Expr::Cmp { name, op, value }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::lex;
    use super::super::menu;
    use super::*;

    fn words(text: &str, path: &[&str]) -> Vec<String> {
        let tokens = lex(text).expect("lexes");
        let e = parse(&tokens, Column(text.chars().count() + 1)).expect("parses");
        e.to_words(menu::find(path).expect("menu"))
    }

    fn error(text: &str) -> String {
        let tokens = lex(text).expect("lexes");
        parse(&tokens, Column(text.chars().count() + 1))
            .unwrap_err()
            .to_string()
    }

    const CONN: &[&str] = &["ip", "firewall", "connection"];
    const FILTER: &[&str] = &["ip", "firewall", "filter"];

    #[test]
    fn comparisons() {
        assert_eq!(words("protocol=tcp", CONN), ["?protocol=tcp"]);
        assert_eq!(words("dst-port!=80", FILTER), ["?dst-port=80", "?#!"]);
        assert_eq!(words("orig-bytes<100", CONN), ["?<orig-bytes=100"]);
        assert_eq!(words("orig-bytes>100", CONN), ["?>orig-bytes=100"]);
        assert_eq!(words("orig-bytes<=100", CONN), ["?>orig-bytes=100", "?#!"]);
        assert_eq!(words("orig-bytes>=100", CONN), ["?<orig-bytes=100", "?#!"]);
        assert_eq!(words("protocol = udp", CONN), ["?protocol=udp"]);
        assert_eq!(
            words(r#"comment="a=b c""#, FILTER),
            ["?comment=a=b c"],
            "only the bare = separates"
        );
    }

    #[test]
    fn flags_and_properties() {
        assert_eq!(words("assured", CONN), ["?assured=true"]);
        assert_eq!(words("!disabled", FILTER), ["?disabled=true", "?#!"]);
        assert_eq!(words("comment", FILTER), ["?comment"]);
        assert_eq!(words("!protocol=tcp", CONN), ["?protocol=tcp", "?#!"]);
    }

    #[test]
    fn logic_with_precedence_and_parentheses() {
        assert_eq!(
            words("protocol=tcp and tcp-state=established", CONN),
            ["?protocol=tcp", "?tcp-state=established", "?#&"]
        );
        assert_eq!(
            words("protocol=tcp or protocol=udp and assured", CONN),
            [
                "?protocol=tcp",
                "?protocol=udp",
                "?assured=true",
                "?#&",
                "?#|"
            ]
        );
        assert_eq!(
            words("(protocol=tcp || protocol=udp) && not assured", CONN),
            [
                "?protocol=tcp",
                "?protocol=udp",
                "?#|",
                "?assured=true",
                "?#!",
                "?#&"
            ]
        );
        assert_eq!(words("! (chain=input)", FILTER), ["?chain=input", "?#!"]);
    }

    #[test]
    fn refusals_and_mistakes() {
        assert_eq!(
            error(r#"dst-address~":80$""#),
            "~ is not supported (line 1 column 1): the API's queries have no regular \
             expressions; compare with = or !="
        );
        assert!(error("dst-address in 10.0.0.0/8").starts_with("in is not supported"));
        assert_eq!(error("protocol=tcp and"), "syntax error (line 1 column 17)");
        assert_eq!(error("(protocol=tcp"), "syntax error (line 1 column 14)");
        assert_eq!(
            error("protocol=tcp udp"),
            "expected end of command (line 1 column 14)"
        );
        assert_eq!(error("=tcp"), "syntax error (line 1 column 1)");
    }
}
