//! The gateway abstraction: one [`Gateway`] trait that adapters implement, and
//! the domain types they produce. Nothing here knows about the terminal.

pub mod counted;
pub mod error;
pub mod http;
pub mod litellm;
pub mod newapi;
pub mod num;
pub mod parse_memo;
pub mod text;

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use compact_str::CompactString;

pub use error::GatewayError;

use crate::config::{GatewayKind, GatewaySpec};
use crate::secret::Fingerprint;
pub use num::Opt;
pub use text::{Names, SeenLists, Text};

/// One replica address of a gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaTarget {
    pub index: usize,
    pub url: String,
}

/// A part of a snapshot that can fail or be missing on its own, so one broken
/// endpoint degrades one pane instead of the whole view.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Section<T> {
    Ok(T),
    /// The gateway does not offer this (older version, not configured): the reason.
    Unavailable(String),
    Failed(GatewayError),
    #[default]
    NotLoaded,
}

impl<T> Section<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Self::Ok(t) => Some(t),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&GatewayError> {
        match self {
            Self::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// A 404 becomes "not available on this version"; other errors stay errors.
    pub fn from_result(r: Result<T, GatewayError>) -> Self {
        match r {
            Ok(t) => Self::Ok(t),
            Err(GatewayError::NotFound { path }) => Self::Unavailable(format!("{path} not available on this version")),
            Err(e) => Self::Failed(e),
        }
    }

    /// One line for the pane when there is no data.
    pub fn describe(&self) -> Option<String> {
        match self {
            Self::Ok(_) => None,
            Self::Unavailable(why) => Some(why.clone()),
            Self::Failed(e) => Some(e.to_string()),
            Self::NotLoaded => Some("not loaded yet".into()),
        }
    }
}

/// Whether a deployment/channel is taking traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    /// Loaded/enabled and nothing says otherwise.
    Serving,
    /// Loaded, and the last health probe or test failed.
    Unhealthy,
    /// Switched off by an operator.
    ManuallyDisabled,
    /// Switched off by the gateway itself.
    AutoDisabled,
    Unknown,
}

impl DeploymentStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Serving => "serving",
            Self::Unhealthy => "unhealthy",
            Self::ManuallyDisabled => "disabled",
            Self::AutoDisabled => "auto-disabled",
            Self::Unknown => "unknown",
        }
    }

    /// The status a [`DeploymentStatus::label`] names.
    pub fn from_label(label: &str) -> Option<Self> {
        [Self::Serving, Self::Unhealthy, Self::ManuallyDisabled, Self::AutoDisabled, Self::Unknown]
            .into_iter()
            .find(|s| s.label() == label)
    }
}

/// What gatewatch can know about the key a deployment holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyVisibility {
    /// LiteLLM: the id is a hash over the params, key included: drift is exact.
    IdHash,
    /// The admin API never returns the key (New API with an access token).
    NotReadable(#[serde(deserialize_with = "text::de_text")] Text),
}

/// A deployment (LiteLLM) or channel (New API), unified. Serialized only
/// into the list snapshot ([`crate::snapshot`]): it holds no key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Deployment {
    /// LiteLLM `model_info.id`; New API channel id.
    pub id: CompactString,
    /// LiteLLM alias (`model_name`); New API channel name.
    pub name: CompactString,
    /// The model names clients can send that route here.
    pub models: Names,
    #[serde(deserialize_with = "text::de_text")]
    pub provider: Text,
    #[serde(default, deserialize_with = "text::de_text_opt")]
    pub upstream_model: Option<Text>,
    #[serde(default, deserialize_with = "text::de_text_opt")]
    pub api_base: Option<Text>,
    pub status: DeploymentStatus,
    #[serde(default, deserialize_with = "text::de_text_opt")]
    pub status_reason: Option<Text>,
    #[serde(default)]
    pub status_since: Opt<i64>,
    #[serde(default)]
    pub weight: Opt<u64>,
    #[serde(default)]
    pub priority: Opt<i64>,
    pub groups: Names,
    pub model_mapping: Vec<(String, String)>,
    #[serde(default)]
    pub balance: Opt<f64>,
    #[serde(default)]
    pub balance_updated: Opt<i64>,
    #[serde(default)]
    pub used_quota: Opt<i64>,
    #[serde(default)]
    pub response_time_ms: Opt<u64>,
    #[serde(default)]
    pub test_time: Opt<i64>,
    #[serde(default, deserialize_with = "text::de_text_opt")]
    pub tag: Option<Text>,
    #[serde(default)]
    pub input_cost_per_token: Opt<f64>,
    #[serde(default)]
    pub output_cost_per_token: Opt<f64>,
    /// LiteLLM: stored in the DB rather than the config file.
    pub db_model: bool,
    pub key: KeyVisibility,
    /// New API channel type id.
    #[serde(default)]
    pub type_id: Opt<i64>,
    /// New API multi-key pools: (enabled keys, total keys).
    pub multi_key: Option<(u32, u32)>,
}

