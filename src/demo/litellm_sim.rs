//! A simulated LiteLLM Proxy 1.106.12 for the demo and the tests. It answers
//! the admin endpoints gatewatch uses with the JSON shapes captured from the
//! real proxy (tests/fixtures/litellm), computes deployment ids the way the
//! real router does, and behaves like the real process where it matters:
//! it reads its config file only when it (re)starts, refuses connections
//! while restarting, never reloads on its own, and has no `/cache/purge`.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::sim_ids;
use crate::gateway::litellm::config_file::{self, ProxyConfig};
use crate::triage::prices;

pub const VERSION: &str = "1.106.12";

/// One deployment as the running (simulated) process holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub model_name: String,
    pub id: String,
    pub model: String,
    pub api_base: Option<String>,
    pub provider: String,
    pub key_fingerprint: Option<String>,
    pub input_cost: Option<f64>,
    pub output_cost: Option<f64>,
}

/// The simulated process.
#[derive(Debug)]
pub struct LiteLlmState {
    pub master_key: String,
    pub config_path: PathBuf,
    pub deployments: Vec<Loaded>,
    pub fallbacks: Vec<(String, Vec<String>)>,
    pub num_retries: u32,
    pub cache: Option<String>,
    /// Aliases whose upstream is unreachable.
    pub upstream_down: HashSet<String>,
    /// Fingerprints of upstream keys the provider has revoked.
    pub revoked: HashSet<String>,
    pub restarts: u32,
    pub restart_delay: Duration,
    /// The demo's front door ([`super::front`]) cuts event streams mid-token,
    /// without `data: [DONE]` (a buffering/timeout proxy); straight to this
    /// simulator they stay whole.
    pub cut_streams: bool,
    /// Serve the admin UI login page at `/ui/`.
    pub admin_ui: bool,
    /// Extra delay on every admin answer (for fault tests).
    pub delay: Duration,
    /// Background traffic since the process started (served on `/metrics/`).
    pub traffic: SimTraffic,
}

/// One deployment's requests, and its failures by (status, class).
type SimCounts = (u64, std::collections::BTreeMap<(u16, String), u64>);

/// Simulated client traffic: every deployment gets requests at a steady
/// rate; each succeeds or fails as a real request to it would now.
#[derive(Debug, Clone)]
pub struct SimTraffic {
    /// Serve `/metrics/` at all (the prometheus callback is on).
    pub enabled: bool,
    /// Requests per second to each deployment.
    pub rate: f64,
    last: std::time::Instant,
    carry: f64,
    /// id → (requests, failures by "status class").
    counts: std::collections::BTreeMap<String, SimCounts>,
}

impl Default for SimTraffic {
    /// A process that has been serving for a minute when gatewatch looks.
    fn default() -> Self {
        let now = std::time::Instant::now();
        let last = now.checked_sub(Duration::from_secs(60)).unwrap_or(now);
        Self { enabled: true, rate: 0.5, last, carry: 0.0, counts: std::collections::BTreeMap::new() }
    }
}

impl SimTraffic {
    /// A process that just started: nothing counted yet.
    fn restarted(&self) -> Self {
        Self { enabled: self.enabled, rate: self.rate, last: std::time::Instant::now(), ..Self::default() }
    }
}

