//! Quoting and backslash escapes, both directions, from one table so they cannot disagree.
//!
//! RouterOS reads `\"`, `\\`, `\n`, `\r`, `\t`, `\$`, `\?`, `\_` (space), `\a`, `\b`, `\f`, `\v`
//! and `\XX` (a byte in two *uppercase* hex digits, as the scripting manual requires; that is what
//! keeps `\ab` meaning BEL + `b`). Its exports write non-ASCII text as `\XX` bytes, which keeps
//! files ASCII and makes one character one column, so the 80-column wrapping is exact. The
//! printer does the same.

/// `(letter after the backslash, character it stands for, whether the printer writes it)`.
/// Entries the printer does not write are accepted on input only (they have another spelling).
const ESCAPES: &[(char, char, bool)] = &[
    ('"', '"', true),
    ('\\', '\\', true),
    ('n', '\n', true),
    ('r', '\r', true),
    ('t', '\t', true),
    ('$', '$', true),
    ('?', '?', true),
    ('_', ' ', false),
    ('a', '\x07', false),
    ('b', '\x08', false),
    ('f', '\x0C', false),
    ('v', '\x0B', false),
];

/// What `\c` stands for, when `c` names an escape.
pub fn named(c: char) -> Option<char> {
    ESCAPES.iter().find(|e| e.0 == c).map(|e| e.1)
}

/// The value of one hex digit of a `\XX` escape: `0-9` or `A-F`.
pub fn hex_digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' | 'A'..='F' => c.to_digit(16).and_then(|d| u8::try_from(d).ok()),
        _ => None,
    }
}

/// Characters that may stand bare in a value: everything else makes the printer quote it. The
/// lexer reads all of these as part of a bare word; `!` and `=` are safe except where they lead
/// (a leading `!` is negation), which [`needs_quotes`] checks.
fn bare_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.,:/+*@%=!#&^~|<>'".contains(c)
}

/// Whether `text` must be quoted to be read back as exactly `text`.
pub(crate) fn needs_quotes(text: &str) -> bool {
    text.is_empty() || text.starts_with('!') || !text.chars().all(bare_safe)
}

/// How one character is written inside quotes.
fn quoted_char(c: char, out: &mut String) {
    if let Some(e) = ESCAPES.iter().find(|e| e.1 == c && e.2) {
        out.push('\\');
        out.push(e.0);
    } else if c.is_ascii_control() || !c.is_ascii() {
        let mut buf = [0u8; 4];
        for b in c.encode_utf8(&mut buf).bytes() {
            out.push_str(&format!("\\{b:02X}"));
        }
    } else {
        out.push(c);
    }
}

/// A value as printed, cut into the pieces a line may be broken between: one per source
/// character, so an escape sequence or a multi-byte character is never split.
pub(crate) fn value_units(text: &str, negated: bool) -> Vec<String> {
    let mut units = Vec::with_capacity(text.len() + 3);
    if negated {
        units.push("!".to_string());
    }
    if needs_quotes(text) {
        units.push("\"".to_string());
        for c in text.chars() {
            let mut unit = String::new();
            quoted_char(c, &mut unit);
            units.push(unit);
        }
        units.push("\"".to_string());
    } else {
        units.extend(text.chars().map(String::from));
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(text: &str) -> String {
        value_units(text, false).concat()
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(printed("defconf"), "defconf");
        assert_eq!(printed("192.168.88.1/24"), "192.168.88.1/24");
        assert_eq!(printed("established,related"), "established,related");
        assert_eq!(printed("AA:BB:CC:DD:EE:FF"), "AA:BB:CC:DD:EE:FF");
        assert_eq!(printed("defconf: masquerade"), "\"defconf: masquerade\"");
        assert_eq!(printed(""), "\"\"");
        assert_eq!(printed("!LAN"), "\"!LAN\"");
        assert_eq!(value_units("LAN", true).concat(), "!LAN");
        assert_eq!(value_units("my list", true).concat(), "!\"my list\"");
    }

    #[test]
    fn escapes_like_routeros() {
        assert_eq!(printed("a\"b"), r#""a\"b""#);
        assert_eq!(printed("a\\b"), r#""a\\b""#);
        assert_eq!(printed("$x?"), r#""\$x\?""#);
        assert_eq!(printed("l1\r\nl2\t"), r#""l1\r\nl2\t""#);
        assert_eq!(printed("é"), r#""\C3\A9""#);
        assert_eq!(printed("\x01"), r#""\01""#);
        // One unit per character, so a line break never lands inside an escape.
        assert_eq!(value_units("é ", false), ["\"", "\\C3\\A9", " ", "\""]);
    }

    #[test]
    fn reads_every_escape_and_hex_is_uppercase() {
        assert_eq!(named('_'), Some(' '));
        assert_eq!(named('$'), Some('$'));
        assert_eq!(named('x'), None);
        assert_eq!(hex_digit('F'), Some(15));
        assert_eq!(hex_digit('f'), None);
    }
}
