//! gatewatch's own configuration: which gateways to watch and how to act on them.
//!
//! Loaded from a YAML file (default `$XDG_CONFIG_HOME/gatewatch/config.yaml`) or
//! built from `--gateway KIND=URL[,URL…]` flags. Credentials are never in the
//! file or in argv: the file names the *environment variable* that holds them.
//! Every error names the file, the line and the field.

pub mod duration;
pub mod example;
mod keys;
mod nesting;

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::yamlpath;

/// The two gateway families gatewatch speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayKind {
    #[serde(rename = "litellm")]
    LiteLlm,
    #[serde(rename = "newapi")]
    NewApi,
}

impl GatewayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LiteLlm => "litellm",
            Self::NewApi => "newapi",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Self::LiteLlm => "LiteLLM Proxy",
            Self::NewApi => "New API",
        }
    }

    pub fn default_credential_env(self) -> &'static str {
        match self {
            Self::LiteLlm => "LITELLM_MASTER_KEY",
            Self::NewApi => "NEW_API_ACCESS_TOKEN",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "litellm" => Some(Self::LiteLlm),
            "newapi" | "new-api" | "oneapi" | "one-api" => Some(Self::NewApi),
            _ => None,
        }
    }
}

impl fmt::Display for GatewayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One gateway as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewaySpec {
    pub name: String,
    pub kind: GatewayKind,
    /// The address clients use (often a load balancer).
    pub url: String,
    /// Per-replica addresses; empty means the gateway is the single `url`.
    pub replicas: Vec<String>,
    /// A command that prints one replica URL per line.
    pub discover_command: Option<String>,
    /// Name of the environment variable holding the admin credential.
    pub credential_env: String,
    /// New API: the admin user id sent as `New-Api-User`.
    pub user_id: Option<i64>,
    /// New API: environment variable holding the user id, when `user_id` is not set.
    pub user_id_env: Option<String>,
    /// LiteLLM: the proxy's own config.yaml.
    pub config_file: Option<PathBuf>,
    pub restart_command: Option<String>,
    pub reload_command: Option<String>,
    /// LiteLLM: a command that validates the config, e.g. `litellm --config F --validate_config`.
    pub validate_command: Option<String>,
    pub refresh: Duration,
    pub timeout: Duration,
    pub action_timeout: Duration,
    pub verify_timeout: Duration,
    /// Nginx config in front of the gateway, for the streaming lint.
    pub nginx_config: Option<PathBuf>,
    /// Model names clients are known to send.
    pub client_models: Vec<String>,
    /// New API: YAML file mapping channel id → name of an env var holding the intended key.
    pub channel_keys_file: Option<PathBuf>,
    /// New API: the nodes' `SYNC_FREQUENCY`.
    pub sync_frequency: Duration,
    /// New API: the group the operator's users are in.
    pub user_group: String,
    /// New API: whether the nodes run with the memory cache (`MEMORY_CACHE_ENABLED=true`
    /// or `REDIS_CONN_STRING`). New API's API does not say; `None`: not declared,
    /// New API's default (off) is assumed and said so.
    pub memory_cache: Option<bool>,
    /// A pid file of the gateway process, for the process-age check (when
    /// its listening socket is not visible from here).
    pub pid_file: Option<PathBuf>,
    /// LiteLLM: the proxy's own environment as a dotenv file (docker compose
    /// `.env`, systemd `EnvironmentFile`): where its `os.environ/` names resolve.
    pub env_file: Option<PathBuf>,
    /// LiteLLM: a command printing the proxy's environment as `KEY=VALUE`
    /// lines (`docker exec litellm env`); run with `action_timeout`, its output
    /// never shown or logged.
    pub env_command: Option<String>,
    /// Largest response body read from the gateway (`max_body_mb`; default
    /// 128 MiB for LiteLLM, 16 MiB for New API).
    pub max_body_bytes: usize,
    /// Behind Cloudflare's proxy (100 s limit on proxied requests).
    pub behind_cloudflare: bool,
    /// Credential variables the operator's commands may see (they get none by default).
    pub pass_env: Vec<String>,
    /// A probe's result stops counting after this long (the tree shows it unknown).
    pub probe_ttl: Duration,
    /// LiteLLM: a Prometheus server that scrapes the proxy's `/metrics/`;
    /// live traffic is read from its query API (every replica at once, and
    /// the half hour before gatewatch started) instead of each replica.
    pub prometheus_url: Option<String>,
    /// The `job` label of the proxy's scrape target, when the server
    /// scrapes more than one LiteLLM fleet.
    pub prometheus_job: Option<String>,
    /// New API: the server's `GLOBAL_API_RATE_LIMIT` per
    /// `GLOBAL_API_RATE_LIMIT_DURATION` (180 per 180 s unless the operator
    /// changed them), and how many of those gatewatch leaves to everyone else
    /// at its address (the console, scripts, another monitor).
    pub rate_limit: u32,
    pub rate_limit_window: Duration,
    pub rate_reserve: u32,
}

