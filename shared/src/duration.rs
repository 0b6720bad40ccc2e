//! RouterOS durations ("time" values): `10s`, `1d`, `2d20h12m20s`, `31s250ms`, `00:00:10`.
//!
//! Printing follows what RouterOS prints in `print`, `/export`, REST and the binary API alike:
//! largest units first, zero components left out, `0s` for nothing (routeros.md §3). Parsing takes
//! everything a RouterOS console takes for a time value: unit suffixes and their long aliases,
//! fractions (`0.1day`), a bare number as seconds, and clock form (`HH:MM:SS[.fff]`, optionally
//! after a day part as in `1d 00:00:00`).

use std::fmt;
use std::str::FromStr;

/// A RouterOS time value, with microsecond precision (the finest unit RouterOS prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    micros: u64,
}

const US: u64 = 1;
const MS: u64 = 1_000 * US;
const S: u64 = 1_000 * MS;
const M: u64 = 60 * S;
const H: u64 = 60 * M;
const D: u64 = 24 * H;
const W: u64 = 7 * D;

/// Units as printed, largest first.
const PRINT_UNITS: [(u64, &str); 7] = [
    (W, "w"),
    (D, "d"),
    (H, "h"),
    (M, "m"),
    (S, "s"),
    (MS, "ms"),
    (US, "us"),
];

/// Why a text is not a RouterOS duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty time value")]
    Empty,
    #[error("unknown time unit \"{0}\" (expected w, d, h, m, s, ms or us)")]
    UnknownUnit(String),
    #[error("\"{0}\" is not a number")]
    BadNumber(String),
    #[error("bad clock form \"{0}\" (expected HH:MM:SS)")]
    BadClock(String),
    #[error("time value too large")]
    Overflow,
}

impl Duration {
    pub const ZERO: Duration = Duration { micros: 0 };

    pub const fn from_secs(secs: u64) -> Self {
        Duration { micros: secs * S }
    }

    pub const fn from_millis(ms: u64) -> Self {
        Duration { micros: ms * MS }
    }

    pub const fn from_micros(micros: u64) -> Self {
        Duration { micros }
    }

    pub const fn as_micros(self) -> u64 {
        self.micros
    }

    pub const fn as_secs(self) -> u64 {
        self.micros / S
    }

    pub const fn as_nanos(self) -> u64 {
        self.micros.saturating_mul(1_000)
    }

    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_micros(self.micros)
    }

    /// Rounds down to whole microseconds.
    pub fn from_std(d: std::time::Duration) -> Self {
        Duration {
            micros: u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.micros == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.micros;
        for (unit, name) in PRINT_UNITS {
            if rest >= unit {
                write!(f, "{}{}", rest / unit, name)?;
                rest %= unit;
            }
        }
        Ok(())
    }
}

fn unit_value(unit: &str) -> Option<u64> {
    Some(match unit {
        "w" | "week" | "weeks" => W,
        "d" | "day" | "days" => D,
        "h" | "hour" | "hours" => H,
        "m" | "min" | "mins" => M,
        "" | "s" | "sec" | "secs" => S,
        "ms" => MS,
        "us" => US,
        _ => return None,
    })
}

/// `number * unit`, where number may have a fraction ("0.1" day).
fn scaled(number: &str, unit: u64) -> Result<u64, DurationError> {
    let bad = || DurationError::BadNumber(number.to_string());
    let (whole, frac) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| DurationError::Overflow)?
    };
    let mut total = whole.checked_mul(unit).ok_or(DurationError::Overflow)?;
    // Fraction digits beyond the unit's resolution are dropped, as a finer unit than 1us is not kept.
    let mut scale = unit;
    for digit in frac.bytes() {
        scale /= 10;
        if scale == 0 {
            break;
        }
        total = total
            .checked_add(u64::from(digit - b'0') * scale)
            .ok_or(DurationError::Overflow)?;
    }
    Ok(total)
}

