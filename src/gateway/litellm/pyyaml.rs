//! A YAML loader that reads a LiteLLM config exactly as the proxy does.
//!
//! LiteLLM loads its config with PyYAML's `safe_load`, which follows YAML 1.1:
//! `yes`/`on` are booleans, `017` is octal, `1e5` (no dot) is a *string*, and
//! `1.0e+5` is a float. The deployment id is a hash over those Python values,
//! so gatewatch must type every scalar the way PyYAML does, keep key order,
//! and remember the line of every node for error messages.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A Python value as PyYAML constructs it.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    /// Decimal digits of a Python int (arbitrary precision), with sign.
    Int(String),
    Float(f64),
    Str(String),
    /// `datetime.date`
    Date {
        y: i32,
        m: u32,
        d: u32,
    },
    /// `datetime.datetime`
    DateTime(PyDateTime),
    List(Vec<Node>),
    Dict(Vec<(PyValue, Node)>),
}

/// A `datetime.datetime` as PyYAML builds it: naive, or aware with a fixed
/// UTC offset (`tz`, in seconds; `Z` is offset 0, which Python shows as
/// `datetime.timezone.utc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PyDateTime {
    pub y: i32,
    pub mo: u32,
    pub d: u32,
    pub h: u32,
    pub mi: u32,
    pub s: u32,
    pub us: u32,
    pub tz: Option<i32>,
}