impl GatewaySpec {
    pub fn new(name: impl Into<String>, kind: GatewayKind, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind,
            url: url.into(),
            replicas: Vec::new(),
            discover_command: None,
            credential_env: kind.default_credential_env().to_owned(),
            user_id: None,
            user_id_env: (kind == GatewayKind::NewApi).then(|| "NEW_API_USER_ID".to_owned()),
            config_file: None,
            restart_command: None,
            reload_command: None,
            validate_command: None,
            refresh: match kind {
                GatewayKind::LiteLlm => Duration::from_secs(5),
                // 180 requests / 180 s per IP is New API's default limit.
                GatewayKind::NewApi => Duration::from_secs(15),
            },
            timeout: Duration::from_secs(3),
            action_timeout: Duration::from_secs(120),
            verify_timeout: Duration::from_secs(90),
            nginx_config: None,
            client_models: Vec::new(),
            channel_keys_file: None,
            sync_frequency: Duration::from_secs(60),
            user_group: "default".to_owned(),
            memory_cache: None,
            pid_file: None,
            env_file: None,
            env_command: None,
            // LiteLLM 1.106.12 answers /model/info with ~7.4 KB per deployment
            // (its price map fields): 10,000 deployments are ~74 MB.
            max_body_bytes: match kind {
                GatewayKind::LiteLlm => 128 * 1024 * 1024,
                GatewayKind::NewApi => 16 * 1024 * 1024,
            },
            behind_cloudflare: false,
            pass_env: Vec::new(),
            probe_ttl: Duration::from_secs(15 * 60),
            prometheus_url: None,
            prometheus_job: None,
            rate_limit: 180,
            rate_limit_window: Duration::from_secs(180),
            rate_reserve: 30,
        }
    }

    /// The addresses to poll, one per replica.
    pub fn replica_urls(&self) -> Vec<String> {
        if self.replicas.is_empty() { vec![self.url.clone()] } else { self.replicas.clone() }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub gateways: Vec<GatewaySpec>,
    /// Nothing that changes a gateway or spends money runs.
    pub read_only: bool,
    /// In a read-only session, the paid probes may still run (asked first).
    pub allow_probes: bool,
    /// Override for the built-in triage tree.
    pub tree_file: Option<PathBuf>,
    /// Where the audit log, logs, reports and remembered fingerprints go.
    pub state_dir: PathBuf,
    /// Where the file came from, for messages.
    pub source: Option<PathBuf>,
    /// The keys in force: the shipped table with `keys:` applied.
    pub bindings: crate::keys::Bindings,
    /// Read mouse clicks and the wheel (`mouse: false` or `--no-mouse` for
    /// terminals where it gets in the way of selecting text).
    pub mouse: bool,
}

