//! Numbers as the dashboard shows them. One function a kind of number, so every screen writes
//! `1.2 MiB` and `3 450` the same way.

/// Bytes in binary units, as RouterOS's own tools print them: `512 B`, `1.5 KiB`, `2.0 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A count with thin spaces between thousands: `1 234 567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// A rate per second with SI prefixes: `0`, `12.5`, `3.4 k`, `1.2 M` (append the unit).
pub fn per_second(rate: f64) -> String {
    let (value, prefix) = if rate >= 1e9 {
        (rate / 1e9, " G")
    } else if rate >= 1e6 {
        (rate / 1e6, " M")
    } else if rate >= 1e3 {
        (rate / 1e3, " k")
    } else {
        (rate, "")
    };
    if value == 0.0 {
        "0".into()
    } else if value >= 100.0 || (prefix.is_empty() && value.fract() == 0.0) {
        format!("{value:.0}{prefix}")
    } else {
        format!("{value:.1}{prefix}")
    }
}

/// A byte rate as bits per second, as links are measured: `12.0 Mbit/s`.
pub fn bits_per_second(bytes_per_second: f64) -> String {
    format!("{}bit/s", with_space(per_second(bytes_per_second * 8.0)))
}

/// `3.4 k` + unit → `3.4 kunit`; `12` + unit → `12 unit`.
fn with_space(n: String) -> String {
    if n.ends_with(|c: char| c.is_ascii_digit()) {
        n + " "
    } else {
        n
    }
}

/// A share in percent of a whole: `37 %` (an empty whole is `0 %`).
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0 %".into();
    }
    format!("{:.0} %", part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn numbers_read_well() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(2 << 30), "2.0 GiB");
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(per_second(0.0), "0");
        assert_eq!(per_second(12.0), "12");
        assert_eq!(per_second(12.34), "12.3");
        assert_eq!(per_second(3_400.0), "3.4 k");
        assert_eq!(per_second(250_000.0), "250 k");
        assert_eq!(bits_per_second(1_500_000.0), "12.0 Mbit/s");
        assert_eq!(bits_per_second(1.0), "8 bit/s");
        assert_eq!(percent(1, 3), "33 %");
        assert_eq!(percent(5, 0), "0 %");
    }
}
