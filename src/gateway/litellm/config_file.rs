//! The LiteLLM proxy's own config.yaml, read as the proxy reads it.
//!
//! From the file plus gatewatch's environment this computes, per deployment,
//! the id the proxy *would* give it if it loaded the file now (see
//! [`super::model_id`]), per-field fingerprints, the environment references
//! and whether they are set, and the settings the checks need (fallbacks,
//! retries, cache, master-key boot check, health checks).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::model_id::{self, ResolvedParams};
use super::pyyaml::{self, Node, PyValue};
use crate::secret::Fingerprint;

/// How the environment is read (a closure so tests can supply their own).
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
    pub set: bool,
    pub fingerprint: Option<Fingerprint>,
}

/// One `litellm_params` field of a deployment, as fingerprint (never the value
/// for sensitive fields).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParamField {
    pub name: String,
    pub fingerprint: Fingerprint,
    pub sensitive: bool,
    /// The value itself, only for non-sensitive fields (model, api_base, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

/// A deployment as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigDeployment {
    pub index: usize,
    pub line: usize,
    pub model_name: String,
    /// The id the proxy computes for these params (or the declared one).
    pub id: String,
    /// `model_info.id` written in the file: the proxy uses it as is, so key
    /// changes do not change the id and drift cannot be seen by id.
    pub declared_id: Option<String>,
    pub fields: Vec<ParamField>,
    pub missing_env: Vec<String>,
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
}

/// What LiteLLM's boot check will say about the master key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MasterKeyVerdict {
    Safe { fingerprint: Fingerprint },
    NotSet { source: String },
    Empty { source: String },
    PubliclyKnown { source: String },
}

impl MasterKeyVerdict {
    pub fn is_safe(&self) -> bool {
        matches!(self, Self::Safe { .. })
    }

    pub fn problem(&self) -> Option<String> {
        match self {
            Self::Safe { .. } => None,
            Self::NotSet { source } => Some(format!("no master key is set ({source})")),
            Self::Empty { source } => Some(format!("the master key is empty ({source})")),
            Self::PubliclyKnown { source } => {
                Some(format!("the master key is the publicly known default sk-1234 ({source})"))
            }
        }
    }
}

/// A fallback chain as written.
pub type Chains = Vec<(String, Vec<String>)>;

/// The parsed config.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyConfig {
    pub path: PathBuf,
    pub modified: Option<SystemTime>,
    /// SHA-256 of the file bytes, to notice edits.
    pub content_hash: String,
    pub deployments: Vec<ConfigDeployment>,
    pub env_refs: Vec<EnvRef>,
    pub fallbacks: Chains,
    pub context_window_fallbacks: Chains,
    pub content_policy_fallbacks: Chains,
    pub default_fallbacks: Vec<String>,
    pub num_retries: Option<u32>,
    /// `litellm_settings.cache` on, and the `cache_params.type`.
    pub cache: Option<String>,
    pub master_key: MasterKeyVerdict,
    /// `dangerously_permit_weak_or_unset_master_key` in the file or the environment.
    pub weak_master_key_override: bool,
    pub background_health_checks: bool,
    pub health_check_interval: Option<f64>,
    pub store_model_in_db: bool,
    pub max_budget: Option<f64>,
    pub database_url_set: bool,
    pub ui_disabled: bool,
    pub include_files: Vec<String>,
    /// Deployments the proxy cannot load at all (it exits at startup).
    pub unloadable: Vec<String>,
}

