//! What gatewatch reads on its own host: the gateway's config file and the
//! proxy's environment (`env`), the intended channel keys (as fingerprints),
//! the gateway process's start time (`process`), and the remembered
//! fingerprints of the last matching config.

pub mod env;
pub mod process;

use std::path::{Path, PathBuf};

use crate::config::{GatewayKind, GatewaySpec};
use crate::fleet::{LiteLlmLocal, LocalKind, LocalView, NewApiLocal};
use crate::gateway::IntendedKey;
use crate::gateway::litellm::config_file::EnvLookup;
use crate::gateway::litellm::drift::MatchMemory;
use crate::gateway::litellm::proxy_env::ProxyEnv;
use crate::secret::Fingerprint;

pub use process::process_start;

/// Read everything local for one gateway (blocking file I/O; run off the UI
/// thread). `proxy_env` is the LiteLLM proxy's environment ([`env::proxy_env`]).
pub fn read(spec: &GatewaySpec, proxy_env: &ProxyEnv) -> LocalView {
    let mut view = LocalView {
        // What gatewatch was given, as a fingerprint: the checks compare it
        // with the gateway's (the environment is read here, not in a check).
        credential: std::env::var(&spec.credential_env).ok().map(|k| Fingerprint::of(k.trim())),
        ..LocalView::default()
    };
    view.kind = match spec.kind {
        GatewayKind::LiteLlm => {
            let mut l = LiteLlmLocal::default();
            if let Some(path) = &spec.config_file {
                l.proxy_config = Some(crate::configcache::litellm_config(path, proxy_env));
                match process::find(spec) {
                    Ok(p) => l.process = Some(p),
                    Err(why) => l.process_note = Some(why),
                }
                l.config_git_root = git_root(path);
            }
            LocalKind::LiteLlm(Box::new(l))
        }
        GatewayKind::NewApi => {
            let mut n = NewApiLocal::default();
            if let Some(path) = &spec.channel_keys_file {
                match intended_keys(path, &crate::gateway::litellm::config_file::process_env) {
                    Ok(keys) => n.intended_keys = keys,
                    Err(e) => n.intended_keys_error = Some(e),
                }
            }
            LocalKind::NewApi(n)
        }
    };
    if let Some(path) = &spec.nginx_config {
        view.nginx = Some(
            crate::readlimit::read_text(path, crate::readlimit::NGINX, "an nginx config")
                .map(|t| t.chars().take(512 * 1024).collect())
                .map_err(|e| format!("{}: {e}", path.display())),
        );
    }
    view
}

/// The git work tree containing `path`, found by looking for `.git` upwards.
pub fn git_root(path: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(path).ok()?;
    abs.ancestors().skip(1).find(|d| d.join(".git").exists()).map(Path::to_path_buf)
}

/// `channel_keys_file`: a YAML mapping of channel id to where its intended key
/// lives: `env:NAME`, `file:/path`, or a bare variable name. Only fingerprints
/// leave this function.
pub fn intended_keys(path: &Path, env: EnvLookup<'_>) -> Result<Vec<(String, IntendedKey)>, String> {
    let text = crate::readlimit::read_text(path, crate::readlimit::KEYS_MAP, "a channel keys file")
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let map: serde_yaml::Mapping = serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (k, v) in map {
        let id = match k {
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::String(s) => s,
            _ => continue,
        };
        let Some(src) = v.as_str() else {
            return Err(format!("{}: channel {id}: expected env:NAME or file:PATH", path.display()));
        };
        let (label, value) = if let Some(file) = src.strip_prefix("file:") {
            let p = PathBuf::from(file.trim());
            let value = crate::readlimit::read_text(&p, crate::readlimit::KEY_FILE, "a key file").ok();
            let value = value.map(|s| s.trim().to_owned());
            if let Some(v) = &value {
                crate::secret::known().add(crate::secret::Secret::new(v.clone()));
            }
            (format!("file {}", p.display()), value)
        } else {
            let name = src.strip_prefix("env:").unwrap_or(src).trim();
            let value = env(name);
            crate::secret::known().add_var(name, value.as_deref());
            (format!("${name}"), value)
        };
        let key = IntendedKey {
            fingerprint: value.as_deref().filter(|v| !v.is_empty()).map(Fingerprint::of),
            note: value.is_none().then(|| format!("{label} is not set")),
            label,
        };
        out.push((id, key));
    }
    Ok(out)
}

/// Where the last-match fingerprints of a gateway are kept.
pub fn memory_path(state_dir: &Path, gateway: &str) -> PathBuf {
    state_dir.join("fingerprints").join(format!("{}.json", crate::statefile::file_safe(gateway)))
}

/// The remembered fingerprints. A file an older gatewatch wrote with values in
/// clear outside the allowlist is scrubbed and rewritten at once.
pub fn load_memory(path: &Path) -> MatchMemory {
    let mut m: MatchMemory = std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    if m.scrub()
        && let Err(e) = save_memory(path, &m)
    {
        tracing::warn!(path = %path.display(), error = %e, "could not rewrite the scrubbed fingerprint memory");
    }
    m
}

/// Save atomically (write then rename; 0600, never through a symlink). The
/// file holds fingerprints only, and passes the redactor like every file
/// gatewatch writes (its replacements keep the JSON valid).
pub fn save_memory(path: &Path, memory: &MatchMemory) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(memory).map_err(std::io::Error::other)?;
    crate::statefile::replace(path, crate::secret::scrub(&json).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::litellm::config_file;

    #[test]
    fn intended_keys_are_fingerprinted() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("k");
        std::fs::write(&secret, "sk-intended-from-file\n").unwrap();
        let f = dir.path().join("keys.yaml");
        std::fs::write(&f, format!("7: env:CH7\n\"8\": file:{}\n9: MISSING\n", secret.display())).unwrap();
        let keys = intended_keys(&f, &|n| (n == "CH7").then(|| "sk-ch7".to_owned())).unwrap();
        assert_eq!(keys[0].0, "7");
        assert_eq!(keys[0].1.fingerprint, Some(Fingerprint::of("sk-ch7")));
        assert_eq!(keys[1].1.fingerprint, Some(Fingerprint::of("sk-intended-from-file")));
        assert!(keys[2].1.fingerprint.is_none());
        assert!(keys[2].1.note.as_deref().unwrap().contains("not set"));
        let dbg = format!("{keys:?}");
        assert!(!dbg.contains("sk-ch7") && !dbg.contains("sk-intended"));
    }

    #[test]
    fn memory_round_trip_has_no_raw_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = memory_path(dir.path(), "prod/lite");
        let cfg = config_file::parse(
            "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_key: sk-raw-secret-123}\n",
            Path::new("c.yaml"),
            &|_| None,
        )
        .unwrap();
        let mut m = MatchMemory::default();
        m.remember(&cfg, 1);
        save_memory(&p, &m).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.contains("sk-raw-secret-123"));
        assert_eq!(load_memory(&p), m);
    }

    #[test]
    fn a_memory_file_with_clear_values_is_scrubbed_on_load() {
        let dir = tempfile::tempdir().unwrap();
        let p = memory_path(dir.path(), "old");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            r#"{"deployments":{"abc":{"model_name":"a","seen_at":1,"fields":[{"name":"extra_headers","fingerprint":"sha256:00000000","sensitive":false,"shown":"{\"X-Org-Token\": \"org-leaked-123\"}"}]}}}"#,
        )
        .unwrap();
        let m = load_memory(&p);
        assert!(m.deployments["abc"].fields[0].shown.is_none());
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.contains("org-leaked"), "{text}");
    }
}