impl Deployment {
    /// Served under its own name.
    pub fn new(id: impl Into<CompactString>, name: impl Into<CompactString>) -> Self {
        let mut d = Self::unlisted(id, name);
        d.models = Names::from_iter([d.name.as_str()]);
        d
    }

    /// Serving no model yet: for a parser that sets `models` itself (from
    /// its shared lists, without a list of its own first).
    pub fn unlisted(id: impl Into<CompactString>, name: impl Into<CompactString>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            models: Names::default(),
            provider: Text::default(),
            upstream_model: None,
            api_base: None,
            status: DeploymentStatus::Serving,
            status_reason: None,
            status_since: Opt::NONE,
            weight: Opt::NONE,
            priority: Opt::NONE,
            groups: Names::default(),
            model_mapping: Vec::new(),
            balance: Opt::NONE,
            balance_updated: Opt::NONE,
            used_quota: Opt::NONE,
            response_time_ms: Opt::NONE,
            test_time: Opt::NONE,
            tag: None,
            input_cost_per_token: Opt::NONE,
            output_cost_per_token: Opt::NONE,
            db_model: false,
            key: KeyVisibility::IdHash,
            type_id: Opt::NONE,
            multi_key: None,
        }
    }
}

/// Writes a large carry's JSON into the writer it is given (it holds what it
/// writes: a job for the blocking pool, not for an async worker).
pub type CarryWriter = Box<dyn FnOnce(&mut dyn std::io::Write) -> std::io::Result<()> + Send>;

/// A list just read back from a file (its strings already shared as read,
/// see [`text::sharing`]): the spare capacity its growth left dropped. Only
/// while nothing else holds it (at load).
pub fn compact_list(list: &mut std::sync::Arc<Vec<Deployment>>) {
    if let Some(v) = std::sync::Arc::get_mut(list) {
        v.shrink_to_fit();
    }
}

/// The router's fallback and retry settings as the running gateway reports them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouterSettings {
    pub fallbacks: Vec<(String, Vec<String>)>,
    pub context_window_fallbacks: Vec<(String, Vec<String>)>,
    pub content_policy_fallbacks: Vec<(String, Vec<String>)>,
    pub default_fallbacks: Vec<String>,
    pub num_retries: Option<u32>,
    pub allowed_fails: Option<u32>,
    pub cooldown_time: Option<f64>,
    pub routing_strategy: Option<String>,
}

/// The response cache as the gateway reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheState {
    /// `redis`, `local`, `redis-semantic`, …
    pub kind: String,
    pub healthy: bool,
    pub detail: String,
}

/// Readiness and its dependencies.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Readiness {
    pub status: String,
    pub db: Option<String>,
    pub cache: Option<String>,
}

/// Who the admin credential authenticated as, or why it did not.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthState {
    Ok,
    Missing { env: String },
    Rejected { message: String, hint: String },
    NotChecked,
}

/// The request budget of a rate-limited gateway: gatewatch's own count, and
/// what the server said. New API says nothing but an empty HTTP 429, and
/// counts every client from the same address against one limit, so its 429
/// can come while gatewatch's own count is far below the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateBudget {
    /// gatewatch's requests the server accepted in the current window.
    pub used: u32,
    pub limit: u32,
    pub window: Duration,
    /// HTTP 429 answers in the current window.
    pub refused: u32,
    /// When the server last answered 429.
    pub last_refused: Option<SystemTime>,
    /// gatewatch sends nothing to the gateway before this (backing off after a 429).
    pub resume_at: Option<SystemTime>,
}

