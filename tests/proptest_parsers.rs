//! Property tests: the adapters' response parsers and the config and tree
//! loaders never panic, never overflow the stack and never hang, on any
//! input — arbitrary bytes and text, and structured mutations of the real
//! fixtures (truncated, bytes flipped, inserted or deleted, lines dropped
//! or re-indented, JSON values swapped for another type, deep nesting).
//! Every result is `Ok` or a typed error. Also: `pyrepr::float_repr` and
//! `py_repr` of strings against CPython, `json_dumps` round trips, and the SSE
//! meter gives the same result however the stream is cut into chunks.
//!
//! The default case counts keep this file under a minute in a debug build.
//! A longer fuzz pass: `PROPTEST_CASES=100000 cargo test --release --test proptest_parsers`
//! (`PROPTEST_CASES` replaces every default count below).

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::missing_panics_doc, clippy::type_complexity)]

#[path = "proptest_parsers/mutate.rs"]
mod mutate;
#[path = "proptest_parsers/targets.rs"]
mod targets;

use gatewatch::gateway::GatewayError;
use gatewatch::gateway::litellm::pyrepr::{self, float_repr, json_dumps, py_repr};
use gatewatch::gateway::litellm::pyyaml::{Node, PyDateTime, PyValue};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::FileFailurePersistence;

use mutate::{ByteEdit, LineEdit, Swap, apply_bytes, apply_lines, apply_swaps, lossy};
use targets::{ALL_JSON, Json, Text, bounded, json_corpus, meter, parse_json, parse_text, text_corpus};

/// `cases` unless `PROPTEST_CASES` says otherwise.
fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    // Failing cases go to tests/proptest_parsers.proptest-regressions (the
    // default location needs a lib.rs or main.rs beside the test file).
    c.failure_persistence = Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions")));
    c
}

const TEXTS: [Text; 5] = [Text::Config, Text::Tree, Text::ProxyConfig, Text::PyYaml, Text::Metrics];

fn all_texts(what: &str, text: &str) {
    for kind in TEXTS {
        let t = text.to_owned();
        let _ = bounded(&format!("{kind:?} on {what}"), move || parse_text(kind, &t));
    }
}

/// An HTTP status: usually the fixture's own, sometimes any other.
fn status(original: u16) -> impl Strategy<Value = u16> {
    prop_oneof![
        6 => Just(original),
        1 => prop::sample::select(vec![200u16, 400, 401, 403, 404, 429, 500, 502, 503]),
        1 => 100u16..600,
    ]
}

// ---------------------------------------------------------------- regression

/// Every fixture, unmodified, through the parser gatewatch uses for it.
#[test]
fn every_fixture_parses() {
    let corpus = json_corpus();
    assert!(corpus.len() > 100, "{}", corpus.len());
    for (name, kind, status, body) in corpus {
        let got = parse_json(kind, status, body);
        if name.contains("unauthorized.json") {
            // Each refusal of the admin API: an auth error, or 429 for the rate limit.
            let rate = name.contains("rate_limited");
            assert!(
                matches!(&got, Err(GatewayError::Auth { .. })) && !rate
                    || matches!(&got, Err(GatewayError::RateLimited { .. })) && rate,
                "{name}: {got:?}"
            );
        } else if kind == Json::LiteLlmError {
            // Error answers parse into a typed error that says what happened.
            let e = got.expect_err(&name);
            assert!(!e.to_string().trim().is_empty(), "{name}");
        } else {
            let n = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            if matches!(kind, Json::ModelInfo | Json::Health | Json::Models | Json::NewApiList) {
                assert!(n > 0, "{name}: nothing parsed");
            }
        }
    }
    for (name, kind, text) in text_corpus() {
        let n = parse_text(kind, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(n > 0, "{name}");
    }
    for sse in ["stream_chat.sse", "stream_chat_usage.sse"] {
        let data = targets::read(&format!("litellm/{sse}"));
        let (events, done, token, _, partial, complete, firsts) = meter(&data, &[data.len()]);
        assert!(events > 2 && done && token && !partial && complete && firsts == 1, "{sse}");
    }
}

/// `float_repr` against CPython's `repr(float)` (tests/proptest_parsers/float_repr.txt).
#[test]
fn float_repr_matches_cpython() {
    let table = include_str!("proptest_parsers/float_repr.txt");
    let mut n = 0;
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let (bits, want) = line.split_once(' ').unwrap();
        let x = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
        assert_eq!(float_repr(x), want, "bits {bits}");
        n += 1;
    }
    assert!(n > 1000, "{n}");
    assert_eq!(float_repr(f64::NAN), "nan");
    assert_eq!(float_repr(f64::INFINITY), "inf");
    assert_eq!(float_repr(f64::NEG_INFINITY), "-inf");
}