pub type Shared = Arc<Mutex<LiteLlmState>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, LiteLlmState> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LiteLlmState {
    /// Boot from the config file on disk, as the real proxy does at start.
    pub fn boot(config_path: PathBuf, master_key: String) -> Result<Self, String> {
        let mut s = Self::empty(config_path, master_key);
        s.load()?;
        Ok(s)
    }

    /// A process holding nothing yet.
    fn empty(config_path: PathBuf, master_key: String) -> Self {
        Self {
            master_key,
            config_path,
            deployments: Vec::new(),
            fallbacks: Vec::new(),
            num_retries: 0,
            cache: None,
            upstream_down: HashSet::new(),
            revoked: HashSet::new(),
            restarts: 0,
            restart_delay: Duration::from_millis(2500),
            cut_streams: false,
            admin_ui: false,
            delay: Duration::ZERO,
            traffic: SimTraffic::default(),
        }
    }

    /// `n` generated deployments with made-up ids and no config file (scale
    /// measurements only: nothing compares these ids with a config).
    pub fn generated(n: usize, master_key: String) -> Self {
        let mut s = Self::empty(PathBuf::new(), master_key);
        s.deployments = (0..n)
            .map(|i| Loaded {
                model_name: format!("model-{i:05}"),
                id: format!("{:064x}", i + 1),
                model: "openai/gpt-4o".into(),
                api_base: Some(format!("http://10.0.{}.{}:8000/v1", i / 250, i % 250)),
                provider: "openai".into(),
                key_fingerprint: None,
                input_cost: None,
                output_cost: None,
            })
            .collect();
        s
    }

    /// Replace what the running process holds (the demo stages an incident).
    pub fn load_text(&mut self, text: &str) -> Result<(), String> {
        let cfg = config_file::parse(text, &self.config_path, &config_file::process_env).map_err(|e| e.to_string())?;
        let ids = sim_ids::recorded(text, &config_file::process_env)?;
        self.apply(&cfg, ids)
    }

    /// Re-read the file (only ever called at start and restart).
    pub fn load(&mut self) -> Result<(), String> {
        let text =
            std::fs::read_to_string(&self.config_path).map_err(|e| format!("{}: {e}", self.config_path.display()))?;
        self.load_text(&text)
    }

    /// Hold the config's deployments, each with the id LiteLLM itself
    /// computed for it (recorded), never one computed by gatewatch.
    fn apply(&mut self, cfg: &ProxyConfig, ids: &[(String, String)]) -> Result<(), String> {
        let names: Vec<&str> = cfg.deployments.iter().map(|d| d.model_name.as_str()).collect();
        let recorded: Vec<&str> = ids.iter().map(|(n, _)| n.as_str()).collect();
        if names != recorded {
            return Err(format!("recorded ids are for {recorded:?}, the config has {names:?}"));
        }
        self.deployments = cfg
            .deployments
            .iter()
            .zip(ids)
            .map(|(d, (_, id))| {
                let model = d.upstream_model.clone().unwrap_or_default();
                let price = prices::shipped(&model);
                Loaded {
                    model_name: d.model_name.clone(),
                    id: id.clone(),
                    provider: model.split_once('/').map_or("openai", |(p, _)| p).to_owned(),
                    model,
                    api_base: d.api_base.clone(),
                    key_fingerprint: d.field("api_key").map(|f| f.fingerprint.to_string()),
                    input_cost: d.input_cost_per_token.or(price.map(|p| p.input)),
                    output_cost: d.output_cost_per_token.or(price.map(|p| p.output)),
                }
            })
            .collect();
        self.fallbacks.clone_from(&cfg.fallbacks);
        self.num_retries = cfg.num_retries.unwrap_or(0);
        self.cache.clone_from(&cfg.cache);
        Ok(())
    }

    fn healthy(&self, d: &Loaded) -> Result<(), (u16, String)> {
        if self.upstream_down.contains(&d.model_name) {
            return Err((
                500,
                "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.".into(),
            ));
        }
        if d.key_fingerprint.as_ref().is_some_and(|f| self.revoked.contains(f)) {
            return Err((
                401,
                "litellm.AuthenticationError: AuthenticationError: OpenAIException - Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.".into(),
            ));
        }
        Ok(())
    }
}

fn error(status: StatusCode, kind: &str, message: &str, param: &Value) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "type": kind, "param": param, "code": status.as_u16().to_string()}})),
    )
        .into_response()
}

/// The proxy's auth: no key → 401; a wrong key without a DB → 400 "No connected db."
impl LiteLlmState {
    /// Advance the background traffic to now.
    fn advance_traffic(&mut self) {
        let now = std::time::Instant::now();
        let due = now.duration_since(self.traffic.last).as_secs_f64() * self.traffic.rate + self.traffic.carry;
        self.traffic.last = now;
        let n = due.floor();
        self.traffic.carry = due - n;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = n.max(0.0) as u64;
        if n == 0 {
            return;
        }
        let outcomes: Vec<(String, Option<u16>)> =
            self.deployments.iter().map(|d| (d.id.clone(), self.healthy(d).err().map(|e| e.0))).collect();
        for (id, outcome) in outcomes {
            let e = self.traffic.counts.entry(id).or_default();
            e.0 += n;
            if let Some(status) = outcome {
                let class = if status == 401 { "AuthenticationError" } else { "Openai.InternalServerError" };
                *e.1.entry((status, class.to_owned())).or_default() += n;
            }
        }
    }

