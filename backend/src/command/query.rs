//! `print`'s query: RouterOS's API query words, a small stack machine (MikroTik's API manual,
//! "Queries"; routeros.md §5), parsed and checked once, then run on each item.
//!
//! - `name=value` (also written `=name=value`) pushes whether the item's `name` is `value`
//!   (`yes`/`true` and `no`/`false` are the same value); `name` whether it has `name`; `-name`
//!   whether it lacks it; `<name=value` / `>name=value` compare (as integers when both are, else
//!   as text);
//! - `#ops` works on the stack, one character at a time: `!` negates the top, `&` and `|` pop two
//!   and push their and/or, `.` pushes a copy of the top, a digit pushes a copy of that position
//!   (0 is the bottom);
//! - an item is chosen when every value left on the stack is true (an empty query chooses all).
//!
//! Each word may carry the binary API's leading `?`; REST's `.query` sends them without it. A
//! query that would pop an empty stack is refused when parsed, not when run.

use super::{CommandError, Row};
use shared::config::edit::same_value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Word {
    Has(String),
    Lacks(String),
    Equal(String, String),
    Less(String, String),
    More(String, String),
    Ops(Vec<Op>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Not,
    And,
    Or,
    Dup,
    Copy(usize),
}

/// A checked query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    words: Vec<Word>,
}

fn bad(word: &str) -> CommandError {
    CommandError::Invalid(format!("invalid query word {word}"))
}

impl Query {
    /// Parses query words (with or without their leading `?`).
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Query, CommandError> {
        let mut out = Vec::with_capacity(words.len());
        let mut depth = 0usize;
        for raw in words {
            let raw = raw.as_ref();
            let w = raw.strip_prefix('?').unwrap_or(raw);
            let word = if let Some(ops) = w.strip_prefix('#') {
                let mut parsed = Vec::with_capacity(ops.len());
                for c in ops.chars() {
                    let (op, needs, grows) = match c {
                        '!' => (Op::Not, 1, true),
                        '&' => (Op::And, 2, false),
                        '|' => (Op::Or, 2, false),
                        '.' => (Op::Dup, 1, true),
                        d if d.is_ascii_digit() => {
                            let i = d.to_digit(10).unwrap_or(0) as usize;
                            (Op::Copy(i), i + 1, true)
                        }
                        _ => return Err(bad(raw)),
                    };
                    if depth < needs {
                        return Err(bad(raw));
                    }
                    match op {
                        Op::Not => {}
                        Op::And | Op::Or => depth -= 1,
                        _ if grows => depth += 1,
                        _ => {}
                    }
                    parsed.push(op);
                }
                Word::Ops(parsed)
            } else {
                depth += 1;
                let pair = |s: &str| {
                    s.split_once('=')
                        .filter(|(name, _)| !name.is_empty())
                        .map(|(n, v)| (n.to_string(), v.to_string()))
                        .ok_or_else(|| bad(raw))
                };
                if let Some(rest) = w.strip_prefix('<') {
                    let (n, v) = pair(rest)?;
                    Word::Less(n, v)
                } else if let Some(rest) = w.strip_prefix('>') {
                    let (n, v) = pair(rest)?;
                    Word::More(n, v)
                } else if let Some(name) = w.strip_prefix('-') {
                    if name.is_empty() {
                        return Err(bad(raw));
                    }
                    Word::Lacks(name.to_string())
                } else if let Some(rest) = w.strip_prefix('=') {
                    let (n, v) = pair(rest)?;
                    Word::Equal(n, v)
                } else if w.contains('=') {
                    let (n, v) = pair(w)?;
                    Word::Equal(n, v)
                } else if w.is_empty() {
                    return Err(bad(raw));
                } else {
                    Word::Has(w.to_string())
                }
            };
            out.push(word);
        }
        Ok(Query { words: out })
    }

    /// Items whose properties equal every pair (REST's `GET …?name=value`).
    pub fn equal(pairs: Vec<(String, String)>) -> Query {
        Query {
            words: pairs.into_iter().map(|(n, v)| Word::Equal(n, v)).collect(),
        }
    }

