//! LiteLLM's deployment id, reproduced.
//!
//! `Router.generate_model_id(model_group, litellm_params)` (litellm 1.106.12,
//! router.py) is SHA-256 over `model_group` followed by each param key and
//! value, concatenated in file order: strings as they are, dicts as
//! `json.dumps`, anything else as `str()`. Before hashing, the proxy replaces
//! every `os.environ/NAME` string value in a mapping (at any depth, but not
//! strings inside lists) with the environment value; an unset variable becomes
//! `None`, and `"true"`/`"false"` become booleans (`str_to_bool`). That first
//! pass (`get_config`) runs *before* the config's `environment_variables:` are
//! applied; `load_config` and `Router.set_model_list` then resolve top-level
//! params twice more, with them applied (a value that is itself
//! `os.environ/…` is followed). The `*_ref` federation pointers stay as written.

use sha2::{Digest, Sha256};

use super::proxy_env::Lookup;
use super::pyrepr::id_part;
use super::pyyaml::{Node, PyValue};

/// Resolves a name in the proxy's environment.
pub type Resolver<'a> = &'a dyn Fn(&str) -> Lookup;

/// The environment of the first pass (the proxy's process environment) and
/// of the later ones (with `environment_variables:` applied).
#[derive(Clone, Copy)]
pub struct Envs<'a> {
    pub early: Resolver<'a>,
    pub late: Resolver<'a>,
}

/// Fields LiteLLM leaves unresolved (`_WIF_POINTER_FIELDS` in 1.106.12).
const POINTER_FIELDS: [&str; 2] = ["anthropic_issuer_signing_key_ref", "anthropic_keycloak_client_secret_ref"];

/// An `os.environ/` reference met while resolving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedRef {
    pub field: String,
    pub name: String,
    pub line: usize,
    /// What the proxy holds; `None` when unset (or unknown).
    pub value: Option<String>,
    /// Why the proxy's value cannot be known from here (then the id cannot be either).
    pub unknown: Option<String>,
}

/// `litellm_params` after environment resolution, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedParams {
    pub params: Vec<(PyValue, PyValue)>,
    pub env_refs: Vec<ResolvedRef>,
}

/// `get_secret("os.environ/NAME")` without a secret manager: the variable's
/// value, `None` when unset, a bool for `true`/`false` (any case, trimmed).
fn resolve_str(key: &str, s: &str, line: usize, env: Resolver<'_>, refs: &mut Vec<ResolvedRef>) -> PyValue {
    let name = s.replace("os.environ/", "");
    let (value, unknown) = match env(&name) {
        Lookup::Set(v) => (Some(v), None),
        Lookup::Unset => (None, None),
        Lookup::Unknown(why) => (None, Some(why)),
    };
    refs.push(ResolvedRef { field: key.to_owned(), name, line, value: value.clone(), unknown });
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
/// resolves every depth once, in the early environment; then `load_config`
/// and `Router.set_model_list` each resolve top-level `litellm_params`
/// strings again in the late one, so a variable whose value is itself
/// `os.environ/OTHER` is followed up to two more times.
pub fn resolve_top(key: &str, node: &Node, envs: Envs<'_>, refs: &mut Vec<ResolvedRef>, passes: usize) -> PyValue {
    let mut v = resolve_value(key, node, envs.early, refs, 0);
    for _ in 1..passes {
        match &v {
            PyValue::Str(s) if is_ref(key, &v) => v = resolve_str(key, &s.clone(), node.line, envs.late, refs),
            _ => break,
        }
    }
    v
}

/// One full first-pass resolution of any node (used for `environment_variables:` values).
pub fn resolve_once(key: &str, node: &Node, env: Resolver<'_>, refs: &mut Vec<ResolvedRef>) -> PyValue {
    resolve_value(key, node, env, refs, 0)
}

fn resolve_value(key: &str, node: &Node, env: Resolver<'_>, refs: &mut Vec<ResolvedRef>, depth: usize) -> PyValue {
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
    env: Resolver<'_>,
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
pub fn resolve_params(params: &[(PyValue, Node)], envs: Envs<'_>) -> ResolvedParams {
    let mut env_refs = Vec::new();
    let params = params
        .iter()
        .map(|(k, v)| {
            let key = match k {
                PyValue::Str(s) => s.clone(),
                other => super::pyrepr::py_str(other),
            };
            (k.clone(), resolve_top(&key, v, envs, &mut env_refs, 3))
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

    fn id_of(yaml: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
        let root = load(yaml).unwrap();
        let params = root.get("litellm_params").unwrap().as_dict().unwrap().to_vec();
        let name = root.get("model_name").unwrap().as_str().unwrap().to_owned();
        let r = |n: &str| env(n).map_or(Lookup::Unset, Lookup::Set);
        generate_model_id(&name, &resolve_params(&params, Envs { early: &r, late: &r }).params)
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
        let set = |_: &str| Lookup::Set("v".into());
        let r = resolve_params(&params, Envs { early: &set, late: &set });
        assert_eq!(r.env_refs.len(), 1);
        assert_eq!(r.env_refs[0].field, "extra_headers.X-Key");
        assert!(matches!(&r.params[2].1, PyValue::List(l) if l[0].value == PyValue::Str("os.environ/H".into())));
    }

    #[test]
    fn later_passes_see_environment_variables_the_first_does_not() {
        let root = load("api_key: os.environ/A\n").unwrap();
        let node = root.get("api_key").unwrap();
        let early = |n: &str| if n == "A" { Lookup::Set("os.environ/B".into()) } else { Lookup::Unset };
        let late = |n: &str| if n == "B" { Lookup::Set("late-value".into()) } else { Lookup::Unset };
        let mut refs = Vec::new();
        let v = resolve_top("api_key", node, Envs { early: &early, late: &late }, &mut refs, 3);
        assert_eq!(v, PyValue::Str("late-value".into()));
        assert_eq!(refs.len(), 2);
        let unknown = |_: &str| Lookup::Unknown("not here".into());
        let mut refs = Vec::new();
        let v = resolve_top("api_key", node, Envs { early: &unknown, late: &unknown }, &mut refs, 3);
        assert_eq!(v, PyValue::None);
        assert_eq!(refs[0].unknown.as_deref(), Some("not here"));
    }
}