impl ProxyConfig {
    pub fn deployment_by_id(&self, id: &str) -> Option<&ConfigDeployment> {
        self.deployments.iter().find(|d| d.id == id)
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

/// LiteLLM's `SensitiveDataMasker` rule, plus the fields `/model/info` removes.
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

/// Read and parse the file from disk.
pub fn load(path: &Path, env: EnvLookup<'_>) -> Result<ProxyConfig, ProxyConfigError> {
    let text = crate::readlimit::read_text(path, crate::readlimit::LITELLM_CONFIG, "a LiteLLM config")
        .map_err(|e| ProxyConfigError::Read { path: path.display().to_string(), message: e.to_string() })?;
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let mut cfg = parse(&text, path, env)?;
    cfg.modified = modified;
    Ok(cfg)
}

fn chains(node: Option<&Node>) -> Chains {
    // fallbacks: [{"gpt-4o-mini": ["gpt-4o"]}, …]
    let mut out = Vec::new();
    let Some(list) = node.and_then(Node::as_list) else {
        return out;
    };
    for item in list {
        if let Some(d) = item.as_dict() {
            for (k, v) in d {
                let from = pyrepr_key(k);
                let to: Vec<String> = match &v.value {
                    PyValue::List(l) => l.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect(),
                    PyValue::Str(s) => vec![s.clone()],
                    _ => Vec::new(),
                };
                out.push((from, to));
            }
        }
    }
    out
}

fn pyrepr_key(k: &PyValue) -> String {
    super::pyrepr::py_str(k)
}

fn number(node: Option<&Node>) -> Option<f64> {
    match &node?.value {
        PyValue::Int(i) => i.parse().ok(),
        PyValue::Float(f) => Some(*f),
        PyValue::Str(s) => s.parse().ok(),
        _ => None,
    }
}

fn truthy(node: Option<&Node>) -> bool {
    node.is_some_and(Node::is_truthy)
}

/// Parse config text (the proxy's config.yaml).
pub fn parse(text: &str, path: &Path, env: EnvLookup<'_>) -> Result<ProxyConfig, ProxyConfigError> {
    let p = path.display().to_string();
    let root =
        pyyaml::load(text).map_err(|e| ProxyConfigError::Yaml { path: p.clone(), line: e.line, message: e.message })?;
    let field_err = |line: usize, field: &str, message: &str| ProxyConfigError::Field {
        path: p.clone(),
        line,
        field: field.to_owned(),
        message: message.to_owned(),
    };
    if !matches!(root.value, PyValue::Dict(_) | PyValue::None) {
        return Err(field_err(root.line, "(top level)", "the file must be a mapping"));
    }
    let mut env_refs = Vec::new();
    let mut deployments = Vec::new();
    let mut unloadable = Vec::new();
    if let Some(list_node) = root.get("model_list") {
        let list = match &list_node.value {
            PyValue::List(l) => l.as_slice(),
            PyValue::None => &[],
            _ => return Err(field_err(list_node.line, "model_list", "must be a list")),
        };
        for (i, entry) in list.iter().enumerate() {
            let at = |f: &str| format!("model_list[{i}].{f}");
            if entry.as_dict().is_none() {
                return Err(field_err(entry.line, &format!("model_list[{i}]"), "must be a mapping"));
            }
            let name_node =
                entry.get("model_name").ok_or_else(|| field_err(entry.line, &at("model_name"), "missing"))?;
            // `_check_for_os_environ_vars` resolves `model_name` too (once).
            let mut name_refs = Vec::new();
            let name_value = model_id::resolve_top("model_name", name_node, env, &mut name_refs, 1);
            let model_name = match &name_value {
                PyValue::Str(s) => s.clone(),
                other => super::pyrepr::py_str(other),
            };
            let params_node =
                entry.get("litellm_params").ok_or_else(|| field_err(entry.line, &at("litellm_params"), "missing"))?;
            let params = params_node
                .as_dict()
                .ok_or_else(|| field_err(params_node.line, &at("litellm_params"), "must be a mapping"))?;
            if params.iter().all(|(k, _)| !matches!(k, PyValue::Str(s) if s == "model")) {
                return Err(field_err(params_node.line, &at("litellm_params.model"), "missing"));
            }
            let resolved: ResolvedParams = model_id::resolve_params(params, env);
            let mut id_refs = Vec::new();
            let declared_id = entry
                .get("model_info")
                .and_then(|mi| mi.get("id"))
                .map(|n| model_id::resolve_top("id", n, env, &mut id_refs, 1))
                .filter(|v| *v != PyValue::None)
                .map(|v| super::pyrepr::py_str(&v));
            let all_refs = name_refs
                .iter()
                .map(|r| (at("model_name"), r))
                .chain(resolved.env_refs.iter().map(|r| (format!("{}.{}", at("litellm_params"), r.field), r)))
                .chain(id_refs.iter().map(|r| (at("model_info.id"), r)));
            let mut missing_env = Vec::new();
            for (field, r) in all_refs {
                if r.value.is_none() {
                    missing_env.push(r.name.clone());
                }
                env_refs.push(EnvRef {
                    name: r.name.clone(),
                    field,
                    line: r.line,
                    set: r.value.is_some(),
                    fingerprint: r.value.as_deref().map(Fingerprint::of),
                });
            }
            // Measured on 1.106.12: `generate_model_id` joins model_name as a
            // str, so `model_name: 123`, `yes`, or an unset os.environ/ name
            // crashes startup (TypeError, exit 3).
            if declared_id.is_none() && !matches!(name_value, PyValue::Str(_)) {
                unloadable.push(format!(
                    "line {}: {} is {} (not a string): quote it",
                    name_node.line,
                    at("model_name"),
                    super::pyrepr::py_repr(&name_value)
                ));
            }
            let id = declared_id.clone().unwrap_or_else(|| model_id::generate_model_id(&model_name, &resolved.params));
            let fields = resolved
                .params
                .iter()
                .map(|(k, v)| {
                    let name = super::pyrepr::py_str(k);
                    let part = super::pyrepr::id_part(v);
                    let sensitive = is_sensitive(&name);
                    ParamField {
                        fingerprint: Fingerprint::of(&part),
                        shown: (!sensitive).then(|| part.chars().take(120).collect()),
                        env: resolved.env_refs.iter().find(|r| r.field == name).map(|r| r.name.clone()),
                        name,
                        sensitive,
                    }
                })
                .collect();
            let get_str = |key: &str| {
                resolved.params.iter().find_map(|(k, v)| match (k, v) {
                    (PyValue::Str(kk), PyValue::Str(vv)) if kk == key => Some(vv.clone()),
                    _ => None,
                })
            };
            let get_num = |key: &str| {
                resolved.params.iter().find_map(|(k, v)| match (k, v) {
                    (PyValue::Str(kk), PyValue::Float(f)) if kk == key => Some(*f),
                    (PyValue::Str(kk), PyValue::Int(i)) if kk == key => i.parse().ok(),
                    _ => None,
                })
            };
            let plain_key = params.iter().any(|(k, v)| {
                matches!(k, PyValue::Str(s) if is_sensitive(s))
                    && matches!(&v.value, PyValue::Str(s) if !s.starts_with("os.environ/") && !s.is_empty())
            });
            let model_info = entry.get("model_info");
            let info_num = |key: &str| number(model_info.and_then(|m| m.get(key)));
            deployments.push(ConfigDeployment {
                index: i,
                line: entry.line,
                model_name,
                id,
                declared_id,
                fields,
                missing_env,
                upstream_model: get_str("model"),
                api_base: get_str("api_base"),
                plain_key,
                input_cost_per_token: get_num("input_cost_per_token").or_else(|| info_num("input_cost_per_token")),
                output_cost_per_token: get_num("output_cost_per_token").or_else(|| info_num("output_cost_per_token")),
                rpm: get_num("rpm"),
                tpm: get_num("tpm"),
            });
        }
    }
    let ls = root.get("litellm_settings");
    let rs = root.get("router_settings");
    let gs = root.get("general_settings");
    let pick = |key: &str| rs.and_then(|r| r.get(key)).or_else(|| ls.and_then(|l| l.get(key)));
    let num_retries = number(pick("num_retries")).and_then(|n| {
        if n >= 0.0 && n < f64::from(u32::MAX) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Some(n as u32)
        } else {
            None
        }
    });
    let cache = if truthy(ls.and_then(|l| l.get("cache"))) {
        Some(
            ls.and_then(|l| l.get("cache_params"))
                .and_then(|c| c.get("type"))
                .and_then(Node::as_str)
                .unwrap_or("redis")
                .to_owned(),
        )
    } else {
        None
    };
    // The master key, as the proxy's boot check sees it.
    let env_master = env("LITELLM_MASTER_KEY");
    let (master_raw, source): (Option<String>, String) = match gs.and_then(|g| g.get("master_key")) {
        Some(n) => match &n.value {
            PyValue::Str(s) if s.starts_with("os.environ/") => {
                let name = s.trim_start_matches("os.environ/");
                (env(name), format!("general_settings.master_key: os.environ/{name}, line {}", n.line))
            }
            PyValue::None => (None, format!("general_settings.master_key is empty, line {}", n.line)),
            other => (
                Some(super::pyrepr::py_str(other)),
                format!("general_settings.master_key in the file, line {}", n.line),
            ),
        },
        None => (env_master.clone(), "LITELLM_MASTER_KEY in the environment".to_owned()),
    };
    let master_key = match master_raw {
        None => MasterKeyVerdict::NotSet { source },
        Some(k) if k.trim().is_empty() => MasterKeyVerdict::Empty { source },
        Some(k)
            if hex::encode(Sha256::digest(k.trim().as_bytes()))
                == "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b" =>
        {
            MasterKeyVerdict::PubliclyKnown { source }
        }
        Some(k) => MasterKeyVerdict::Safe { fingerprint: Fingerprint::of(&k) },
    };
    let override_env = env("LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let override_file = gs
        .and_then(|g| g.get("dangerously_permit_weak_or_unset_master_key"))
        .is_some_and(|n| n.value == PyValue::Bool(true));
    if let Some(g) = gs
        && let Some(n) = g.get("master_key")
        && let PyValue::Str(s) = &n.value
        && let Some(name) = s.strip_prefix("os.environ/")
    {
        env_refs.push(EnvRef {
            name: name.to_owned(),
            field: "general_settings.master_key".into(),
            line: n.line,
            set: env(name).is_some(),
            fingerprint: env(name).as_deref().map(Fingerprint::of),
        });
    }
    let database_url_set =
        env("DATABASE_URL").is_some() || gs.and_then(|g| g.get("database_url")).is_some_and(Node::is_truthy);
    Ok(ProxyConfig {
        path: path.to_owned(),
        modified: None,
        content_hash: hex::encode(Sha256::digest(text.as_bytes())),
        deployments,
        env_refs,
        fallbacks: {
            let mut f = chains(ls.and_then(|l| l.get("fallbacks")));
            f.extend(chains(rs.and_then(|r| r.get("fallbacks"))));
            f
        },
        context_window_fallbacks: {
            let mut f = chains(ls.and_then(|l| l.get("context_window_fallbacks")));
            f.extend(chains(rs.and_then(|r| r.get("context_window_fallbacks"))));
            f
        },
        content_policy_fallbacks: {
            let mut f = chains(ls.and_then(|l| l.get("content_policy_fallbacks")));
            f.extend(chains(rs.and_then(|r| r.get("content_policy_fallbacks"))));
            f
        },
        default_fallbacks: pick("default_fallbacks")
            .and_then(Node::as_list)
            .map(|l| l.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        num_retries,
        cache,
        master_key,
        weak_master_key_override: override_env || override_file,
        background_health_checks: truthy(gs.and_then(|g| g.get("background_health_checks"))),
        health_check_interval: number(gs.and_then(|g| g.get("health_check_interval"))),
        store_model_in_db: truthy(gs.and_then(|g| g.get("store_model_in_db"))),
        max_budget: number(ls.and_then(|l| l.get("max_budget")))
            .or_else(|| number(gs.and_then(|g| g.get("max_budget")))),
        database_url_set,
        ui_disabled: truthy(gs.and_then(|g| g.get("disable_admin_ui")))
            || env("DISABLE_ADMIN_UI").is_some_and(|v| v.eq_ignore_ascii_case("true")),
        include_files: root
            .get("include")
            .and_then(Node::as_list)
            .map(|l| l.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        unloadable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARED: &str = include_str!("../../../tests/fixtures/litellm/config.yaml");

    fn env(name: &str) -> Option<String> {
        match name {
            "THIRD_KEY" => Some("sk-upstream-THIRD-env-9999aaaabbbb".into()),
            _ => None,
        }
    }

    #[test]
    fn reproduces_ids_captured_from_the_real_proxy() {
        let cfg = parse(SHARED, Path::new("config.yaml"), &env).unwrap();
        let ids: Vec<&str> = cfg.deployments.iter().map(|d| d.id.as_str()).collect();
        // model_info.json from LiteLLM 1.106.12 (OLD key), health_stale_key.json.
        assert_eq!(ids[0], "6e90e9de651b7e4b585ebfc8372275b3f0b5e4a8d78b6df6d9629155bbef3781");
        assert_eq!(ids[1], "2075eb5839e903608c84288386ae8c6a19d831744d0460d7cbb572d986ec05c0");
        assert_eq!(ids[2], "97d6eec37df2f1529b81e0c0b41ec63af1a9b0d9aa45d07742d2ca10ec869aa4");
        assert_eq!(cfg.fallbacks, vec![("gpt-4o-mini".to_owned(), vec!["gpt-4o".to_owned()])]);
        assert_eq!(cfg.cache.as_deref(), Some("local"));
        assert!(cfg.master_key.is_safe());
        assert!(cfg.deployments[0].plain_key);
        assert!(!cfg.deployments[2].plain_key);
    }

    #[test]
    fn rotated_key_gives_the_new_id_captured_live() {
        let rotated = SHARED.replace("sk-upstream-OLD-1234567890abcd", "sk-upstream-NEW-0987654321wxyz");
        let cfg = parse(&rotated, Path::new("config.yaml"), &env).unwrap();
        assert!(cfg.deployments[0].id.starts_with("63ef5b64"));
        assert!(cfg.deployments[0].id.ends_with("678b"));
    }

    #[test]
    fn unset_env_reference_hashes_as_none_and_is_reported() {
        let cfg = parse(SHARED, Path::new("config.yaml"), &|_| None).unwrap();
        assert_eq!(cfg.deployments[2].missing_env, vec!["THIRD_KEY".to_owned()]);
        assert!(cfg.env_refs.iter().any(|r| r.name == "THIRD_KEY" && !r.set));
        assert_ne!(cfg.deployments[2].id, "97d6eec37df2f1529b81e0c0b41ec63af1a9b0d9aa45d07742d2ca10ec869aa4");
    }

    #[test]
    fn master_key_boot_check() {
        let k = |t: &str| parse(t, Path::new("c.yaml"), &|_| None).unwrap().master_key;
        assert!(matches!(k("general_settings:\n  master_key: sk-1234\n"), MasterKeyVerdict::PubliclyKnown { .. }));
        assert!(matches!(k("general_settings:\n  master_key: ' '\n"), MasterKeyVerdict::Empty { .. }));
        assert!(matches!(k("model_list: []\n"), MasterKeyVerdict::NotSet { .. }));
        assert!(matches!(k("general_settings:\n  master_key: os.environ/MK\n"), MasterKeyVerdict::NotSet { .. }));
        let c = parse(
            "general_settings:\n  master_key: sk-1234\n  dangerously_permit_weak_or_unset_master_key: true\n",
            Path::new("c.yaml"),
            &|_| None,
        )
        .unwrap();
        assert!(c.boot_problems().is_empty());
    }

    #[test]
    fn a_model_name_that_is_not_a_string_stops_the_proxy() {
        let text = "model_list:\n  - model_name: 123\n    litellm_params: {model: x}\n  - model_name: os.environ/N\n    litellm_params: {model: y}\n  - model_name: '123'\n    litellm_params: {model: z}\ngeneral_settings: {master_key: sk-x-123456}\n";
        let c = parse(text, Path::new("c.yaml"), &|_| None).unwrap();
        let p = c.boot_problems();
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("line 2") && p[0].contains("model_list[0].model_name is 123"), "{p:?}");
        assert!(p[1].contains("model_list[1].model_name is None"), "{p:?}");
        assert_eq!(c.deployments[1].missing_env, ["N"]);
        let c = parse(text, Path::new("c.yaml"), &|_| Some("from-env".into())).unwrap();
        assert_eq!(c.boot_problems().len(), 1);
        assert_eq!(c.deployments[1].model_name, "from-env");
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = parse("model_list:\n  - model_name: a\n    litellm_params: 3\n", Path::new("c.yaml"), &|_| None)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "c.yaml:3: field `model_list[0].litellm_params`: must be a mapping");
        let e =
            parse("model_list:\n  - model_name: a\n    litellm_params: {model: [\n", Path::new("c.yaml"), &|_| None)
                .unwrap_err()
                .to_string();
        assert!(e.starts_with("c.yaml:"), "{e}");
    }

    #[test]
    fn sensitive_field_rule_matches_litellm() {
        assert!(is_sensitive("api_key"));
        assert!(is_sensitive("aws_secret_access_key"));
        assert!(is_sensitive("x-api-key"));
        assert!(!is_sensitive("input_cost_per_token"));
        assert!(!is_sensitive("api_base"));
        assert!(!is_sensitive("model"));
    }
}
