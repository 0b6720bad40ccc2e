//! "Did you mean …?" for every name a script can get wrong: menus, commands, arguments, values.
//!
//! Two kinds of slip are common in RouterOS names: typos (`udp-timeot`) and the right words in
//! the wrong order (`tcp-loose-tracking` for `loose-tcp-tracking`, the seed document's mistake).
//! Both are caught here, once, for all menus.

/// Levenshtein distance in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let cost = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(left)
            };
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = cost;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The same `-`-separated words, in any order.
fn same_words(a: &str, b: &str) -> bool {
    let mut wa: Vec<&str> = a.split('-').collect();
    let mut wb: Vec<&str> = b.split('-').collect();
    wa.sort_unstable();
    wb.sort_unstable();
    wa.len() > 1 && wa == wb
}

/// The candidate `word` most likely meant, if any is close enough to be a slip rather than a
/// different name: the same words reordered, or a small edit (at most 3, and at most half the
/// word, so `x` does not "mean" `add`). Ties go to the earlier candidate.
pub fn closest<S: AsRef<str>>(word: &str, candidates: impl IntoIterator<Item = S>) -> Option<S> {
    let limit = (word.chars().count() / 2).clamp(1, 3);
    let mut best: Option<(usize, S)> = None;
    for c in candidates {
        let name = c.as_ref();
        if name == word {
            continue;
        }
        let d = if same_words(word, name) {
            0
        } else {
            edit_distance(word, name)
        };
        if d <= limit && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("udp-timeot", "udp-timeout"), 1);
        assert_eq!(edit_distance("é", "e"), 1);
    }

    #[test]
    fn typos_and_reordered_words() {
        let names = ["loose-tcp-tracking", "udp-timeout", "udp-stream-timeout"];
        assert_eq!(closest("udp-timeot", names), Some("udp-timeout"));
        assert_eq!(
            closest("tcp-loose-tracking", names),
            Some("loose-tcp-tracking")
        );
        assert_eq!(closest("liberal-tcp-tracking", names), None);
        assert_eq!(closest("ad", ["add", "set", "remove"]), Some("add"));
        assert_eq!(closest("x", ["add", "set", "remove"]), None);
        assert_eq!(closest("add", ["add"]), None);
    }
}