/// `repr(str)` against CPython for every format character, the private-use
/// and noncharacter ranges, Latin-1 and a few scripts
/// (tests/proptest_parsers/str_repr.txt). LiteLLM hashes `str()` of list
/// params into deployment ids, so a wrong escape is a false drift report.
#[test]
fn py_repr_matches_cpython() {
    let table = include_str!("proptest_parsers/str_repr.txt");
    let mut n = 0;
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.splitn(3, ' ');
        let (cps, _category, want) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let s: String = cps.split(',').map(|h| char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap()).collect();
        let list = PyValue::List(vec![Node { value: PyValue::Str(s.clone()), line: 1 }]);
        let got = format!("{} {}", py_repr(&PyValue::Str(s)), py_repr(&list));
        assert_eq!(got, want, "code points {cps}");
        n += 1;
    }
    assert!(n > 900, "{n}");
}

/// Anchors that expand exponentially ("billion laughs"): loading stays
/// bounded in time and memory.
#[test]
fn yaml_alias_bomb_is_bounded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    text.push_str("model_list: *a9\n");
    all_texts("alias bomb", &text);
}

// ---------------------------------------------------------------- JSON answers

proptest! {
    #![proptest_config(config(1024))]

    /// Real answers, mutated: values of another type, deep nesting, then byte edits;
    /// through their own parser and one other.
    #[test]
    fn json_fixture_mutations(
        (name, kind, status, body) in prop::sample::select(json_corpus()).prop_flat_map(|(n, k, s, b)| {
            (Just(n), Just(k), status(s), Just(b))
        }),
        swaps in prop::collection::vec((any::<Index>(), mutate::swap()), 0..4),
        edits in prop::collection::vec(mutate::byte_edit(), 0..3),
        other in any::<Index>(),
    ) {
        let body = apply_bytes(apply_swaps(&body, &swaps), &edits);
        let other = ALL_JSON[other.index(ALL_JSON.len())];
        for k in [kind, other] {
            let b = body.clone();
            let _ = bounded(&format!("{k:?} on mutated {name}"), move || parse_json(k, status, b));
        }
    }

    /// Arbitrary bytes through every JSON parser.
    #[test]
    fn json_arbitrary_bytes(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            "[\\[\\]{}:,\"0-9a-z.eE+\\- \\\\]{0,300}".prop_map(String::into_bytes),
        ],
        status in status(200),
    ) {
        for k in ALL_JSON {
            let b = body.clone();
            let _ = bounded(&format!("{k:?} on arbitrary bytes"), move || parse_json(k, status, b));
        }
    }
}

