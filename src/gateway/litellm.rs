//! LiteLLM Proxy adapter (checked against LiteLLM 1.106.12).
//!
//! Endpoints: `/health/liveliness` (no key), `/health/readiness/details`
//! (falls back to `/health/readiness` on older versions), `/model/info`,
//! `/get/config/callbacks`, `/cache/ping`, `/v1/models`; actions
//! `/cache/flushall` (Redis response cache only), `/health` (paid: one
//! request per deployment), and tiny chat completions for route and stream
//! probes. There is no `/cache/purge` and no endpoint reloads the config file.

pub mod api;
pub mod config_file;
pub mod drift;
pub mod metrics;
pub mod model_id;
pub mod params;
pub mod prometheus;
pub mod proxy_env;
pub mod pyrepr;
pub mod pyyaml;
pub mod redis_probe;
pub mod stream;

use crate::gateway::parse_memo::ParseMemo;
use crate::gateway::text::Interner;
use compact_str::CompactString;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde_json::{Value, json};

use super::http::{self, HttpClient, RawResponse};
use super::{
    AdminOp, AdminResult, AuthState, CacheState, Deployment, Gateway, GatewayError, KeyVisibility, Liveness,
    ProbeEntry, Readiness, ReplicaSnapshot, ReplicaTarget, RouteReport, RouterSettings, Section,
};
use crate::config::GatewaySpec;
use crate::secret::Secret;

pub struct LiteLlm {
    spec: GatewaySpec,
    key: Option<Secret>,
    http: HttpClient,
    slow: HttpClient,
    /// `prometheus_url`: live traffic read there instead of each replica's `/metrics/`.
    prom: Option<prometheus::PromClient>,
    /// `/model/info` answers parsed once however many replicas (and
    /// refreshes) answer the same bytes.
    parsed: std::sync::Arc<ParseMemo<Vec<Deployment>>>,
}

impl LiteLlm {
    pub fn new(spec: GatewaySpec) -> Self {
        let key = std::env::var(&spec.credential_env).ok().filter(|k| !k.is_empty()).map(Secret::new);
        Self::with_key(spec, key)
    }

    pub fn with_key(spec: GatewaySpec, key: Option<Secret>) -> Self {
        let http = HttpClient::new(spec.timeout, spec.max_body_bytes);
        let slow = HttpClient::new(spec.action_timeout, spec.max_body_bytes);
        let prom = spec
            .prometheus_url
            .as_deref()
            .map(|u| prometheus::PromClient::new(u, spec.prometheus_job.as_deref(), spec.timeout, spec.max_body_bytes));
        Self { spec, key, http, slow, prom, parsed: std::sync::Arc::default() }
    }

    fn auth_headers(&self) -> Result<HeaderMap, GatewayError> {
        let key = self
            .key
            .as_ref()
            .ok_or_else(|| GatewayError::MissingCredential { env: self.spec.credential_env.clone() })?;
        let mut h = HeaderMap::new();
        if let Some(v) = http::bearer(key) {
            h.insert(AUTHORIZATION, v);
        }
        Ok(h)
    }

    async fn get(&self, base: &str, path: &str, auth: bool) -> Result<RawResponse, GatewayError> {
        let headers = if auth { self.auth_headers()? } else { HeaderMap::new() };
        let resp = self.http.send(Method::GET, base, path, headers, None).await?;
        check(resp, &self.spec.credential_env)
    }

    async fn model_info(&self, base: &str) -> Result<std::sync::Arc<Vec<Deployment>>, GatewayError> {
        // Tens of megabytes at thousands of deployments: kept as received and
        // hashed as it arrives, so that an answer already parsed (the same
        // model list on every replica, and between refreshes) is known
        // without copying or reading it again.
        let headers = self.auth_headers()?;
        let (head, large) = self.http.get_large(base, "/model/info", headers, &self.parsed.digester()).await?;
        let head = check(head, &self.spec.credential_env)?;
        let Some(large) = large else {
            // Only a failed answer is read whole, and `check` refused it.
            return Err(http::status_error(&head));
        };
        // A parse of new bytes on the blocking pool (the replicas' answers in
        // parallel, the async workers free for the UI).
        let cache = std::sync::Arc::clone(&self.parsed);
        tokio::task::spawn_blocking(move || {
            cache.get_or_parse_id(large.id(), || {
                let parsed: api::ModelInfoResponse = http::decode_json(&large.to_vec(), "/model/info")?;
                let mut names = Interner::default();
                Ok(parsed.data.into_iter().map(|e| to_deployment(e, &mut names)).collect())
            })
        })
        .await
        .unwrap_or_else(|e| {
            Err(GatewayError::WrongShape { path: "/model/info".into(), detail: format!("parse aborted: {e}") })
        })
    }