/// What the gateway's own web console answered at `/` without credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Console {
    /// An HTML page: the console (its login page) is served here.
    Served { status: u16, title: String },
    /// A redirect: the console lives elsewhere (New API slave nodes with `FRONTEND_BASE_URL`).
    Redirect { status: u16, to: String },
    /// Something else answered (an error page, JSON, a 404 from a proxy in front).
    NotServed { status: u16 },
}

/// Everything one poll of one replica saw.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaSnapshot {
    pub version: Option<String>,
    /// Round trip of the liveness check.
    pub latency: Duration,
    pub auth: AuthState,
    pub readiness: Section<Readiness>,
    pub deployments: Section<std::sync::Arc<Vec<Deployment>>>,
    pub router: Section<RouterSettings>,
    pub cache: Section<CacheState>,
    /// Names the gateway lists for clients (`/v1/models`).
    pub served_models: Section<Vec<String>>,
    /// Unix time the gateway process started, when it says.
    pub started_at: Option<i64>,
    /// HTTP requests this poll made.
    pub requests: u32,
    /// Extra facts worth a line on screen.
    pub notes: Vec<String>,
    /// A CDN or proxy seen in front (`cloudflare` from `cf-ray`/`server`).
    pub front_proxy: Option<String>,
    /// The admin UI path that answered without credentials, if any.
    pub admin_ui: Option<String>,
    /// New API: what `/` (the web console) answered.
    pub console: Section<Console>,
    /// New API: `/api/status` → `setup` (false: no root account yet, and
    /// `POST /api/setup` creates one for whoever calls it); `None` when the
    /// version does not report it (One API, New API before 2025-04).
    pub setup: Option<bool>,
    /// Model names in the gateway's recent error log (New API type-5 logs).
    pub recent_errors: Section<Vec<ErrorLogModel>>,
    /// LiteLLM: live traffic counters per deployment from `/metrics/`.
    pub traffic: Section<litellm::metrics::Traffic>,
    /// New API: the error log's newest entries (at most 100), per request.
    pub error_log: Section<Vec<ErrorLogEntry>>,
    /// New API: the newest consume-log entries (type 2: requests that
    /// succeeded), for rates beside the error log's failures.
    pub consume_log: Section<Vec<ErrorLogEntry>>,
    /// New API: the server's clock (unix seconds, its `Date` header) when it
    /// sent the error log: the log's times are on that clock.
    pub server_time: Option<i64>,
    /// New API: only the disabled channels (`status=disabled`), read when the
    /// whole list is more than gatewatch reads.
    pub disabled_channels: Section<Vec<Deployment>>,
    /// New API past the cap: every channel serving each model in trouble (in
    /// the error log) or named by the operator (`client_models`), one search
    /// each, by model.
    pub model_channels: Section<Vec<ModelSubset>>,
    /// New API past the cap: `deployments` is a list assembled page by page
    /// over earlier polls (with this poll's fresh reads laid over it), not
    /// one read now — when its pages were read.
    pub assembled: Option<ListAssembly>,
}

/// When the pages of an assembled list were read (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAssembly {
    pub first_at: i64,
    pub last_at: i64,
    pub pages: usize,
    /// Polls (or runs) it took.
    pub steps: usize,
    /// What this poll read fresh and laid over it.
    pub fresh: String,
}

/// Every channel that serves one model, or why they could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSubset {
    pub model: String,
    pub channels: Result<Vec<Deployment>, GatewayError>,
}

/// One failed request in New API's error log: which channel, when (unix
/// seconds, the server's clock), its upstream status, the model asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorLogEntry {
    pub channel: i64,
    pub channel_name: String,
    pub at: i64,
    pub status: Option<u16>,
    pub model: String,
}

