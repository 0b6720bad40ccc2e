//! Random inputs, two ways: byte-mutated real exports (the parser must never panic, and what
//! parses must print back to itself), and generated scripts (`parse(print(s)) == s.canonical()`
//! for both printers). Values are drawn to hit every quoting and wrapping rule: quotes,
//! backslashes, blanks, `$`, `?`, control characters, unicode, and lengths that force splits
//! inside names and quoted strings. Hand-rolled generator, fixed seeds: reproducible.

use super::*;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NAME_CHARS: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'f', 'l', 'n', 'o', 'r', 's', 't', 'x', '0', '1', '9', '-', '-',
];

/// Characters for values, weighted toward the ones with rules attached.
const VALUE_CHARS: &[char] = &[
    'a', 'b', 'z', 'A', 'Z', '0', '7', '.', ',', ':', '/', '-', '_', '*', '@', '=', '!', '#', '%',
    '\'', ' ', ' ', '"', '\\', '$', '?', ';', '[', ']', '{', '}', '(', ')', '\n', '\t', '\r',
    '\u{1}', '\u{7f}', 'é', 'ß', '日', '🙂', '\u{FEFF}',
];

const REAL_MENUS: &[&[&str]] = &[
    &["ip", "firewall", "filter"],
    &["ip", "firewall", "nat"],
    &["ip", "firewall", "connection", "tracking"],
    &["interface", "list", "member"],
    &["ip", "address"],
];

fn name(rng: &mut Rng) -> String {
    let len = if rng.chance(5) {
        60 + rng.below(60)
    } else {
        rng.below(14)
    };
    let mut s = String::from(*rng.pick(&['a', 'c', 'l', 's', 't']));
    for _ in 0..len {
        s.push(*rng.pick(NAME_CHARS));
    }
    s
}

fn menu(rng: &mut Rng) -> Vec<String> {
    if rng.chance(60) {
        return rng.pick(REAL_MENUS).iter().map(|s| s.to_string()).collect();
    }
    (0..1 + rng.below(4))
        .map(|_| {
            let n = name(rng);
            let n: String = n.chars().take(12).collect();
            let reserved = Verb::from_word(&n).is_some() || parser::OTHER_COMMANDS.contains(&&*n);
            if reserved {
                format!("m{n}")
            } else {
                n
            }
        })
        .collect()
}

fn value_text(rng: &mut Rng) -> String {
    let len = match rng.below(10) {
        0 => 0,
        1..=4 => 1 + rng.below(10),
        5..=7 => 10 + rng.below(50),
        _ => 60 + rng.below(200),
    };
    // Half the values are plain (bare), half spiced (quoted).
    let spiced = rng.chance(50);
    (0..len)
        .map(|_| {
            if spiced {
                *rng.pick(VALUE_CHARS)
            } else {
                *rng.pick(&VALUE_CHARS[..19])
            }
        })
        .collect()
}

fn arg(rng: &mut Rng) -> Arg {
    if rng.chance(12) {
        return Arg::unset(name(rng));
    }
    let mut a = Arg::new(name(rng), value_text(rng));
    if let Some(v) = &mut a.value {
        v.negated = rng.chance(20);
    }
    a
}

fn command(rng: &mut Rng, menu: Vec<String>) -> Command {
    let verb = *rng.pick(&Verb::ALL);
    let selector = match (verb, rng.below(3)) {
        (Verb::Add, _) | (_, 0) => None,
        (_, 1) => Some(Selector::Find(
            (0..rng.below(3)).map(|_| arg(rng)).collect(),
        )),
        _ => Some(Selector::Ids(
            (0..1 + rng.below(3))
                .map(|_| format!("*{:X}", rng.next() % 0x1_0000_0000))
                .collect(),
        )),
    };
    let mut cmd = Command::new(&[], verb);
    cmd.menu = menu;
    cmd.selector = selector;
    cmd.args = (0..rng.below(9)).map(|_| arg(rng)).collect();
    cmd
}

