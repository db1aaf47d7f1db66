//! Plain scalars typed the way PyYAML's SafeLoader types them (YAML 1.1):
//! the implicit resolvers' regexes, and the int, float and timestamp
//! constructors (Python ints are unbounded, so other bases are converted to
//! decimal at any size).

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use super::{PyDateTime, PyValue};

static BOOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
        .expect("static regex")
});
static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?",
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
        r"|[-+]?\.(?:inf|Inf|INF)",
        r"|\.(?:nan|NaN|NAN))$"
    ))
    .expect("static regex")
});
static INT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?0b[0-1_]+",
        r"|[-+]?0[0-7_]+",
        r"|[-+]?(?:0|[1-9][0-9_]*)",
        r"|[-+]?0x[0-9a-fA-F_]+",
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
    ))
    .expect("static regex")
});
static NULL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(?:~|null|Null|NULL|)$").expect("static regex"));
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:(?P<date>[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9])",
        r"|(?P<y>[0-9][0-9][0-9][0-9])-(?P<mo>[0-9][0-9]?)-(?P<d>[0-9][0-9]?)",
        r"(?:[Tt]|[ \t]+)(?P<h>[0-9][0-9]?):(?P<mi>[0-9][0-9]):(?P<s>[0-9][0-9])(?:\.(?P<f>[0-9]*))?",
        r"(?:[ \t]*(?P<tz>Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"
    ))
    .expect("static regex")
});

/// Resolve a plain scalar the way PyYAML's SafeLoader does.
pub fn resolve_plain(text: &str) -> PyValue {
    if NULL.is_match(text) {
        return PyValue::None;
    }
    if BOOL.is_match(text) {
        return PyValue::Bool(
            matches!(text.chars().next(), Some('y' | 'Y' | 't' | 'T')) || text.eq_ignore_ascii_case("on"),
        );
    }
    if INT.is_match(text)
        && let Some(i) = construct_int(text)
    {
        return PyValue::Int(i);
    }
    if FLOAT.is_match(text) {
        return PyValue::Float(construct_float(text));
    }
    if let Some(c) = TIMESTAMP.captures(text) {
        if let Some(date) = c.name("date") {
            let parts: Vec<&str> = date.as_str().split('-').collect();
            if let (Ok(y), Ok(m), Ok(d)) = (parts[0].parse(), parts[1].parse(), parts[2].parse()) {
                return PyValue::Date { y, m, d };
            }
        } else {
            return datetime(&c);
        }
    }
    PyValue::Str(text.to_owned())
}

fn datetime(c: &regex::Captures<'_>) -> PyValue {
    let num = |n: &str| c.name(n).and_then(|m| m.as_str().parse::<u32>().ok()).unwrap_or(0);
    let us = c.name("f").map_or(0, |f| {
        let mut frac: String = f.as_str().chars().take(6).collect();
        while frac.len() < 6 {
            frac.push('0');
        }
        frac.parse().unwrap_or(0)
    });
    let tz = c.name("tz").map(|tz| {
        let tz = tz.as_str();
        if tz == "Z" {
            return 0;
        }
        let (sign, rest) = tz.split_at(1);
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let secs = h.parse::<i32>().unwrap_or(0) * 3600 + m.parse::<i32>().unwrap_or(0) * 60;
        if sign == "-" { -secs } else { secs }
    });
    PyValue::DateTime(PyDateTime {
        y: c.name("y").and_then(|m| m.as_str().parse().ok()).unwrap_or(0),
        mo: num("mo"),
        d: num("d"),
        h: num("h"),
        mi: num("mi"),
        s: num("s"),
        us,
        tz,
    })
}