/// A configuration problem, with enough context to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: field `{field}`: {message}")]
    Field { path: PathBuf, line: usize, field: String, message: String },
    #[error("{path}:{line}: {message}")]
    Syntax { path: PathBuf, line: usize, message: String },
    #[error("{0}")]
    Usage(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    keys: Option<serde_yaml::Value>,
    #[serde(default = "yes")]
    mouse: bool,
    #[serde(default)]
    allow_probes: bool,
    #[serde(default)]
    tree_file: Option<PathBuf>,
    #[serde(default)]
    state_dir: Option<PathBuf>,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    client_models: Vec<String>,
    gateways: Vec<RawGateway>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    #[serde(default)]
    refresh: Option<serde_yaml::Value>,
    #[serde(default)]
    timeout: Option<serde_yaml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    name: String,
    kind: GatewayKind,
    url: String,
    #[serde(default)]
    replicas: Vec<String>,
    #[serde(default)]
    discover_command: Option<String>,
    /// Read as any YAML value so a pasted secret (even a number) is never echoed by a type error.
    #[serde(default)]
    credential_env: Option<serde_yaml::Value>,
    #[serde(default)]
    user_id: Option<i64>,
    #[serde(default)]
    user_id_env: Option<String>,
    #[serde(default)]
    config_file: Option<PathBuf>,
    #[serde(default)]
    restart_command: Option<String>,
    #[serde(default)]
    reload_command: Option<String>,
    #[serde(default)]
    validate_command: Option<String>,
    #[serde(default)]
    refresh: Option<serde_yaml::Value>,
    #[serde(default)]
    timeout: Option<serde_yaml::Value>,
    #[serde(default)]
    action_timeout: Option<serde_yaml::Value>,
    #[serde(default)]
    verify_timeout: Option<serde_yaml::Value>,
    #[serde(default)]
    nginx_config: Option<PathBuf>,
    #[serde(default)]
    client_models: Vec<String>,
    #[serde(default)]
    channel_keys_file: Option<PathBuf>,
    #[serde(default)]
    sync_frequency: Option<serde_yaml::Value>,
    #[serde(default)]
    user_group: Option<String>,
    #[serde(default)]
    memory_cache: Option<bool>,
    #[serde(default)]
    pid_file: Option<PathBuf>,
    #[serde(default)]
    env_file: Option<PathBuf>,
    #[serde(default)]
    env_command: Option<String>,
    #[serde(default)]
    max_body_mb: Option<u32>,
    #[serde(default)]
    behind_cloudflare: bool,
    #[serde(default)]
    pass_env: Vec<serde_yaml::Value>,
    probe_ttl: Option<serde_yaml::Value>,
    #[serde(default)]
    prometheus_url: Option<String>,
    #[serde(default)]
    prometheus_job: Option<String>,
    #[serde(default)]
    rate_limit: Option<u32>,
    #[serde(default)]
    rate_limit_window: Option<serde_yaml::Value>,
    #[serde(default)]
    rate_reserve: Option<u32>,
}

fn yes() -> bool {
    true
}

/// Default location of the config file.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("gatewatch").join("config.yaml"))
}

/// Default state directory (`$XDG_STATE_HOME/gatewatch`).
pub fn default_state_dir() -> PathBuf {
    dirs::state_dir().or_else(dirs::data_local_dir).unwrap_or_else(std::env::temp_dir).join("gatewatch")
}

/// Read and validate a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = crate::readlimit::read_text(path, crate::readlimit::CONFIG, "a gatewatch config")
        .map_err(|e| ConfigError::Read { path: path.to_owned(), source: e.into() })?;
    parse(&text, path)
}