    async fn readiness(&self, base: &str) -> (Result<Readiness, GatewayError>, Option<String>, u32) {
        let detailed =
            if self.key.is_some() { Some(self.get(base, "/health/readiness/details", true).await) } else { None };
        let (resp, n) = match detailed {
            Some(Ok(r)) => (Ok(r), 1),
            Some(Err(GatewayError::NotFound { .. } | GatewayError::Auth { .. })) | None => {
                (self.get(base, "/health/readiness", false).await, 2)
            }
            Some(Err(e)) => (Err(e), 1),
        };
        match resp.and_then(|r| r.json::<api::ReadinessResponse>()) {
            Ok(r) => {
                let text = |v: Option<&Value>| {
                    v.filter(|v| !v.is_null()).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                };
                (
                    Ok(Readiness { status: r.status, db: text(r.db.as_ref()), cache: text(r.cache.as_ref()) }),
                    r.litellm_version,
                    n,
                )
            }
            Err(e) => (Err(e), None, n),
        }
    }

    async fn router(&self, base: &str) -> Result<RouterSettings, GatewayError> {
        let r: api::CallbacksResponse = self.get(base, "/get/config/callbacks", true).await?.json()?;
        let rs = r.router_settings.unwrap_or_default();
        let default_fallbacks = match rs.default_fallbacks {
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        };
        Ok(RouterSettings {
            fallbacks: api::chains(rs.fallbacks.as_ref()),
            context_window_fallbacks: api::chains(rs.context_window_fallbacks.as_ref()),
            content_policy_fallbacks: api::chains(rs.content_policy_fallbacks.as_ref()),
            default_fallbacks,
            num_retries: api::as_u32(rs.num_retries.as_ref()),
            allowed_fails: api::as_u32(rs.allowed_fails.as_ref()),
            cooldown_time: api::as_f64(rs.cooldown_time.as_ref()),
            routing_strategy: rs.routing_strategy,
        })
    }

    async fn cache(&self, base: &str) -> Result<CacheState, GatewayError> {
        let headers = self.auth_headers()?;
        let resp = self.http.send(Method::GET, base, "/cache/ping", headers, None).await?;
        // 503 cache_ping_error "Cache not initialized" means no cache is configured.
        if resp.status.as_u16() == 503 && !resp.is_html() {
            let msg = http::error_message(&resp);
            if msg.contains("Cache not initialized") {
                return Err(GatewayError::Unsupported("no response cache configured".into()));
            }
            return Ok(CacheState { kind: "unknown".into(), healthy: false, detail: msg });
        }
        let resp = check(resp, &self.spec.credential_env)?;
        let p: api::CachePingResponse = resp.json()?;
        Ok(CacheState {
            kind: p.cache_type.unwrap_or_else(|| "unknown".into()),
            healthy: p.status == "healthy",
            detail: p.ping_response.map(|v| format!("ping {v}")).unwrap_or_default(),
        })
    }

    /// Live counters per deployment (`/metrics/`: the prometheus callback).
    async fn traffic(&self, base: &str) -> Result<metrics::Traffic, GatewayError> {
        let resp = self.get(base, "/metrics/", true).await?;
        let text = String::from_utf8_lossy(&resp.body);
        metrics::parse(&text).map_err(|detail| GatewayError::WrongShape { path: "/metrics/".into(), detail })
    }

    async fn served(&self, base: &str) -> Result<Vec<String>, GatewayError> {
        let r: api::ModelsResponse = self.get(base, "/v1/models", true).await?.json()?;
        Ok(r.data.into_iter().map(|m| m.id).collect())
    }

