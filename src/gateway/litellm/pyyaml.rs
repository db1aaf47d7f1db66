//! A YAML loader that reads a LiteLLM config exactly as the proxy does.
//!
//! LiteLLM loads its config with PyYAML's `safe_load`, which follows YAML 1.1:
//! `yes`/`on` are booleans, `017` is octal, `1e5` (no dot) is a *string*, and
//! `1.0e+5` is a float. The deployment id is a hash over those Python values,
//! so gatewatch must type every scalar the way PyYAML does, keep key order,
//! and remember the line of every node for error messages.

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
    /// `datetime.datetime`, kept as Python's `str()` of it.
    DateTime(String),
    List(Vec<Node>),
    Dict(Vec<(PyValue, Node)>),
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
            return PyValue::DateTime(datetime_str(&c));
        }
    }
    PyValue::Str(text.to_owned())
}

fn datetime_str(c: &regex::Captures<'_>) -> String {
    let num = |n: &str| c.name(n).and_then(|m| m.as_str().parse::<u32>().ok()).unwrap_or(0);
    let mut out =
        format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", num("y"), num("mo"), num("d"), num("h"), num("mi"), num("s"));
    if let Some(f) = c.name("f") {
        let mut frac: String = f.as_str().chars().take(6).collect();
        if !frac.is_empty() && frac.chars().any(|ch| ch != '0') {
            while frac.len() < 6 {
                frac.push('0');
            }
            out.push('.');
            out.push_str(&frac);
        }
    }
    if let Some(tz) = c.name("tz") {
        let tz = tz.as_str();
        if tz == "Z" {
            out.push_str("+00:00");
        } else {
            let sign = &tz[..1];
            let rest = &tz[1..];
            let (h, m) = rest.split_once(':').unwrap_or((rest, "00"));
            let h: u32 = h.parse().unwrap_or(0);
            out.push_str(&format!("{sign}{h:02}:{m}"));
        }
    }
    out
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
        i128::from_str_radix(b, 2).ok()?.to_string()
    } else if let Some(h) = body.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()?.to_string()
    } else if body.starts_with('0') {
        i128::from_str_radix(body, 8).ok()?.to_string()
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

/// Deepest nesting of lists and mappings accepted. PyYAML's `safe_load`
/// recurses once per level and raises `RecursionError` near 490 levels, so
/// LiteLLM cannot load anything deeper either.
pub const MAX_DEPTH: usize = 512;

/// Most values that aliases may copy in (`*name` repeats its anchor's whole
/// value): enough for any real config, and it stops "billion laughs" files
/// that would expand exponentially.
pub const MAX_ALIAS_VALUES: usize = 500_000;

enum Frame {
    List {
        items: Vec<Node>,
        line: usize,
        anchor: usize,
        /// Values in this collection, itself included.
        size: usize,
    },
    Dict {
        items: Vec<(PyValue, Node)>,
        merges: Vec<Node>,
        pending: Option<(PyValue, bool)>,
        line: usize,
        anchor: usize,
        size: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    /// Anchored values with their size in values.
    anchors: std::collections::HashMap<usize, (Node, usize)>,
    docs: Vec<Node>,
    error: Option<YamlError>,
    /// Values copied in by aliases so far.
    aliased: usize,
    /// A limit was hit: loading stops at once with this error.
    limit: Option<YamlError>,
}

fn dict_insert(items: &mut Vec<(PyValue, Node)>, key: PyValue, value: Node) {
    // Python dicts keep the first position and the last value.
    if let Some(slot) = items.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
    } else {
        items.push((key, value));
    }
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize, size: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::List { items, size: parent, .. }) => {
                *parent += size;
                items.push(node);
            }
            Some(Frame::Dict { items, merges, pending, size: parent, .. }) => {
                *parent += size;
                match pending.take() {
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
                }
            }
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

impl Builder {
    /// Whether another list or mapping may open here; past [`MAX_DEPTH`] it
    /// records the error that stops loading.
    fn open(&mut self, line: usize) -> bool {
        if self.stack.len() >= MAX_DEPTH {
            self.limit = Some(YamlError {
                line,
                message: format!(
                    "lists and mappings nested deeper than {MAX_DEPTH} levels (PyYAML's safe_load gives up near 490, so LiteLLM cannot load this file either)"
                ),
            });
            return false;
        }
        true
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let value = self.scalar(text, style, tag.as_ref(), line);
                self.push_value(Node { value, line }, anchor, 1);
            }
            Event::Alias(id) => {
                let (node, size) = match self.anchors.get(&id) {
                    Some((_, size)) if self.aliased + size > MAX_ALIAS_VALUES => {
                        self.limit = Some(YamlError {
                            line,
                            message: format!(
                                "aliases expand to more than {MAX_ALIAS_VALUES} values (a \"billion laughs\" file?)"
                            ),
                        });
                        return;
                    }
                    Some((node, size)) => (node.clone(), *size),
                    None => (Node { value: PyValue::None, line }, 1),
                };
                self.aliased += size;
                self.push_value(Node { line, ..node }, 0, size);
            }
            Event::SequenceStart(anchor, _) if self.open(line) => {
                self.stack.push(Frame::List { items: Vec::new(), line, anchor, size: 1 });
            }
            Event::MappingStart(anchor, _) if self.open(line) => {
                self.stack.push(Frame::Dict {
                    items: Vec::new(),
                    merges: Vec::new(),
                    pending: None,
                    line,
                    anchor,
                    size: 1,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::List { items, line, anchor, size }) = self.stack.pop() {
                    self.push_value(Node { value: PyValue::List(items), line }, anchor, size);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Dict { items, merges, line, anchor, size, .. }) = self.stack.pop() {
                    let items = apply_merges(items, merges);
                    self.push_value(Node { value: PyValue::Dict(items), line }, anchor, size);
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
    let mut merged: Vec<(PyValue, Node)> = Vec::new();
    for m in merges {
        match m.value {
            PyValue::Dict(items) => merged.extend(items),
            PyValue::List(list) => {
                // Later mappings in the list have lower precedence: PyYAML reverses them.
                for sub in list.into_iter().rev() {
                    if let PyValue::Dict(items) = sub.value {
                        merged.extend(items);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, v) in merged.into_iter().chain(own) {
        dict_insert(&mut out, k, v);
    }
    out
}

/// Load the first document. An empty file is `None`, as `yaml.safe_load` gives.
pub fn load(source: &str) -> Result<Node, YamlError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(source);
    // One event at a time, as `Parser::load(_, false)` delivers them, but
    // without its recursion (one stack frame per nesting level: a deeply
    // nested file overflowed the stack) and stopping at a limit.
    loop {
        let (ev, mark) =
            parser.next_token().map_err(|e| YamlError { line: e.marker().line(), message: e.info().to_owned() })?;
        let last = matches!(ev, Event::DocumentEnd | Event::StreamEnd);
        b.on_event(ev, mark);
        if let Some(err) = b.limit.take() {
            return Err(err);
        }
        if last {
            break;
        }
    }
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
    fn nesting_is_capped_where_pyyaml_gives_up() {
        let deepest = format!("{}x\n", "- ".repeat(MAX_DEPTH));
        assert!(load(&deepest).is_ok());
        for text in [format!("{}x\n", "- ".repeat(MAX_DEPTH + 1)), format!("{}x\n", "- ".repeat(200_000))] {
            let err = load(&text).unwrap_err();
            assert!(err.message.contains("nested deeper than 512"), "{err:?}");
        }
    }

    #[test]
    fn alias_expansion_is_capped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = load(&text).unwrap_err();
        assert!(err.message.contains("billion laughs"), "{err:?}");
        // a4 holds 111,111 values: the fourth `*a4` on line 6 passes 500,000.
        assert_eq!(err.line, 6, "the alias that crosses the limit");
        // Ordinary reuse is untouched.
        let n = load("d: &d {rpm: 1}\nm: [{<<: *d, a: 1}, {<<: *d, a: 2}]\n").unwrap();
        assert_eq!(n.get("m").unwrap().as_list().unwrap()[1].get("rpm").unwrap().value, PyValue::Int("1".into()));
    }

    #[test]
    fn syntax_error_has_line() {
        let err = load("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn datetime_str_form() {
        assert_eq!(resolve_plain("2024-1-5 10:03:04.5Z"), PyValue::DateTime("2024-01-05 10:03:04.500000+00:00".into()));
    }
}
