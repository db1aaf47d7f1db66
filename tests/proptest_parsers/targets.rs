//! The parsers under test, each as gatewatch calls it on a real answer or
//! file, the fixture corpus they are fed, and a runner that turns a panic,
//! a stack overflow or a hang into a test failure.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use gatewatch::gateway::http::{self, RawResponse};
use gatewatch::gateway::litellm::{self, api, config_file, pyyaml, stream::SseMeter};
use gatewatch::gateway::newapi::answer::{self, Sent};
use gatewatch::gateway::newapi::api::{
    BalanceAnswer, Channel, Envelope, Head, ListData, StatusData, StatusTest, TestAnswer,
};
use gatewatch::gateway::newapi::channel::{Flavor, parse_mapping};
use gatewatch::gateway::newapi::list::Collector;
use gatewatch::gateway::{GatewayError, newapi};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// How long one parse may take (debug build, a loaded 2-core machine, inputs ≤ ~300 KB).
pub const LIMIT: Duration = Duration::from_secs(10);

/// Run `f` on a thread with a 2 MiB stack, the size of a tokio worker's (where
/// the poller parses). A panic fails the test with its message, a hang after
/// [`LIMIT`]; a stack overflow aborts the whole test binary, which fails too.
pub fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn a parser thread");
    match rx.recv_timeout(LIMIT) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = handle.join().expect_err("no value means the thread panicked");
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            panic!("{what} panicked: {msg}");
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what} did not finish within {LIMIT:?}"),
    }
}

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn response(status: u16, body: Vec<u8>, path: &str) -> RawResponse {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    RawResponse {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        headers,
        body,
        elapsed: Duration::ZERO,
        path: path.to_owned(),
    }
}

pub fn sent() -> Sent {
    Sent {
        credential_env: "NEW_API_ACCESS_TOKEN".into(),
        token: true,
        user: Some("1".into()),
        user_source: "user_id in gatewatch's config".into(),
    }
}

/// Which parser a JSON body goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Json {
    ModelInfo,
    Health,
    Readiness,
    Callbacks,
    CachePing,
    Models,
    /// An error answer: `litellm::check` and the message extraction.
    LiteLlmError,
    /// Bodies gatewatch only classifies (`check`, the excerpt).
    LiteLlmOther,
    NewApiList,
    NewApiStatus,
    NewApiStatusTest,
    NewApiTest,
    NewApiBalance,
    NewApiChannel,
}

pub const ALL_JSON: [Json; 14] = [
    Json::ModelInfo,
    Json::Health,
    Json::Readiness,
    Json::Callbacks,
    Json::CachePing,
    Json::Models,
    Json::LiteLlmError,
    Json::LiteLlmOther,
    Json::NewApiList,
    Json::NewApiStatus,
    Json::NewApiStatusTest,
    Json::NewApiTest,
    Json::NewApiBalance,
    Json::NewApiChannel,
];

/// What a parse gave: the number of items it produced, or the typed error.
pub type Outcome = Result<usize, GatewayError>;

fn litellm_ok(status: u16, body: Vec<u8>, path: &str) -> Result<RawResponse, GatewayError> {
    litellm::check(response(status, body, path), "LITELLM_MASTER_KEY")
}