    async fn probe_health(&self, base: &str) -> Result<AdminResult, GatewayError> {
        let resp = self.slow.send(Method::GET, base, "/health", self.auth_headers()?, None).await?;
        let resp = check(resp, &self.spec.credential_env)?;
        let h: api::HealthResponse = resp.json()?;
        Ok(AdminResult::Probe { entries: probe_entries(h) })
    }

    async fn tiny_completion(&self, base: &str, model: &str) -> Result<AdminResult, GatewayError> {
        let body = json!({
            "model": model,
            "messages": [{"role": "user", "content": "Reply with: ok"}],
            "max_tokens": 1,
            "temperature": 0
        });
        let started = Instant::now();
        let resp = self.slow.send(Method::POST, base, "/v1/chat/completions", self.auth_headers()?, Some(body)).await?;
        let h = |n: &str| resp.header(n).map(str::to_owned);
        let num = |n: &str| resp.header(n).and_then(|v| v.parse::<f64>().ok());
        let ok = resp.status.is_success();
        Ok(AdminResult::Route(RouteReport {
            model_group: h("x-litellm-model-group"),
            model_id: h("x-litellm-model-id"),
            api_base: h("x-litellm-model-api-base"),
            attempted_fallbacks: num("x-litellm-attempted-fallbacks").map(|f| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = f as u32;
                n
            }),
            attempted_retries: num("x-litellm-attempted-retries").map(|f| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = f as u32;
                n
            }),
            response_cost: num("x-litellm-response-cost"),
            status: resp.status.as_u16(),
            error: (!ok).then(|| http::error_message(&resp)),
            elapsed: started.elapsed(),
        }))
    }
}

/// One entry per deployment of a `/health` answer (public for the property tests).
pub fn probe_entries(h: api::HealthResponse) -> Vec<ProbeEntry> {
    let mut entries = Vec::new();
    for (healthy, list) in [(true, h.healthy_endpoints), (false, h.unhealthy_endpoints)] {
        for e in list {
            let auth_tail = e
                .raw_request_typed_dict
                .as_ref()
                .and_then(|d| d.pointer("/raw_request_headers/Authorization"))
                .and_then(Value::as_str)
                .and_then(|m| m.rsplit('*').next())
                .filter(|t| !t.is_empty() && t.len() <= 2)
                .map(str::to_owned);
            entries.push(ProbeEntry {
                id: e.model_id.unwrap_or_default(),
                model: e.model.unwrap_or_default(),
                healthy,
                status: api::as_f64(e.exception_status.as_ref()).and_then(|f| {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let s = f as u16;
                    (100.0..600.0).contains(&f).then_some(s)
                }),
                error: e.error.as_deref().map(|m| http::first_line(strip_stack(m))),
                auth_tail,
            });
        }
    }
    entries
}

fn strip_stack(m: &str) -> &str {
    m.split("\nstack trace:").next().unwrap_or(m)
}

/// Map non-success answers to errors, recognising LiteLLM's auth failures.
pub fn check(resp: RawResponse, env: &str) -> Result<RawResponse, GatewayError> {
    if resp.status.is_success() {
        if resp.is_html() {
            return Err(GatewayError::Html { status: resp.status.as_u16(), title: resp.html_title() });
        }
        return Ok(resp);
    }
    let status = resp.status.as_u16();
    if resp.is_html() {
        return Err(http::status_error(&resp));
    }
    let kind = serde_json::from_slice::<api::ErrorEnvelope>(&resp.body).ok().and_then(|e| e.error.kind);
    let message = http::error_message(&resp);
    match (status, kind.as_deref()) {
        (401 | 403, _) | (_, Some("auth_error")) => Err(GatewayError::Auth {
            status,
            message,
            hint: format!("the proxy does not accept the key in {env}: it must equal general_settings.master_key (or a virtual key with admin rights)"),
        }),
        // Measured on 1.106.12: without a database the proxy answers every
        // key that is not its master key with 400 `no_db_connection`
        // "No connected db." (it tries to look the key up as a virtual key).
        (400, Some("no_db_connection")) => Err(GatewayError::Auth {
            status,
            message: format!("wrong master key: the proxy has no database, so it answers every key other than its master key with \"{message}\""),
            hint: format!(
                "set {env} in gatewatch's environment to the proxy's master key: general_settings.master_key in its config, or the LITELLM_MASTER_KEY it was started with"
            ),
        }),
        (500, _) if message == "Internal Server Error" => Err(GatewayError::Http {
            status,
            message: "plain-text 500 from the auth handler: the proxy's environment lacks the prisma package, so auth failures crash (install litellm[proxy] with prisma)".into(),
        }),
        _ => Err(http::status_error(&resp)),
    }
}