fn script(rng: &mut Rng) -> Script {
    let mut commands: Vec<Command> = Vec::new();
    for _ in 0..1 + rng.below(7) {
        let m = match commands.last() {
            Some(prev) if rng.chance(40) => prev.menu.clone(),
            _ => menu(rng),
        };
        commands.push(command(rng, m));
    }
    Script { commands }
}

fn assert_round_trip(s: &Script) {
    let _ = validate(s);
    let canonical = s.canonical();
    let printed = print(s);
    let reread = parse(&printed).unwrap_or_else(|e| panic!("{e:?}\n{printed}"));
    assert_eq!(reread.canonical(), canonical, "\n{printed}");
    assert_eq!(print(&reread), printed);
    for line in printed.lines() {
        // Under 80 columns, unless blanks inside a quoted string left no place to break.
        assert!(
            line.chars().count() < 80 || line.ends_with("  \\"),
            "{} columns: {line}",
            line.chars().count()
        );
        assert!(line.is_ascii(), "{line}");
    }
    let terse = print_terse(s);
    let reread = parse(&terse).unwrap_or_else(|e| panic!("{e:?}\n{terse}"));
    assert_eq!(reread.canonical(), canonical, "\n{terse}");
    assert_eq!(terse.lines().count(), s.commands.len());
}

#[test]
fn print_then_parse_is_identity_on_random_scripts() {
    for seed in 1..=600u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        assert_round_trip(&script(&mut rng));
    }
}

#[test]
fn the_awkward_values_one_by_one() {
    let awkward = [
        String::new(),
        "!".into(),
        "!LAN".into(),
        " ".repeat(120),
        format!("{}\\", "a".repeat(70)),
        format!("{} b", "a".repeat(72)),
        "\"quoted\" and \\back\\slashed\\".into(),
        "$HOME costs $5?".into(),
        "line1\r\nline2\ttab\u{7}bell".into(),
        "日本語のコメント🙂".repeat(4),
        "x".repeat(300),
        "=,=,=".into(),
        "#not a comment".into(),
    ];
    for text in awkward {
        for comment in [Arg::new("comment", &text), Arg::negated("comment", &text)] {
            let mut cmd = Command::new(&["ip", "firewall", "filter"], Verb::Add)
                .arg("chain", "input")
                .arg(&"long-name-".repeat(9), "v");
            cmd.args.push(comment);
            assert_round_trip(&Script {
                commands: vec![cmd],
            });
        }
    }
}

const FIXTURE: &str = include_str!("../../tests/fixtures/defconf-wrapped.rsc");

/// Bytes that matter to the grammar, so mutations reach the interesting paths.
const SPICE: &[u8] = b"\\\"\n\r\t ;{}[]=!*#$()/,:?_AF09\x00\xC3\xA9\xFF";

#[test]
fn no_input_makes_it_panic() {
    for end in 0..=FIXTURE.len() {
        if let Some(prefix) = FIXTURE.get(..end) {
            let _ = check(prefix);
        }
    }
    let mut rng = Rng(0x05EE_D0F5_7A7E_3A11);
    for _ in 0..3000 {
        let mut bytes = FIXTURE.as_bytes().to_vec();
        for _ in 0..=rng.below(8) {
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes.insert(at, SPICE[rng.below(SPICE.len())]),
                1 if !bytes.is_empty() => {
                    bytes.remove(at.min(bytes.len() - 1));
                }
                2 => {
                    if let Some(b) = bytes.get_mut(at) {
                        *b = SPICE[rng.below(SPICE.len())];
                    }
                }
                _ => {
                    let len = rng.below(40);
                    let from = rng.below(bytes.len());
                    let piece: Vec<u8> = bytes.iter().skip(from).take(len).copied().collect();
                    let at = at.min(bytes.len());
                    bytes.splice(at..at, piece);
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = check(&text);
        if let Ok(script) = parse(&text) {
            // Whatever parses must print and read back to itself.
            let printed = print(&script);
            assert_eq!(
                parse(&printed).map(|s| s.canonical()),
                Ok(script.canonical()),
                "{printed}"
            );
        }
    }
}