/// A value with the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: PyValue,
    pub line: usize,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            PyValue::Dict(items) => {
                items.iter().find(|(k, _)| matches!(k, PyValue::Str(s) if s == key)).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            PyValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Node]> {
        match &self.value {
            PyValue::List(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&[(PyValue, Node)]> {
        match &self.value {
            PyValue::Dict(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_truthy(&self) -> bool {
        match &self.value {
            PyValue::None => false,
            PyValue::Bool(b) => *b,
            PyValue::Int(s) => s.trim_start_matches('-') != "0",
            PyValue::Float(f) => *f != 0.0,
            PyValue::Str(s) => !s.is_empty(),
            PyValue::List(v) => !v.is_empty(),
            PyValue::Dict(v) => !v.is_empty(),
            PyValue::Date { .. } | PyValue::DateTime(_) => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

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

fn construct_int(text: &str) -> Option<String> {
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

fn construct_float(text: &str) -> f64 {
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

enum Frame {
    List {
        items: Vec<Node>,
        line: usize,
        anchor: usize,
    },
    Dict {
        items: Vec<(PyValue, Node)>,
        merges: Vec<Node>,
        pending: Option<(PyValue, bool)>,
        line: usize,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Node>,
    docs: Vec<Node>,
    error: Option<YamlError>,
}

/// An int-valued key as Python compares it (`True == 1 == 1.0`).
fn exact_int(v: &PyValue) -> Option<String> {
    match v {
        PyValue::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        PyValue::Int(i) => Some(i.clone()),
        PyValue::Float(f) if f.is_finite() && f.fract() == 0.0 => {
            let s = format!("{f:.0}");
            Some(if s == "-0" { "0".to_owned() } else { s })
        }
        _ => None,
    }
}

/// Python's `==` between two hashable YAML values, which decides whether a
/// mapping key replaces an earlier one: `{1: a, true: b, 1.0: c}` is `{1: c}`.
pub fn py_key_eq(a: &PyValue, b: &PyValue) -> bool {
    use PyValue::{Bool, DateTime, Float, Int};
    match (a, b) {
        (Float(x), Float(y)) => x == y,
        (Bool(_) | Int(_) | Float(_), Bool(_) | Int(_) | Float(_)) => {
            matches!((exact_int(a), exact_int(b)), (Some(x), Some(y)) if x == y)
        }
        (DateTime(x), DateTime(y)) => match (x.tz, y.tz) {
            (None, None) => x == y,
            (Some(_), Some(_)) => x.utc_key() == y.utc_key(),
            _ => false,
        },
        _ => a == b,
    }
}

impl PyDateTime {
    /// Seconds and microseconds since 0000-03-01 UTC, for aware comparisons.
    fn utc_key(&self) -> (i64, u32) {
        // Days from civil (Howard Hinnant's algorithm).
        let (y, m) = if self.mo <= 2 { (i64::from(self.y) - 1, self.mo + 9) } else { (i64::from(self.y), self.mo - 3) };
        let days = 365 * y + y.div_euclid(4) - y.div_euclid(100)
            + y.div_euclid(400)
            + i64::from((153 * m + 2) / 5)
            + i64::from(self.d);
        let secs = days * 86_400 + i64::from(self.h * 3600 + self.mi * 60 + self.s) - i64::from(self.tz.unwrap_or(0));
        (secs, self.us)
    }
}

fn dict_insert(items: &mut Vec<(PyValue, Node)>, key: PyValue, value: Node) {
    // Python dicts keep the first key (and its position) and the last value.
    if let Some(slot) = items.iter_mut().find(|(k, _)| py_key_eq(k, &key)) {
        slot.1 = value;
    } else {
        items.push((key, value));
    }
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::List { items, .. }) => items.push(node),
            Some(Frame::Dict { items, merges, pending, .. }) => match pending.take() {
                None => {
                    let is_merge = matches!(&node.value, PyValue::Str(s) if s == "<<");
                    *pending = Some((node.value, is_merge));
                }
                Some((_, true)) => merges.push(node),
                Some((key, false)) => {
                    if matches!(key, PyValue::List(_) | PyValue::Dict(_)) && self.error.is_none() {
                        self.error = Some(YamlError {
                            line: node.line,
                            message: "a list or mapping used as a mapping key (unhashable in Python)".into(),
                        });
                    }
                    dict_insert(items, key, node);
                }
            },
        }
    }

    fn scalar(&mut self, text: String, style: TScalarStyle, tag: Option<&Tag>, line: usize) -> PyValue {
        let is_key_merge = matches!(style, TScalarStyle::Plain) && text == "<<";
        if is_key_merge {
            return PyValue::Str(text);
        }
        match tag {
            Some(t) if t.suffix == "str" => PyValue::Str(text),
            Some(t) if t.suffix == "int" => construct_int(&text).map_or(PyValue::Str(text), PyValue::Int),
            Some(t) if t.suffix == "float" => PyValue::Float(construct_float(&text)),
            Some(t) if t.suffix == "bool" => resolve_plain(&text),
            Some(t) if t.suffix == "null" => PyValue::None,
            Some(t) => {
                if self.error.is_none() {
                    self.error = Some(YamlError {
                        line,
                        message: format!("tag !{}{} is not allowed by yaml.safe_load", t.handle, t.suffix),
                    });
                }
                PyValue::Str(text)
            }
            None if matches!(style, TScalarStyle::Plain) => resolve_plain(&text),
            None => PyValue::Str(text),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let value = self.scalar(text, style, tag.as_ref(), line);
                self.push_value(Node { value, line }, anchor);
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or(Node { value: PyValue::None, line });
                self.push_value(Node { line, ..node }, 0);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::List { items: Vec::new(), line, anchor }),
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Dict { items: Vec::new(), merges: Vec::new(), pending: None, line, anchor });
            }
            Event::SequenceEnd => {
                if let Some(Frame::List { items, line, anchor }) = self.stack.pop() {
                    self.push_value(Node { value: PyValue::List(items), line }, anchor);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Dict { items, merges, line, anchor, .. }) = self.stack.pop() {
                    let items = apply_merges(items, merges);
                    self.push_value(Node { value: PyValue::Dict(items), line }, anchor);
                }
            }
            _ => {}
        }
    }
}

/// PyYAML's `flatten_mapping`: merged pairs come first, then the node's own.
fn apply_merges(own: Vec<(PyValue, Node)>, merges: Vec<Node>) -> Vec<(PyValue, Node)> {
    if merges.is_empty() {
        return own;
    }
    let mut flat: Vec<(PyValue, Node)> = Vec::new();
    for m in merges {
        match m.value {
            PyValue::Dict(items) => flat.extend(items),
            PyValue::List(list) => {
                // Later mappings in the list have lower precedence: PyYAML reverses them.
                for sub in list.into_iter().rev() {
                    if let PyValue::Dict(items) = sub.value {
                        flat.extend(items);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, v) in flat.into_iter().chain(own) {
        dict_insert(&mut out, k, v);
    }
    out
}

/// Load the first document. An empty file is `None`, as `yaml.safe_load` gives.
pub fn load(source: &str) -> Result<Node, YamlError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(source);
    parser.load(&mut b, false).map_err(|e| YamlError { line: e.marker().line(), message: e.info().to_owned() })?;
    if let Some(err) = b.error {
        return Err(err);
    }
    Ok(b.docs.into_iter().next().unwrap_or(Node { value: PyValue::None, line: 1 }))
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
    fn quoted_scalars_stay_strings() {
        let n = load("a: '017'\nb: \"yes\"\nc: 017\n").unwrap();
        assert_eq!(n.get("a").unwrap().value, PyValue::Str("017".into()));
        assert_eq!(n.get("b").unwrap().value, PyValue::Str("yes".into()));
        assert_eq!(n.get("c").unwrap().value, PyValue::Int("15".into()));
    }

    #[test]
    fn keeps_order_lines_and_merges() {
        let src = "base: &b\n  x: 1\n  y: 2\nitem:\n  <<: *b\n  y: 3\n  z: 4\n";
        let n = load(src).unwrap();
        let item = n.get("item").unwrap();
        let keys: Vec<_> = item.as_dict().unwrap().iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
        assert_eq!(
            keys,
            vec![
                (PyValue::Str("x".into()), PyValue::Int("1".into())),
                (PyValue::Str("y".into()), PyValue::Int("3".into())),
                (PyValue::Str("z".into()), PyValue::Int("4".into())),
            ]
        );
        assert_eq!(item.line, 5);
    }

    #[test]
    fn syntax_error_has_line() {
        let err = load("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
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

    #[test]
    fn equal_keys_collapse_like_a_python_dict() {
        // Python: yaml.safe_load("{1: a, true: b, 1.0: c, 0: d, false: e, -0.0: f, 2.5: g, '1': h}")
        //   == {1: 'c', 0: 'f', 2.5: 'g', '1': 'h'}
        let n = load("{1: a, true: b, 1.0: c, 0: d, false: e, -0.0: f, 2.5: g, '1': h}").unwrap();
        let items: Vec<_> = n.as_dict().unwrap().iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
        let s = |x: &str| PyValue::Str(x.into());
        assert_eq!(
            items,
            vec![
                (PyValue::Int("1".into()), s("c")),
                (PyValue::Int("0".into()), s("f")),
                (PyValue::Float(2.5), s("g")),
                (s("1"), s("h")),
            ]
        );
        // Aware datetimes compare as instants; naive never equals aware.
        let n = load("{2024-01-05 10:00:00Z: a, 2024-01-05 12:00:00 +02:00: b, 2024-01-05 10:00:00: c}").unwrap();
        assert_eq!(n.as_dict().unwrap().len(), 2);
    }
}
