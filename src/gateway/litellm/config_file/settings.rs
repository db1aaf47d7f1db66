//! The proxy-wide settings the checks need, read as the proxy reads them:
//! `environment_variables:` (applied only after the first resolution pass),
//! the master-key boot check, fallbacks and retries, the response cache and
//! the Redis behind it.

use sha2::{Digest, Sha256};

use super::{EnvRef, MasterKeyVerdict};
use crate::gateway::litellm::model_id::{self, Resolver};
use crate::gateway::litellm::proxy_env::Lookup;
use crate::gateway::litellm::pyrepr::py_str;
use crate::gateway::litellm::pyyaml::{Node, PyValue};
use crate::secret::{Fingerprint, Secret};

/// A fallback chain as written.
pub type Chains = Vec<(String, Vec<String>)>;

/// Keys `_load_environment_variables` refuses to set (1.106.12).
const BLOCKED: [&str; 14] = [
    "PATH",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "DYLD_LIBRARY_PATH",
    "DYLD_INSERT_LIBRARIES",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "HOME",
    "USER",
    "SHELL",
    "LOGNAME",
    "NO_PROXY",
    "no_proxy",
];

/// What `environment_variables:` adds to the proxy's environment, in order:
/// each value after the first resolution pass, as `os.environ[key] = str(value)`.
pub fn env_overlay(section: Option<&Node>, early: Resolver<'_>, refs: &mut Vec<EnvRef>) -> Vec<(String, Lookup)> {
    let mut overlay: Vec<(String, Lookup)> = Vec::new();
    let Some(items) = section.filter(|n| n.is_truthy()).and_then(Node::as_dict) else { return overlay };
    for (k, v) in items {
        let PyValue::Str(key) = k else { continue };
        if BLOCKED.contains(&key.as_str()) || key.eq_ignore_ascii_case("LITELLM_ENABLE_MCP_STDIO") {
            continue;
        }
        let mut found = Vec::new();
        let value = model_id::resolve_once(key, v, early, &mut found);
        let unknown = found.iter().find_map(|r| r.unknown.clone());
        for r in &found {
            refs.push(EnvRef::from_resolved(r, format!("environment_variables.{}", r.field)));
        }
        let entry = match (unknown, &value) {
            (Some(why), _) => Lookup::Unknown(why),
            (None, PyValue::Str(s)) if s.starts_with("os.environ/") => {
                let name = s.trim_start_matches("os.environ/");
                match late_lookup(&overlay, early, name) {
                    Lookup::Unset => continue,
                    other => other,
                }
            }
            (None, other) => Lookup::Set(py_str(other)),
        };
        overlay.retain(|(n, _)| n != key);
        overlay.push((key.clone(), entry));
    }
    overlay
}

/// A name in the environment with `environment_variables:` applied.
pub fn late_lookup(overlay: &[(String, Lookup)], early: Resolver<'_>, name: &str) -> Lookup {
    overlay.iter().rev().find(|(n, _)| n == name).map_or_else(|| early(name), |(_, l)| l.clone())
}

/// The master key, as the proxy's boot check sees it.
pub fn master_key(gs: Option<&Node>, early: Resolver<'_>, late: Resolver<'_>) -> MasterKeyVerdict {
    let (value, source) = match gs.and_then(|g| g.get("master_key")) {
        Some(n) => match &n.value {
            PyValue::Str(s) if s.starts_with("os.environ/") => {
                let name = s.trim_start_matches("os.environ/");
                (early(name), format!("general_settings.master_key: os.environ/{name}, line {}", n.line))
            }
            PyValue::None => (Lookup::Unset, format!("general_settings.master_key is empty, line {}", n.line)),
            other => (Lookup::Set(py_str(other)), format!("general_settings.master_key in the file, line {}", n.line)),
        },
        None => (late("LITELLM_MASTER_KEY"), "LITELLM_MASTER_KEY in the proxy's environment".to_owned()),
    };
    match value {
        Lookup::Unknown(why) => MasterKeyVerdict::Unknown { source, why },
        Lookup::Unset => MasterKeyVerdict::NotSet { source },
        Lookup::Set(k) if k.trim().is_empty() => MasterKeyVerdict::Empty { source },
        Lookup::Set(k)
            if hex::encode(Sha256::digest(k.trim().as_bytes()))
                == "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b" =>
        {
            MasterKeyVerdict::PubliclyKnown { source }
        }
        Lookup::Set(k) => MasterKeyVerdict::Safe { fingerprint: Fingerprint::of(&k) },
    }
}