#[cfg(test)]
impl ErrorLogEntry {
    /// A `gpt-4o` request of channel `ch{channel}` at `at` (unit tests).
    pub fn for_test(channel: i64, at: i64, status: Option<u16>) -> Self {
        Self { channel, channel_name: format!("ch{channel}"), at, status, model: "gpt-4o".into() }
    }
}

/// Recent failed requests for one model name, from the gateway's own log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorLogModel {
    pub model: String,
    pub count: u32,
    pub status_code: Option<u16>,
    pub last_error: String,
}

impl ReplicaSnapshot {
    pub fn new(latency: Duration) -> Self {
        Self {
            version: None,
            latency,
            auth: AuthState::NotChecked,
            readiness: Section::NotLoaded,
            deployments: Section::NotLoaded,
            router: Section::NotLoaded,
            cache: Section::NotLoaded,
            served_models: Section::NotLoaded,
            started_at: None,
            requests: 0,
            notes: Vec::new(),
            front_proxy: None,
            admin_ui: None,
            console: Section::NotLoaded,
            setup: None,
            recent_errors: Section::NotLoaded,
            traffic: Section::NotLoaded,
            disabled_channels: Section::NotLoaded,
            model_channels: Section::NotLoaded,
            assembled: None,
            error_log: Section::NotLoaded,
            consume_log: Section::NotLoaded,
            server_time: None,
        }
    }
}

/// Result of a liveness check (for verification loops).
#[derive(Debug, Clone, PartialEq)]
pub struct Liveness {
    pub latency: Duration,
    pub version: Option<String>,
    pub started_at: Option<i64>,
}

/// An operation the adapter performs through the gateway's admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminOp {
    /// LiteLLM: empty the Redis response cache (`POST /cache/flushall`).
    PurgeResponseCache,
    /// LiteLLM: `GET /health`, one real request per deployment.
    ProbeAllDeployments,
    /// New API: `GET /api/channel/test/:id?model=`.
    TestChannel { id: String, model: Option<String> },
    /// New API: `GET /api/channel/test` (asynchronous on the server).
    TestAllChannels,
    /// New API: `GET /api/channel/update_balance/:id`.
    RefreshBalance { id: String },
    /// New API: `GET /api/channel/update_balance` (disables channels at ≤ 0).
    UpdateAllBalances,
    /// New API: `PUT /api/channel/` with a status.
    SetChannelEnabled { id: String, enabled: bool },
    /// New API: `GET /api/channel/:id`, one request (verification of a channel action).
    ReadChannel { id: String },
    /// New API: the disabled channels only (`status=disabled`), a page or two
    /// where the whole list takes a dozen.
    ReadDisabledChannels,
    /// One tiny chat completion through the gateway (paid), reading routing headers.
    TinyCompletion { model: String },
    /// One tiny streamed completion, measuring the stream; with `direct`,
    /// the same probe again straight to that replica, bypassing whatever
    /// is in front of the gateway's address.
    StreamProbe { model: String, direct: Option<String> },
}

/// Per-deployment result of a health probe.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeEntry {
    pub id: String,
    pub model: String,
    pub healthy: bool,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// LiteLLM masks the upstream Authorization header to `Be****cd`: the last two
    /// characters of the key the running process holds.
    pub auth_tail: Option<String>,
}

/// What a routed request reported about itself (LiteLLM response headers).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteReport {
    pub model_group: Option<String>,
    pub model_id: Option<String>,
    pub api_base: Option<String>,
    pub attempted_fallbacks: Option<u32>,
    pub attempted_retries: Option<u32>,
    pub response_cost: Option<f64>,
    pub status: u16,
    pub error: Option<String>,
    pub elapsed: Duration,
}

/// Measurements of one streamed completion.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamReport {
    pub status: u16,
    pub content_type: Option<String>,
    pub ttfb: Option<Duration>,
    pub first_token: Option<Duration>,
    pub total: Duration,
    pub max_gap: Duration,
    pub chunks: u32,
    pub done_marker: bool,
    pub last_chunk_complete_json: bool,
    pub x_accel_buffering: Option<String>,
    pub error: Option<String>,
    /// The address the probe went to.
    pub via: String,
    /// The same probe sent straight to a replica (bypassing the proxy in
    /// front of `via`), when the operator asked for it.
    pub direct: Option<Box<StreamReport>>,
}