proptest! {
    #![proptest_config(config(384))]

    /// Generated JSON in the envelopes the adapters expect, so that the inner
    /// parsers (channels, model entries, router settings) see every shape.
    #[test]
    fn json_generated_values(v in json_value(), envelope in 0usize..5, status in status(200)) {
        let body = match envelope {
            0 => serde_json::json!({"success": true, "message": "", "data": {"items": [v], "total": 1}}),
            1 => serde_json::json!({"success": true, "message": "", "data": v}),
            2 => serde_json::json!({"data": [{"model_name": "m", "litellm_params": v.clone(), "model_info": v}]}),
            3 => serde_json::json!({"router_settings": v.clone(), "healthy_endpoints": [v.clone()], "unhealthy_endpoints": [v]}),
            _ => v,
        };
        let body = serde_json::to_vec(&body).unwrap();
        for k in ALL_JSON {
            let b = body.clone();
            let _ = bounded(&format!("{k:?} on generated JSON"), move || parse_json(k, status, b));
        }
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "",
            "1",
            "2",
            "3",
            "0.5",
            "-1",
            "openai/gpt-4o",
            "Be****cd",
            "{\"a\":\"b\"}",
            "{",
            "a, ,b,",
            "1:30",
            "yes",
        ])
        .prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        let keys = prop::sample::select(vec![
            "id",
            "name",
            "type",
            "status",
            "models",
            "group",
            "weight",
            "priority",
            "balance",
            "test_time",
            "response_time",
            "model_mapping",
            "other_info",
            "channel_info",
            "is_multi_key",
            "multi_key_size",
            "multi_key_status_list",
            "tag",
            "base_url",
            "model",
            "api_base",
            "litellm_provider",
            "db_model",
            "input_cost_per_token",
            "fallbacks",
            "num_retries",
            "cooldown_time",
            "model_id",
            "exception_status",
            "raw_request_typed_dict",
            "raw_request_headers",
            "Authorization",
            "error",
            "success",
            "message",
            "data",
            "items",
            "total",
            "x",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys, inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

// ---------------------------------------------------------------- YAML and text

proptest! {
    #![proptest_config(config(512))]

    /// The real config files and tree, edited line by line and byte by byte,
    /// through every loader.
    #[test]
    fn yaml_fixture_mutations(
        (name, text) in prop::sample::select(text_corpus()).prop_map(|(n, _, t)| (n, t)),
        lines in prop::collection::vec(mutate::line_edit(), 0..5),
        edits in prop::collection::vec(mutate::byte_edit(), 0..3),
    ) {
        let text = apply_lines(&text, &lines);
        let text = lossy(&apply_bytes(text.into_bytes(), &edits));
        all_texts(&format!("mutated {name}"), &text);
    }

    /// Arbitrary text, and text made of YAML's syntax characters.
    #[test]
    fn yaml_arbitrary_text(
        text in prop_oneof![
            ".{0,300}",
            "[a-z0-9 :\\-\\[\\]{},&*!|>'\"#%@?\n\t]{0,300}",
            prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| lossy(&b)),
        ],
    ) {
        all_texts("arbitrary text", &text);
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Deep nesting alone, and in place of a value of a real file: around the
    /// limits (255 flow levels in yaml-rust2, 512 in `pyyaml::load`, ~490 in
    /// PyYAML) and far beyond, where a recursive loader overflows its stack.
    /// Flow forms stop at 6,000 levels: libyaml (under serde_yaml) takes
    /// quadratic time on deep flow nesting (about 1 s per 5,000 levels in a
    /// debug build), which is bounded but slow.
    #[test]
    fn yaml_deep_nesting(
        (kind, depth) in mutate::deep_kind().prop_flat_map(|k| {
            let depth = if matches!(k, mutate::Deep::FlowSeq | mutate::Deep::FlowMap) {
                prop_oneof![1usize..600, 600usize..6_000].boxed()
            } else {
                prop_oneof![1usize..600, 600usize..20_000].boxed()
            };
            (Just(k), depth)
        }),
        (name, text) in prop::sample::select(text_corpus()).prop_map(|(n, _, t)| (n, t)),
        at in any::<Index>(),
        inline in any::<bool>(),
    ) {
        let deep = mutate::deep_yaml(kind, depth);
        let text = if inline {
            // As the value of one `key:` line (block forms start on the next line).
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            let keyed: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].trim_end().ends_with(':') || lines[i].contains(": ")).collect();
            if let Some(&i) = keyed.get(at.index(keyed.len().max(1))) {
                let l = &mut lines[i];
                let colon = l.find(':').unwrap_or(l.len());
                let indent = l.len() - l.trim_start().len();
                l.truncate(colon + 1);
                let pad = " ".repeat(indent + 2);
                let block: Vec<String> = deep.lines().map(|d| format!("{pad}{d}")).collect();
                l.push('\n');
                l.push_str(&block.join("\n"));
            }
            lines.join("\n")
        } else {
            deep
        };
        all_texts(&format!("{kind:?} x{depth} in {name}"), &text);
    }
}

// ---------------------------------------------------------------- pyrepr

fn py_value() -> impl Strategy<Value = PyValue> {
    let leaf = prop_oneof![
        Just(PyValue::None),
        any::<bool>().prop_map(PyValue::Bool),
        any::<i64>().prop_map(|i| PyValue::Int(i.to_string())),
        any::<f64>().prop_map(PyValue::Float),
        ".{0,12}".prop_map(PyValue::Str),
        (1i32..=9999, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| PyValue::Date { y, m, d }),
        (
            (1i32..=9999, 1u32..=12, 1u32..=28),
            (0u32..24, 0u32..60, 0u32..60, 0u32..1_000_000),
            prop::option::of(-86_399i32..=86_399),
        )
            .prop_map(|((y, mo, d), (h, mi, s, us), tz)| {
                PyValue::DateTime(PyDateTime { y, mo, d, h, mi, s, us, tz })
            }),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let node = inner.clone().prop_map(|value| Node { value, line: 1 });
        prop_oneof![
            prop::collection::vec(node.clone(), 0..5).prop_map(PyValue::List),
            prop::collection::vec((inner, node), 0..5).prop_map(PyValue::Dict),
        ]
    })
}