/// One `/model/info` entry as a [`Deployment`] (public for the benchmarks and property tests).
pub fn to_deployment(e: api::ModelInfoEntry, names: &mut Interner) -> Deployment {
    let id = match e.model_info.id {
        Some(Value::String(s)) => CompactString::new(&s),
        Some(v) => CompactString::new(v.to_string()),
        None => CompactString::default(),
    };
    let mut d = Deployment::unlisted(id, CompactString::new(&e.model_name));
    let model = e.litellm_params.model;
    d.provider = names.text(
        e.model_info
            .litellm_provider
            .as_deref()
            .or(e.litellm_params.custom_llm_provider.as_deref())
            .or_else(|| model.as_deref().and_then(|m| m.split_once('/')).map(|(p, _)| p))
            .unwrap_or("openai"),
    );
    // `openai/gpt-4o` (the deployment's model string) also routes here.
    d.models = match &model {
        Some(m) if m != &e.model_name => names.names([e.model_name.as_str(), m]),
        _ => names.names([e.model_name.as_str()]),
    };
    d.upstream_model = model.map(|m| names.text(&m));
    d.api_base = e.litellm_params.api_base.map(|b| names.text(&b));
    d.db_model = e.model_info.db_model;
    d.input_cost_per_token = e.model_info.input_cost_per_token.into();
    d.output_cost_per_token = e.model_info.output_cost_per_token.into();
    d.key = KeyVisibility::IdHash;
    d
}

/// What a proxy without the prometheus callback answers on `/metrics/` means.
pub const METRICS_OFF: &str = "the proxy exposes no /metrics/: add `callbacks: [\"prometheus\"]` under litellm_settings in its config.yaml (no licence needed) and restart it";

#[async_trait]
impl Gateway for LiteLlm {
    fn spec(&self) -> &GatewaySpec {
        &self.spec
    }

    async fn liveness(&self, target: &ReplicaTarget) -> Result<Liveness, GatewayError> {
        self.liveness_with_front(target).await.map(|(l, _)| l)
    }

    async fn poll(&self, target: &ReplicaTarget) -> Result<ReplicaSnapshot, GatewayError> {
        let (live, front) = self.liveness_with_front(target).await?;
        let base = target.url.as_str();
        let mut snap = ReplicaSnapshot::new(live.latency);
        snap.version = live.version;
        snap.front_proxy = front;
        let ((ready, version, ready_n), deployments, router, cache, served, ui, traffic) = tokio::join!(
            self.readiness(base),
            self.model_info(base),
            self.router(base),
            self.cache(base),
            self.served(base),
            self.admin_ui(base),
            async {
                // Prometheus answers for every replica: scraping each is then redundant.
                if self.prom.as_ref().is_some_and(prometheus::PromClient::serving) {
                    None
                } else {
                    Some(self.traffic(base).await)
                }
            },
        );
        snap.requests = 1 + ready_n + 5 + u32::from(traffic.is_some());
        snap.traffic = match traffic {
            None => Section::NotLoaded,
            Some(Err(GatewayError::NotFound { .. })) => Section::Unavailable(METRICS_OFF.into()),
            Some(Ok(t)) if !t.callback_on => Section::Unavailable(METRICS_OFF.into()),
            Some(other) => Section::from_result(other),
        };
        snap.admin_ui = ui;
        if version.is_some() {
            snap.version = version;
        }
        snap.auth = match (&self.key, &deployments) {
            (None, _) => AuthState::Missing { env: self.spec.credential_env.clone() },
            (Some(_), Err(GatewayError::Auth { message, hint, .. })) => {
                AuthState::Rejected { message: message.clone(), hint: hint.clone() }
            }
            (Some(_), Ok(_)) => AuthState::Ok,
            (Some(_), Err(_)) => AuthState::NotChecked,
        };
        snap.readiness = Section::from_result(ready);
        snap.deployments = Section::from_result(deployments);
        snap.router = Section::from_result(router);
        snap.cache = match cache {
            Err(GatewayError::Unsupported(why)) => Section::Unavailable(why),
            other => Section::from_result(other),
        };
        snap.served_models = Section::from_result(served);
        Ok(snap)
    }

