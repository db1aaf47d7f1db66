//! The LiteLLM proxy's own config.yaml, read as the proxy reads it.
//!
//! From the file, the files it includes and the proxy's environment (see
//! [`super::proxy_env`]) this computes, per deployment, the id the proxy
//! *would* give it if it loaded the file now (see [`super::model_id`]),
//! per-field fingerprints, the environment references and what they resolve
//! to, and the settings the checks need (fallbacks, retries, cache,
//! master-key boot check, health checks).

mod deployments;
pub mod include;
mod settings;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::model_id::{Envs, ResolvedRef};
pub use super::params::ParamField;
use super::proxy_env::{EnvSource, Lookup, ProxyEnv};
use super::pyyaml::{Node, PyValue};
use crate::secret::Fingerprint;
pub use include::Reader;
pub use settings::{Chains, RedisTarget};

/// How the environment is read (a closure so tests can supply their own):
/// gatewatch's own environment, where a missing name is unknown.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// gatewatch's own process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// One `os.environ/NAME` reference in the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EnvRef {
    pub name: String,
    pub field: String,
    pub line: usize,
    /// The proxy's environment has a value for it.
    pub set: bool,
    pub fingerprint: Option<Fingerprint>,
    /// Why its value in the proxy cannot be known from here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    /// Defined only under `environment_variables:`, which the proxy applies
    /// after resolving model_list: it resolves to nothing there.
    pub late_only: bool,
}

impl EnvRef {
    pub fn from_resolved(r: &ResolvedRef, field: String) -> Self {
        Self {
            name: r.name.clone(),
            field,
            line: r.line,
            set: r.value.is_some(),
            fingerprint: r.value.as_deref().map(Fingerprint::of),
            unknown: r.unknown.clone(),
            late_only: false,
        }
    }
}

/// Where a deployment's id comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdKind {
    /// SHA-256 over the name and params: a changed key changes the id.
    Computed,
    /// `model_info.id` written in the file: the proxy uses it as is, so a
    /// changed key leaves the id alone and cannot be seen by id.
    Pinned(String),
    /// `model_info.id: null`: a random uuid4 at every start (measured).
    Random,
}

/// A deployment as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigDeployment {
    pub index: usize,
    /// The file it is written in (the root config or an included one).
    pub file: PathBuf,
    pub line: usize,
    pub model_name: String,
    /// The id the proxy computes for these params, the pinned one, or empty (random).
    pub id: String,
    pub id_kind: IdKind,
    pub fields: Vec<ParamField>,
    /// Names whose value in the proxy cannot be known here, and why: the id
    /// cannot be reproduced.
    pub unknown_env: Vec<(String, String)>,
    /// Names known to be unset in the proxy: it loads them as `None` (a
    /// deployment without its key); the id is still exact.
    pub unset_env: Vec<String>,
    pub upstream_model: Option<String>,
    pub api_base: Option<String>,
    /// `api_key` written in the file in plain text (not `os.environ/`).
    pub plain_key: bool,
    pub input_cost_per_token: Option<f64>,
    pub output_cost_per_token: Option<f64>,
    pub rpm: Option<f64>,
    pub tpm: Option<f64>,
}

impl ConfigDeployment {
    pub fn field(&self, name: &str) -> Option<&ParamField> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The id proves what the proxy holds (not pinned, not random, every name known).
    pub fn id_is_exact(&self) -> bool {
        self.id_kind == IdKind::Computed && self.unknown_env.is_empty()
    }
}

/// What LiteLLM's boot check will say about the master key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MasterKeyVerdict {
    Safe {
        fingerprint: Fingerprint,
    },
    NotSet {
        source: String,
    },
    Empty {
        source: String,
    },
    PubliclyKnown {
        source: String,
    },
    /// It comes from the proxy's environment, which gatewatch cannot see.
    Unknown {
        source: String,
        why: String,
    },
}

impl MasterKeyVerdict {
    pub fn is_safe(&self) -> bool {
        matches!(self, Self::Safe { .. })
    }

