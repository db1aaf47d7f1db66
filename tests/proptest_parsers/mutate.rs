//! Mutations of real fixtures: byte-level (truncate, flip, insert, delete),
//! line-level for YAML (drop, repeat, re-indent, swap), and structural for
//! JSON (a value of another type, deep nesting in place of a value).

use proptest::prelude::*;
use proptest::sample::Index;

/// One byte-level edit, positions relative to the current length.
#[derive(Debug, Clone)]
pub enum ByteEdit {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
}

pub fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    // Bytes that matter to JSON and YAML syntax, plus anything.
    let interesting = prop::sample::select(b"{}[]:,\"'\\-#&*!|>%@`\n\t 0.eE+".to_vec());
    let insert = prop::collection::vec(prop_oneof![interesting, any::<u8>()], 1..8);
    prop_oneof![
        any::<Index>().prop_map(ByteEdit::Truncate),
        (any::<Index>(), 1u8..=255).prop_map(|(i, x)| ByteEdit::Flip(i, x)),
        (any::<Index>(), insert).prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| ByteEdit::Delete(i, n)),
    ]
}

pub fn apply_bytes(mut data: Vec<u8>, edits: &[ByteEdit]) -> Vec<u8> {
    for e in edits {
        let len = data.len();
        match e {
            ByteEdit::Truncate(i) => data.truncate(i.index(len + 1)),
            ByteEdit::Flip(i, x) if len > 0 => data[i.index(len)] ^= x,
            ByteEdit::Flip(..) => {}
            ByteEdit::Insert(i, b) => {
                let at = i.index(len + 1);
                data.splice(at..at, b.iter().copied());
            }
            ByteEdit::Delete(i, n) if len > 0 => {
                let at = i.index(len);
                data.drain(at..(at + n).min(len));
            }
            ByteEdit::Delete(..) => {}
        }
    }
    data
}

