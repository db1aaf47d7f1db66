//! The simulator held to a real New API server: every request captured from
//! new-api 9f8a4ec05 (tests/fixtures/newapi/real/http, see its README) is
//! replayed against the simulator, put in the state the server was in, and
//! the answer is compared with the capture: HTTP status, content type, the
//! headers the server sets (version, request id, auth version, cookie,
//! cache control), and the body's field names, key order and value types —
//! recursively, JSON text inside strings included (`other_info`, `other`) —
//! and the values the request decides (`success`, `message`, `error_code`,
//! `page`, `page_size`, `total`).
//! The captures' secrets are placeholders and stay so: a second test
//! checks that nothing but `<ACCESS_TOKEN>` and `<SESSION>` stands where
//! credentials were.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gatewatch::demo::newapi_sim::captured::{self, OP_PASSWORD, OP_TOKEN, ROOT_PASSWORD, ROOT_TOKEN};
use gatewatch::demo::newapi_sim::{self, NewApiState};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use tokio_util::sync::CancellationToken;

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/newapi/real/http");

/// JSON with object keys in the order of the text (serde_json's map sorts them).
#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E: de::Error>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<J, E> {
                Ok(J::Bool(b))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<J, E> {
                Ok(J::Num(n.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<J, E> {
                Ok(J::Num(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<J, E> {
                Ok(J::Num(n.to_string()))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<J, E> {
                Ok(J::Str(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<J, E> {
                Ok(J::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element()? {
                    v.push(x);
                }
                Ok(J::Arr(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = map.next_entry::<String, J>()? {
                    v.push((k, x));
                }
                Ok(J::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl J {
    fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "bool",
            Self::Num(_) => "number",
            Self::Str(_) => "string",
            Self::Arr(_) => "array",
            Self::Obj(_) => "object",
        }
    }

    /// A string that holds a JSON object or array (New API stores several).
    fn nested(&self) -> Option<J> {
        match self {
            Self::Str(s) if s.starts_with(['{', '[']) => serde_json::from_str(s).ok(),
            _ => None,
        }
    }
}

/// Every difference in names, order and types between `want` and `got`.
fn same_shape(at: &str, want: &J, got: &J, out: &mut Vec<String>) {
    match (want, got) {
        (J::Obj(a), J::Obj(b)) => {
            let ka: Vec<&str> = a.iter().map(|(k, _)| k.as_str()).collect();
            let kb: Vec<&str> = b.iter().map(|(k, _)| k.as_str()).collect();
            if ka != kb {
                out.push(format!("{at}: keys {ka:?}, simulator {kb:?}"));
                return;
            }
            for ((k, x), (_, y)) in a.iter().zip(b) {
                same_shape(&format!("{at}.{k}"), x, y, out);
            }
        }
        (J::Arr(a), J::Arr(b)) => {
            if a.len() != b.len() {
                out.push(format!("{at}: {} elements, simulator {}", a.len(), b.len()));
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same_shape(&format!("{at}[{i}]"), x, y, out);
            }
        }
        (J::Str(_), J::Str(_)) => match (want.nested(), got.nested()) {
            (Some(x), Some(y)) => same_shape(&format!("{at}(json)"), &x, &y, out),
            (Some(_), None) => out.push(format!("{at}: JSON text, simulator a plain string")),
            (None, Some(_)) => out.push(format!("{at}: a plain string, simulator JSON text")),
            (None, None) => {}
        },
        (a, b) if a.kind() == b.kind() => {}
        (a, b) => out.push(format!("{at}: {}, simulator {}", a.kind(), b.kind())),
    }
}

/// Values the request decides, not the server's data: the envelope's
/// `success`, `message`, `error_code` and `code`, and the page numbers.
const PROTOCOL: &[&str] = &["success", "message", "error_code", "code", "page", "page_size", "total"];

fn field<'a>(j: &'a J, key: &str) -> Option<&'a J> {
    match j {
        J::Obj(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

/// The protocol values at the top and in `data` are the captured ones.
fn same_protocol_values(want: &J, got: &J, out: &mut Vec<String>) {
    let levels = [("$", Some(want), Some(got)), ("$.data", field(want, "data"), field(got, "data"))];
    for (at, w, g) in levels {
        let (Some(w), Some(g)) = (w, g) else { continue };
        for key in PROTOCOL {
            if let (Some(a), Some(b)) = (field(w, key), field(g, key))
                && a != b
                && !matches!(a, J::Obj(_) | J::Arr(_))
            {
                out.push(format!("{at}.{key}: {a:?}, simulator {b:?}"));
            }
        }
    }
    // A scalar `data` (a count, a token) that is a number must match too.
    if let (Some(a @ J::Num(_)), Some(b)) = (field(want, "data"), field(got, "data"))
        && a != b
    {
        out.push(format!("$.data: {a:?}, simulator {b:?}"));
    }
}

/// One captured exchange.
#[derive(Debug, Default)]
struct Capture {
    name: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    cookie_jar: Option<String>,
    /// Only the body was recorded (08): no headers to compare but the content type.
    body_only: bool,
    status: u16,
    response_headers: Vec<(String, String)>,
    response_body: String,
}

impl Capture {
    fn header(&self, name: &str) -> Option<&str> {
        self.response_headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').to_owned()
}

/// `# curl [-H h]… [-X m] [-d body] [-b jar] [-c jar] URL`, values unquoted
/// and possibly holding spaces: split at the option flags.
fn parse_curl(line: &str, c: &mut Capture) {
    let rest = line.trim_start_matches("# curl").trim();
    let url_at = rest.rfind(" http://").map_or(0, |i| i + 1);
    let (opts, url) = if url_at > 0 { rest.split_at(url_at) } else { ("", rest) };
    c.path = url.trim().splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap_or_default();
    let mut parts: Vec<(char, String)> = Vec::new();
    let padded = format!(" {opts}");
    let flags = [" -H ", " -X ", " -d ", " -b ", " -c "];
    let mut idx: Vec<(usize, char)> = flags
        .iter()
        .flat_map(|f| padded.match_indices(f).map(move |(i, _)| (i, f.chars().nth(2).unwrap_or(' '))))
        .collect();
    idx.sort_unstable();
    for (n, (i, flag)) in idx.iter().enumerate() {
        let end = idx.get(n + 1).map_or(padded.len(), |x| x.0);
        parts.push((*flag, unquote(&padded[i + 4..end])));
    }
    c.method = "GET".into();
    for (flag, value) in parts {
        match flag {
            'H' => {
                let (k, v) = value.split_once(':').unwrap();
                c.headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            'X' => c.method = value,
            'd' => {
                c.body = Some(value);
                if c.method == "GET" {
                    c.method = "POST".into();
                }
            }
            'b' => c.cookie_jar = Some(value),
            _ => {}
        }
    }
}

/// The two requests recorded as a description, not a command.
fn described(c: &mut Capture) {
    let auth = vec![
        ("Authorization".to_owned(), "Bearer <ACCESS_TOKEN>".to_owned()),
        ("New-Api-User".to_owned(), "1".to_owned()),
    ];
    c.headers = auth;
    c.method = "POST".into();
    if c.name.starts_with("40_") {
        let keys: Vec<String> = (1..=1000).map(|i| format!("b{i:04}-fake-bulk-key-{i:06}")).collect();
        let body = serde_json::json!({
            "mode": "batch", "batch_add_set_key_prefix_2_name": true,
            "channel": {"type": 1, "key": keys.join("\n"), "name": "bulk", "base_url": "http://127.0.0.1:18091",
                        "models": "gpt-4o-mini", "group": "bulk", "priority": 0, "weight": 1}
        });
        c.path = "/api/channel/".into();
        c.body = Some(body.to_string());
    } else {
        c.path = "/api/channel/batch".into();
        c.body = Some(serde_json::json!({"ids": (5..=1004).collect::<Vec<i64>>()}).to_string());
    }
}

fn load(path: &Path) -> Capture {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut c = Capture { name: name.clone(), ..Capture::default() };
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        // 08: the body of GET /api/user/token (session + New-Api-User), the token replaced.
        c.method = "GET".into();
        c.path = "/api/user/token".into();
        c.cookie_jar = Some("COOKIE_JAR".into());
        c.body_only = true;
        c.headers.push(("New-Api-User".into(), "1".into()));
        c.status = 200;
        c.response_headers.push(("Content-Type".into(), "application/json; charset=utf-8".into()));
        text.trim().clone_into(&mut c.response_body);
        return c;
    }
    let text = text.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let curl = lines.next().unwrap();
    if curl.contains("--data-binary") {
        described(&mut c);
    } else {
        parse_curl(curl, &mut c);
    }
    c.status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    c.response_headers = lines.filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    body.trim().clone_into(&mut c.response_body);
    c
}

fn captures() -> Vec<Capture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(REAL).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths.iter().map(|p| load(p)).collect()
}

/// The state the real server was in when the capture was taken.
fn state_for(name: &str) -> NewApiState {
    let n: u32 = name[..2].parse().unwrap();
    match n {
        1..=4 => captured::fresh(),
        5..=13 | 50 => captured::after_setup(),
        41..=48 => captured::with_bulk(),
        61 | 62 => captured::auto_disabled(),
        _ => captured::four_channels(),
    }
}

/// The credential the capture's `<ACCESS_TOKEN>` stood for.
fn token_for(name: &str) -> &'static str {
    if name.contains("wrong_token") {
        "not-a-valid-access-token-000000"
    } else if name.starts_with("38_") || name.starts_with("39b_") {
        OP_TOKEN
    } else {
        ROOT_TOKEN
    }
}

struct Sim {
    state: newapi_sim::Shared,
    base: String,
    http: reqwest::Client,
    cancel: CancellationToken,
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Sim {
    async fn start(state: NewApiState) -> Self {
        let state = Arc::new(Mutex::new(state));
        let cancel = CancellationToken::new();
        let addr = newapi_sim::serve(state.clone(), cancel.clone()).await.unwrap();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().unwrap();
        Self { state, base: format!("http://{addr}"), http, cancel }
    }

    async fn login(&self, user: &str, password: &str) -> reqwest::Response {
        let body = serde_json::json!({"username": user, "password": password});
        self.http.post(format!("{}/api/user/login", self.base)).json(&body).send().await.unwrap()
    }

    async fn session(&self, user: &str, password: &str) -> String {
        let resp = self.login(user, password).await;
        let cookie = resp.headers()["set-cookie"].to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }
}

/// What the capture's request needed first (a session, a ban, a full budget).
async fn prepare(sim: &Sim, c: &Capture) -> Option<String> {
    let ban_op = |st: &mut NewApiState| st.users.iter_mut().filter(|u| u.id == 2).for_each(|u| u.status = 2);
    match &c.name[..3] {
        "39_" => {
            let cookie = sim.session("op", OP_PASSWORD).await;
            ban_op(&mut sim.state.lock().unwrap());
            return Some(cookie);
        }
        "39b" => ban_op(&mut sim.state.lock().unwrap()),
        "50_" => {
            for _ in 0..20 {
                assert_eq!(sim.login("root", ROOT_PASSWORD).await.status(), 200);
            }
        }
        "51_" | "52_" => {
            for _ in 0..180 {
                let r = sim.http.get(format!("{}/api/status", sim.base)).send().await.unwrap();
                assert_eq!(r.status(), 200);
            }
        }
        _ => {}
    }
    match c.cookie_jar.as_deref() {
        Some("COOKIE_JAR") => Some(sim.session("root", ROOT_PASSWORD).await),
        _ => None,
    }
}

/// Replay one capture; the differences found.
async fn replay(c: &Capture) -> Vec<String> {
    let sim = Sim::start(state_for(&c.name)).await;
    let cookie = prepare(&sim, c).await;
    let method = reqwest::Method::from_bytes(c.method.as_bytes()).unwrap();
    let mut req = sim.http.request(method, format!("{}{}", sim.base, c.path));
    for (k, v) in &c.headers {
        req = req.header(k, v.replace("<ACCESS_TOKEN>", token_for(&c.name)));
    }
    if let Some(cookie) = cookie {
        req = req.header("Cookie", cookie);
    }
    if let Some(b) = &c.body {
        req = req.body(b.clone());
    }
    let resp = req.send().await.unwrap();
    let mut diffs = Vec::new();
    if resp.status().as_u16() != c.status {
        diffs.push(format!("HTTP {}, simulator {}", c.status, resp.status().as_u16()));
    }
    let got_ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    if got_ct.as_deref() != c.header("Content-Type") {
        diffs.push(format!("content type {:?}, simulator {got_ct:?}", c.header("Content-Type")));
    }
    for h in ["X-New-Api-Version", "X-Oneapi-Request-Id", "Auth-Version", "Set-Cookie", "Cache-Control"] {
        if !c.body_only && c.header(h).is_some() != resp.headers().contains_key(h) {
            diffs.push(format!(
                "header {h}: captured {}, simulator {}",
                c.header(h).is_some(),
                resp.headers().contains_key(h)
            ));
        }
    }
    let body = resp.text().await.unwrap();
    match (c.response_body.is_empty(), body.is_empty()) {
        (true, true) => {}
        (true, false) | (false, true) => {
            diffs.push(format!("body empty: captured {}, simulator {}", c.response_body.is_empty(), body.is_empty()));
        }
        (false, false) => {
            let want: J = serde_json::from_str(&c.response_body).unwrap();
            match serde_json::from_str::<J>(&body) {
                Ok(got) => {
                    same_shape("$", &want, &got, &mut diffs);
                    same_protocol_values(&want, &got, &mut diffs);
                }
                Err(e) => diffs.push(format!("simulator body is not JSON: {e}")),
            }
        }
    }
    diffs
}

#[tokio::test]
async fn every_real_capture_is_answered_alike_by_the_simulator() {
    let all = captures();
    assert_eq!(all.len(), std::fs::read_dir(REAL).unwrap().count(), "every file is a capture");
    assert!(all.len() >= 49);
    let mut failures = Vec::new();
    for c in &all {
        let diffs = replay(c).await;
        if !diffs.is_empty() {
            failures.push(format!("{} ({} {}):\n    {}", c.name, c.method, c.path, diffs.join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} captures differ:\n{}", failures.len(), all.len(), failures.join("\n"));
}

/// The parser and the comparison are what they claim (a test that cannot fail proves nothing).
#[test]
fn the_comparison_catches_names_order_and_types() {
    let j = |s: &str| serde_json::from_str::<J>(s).unwrap();
    let mut d = Vec::new();
    same_shape("$", &j(r#"{"a":1,"b":"x"}"#), &j(r#"{"a":2,"b":"y"}"#), &mut d);
    assert!(d.is_empty(), "{d:?}");
    for (want, got) in [
        (r#"{"a":1,"b":2}"#, r#"{"b":2,"a":1}"#),
        (r#"{"a":null}"#, r#"{"a":"x"}"#),
        (r#"{"a":[1,2]}"#, r#"{"a":[1]}"#),
        (r#"{"o":"{\"s\":1,\"t\":2}"}"#, r#"{"o":"{\"t\":2,\"s\":1}"}"#),
        (r#"{"o":"{\"s\":1}"}"#, r#"{"o":""}"#),
    ] {
        let mut d = Vec::new();
        same_shape("$", &j(want), &j(got), &mut d);
        assert!(!d.is_empty(), "{want} vs {got}");
    }
    let mut d = Vec::new();
    same_protocol_values(
        &j(r#"{"data":{"page":-1},"success":true}"#),
        &j(r#"{"data":{"page":1},"success":true}"#),
        &mut d,
    );
    assert_eq!(d.len(), 1, "{d:?}");
    let mut c = Capture::default();
    parse_curl(
        "# curl -H Authorization: Bearer <ACCESS_TOKEN> -H New-Api-User: 1 -X PUT -d {\"id\":3,\"status\":2} http://127.0.0.1:3300/api/channel/?p=1",
        &mut c,
    );
    assert_eq!((c.method.as_str(), c.path.as_str()), ("PUT", "/api/channel/?p=1"));
    assert_eq!(c.headers[0], ("Authorization".into(), "Bearer <ACCESS_TOKEN>".into()));
    assert_eq!(c.body.as_deref(), Some("{\"id\":3,\"status\":2}"));
}

/// The captures hold no credential: only the placeholders stand where one was.
#[test]
fn placeholders_stay_placeholders() {
    for c in captures() {
        for (k, v) in &c.headers {
            if k.eq_ignore_ascii_case("authorization") {
                assert!(v == "Bearer <ACCESS_TOKEN>" || v == "<ACCESS_TOKEN>", "{}: {k}: {v}", c.name);
            }
        }
        if let Some(cookie) = c.header("Set-Cookie") {
            assert!(cookie.starts_with("session=<SESSION>;"), "{}: {cookie}", c.name);
        }
        if c.path == "/api/user/token" && c.status == 200 {
            assert!(c.response_body.contains("\"data\":\"<ACCESS_TOKEN>\""), "{}", c.name);
        }
        for l in c.response_headers.iter().map(|(k, _)| k) {
            assert!(!l.eq_ignore_ascii_case("authorization"), "{}", c.name);
        }
    }
}