/// Digits in `radix` as a decimal string, at any size (Python ints are unbounded).
fn radix_to_decimal(digits: &str, radix: u32) -> Option<String> {
    const BASE: u64 = 1_000_000_000;
    // Little-endian limbs of 9 decimal digits.
    let mut limbs: Vec<u64> = vec![0];
    for ch in digits.chars() {
        let mut carry = u64::from(ch.to_digit(radix)?);
        for limb in &mut limbs {
            let v = *limb * u64::from(radix) + carry;
            *limb = v % BASE;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
    }
    let mut out = limbs.last().map(ToString::to_string).unwrap_or_default();
    for limb in limbs.iter().rev().skip(1) {
        let _ = write!(out, "{limb:09}");
    }
    Some(out)
}

pub(super) fn construct_int(text: &str) -> Option<String> {
    let v = text.replace('_', "");
    let (neg, body) = match v.as_bytes().first()? {
        b'-' => (true, &v[1..]),
        b'+' => (false, &v[1..]),
        _ => (false, v.as_str()),
    };
    let magnitude: String = if body == "0" {
        "0".into()
    } else if let Some(b) = body.strip_prefix("0b") {
        radix_to_decimal(b, 2)?
    } else if let Some(h) = body.strip_prefix("0x") {
        radix_to_decimal(h, 16)?
    } else if body.starts_with('0') {
        radix_to_decimal(body, 8)?
    } else if body.contains(':') {
        let mut total: i128 = 0;
        for part in body.split(':') {
            total = total.checked_mul(60)?.checked_add(part.parse::<i128>().ok()?)?;
        }
        total.to_string()
    } else {
        body.to_owned()
    };
    if neg && magnitude != "0" { Some(format!("-{magnitude}")) } else { Some(magnitude) }
}

pub(super) fn construct_float(text: &str) -> f64 {
    let v = text.replace('_', "").to_ascii_lowercase();
    let (sign, body) = match v.as_bytes().first() {
        Some(b'-') => (-1.0, &v[1..]),
        Some(b'+') => (1.0, &v[1..]),
        _ => (1.0, v.as_str()),
    };
    if body == ".inf" {
        return sign * f64::INFINITY;
    }
    if body == ".nan" {
        return f64::NAN;
    }
    if body.contains(':') {
        let mut total = 0.0;
        for part in body.split(':') {
            total = total * 60.0 + part.parse::<f64>().unwrap_or(0.0);
        }
        return sign * total;
    }
    let body = if body.ends_with('.') { format!("{body}0") } else { body.to_owned() };
    let body = if body.starts_with('.') { format!("0{body}") } else { body };
    sign * body.parse::<f64>().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_scalars() {
        assert_eq!(resolve_plain("yes"), PyValue::Bool(true));
        assert_eq!(resolve_plain("Off"), PyValue::Bool(false));
        assert_eq!(resolve_plain("017"), PyValue::Int("15".into()));
        assert_eq!(resolve_plain("0x1F"), PyValue::Int("31".into()));
        assert_eq!(resolve_plain("1_000"), PyValue::Int("1000".into()));
        assert_eq!(resolve_plain("1:30"), PyValue::Int("90".into()));
        assert_eq!(resolve_plain("-0"), PyValue::Int("0".into()));
        assert_eq!(resolve_plain("1e5"), PyValue::Str("1e5".into()));
        assert_eq!(resolve_plain("1.0e+5"), PyValue::Float(100_000.0));
        assert_eq!(resolve_plain("1."), PyValue::Float(1.0));
        assert_eq!(resolve_plain(".5"), PyValue::Float(0.5));
        assert_eq!(resolve_plain("~"), PyValue::None);
        assert_eq!(resolve_plain("2024-01-05"), PyValue::Date { y: 2024, m: 1, d: 5 });
        assert_eq!(resolve_plain("os.environ/KEY"), PyValue::Str("os.environ/KEY".into()));
        assert_eq!(resolve_plain("12345678901234567890123"), PyValue::Int("12345678901234567890123".into()));
    }

    #[test]
    fn datetime_fields() {
        let dt = |h, mi, s, us, tz| PyValue::DateTime(PyDateTime { y: 2024, mo: 1, d: 5, h, mi, s, us, tz });
        assert_eq!(resolve_plain("2024-1-5 10:03:04.5Z"), dt(10, 3, 4, 500_000, Some(0)));
        assert_eq!(resolve_plain("2024-01-05 10:03:04 -02:30"), dt(10, 3, 4, 0, Some(-9000)));
        assert_eq!(resolve_plain("2024-01-05t10:03:04.1234567"), dt(10, 3, 4, 123_456, None));
    }

    #[test]
    fn big_ints_in_any_base() {
        // Python: int('FF'*18, 16), int('7'*45, 8), int('1'*70, 2)
        assert_eq!(
            resolve_plain("0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
            PyValue::Int("22300745198530623141535718272648361505980415".into())
        );
        assert_eq!(
            resolve_plain("-0777777777777777777777777777777777777777777777"),
            PyValue::Int("-43556142965880123323311949751266331066367".into())
        );
        assert_eq!(
            resolve_plain("0b1111111111111111111111111111111111111111111111111111111111111111111111"),
            PyValue::Int("1180591620717411303423".into())
        );
        assert_eq!(resolve_plain("0x0"), PyValue::Int("0".into()));
    }
}
