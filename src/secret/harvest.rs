//! The secrets a LiteLLM config holds, for the redactor: literal keys
//! written in the file (`api_key: sk-…`, `master_key: …`, a header dict, a
//! JSON credentials string, `environment_variables:`, `credential_list:`)
//! and the values of the `os.environ/NAME` references in those places,
//! whose variables are then also withheld from child commands.
//!
//! Generous on purpose: masking a value that was not secret costs a
//! fingerprint in a message; missing one prints a key.

use crate::gateway::litellm::config_file::{EnvLookup, is_sensitive};
use crate::gateway::litellm::pyyaml::{self, Node, PyValue};

use super::Redactor;

/// `litellm_params` fields whose values are never secret (they are the
/// evidence an operator reads: which model, where, how fast).
const NOT_SECRET: [&str; 28] = [
    "model",
    "api_base",
    "base_url",
    "api_version",
    "rpm",
    "tpm",
    "timeout",
    "stream_timeout",
    "max_retries",
    "stream",
    "region_name",
    "aws_region_name",
    "vertex_location",
    "vertex_project",
    "custom_llm_provider",
    "tags",
    "order",
    "weight",
    "input_cost_per_token",
    "output_cost_per_token",
    "max_tokens",
    "max_input_tokens",
    "max_output_tokens",
    "temperature",
    "top_p",
    "use_in_pass_through",
    "mock_response",
    "merge_reasoning_content_in_choices",
];

/// Settings sections where only sensitive-looking keys hold secrets
/// (`master_key`, `database_url`, `redis_password`, `langfuse_secret`, …).
const SETTINGS: [&str; 3] = ["general_settings", "litellm_settings", "router_settings"];

/// Add every secret of the config `text` to `into`. A file that does not
/// parse adds nothing (the parse error is reported elsewhere).
pub fn litellm_config(text: &str, env: EnvLookup<'_>, into: &Redactor) {
    let Ok(root) = pyyaml::load(text) else { return };
    if let Some(list) = root.get("model_list").and_then(Node::as_list) {
        for entry in list {
            for (k, v) in entry.get("litellm_params").and_then(Node::as_dict).unwrap_or_default() {
                let key = key_str(k);
                if !NOT_SECRET.contains(&key.as_str()) {
                    all_values(v, env, into);
                }
            }
        }
    }
    for section in SETTINGS {
        if let Some(node) = root.get(section) {
            sensitive_values(node, env, into, false);
        }
    }
    if let Some(vars) = root.get("environment_variables") {
        all_values(vars, env, into);
    }
    if let Some(creds) = root.get("credential_list").and_then(Node::as_list) {
        for c in creds {
            if let Some(values) = c.get("credential_values") {
                all_values(values, env, into);
            }
        }
    }
}

fn key_str(k: &PyValue) -> String {
    match k {
        PyValue::Str(s) => s.clone(),
        other => crate::gateway::litellm::pyrepr::py_str(other),
    }
}

/// Every string under `node`; `os.environ/NAME` is the variable's value.
fn all_values(node: &Node, env: EnvLookup<'_>, into: &Redactor) {
    match &node.value {
        PyValue::Str(s) => {
            if let Some(name) = s.strip_prefix("os.environ/") {
                into.add_var(name, env(name).as_deref());
                return;
            }
            into.add(super::Secret::new(s.clone()));
            // A connection URL: its password alone is echoed too.
            if let Ok(url) = reqwest::Url::parse(s)
                && let Some(pw) = url.password()
            {
                into.add(super::Secret::new(pw));
            }
            // A JSON credentials string: its inner values too (the private key alone).
            if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(s) {
                for v in map.values() {
                    if let serde_json::Value::String(inner) = v {
                        into.add(super::Secret::new(inner.clone()));
                    }
                }
            }
        }
        PyValue::List(items) => items.iter().for_each(|n| all_values(n, env, into)),
        PyValue::Dict(items) => items.iter().for_each(|(_, n)| all_values(n, env, into)),
        _ => {}
    }
}

/// Values of sensitive-looking keys anywhere under `node`.
fn sensitive_values(node: &Node, env: EnvLookup<'_>, into: &Redactor, inside: bool) {
    match &node.value {
        PyValue::Dict(items) => {
            for (k, v) in items {
                let key = key_str(k);
                let secret = inside || is_sensitive(&key) || key.ends_with("_url") || key.contains("password");
                sensitive_values(v, env, into, secret);
            }
        }
        PyValue::List(items) => items.iter().for_each(|n| sensitive_values(n, env, into, inside)),
        _ if inside => all_values(node, env, into),
        _ => {}
    }
}

/// Collects the secrets this session knows, to scrub them from any text:
/// every gateway's credential variable (also kept out of child commands),
/// and what the LiteLLM config holds (literal keys, `os.environ/` values;
/// read through [`crate::configcache`], which adds them). The result is the
/// process-wide redactor ([`crate::secret::known`]): what is read later
/// (a rotated key) is added to it as it is read.
pub fn for_config(config: &crate::config::Config) -> Redactor {
    let r = crate::secret::known();
    for g in &config.gateways {
        r.add_var(&g.credential_env, std::env::var(&g.credential_env).ok().as_deref());
        if let Some(path) = &g.config_file {
            let _ = crate::configcache::litellm_config(path, &crate::gateway::litellm::proxy_env::ProxyEnv::own());
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_keys_and_referenced_values_are_learned() {
        let text = r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: https://api.openai.com/v1
      api_key: sk-literal-in-the-file-0001
      extra_headers: {X-Org-Token: org-header-secret-0002}
      vertex_credentials: '{"type": "service_account", "private_key": "-----BEGIN KEY-----abc0003"}'
  - model_name: env-backed
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: os.environ/UPSTREAM_KEY_A
general_settings:
  master_key: master-not-sk-shaped-0004
  database_url: postgresql://u:dbpass-0005@db:5432/litellm
  store_model_in_db: false
litellm_settings:
  cache_params: {type: redis, password: redis-pass-0006, host: redis.internal}
environment_variables:
  LANGFUSE_SECRET_KEY: lf-secret-value-0007
"#;
        let env = |n: &str| (n == "UPSTREAM_KEY_A").then(|| "upstream-from-env-0008".to_owned());
        let r = Redactor::default();
        litellm_config(text, &env, &r);
        let secrets = [
            "sk-literal-in-the-file-0001",
            "org-header-secret-0002",
            "-----BEGIN KEY-----abc0003",
            "master-not-sk-shaped-0004",
            "dbpass-0005",
            "redis-pass-0006",
            "lf-secret-value-0007",
            "upstream-from-env-0008",
        ];
        for s in secrets {
            let out = r.redact(&format!("output: {s} end"));
            assert!(!out.contains(s), "{s} not learned: {out}");
        }
        assert_eq!(r.vars(), ["UPSTREAM_KEY_A"]);
        // What operators read stays readable.
        for plain in ["openai/gpt-4o", "https://api.openai.com/v1", "redis.internal", "gpt-4o-mini"] {
            assert_eq!(r.redact(plain), plain);
        }
    }
}
