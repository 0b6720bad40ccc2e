//! Text → tokens, with positions, line continuations and quoting resolved.
//!
//! A token is a word (bare text and quoted strings glued together, as in `comment="a b"`), a
//! bracket, or the end of a command (newline or `;`). Decisions that need RouterOS knowledge
//! (what a word means) are the parser's; this module only settles what the characters are.
//!
//! Line continuation: `\`, optional blanks, newline, and the next line's indentation together
//! read as nothing. Exports split anywhere, even inside a token (`tcp-last-ack-timeout=\` then
//! `    10s`) or a quoted string, and ` \` (blank before the backslash) still separates because
//! the blank does. The consequence for the printer: never break right before a blank.
//!
//! Errors do not stop the lexer: the broken token becomes [`Tok::Invalid`] so the parser skips
//! that command quietly, and the rest of the script is still checked.

use super::error::{ErrorKind, Pos, RscError};
use super::escape;

/// A run of text inside one word: either bare or from one quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    pub text: String,
    pub quoted: bool,
    /// Where the piece's first character is (for quoted pieces, the opening quote). A bare piece
    /// never spans a line continuation, so `pos` plus a character offset is an exact position.
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Word(Vec<Piece>),
    Open(char),
    Close(char),
    /// Newline or `;`.
    End,
    /// A word the lexer already reported an error for.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

/// The whole source as characters, with `\r\n` and lone `\r` read as `\n` (RouterOS takes all
/// three line ends) and a leading byte-order mark dropped.
struct Cursor {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
}

impl Cursor {
    fn new(text: &str) -> Self {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let mut chars = Vec::with_capacity(text.len());
        let mut it = text.chars().peekable();
        while let Some(c) = it.next() {
            if c == '\r' {
                if it.peek() == Some(&'\n') {
                    it.next();
                }
                chars.push('\n');
            } else {
                chars.push(c);
            }
        }
        Cursor {
            chars,
            i: 0,
            line: 1,
            col: 1,
        }
    }

    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.i.saturating_add(n)).copied()
    }

    fn pos(&self) -> Pos {
        Pos::new(self.line, self.col)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    /// At a `\`: what follows it, if it is a line continuation.
    fn continuation(&self) -> Continuation {
        let mut n = 1;
        while matches!(self.peek_at(n), Some(' ' | '\t')) {
            n += 1;
        }
        match self.peek_at(n) {
            Some('\n') => Continuation::Line,
            None => Continuation::AtEof,
            Some(_) => Continuation::No,
        }
    }

    /// Consumes a continuation: `\`, blanks, newline, and the next line's indentation.
    fn skip_continuation(&mut self) {
        self.bump();
        self.skip_blanks();
        self.bump();
        self.skip_blanks();
    }

    fn skip_to_line_end(&mut self) {
        while !matches!(self.peek(), None | Some('\n')) {
            self.bump();
        }
    }
}

enum Continuation {
    Line,
    AtEof,
    No,
}

/// Characters that end a bare word.
fn ends_word(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | ';' | '{' | '}' | '[' | ']')
}

/// Splits `text` into tokens. Always ends with [`Tok::End`]. Never panics.
pub(crate) fn lex(text: &str) -> (Vec<Token>, Vec<RscError>) {
    let mut cur = Cursor::new(text);
    let mut tokens = Vec::new();
    let mut errors = Vec::new();
    let mut line_start = true;
    loop {
        if line_start {
            cur.skip_blanks();
            // A comment is a whole physical line (not one reached through a continuation).
            if cur.peek() == Some('#') {
                cur.skip_to_line_end();
            }
            line_start = false;
        }
        let pos = cur.pos();
        let Some(c) = cur.peek() else { break };
        match c {
            ' ' | '\t' => {
                cur.bump();
            }
            '\n' | ';' => {
                cur.bump();
                tokens.push(Token { tok: Tok::End, pos });
                line_start = c == '\n';
            }
            '{' | '[' => {
                cur.bump();
                tokens.push(Token {
                    tok: Tok::Open(c),
                    pos,
                });
            }
            '}' | ']' => {
                cur.bump();
                tokens.push(Token {
                    tok: Tok::Close(c),
                    pos,
                });
            }
            '\\' if matches!(cur.continuation(), Continuation::Line) => cur.skip_continuation(),
            _ => {
                let tok = match word(&mut cur) {
                    Ok(pieces) => Tok::Word(pieces),
                    Err(e) => {
                        errors.push(e);
                        Tok::Invalid
                    }
                };
                tokens.push(Token { tok, pos });
            }
        }
    }
    tokens.push(Token {
        tok: Tok::End,
        pos: cur.pos(),
    });
    (tokens, errors)
}