/// Parse `body` (answered with `status`) the way gatewatch does for `kind`.
pub fn parse_json(kind: Json, status: u16, body: Vec<u8>) -> Outcome {
    match kind {
        Json::ModelInfo => {
            let r: api::ModelInfoResponse = litellm_ok(status, body, "/model/info")?.json()?;
            let deps: Vec<_> = {
                let mut names = gatewatch::gateway::text::Interner::default();
                r.data.into_iter().map(|e| litellm::to_deployment(e, &mut names)).collect()
            };
            Ok(deps.len())
        }
        Json::Health => {
            let h: api::HealthResponse = litellm_ok(status, body, "/health")?.json()?;
            Ok(litellm::probe_entries(h).len())
        }
        Json::Readiness => {
            let r: api::ReadinessResponse = litellm_ok(status, body, "/health/readiness")?.json()?;
            Ok(usize::from(r.db.is_some()) + usize::from(r.cache.is_some()))
        }
        Json::Callbacks => {
            let r: api::CallbacksResponse = litellm_ok(status, body, "/get/config/callbacks")?.json()?;
            let rs = r.router_settings.unwrap_or_default();
            let n = api::chains(rs.fallbacks.as_ref()).len()
                + api::chains(rs.context_window_fallbacks.as_ref()).len()
                + api::chains(rs.content_policy_fallbacks.as_ref()).len();
            let _ = (api::as_u32(rs.num_retries.as_ref()), api::as_u32(rs.allowed_fails.as_ref()));
            let _ = api::as_f64(rs.cooldown_time.as_ref());
            Ok(n)
        }
        Json::CachePing => {
            let p: api::CachePingResponse = litellm_ok(status, body, "/cache/ping")?.json()?;
            Ok(p.status.len())
        }
        Json::Models => {
            let r: api::ModelsResponse = litellm_ok(status, body, "/v1/models")?.json()?;
            Ok(r.data.len())
        }
        Json::LiteLlmError | Json::LiteLlmOther => {
            let resp = response(status, body, "/v1/chat/completions");
            let message = http::error_message(&resp);
            let _ = (http::status_error(&resp), resp.excerpt(), resp.html_title());
            let _ = http::decode_json::<api::ErrorEnvelope>(&resp.body, &resp.path);
            litellm::check(resp, "LITELLM_MASTER_KEY").map(|_| message.len())
        }
        Json::NewApiList => {
            let resp = answer::check(response(status, body, "/api/channel/?p=1"), &sent())?;
            let items = match resp.json::<Envelope<ListData>>()?.data {
                ListData::Page(p) => p.items.unwrap_or_default(),
                ListData::Bare(items) => items,
            };
            let mut col = Collector::new(Flavor::NewApi, items.len());
            col.add(items);
            let listing = col.finish(Vec::new());
            let served = newapi::served(&listing.deployments);
            Ok(listing.deployments.len() + served.len())
        }
        Json::NewApiStatus => {
            let resp = answer::check(response(status, body, "/api/status"), &sent())?;
            let d = resp.json::<Envelope<StatusData>>()?.data;
            Ok(usize::from(d.version.is_some()))
        }
        Json::NewApiStatusTest => {
            let resp = answer::check(response(status, body, "/api/status/test"), &sent())?;
            let t: StatusTest = resp.json()?;
            Ok(usize::from(t.http_stats.is_some()))
        }
        Json::NewApiTest => {
            // admin::test_channel: the envelope first, then the test fields.
            let resp = response(status, body, "/api/channel/test/1");
            let head: Option<Head> = resp.json().ok();
            if let Some(Head { message: Some(m), .. }) = &head {
                let _ = (answer::english(m), answer::AuthFailure::recognise(m), http::first_line(m));
            }
            let t: TestAnswer = resp.json()?;
            Ok(usize::from(t.time.is_some()))
        }
        Json::NewApiBalance => {
            let resp = answer::check(response(status, body, "/api/channel/update_balance/1"), &sent())?;
            let b: BalanceAnswer = resp.json()?;
            Ok(usize::from(b.balance.is_some()))
        }
        Json::NewApiChannel => {
            let resp = answer::check(response(status, body, "/api/channel/"), &sent())?;
            let c = resp.json::<Envelope<Channel>>()?.data;
            let _ = parse_mapping(c.model_mapping.as_deref());
            let mut col = Collector::new(Flavor::OneApi, 1);
            Ok(col.add(vec![c]))
        }
    }
}

/// The status line of a captured `.headers` file.
pub fn captured_status(name: &str) -> Option<u16> {
    let text = std::fs::read_to_string(format!("{FIXTURES}/litellm/{name}.headers")).ok()?;
    text.lines().next()?.split_whitespace().nth(1)?.parse().ok()
}

/// Every JSON fixture with the parser gatewatch uses for it and the status it came with.
pub fn json_corpus() -> Vec<(String, Json, u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(format!("{FIXTURES}/litellm"))
        .expect("fixtures dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    for file in names {
        let name = file.trim_end_matches(".json").to_owned();
        // The two captured without headers are 503 errors (README of the fixtures).
        let status = captured_status(&name).unwrap_or(503);
        let kind = if !(200..300).contains(&status) {
            Json::LiteLlmError
        } else if name.starts_with("model_info") || name == "v1_model_info" {
            Json::ModelInfo
        } else if matches!(name.as_str(), "health" | "health_stale_key" | "health_upstream_down") {
            Json::Health
        } else if name.starts_with("health_readiness") {
            Json::Readiness
        } else if name == "get_config_callbacks" {
            Json::Callbacks
        } else if name.starts_with("cache_ping") {
            Json::CachePing
        } else if matches!(name.as_str(), "models" | "v1_models" | "auth_api_key_header" | "auth_x_api_key_header") {
            Json::Models
        } else {
            Json::LiteLlmOther
        };
        let body = read(&format!("litellm/{file}"));
        out.push((format!("litellm/{file}"), kind, status, body));
    }
    for (file, kind) in [
        ("channel_list_page1.json", Json::NewApiList),
        ("status.json", Json::NewApiStatus),
        ("channel_test_ok.json", Json::NewApiTest),
        ("channel_test_fail.json", Json::NewApiTest),
        ("update_balance.json", Json::NewApiBalance),
    ] {
        out.push((format!("newapi/{file}"), kind, 200, read(&format!("newapi/{file}"))));
    }
    // One channel alone (the answer of PUT /api/channel/) and One API's bare array.
    let page: serde_json::Value = serde_json::from_slice(&read("newapi/channel_list_page1.json")).expect("fixture");
    let one = serde_json::json!({"success": true, "message": "", "data": page["data"]["items"][0]});
    out.push(("newapi/channel (from page 1)".into(), Json::NewApiChannel, 200, one.to_string().into_bytes()));
    let bare = serde_json::json!({"success": true, "message": "", "data": page["data"]["items"]});
    out.push(("newapi/one-api bare list (from page 1)".into(), Json::NewApiList, 200, bare.to_string().into_bytes()));
    // Every auth failure of unauthorized.json, with its status.
    let unauth: serde_json::Value = serde_json::from_slice(&read("newapi/unauthorized.json")).expect("fixture");
    for (name, v) in unauth.as_object().into_iter().flatten() {
        let Some(status) = v.get("http_status").and_then(serde_json::Value::as_u64) else { continue };
        for lang in ["body", "body_zh_CN"] {
            if let Some(body) = v.get(lang) {
                let status = u16::try_from(status).unwrap_or(401);
                out.push((
                    format!("newapi/unauthorized.json {name} {lang}"),
                    Json::NewApiList,
                    status,
                    body.to_string().into_bytes(),
                ));
            }
        }
    }
    out
}