    /// The item whose `.id` is `id` (as RouterOS writes ids, `*1A`).
    pub fn id(id: &str) -> Query {
        Query::equal(vec![(".id".into(), id.into())])
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether the item passes. Cost: one step per word and operation.
    pub fn matches(&self, row: &Row) -> bool {
        let mut stack: Vec<bool> = Vec::with_capacity(self.words.len());
        for word in &self.words {
            let v = match word {
                Word::Has(n) => row.get(n).is_some(),
                Word::Lacks(n) => row.get(n).is_none(),
                Word::Equal(n, v) => row.get(n).is_some_and(|have| same_value(have, v)),
                Word::Less(n, v) => row.get(n).is_some_and(|have| less(have, v)),
                Word::More(n, v) => row.get(n).is_some_and(|have| less(v, have)),
                Word::Ops(ops) => {
                    for op in ops {
                        // Depths were checked by `parse`; a short stack cannot happen here.
                        let top = stack.pop().unwrap_or(false);
                        match op {
                            Op::Not => stack.push(!top),
                            Op::And | Op::Or => {
                                let below = stack.pop().unwrap_or(false);
                                stack.push(if *op == Op::And {
                                    below && top
                                } else {
                                    below || top
                                });
                            }
                            Op::Dup => stack.extend([top, top]),
                            Op::Copy(i) => {
                                stack.push(top);
                                let v = stack.get(*i).copied().unwrap_or(false);
                                stack.push(v);
                            }
                        }
                    }
                    continue;
                }
            };
            stack.push(v);
        }
        stack.into_iter().all(|b| b)
    }
}

fn less(a: &str, b: &str) -> bool {
    match (a.parse::<i128>(), b.parse::<i128>()) {
        (Ok(x), Ok(y)) => x < y,
        _ => a < b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> Row {
        Row(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    fn q(r: &Row, words: &[&str]) -> bool {
        Query::parse(words).unwrap().matches(r)
    }

    #[test]
    fn query_words_and_stack_operations() {
        let ether = row(&[
            (".id", "*1"),
            ("type", "ether"),
            ("mtu", "1500"),
            ("running", "true"),
        ]);
        let vlan = row(&[(".id", "*2"), ("type", "vlan"), ("mtu", "900")]);
        assert!(q(&ether, &[]));
        assert!(q(&ether, &["type=ether"]) && !q(&vlan, &["type=ether"]));
        // MikroTik's example: ethernet or vlan interfaces.
        assert!(q(&vlan, &["?type=ether", "?type=vlan", "?#|"]));
        assert!(!q(&vlan, &["type=ether", "type=vlan", "#|!"]));
        // librouteros's form, and yes/true as one value.
        assert!(q(&ether, &["?=type=ether", "?=running=yes"]));
        assert!(q(&ether, &["running"]) && !q(&vlan, &["running"]));
        assert!(q(&vlan, &["-running"]) && !q(&ether, &["?-running"]));
        assert!(q(&vlan, &["?<mtu=1000"]) && !q(&ether, &["?<mtu=1000"]));
        assert!(q(&ether, &["?>mtu=1000"]) && !q(&ether, &["?>mtu=1500"]));
        // librouteros's `!=`: equal, then negate.
        assert!(q(&vlan, &["?=type=ether", "?#!"]));
        assert!(q(&ether, &["type=ether", "#.&"]));
        // false then true pushed; #1 copies position 1: the false at the bottom stays.
        assert!(!q(&ether, &["type=vlan", "type=ether", "#1"]));
        assert!(q(&ether, &["type=ether", "#0&"]));
        // A value with '=' in it.
        let c = row(&[("comment", "a=b")]);
        assert!(q(&c, &["?=comment=a=b"]));
    }

    #[test]
    fn bad_queries_are_refused_when_parsed() {
        for bad in [
            &["#|"][..],
            &["type=x", "#&"],
            &["#!"],
            &["#x"],
            &[""],
            &["?"],
            &["-"],
            &["<mtu"],
            &["=x"],
            &["x", "#1"],
        ] {
            let err = Query::parse(bad).unwrap_err();
            assert!(
                err.to_string().starts_with("invalid query word"),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn equality_pairs_and_ids() {
        let r = row(&[(".id", "*A"), ("name", "ether1"), ("disabled", "false")]);
        assert!(Query::equal(vec![("disabled".into(), "no".into())]).matches(&r));
        assert!(!Query::equal(vec![("nope".into(), "x".into())]).matches(&r));
        assert!(Query::id("*A").matches(&r) && !Query::id("*B").matches(&r));
    }
}