    pub fn problem(&self) -> Option<String> {
        match self {
            Self::Safe { .. } | Self::Unknown { .. } => None,
            Self::NotSet { source } => Some(format!("no master key is set ({source})")),
            Self::Empty { source } => Some(format!("the master key is empty ({source})")),
            Self::PubliclyKnown { source } => {
                Some(format!("the master key is the publicly known default sk-1234 ({source})"))
            }
        }
    }
}

/// Which environment the `os.environ/` references were resolved in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvInfo {
    pub source: EnvSource,
    /// The proxy's whole environment: a missing name is known to be missing.
    pub whole: bool,
    /// The configured source could not be read.
    pub error: Option<String>,
}

impl EnvInfo {
    /// One line for the screen and `check`.
    pub fn describe(&self) -> String {
        match (&self.source, &self.error) {
            (EnvSource::Own, _) => "os.environ/ names resolved from gatewatch's own environment (no env_file or env_command): a name missing here is unknown, not unset".into(),
            (s, Some(e)) => format!("the proxy's environment ({}) cannot be read: {e}", s.describe()),
            (s, None) => format!("os.environ/ names resolved from the proxy's environment ({})", s.describe()),
        }
    }
}

/// The parsed config.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyConfig {
    pub path: PathBuf,
    /// The newest modification time of the file and every file it includes.
    pub modified: Option<SystemTime>,
    /// SHA-256 of every file's bytes, to notice edits.
    pub content_hash: String,
    /// Every file read: the root config first, then each include.
    pub files: Vec<PathBuf>,
    pub env: EnvInfo,
    pub deployments: Vec<ConfigDeployment>,
    pub env_refs: Vec<EnvRef>,
    pub fallbacks: Chains,
    pub context_window_fallbacks: Chains,
    pub content_policy_fallbacks: Chains,
    pub default_fallbacks: Vec<String>,
    pub num_retries: Option<u32>,
    /// `litellm_settings.cache` on, and the `cache_params.type`.
    pub cache: Option<String>,
    /// The response cache's Redis, when it is one (or why it cannot be reached the proxy's way).
    pub redis: Option<Result<RedisTarget, String>>,
    pub master_key: MasterKeyVerdict,
    /// `dangerously_permit_weak_or_unset_master_key` in the file or the environment.
    pub weak_master_key_override: bool,
    /// The environment override could be set where gatewatch cannot see: why
    /// (read as not set: a proxy running on a weak key with it is a
    /// development setup the security check flags anyway).
    pub weak_override_unknown: Option<String>,
    pub background_health_checks: bool,
    pub health_check_interval: Option<f64>,
    pub store_model_in_db: bool,
    pub max_budget: Option<f64>,
    pub database_url_set: bool,
    pub ui_disabled: bool,
    /// Deployments the proxy cannot load at all (it exits at startup).
    pub unloadable: Vec<String>,
}

impl ProxyConfig {
    pub fn deployment_by_id(&self, id: &str) -> Option<&ConfigDeployment> {
        self.deployments.iter().find(|d| !d.id.is_empty() && d.id == id)
    }

    /// Problems that would stop the proxy from starting with this file.
    pub fn boot_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.weak_master_key_override
            && let Some(p) = self.master_key.problem()
        {
            out.push(format!("LiteLLM refuses to boot: {p}"));
        }
        out.extend(self.unloadable.iter().map(|u| format!("LiteLLM exits at startup: {u}")));
        out
    }

    /// What the boot check depends on that gatewatch cannot see from here.
    pub fn boot_unknowns(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let MasterKeyVerdict::Unknown { source, why } = &self.master_key {
            out.push(format!("master key ({source}): {why}"));
        }
        out
    }
}

/// Why the file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyConfigError {
    #[error("{path}: cannot read: {message}")]
    Read { path: String, message: String },
    #[error("{path}:{line}: YAML error: {message}")]
    Yaml { path: String, line: usize, message: String },
    #[error("{path}:{line}: field `{field}`: {message}")]
    Field { path: String, line: usize, field: String, message: String },
}