    /// The Prometheus exposition, shaped as LiteLLM 1.106.12 writes it
    /// (tests/fixtures/litellm/metrics_1.106.12.txt): per deployment state,
    /// requests, successes and failures with their status and class.
    fn exposition(&mut self) -> String {
        use std::fmt::Write as _;
        self.advance_traffic();
        let mut state = String::from(
            "# HELP litellm_deployment_state LLM Deployment Analytics - The state of the deployment: 0 = healthy, 1 = partial outage, 2 = complete outage\n# TYPE litellm_deployment_state gauge\n",
        );
        let mut total = String::from(
            "# HELP litellm_deployment_total_requests_total LLM Deployment Analytics - Total number of LLM API calls via litellm - success + failure\n# TYPE litellm_deployment_total_requests_total counter\n",
        );
        let mut ok = String::from(
            "# HELP litellm_deployment_success_responses_total LLM Deployment Analytics - Total number of successful LLM API calls via litellm\n# TYPE litellm_deployment_success_responses_total counter\n",
        );
        let mut failed = String::from(
            "# HELP litellm_deployment_failure_responses_total LLM Deployment Analytics - Total number of failed LLM API calls for a specific LLM deploymeny. exception_status is the status of the exception from the llm api\n# TYPE litellm_deployment_failure_responses_total counter\n",
        );
        for d in &self.deployments {
            let Some((requests, errors)) = self.traffic.counts.get(d.id.as_str()) else { continue };
            let base = d.api_base.clone().unwrap_or_default();
            let upstream = d.model.split_once('/').map_or(d.model.as_str(), |(_, m)| m);
            let common = format!(
                "api_base=\"{base}\",api_provider=\"{}\",litellm_model_name=\"{upstream}\",model_id=\"{}\"",
                d.provider, d.id
            );
            let per_request = format!(
                "{common},api_key_alias=\"None\",client_ip=\"127.0.0.1\",hashed_api_key=\"litellm_proxy_master_key\",model_group=\"{}\",requested_model=\"{}\",team=\"None\",team_alias=\"None\",user_agent=\"\"",
                d.model_name, d.model_name
            );
            let failures: u64 = errors.values().sum();
            let _ = writeln!(
                state,
                "litellm_deployment_state{{{common}}} {}",
                if failures > 0 && self.healthy(d).is_err() { "1.0" } else { "0.0" }
            );
            let _ = writeln!(total, "litellm_deployment_total_requests_total{{{per_request}}} {requests}.0");
            let _ =
                writeln!(ok, "litellm_deployment_success_responses_total{{{per_request}}} {}.0", requests - failures);
            for ((status, class), n) in errors {
                let _ = writeln!(
                    failed,
                    "litellm_deployment_failure_responses_total{{{per_request},exception_class=\"{class}\",exception_status=\"{status}\"}} {n}.0"
                );
            }
        }
        format!("{state}{total}{ok}{failed}")
    }
}

async fn metrics(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let mut s = lock(&state);
    if !s.traffic.enabled {
        return error(StatusCode::NOT_FOUND, "not_found", "Not Found", &Value::Null);
    }
    if let Err(r) = auth(&s, &headers) {
        return r;
    }
    let text = s.exposition();
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

fn auth(s: &LiteLlmState, headers: &HeaderMap) -> Result<(), Response> {
    let raw = headers
        .get("authorization")
        .or_else(|| headers.get("x-litellm-api-key"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(raw) = raw else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "auth_error",
            "Authentication Error, No api key passed in.",
            &json!("None"),
        ));
    };
    let Some(key) = raw.strip_prefix("Bearer ") else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "auth_error",
            "Authentication Error, Malformed API Key passed in. Ensure Key has `Bearer ` prefix.",
            &json!("None"),
        ));
    };
    if key.trim() != s.master_key {
        return Err(error(StatusCode::BAD_REQUEST, "no_db_connection", "No connected db.", &Value::Null));
    }
    Ok(())
}

