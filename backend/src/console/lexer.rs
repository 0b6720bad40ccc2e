//! A console line → tokens: words (bare text and quoted strings glued together, as in
//! `comment="a b"`), brackets, parentheses and `;`.
//!
//! Quoted strings are read with the `.rsc` escape table ([`shared::rsc::escaped_char`],
//! [`shared::rsc::hex_digit`]), so a value reads the same typed here, in an export or in a
//! scheduler script. The `.rsc` lexer itself does not fit: it reads files (continuations,
//! comment lines) and refuses the parentheses of `where (a or b)`.
//!
//! A word remembers how much of it was typed bare: `comment="a=b"` is the argument `comment`
//! with the value `a=b`, because only the first `=` stood outside quotes.

use super::error::{Column, ConsoleError};
use shared::rsc::{escaped_char, hex_digit};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A word's text (quotes removed, escapes decoded) and how many bytes of it were bare before
    /// the first quoted piece (the whole text when nothing was quoted).
    Word {
        text: String,
        bare: usize,
    },
    Open(char),
    Close(char),
    /// `;` or a newline: the end of one command.
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub at: Column,
}

impl Token {
    /// The word's text, if the token is a word.
    pub fn word(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The word's text if none of it was quoted (menu names, commands, keywords).
    pub fn bare_word(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word { text, bare } if *bare == text.len() => Some(text),
            _ => None,
        }
    }
}

fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, ';' | '[' | ']' | '(' | ')' | '{' | '}')
}

/// Splits a line into tokens. `#` where a command starts makes the rest of that line a comment.
pub fn lex(line: &str) -> Result<Vec<Token>, ConsoleError> {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut out: Vec<Token> = Vec::new();
    let at = |i: usize| Column(i + 1);
    while let Some(&c) = chars.get(i) {
        let starts_command = matches!(out.last().map(|t| &t.tok), None | Some(Tok::End));
        match c {
            '\n' | ';' => {
                out.push(Token {
                    tok: Tok::End,
                    at: at(i),
                });
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '#' if starts_command => {
                while chars.get(i).is_some_and(|&c| c != '\n') {
                    i += 1;
                }
            }
            '[' | '(' | '{' => {
                out.push(Token {
                    tok: Tok::Open(c),
                    at: at(i),
                });
                i += 1;
            }
            ']' | ')' | '}' => {
                out.push(Token {
                    tok: Tok::Close(c),
                    at: at(i),
                });
                i += 1;
            }
            _ => {
                let start = i;
                let mut text = String::new();
                let mut bare: Option<usize> = None;
                while let Some(&c) = chars.get(i) {
                    if ends_word(c) {
                        break;
                    }
                    if c == '"' {
                        bare.get_or_insert(text.len());
                        i = quoted(&chars, i, &mut text)?;
                    } else {
                        text.push(c);
                        i += 1;
                    }
                }
                let bare = bare.unwrap_or(text.len());
                out.push(Token {
                    tok: Tok::Word { text, bare },
                    at: at(start),
                });
            }
        }
    }
    Ok(out)
}

/// Reads the quoted string whose opening quote is at `open` into `out`; the index after the
/// closing quote.
fn quoted(chars: &[char], open: usize, out: &mut String) -> Result<usize, ConsoleError> {
    let mut i = open + 1;
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        match chars.get(i) {
            None | Some('\n') => {
                return Err(ConsoleError::Syntax {
                    at: Column(open + 1),
                })
            }
            Some('"') => break,
            Some('\\') => {
                let next = chars.get(i + 1).copied();
                let hi = next.and_then(hex_digit);
                let lo = chars.get(i + 2).copied().and_then(hex_digit);
                match (hi, lo, next.and_then(escaped_char)) {
                    (Some(hi), Some(lo), _) => {
                        bytes.push(hi * 16 + lo);
                        i += 3;
                    }
                    (_, _, Some(c)) => {
                        push_char(&mut bytes, c);
                        i += 2;
                    }
                    _ => return Err(ConsoleError::Syntax { at: Column(i + 1) }),
                }
            }
            Some(&c) => {
                push_char(&mut bytes, c);
                i += 1;
            }
        }
    }
    let text = String::from_utf8(bytes).map_err(|_| ConsoleError::Syntax {
        at: Column(open + 1),
    })?;
    out.push_str(&text);
    Ok(i + 1)
}

fn push_char(bytes: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens as short strings: words with `|` where the bare part ends (when some was quoted).
    fn show(line: &str) -> Vec<String> {
        lex(line)
            .expect("lexes")
            .into_iter()
            .map(|t| match t.tok {
                Tok::Word { text, bare } if bare == text.len() => text,
                Tok::Word { text, bare } => format!("{}|{}", &text[..bare], &text[bare..]),
                Tok::Open(c) | Tok::Close(c) => c.to_string(),
                Tok::End => ";".into(),
            })
            .collect()
    }

    #[test]
    fn words_brackets_and_ends() {
        assert_eq!(
            show("/ip firewall filter set [find where chain=input] comment=\"a b\"; print"),
            [
                "/ip",
                "firewall",
                "filter",
                "set",
                "[",
                "find",
                "where",
                "chain=input",
                "]",
                "comment=|a b",
                ";",
                "print"
            ]
        );
        assert_eq!(
            show("print where (protocol=tcp or !assured)"),
            ["print", "where", "(", "protocol=tcp", "or", "!assured", ")"]
        );
    }

    #[test]
    fn quotes_and_escapes_read_as_in_scripts() {
        assert_eq!(show(r#"x="a\"b\\c\41\_""#), [r#"x=|a"b\cA "#]);
        assert_eq!(show(r#"comment="a=b""#), ["comment=|a=b"]);
        assert_eq!(show(r#""""#), [""]);
    }

    #[test]
    fn columns_count_characters() {
        let toks = lex("set  é=1 x").expect("lexes");
        assert_eq!(toks[0].at, Column(1));
        assert_eq!(toks[1].at, Column(6));
        assert_eq!(toks[2].at, Column(10));
    }

    #[test]
    fn comments_only_where_a_command_starts() {
        assert_eq!(show("# nothing here"), Vec::<String>::new());
        assert_eq!(show("print; # rest"), ["print", ";"]);
        assert_eq!(show("add comment=#1"), ["add", "comment=#1"]);
    }

    #[test]
    fn broken_text_says_where() {
        assert_eq!(
            lex("set comment=\"open").unwrap_err(),
            ConsoleError::Syntax { at: Column(13) }
        );
        assert_eq!(
            lex(r#"x="\q""#).unwrap_err(),
            ConsoleError::Syntax { at: Column(4) }
        );
    }
}