/// One word: bare runs and quoted strings until a blank or a bracket. On error the rest of the
/// word is consumed (up to the line end for an unterminated quote) and the first error returned.
fn word(cur: &mut Cursor) -> Result<Vec<Piece>, RscError> {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut error: Option<RscError> = None;
    let mut bare: Option<Piece> = None;
    while let Some(c) = cur.peek() {
        if ends_word(c) {
            break;
        }
        let pos = cur.pos();
        match c {
            '"' => {
                pieces.extend(bare.take());
                match quoted(cur) {
                    Ok(p) => pieces.push(p),
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
            }
            '\\' => match cur.continuation() {
                Continuation::Line => {
                    // Joins the token across lines; a new piece keeps positions exact.
                    pieces.extend(bare.take());
                    cur.skip_continuation();
                }
                Continuation::AtEof => {
                    error.get_or_insert(RscError::new(pos, ErrorKind::ContinuationAtEof));
                    cur.skip_to_line_end();
                }
                Continuation::No => {
                    error.get_or_insert(RscError::new(pos, ErrorKind::StrayBackslash));
                    cur.bump();
                }
            },
            '$' | '(' | ')' => {
                let what = if c == '$' {
                    "variable substitution ($name; write \"\\$\" inside quotes for a dollar sign)"
                } else {
                    "an expression in parentheses (quote the value if it is text)"
                };
                error.get_or_insert(RscError::new(pos, ErrorKind::Unsupported(what)));
                cur.bump();
            }
            _ => {
                cur.bump();
                bare.get_or_insert_with(|| Piece {
                    text: String::new(),
                    quoted: false,
                    pos,
                })
                .text
                .push(c);
            }
        }
    }
    pieces.extend(bare);
    match error {
        Some(e) => Err(e),
        None => Ok(pieces),
    }
}

/// A quoted string, the cursor on its opening quote. Escapes are decoded to bytes first because
/// `\XX` escapes may spell one UTF-8 character over several escapes.
fn quoted(cur: &mut Cursor) -> Result<Piece, RscError> {
    let open = cur.pos();
    cur.bump();
    let mut bytes: Vec<u8> = Vec::new();
    let mut error: Option<RscError> = None;
    loop {
        let pos = cur.pos();
        match cur.peek() {
            None | Some('\n') => {
                // Leave the newline: it still ends the command.
                return Err(RscError::new(open, ErrorKind::UnterminatedQuote));
            }
            Some('"') => {
                cur.bump();
                break;
            }
            Some('$') => {
                error.get_or_insert(RscError::new(
                    pos,
                    ErrorKind::Unsupported(
                        "variable substitution ($name; write \"\\$\" for a dollar sign)",
                    ),
                ));
                cur.bump();
            }
            Some('\\') => match cur.continuation() {
                Continuation::Line => cur.skip_continuation(),
                Continuation::AtEof => {
                    return Err(RscError::new(open, ErrorKind::UnterminatedQuote));
                }
                Continuation::No => {
                    cur.bump();
                    match escape_sequence(cur) {
                        Ok(b) => bytes.extend_from_slice(&b),
                        Err(text) => {
                            error.get_or_insert(RscError::new(pos, ErrorKind::BadEscape(text)));
                        }
                    }
                }
            },
            Some(c) => {
                cur.bump();
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    if let Some(e) = error {
        return Err(e);
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Piece {
            text,
            quoted: true,
            pos: open,
        }),
        Err(_) => Err(RscError::new(open, ErrorKind::InvalidUtf8)),
    }
}

/// After a `\` inside quotes (not a continuation): the bytes the escape stands for, or the text
/// of the bad escape.
fn escape_sequence(cur: &mut Cursor) -> Result<Vec<u8>, String> {
    let Some(c) = cur.peek() else {
        return Err(String::new());
    };
    if let Some(hi) = escape::hex_digit(c) {
        let lo = cur.peek_at(1).and_then(escape::hex_digit);
        cur.bump();
        return match lo {
            Some(lo) => {
                cur.bump();
                Ok(vec![hi * 16 + lo])
            }
            None => Err(c.to_string()),
        };
    }
    cur.bump();
    match escape::named(c) {
        Some(ch) => {
            let mut buf = [0u8; 4];
            Ok(ch.encode_utf8(&mut buf).as_bytes().to_vec())
        }
        None => Err(c.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens as short strings: words as their pieces (`"…"` for quoted), brackets, `;` for End.
    fn show(text: &str) -> Vec<String> {
        let (tokens, errors) = lex(text);
        assert!(errors.is_empty(), "{errors:?}");
        tokens
            .into_iter()
            .map(|t| match t.tok {
                Tok::Word(pieces) => pieces
                    .iter()
                    .map(|p| {
                        if p.quoted {
                            format!("\"{}\"", p.text)
                        } else {
                            p.text.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("+"),
                Tok::Open(c) | Tok::Close(c) => c.to_string(),
                Tok::End => ";".into(),
                Tok::Invalid => "?".into(),
            })
            .collect()
    }

    fn first_error(text: &str) -> RscError {
        let (_, errors) = lex(text);
        errors.into_iter().next().expect("an error")
    }

    #[test]
    fn words_quotes_and_brackets() {
        assert_eq!(
            show("/ip firewall filter\nadd comment=\"a b\" chain=input"),
            [
                "/ip",
                "firewall",
                "filter",
                ";",
                "add",
                "comment=+\"a b\"",
                "chain=input",
                ";"
            ]
        );
        assert_eq!(
            show("set [ find default-name=ether1 ] name=x;remove *1"),
            [
                "set",
                "[",
                "find",
                "default-name=ether1",
                "]",
                "name=x",
                ";",
                "remove",
                "*1",
                ";"
            ]
        );
        assert_eq!(
            show("/ip firewall {filter add}"),
            ["/ip", "firewall", "{", "filter", "add", "}", ";"]
        );
    }

    #[test]
    fn continuation_joins_tokens_and_strings() {
        // Export splits inside a token: the backslash glued to the text continues it.
        assert_eq!(
            show("set tcp-last-ack-timeout=\\\n    10s x=1 \\\n    y=2"),
            ["set", "tcp-last-ack-timeout=+10s", "x=1", "y=2", ";"]
        );
        // Inside quotes a continuation is nothing at all.
        assert_eq!(
            show("add c=\"10M-baseT-half,100M\\\n    -baseT-half\""),
            ["add", "c=+\"10M-baseT-half,100M-baseT-half\"", ";"]
        );
        // Trailing blanks after the backslash and CRLF line ends are fine.
        assert_eq!(
            show("add a=1 \\  \r\n  b=2\r\n"),
            ["add", "a=1", "b=2", ";", ";"]
        );
    }

    #[test]
    fn comments_are_whole_lines() {
        assert_eq!(
            show("# feb/22/2021 01:08:08 by RouterOS 6.48.1\n  # indented\nadd comment=#1"),
            [";", ";", "add", "comment=#1", ";"]
        );
    }

    #[test]
    fn escapes_decode() {
        assert_eq!(
            show(r#"x="\"\\\n\t\$\?\_\41\C3\A9""#),
            ["x=+\"\"\\\n\t$? Aé\"", ";"]
        );
    }

    #[test]
    fn positions_are_line_and_column() {
        let (tokens, _) = lex("/ip address\n  add address=1.2.3.4/24");
        assert_eq!(tokens[3].pos, Pos::new(2, 3));
        let Tok::Word(pieces) = &tokens[4].tok else {
            panic!()
        };
        assert_eq!(pieces[0].pos, Pos::new(2, 7));
    }

    #[test]
    fn lexical_errors_say_where() {
        let e = first_error("add comment=\"open\nadd x=1");
        assert_eq!(e.pos, Pos::new(1, 13));
        assert_eq!(e.kind, ErrorKind::UnterminatedQuote);
        let e = first_error("add x=1 \\");
        assert_eq!(
            e.to_string(),
            "line 1, column 9: line continuation \"\\\" at end of file"
        );
        let e = first_error("add x=\"a\\qb\"");
        assert_eq!(e.kind, ErrorKind::BadEscape("q".into()));
        assert_eq!(e.pos, Pos::new(1, 9));
        assert_eq!(
            first_error(r#"x="\ab\4""#).kind,
            ErrorKind::BadEscape("4".into())
        );
        assert_eq!(first_error(r#"x="\FF""#).kind, ErrorKind::InvalidUtf8);
        assert!(matches!(
            first_error("x=$y").kind,
            ErrorKind::Unsupported(_)
        ));
        assert_eq!(first_error("x=a\\b").kind, ErrorKind::StrayBackslash);
    }

    #[test]
    fn an_error_invalidates_only_its_word() {
        let (tokens, errors) = lex("add a=\"x\nadd b=1");
        assert_eq!(errors.len(), 1);
        let kinds: Vec<_> = tokens.iter().map(|t| &t.tok).collect();
        assert!(matches!(kinds[1], Tok::Invalid));
        assert!(matches!(kinds[2], Tok::End));
        assert!(matches!(kinds[4], Tok::Word(_)));
    }
}