proptest! {
    #![proptest_config(config(4096))]

    /// Finite floats read back to the same float (sign of zero included); the
    /// notation switches where Python's does.
    #[test]
    fn float_repr_round_trips(x in any::<f64>()) {
        let s = float_repr(x);
        if x.is_nan() {
            prop_assert_eq!(s, "nan");
        } else if x.is_infinite() {
            prop_assert_eq!(s, if x > 0.0 { "inf" } else { "-inf" });
        } else {
            let back: f64 = s.parse().unwrap();
            prop_assert_eq!(back.to_bits(), x.to_bits(), "{} -> {}", x, s);
            let a = x.abs();
            if a == 0.0 || (1e-4..1e16).contains(&a) {
                prop_assert!(!s.contains('e') && s.contains('.'), "{}", s);
            } else {
                let (_, exp) = s.split_once('e').unwrap();
                prop_assert!(exp.starts_with(['+', '-']) && exp.len() >= 3, "{}", s);
            }
        }
    }

    /// `json.dumps` of any string is ASCII JSON that decodes to the same string.
    #[test]
    fn json_dumps_strings_round_trip(s in any::<String>()) {
        let out = json_dumps(&PyValue::Str(s.clone()));
        prop_assert!(out.is_ascii(), "{}", out);
        let back: String = serde_json::from_str(&out).unwrap();
        prop_assert_eq!(back, s);
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Any value PyYAML can build: repr, str, json.dumps and the id piece never
    /// panic, and json.dumps is valid JSON whenever no float is NaN or infinite.
    #[test]
    fn pyrepr_any_value(v in py_value()) {
        let _ = (py_repr(&v), pyrepr::py_str(&v), pyrepr::id_part(&v));
        let out = json_dumps(&v);
        if !out.contains("NaN") && !out.contains("Infinity") {
            prop_assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "{}", out);
        }
    }
}

// ---------------------------------------------------------------- SSE meter

fn sse_stream() -> impl Strategy<Value = Vec<u8>> {
    let fixture = targets::read("litellm/stream_chat.sse");
    let token = prop_oneof![
        "[a-z ]{0,6}",
        Just("é".to_owned()),
        Just("中文".to_owned()),
        Just("😀 ok".to_owned()),
        Just("\u{2028}".to_owned()),
    ];
    let event = token.prop_map(|t| {
        format!("data: {}\n\n", serde_json::json!({"choices": [{"delta": {"content": t}}]})).into_bytes()
    });
    let synthetic = (prop::collection::vec(event, 0..6), any::<bool>(), any::<bool>()).prop_map(|(evs, done, cut)| {
        let mut out: Vec<u8> = evs.concat();
        if done {
            out.extend_from_slice(b"data: [DONE]\n\n");
        }
        if cut {
            out.extend_from_slice("data: {\"choices\":[{\"delta\":{\"content\":\"中".as_bytes());
        }
        out
    });
    prop_oneof![
        2 => synthetic,
        2 => prop::collection::vec(mutate::byte_edit(), 0..4).prop_map(move |e| apply_bytes(fixture.clone(), &e)),
        1 => prop::collection::vec(any::<u8>(), 0..400),
    ]
}

proptest! {
    #![proptest_config(config(1024))]

    /// The same bytes give the same result whatever the chunk sizes, and the
    /// first token is reported once at most.
    #[test]
    fn sse_meter_ignores_chunking(
        data in sse_stream(),
        sizes in prop::collection::vec(1usize..48, 1..6),
    ) {
        let d = data.clone();
        let whole = bounded("SseMeter::feed whole", move || meter(&d, &[usize::MAX]));
        let s = sizes.clone();
        let cut = bounded("SseMeter::feed chunked", move || meter(&data, &s));
        prop_assert!(whole.6 <= 1);
        prop_assert_eq!(whole, cut, "chunk sizes {:?}", sizes);
    }
}

/// The mutation helpers do what they say (a mutation that silently does
/// nothing would make the properties above weaker than they read).
#[test]
fn mutation_helpers_do_what_they_say() {
    // An `Index` that picks `n` of `len`.
    let idx = |n: usize, len: usize| {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        loop {
            let i = any::<Index>().new_tree(&mut runner).unwrap().current();
            if i.index(len) == n {
                return i;
            }
        }
    };
    let data = b"0123456789".to_vec();
    assert_eq!(apply_bytes(data.clone(), &[ByteEdit::Truncate(idx(3, 11))]), b"012");
    assert_eq!(apply_bytes(data.clone(), &[ByteEdit::Delete(idx(8, 10), 5)]), b"01234567");
    assert_eq!(apply_bytes(data, &[ByteEdit::Insert(idx(0, 11), b"[".to_vec())]), b"[0123456789");
    assert_eq!(apply_lines("a: 1\nb: 2\n", &[LineEdit::Value(idx(1, 2), "[]")]), "a: 1\nb: []\n");
    let swapped = apply_swaps(br#"{"a":[1,2]}"#, &[(idx(0, 4), Swap::Deep { depth: 3, objects: false })]);
    assert_eq!(swapped, b"[[[1]]]");
    let swapped = apply_swaps(br#"{"a":[1,2]}"#, &[(idx(2, 4), Swap::Retype)]);
    assert_eq!(swapped, br#"{"a":["1",2]}"#);
}