async fn pause(state: &Shared) {
    let d = lock(state).delay;
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

async fn liveliness(State(state): State<Shared>) -> Response {
    pause(&state).await;
    Json(json!("I'm alive!")).into_response()
}

async fn readiness(State(state): State<Shared>) -> Response {
    pause(&state).await;
    Json(json!({"status": "healthy", "db": "Not connected"})).into_response()
}

async fn readiness_details(State(state): State<Shared>, headers: HeaderMap) -> Response {
    pause(&state).await;
    let s = lock(&state);
    if let Err(r) = auth(&s, &headers) {
        return r;
    }
    Json(json!({
        "status": "healthy", "db": "Not connected", "cache": s.cache, "litellm_version": VERSION,
        "success_callbacks": [], "use_aiohttp_transport": true, "log_level": "WARNING", "is_detailed_debug": false,
        "show_no_redis_warning": false, "show_env_credential_login_warning": false
    }))
    .into_response()
}

fn model_entry(d: &Loaded) -> Value {
    let mut params = serde_json::Map::new();
    if let Some(b) = &d.api_base {
        params.insert("api_base".into(), json!(b));
    }
    for k in [
        "allow_client_keepalive_override",
        "use_in_pass_through",
        "use_litellm_proxy",
        "use_xai_oauth",
        "merge_reasoning_content_in_choices",
    ] {
        params.insert(k.into(), json!(false));
    }
    params.insert("model".into(), json!(d.model));
    json!({
        "model_name": d.model_name,
        "litellm_params": params,
        "model_info": {
            "id": d.id, "db_model": false, "member_auto_router": false, "pricing_overrides": [],
            "key": d.model.rsplit('/').next().unwrap_or(&d.model), "max_tokens": 16384, "max_input_tokens": 128_000, "max_output_tokens": 16384,
            "input_cost_per_token": d.input_cost, "output_cost_per_token": d.output_cost,
            "litellm_provider": d.provider, "mode": "chat", "supports_function_calling": true
        }
    })
}

async fn model_info(State(state): State<Shared>, headers: HeaderMap) -> Response {
    pause(&state).await;
    let s = lock(&state);
    if let Err(r) = auth(&s, &headers) {
        return r;
    }
    Json(json!({"data": s.deployments.iter().map(model_entry).collect::<Vec<_>>()})).into_response()
}

async fn models(State(state): State<Shared>, headers: HeaderMap) -> Response {
    pause(&state).await;
    let s = lock(&state);
    if let Err(r) = auth(&s, &headers) {
        return r;
    }
    let mut seen = HashSet::new();
    let data: Vec<Value> = s
        .deployments
        .iter()
        .filter(|d| seen.insert(d.model_name.clone()))
        .map(|d| json!({"id": d.model_name, "object": "model", "created": 1_677_610_602, "owned_by": d.provider, "mode": "chat"}))
        .collect();
    Json(json!({"data": data, "object": "list"})).into_response()
}

async fn callbacks(State(state): State<Shared>, headers: HeaderMap) -> Response {
    pause(&state).await;
    let s = lock(&state);
    if let Err(r) = auth(&s, &headers) {
        return r;
    }
    let fallbacks: Vec<Value> = s.fallbacks.iter().map(|(k, v)| json!({ k.clone(): v })).collect();
    Json(json!({
        "status": "success", "callbacks": [], "alerts": [], "active_alerting_destinations": [],
        "router_settings": {
            "routing_strategy_args": {}, "routing_strategy": "simple-shuffle", "allowed_fails": 3, "cooldown_time": 5,
            "num_retries": s.num_retries, "timeout": 6000.0, "retry_after": 0, "fallbacks": fallbacks,
            "context_window_fallbacks": null, "model_group_retry_policy": {}, "retry_policy": null, "model_group_alias": {},
            "enable_weighted_failover": false, "enable_tag_filtering": false, "tag_routing_prefix": "", "routing_groups": []
        }
    }))
    .into_response()
}

async fn cache_ping(State(state): State<Shared>, headers: HeaderMap) -> Response {
    pause(&state).await;
    let s = lock(&state);
    if let Err(r) = auth(&s, &headers) {
        return r;
    }
    match &s.cache {
        None => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "cache_ping_error",
            "{\"message\": \"Cache not initialized. litellm.cache is None\", \"litellm_cache_params\": \"{}\", \"health_check_cache_params\": \"{}\"}",
            &json!("cache_ping"),
        ),
        Some(kind) => Json(json!({
            "status": "healthy", "cache_type": kind, "ping_response": if kind == "redis" { json!(true) } else { Value::Null },
            "set_cache_response": if kind == "redis" { json!("success") } else { Value::Null },
            "litellm_cache_params": "{}", "health_check_cache_params": null
        }))
        .into_response(),
    }
}

