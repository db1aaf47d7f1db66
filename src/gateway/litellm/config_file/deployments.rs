//! `model_list` entries (from the root file and its includes) as the proxy
//! loads them: environment resolution, the deployment id, and the facts the
//! checks need per deployment.

use std::path::Path;

use super::include::Merged;
use super::{ConfigDeployment, EnvRef, IdKind, ProxyConfigError, is_sensitive};
use crate::gateway::litellm::model_id::{self, Envs, ResolvedParams};
use crate::gateway::litellm::params::ParamField;
use crate::gateway::litellm::pyrepr::{py_repr, py_str};
use crate::gateway::litellm::pyyaml::{Node, PyValue};

fn number(node: Option<&Node>) -> Option<f64> {
    super::settings::number(node)
}

/// Everything `model_list` yields.
pub struct Parsed {
    pub deployments: Vec<ConfigDeployment>,
    pub env_refs: Vec<EnvRef>,
    pub unloadable: Vec<String>,
}

/// Read every `model_list` entry. `late_only` names are defined only under
/// `environment_variables:` (the proxy applies those after this pass).
pub fn parse(merged: &Merged, envs: Envs<'_>, late_only: &[String]) -> Result<Parsed, ProxyConfigError> {
    let mut out = Parsed { deployments: Vec::new(), env_refs: Vec::new(), unloadable: Vec::new() };
    let Some(list_value) = merged.get("model_list") else { return Ok(out) };
    let err = |file: &Path, line: usize, field: &str, message: &str| ProxyConfigError::Field {
        path: file.display().to_string(),
        line,
        field: field.to_owned(),
        message: message.to_owned(),
    };
    let list = match &list_value.node.value {
        PyValue::List(l) => l.as_slice(),
        PyValue::None => &[],
        _ => {
            let f = merged.file(list_value.file);
            return Err(err(f, list_value.node.line, "model_list", "must be a list"));
        }
    };
    for (i, entry) in list.iter().enumerate() {
        let file = merged.file(list_value.items.get(i).copied().unwrap_or(list_value.file)).to_owned();
        let at = |f: &str| format!("model_list[{i}].{f}");
        if entry.as_dict().is_none() {
            return Err(err(&file, entry.line, &format!("model_list[{i}]"), "must be a mapping"));
        }
        let name_node = entry.get("model_name").ok_or_else(|| err(&file, entry.line, &at("model_name"), "missing"))?;
        // `_check_for_os_environ_vars` resolves `model_name` too (once, early).
        let mut name_refs = Vec::new();
        let name_value = model_id::resolve_top("model_name", name_node, envs, &mut name_refs, 1);
        let model_name = match &name_value {
            PyValue::Str(s) => s.clone(),
            other => py_str(other),
        };
        let params_node =
            entry.get("litellm_params").ok_or_else(|| err(&file, entry.line, &at("litellm_params"), "missing"))?;
        let params = params_node
            .as_dict()
            .ok_or_else(|| err(&file, params_node.line, &at("litellm_params"), "must be a mapping"))?;
        if params.iter().all(|(k, _)| !matches!(k, PyValue::Str(s) if s == "model")) {
            return Err(err(&file, params_node.line, &at("litellm_params.model"), "missing"));
        }
        let resolved: ResolvedParams = model_id::resolve_params(params, envs);
        // `model_info.id` present (even null) replaces the computed id.
        let mut id_refs = Vec::new();
        let id_kind = match entry.get("model_info").and_then(|mi| mi.get("id")) {
            None => IdKind::Computed,
            Some(n) => match model_id::resolve_top("id", n, envs, &mut id_refs, 1) {
                // Measured on 1.106.12: `id: null` gets a random uuid4 at every
                // start (an id from an unset or unknown variable too).
                PyValue::None => IdKind::Random,
                v => IdKind::Pinned(py_str(&v)),
            },
        };
        let all_refs = name_refs
            .iter()
            .map(|r| (at("model_name"), r))
            .chain(resolved.env_refs.iter().map(|r| (format!("{}.{}", at("litellm_params"), r.field), r)))
            .chain(id_refs.iter().map(|r| (at("model_info.id"), r)));
        let mut d = ConfigDeployment {
            index: i,
            file: file.clone(),
            line: entry.line,
            model_name,
            id: String::new(),
            id_kind,
            fields: Vec::new(),
            unknown_env: Vec::new(),
            unset_env: Vec::new(),
            upstream_model: None,
            api_base: None,
            plain_key: false,
            input_cost_per_token: None,
            output_cost_per_token: None,
            rpm: None,
            tpm: None,
        };
        for (field, r) in all_refs {
            let mut e = EnvRef::from_resolved(r, field);
            e.late_only = r.value.is_none() && late_only.contains(&r.name);
            if let Some(why) = &r.unknown {
                if !d.unknown_env.iter().any(|(n, _)| *n == r.name) {
                    d.unknown_env.push((r.name.clone(), why.clone()));
                }
            } else if r.value.is_none() && !d.unset_env.contains(&r.name) {
                d.unset_env.push(r.name.clone());
            }
            out.env_refs.push(e);
        }
        // Measured on 1.106.12: `generate_model_id` joins model_name as a
        // str, so `model_name: 123`, `yes`, or an unset os.environ/ name
        // crashes startup (TypeError, exit 3).
        let name_known = name_refs.iter().all(|r| r.unknown.is_none());
        if d.id_kind == IdKind::Computed && name_known && !matches!(name_value, PyValue::Str(_)) {
            out.unloadable.push(format!(
                "{} line {}: {} is {} (not a string): quote it",
                file.display(),
                name_node.line,
                at("model_name"),
                py_repr(&name_value)
            ));
        }
        d.id = match &d.id_kind {
            IdKind::Computed => model_id::generate_model_id(&d.model_name, &resolved.params),
            IdKind::Pinned(id) => id.clone(),
            IdKind::Random => String::new(),
        };
        d.fields = resolved
            .params
            .iter()
            .map(|(k, v)| {
                let name = py_str(k);
                let env = resolved.env_refs.iter().find(|r| r.field == name).map(|r| r.name.clone());
                ParamField::new(name, v, env)
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
        d.upstream_model = get_str("model");
        d.api_base = get_str("api_base");
        d.plain_key = params.iter().any(|(k, v)| {
            matches!(k, PyValue::Str(s) if is_sensitive(s))
                && matches!(&v.value, PyValue::Str(s) if !s.starts_with("os.environ/") && !s.is_empty())
        });
        let model_info = entry.get("model_info");
        let info_num = |key: &str| number(model_info.and_then(|m| m.get(key)));
        d.input_cost_per_token = get_num("input_cost_per_token").or_else(|| info_num("input_cost_per_token"));
        d.output_cost_per_token = get_num("output_cost_per_token").or_else(|| info_num("output_cost_per_token"));
        d.rpm = get_num("rpm");
        d.tpm = get_num("tpm");
        out.deployments.push(d);
    }
    Ok(out)
}