/// Parse config text; `path` is used in messages and to resolve relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    if let Some(line) = nesting::too_deep(text, nesting::MAX_FLOW_DEPTH) {
        return Err(ConfigError::Syntax {
            path: path.to_owned(),
            line,
            message: format!("[ and {{ nested deeper than {} levels", nesting::MAX_FLOW_DEPTH),
        });
    }
    let raw: RawConfig = serde_yaml::from_str(text).map_err(|e| yaml_error(&e, text, path))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let field_err = |field: String, message: String| ConfigError::Field {
        path: path.to_owned(),
        line: yamlpath::line_of(text, &field).unwrap_or(1),
        field,
        message,
    };
    if raw.gateways.is_empty() {
        return Err(field_err("gateways".into(), "lists no gateway; add at least one".into()));
    }
    // Durations are checked here rather than while deserialising, so the error names the exact field.
    let dur = |v: Option<&serde_yaml::Value>, field: String| -> Result<Option<Duration>, ConfigError> {
        let Some(v) = v else { return Ok(None) };
        let text = match v {
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::String(t) => t.clone(),
            _ => return Err(field_err(field, "expected a duration such as 5s, 500ms or 2m".into())),
        };
        duration::parse(&text).map(Some).map_err(|m| field_err(field, m))
    };
    let default_refresh = dur(raw.defaults.refresh.as_ref(), "defaults.refresh".into())?;
    let default_timeout = dur(raw.defaults.timeout.as_ref(), "defaults.timeout".into())?;
    let mut gateways: Vec<GatewaySpec> = Vec::with_capacity(raw.gateways.len());
    for (i, g) in raw.gateways.into_iter().enumerate() {
        let at = |f: &str| format!("gateways[{i}].{f}");
        if g.name.trim().is_empty() {
            return Err(field_err(at("name"), "must not be empty".into()));
        }
        if gateways.iter().any(|o| o.name == g.name) {
            return Err(field_err(at("name"), format!("duplicate gateway name {:?}", g.name)));
        }
        validate_url(&g.url).map_err(|m| field_err(at("url"), m))?;
        for (j, r) in g.replicas.iter().enumerate() {
            validate_url(r).map_err(|m| field_err(format!("gateways[{i}].replicas[{j}]"), m))?;
        }
        let credential_env =
            g.credential_env.as_ref().map(env_name).transpose().map_err(|m| field_err(at("credential_env"), m))?;
        let mut pass_env = Vec::with_capacity(g.pass_env.len());
        for (j, v) in g.pass_env.iter().enumerate() {
            pass_env.push(env_name(v).map_err(|m| field_err(format!("gateways[{i}].pass_env[{j}]"), m))?);
        }
        let mut spec = GatewaySpec::new(g.name, g.kind, g.url.trim_end_matches('/'));
        spec.replicas = g.replicas.iter().map(|r| r.trim_end_matches('/').to_owned()).collect();
        spec.discover_command = g.discover_command;
        if let Some(env) = credential_env {
            spec.credential_env = env;
        }
        spec.pass_env = pass_env;
        spec.user_id = g.user_id;
        if g.user_id_env.is_some() {
            spec.user_id_env = g.user_id_env;
        }
        spec.config_file = g.config_file.map(|p| resolve(base, &p));
        spec.restart_command = g.restart_command.filter(|c| !c.trim().is_empty());
        spec.reload_command = g.reload_command.filter(|c| !c.trim().is_empty());
        spec.validate_command = g.validate_command.filter(|c| !c.trim().is_empty());
        if let Some(d) = dur(g.refresh.as_ref(), at("refresh"))?.or(default_refresh) {
            if d < Duration::from_millis(500) {
                return Err(field_err(at("refresh"), "must be at least 500ms".into()));
            }
            spec.refresh = d;
        }
        if let Some(d) = dur(g.timeout.as_ref(), at("timeout"))?.or(default_timeout) {
            if d.is_zero() {
                return Err(field_err(at("timeout"), "must be above zero".into()));
            }
            spec.timeout = d;
        }
        if let Some(d) = dur(g.action_timeout.as_ref(), at("action_timeout"))? {
            spec.action_timeout = d;
        }
        if let Some(d) = dur(g.verify_timeout.as_ref(), at("verify_timeout"))? {
            spec.verify_timeout = d;
        }
        spec.nginx_config = g.nginx_config.map(|p| resolve(base, &p));
        spec.client_models = raw.client_models.iter().chain(g.client_models.iter()).cloned().collect();
        spec.channel_keys_file = g.channel_keys_file.map(|p| resolve(base, &p));
        if let Some(d) = dur(g.probe_ttl.as_ref(), at("probe_ttl"))? {
            spec.probe_ttl = d;
        }
        if let Some(d) = dur(g.sync_frequency.as_ref(), at("sync_frequency"))? {
            spec.sync_frequency = d;
        }
        if let Some(grp) = g.user_group {
            spec.user_group = grp;
        }
        spec.memory_cache = g.memory_cache;
        spec.pid_file = g.pid_file.map(|p| resolve(base, &p));
        if g.env_file.is_some() && g.env_command.is_some() {
            return Err(field_err(
                at("env_command"),
                "set env_file or env_command, not both: either one is the proxy's whole environment".into(),
            ));
        }
        if spec.kind != GatewayKind::LiteLlm && (g.env_file.is_some() || g.env_command.is_some()) {
            let f = if g.env_file.is_some() { "env_file" } else { "env_command" };
            return Err(field_err(at(f), "only LiteLLM gateways resolve os.environ/ names".into()));
        }
        spec.env_file = g.env_file.map(|p| resolve(base, &p));
        spec.env_command = g.env_command.filter(|c| !c.trim().is_empty());
        if let Some(mb) = g.max_body_mb {
            if mb == 0 {
                return Err(field_err(at("max_body_mb"), "must be at least 1".into()));
            }
            spec.max_body_bytes = mb as usize * 1024 * 1024;
        }
        spec.behind_cloudflare = g.behind_cloudflare;
        if let Some(url) = g.prometheus_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            if spec.kind != GatewayKind::LiteLlm {
                return Err(field_err(
                    at("prometheus_url"),
                    "only LiteLLM gateways are read from Prometheus (New API has no /metrics)".into(),
                ));
            }
            validate_url(url).map_err(|m| field_err(at("prometheus_url"), m))?;
            spec.prometheus_url = Some(url.trim_end_matches('/').to_owned());
        }
        if let Some(job) = g.prometheus_job {
            if spec.prometheus_url.is_none() {
                return Err(field_err(at("prometheus_job"), "needs prometheus_url".into()));
            }
            if job.is_empty() || job.len() > 200 || job.chars().any(char::is_control) {
                return Err(field_err(at("prometheus_job"), "must be a scrape job's name".into()));
            }
            spec.prometheus_job = Some(job);
        }
        if spec.kind != GatewayKind::NewApi
            && let Some(f) = [
                ("rate_limit", g.rate_limit.is_some()),
                ("rate_limit_window", g.rate_limit_window.is_some()),
                ("rate_reserve", g.rate_reserve.is_some()),
            ]
            .iter()
            .find(|(_, set)| *set)
        {
            return Err(field_err(at(f.0), "only New API gateways have a per-address admin rate limit".into()));
        }
        if let Some(n) = g.rate_limit {
            if n < 10 {
                return Err(field_err(
                    at("rate_limit"),
                    "must be at least 10 (New API's GLOBAL_API_RATE_LIMIT)".into(),
                ));
            }
            spec.rate_limit = n;
        }
        if let Some(d) = dur(g.rate_limit_window.as_ref(), at("rate_limit_window"))? {
            if d < Duration::from_secs(1) {
                return Err(field_err(at("rate_limit_window"), "must be at least 1s".into()));
            }
            spec.rate_limit_window = d;
        }
        match g.rate_reserve {
            Some(r) if r.saturating_add(5) > spec.rate_limit => {
                return Err(field_err(
                    at("rate_reserve"),
                    format!("leaves gatewatch fewer than 5 of the {} requests (rate_limit)", spec.rate_limit),
                ));
            }
            Some(r) => spec.rate_reserve = r,
            // The default reserve is a sixth of the limit (30 of New API's 180).
            None => spec.rate_reserve = spec.rate_limit / 6,
        }
        gateways.push(spec);
    }
    let bindings = keys::parse(raw.keys.as_ref()).map_err(|(field, message)| field_err(field, message))?;
    Ok(Config {
        gateways,
        read_only: raw.read_only,
        allow_probes: raw.allow_probes,
        tree_file: raw.tree_file.map(|p| resolve(base, &p)),
        state_dir: raw.state_dir.map_or_else(default_state_dir, |p| resolve(base, &p)),
        source: Some(path.to_owned()),
        bindings,
        mouse: raw.mouse,
    })
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    let expanded = expand_home(p);
    if expanded.is_absolute() { expanded } else { base.join(expanded) }
}