/// LiteLLM's `SensitiveDataMasker` rule, plus the fields `/model/info` removes
/// (for wording and the plain-key check; what is *shown* follows
/// [`super::params`]' allowlist instead).
pub fn is_sensitive(field: &str) -> bool {
    const REMOVED: [&str; 6] = [
        "api_key",
        "client_secret",
        "vertex_credentials",
        "vertex_ai_credentials",
        "aws_access_key_id",
        "aws_secret_access_key",
    ];
    const PIECES: [&str; 14] = [
        "password",
        "secret",
        "key",
        "token",
        "auth",
        "authorization",
        "cookie",
        "credential",
        "credentials",
        "access",
        "private",
        "certificate",
        "fingerprint",
        "tenancy",
    ];
    if REMOVED.contains(&field) {
        return true;
    }
    let lower = field.to_ascii_lowercase();
    let pieces: Vec<&str> = lower.split(['_', '-']).collect();
    pieces.iter().any(|p| PIECES.contains(p)) && !pieces.contains(&"cost")
}

/// Read and parse the file from disk, names resolved in gatewatch's own environment.
pub fn load(path: &Path, env: EnvLookup<'_>) -> Result<ProxyConfig, ProxyConfigError> {
    let (text, modified) = include::read_file(path)
        .map_err(|message| ProxyConfigError::Read { path: path.display().to_string(), message })?;
    let mut cfg = parse(&text, path, env)?;
    cfg.modified = cfg.modified.max(modified);
    Ok(cfg)
}

/// Read and parse the file from disk, names resolved in the proxy's environment.
pub fn load_in(path: &Path, env: &ProxyEnv) -> Result<ProxyConfig, ProxyConfigError> {
    let (text, modified) = include::read_file(path)
        .map_err(|message| ProxyConfigError::Read { path: path.display().to_string(), message })?;
    let mut cfg = parse_in(&text, path, env, &include::read_file)?;
    cfg.modified = cfg.modified.max(modified);
    Ok(cfg)
}

/// Parse config text (the proxy's config.yaml), names resolved in gatewatch's
/// own environment as `env` gives it; includes are read from disk.
pub fn parse(text: &str, path: &Path, env: EnvLookup<'_>) -> Result<ProxyConfig, ProxyConfigError> {
    let own =
        |n: &str| env(n).map_or_else(|| Lookup::Unknown("not set in gatewatch's own environment".into()), Lookup::Set);
    let info = EnvInfo { source: EnvSource::Own, whole: false, error: None };
    parse_with(text, path, &own, info, &include::read_file)
}

/// Parse config text with the proxy's environment and a reader for includes.
pub fn parse_in(text: &str, path: &Path, env: &ProxyEnv, read: Reader<'_>) -> Result<ProxyConfig, ProxyConfigError> {
    let lookup = |n: &str| env.lookup(n);
    let info = EnvInfo { source: env.source().clone(), whole: env.is_whole(), error: env.error().map(str::to_owned) };
    parse_with(text, path, &lookup, info, read)
}

fn truthy(node: Option<&Node>) -> bool {
    node.is_some_and(Node::is_truthy)
}