impl StreamReport {
    /// Whole and in order: no error, `[DONE]`, the last chunk complete JSON.
    pub fn arrived_whole(&self) -> bool {
        self.error.is_none() && self.done_marker && self.last_chunk_complete_json
    }

    /// The first token came with the last on a stream long enough to tell:
    /// something on the path buffers it.
    pub fn buffered(&self) -> bool {
        self.first_token.is_some_and(|ft| {
            self.total > std::time::Duration::from_millis(500) && ft.as_secs_f64() > self.total.as_secs_f64() * 0.9
        })
    }
}

/// What an admin operation returned.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminResult {
    Done {
        message: String,
    },
    Probe {
        entries: Vec<ProbeEntry>,
    },
    ChannelTest {
        ok: bool,
        message: String,
        seconds: f64,
    },
    Balance {
        balance: f64,
    },
    /// Channels re-read from the gateway's database, to replace in the table at once.
    Channels {
        channels: Vec<Deployment>,
    },
    Route(RouteReport),
    Stream(StreamReport),
}

/// One gateway family, spoken over HTTP. Adapters never touch the terminal.
#[async_trait]
pub trait Gateway: Send + Sync {
    fn spec(&self) -> &GatewaySpec;

    fn kind(&self) -> GatewayKind {
        self.spec().kind
    }

    /// Everything the views need from one replica. Endpoints fail independently
    /// into [`Section`]s; only an unreachable or unusable replica is an `Err`.
    async fn poll(&self, target: &ReplicaTarget) -> Result<ReplicaSnapshot, GatewayError>;

    /// Is this replica up? Cheap, unauthenticated where the gateway allows.
    async fn liveness(&self, target: &ReplicaTarget) -> Result<Liveness, GatewayError>;

    /// Perform an admin operation on one replica.
    async fn admin(&self, target: &ReplicaTarget, op: &AdminOp) -> Result<AdminResult, GatewayError>;

    /// The request budget, for gateways that limit the rate of admin requests.
    fn rate_budget(&self) -> Option<RateBudget> {
        None
    }

    /// What the next run should carry on from (New API: the requests of
    /// the rate window), as JSON.
    fn carry(&self) -> Option<String> {
        None
    }

    /// The large part of the carry (New API: a list being assembled page by
    /// page, the last one assembled) when it changed since generation
    /// `since`: `(generation, what writes its JSON)`, to run on the blocking
    /// pool. [`Gateway::resume`] takes it too.
    fn carry_lists(&self, since: u64) -> Option<(u64, CarryWriter)> {
        let _ = since;
        None
    }

    /// Carry on from an earlier run's [`Gateway::carry`].
    fn resume(&self, json: &mut dyn std::io::Read) {
        let _ = json;
    }

    /// The last whole list this adapter holds from an earlier run's carry
    /// (New API: the list assembled page by page): `(unix seconds of its
    /// oldest page, the list)`, shared, not copied. A TUI shows it until the
    /// first poll instead of reading the list snapshot a second time.
    fn carried_list(&self) -> Option<(i64, std::sync::Arc<Vec<Deployment>>)> {
        None
    }

    /// Live traffic of every replica at once from a Prometheus server
    /// (`prometheus_url`), when one is configured; `replicas` are the URLs
    /// polled this cycle.
    async fn fleet_traffic(&self, _replicas: &[String]) -> Option<litellm::prometheus::PromRead> {
        None
    }
}

/// The fingerprint of what the operator intends a key to be, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntendedKey {
    pub label: String,
    pub fingerprint: Option<Fingerprint>,
    pub note: Option<String>,
}

/// Build the adapter for a configured gateway.
pub fn connect(spec: &GatewaySpec) -> std::sync::Arc<dyn Gateway> {
    match spec.kind {
        GatewayKind::LiteLlm => std::sync::Arc::new(litellm::LiteLlm::new(spec.clone())),
        GatewayKind::NewApi => std::sync::Arc::new(newapi::NewApi::new(spec.clone())),
    }
}