/// Text for parsers that take `&str`: invalid UTF-8 from a byte edit is
/// replaced, not skipped, so the edit still lands.
pub fn lossy(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// One line-level edit of a YAML text.
#[derive(Debug, Clone)]
pub enum LineEdit {
    Drop(Index),
    Repeat(Index),
    Indent(Index, usize),
    Dedent(Index),
    Swap(Index, Index),
    /// Replace the value after `key:` on a line with another YAML scalar or collection.
    Value(Index, &'static str),
}

const YAML_VALUES: &[&str] = &[
    "",
    "~",
    "null",
    "yes",
    "off",
    "0",
    "-1",
    "017",
    "0x1F",
    "1:30",
    "1e5",
    "1.0e+5",
    ".inf",
    "-.inf",
    ".nan",
    "99999999999999999999999999",
    "2024-01-05",
    "2024-1-5 10:03:04.5Z",
    "[]",
    "{}",
    "[a, [b, {c: d}]]",
    "{a: 1, b: [2]}",
    "'quoted'",
    "\"dq \\u2028 \\x00\"",
    "&anchor x",
    "*anchor",
    "*nowhere",
    "!!str 017",
    "!!int notanint",
    "!!float x",
    "!!binary aGk=",
    "!custom tag",
    "|\n  block\n  text",
    ">-\n  folded",
    "os.environ/",
    "os.environ/MISSING_VAR",
    "os.environ/KEY_1",
    "\"10ms\"",
    "5s",
    "0s",
    "-3s",
    "100000000000000h",
    "http://",
    "http://user:pw@host",
    "ftp://x",
];

pub fn line_edit() -> impl Strategy<Value = LineEdit> {
    prop_oneof![
        any::<Index>().prop_map(LineEdit::Drop),
        any::<Index>().prop_map(LineEdit::Repeat),
        (any::<Index>(), 1usize..6).prop_map(|(i, n)| LineEdit::Indent(i, n)),
        any::<Index>().prop_map(LineEdit::Dedent),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| LineEdit::Swap(a, b)),
        (any::<Index>(), prop::sample::select(YAML_VALUES)).prop_map(|(i, v)| LineEdit::Value(i, v)),
    ]
}

pub fn apply_lines(text: &str, edits: &[LineEdit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match e {
            LineEdit::Drop(i) => {
                lines.remove(i.index(n));
            }
            LineEdit::Repeat(i) => {
                let at = i.index(n);
                let l = lines[at].clone();
                lines.insert(at, l);
            }
            LineEdit::Indent(i, k) => lines[i.index(n)].insert_str(0, &" ".repeat(*k)),
            LineEdit::Dedent(i) => {
                let l = &mut lines[i.index(n)];
                let strip = l.len() - l.trim_start_matches(' ').len();
                l.drain(..strip.min(2));
            }
            LineEdit::Swap(a, b) => lines.swap(a.index(n), b.index(n)),
            LineEdit::Value(i, v) => {
                let l = &mut lines[i.index(n)];
                if let Some(colon) = l.find(": ").or_else(|| l.ends_with(':').then(|| l.len() - 1)) {
                    l.truncate(colon + 1);
                    l.push(' ');
                    l.push_str(v);
                }
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Deeply nested YAML in several forms (PyYAML gives up near 490 levels).
#[derive(Debug, Clone, Copy)]
pub enum Deep {
    FlowSeq,
    FlowMap,
    BlockSeq,
    BlockMap,
    Mixed,
}

pub fn deep_yaml(kind: Deep, depth: usize) -> String {
    match kind {
        Deep::FlowSeq => format!("{}x{}", "[".repeat(depth), "]".repeat(depth)),
        Deep::FlowMap => format!("{}x{}", "{a: ".repeat(depth), "}".repeat(depth)),
        Deep::BlockSeq => format!("{}x\n", "- ".repeat(depth)),
        Deep::BlockMap => {
            // Quadratic in size: capped at ~1 MB of text.
            let depth = depth.min(1_400);
            let mut s = String::new();
            for i in 0..depth {
                s.push_str(&" ".repeat(i));
                s.push_str("a:\n");
            }
            s.push_str(&" ".repeat(depth));
            s.push_str("x\n");
            s
        }
        Deep::Mixed => {
            let flow = depth.min(300);
            format!("{}{}x{}\n", "- ".repeat(depth), "{a: [".repeat(flow), "]}".repeat(flow))
        }
    }
}

pub fn deep_kind() -> impl Strategy<Value = Deep> {
    prop::sample::select(vec![Deep::FlowSeq, Deep::FlowMap, Deep::BlockSeq, Deep::BlockMap, Deep::Mixed])
}

/// What replaces a JSON value.
#[derive(Debug, Clone)]
pub enum Swap {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Written as is: numbers serde_json or Go would not produce.
    Raw(&'static str),
    Str(String),
    /// The value's own text as a string, or a string's text as a raw value.
    Retype,
    EmptyArray,
    EmptyObject,
    /// The value wrapped in an array or an object.
    WrapArray,
    WrapObject,
    /// Nested arrays or objects this deep.
    Deep {
        depth: usize,
        objects: bool,
    },
}

pub fn swap() -> impl Strategy<Value = Swap> {
    prop_oneof![
        Just(Swap::Null),
        any::<bool>().prop_map(Swap::Bool),
        any::<i64>().prop_map(Swap::Int),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Swap::Float),
        prop::sample::select(vec![
            "1e400",
            "-1e400",
            "-0",
            "18446744073709551616",
            "-9223372036854775809",
            "1.7976931348623157e309",
            "4.9e-325",
            "123456789012345678901234567890",
        ])
        .prop_map(Swap::Raw),
        ".{0,40}".prop_map(Swap::Str),
        Just(Swap::Retype),
        Just(Swap::EmptyArray),
        Just(Swap::EmptyObject),
        Just(Swap::WrapArray),
        Just(Swap::WrapObject),
        (1usize..3000, any::<bool>()).prop_map(|(depth, objects)| Swap::Deep { depth, objects }),
    ]
}

const RAW_MARK: &str = "\u{1}RAW\u{1}";

fn count(v: &serde_json::Value) -> usize {
    1 + match v {
        serde_json::Value::Array(a) => a.iter().map(count).sum(),
        serde_json::Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// Replace values of `json` (text that must parse); raw pieces are spliced in as text.
pub fn apply_swaps(json: &[u8], swaps: &[(Index, Swap)]) -> Vec<u8> {
    let Ok(mut root) = serde_json::from_slice::<serde_json::Value>(json) else { return json.to_vec() };
    let mut raws: Vec<String> = Vec::new();
    for (at, s) in swaps {
        let mut n = at.index(count(&root));
        let Some(target) = nth_mut(&mut root, &mut n) else { continue };
        let old = std::mem::take(target);
        *target = match s {
            Swap::Null => serde_json::Value::Null,
            Swap::Bool(b) => (*b).into(),
            Swap::Int(i) => (*i).into(),
            Swap::Float(f) => (*f).into(),
            Swap::Raw(r) => {
                raws.push((*r).to_owned());
                format!("{RAW_MARK}{}", raws.len() - 1).into()
            }
            Swap::Str(s) => s.clone().into(),
            Swap::Retype => match old {
                serde_json::Value::String(s) => {
                    // A string's text as a value when it is one ("12" → 12), else its length.
                    serde_json::from_str(&s).unwrap_or_else(|_| s.len().into())
                }
                other => other.to_string().into(),
            },
            Swap::EmptyArray => serde_json::json!([]),
            Swap::EmptyObject => serde_json::json!({}),
            Swap::WrapArray => serde_json::json!([old]),
            Swap::WrapObject => serde_json::json!({ "x": old }),
            Swap::Deep { depth, objects } => {
                let (open, close) = if *objects { ("{\"a\":", "}") } else { ("[", "]") };
                raws.push(format!("{}1{}", open.repeat(*depth), close.repeat(*depth)));
                format!("{RAW_MARK}{}", raws.len() - 1).into()
            }
        };
    }
    let mut text = serde_json::to_string(&root).unwrap_or_default();
    for (i, r) in raws.iter().enumerate().rev() {
        text = text.replace(&format!("\"{}{i}\"", RAW_MARK.replace('\u{1}', "\\u0001")), r);
    }
    text.into_bytes()
}

/// The `n`th value in pre-order.
fn nth_mut<'a>(v: &'a mut serde_json::Value, n: &mut usize) -> Option<&'a mut serde_json::Value> {
    if *n == 0 {
        return Some(v);
    }
    *n -= 1;
    match v {
        serde_json::Value::Array(a) => a.iter_mut().find_map(|c| nth_mut(c, n)),
        serde_json::Value::Object(o) => o.values_mut().find_map(|c| nth_mut(c, n)),
        _ => None,
    }
}