fn expand_home(p: &Path) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    p.to_owned()
}

fn yaml_error(e: &serde_yaml::Error, text: &str, path: &Path) -> ConfigError {
    let line = e.location().map_or(1, |l| l.line());
    let msg = e.to_string();
    // serde_yaml prefixes the field path: "gateways[0].kind: unknown variant …"
    let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m).to_owned();
    if let Some((field, message)) = msg.split_once(": ")
        && !field.contains(' ')
        && !field.is_empty()
    {
        let line = if e.location().is_some() { line } else { yamlpath::line_of(text, field).unwrap_or(line) };
        return ConfigError::Field {
            path: path.to_owned(),
            line,
            field: field.to_owned(),
            message: message.to_owned(),
        };
    }
    ConfigError::Syntax { path: path.to_owned(), line, message: msg }
}

fn validate_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} must start with http:// or https://"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not contain credentials; name an environment variable in credential_env instead".into());
    }
    Ok(())
}

/// An environment variable's name. The value is never echoed: what was
/// written here is often the secret itself, pasted in place of its name.
fn env_name(v: &serde_yaml::Value) -> Result<String, String> {
    let serde_yaml::Value::String(name) = v else {
        return Err("must be the name of an environment variable (the value is not shown)".into());
    };
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(name.clone())
    } else {
        Err(format!(
            "is not an environment variable name (value not shown, fingerprint {}): name the variable that holds the secret, e.g. LITELLM_MASTER_KEY, and never write the secret itself here",
            crate::secret::Fingerprint::of(name)
        ))
    }
}