/// `HH:MM:SS[.fff]` or `MM:SS`.
fn parse_clock(text: &str) -> Result<u64, DurationError> {
    let bad = || DurationError::BadClock(text.to_string());
    let parts: Vec<&str> = text.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (*h, *m, *s),
        [m, s] => ("0", *m, *s),
        _ => return Err(bad()),
    };
    if h.is_empty() || m.is_empty() || s.is_empty() || s.starts_with('.') {
        return Err(bad());
    }
    let h = scaled(h, H).map_err(|_| bad())?;
    let m = scaled(m, M).map_err(|_| bad())?;
    let s = scaled(s, S).map_err(|_| bad())?;
    h.checked_add(m)
        .and_then(|x| x.checked_add(s))
        .ok_or(DurationError::Overflow)
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DurationError::Empty);
        }
        let mut total: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            rest = rest.trim_start();
            // A clock part ends the value: `1d 00:00:10`, `00:00:10`.
            let token_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            if rest[..token_end].contains(':') {
                total = total
                    .checked_add(parse_clock(&rest[..token_end])?)
                    .ok_or(DurationError::Overflow)?;
                rest = &rest[token_end..];
                continue;
            }
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let number = &rest[..num_len];
            rest = &rest[num_len..];
            let unit_len = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            if number.is_empty() {
                return Err(if unit.is_empty() {
                    DurationError::BadNumber(rest.chars().take(8).collect())
                } else {
                    DurationError::BadNumber(unit.to_string())
                });
            }
            let unit = unit_value(unit).ok_or_else(|| DurationError::UnknownUnit(unit.into()))?;
            total = total
                .checked_add(scaled(number, unit)?)
                .ok_or(DurationError::Overflow)?;
        }
        Ok(Duration { micros: total })
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Duration {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn prints_like_routeros() {
        let cases = [
            (0, "0s"),
            (10 * S, "10s"),
            (3 * M, "3m"),
            (D, "1d"),
            (2 * D + 20 * H + 12 * M + 20 * S, "2d20h12m20s"),
            (W + 2 * D + 5 * H + 28 * M + 35 * S, "1w2d5h28m35s"),
            (4 * W + 22 * H + 3 * M, "4w22h3m"),
            (31 * S + 250 * MS, "31s250ms"),
            (453, "453us"),
            (14 * MS + 612, "14ms612us"),
        ];
        for (micros, text) in cases {
            assert_eq!(Duration::from_micros(micros).to_string(), text);
            assert_eq!(p(text), Duration::from_micros(micros), "{text}");
        }
    }

    #[test]
    fn parses_every_input_form() {
        assert_eq!(p("24h"), Duration::from_secs(86_400));
        assert_eq!(p("24h").to_string(), "1d");
        assert_eq!(p("300"), Duration::from_secs(300));
        assert_eq!(p("0.12"), Duration::from_millis(120));
        assert_eq!(p("300ms"), Duration::from_millis(300));
        assert_eq!(p("00:00:10"), Duration::from_secs(10));
        assert_eq!(p("9:00:00"), Duration::from_secs(9 * 3600));
        assert_eq!(p("1d 00:00:00"), Duration::from_secs(86_400));
        assert_eq!(p("2h45m"), Duration::from_secs(2 * 3600 + 45 * 60));
        assert_eq!(p("163w4d9h").to_string(), "163w4d9h");
        assert_eq!(p("0.1day"), Duration::from_secs(8640));
        assert_eq!(
            p("2d11h12"),
            Duration::from_secs(2 * 86_400 + 11 * 3600 + 12)
        );
        assert_eq!(p("1min"), Duration::from_secs(60));
        assert_eq!(p("1.5s"), Duration::from_millis(1500));
        assert_eq!(p("00:00:01.200"), Duration::from_millis(1200));
    }

    #[test]
    fn rejects_bad_values_with_a_reason() {
        assert_eq!("".parse::<Duration>(), Err(DurationError::Empty));
        assert_eq!(
            "10x".parse::<Duration>(),
            Err(DurationError::UnknownUnit("x".into()))
        );
        assert!(matches!(
            "s".parse::<Duration>(),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            "1.2.3s".parse::<Duration>(),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            "1:2:3:4".parse::<Duration>(),
            Err(DurationError::BadClock(_))
        ));
        assert!(matches!(
            "-5s".parse::<Duration>(),
            Err(DurationError::BadNumber(_))
        ));
        assert_eq!(
            "99999999999999999999w".parse::<Duration>(),
            Err(DurationError::Overflow)
        );
    }

    #[test]
    fn serde_uses_the_text_form() {
        let json = serde_json::to_string(&Duration::from_secs(600)).unwrap();
        assert_eq!(json, "\"10m\"");
        let back: Duration = serde_json::from_str("\"1d\"").unwrap();
        assert_eq!(back, Duration::from_secs(86_400));
    }
}
