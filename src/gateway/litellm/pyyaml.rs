//! A YAML loader that reads a LiteLLM config exactly as the proxy does.
//!
//! LiteLLM loads its config with PyYAML's `safe_load`, which follows YAML 1.1:
//! `yes`/`on` are booleans, `017` is octal, `1e5` (no dot) is a *string*, and
//! `1.0e+5` is a float. The deployment id is a hash over those Python values,
//! so gatewatch must type every scalar the way PyYAML does, keep key order,
//! and remember the line of every node for error messages.

mod scalar;

pub use scalar::resolve_plain;
use scalar::{construct_float, construct_int};
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

/// Deepest nesting of lists and mappings accepted. PyYAML's `safe_load`
/// recurses once per level and raises `RecursionError` near 490 levels, so
/// LiteLLM cannot load anything deeper either.
pub const MAX_DEPTH: usize = 512;

/// Most that aliases may copy in, by expanded size (`*name` repeats its
/// anchor's whole value): each value counts [`VALUE_COST`] plus the bytes of
/// its text. Enough for any real config; it stops "billion laughs" files
/// (many small values) and a few huge anchors repeated thousands of times
/// alike (a 1 MB anchor aliased 2,000 times once took 9.4 s and 4.3 GB).
pub const MAX_ALIAS_BYTES: usize = 32 * 1024 * 1024;

/// What one value costs in the alias budget besides its text: about what it
/// takes in memory once loaded.
pub const VALUE_COST: usize = 64;

enum Frame {
    List {
        items: Vec<Node>,
        line: usize,
        anchor: usize,
        /// Expanded size of this collection, itself included (see [`MAX_ALIAS_BYTES`]).
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
    /// Anchored values with their expanded size.
    anchors: std::collections::HashMap<usize, (Node, usize)>,
    docs: Vec<Node>,
    error: Option<YamlError>,
    /// Expanded size copied in by aliases so far.
    aliased: usize,
    /// A limit was hit: loading stops at once with this error.
    limit: Option<YamlError>,
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
                let size = VALUE_COST + text.len();
                let value = self.scalar(text, style, tag.as_ref(), line);
                self.push_value(Node { value, line }, anchor, size);
            }
            Event::Alias(id) => {
                let (node, size) = match self.anchors.get(&id) {
                    Some((_, size)) if self.aliased.saturating_add(*size) > MAX_ALIAS_BYTES => {
                        self.limit = Some(YamlError {
                            line,
                            message: format!(
                                "aliases expand to more than {} MiB (a \"billion laughs\" file?)",
                                MAX_ALIAS_BYTES / (1024 * 1024)
                            ),
                        });
                        return;
                    }
                    Some((node, size)) => (node.clone(), *size),
                    None => (Node { value: PyValue::None, line }, VALUE_COST),
                };
                self.aliased += size;
                self.push_value(Node { line, ..node }, 0, size);
            }
            Event::SequenceStart(anchor, _) if self.open(line) => {
                self.stack.push(Frame::List { items: Vec::new(), line, anchor, size: VALUE_COST });
            }
            Event::MappingStart(anchor, _) if self.open(line) => {
                self.stack.push(Frame::Dict {
                    items: Vec::new(),
                    merges: Vec::new(),
                    pending: None,
                    line,
                    anchor,
                    size: VALUE_COST,
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
        let started = std::time::Instant::now();
        let err = load(&text).unwrap_err();
        assert!(err.message.contains("billion laughs"), "{err:?}");
        // a4 holds 111,111 values of ~65 bytes: the fifth `*a4` on line 6 passes 32 MiB.
        assert_eq!(err.line, 6, "the alias that crosses the limit");
        // A few huge anchors repeated thousands of times: stopped by size, at once.
        let big = format!("big: &b '{}'\nmany: [{}]\n", "x".repeat(1024 * 1024), vec!["*b"; 2000].join(", "));
        let err = load(&big).unwrap_err();
        assert!(err.message.contains("32 MiB"), "{err:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
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