/// One `--gateway KIND=URL[,URL…]` flag.
pub fn parse_gateway_flag(flag: &str) -> Result<(GatewayKind, Vec<String>), ConfigError> {
    let (kind, urls) = flag.split_once('=').ok_or_else(|| {
        ConfigError::Usage(format!("--gateway {flag:?}: expected KIND=URL, e.g. litellm=http://127.0.0.1:4000"))
    })?;
    let kind = GatewayKind::parse(kind)
        .ok_or_else(|| ConfigError::Usage(format!("--gateway {flag:?}: unknown kind {kind:?} (litellm or newapi)")))?;
    let urls: Vec<String> =
        urls.split(',').map(|u| u.trim().trim_end_matches('/').to_owned()).filter(|u| !u.is_empty()).collect();
    if urls.is_empty() {
        return Err(ConfigError::Usage(format!("--gateway {flag:?}: no URL")));
    }
    for u in &urls {
        validate_url(u).map_err(|m| ConfigError::Usage(format!("--gateway: {m}")))?;
    }
    Ok((kind, urls))
}

/// Options that may come from the command line instead of a file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub gateways: Vec<String>,
    pub litellm_config: Option<PathBuf>,
    /// The LiteLLM proxy's environment as a dotenv file (`--litellm-env-file`).
    pub litellm_env_file: Option<PathBuf>,
    pub restart_command: Option<String>,
    pub reload_command: Option<String>,
    pub refresh: Option<Duration>,
    pub timeout: Option<Duration>,
    pub read_only: bool,
    pub allow_probes: bool,
    pub no_mouse: bool,
    pub tree_file: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
}

/// Build the configuration from flags (no file needed for simple cases).
pub fn from_flags(o: &Overrides) -> Result<Config, ConfigError> {
    let mut gateways = Vec::new();
    for flag in &o.gateways {
        let (kind, urls) = parse_gateway_flag(flag)?;
        let n = gateways.iter().filter(|g: &&GatewaySpec| g.kind == kind).count();
        let name = if n == 0 { kind.as_str().to_owned() } else { format!("{kind}-{}", n + 1) };
        let mut spec = GatewaySpec::new(name, kind, urls[0].clone());
        if urls.len() > 1 {
            spec.replicas = urls;
        }
        if kind == GatewayKind::LiteLlm {
            spec.config_file.clone_from(&o.litellm_config);
        }
        gateways.push(spec);
    }
    let mut cfg = Config {
        gateways,
        read_only: false,
        allow_probes: false,
        tree_file: None,
        state_dir: default_state_dir(),
        source: None,
        bindings: crate::keys::Bindings::default(),
        mouse: true,
    };
    apply(&mut cfg, o);
    Ok(cfg)
}

