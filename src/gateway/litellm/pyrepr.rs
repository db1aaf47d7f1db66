//! Python's `str()`, `repr()` and `json.dumps()` of the values PyYAML builds,
//! byte for byte, because LiteLLM hashes those strings into deployment ids.

use super::pyyaml::{Node, PyDateTime, PyValue};
use std::fmt::Write as _;

/// `repr(float)`: the shortest round-trip digits, fixed notation for decimal
/// exponents in [-4, 16), scientific (`1e-05`, `1e+16`) outside.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    let sci = format!("{:e}", x.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let decpt = exp + 1;
    let sign = if x < 0.0 { "-" } else { "" };
    let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let body = if !(-3..=16).contains(&decpt) {
        let (first, rest) = digits.split_at(1);
        let mut m = first.to_owned();
        if !rest.is_empty() {
            m.push('.');
            m.push_str(rest);
        }
        let e = decpt - 1;
        format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat(decpt.unsigned_abs() as usize))
    } else if decpt < n {
        let (a, b) = digits.split_at(usize::try_from(decpt).unwrap_or(0));
        format!("{a}.{b}")
    } else {
        format!("{digits}{}.0", "0".repeat(usize::try_from(decpt - n).unwrap_or(0)))
    };
    format!("{sign}{body}")
}

/// `str(value)` as used for non-string, non-dict params.
pub fn py_str(v: &PyValue) -> String {
    match v {
        PyValue::Str(s) => s.clone(),
        PyValue::Date { y, m, d } => format!("{y:04}-{m:02}-{d:02}"),
        PyValue::DateTime(dt) => datetime_str(dt),
        other => py_repr(other),
    }
}

/// `repr(value)`.
pub fn py_repr(v: &PyValue) -> String {
    let mut out = String::new();
    write_repr(&mut out, v);
    out
}

fn write_repr(out: &mut String, v: &PyValue) {
    match v {
        PyValue::None => out.push_str("None"),
        PyValue::Bool(true) => out.push_str("True"),
        PyValue::Bool(false) => out.push_str("False"),
        PyValue::Int(i) => out.push_str(i),
        PyValue::Float(f) => out.push_str(&float_repr(*f)),
        PyValue::Str(s) => write_str_repr(out, s),
        PyValue::Date { y, m, d } => {
            let _ = write!(out, "datetime.date({y}, {m}, {d})");
        }
        PyValue::DateTime(dt) => out.push_str(&datetime_repr(dt)),
        PyValue::List(items) => {
            out.push('[');
            for (i, n) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, &n.value);
            }
            out.push(']');
        }
        PyValue::Dict(items) => {
            out.push('{');
            for (i, (k, n)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, k);
                out.push_str(": ");
                write_repr(out, &n.value);
            }
            out.push('}');
        }
    }
}

/// `str(datetime)`: `2024-01-05 10:03:04[.500000][+02:00]`.
pub fn datetime_str(dt: &PyDateTime) -> String {
    let mut out = format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", dt.y, dt.mo, dt.d, dt.h, dt.mi, dt.s);
    if dt.us != 0 {
        let _ = write!(out, ".{:06}", dt.us);
    }
    if let Some(tz) = dt.tz {
        let sign = if tz < 0 { '-' } else { '+' };
        let a = tz.unsigned_abs();
        let _ = write!(out, "{sign}{:02}:{:02}", a / 3600, a % 3600 / 60);
        if a % 60 != 0 {
            let _ = write!(out, ":{:02}", a % 60);
        }
    }
    out
}

/// `repr(datetime)`: `datetime.datetime(2024, 1, 5, 10, 3, 4, 500000, tzinfo=…)`,
/// dropping a zero microsecond, then a zero second.
pub fn datetime_repr(dt: &PyDateTime) -> String {
    let mut out = format!("datetime.datetime({}, {}, {}, {}, {}", dt.y, dt.mo, dt.d, dt.h, dt.mi);
    if dt.us != 0 {
        let _ = write!(out, ", {}, {}", dt.s, dt.us);
    } else if dt.s != 0 {
        let _ = write!(out, ", {}", dt.s);
    }
    match dt.tz {
        None => {}
        Some(0) => out.push_str(", tzinfo=datetime.timezone.utc"),
        Some(tz) => {
            // timedelta normalises to days (may be negative) and 0 <= seconds < 86400.
            let days = tz.div_euclid(86_400);
            let secs = tz.rem_euclid(86_400);
            let delta = match (days, secs) {
                (0, s) => format!("seconds={s}"),
                (d, 0) => format!("days={d}"),
                (d, s) => format!("days={d}, seconds={s}"),
            };
            let _ = write!(out, ", tzinfo=datetime.timezone(datetime.timedelta({delta}))");
        }
    }
    out.push(')');
    out
}
/// Characters Python's `str.isprintable` rejects besides controls and
/// white space: every format character (category Cf, Unicode 15), the
/// private-use areas (Co) and the noncharacters. `repr` escapes them.
/// (Unassigned code points are not printable either; which ones are
/// unassigned depends on the Python version, so they are not listed.)
const NOT_PRINTABLE: &[(char, char)] = &[
    ('\u{ad}', '\u{ad}'),
    ('\u{600}', '\u{605}'),
    ('\u{61c}', '\u{61c}'),
    ('\u{6dd}', '\u{6dd}'),
    ('\u{70f}', '\u{70f}'),
    ('\u{890}', '\u{891}'),
    ('\u{8e2}', '\u{8e2}'),
    ('\u{180e}', '\u{180e}'),
    ('\u{200b}', '\u{200f}'),
    ('\u{2028}', '\u{202e}'),
    ('\u{2060}', '\u{206f}'),
    ('\u{e000}', '\u{f8ff}'),
    ('\u{fdd0}', '\u{fdef}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{fff9}', '\u{fffb}'),
    ('\u{110bd}', '\u{110bd}'),
    ('\u{110cd}', '\u{110cd}'),
    ('\u{13430}', '\u{1343f}'),
    ('\u{1bca0}', '\u{1bca3}'),
    ('\u{1d173}', '\u{1d17a}'),
    ('\u{e0001}', '\u{e0001}'),
    ('\u{e0020}', '\u{e007f}'),
    ('\u{f0000}', '\u{10ffff}'),
];

fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let noncharacter = u32::from(c) & 0xfffe == 0xfffe;
    !(c.is_control()
        || c.is_whitespace()
        || noncharacter
        || NOT_PRINTABLE.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)))
}

fn write_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let cp = c as u32;
                if cp < 0x100 {
                    let _ = write!(out, "\\x{cp:02x}");
                } else if cp < 0x10000 {
                    let _ = write!(out, "\\u{cp:04x}");
                } else {
                    let _ = write!(out, "\\U{cp:08x}");
                }
            }
        }
    }
    out.push(quote);
}

/// `json.dumps(value, default=…)` with Python's default separators and `ensure_ascii`.
/// Objects JSON cannot encode (dates) become `"module.Qualname"`, as LiteLLM's
/// `_json_default_stable_id` makes them.
pub fn json_dumps(v: &PyValue) -> String {
    let mut out = String::new();
    write_json(&mut out, v);
    out
}

fn write_json(out: &mut String, v: &PyValue) {
    match v {
        PyValue::None => out.push_str("null"),
        PyValue::Bool(true) => out.push_str("true"),
        PyValue::Bool(false) => out.push_str("false"),
        PyValue::Int(i) => out.push_str(i),
        PyValue::Float(f) => out.push_str(&json_float(*f)),
        PyValue::Str(s) => write_json_str(out, s),
        PyValue::Date { .. } => write_json_str(out, "datetime.date"),
        PyValue::DateTime(_) => write_json_str(out, "datetime.datetime"),
        PyValue::List(items) => {
            out.push('[');
            for (i, n) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(out, &n.value);
            }
            out.push(']');
        }
        PyValue::Dict(items) => {
            out.push('{');
            for (i, (k, n)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let key = match k {
                    PyValue::Str(s) => s.clone(),
                    PyValue::Bool(b) => if *b { "true" } else { "false" }.to_owned(),
                    PyValue::None => "null".to_owned(),
                    PyValue::Float(f) => json_float(*f),
                    other => py_str(other),
                };
                write_json_str(out, &key);
                out.push_str(": ");
                write_json(out, &n.value);
            }
            out.push('}');
        }
    }
}

fn json_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        float_repr(f)
    }
}

fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The piece LiteLLM's `generate_model_id` appends for one value.
pub fn id_part(v: &PyValue) -> String {
    match v {
        PyValue::Str(s) => s.clone(),
        PyValue::Dict(_) => json_dumps(v),
        other => py_str(other),
    }
}

/// Convenience for tests and callers holding nodes.
pub fn node_id_part(n: &Node) -> String {
    id_part(&n.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::litellm::pyyaml::load;

    #[test]
    fn float_repr_matches_python() {
        for (x, want) in [
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (2.5e-06, "2.5e-06"),
            (-0.0, "-0.0"),
            (123_456_789.123, "123456789.123"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (1.5, "1.5"),
            (3.000_000_000_000_000_4e-5, "3.0000000000000004e-05"),
        ] {
            assert_eq!(float_repr(x), want, "{x}");
        }
    }

    #[test]
    fn datetime_forms_match_python() {
        // Python: yaml.safe_load(...) then str() / repr() of each.
        let n = load("[2024-01-05 10:03:04, 2024-01-05T10:03:04.5Z, 2024-01-05 10:03:04 +02:00, 2024-01-05 10:03:00 -02:30, 2024-01-05 10:00:00.000001]").unwrap();
        assert_eq!(
            py_str(&n.value),
            "[datetime.datetime(2024, 1, 5, 10, 3, 4), \
             datetime.datetime(2024, 1, 5, 10, 3, 4, 500000, tzinfo=datetime.timezone.utc), \
             datetime.datetime(2024, 1, 5, 10, 3, 4, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200))), \
             datetime.datetime(2024, 1, 5, 10, 3, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=77400))), \
             datetime.datetime(2024, 1, 5, 10, 0, 0, 1)]"
        );
        let strs: Vec<String> = n.as_list().unwrap().iter().map(|x| py_str(&x.value)).collect();
        assert_eq!(
            strs,
            [
                "2024-01-05 10:03:04",
                "2024-01-05 10:03:04.500000+00:00",
                "2024-01-05 10:03:04+02:00",
                "2024-01-05 10:03:00-02:30",
                "2024-01-05 10:00:00.000001"
            ]
        );
    }

    #[test]
    fn list_and_dict_forms_match_python() {
        // Python: str([1,'a',"it's",True,None,1.5,{'a':[1,2]}])
        let n = load("[1, a, \"it's\", true, null, 1.5, {a: [1, 2]}]").unwrap();
        assert_eq!(py_str(&n.value), "[1, 'a', \"it's\", True, None, 1.5, {'a': [1, 2]}]");
        // Python: json.dumps({'a':'é\n\u2028😀','b':[1,2.0,None,True],'c':{'1':float('inf')}})
        let d = load("{a: \"é\\n\\u2028😀\", b: [1, 2.0, null, true], c: {'1': .inf}}").unwrap();
        assert_eq!(
            json_dumps(&d.value),
            r#"{"a": "\u00e9\n\u2028\ud83d\ude00", "b": [1, 2.0, null, true], "c": {"1": Infinity}}"#
        );
    }
}