/// `dangerously_permit_weak_or_unset_master_key`, from the file or the
/// environment: `Err(why)` when only the unknown environment could say.
pub fn weak_override(gs: Option<&Node>, late: Resolver<'_>) -> Result<bool, String> {
    if gs
        .and_then(|g| g.get("dangerously_permit_weak_or_unset_master_key"))
        .is_some_and(|n| n.value == PyValue::Bool(true))
    {
        return Ok(true);
    }
    match late("LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY") {
        Lookup::Set(v) => Ok(v.trim().eq_ignore_ascii_case("true")),
        Lookup::Unset => Ok(false),
        Lookup::Unknown(why) => Err(why),
    }
}

pub fn chains(node: Option<&Node>) -> Chains {
    // fallbacks: [{"gpt-4o-mini": ["gpt-4o"]}, …]
    let mut out = Vec::new();
    let Some(list) = node.and_then(Node::as_list) else {
        return out;
    };
    for item in list {
        if let Some(d) = item.as_dict() {
            for (k, v) in d {
                let to: Vec<String> = match &v.value {
                    PyValue::List(l) => l.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect(),
                    PyValue::Str(s) => vec![s.clone()],
                    _ => Vec::new(),
                };
                out.push((py_str(k), to));
            }
        }
    }
    out
}

pub fn number(node: Option<&Node>) -> Option<f64> {
    match &node?.value {
        PyValue::Int(i) => i.parse().ok(),
        PyValue::Float(f) => Some(*f),
        PyValue::Str(s) => s.parse().ok(),
        _ => None,
    }
}

/// Where the response cache's Redis is, as the proxy connects to it (for
/// counting its keys around a purge). The password is a [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTarget {
    pub host: String,
    pub port: u16,
    pub password: Option<Secret>,
}

/// `litellm_settings.cache_params` of a Redis cache (or `REDIS_HOST`/`REDIS_PORT`/
/// `REDIS_PASSWORD` in the proxy's environment): `Err(why)` when gatewatch
/// cannot reach it the same way (a URL, TLS, a cluster, an unknown value).
pub fn redis_target(ls: Option<&Node>, late: Resolver<'_>) -> Option<Result<RedisTarget, String>> {
    let cache_on = ls.and_then(|l| l.get("cache")).is_some_and(|n| n.value == PyValue::Bool(true));
    if !cache_on {
        return None;
    }
    let params = ls.and_then(|l| l.get("cache_params"));
    let kind = params.and_then(|p| p.get("type")).and_then(Node::as_str).unwrap_or("redis");
    if kind != "redis" {
        return None;
    }
    // A value named in cache_params must be known; an environment fallback
    // gatewatch cannot see is read as absent (a Redis that wants a password
    // then says so when asked).
    let value = |key: &str, env: &str| -> Result<Option<String>, String> {
        let (raw, named) = match params.and_then(|p| p.get(key)).map(|n| &n.value) {
            Some(PyValue::Str(s)) if s.starts_with("os.environ/") => (late(s.trim_start_matches("os.environ/")), true),
            Some(PyValue::None) | None => (late(env), false),
            Some(other) => (Lookup::Set(py_str(other)), true),
        };
        match raw {
            Lookup::Set(v) => Ok(Some(v)),
            Lookup::Unset => Ok(None),
            Lookup::Unknown(_) if !named && key != "host" => Ok(None),
            Lookup::Unknown(why) => Err(format!("{key}: {why}")),
        }
    };
    let probe = || -> Result<RedisTarget, String> {
        for unsupported in ["url", "redis_url", "ssl", "startup_nodes", "sentinel_nodes"] {
            if params.and_then(|p| p.get(unsupported)).is_some_and(Node::is_truthy) {
                return Err(format!("cache_params.{unsupported} is not read by gatewatch"));
            }
        }
        if matches!(late("REDIS_URL"), Lookup::Set(_)) {
            return Err("REDIS_URL is not read by gatewatch".into());
        }
        let host = value("host", "REDIS_HOST")?.ok_or("no Redis host in cache_params or REDIS_HOST")?;
        let port = match value("port", "REDIS_PORT")? {
            Some(p) => p.trim().parse::<u16>().map_err(|_| format!("Redis port {p:?} is not a number"))?,
            None => 6379,
        };
        let password = value("password", "REDIS_PASSWORD")?.filter(|p| !p.is_empty()).map(Secret::new);
        Ok(RedisTarget { host, port, password })
    };
    Some(probe())
}