async fn cache_flushall(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let s = lock(&state);
    if let Err(r) = auth(&s, &headers) {
        return r;
    }
    match s.cache.as_deref() {
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"detail": "Service Unhealthy (Cache not initialized. litellm.cache is None)"})),
        )
            .into_response(),
        Some("redis") => Json(json!({"status": "success"})).into_response(),
        Some(kind) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"detail": format!("Service Unhealthy (500: Cache type {kind} does not support flushing)")})),
        )
            .into_response(),
    }
}

async fn health(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let s = lock(&state);
    if let Err(r) = auth(&s, &headers) {
        return r;
    }
    let mut healthy = Vec::new();
    let mut unhealthy = Vec::new();
    for d in &s.deployments {
        let base = json!(d.api_base);
        match s.healthy(d) {
            Ok(()) => healthy.push(json!({"api_base": base, "model": d.model, "model_id": d.id})),
            Err((status, msg)) => {
                let tail: String = d
                    .key_fingerprint
                    .as_deref()
                    .unwrap_or("xx")
                    .chars()
                    .rev()
                    .take(2)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                unhealthy.push(json!({
                    "api_base": base, "model": d.model, "error": format!("{msg}\nstack trace: Traceback (most recent call last):\n  (simulated)"),
                    "raw_request_typed_dict": {"raw_request_api_base": base, "raw_request_body": {"model": d.model, "messages": [{"role": "user", "content": "What's 1 + 1?"}], "max_tokens": 16}, "raw_request_headers": {"Authorization": format!("Be****{tail}")}, "error": null},
                    "model_id": d.id, "exception_status": status
                }));
            }
        }
    }
    let (h, u) = (healthy.len(), unhealthy.len());
    Json(json!({"healthy_endpoints": healthy, "unhealthy_endpoints": unhealthy, "healthy_count": h, "unhealthy_count": u})).into_response()
}

/// Route one request through aliases and fallbacks, as the router would.
fn route<'a>(s: &'a LiteLlmState, model: &str) -> Result<(&'a Loaded, u32), Response> {
    let mut tried = 0u32;
    let mut chain = vec![model.to_owned()];
    if let Some((_, to)) = s.fallbacks.iter().find(|(from, _)| from == model) {
        chain.extend(to.iter().cloned());
    }
    let mut last = None;
    for alias in &chain {
        let Some(d) = s.deployments.iter().find(|d| &d.model_name == alias || d.model == *alias) else {
            if alias == model {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    &format!(
                        "/chat/completions: Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
                    ),
                    &Value::Null,
                ));
            }
            continue;
        };
        match s.healthy(d) {
            Ok(()) => return Ok((d, tried)),
            Err(e) => {
                last = Some(e);
                tried += 1;
            }
        }
    }
    let (status, msg) = last.unwrap_or((500, "no deployment".into()));
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Err(error(code, if status == 401 { "authentication_error" } else { "internal_server_error" }, &msg, &Value::Null))
}

async fn chat(State(state): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let s = lock(&state);
    if let Err(r) = auth(&s, &headers) {
        return r;
    }
    let model = body.get("model").and_then(Value::as_str).unwrap_or_default().to_owned();
    let (d, fallbacks) = match route(&s, &model) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let cost = d.input_cost.unwrap_or(0.0) * 12.0 + d.output_cost.unwrap_or(0.0) * 1.0;
    let mut resp = if body.get("stream").and_then(Value::as_bool) == Some(true) {
        let mut text = String::new();
        for tok in ["1", ",", " 2", ",", " 3"] {
            text.push_str(&format!(
                "data: {}\n\n",
                json!({"id": "chatcmpl-sim", "object": "chat.completion.chunk", "created": 1_795_554_456, "model": d.model_name, "choices": [{"index": 0, "delta": {"content": tok}}]})
            ));
        }
        text.push_str(&format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-sim", "object": "chat.completion.chunk", "created": 1_795_554_456, "model": d.model_name, "choices": [{"finish_reason": "stop", "index": 0, "delta": {}}]})
        ));
        text.push_str("data: [DONE]\n\n");
        let mut r = Response::new(Body::from(text));
        r.headers_mut().insert("content-type", "text/event-stream; charset=utf-8".parse().expect("static header"));
        r.headers_mut().insert("x-accel-buffering", "no".parse().expect("static header"));
        r
    } else {
        Json(json!({
            "id": "chatcmpl-sim", "created": 1_795_554_443, "model": d.model_name, "object": "chat.completion",
            "choices": [{"finish_reason": "length", "index": 0, "message": {"content": "ok", "role": "assistant"}}],
            "usage": {"completion_tokens": 1, "prompt_tokens": 12, "total_tokens": 13}
        }))
        .into_response()
    };
    let h = resp.headers_mut();
    let mut put = |k: &'static str, v: String| {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    };
    put("x-litellm-model-id", d.id.clone());
    put("x-litellm-model-group", d.model_name.clone());
    put("x-litellm-model-api-base", d.api_base.clone().unwrap_or_default());
    put("x-litellm-version", VERSION.to_owned());
    put("x-litellm-attempted-fallbacks", fallbacks.to_string());
    put("x-litellm-attempted-retries", "0".to_owned());
    put("x-litellm-response-cost", format!("{cost}"));
    resp
}