/// Flags win over the file.
pub fn apply(cfg: &mut Config, o: &Overrides) {
    cfg.read_only |= o.read_only;
    cfg.allow_probes |= o.allow_probes;
    cfg.mouse &= !o.no_mouse;
    if o.tree_file.is_some() {
        cfg.tree_file.clone_from(&o.tree_file);
    }
    if let Some(d) = &o.state_dir {
        cfg.state_dir.clone_from(d);
    }
    for g in &mut cfg.gateways {
        if let Some(r) = o.refresh {
            g.refresh = r;
        }
        if let Some(t) = o.timeout {
            g.timeout = t;
        }
        if g.kind == GatewayKind::LiteLlm && o.litellm_config.is_some() && g.config_file.is_none() {
            g.config_file.clone_from(&o.litellm_config);
        }
        if g.kind == GatewayKind::LiteLlm && o.litellm_env_file.is_some() {
            g.env_file.clone_from(&o.litellm_env_file);
            g.env_command = None;
        }
        if o.restart_command.is_some() {
            g.restart_command.clone_from(&o.restart_command);
        }
        if o.reload_command.is_some() {
            g.reload_command.clone_from(&o.reload_command);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("/etc/gatewatch/config.yaml")
    }

    #[test]
    fn parses_full_example() {
        let cfg = parse(example::EXAMPLE, p()).unwrap();
        assert_eq!(cfg.gateways.len(), 2);
        let lite = &cfg.gateways[0];
        assert_eq!(lite.kind, GatewayKind::LiteLlm);
        assert_eq!(lite.credential_env, "LITELLM_MASTER_KEY");
        assert_eq!(lite.replica_urls().len(), 2);
        assert_eq!(cfg.gateways[1].kind, GatewayKind::NewApi);
    }

    #[test]
    fn keys_rebind_and_their_errors_name_line_and_field() {
        use crate::keys::{ActionKind, Command, Context, KeySpec};
        let gw = "gateways:\n  - name: a\n    kind: litellm\n    url: http://x:4000\n";
        let cfg = parse(&format!("{gw}keys:\n  restart: X\n  purge: ctrl-p\n  reload: none\n"), p()).unwrap();
        let restart = Command::Action(ActionKind::Restart);
        assert_eq!(cfg.bindings.lookup(Context::Tree, KeySpec::ch('X')), Some(restart));
        assert_eq!(cfg.bindings.lookup(Context::Tree, KeySpec::ctrl('p')), Some(Command::Action(ActionKind::Purge)));
        assert!(cfg.bindings.keys_for(Context::Tree, Command::Action(ActionKind::Reload)).is_empty());
        for (keys, line, field, what) in [
            ("keys:\n  purge: ctrl-p\n  restrat: X\n", 7, "keys.restrat", "no command \"restrat\""),
            ("keys:\n  restart: j\n", 6, "keys.restart", "j is already bound to down"),
            ("keys:\n  restart: hyper-x\n", 6, "keys.restart", "no such key"),
            ("keys:\n  quit: none\n", 6, "keys.quit", "only actions"),
        ] {
            let err = parse(&format!("{gw}{keys}"), p()).unwrap_err().to_string();
            assert!(err.contains(&format!("config.yaml:{line}: field `{field}`")), "{err}");
            assert!(err.contains(what), "{err}");
        }
    }

    #[test]
    fn prometheus_url_is_for_litellm_and_its_job_needs_it() {
        let lite = "gateways:\n  - name: a\n    kind: litellm\n    url: http://x:4000\n";
        let cfg =
            parse(&format!("{lite}    prometheus_url: http://prom:9090/\n    prometheus_job: litellm\n"), p()).unwrap();
        assert_eq!(cfg.gateways[0].prometheus_url.as_deref(), Some("http://prom:9090"));
        assert_eq!(cfg.gateways[0].prometheus_job.as_deref(), Some("litellm"));
        for (text, line, field, what) in [
            (format!("{lite}    prometheus_job: litellm\n"), 5, "gateways[0].prometheus_job", "needs prometheus_url"),
            (format!("{lite}    prometheus_url: prom:9090\n"), 5, "gateways[0].prometheus_url", "http://"),
            (
                "gateways:\n  - name: n\n    kind: newapi\n    url: http://x:3000\n    prometheus_url: http://p:9090\n"
                    .into(),
                5,
                "gateways[0].prometheus_url",
                "only LiteLLM",
            ),
        ] {
            let err = parse(&text, p()).unwrap_err().to_string();
            assert!(err.contains(&format!("config.yaml:{line}: field `{field}`")), "{err}");
            assert!(err.contains(what), "{err}");
        }
    }

    #[test]
    fn new_api_rate_limit_and_reserve() {
        let n = "gateways:\n  - name: n\n    kind: newapi\n    url: http://x:3000\n";
        let cfg = parse(&format!("{n}    rate_limit: 600\n    rate_limit_window: 60s\n    rate_reserve: 100\n"), p())
            .unwrap();
        let g = &cfg.gateways[0];
        assert_eq!((g.rate_limit, g.rate_limit_window, g.rate_reserve), (600, Duration::from_secs(60), 100));
        let d = &parse(n, p()).unwrap().gateways[0];
        assert_eq!((d.rate_limit, d.rate_limit_window.as_secs(), d.rate_reserve), (180, 180, 30));
        for (extra, field, what) in [
            ("    rate_reserve: 178\n", "gateways[0].rate_reserve", "fewer than 5"),
            ("    rate_limit: 3\n", "gateways[0].rate_limit", "at least 10"),
            ("    rate_limit_window: 0s\n", "gateways[0].rate_limit_window", "at least 1s"),
        ] {
            let err = parse(&format!("{n}{extra}"), p()).unwrap_err().to_string();
            assert!(err.contains(&format!("config.yaml:5: field `{field}`")) && err.contains(what), "{err}");
        }
        let lite = "gateways:\n  - name: a\n    kind: litellm\n    url: http://x:4000\n    rate_limit: 100\n";
        assert!(parse(lite, p()).unwrap_err().to_string().contains("only New API"));
    }

    #[test]
    fn unknown_kind_names_line_and_field() {
        let text = "gateways:\n  - name: a\n    kind: litelm\n    url: http://x:4000\n";
        let err = parse(text, p()).unwrap_err().to_string();
        assert!(err.contains("config.yaml:3"), "{err}");
        assert!(err.contains("gateways[0].kind"), "{err}");
        assert!(err.contains("litelm"), "{err}");
    }

    #[test]
    fn bad_url_names_line_and_field() {
        let text = "gateways:\n  - name: a\n    kind: litellm\n    url: ftp://x\n";
        let err = parse(text, p()).unwrap_err().to_string();
        assert!(err.contains("config.yaml:4: field `gateways[0].url`"), "{err}");
    }

    #[test]
    fn secret_in_credential_env_is_refused_without_echoing_it() {
        for (value, shown) in [
            ("sk-live-abc-123", "sk-live-abc-123"),
            ("'Bearer tok en'", "tok en"),
            ("4242424242424242", "4242424242424242"),
            ("[sk-in-a-list-999]", "sk-in-a-list-999"),
        ] {
            let text =
                format!("gateways:\n  - name: a\n    kind: litellm\n    url: http://x\n    credential_env: {value}\n");
            let err = parse(&text, p()).unwrap_err().to_string();
            assert!(err.contains("config.yaml:5: field `gateways[0].credential_env`"), "{err}");
            assert!(!err.contains(shown), "the value is echoed: {err}");
        }
        let text = "gateways:\n  - name: a\n    kind: litellm\n    url: http://x\n    pass_env: [LITELLM_MASTER_KEY, sk-pasted-0000]\n";
        let err = parse(text, p()).unwrap_err().to_string();
        assert!(err.contains("gateways[0].pass_env[1]") && !err.contains("sk-pasted-0000"), "{err}");
        let text = "gateways:\n  - name: a\n    kind: litellm\n    url: http://x\n    pass_env: [LITELLM_MASTER_KEY]\n";
        assert_eq!(parse(text, p()).unwrap().gateways[0].pass_env, ["LITELLM_MASTER_KEY"]);
    }

    #[test]
    fn unknown_field_is_an_error() {
        let text = "gateways:\n  - name: a\n    kind: litellm\n    url: http://x\n    restart: docker restart x\n";
        let err = parse(text, p()).unwrap_err().to_string();
        assert!(err.contains("restart"), "{err}");
        assert!(err.contains(":5"), "{err}");
    }

    #[test]
    fn syntax_error_names_line() {
        let text = "gateways:\n  - name: a\n   kind: [\n";
        let err = parse(text, p()).unwrap_err().to_string();
        assert!(err.starts_with("/etc/gatewatch/config.yaml:"), "{err}");
    }

    #[test]
    fn gateway_flag_with_replicas() {
        let (k, urls) = parse_gateway_flag("litellm=http://a:4000,http://b:4000/").unwrap();
        assert_eq!(k, GatewayKind::LiteLlm);
        assert_eq!(urls, vec!["http://a:4000", "http://b:4000"]);
        assert!(parse_gateway_flag("nope=http://a").is_err());
        assert!(parse_gateway_flag("litellm").is_err());
    }

    #[test]
    fn env_file_and_env_command_are_exclusive_and_litellm_only() {
        let base = "gateways:\n  - name: a\n    kind: litellm\n    url: http://x:4000\n";
        let cfg = parse(&format!("{base}    env_file: litellm.env\n"), p()).unwrap();
        assert_eq!(cfg.gateways[0].env_file.as_deref(), Some(Path::new("/etc/gatewatch/litellm.env")));
        let cfg = parse(&format!("{base}    env_command: docker exec litellm env\n"), p()).unwrap();
        assert_eq!(cfg.gateways[0].env_command.as_deref(), Some("docker exec litellm env"));
        let err = parse(&format!("{base}    env_file: a.env\n    env_command: env\n"), p()).unwrap_err().to_string();
        assert!(err.contains("config.yaml:6: field `gateways[0].env_command`"), "{err}");
        let err = parse("gateways:\n  - name: n\n    kind: newapi\n    url: http://x:3000\n    env_file: a.env\n", p())
            .unwrap_err()
            .to_string();
        assert!(err.contains("gateways[0].env_file") && err.contains("only LiteLLM"), "{err}");
    }
}