    async fn admin(&self, target: &ReplicaTarget, op: &AdminOp) -> Result<AdminResult, GatewayError> {
        self.admin_op(target, op).await
    }

    async fn fleet_traffic(&self, replicas: &[String]) -> Option<prometheus::PromRead> {
        Some(self.prom.as_ref()?.read(&self.spec.name, replicas).await)
    }
}

impl LiteLlm {
    async fn liveness_with_front(&self, target: &ReplicaTarget) -> Result<(Liveness, Option<String>), GatewayError> {
        let resp = self.http.send(Method::GET, &target.url, "/health/liveliness", HeaderMap::new(), None).await?;
        let front = (resp.header("cf-ray").is_some()
            || resp.header("server").is_some_and(|s| s.eq_ignore_ascii_case("cloudflare")))
        .then(|| "cloudflare".to_owned());
        let resp = check(resp, &self.spec.credential_env)?;
        // Must be the JSON string "I'm alive!" (or similar); anything else is not LiteLLM.
        let body: Value = resp.json()?;
        if !body.is_string() {
            return Err(GatewayError::WrongShape {
                path: "/health/liveliness".into(),
                detail: "expected a JSON string such as \"I'm alive!\"".into(),
            });
        }
        Ok((
            Liveness {
                latency: resp.elapsed,
                version: resp.header("x-litellm-version").map(str::to_owned),
                started_at: None,
            },
            front,
        ))
    }

    /// The admin UI answers without credentials (a login page) at `/ui/`?
    async fn admin_ui(&self, base: &str) -> Option<String> {
        let resp = self.http.send(Method::GET, base, "/ui/", HeaderMap::new(), None).await.ok()?;
        (resp.status.is_success() && resp.is_html()).then(|| "/ui/".to_owned())
    }

    async fn admin_op(&self, target: &ReplicaTarget, op: &AdminOp) -> Result<AdminResult, GatewayError> {
        let base = target.url.as_str();
        match op {
            AdminOp::PurgeResponseCache => {
                let resp = self.slow.send(Method::POST, base, "/cache/flushall", self.auth_headers()?, None).await?;
                if resp.status.as_u16() == 503 && !resp.is_html() {
                    let msg = http::error_message(&resp);
                    let why = if msg.contains("not initialized") {
                        "no response cache is configured"
                    } else if msg.contains("does not support flushing") {
                        "only a Redis response cache can be flushed"
                    } else {
                        "the proxy refused"
                    };
                    return Err(GatewayError::Rejected {
                        message: format!("/cache/flushall refused (HTTP 503): {why}: {msg}"),
                    });
                }
                let resp = check(resp, &self.spec.credential_env)?;
                // 1.106.12 answers {"status": "success"}; anything else is not a success.
                let status = serde_json::from_slice::<Value>(&resp.body)
                    .ok()
                    .and_then(|v| v.get("status").and_then(Value::as_str).map(str::to_owned));
                if status.as_deref() != Some("success") {
                    return Err(GatewayError::Rejected {
                        message: format!(
                            "/cache/flushall answered HTTP {} without success: {}",
                            resp.status.as_u16(),
                            resp.excerpt()
                        ),
                    });
                }
                Ok(AdminResult::Done { message: format!("/cache/flushall: {}", resp.excerpt()) })
            }
            AdminOp::ProbeAllDeployments => self.probe_health(base).await,
            AdminOp::TinyCompletion { model } => self.tiny_completion(base, model).await,
            AdminOp::StreamProbe { model, direct } => {
                let headers = self.auth_headers()?;
                let limit = self.spec.action_timeout.min(Duration::from_secs(120));
                let mut report = stream::probe(base, model, headers.clone(), limit).await;
                if let Some(direct) =
                    direct.as_deref().filter(|d| d.trim_end_matches('/') != base.trim_end_matches('/'))
                {
                    report.direct = Some(Box::new(stream::probe(direct, model, headers, limit).await));
                }
                Ok(AdminResult::Stream(report))
            }
            other => Err(GatewayError::Unsupported(format!("{other:?} is a New API operation"))),
        }
    }
}
