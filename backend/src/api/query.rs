//! Choosing and shaping printed items, as RouterOS's `print` does over its APIs: equality
//! filters (`?type=ether`), `.proplist`, and `.query`'s stack of query words (routeros.md §5):
//!
//! - `name=value` pushes whether the item's `name` is `value`; `name` whether it has `name`;
//!   `-name` whether it lacks it; `name<value` / `name>value` compare (as numbers when both are);
//! - `#ops` works on the stack: `!` negates the top, `&` and `|` combine the top two, `.` pushes a
//!   copy of the top, a digit pushes a copy of that position (0 is the bottom);
//! - the item is chosen when every value left on the stack is true (an empty query chooses all).
//!
//! A leading `?` (the binary API's form) is accepted, and so is `=name=value`.

use super::error::ApiError;
use serde_json::{Map, Value};
use shared::config::edit::same_value as same;

/// One printed item: property → string, `.id` included.
pub type Obj = Map<String, Value>;

fn prop<'a>(obj: &'a Obj, name: &str) -> Option<&'a str> {
    obj.get(name).and_then(Value::as_str)
}

/// Whether the item equals every `name=value` filter.
pub fn matches(obj: &Obj, filters: &[(String, String)]) -> bool {
    filters
        .iter()
        .all(|(k, v)| prop(obj, k).is_some_and(|have| same(have, v)))
}

/// Only the properties listed (in the item's order); `keep_id` keeps `.id` too, as a GET of a
/// list always does.
pub fn proplist(obj: Obj, names: &[String], keep_id: bool) -> Obj {
    obj.into_iter()
        .filter(|(k, _)| names.iter().any(|n| n == k) || (keep_id && k == ".id"))
        .collect()
}

/// Whether the item passes the query words (see the module docs).
pub fn query(obj: &Obj, words: &[String]) -> Result<bool, ApiError> {
    let mut stack: Vec<bool> = Vec::new();
    let bad = |w: &str| ApiError::bad_request(format!("invalid query word {w}"));
    for word in words {
        let w = word.strip_prefix('?').unwrap_or(word);
        if let Some(ops) = w.strip_prefix('#') {
            for op in ops.chars() {
                match op {
                    '!' => {
                        let top = stack.pop().ok_or_else(|| bad(word))?;
                        stack.push(!top);
                    }
                    '&' | '|' => {
                        let (b, a) = (
                            stack.pop().ok_or_else(|| bad(word))?,
                            stack.pop().ok_or_else(|| bad(word))?,
                        );
                        stack.push(if op == '&' { a && b } else { a || b });
                    }
                    '.' => {
                        let top = *stack.last().ok_or_else(|| bad(word))?;
                        stack.push(top);
                    }
                    d if d.is_ascii_digit() => {
                        let i = d.to_digit(10).unwrap_or(0) as usize;
                        let v = *stack.get(i).ok_or_else(|| bad(word))?;
                        stack.push(v);
                    }
                    _ => return Err(bad(word)),
                }
            }
            continue;
        }
        let w = w.strip_prefix('=').unwrap_or(w);
        let result = if let Some(name) = w.strip_prefix('-') {
            prop(obj, name).is_none()
        } else if let Some((name, value)) = w.split_once('=') {
            prop(obj, name).is_some_and(|have| same(have, value))
        } else if let Some((name, value)) = w.split_once('<') {
            prop(obj, name).is_some_and(|have| less(have, value))
        } else if let Some((name, value)) = w.split_once('>') {
            prop(obj, name).is_some_and(|have| less(value, have))
        } else if w.is_empty() {
            return Err(bad(word));
        } else {
            prop(obj, w).is_some()
        };
        stack.push(result);
    }
    Ok(stack.into_iter().all(|b| b))
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
    use serde_json::json;

    fn obj(v: Value) -> Obj {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn q(o: &Obj, words: &[&str]) -> bool {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        query(o, &words).unwrap()
    }

    #[test]
    fn query_words_and_stack_operations() {
        let ether = obj(json!({".id": "*1", "type": "ether", "mtu": "1500", "running": "true"}));
        let vlan = obj(json!({".id": "*2", "type": "vlan", "mtu": "900"}));
        assert!(q(&ether, &[]));
        assert!(q(&ether, &["type=ether"]));
        assert!(!q(&vlan, &["type=ether"]));
        assert!(q(&vlan, &["type=ether", "type=vlan", "#|"]));
        assert!(!q(&vlan, &["type=ether", "type=vlan", "#|!"]));
        assert!(q(&ether, &["?=type=ether", "running=yes"]));
        assert!(q(&ether, &["running"]) && !q(&vlan, &["running"]));
        assert!(q(&vlan, &["-running"]));
        assert!(q(&vlan, &["mtu<1000"]) && !q(&ether, &["mtu<1000"]));
        assert!(q(&ether, &["mtu>1000"]));
        assert!(q(&ether, &["type=ether", "#.&"]));
        assert!(!q(&ether, &["type=vlan", "type=ether", "#1"]));
        assert!(q(&ether, &["type=ether", "#0&"]));
        for bad in [&["#|"][..], &["#x"], &[""]] {
            let words: Vec<String> = bad.iter().map(|w| w.to_string()).collect();
            assert!(query(&ether, &words).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn filters_and_proplist() {
        let o = obj(json!({".id": "*1", "name": "ether1", "mtu": "1500", "disabled": "false"}));
        assert!(matches(&o, &[("disabled".into(), "no".into())]));
        assert!(!matches(&o, &[("name".into(), "ether2".into())]));
        assert!(!matches(&o, &[("nope".into(), "x".into())]));
        let names = vec!["mtu".to_string()];
        assert_eq!(
            Value::Object(proplist(o.clone(), &names, true)),
            json!({".id": "*1", "mtu": "1500"})
        );
        assert_eq!(
            Value::Object(proplist(o, &names, false)),
            json!({"mtu": "1500"})
        );
    }
}