async fn admin_ui(State(state): State<Shared>) -> Response {
    if lock(&state).admin_ui {
        (
            [("content-type", "text/html")],
            "<!doctype html><html><head><title>LiteLLM Dashboard</title></head><body>login</body></html>",
        )
            .into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({"detail": "Not Found"}))).into_response()
    }
}

/// A running simulated proxy that can be restarted like a process.
#[derive(Clone)]
pub struct SimProxy {
    pub state: Shared,
    pub addr: SocketAddr,
    cancel: Arc<Mutex<CancellationToken>>,
    root: CancellationToken,
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/health/liveliness", get(liveliness))
        .route("/health/liveness", get(liveliness))
        .route("/health/readiness", get(readiness))
        .route("/health/readiness/details", get(readiness_details))
        .route("/health", get(health))
        .route("/metrics/", get(metrics))
        .route("/model/info", get(model_info))
        .route("/v1/model/info", get(model_info))
        .route("/v1/models", get(models))
        .route("/models", get(models))
        .route("/get/config/callbacks", get(callbacks))
        .route("/cache/ping", get(cache_ping))
        .route("/cache/flushall", post(cache_flushall))
        .route("/ui/", get(admin_ui))
        .route("/v1/chat/completions", post(chat))
        .route("/chat/completions", post(chat))
        .with_state(state)
}

async fn serve_on(listener: tokio::net::TcpListener, state: Shared, stop: CancellationToken) {
    let app = router(state);
    let _ = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
}

impl SimProxy {
    /// Boot on 127.0.0.1 (port 0 = any free port).
    pub async fn start(state: LiteLlmState, port: u16, root: CancellationToken) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(state));
        let stop = root.child_token();
        tokio::spawn(serve_on(listener, state.clone(), stop.clone()));
        Ok(Self { state, addr, cancel: Arc::new(Mutex::new(stop)), root })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Like a process restart: stop listening (connections are refused),
    /// re-read the config file, listen again on the same port.
    pub async fn restart(&self) -> Result<(), String> {
        let old = self.cancel.lock().map_err(|_| "poisoned".to_owned())?.clone();
        old.cancel();
        let delay = lock(&self.state).restart_delay;
        tokio::time::sleep(delay).await;
        {
            let mut s = lock(&self.state);
            s.load()?;
            s.restarts += 1;
            // A new process: its counters start at zero.
            s.traffic = s.traffic.restarted();
        }
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(format!("cannot listen again on {}: {e}", self.addr)),
            }
        };
        let stop = self.root.child_token();
        *self.cancel.lock().map_err(|_| "poisoned".to_owned())? = stop.clone();
        tokio::spawn(serve_on(listener, self.state.clone(), stop));
        Ok(())
    }

    /// A control server (loopback only) that the demo's restart command calls:
    /// `POST /restart` restarts the proxy and answers when it listens again.
    pub async fn control(&self) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let me = self.clone();
        let app = Router::new().route(
            "/restart",
            post(move || {
                let me = me.clone();
                async move {
                    match me.restart().await {
                        Ok(()) => (StatusCode::OK, "restarted\n".to_owned()),
                        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("restart failed: {e}\n")),
                    }
                }
            }),
        );
        let stop = self.root.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
        });
        Ok(addr)
    }
}