fn parse_with(
    text: &str,
    path: &Path,
    early: &dyn Fn(&str) -> Lookup,
    env: EnvInfo,
    read: Reader<'_>,
) -> Result<ProxyConfig, ProxyConfigError> {
    let (_, merged) = include::load_merged(text, path, read)?;
    let mut env_refs = Vec::new();
    // `environment_variables:` reaches the proxy's environment only after
    // model_list's first resolution pass (measured on 1.106.12).
    let overlay = settings::env_overlay(merged.node("environment_variables"), early, &mut env_refs);
    let late = |n: &str| settings::late_lookup(&overlay, early, n);
    let late_only: Vec<String> =
        overlay.iter().filter(|(n, _)| !matches!(early(n), Lookup::Set(_))).map(|(n, _)| n.clone()).collect();
    let envs = Envs { early, late: &late };
    let parsed = deployments::parse(&merged, envs, &late_only)?;
    env_refs.extend(parsed.env_refs);
    let ls = merged.node("litellm_settings");
    let rs = merged.node("router_settings");
    let gs = merged.node("general_settings");
    let pick = |key: &str| rs.and_then(|r| r.get(key)).or_else(|| ls.and_then(|l| l.get(key)));
    let num_retries = settings::number(pick("num_retries")).and_then(|n| {
        if n >= 0.0 && n < f64::from(u32::MAX) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Some(n as u32)
        } else {
            None
        }
    });
    let cache = truthy(ls.and_then(|l| l.get("cache"))).then(|| {
        ls.and_then(|l| l.get("cache_params"))
            .and_then(|c| c.get("type"))
            .and_then(Node::as_str)
            .unwrap_or("redis")
            .to_owned()
    });
    if let Some(n) = gs.and_then(|g| g.get("master_key"))
        && let PyValue::Str(s) = &n.value
        && let Some(name) = s.strip_prefix("os.environ/")
    {
        let r = match early(name) {
            Lookup::Set(v) => {
                ResolvedRef { field: String::new(), name: name.into(), line: n.line, value: Some(v), unknown: None }
            }
            Lookup::Unset => {
                ResolvedRef { field: String::new(), name: name.into(), line: n.line, value: None, unknown: None }
            }
            Lookup::Unknown(w) => {
                ResolvedRef { field: String::new(), name: name.into(), line: n.line, value: None, unknown: Some(w) }
            }
        };
        env_refs.push(EnvRef::from_resolved(&r, "general_settings.master_key".into()));
    }
    let set = |name: &str| matches!(late(name), Lookup::Set(ref v) if v.eq_ignore_ascii_case("true"));
    let weak = settings::weak_override(gs, &late);
    let both = |key: &str, pick_ls: bool| {
        let mut f = settings::chains(if pick_ls { ls } else { rs }.and_then(|l| l.get(key)));
        f.extend(settings::chains(if pick_ls { rs } else { ls }.and_then(|r| r.get(key))));
        f
    };
    Ok(ProxyConfig {
        path: path.to_owned(),
        modified: merged.modified,
        content_hash: merged.content_hash.clone(),
        files: merged.files.clone(),
        env,
        deployments: parsed.deployments,
        env_refs,
        fallbacks: both("fallbacks", true),
        context_window_fallbacks: both("context_window_fallbacks", true),
        content_policy_fallbacks: both("content_policy_fallbacks", true),
        default_fallbacks: pick("default_fallbacks")
            .and_then(Node::as_list)
            .map(|l| l.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        num_retries,
        cache,
        redis: settings::redis_target(ls, &late),
        master_key: settings::master_key(gs, early, &late),
        weak_master_key_override: weak.as_ref().is_ok_and(|w| *w),
        weak_override_unknown: weak.err(),
        background_health_checks: truthy(gs.and_then(|g| g.get("background_health_checks"))),
        health_check_interval: settings::number(gs.and_then(|g| g.get("health_check_interval"))),
        store_model_in_db: truthy(gs.and_then(|g| g.get("store_model_in_db"))),
        max_budget: settings::number(ls.and_then(|l| l.get("max_budget")))
            .or_else(|| settings::number(gs.and_then(|g| g.get("max_budget")))),
        database_url_set: matches!(late("DATABASE_URL"), Lookup::Set(_))
            || gs.and_then(|g| g.get("database_url")).is_some_and(Node::is_truthy),
        ui_disabled: truthy(gs.and_then(|g| g.get("disable_admin_ui"))) || set("DISABLE_ADMIN_UI"),
        unloadable: parsed.unloadable,
    })
}

#[cfg(test)]
mod tests;
