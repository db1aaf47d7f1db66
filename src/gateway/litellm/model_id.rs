//! LiteLLM's deployment id, reproduced.
//!
//! `Router.generate_model_id(model_group, litellm_params)` (litellm 1.106.12,
//! router.py) is SHA-256 over `model_group` followed by each param key and
//! value, concatenated in file order: strings as they are, dicts as
//! `json.dumps`, anything else as `str()`. Before hashing, the proxy replaces
//! every `os.environ/NAME` string value in a mapping (at any depth, but not
//! strings inside lists) with the environment value; an unset variable becomes
//! `None`, and `"true"`/`"false"` become booleans (`str_to_bool`). Top-level
//! params are resolved twice more (a value that is itself `os.environ/…` is
//! followed). The `*_ref` federation pointers stay as written.

use sha2::{Digest, Sha256};

use super::config_file::EnvLookup;
use super::pyrepr::id_part;
use super::pyyaml::{Node, PyValue};

/// Fields LiteLLM leaves unresolved (`_WIF_POINTER_FIELDS` in 1.106.12).
const POINTER_FIELDS: [&str; 2] = ["anthropic_issuer_signing_key_ref", "anthropic_keycloak_client_secret_ref"];

/// An `os.environ/` reference met while resolving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedRef {
    pub field: String,
    pub name: String,
    pub line: usize,
    pub value: Option<String>,
}

/// `litellm_params` after environment resolution, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedParams {
    pub params: Vec<(PyValue, PyValue)>,
    pub env_refs: Vec<ResolvedRef>,
}

/// `get_secret("os.environ/NAME")` without a secret manager: the variable's
/// value, `None` when unset, a bool for `true`/`false` (any case, trimmed).
fn resolve_str(key: &str, s: &str, line: usize, env: EnvLookup<'_>, refs: &mut Vec<ResolvedRef>) -> PyValue {
    let name = s.replace("os.environ/", "");
    let value = env(&name);
    refs.push(ResolvedRef { field: key.to_owned(), name, line, value: value.clone() });
    match value {
        None => PyValue::None,
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "true" => PyValue::Bool(true),
            "false" => PyValue::Bool(false),
            _ => PyValue::Str(v),
        },
    }
}

fn is_ref(key: &str, v: &PyValue) -> bool {
    matches!(v, PyValue::Str(s) if s.starts_with("os.environ/")) && !POINTER_FIELDS.contains(&key)
}

/// Resolve one top-level value (a `litellm_params` field, `model_name`, a
/// `model_info` field) the way the proxy does: `_check_for_os_environ_vars`
/// resolves every depth once; then `load_config` and `Router.set_model_list`
/// each resolve top-level `litellm_params` strings again, so a variable whose
/// value is itself `os.environ/OTHER` is followed up to two more times.
pub fn resolve_top(key: &str, node: &Node, env: EnvLookup<'_>, refs: &mut Vec<ResolvedRef>, passes: usize) -> PyValue {
    let mut v = resolve_value(key, node, env, refs, 0);
    for _ in 1..passes {
        match &v {
            PyValue::Str(s) if is_ref(key, &v) => v = resolve_str(key, &s.clone(), node.line, env, refs),
            _ => break,
        }
    }
    v
}

fn resolve_value(key: &str, node: &Node, env: EnvLookup<'_>, refs: &mut Vec<ResolvedRef>, depth: usize) -> PyValue {
    match &node.value {
        PyValue::Str(s) if is_ref(key, &node.value) => resolve_str(key, s, node.line, env, refs),
        PyValue::Dict(items) if depth < 100 => PyValue::Dict(resolve_dict(items, env, refs, depth + 1, key)),
        PyValue::List(items) if depth < 100 => PyValue::List(
            items
                .iter()
                .map(|n| match &n.value {
                    PyValue::Dict(d) => {
                        Node { value: PyValue::Dict(resolve_dict(d, env, refs, depth + 1, key)), line: n.line }
                    }
                    _ => n.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn resolve_dict(
    items: &[(PyValue, Node)],
    env: EnvLookup<'_>,
    refs: &mut Vec<ResolvedRef>,
    depth: usize,
    parent: &str,
) -> Vec<(PyValue, Node)> {
    items
        .iter()
        .map(|(k, v)| {
            let key = match k {
                PyValue::Str(s) => s.clone(),
                other => super::pyrepr::py_str(other),
            };
            let mut nested = Vec::new();
            let value = resolve_value(&key, v, env, &mut nested, depth);
            refs.extend(nested.into_iter().map(|mut r| {
                r.field = format!("{parent}.{}", r.field);
                r
            }));
            (k.clone(), Node { value, line: v.line })
        })
        .collect()
}

/// Resolve `os.environ/` references in a deployment's `litellm_params`.
pub fn resolve_params(params: &[(PyValue, Node)], env: EnvLookup<'_>) -> ResolvedParams {
    let mut env_refs = Vec::new();
    let params = params
        .iter()
        .map(|(k, v)| {
            let key = match k {
                PyValue::Str(s) => s.clone(),
                other => super::pyrepr::py_str(other),
            };
            (k.clone(), resolve_top(&key, v, env, &mut env_refs, 3))
        })
        .collect();
    ResolvedParams { params, env_refs }
}

/// The id LiteLLM gives a deployment with these (resolved) params.
pub fn generate_model_id(model_group: &str, params: &[(PyValue, PyValue)]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(model_group.as_bytes());
    for (k, v) in params {
        hasher.update(id_part(k).as_bytes());
        hasher.update(id_part(v).as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::litellm::pyyaml::load;

    fn id_of(yaml: &str, env: EnvLookup<'_>) -> String {
        let root = load(yaml).unwrap();
        let params = root.get("litellm_params").unwrap().as_dict().unwrap().to_vec();
        let name = root.get("model_name").unwrap().as_str().unwrap().to_owned();
        generate_model_id(&name, &resolve_params(&params, env).params)
    }

    #[test]
    fn env_resolution_changes_the_id() {
        let y = "model_name: gpt-35\nlitellm_params:\n  model: openai/gpt-3.5-turbo\n  api_base: http://127.0.0.1:18080/v1\n  api_key: os.environ/THIRD_KEY\n";
        let resolved = id_of(y, &|n| (n == "THIRD_KEY").then(|| "sk-upstream-THIRD-env-9999aaaabbbb".to_owned()));
        assert_eq!(resolved, "97d6eec37df2f1529b81e0c0b41ec63af1a9b0d9aa45d07742d2ca10ec869aa4");
    }

    #[test]
    fn env_true_becomes_python_bool() {
        let y = "model_name: m\nlitellm_params:\n  model: x\n  flag: os.environ/F\n";
        let with_true = id_of(y, &|_| Some("TRUE".into()));
        let literal = id_of("model_name: m\nlitellm_params:\n  model: x\n  flag: true\n", &|_| None);
        assert_eq!(with_true, literal);
    }

    #[test]
    fn nested_dict_refs_are_resolved_but_list_strings_are_not() {
        let y = "model_name: m\nlitellm_params:\n  model: x\n  extra_headers: {X-Key: os.environ/H}\n  tags: [os.environ/H]\n";
        let root = load(y).unwrap();
        let params = root.get("litellm_params").unwrap().as_dict().unwrap().to_vec();
        let r = resolve_params(&params, &|_| Some("v".into()));
        assert_eq!(r.env_refs.len(), 1);
        assert_eq!(r.env_refs[0].field, "extra_headers.X-Key");
        assert!(matches!(&r.params[2].1, PyValue::List(l) if l[0].value == PyValue::Str("os.environ/H".into())));
    }
}