/// The YAML/text loaders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// gatewatch's own config (`config::parse`).
    Config,
    /// The triage tree (`triage::load::parse`).
    Tree,
    /// LiteLLM's config.yaml (`config_file::parse`, which runs `pyyaml::load`).
    ProxyConfig,
    /// `pyyaml::load` alone, then every value through `pyrepr`.
    PyYaml,
    /// LiteLLM's `/metrics/` exposition (`metrics::parse`, a line at a time).
    Metrics,
}

pub fn env(name: &str) -> Option<String> {
    match name {
        "THIRD_KEY" => Some("sk-upstream-THIRD-env-9999aaaabbbb".into()),
        n if n.starts_with("KEY_") => Some(format!("sk-{n}")),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fn walk_repr(n: &pyyaml::Node, depth: usize) -> usize {
    use gatewatch::gateway::litellm::pyrepr;
    if depth > 64 {
        return 0;
    }
    let _ = (pyrepr::py_str(&n.value), pyrepr::id_part(&n.value), n.is_truthy());
    match &n.value {
        pyyaml::PyValue::List(items) => items.iter().map(|c| walk_repr(c, depth + 1)).sum::<usize>() + 1,
        pyyaml::PyValue::Dict(items) => items.iter().map(|(_, c)| walk_repr(c, depth + 1)).sum::<usize>() + 1,
        _ => 1,
    }
}

/// Load `text` with `kind`: `Ok` with a size, or the error's message (every
/// loader returns a typed error; the message must name a line or a field).
pub fn parse_text(kind: Text, text: &str) -> Result<usize, String> {
    match kind {
        Text::Config => gatewatch::config::parse(text, Path::new("/etc/gatewatch/config.yaml"))
            .map(|c| c.gateways.len())
            .map_err(|e| e.to_string()),
        Text::Tree => {
            gatewatch::triage::load::parse(text, "triage.yaml").map(|t| t.nodes.len()).map_err(|e| e.to_string())
        }
        Text::ProxyConfig => config_file::parse(text, Path::new("/etc/litellm/config.yaml"), &env)
            .map(|c| {
                let _ = c.boot_problems();
                c.deployments.len()
            })
            .map_err(|e| e.to_string()),
        Text::PyYaml => pyyaml::load(text).map(|n| walk_repr(&n, 0)).map_err(|e| e.to_string()),
        Text::Metrics => gatewatch::gateway::litellm::metrics::parse(text).map(|t| t.deployments.len()).map_err(|e| {
            assert!(e.contains("(line ") && e.len() < 400, "an error names its line and is bounded: {e}");
            e
        }),
    }
}

pub fn text_corpus() -> Vec<(&'static str, Text, String)> {
    let s = |p: &str| String::from_utf8(read(p)).expect("UTF-8 fixture");
    vec![
        ("config/example.rs EXAMPLE", Text::Config, gatewatch::config::example::EXAMPLE.to_owned()),
        ("assets/triage.yaml", Text::Tree, gatewatch::triage::load::BUILTIN.to_owned()),
        ("litellm/config.yaml", Text::ProxyConfig, s("litellm/config.yaml")),
        ("litellm/config.yaml (pyyaml)", Text::PyYaml, s("litellm/config.yaml")),
        ("litellm/metrics_1.106.12.txt", Text::Metrics, s("litellm/metrics_1.106.12.txt")),
    ]
}

/// Feed `data` to a fresh meter in pieces of the given sizes (cycled); the
/// observable result, with how many feeds reported the first token.
pub fn meter(data: &[u8], sizes: &[usize]) -> (u32, bool, bool, Option<String>, bool, bool, usize) {
    let mut m = SseMeter::default();
    let mut firsts = 0;
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes.get(i % sizes.len().max(1)).copied().unwrap_or(rest.len()).clamp(1, rest.len());
        let (piece, tail) = rest.split_at(n);
        if m.feed(piece) {
            firsts += 1;
        }
        rest = tail;
        i += 1;
    }
    (m.events, m.done, m.saw_token, m.last_data.clone(), m.has_partial_event(), m.last_chunk_complete(), firsts)
}
